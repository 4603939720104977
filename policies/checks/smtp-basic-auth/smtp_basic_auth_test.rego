package ticketguard.checks.smtp_basic_auth_test

import data.ticketguard.checks.smtp_basic_auth

# --- fixtures --------------------------------------------------------------

_retirement := {
	"unchanged_until": "2026-12-31T23:59:59Z",
	"disabled_by_default_from": "2027-01-01T00:00:00Z",
	"final_date_announcement": "the second half of 2027",
	"final_date_announcement_by": "2027-12-31T23:59:59Z",
	"final_date": null,
	"rejection": "550 5.7.30 Basic authentication is not supported for Client Submission",
}

_facts := {
	"office365_smtp": {"server": "smtp.office365.com", "ports_ok": [587, 25], "ports_unsupported": [465]},
	"basic_auth_retirement": _retirement,
}

_facts_with_final(d) := object.union(_facts, {"basic_auth_retirement": {"final_date": d}})

_helpdesk_mbx := {
	"Name": "helpdesk",
	"DisplayName": "Helpdesk Sender",
	"Identity": "12216464-9f04-499d-b987-ca402361f2d6",
	"ExternalDirectoryObjectId": "12216464-9f04-499d-b987-ca402361f2d6",
	"PrimarySmtpAddress": "helpdesk@acme.com",
	"EmailAddresses": ["SMTP:helpdesk@acme.com"],
	"RecipientTypeDetails": "UserMailbox",
}

_base := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "support@acme.com",
			"smtp": {"server": "smtp.office365.com", "port": 587, "username": "helpdesk@acme.com", "ssl": true},
		},
		"exchange": {"Get-Mailbox": [_helpdesk_mbx]},
	},
}

# _at(now) moves the evaluation time; now_ns is left out so the check must read
# input.now (as a custom runner might pass only that).
_at(now) := json.remove(object.union(_base, {"now": now}), ["now_ns"])

_with_smtp(s) := object.union(_base, {"snapshot": {"atera": {"smtp": s}}})

_run(inp) := fs if {
	fs := smtp_basic_auth.findings with input as inp with data.ticketguard.facts as _facts
}

_run_facts(inp, facts) := fs if {
	fs := smtp_basic_auth.findings with input as inp with data.ticketguard.facts as facts
}

_only(fs, status) := f if {
	count(fs) == 1
	some f in fs
	f.status == status
}

# --- fail (always, with the wording of the day) ----------------------------

test_fail_before_january_2027_counts_days if {
	f := _only(_run(_base), "fail")
	contains(f.message, "signs in to smtp.office365.com as helpdesk@acme.com with a password")
	contains(f.message, "unchanged until the end of December 2026 (35 days left)")
	contains(f.message, "from January 2027 off by default for existing tenants (admins can turn it back on)")
	contains(f.message, "the final date is to be announced in the second half of 2027")
	contains(f.message, "OAuth")
	contains(f.message, "unconfirmed")
	not contains(f.message, "550 5.7.30")
}

test_fail_last_day_says_one_day if {
	f := _only(_run(_at("2026-12-31T18:00:00Z")), "fail")
	contains(f.message, "(1 day left)")
}

test_fail_after_january_2027_off_by_default if {
	f := _only(_run(_at("2027-02-15T09:00:00Z")), "fail")
	contains(f.message, "since January 2027 basic authentication for SMTP AUTH is off by default")
	contains(f.message, "if it was not turned back on")
	contains(f.message, "550 5.7.30 Basic authentication is not supported for Client Submission")
	contains(f.message, "the final date is to be announced in the second half of 2027")
	not contains(f.message, "unchanged until")
}

