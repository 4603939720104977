# METADATA
# title: Basic authentication for Atera's SMTP login is being retired
# description: |-
#   Atera's custom SMTP logs in to Office 365 with a user name and password
#   (basic authentication for SMTP AUTH client submission). Microsoft is retiring
#   it: once it is off for the tenant, Atera's logins are rejected with
#   550 5.7.30 and ticket replies stop going out from the organisation's address.
#   This warning stays until the setup no longer depends on it.
# custom:
#   id: smtp-basic-auth
#   severity: warning
#   source: "SPEC §1.10; atera.smtp; data.ticketguard.facts.basic_auth_retirement"
#   remediation: |-
#     1. Plan the change before the date in the message: ask Atera whether its custom SMTP can
#        sign in with OAuth (unconfirmed at the time of writing).
#     2. Until then, keep SMTP AUTH basic authentication available for the SMTP user. After
#        Microsoft turns it off by default, an admin can turn it back on until the final date:
#        Exchange admin centre > Settings > Mail flow (SMTP AUTH settings), and per mailbox:
#        Set-CASMailbox -Identity <smtp user> -SmtpClientAuthenticationDisabled $false
#     3. If Atera cannot use OAuth by the final date, switch Atera Admin > Email settings back to
#        Atera's default sender (noreply@atera.com), or send through a relay that accepts
#        Atera's login (for example an SMTP relay service, or an Exchange Online inbound
#        connector for Atera's IP addresses: Exchange admin centre > Mail flow > Connectors).
#     4. Test with Atera Admin > Email settings > Test Email Settings; a rejected login reads
#        "550 5.7.30 Basic authentication is not supported for Client Submission".
package ticketguard.checks.smtp_basic_auth

import data.ticketguard.lib.smtp
import data.ticketguard.lib.snap

_dates := smtp.facts.basic_auth_retirement

findings contains smtp.not_custom_finding

findings contains f if {
	smtp.custom
	smtp.office365_undecided
	f := {
		"status": "indeterminate",
		"message": sprintf(
			"custom SMTP server %s is not an Office 365 host and whether SMTP user %s is a mailbox of this tenant cannot be told: %s",
			[smtp.server_text, smtp.username_text, snap.missing_message(["Get-Mailbox"])],
		),
		"resource": "atera:smtp",
	}
}

findings contains f if {
	smtp.custom
	not smtp.office365_undecided
	not smtp.on_office365
	f := {
		"status": "not_applicable",
		"message": smtp.not_office365_message,
		"resource": "atera:smtp",
	}
}

findings contains f if {
	_applies
	not _timeline
	f := {
		"status": "indeterminate",
		"message": "cannot date the retirement of basic authentication: input.now or data.ticketguard.facts.basic_auth_retirement (unchanged_until, disabled_by_default_from) is missing or not an RFC 3339 time",
		"resource": "atera:smtp",
	}
}

findings contains f if {
	_applies
	_timeline
	f := {
		"status": "fail",
		"message": concat(" ", [_uses, _status_text, _oauth]),
		"resource": "atera:smtp",
	}
}

_applies if {
	smtp.custom
	smtp.on_office365
}

_uses := sprintf(
	"Atera's custom SMTP signs in to %s as %s with a password, that is basic authentication for SMTP AUTH client submission.",
	[smtp.server_text, smtp.username_text],
)

_oauth := "Whether Atera's custom SMTP can use OAuth instead is unconfirmed."

# --- timeline --------------------------------------------------------------

_day_ns := ((24 * 60) * 60) * 1000000000

_now := smtp.now_ns

_unchanged_until := time.parse_rfc3339_ns(_dates.unchanged_until)

_off_from := time.parse_rfc3339_ns(_dates.disabled_by_default_from)

# _final is the final removal date; undefined while Microsoft has not announced it.
_final := time.parse_rfc3339_ns(_dates.final_date) if is_string(_dates.final_date)

_timeline if {
	_now
	_unchanged_until
	_off_from
}

_status_text := sprintf(
	"Since %s basic authentication for SMTP AUTH client submission is gone: Atera's logins are rejected with %s.",
	[_day_text(_final), _rejection],
) if {
	_now >= _final
} else := sprintf(
	"Microsoft is retiring it: unchanged until the end of %s (%s left); from %s off by default for existing tenants (admins can turn it back on); %s.",
	[_month_text(_unchanged_until), _days_until(_off_from), _month_text(_off_from), _final_text],
) if {
	_now < _off_from
} else := sprintf(
	"Microsoft is retiring it: since %s basic authentication for SMTP AUTH is off by default for existing tenants; if it was not turned back on, Atera's logins are rejected with %s; %s.",
	[_month_text(_off_from), _rejection, _final_text],
)

_final_text := sprintf("final date %s (%s left)", [_day_text(_final), _days_until(_final)]) if {
	_final
} else := sprintf("Microsoft was to announce the final date in %s and ticketguard's facts do not have it: check the current Microsoft announcement (Exchange Team blog, message centre) for the final date", [_announcement]) if {
	_now > _announcement_by
} else := sprintf("the final date is to be announced in %s", [_announcement])

# _announcement_by is the end of the announcement period (facts
# final_date_announcement_by); undefined when the facts do not give it, and
# the message then keeps the future tense.
_announcement_by := time.parse_rfc3339_ns(_dates.final_date_announcement_by) if is_string(_dates.final_date_announcement_by)

_announcement := a if {
	a := _dates.final_date_announcement
	is_string(a)
} else := "a later announcement"

_rejection := r if {
	r := _dates.rejection
	is_string(r)
} else := "550 5.7.30"

# _days_until counts whole days left, rounding up: on the last day it is "1 day".
_days_until(t) := "1 day" if {
	ceil((t - _now) / _day_ns) <= 1
} else := sprintf("%d days", [ceil((t - _now) / _day_ns)])

_months := [
	"January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December",
]

_month_text(ns) := sprintf("%s %d", [_months[d[1] - 1], d[0]]) if d := time.date(ns)

_day_text(ns) := sprintf("%d %s %d", [d[2], _months[d[1] - 1], d[0]]) if d := time.date(ns)
