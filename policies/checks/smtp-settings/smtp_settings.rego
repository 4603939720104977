# METADATA
# title: Atera custom SMTP settings for Office 365
# description: |-
#   Atera's custom SMTP must use Microsoft's authenticated client submission:
#   smtp.office365.com, port 587 (or 25) with STARTTLS, and SMTP AUTH enabled for
#   the SMTP user's mailbox. Otherwise Atera's "Test Email Settings" fails and
#   ticket replies are not sent, or (direct send to
#   <domain>.mail.protection.outlook.com) reach internal recipients only, so
#   customers outside the organisation never get them.
# custom:
#   id: smtp-settings
#   severity: error
#   source: "SPEC §1.9, §2 SMTP AUTH; atera.smtp; Get-CASMailbox.SmtpClientAuthenticationDisabled, Get-TransportConfig.SmtpClientAuthenticationDisabled"
#   remediation: |-
#     1. Atera Admin > Email settings > custom SMTP: server smtp.office365.com, port 587
#        (25 also works; 465 is not supported), SSL/TLS on (STARTTLS), user name and password
#        of a licensed mailbox; then Test Email Settings.
#     2. Enable SMTP AUTH for that mailbox: Microsoft 365 admin centre > Users > Active users >
#        <smtp user> > Mail > Manage email apps > Authenticated SMTP, or in PowerShell:
#        Set-CASMailbox -Identity <smtp user> -SmtpClientAuthenticationDisabled $false
#     3. If the mailbox follows the organisation setting (SmtpClientAuthenticationDisabled
#        empty), either set it on the mailbox as in step 2 or enable it for the organisation:
#        Exchange admin centre > Settings > Mail flow > uncheck "Turn off SMTP AUTH protocol
#        for your organization", or Set-TransportConfig -SmtpClientAuthenticationDisabled $false
#     4. SMTP AUTH with a password is incompatible with Security Defaults (Microsoft Entra admin
#        centre > Identity > Overview > Properties > Manage security defaults) and is blocked by
#        Conditional Access policies that block legacy authentication: exclude the SMTP user
#        there, or the login fails even with the settings above.
package ticketguard.checks.smtp_settings

import data.ticketguard.lib.identity
import data.ticketguard.lib.smtp
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_cas := "Get-CASMailbox"

_transport := "Get-TransportConfig"

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

_applies if {
	smtp.custom
	smtp.on_office365
}

# --- server ----------------------------------------------------------------

_expected_server := smtp.facts.office365_smtp.server

findings contains f if {
	_applies
	not smtp.server
	f := {
		"status": "indeterminate",
		"message": "atera.smtp.server is not declared: declare the SMTP server of Atera Admin > Email settings",
		"resource": "atera:smtp/server",
	}
}

findings contains f if {
	_applies
	smtp.server == _expected_server
	f := {
		"status": "pass",
		"message": sprintf("Atera's custom SMTP server is %s", [smtp.server]),
		"resource": "atera:smtp/server",
	}
}

findings contains f if {
	_applies
	endswith(smtp.server, ".mail.protection.outlook.com")
	f := {
		"status": "fail",
		"message": sprintf(
			"Atera's custom SMTP server is %s, Microsoft's direct-send endpoint: it delivers to recipients inside the organisation only, so ticket replies to outside customers are not delivered; use %s",
			[smtp.server, _expected_server],
		),
		"resource": "atera:smtp/server",
	}
}

findings contains f if {
	_applies
	smtp.server != _expected_server
	not endswith(smtp.server, ".mail.protection.outlook.com")
	f := {
		"status": "fail",
		"message": sprintf("Atera's custom SMTP server is %s, not %s (Microsoft's authenticated client submission endpoint)", [smtp.server, _expected_server]),
		"resource": "atera:smtp/server",
	}
}

# --- port ------------------------------------------------------------------

findings contains f if {
	_applies
	not smtp.port
	f := {
		"status": "indeterminate",
		"message": sprintf("atera.smtp.port is not declared or not a number (%v): declare the SMTP port of Atera Admin > Email settings", [object.get(snap.smtp, "port", null)]),
		"resource": "atera:smtp/port",
	}
}

findings contains f if {
	_applies
	smtp.port in smtp.facts.office365_smtp.ports_ok
	f := {
		"status": "pass",
		"message": sprintf("Atera's custom SMTP port is %v", [smtp.port]),
		"resource": "atera:smtp/port",
	}
}

findings contains f if {
	_applies
	smtp.port in smtp.facts.office365_smtp.ports_unsupported
	f := {
		"status": "fail",
		"message": sprintf("Atera's custom SMTP port is %v, which Office 365 does not support for client submission (implicit TLS); use 587 with STARTTLS", [smtp.port]),
		"resource": "atera:smtp/port",
	}
}