# The announcement period is over and facts.json still has no final date:
# no future tense about a past period; point at Microsoft's announcement.
test_fail_announcement_period_passed_without_final_date if {
	every now in ["2028-01-01T00:00:00Z", "2028-06-15T12:00:00Z"] {
		f := _only(_run(_at(now)), "fail")
		contains(f.message, "Microsoft was to announce the final date in the second half of 2027")
		contains(f.message, "check the current Microsoft announcement")
		not contains(f.message, "to be announced")
		not contains(f.message, "announced in the second half of 2027;")
	}

	# The last second of the period still speaks of the future.
	g := _only(_run(_at("2027-12-31T23:59:59Z")), "fail")
	contains(g.message, "the final date is to be announced in the second half of 2027")
}

# Facts without the end of the period keep the future tense.
test_fail_without_announcement_end_in_facts if {
	facts := json.remove(_facts, ["basic_auth_retirement/final_date_announcement_by"])
	f := _only(_run_facts(_at("2028-06-15T12:00:00Z"), facts), "fail")
	contains(f.message, "the final date is to be announced in the second half of 2027")
}

test_fail_after_january_2027_with_announced_final_date if {
	f := _only(_run_facts(_at("2027-09-01T00:00:00Z"), _facts_with_final("2028-03-01T00:00:00Z")), "fail")
	contains(f.message, "off by default")
	contains(f.message, "final date 1 March 2028 (182 days left)")
}

test_fail_final_date_passed_says_gone if {
	f := _only(_run_facts(_at("2028-04-01T00:00:00Z"), _facts_with_final("2028-03-01T00:00:00Z")), "fail")
	contains(f.message, "Since 1 March 2028 basic authentication for SMTP AUTH client submission is gone")
	contains(f.message, "550 5.7.30")
	not contains(f.message, "turned back on")
}

# A tenant mailbox as SMTP user on a non-Microsoft host name still counts as
# Office 365 (DESIGN "Check semantics decided").
test_fail_tenant_user_on_custom_host_name if {
	f := _only(_run(_with_smtp({"server": "mail.acme.com"})), "fail")
	contains(f.message, "mail.acme.com as helpdesk@acme.com")
}

# --- indeterminate ---------------------------------------------------------

test_indeterminate_atera_section_missing if {
	f := _only(_run(json.remove(_base, ["snapshot/atera"])), "indeterminate")
	contains(f.message, "atera section is missing")
}

test_indeterminate_cannot_tell_office365_without_mailboxes if {
	inp := json.remove(_with_smtp({"server": "smtp.acme-relay.net"}), ["snapshot/exchange/Get-Mailbox"])
	f := _only(_run(inp), "indeterminate")
	contains(f.message, "smtp.acme-relay.net")
	contains(f.message, "Get-Mailbox was not collected")
}

test_indeterminate_mailboxes_errored_on_other_host if {
	inp := object.union(_with_smtp({"server": "smtp.acme-relay.net"}), {"snapshot": {"errors": [{"source": "Get-Mailbox", "message": "Request was throttled"}]}})
	f := _only(_run(inp), "indeterminate")
	contains(f.message, "Get-Mailbox failed: Request was throttled")
}

test_indeterminate_without_now if {
	f := _only(_run(json.remove(_base, ["now", "now_ns"])), "indeterminate")
	contains(f.message, "input.now")
}

test_indeterminate_without_retirement_facts if {
	f := _only(_run_facts(_base, {"office365_smtp": _facts.office365_smtp}), "indeterminate")
	contains(f.message, "basic_auth_retirement")
}

# --- not applicable --------------------------------------------------------

test_not_applicable_default_sender if {
	f := _only(_run(_with_smtp(null)), "not_applicable")
	contains(f.message, "noreply@atera.com")
}

test_not_applicable_not_office365 if {
	f := _only(_run(_with_smtp({"server": "smtp.gmail.com", "username": "acme.tickets@gmail.com"})), "not_applicable")
	contains(f.message, "custom SMTP server smtp.gmail.com is not Office 365; not checked")
}

# Microsoft's Office 365 host names count even without any tenant data.
test_fail_office365_host_without_mailboxes if {
	f := _only(_run(json.remove(_base, ["snapshot/exchange"])), "fail")
	contains(f.message, "smtp.office365.com")
}