findings contains f if {
	_applies
	smtp.port
	not smtp.port in smtp.facts.office365_smtp.ports_ok
	not smtp.port in smtp.facts.office365_smtp.ports_unsupported
	f := {
		"status": "fail",
		"message": sprintf("Atera's custom SMTP port is %v; Office 365 accepts client submission on %s only", [smtp.port, _ports_ok_text]),
		"resource": "atera:smtp/port",
	}
}

_ports_ok_text := concat(" or ", [format_int(p, 10) | some p in smtp.facts.office365_smtp.ports_ok])

# --- SSL/TLS ---------------------------------------------------------------

findings contains f if {
	_applies
	util.is_true(snap.smtp.ssl)
	f := {
		"status": "pass",
		"message": "Atera's custom SMTP has SSL/TLS on (STARTTLS)",
		"resource": "atera:smtp/ssl",
	}
}

findings contains f if {
	_applies
	util.is_false(snap.smtp.ssl)
	f := {
		"status": "fail",
		"message": sprintf("Atera's custom SMTP has SSL/TLS off (ssl = %v): Office 365 requires STARTTLS with TLS 1.2 or later before it accepts the login", [snap.smtp.ssl]),
		"resource": "atera:smtp/ssl",
	}
}

findings contains f if {
	_applies
	ssl := object.get(snap.smtp, "ssl", null)
	not util.is_true(ssl)
	not util.is_false(ssl)
	f := {
		"status": "indeterminate",
		"message": sprintf("atera.smtp.ssl is not declared as true or false (%v): declare the SSL/TLS toggle of Atera Admin > Email settings", [ssl]),
		"resource": "atera:smtp/ssl",
	}
}

# --- SMTP AUTH for the SMTP user's mailbox ---------------------------------

findings contains f if {
	_applies
	not smtp.username
	f := {
		"status": "indeterminate",
		"message": "atera.smtp.username is not declared: cannot check SMTP AUTH for the SMTP user",
		"resource": "atera:smtp/username",
	}
}

# Reached only on an Office 365 host name: a tenant user on another host needs
# Get-Mailbox to be found in the first place.
findings contains f if {
	_applies
	smtp.username
	not snap.collected("Get-Mailbox")
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot find SMTP user %s's mailbox: %s", [smtp.username, snap.missing_message(["Get-Mailbox"])]),
		"resource": "atera:smtp/username",
	}
}

findings contains f if {
	_user_known
	count(smtp.user_keys) > 0
	count(smtp.user_mailboxes) == 0
	f := {
		"status": "fail",
		"message": sprintf("SMTP user %s is not a mailbox (it resolves to %s): SMTP AUTH needs a licensed mailbox to sign in to", [smtp.username, _resolved_text]),
		"resource": "atera:smtp/username",
	}
}

# Get-Mailbox may be filtered to the mailboxes that forward (see the snapshot
# schema), so a user missing from it is only "not a mailbox" when
# Get-CASMailbox, collected for the SMTP sign-in mailbox, does not have it either.
findings contains f if {
	_user_known
	count(smtp.user_keys) == 0
	not snap.collected(_cas)
	f := {
		"status": "indeterminate",
		"message": sprintf("SMTP user %s is not in Get-Mailbox, and %s: cannot tell whether it is a mailbox", [smtp.username, snap.missing_message([_cas])]),
		"resource": "atera:smtp/username",
	}
}

findings contains f if {
	_user_known
	count(smtp.user_keys) == 0
	snap.collected(_cas)
	not _subject
	f := {
		"status": "fail",
		"message": sprintf("SMTP user %s is neither in Get-Mailbox nor in Get-CASMailbox: it is not a mailbox of this tenant, and SMTP AUTH needs a licensed mailbox to sign in to", [smtp.username]),
		"resource": "atera:smtp/username",
	}
}

findings contains f if {
	_user_known
	count(smtp.user_mailboxes) > 1
	f := {
		"status": "indeterminate",
		"message": sprintf("SMTP user %s matches several mailboxes (%s): cannot tell which one signs in", [smtp.username, _resolved_text]),
		"resource": "atera:smtp/username",
	}
}

findings contains f if {
	_subject
	not snap.collected(_cas)
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot read SMTP AUTH of %s: %s", [_subject.label, snap.missing_message([_cas])]),
		"resource": _subject.resource,
	}
}

findings contains f if {
	snap.collected(_cas)
	count(_subject.rows) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("%s has no row for %s: cannot read its SmtpClientAuthenticationDisabled", [_cas, _subject.label]),
		"resource": _subject.resource,
	}
}

findings contains f if {
	_mailbox_state == "false"
	f := {
		"status": "pass",
		"message": sprintf("SMTP AUTH is enabled for %s (Get-CASMailbox SmtpClientAuthenticationDisabled = false)", [_subject.label]),
		"resource": _subject.resource,
	}
}

findings contains f if {
	_mailbox_state == "true"
	f := {
		"status": "fail",
		"message": sprintf("SMTP AUTH is disabled for %s (Get-CASMailbox SmtpClientAuthenticationDisabled = true): Atera's sign-in is rejected", [_subject.label]),
		"resource": _subject.resource,
	}
}

findings contains f if {
	_mailbox_state == "invalid"
	f := {
		"status": "indeterminate",
		"message": sprintf("Get-CASMailbox has SmtpClientAuthenticationDisabled = %v for %s: cannot tell whether SMTP AUTH is enabled", [_mailbox_values, _subject.label]),
		"resource": _subject.resource,
	}
}

# A null mailbox value follows the organisation's setting.
findings contains f if {
	_mailbox_state == "null"
	not snap.collected(_transport)
	f := {
		"status": "indeterminate",
		"message": sprintf("%s follows the organisation's SMTP AUTH setting (Get-CASMailbox SmtpClientAuthenticationDisabled = null), which cannot be read: %s", [_subject.label, snap.missing_message([_transport])]),
		"resource": _subject.resource,
	}
}

findings contains f if {
	_mailbox_state == "null"
	snap.collected(_transport)
	_org_state == "false"
	f := {
		"status": "pass",
		"message": sprintf("SMTP AUTH is enabled for %s through the organisation (Get-CASMailbox SmtpClientAuthenticationDisabled = null, Get-TransportConfig SmtpClientAuthenticationDisabled = false)", [_subject.label]),
		"resource": _subject.resource,
	}
}

findings contains f if {
	_mailbox_state == "null"
	snap.collected(_transport)
	_org_state == "true"
	f := {
		"status": "fail",
		"message": sprintf("SMTP AUTH is disabled for %s: the mailbox follows the organisation (Get-CASMailbox SmtpClientAuthenticationDisabled = null) and Get-TransportConfig SmtpClientAuthenticationDisabled = true, so Atera's sign-in is rejected", [_subject.label]),
		"resource": _subject.resource,
	}
}

findings contains f if {
	_mailbox_state == "null"
	snap.collected(_transport)
	_org_state == "unknown"
	f := {
		"status": "indeterminate",
		"message": sprintf("%s follows the organisation's SMTP AUTH setting, but Get-TransportConfig SmtpClientAuthenticationDisabled is %v", [_subject.label, _org_values]),
		"resource": _subject.resource,
	}
}

_user_known if {
	_applies
	smtp.username
	snap.collected("Get-Mailbox")
}

_cas_rows := [r | some r in snap.items(_cas); is_object(r)]

# _subject is the mailbox that signs in, with its Get-CASMailbox rows (normally
# one): the single mailbox the SMTP user resolves to in Get-Mailbox, or, when
# Get-Mailbox does not list the user, the Get-CASMailbox rows with its address.
_subject := {"label": _mbx_text(k), "resource": sprintf("mailbox:%s", [identity.recipients[k].primary]), "rows": rows} if {
	_user_known
	count(smtp.user_mailboxes) == 1
	some k in smtp.user_mailboxes
	rows := [r | some r in _cas_rows; k in identity.resolve_entry(r)]
} else := {"label": sprintf("mailbox <%s> (in Get-CASMailbox, not in Get-Mailbox)", [smtp.user]), "resource": sprintf("mailbox:%s", [smtp.user]), "rows": rows} if {
	_user_known
	count(smtp.user_keys) == 0
	rows := [r | some r in _cas_rows; smtp.row_has_address(r, smtp.user)]
	count(rows) > 0
}

# _mbx_text names the mailbox with its type: SMTP AUTH needs a licensed mailbox,
# and a shared mailbox is normally unlicensed with sign-in blocked.
_mbx_text(k) := sprintf("%s (%s)", [identity.label(k), t]) if {
	t := identity.recipients[k].object.RecipientTypeDetails
	is_string(t)
} else := identity.label(k)

_resolved_text := concat(", ", sort([_mbx_text(k) | some k in smtp.user_keys]))

_mailbox_values := [object.get(r, "SmtpClientAuthenticationDisabled", "(absent)") | some r in _subject.rows]

# _mailbox_state folds the mailbox's rows (normally exactly one) into one
# tri-state: any true disables; "false" needs every row false; null follows the
# organisation; anything else (or a missing property) cannot be read.
_mailbox_state := _fold(_mailbox_values) if count(_subject.rows) > 0

_org_values := [object.get(r, "SmtpClientAuthenticationDisabled", "(absent)") | some r in snap.items(_transport)]

# The organisation value is a plain boolean: null is as unreadable as absent.
_org_state := s if {
	count(_org_values) > 0
	s := _fold(_org_values)
	s in {"true", "false"}
} else := "unknown"

_fold(vs) := "true" if {
	some v in vs
	util.is_true(v)
} else := "invalid" if {
	some v in vs
	_tri(v) == "invalid"
} else := "false" if {
	every v in vs {
		util.is_false(v)
	}
} else := "null"

_tri(v) := "true" if {
	util.is_true(v)
} else := "false" if {
	util.is_false(v)
} else := "null" if {
	v == null
} else := "invalid"
