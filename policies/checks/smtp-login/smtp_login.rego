# METADATA
# title: Atera's custom SMTP server accepts the login
# description: >-
#   The settings can all look right and Atera's mail still fail: a live SMTP
#   handshake is the proof. `ticketguard collect --probe-smtp` connects to the
#   declared server as Atera would, checks STARTTLS with a verified
#   certificate (TLS 1.2 or later), that AUTH is offered, and, with the SMTP
#   password, that the login succeeds (it sends nothing). When any step fails,
#   ticket replies are not sent from the organisation's address and customers
#   never see the technician's answer.
# custom:
#   id: smtp-login
#   severity: error
#   source: >-
#     SPEC §1.4, §1.9 (smtp.office365.com, 587, STARTTLS TLS 1.2+, SMTP AUTH), §1.10
#     (550 5.7.30); atera.smtp; snapshot section smtp_probe (connected, starttls, tls_version,
#     certificate_verified, auth_mechanisms, login, reply, error) (DESIGN "Snapshot sections
#     filled by collectors")
#   remediation: |-
#     1. No probe in the snapshot, or login "skipped": give ticketguard the SMTP password and probe.
#        In ticketguard.yaml, in the tenant's atera block: smtp_password: {env: ACME_SMTP_PASSWORD}
#        (or {file: /run/secrets/acme-smtp}), then: ticketguard collect --config ticketguard.yaml --probe-smtp --out <dir>
#        The password is used for the login only and never written to the snapshot.
#     2. Cannot connect, or no STARTTLS: Atera Admin > Email settings: server smtp.office365.com, port 587
#        (25 also works; 465 is not supported), SSL/TLS on. The probe connects from the machine running
#        ticketguard: a firewall there blocking port 587 gives the same symptom.
#     3. Certificate not verified or TLS older than 1.2: use the server's real host name
#        (smtp.office365.com, not an IP address or a private alias) so the certificate matches;
#        a server of your own needs a certificate from a public CA and TLS 1.2 or later.
#     4. AUTH not offered, or 535 5.7.139 Authentication unsuccessful: SMTP AUTH is off for the
#        mailbox or the organisation, or the user name / password is wrong
#        (ticketguard policy explain smtp-settings). Microsoft 365 admin centre > Users > Active users >
#        <smtp user> > Mail > Manage email apps > Authenticated SMTP, or in PowerShell:
#          Set-CASMailbox -Identity <smtp user> -SmtpClientAuthenticationDisabled $false
#          Set-TransportConfig -SmtpClientAuthenticationDisabled $false   # organisation-wide, if the mailbox follows it
#        Security Defaults and Conditional Access policies blocking legacy authentication also reject it:
#        Microsoft Entra admin centre > Identity > Overview > Properties > Manage security defaults.
#        Re-enter the password in Atera Admin > Email settings if it was changed.
#     5. 550 5.7.30 Basic authentication is not supported for Client Submission: basic authentication
#        for SMTP AUTH is off for the tenant (ticketguard policy explain smtp-basic-auth): turn it back on
#        while Microsoft allows it, or switch Atera to its default sender (noreply@atera.com).
#     6. Confirm with Atera Admin > Email settings > Test Email Settings, then probe again.
package ticketguard.checks.smtp_login

import data.ticketguard.lib.smtp
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_source := "smtp_probe"

# Not applicable (atera.smtp null) or indeterminate (not declared), as for
# every custom SMTP check.
findings contains smtp.not_custom_finding

_probe := p if {
	p := input.snapshot.smtp_probe
	is_object(p)
}

findings contains f if {
	smtp.custom
	snap.errored(_source)
	f := {
		"status": "indeterminate",
		"message": sprintf("the SMTP probe of %s could not run (%s failed: %s), so whether Atera's login works cannot be told", [smtp.label, _source, snap.error_text(_source)]),
		"resource": "atera:smtp/login",
	}
}

# collect records the probe as skipped when --probe-smtp was not given: the
# user chose not to test the login, which is not missing data.
findings contains f if {
	smtp.custom
	not snap.errored(_source)
	not _probe
	_skipped
	f := {
		"status": "not_applicable",
		"message": sprintf("the SMTP probe was not requested for %s (collection.skipped lists smtp_probe): run collect, audit or serve with --probe-smtp to test Atera's login", [smtp.label]),
		"resource": "atera:smtp/login",
	}
}

_skipped if "smtp_probe" in object.get(object.get(input.snapshot, "collection", {}), "skipped", [])

findings contains f if {
	smtp.custom
	not snap.errored(_source)
	not _probe
	not _skipped
	f := {
		"status": "indeterminate",
		"message": sprintf("smtp_probe is not in the snapshot, so whether %s accepts Atera's login cannot be told: run collect with --probe-smtp (ticketguard collect --config ticketguard.yaml --probe-smtp), with smtp_password: {env: <VARIABLE>} in the tenant's atera block of ticketguard.yaml for the login", [smtp.label]),
		"resource": "atera:smtp/login",
	}
}

_usable if {
	smtp.custom
	not snap.errored(_source)
	_probe
}

# A probe of another server than the one declared says nothing about it (the
# settings changed after the collection, say).
_probe_server := lower(trim_suffix(trim_space(_probe.server), ".")) if is_string(_probe.server)

_mismatches contains sprintf("server %s, declared %s", [_probe.server, smtp.server]) if {
	_probe_server
	smtp.server
	_probe_server != smtp.server
}

_mismatches contains sprintf("port %v, declared %v", [_probe.port, smtp.port]) if {
	is_number(_probe.port)
	smtp.port
	_probe.port != smtp.port
}

findings contains f if {
	_usable
	count(_mismatches) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("the SMTP probe tested another server than atera.smtp declares (%s): collect again with --probe-smtp", [concat("; ", sort(_mismatches))]),
		"resource": "atera:smtp/login",
	}
}

_ready if {
	_usable
	count(_mismatches) == 0
}

_target := sprintf("%v:%v", [object.get(_probe, "server", smtp.server_text), object.get(_probe, "port", smtp.port_text)])

# ---------------------------------------------------------------------------
# What the server said, for the messages.

_said := concat("; ", [s |
	some field in ["reply", "error"]
	v := object.get(_probe, field, null)
	is_string(v)
	trim_space(v) != ""
	s := sprintf("%s: %s", [field, trim_space(v)])
])

_said_text := sprintf(" (%s)", [_said]) if _said != ""

else := " (the probe recorded no reply or error)"

# A probe boolean: "true", "false" or "unknown" (absent, null, anything else).
_flag(name) := "true" if {
	util.is_true(object.get(_probe, name, null))
} else := "false" if {
	util.is_false(object.get(_probe, name, null))
} else := "unknown"

_unknown_finding(name) := {
	"status": "indeterminate",
	"message": sprintf("the SMTP probe of %s did not record %s (%v), so the handshake cannot be judged", [_target, name, object.get(_probe, name, null)]),
	"resource": "atera:smtp/probe",
}

# ---------------------------------------------------------------------------
# 1. Connection.

findings contains f if {
	_ready
	_flag("connected") == "false"
	not _declined
	f := {
		"status": "fail",
		"message": sprintf("could not connect to %s%s: Atera cannot send through it either if it is unreachable from the internet (a firewall on the machine running ticketguard gives the same result)", [_target, _said_text]),
		"resource": "atera:smtp/probe",
	}
}

# The probe does not try a port Office 365 does not support for client
# submission (465, implicit TLS): "not connected" then says nothing about
# firewalls or reachability, only that the port is wrong.
_probe_port := _probe.port if is_number(_probe.port)

else := smtp.port

_declined if {
	_ready
	_flag("connected") == "false"
	_probe_port in smtp.facts.office365_smtp.ports_unsupported
}

_port_advice := sprintf("set port %s with STARTTLS (SSL/TLS on) in Atera Admin > Email settings; see `ticketguard policy explain smtp-settings`", [concat(" or ", [format_int(p, 10) | some p in smtp.facts.office365_smtp.ports_ok])])

findings contains f if {
	_declined
	smtp.server_is_office365
	f := {
		"status": "fail",
		"message": sprintf("port %v is not supported by Office 365 client submission (it uses STARTTLS, not implicit TLS), so the probe did not connect to %s%s and Atera cannot send through it on that port either: %s", [_probe_port, _target, _said_text, _port_advice]),
		"resource": "atera:smtp/probe",
	}
}

findings contains f if {
	_declined
	not smtp.server_is_office365
	f := {
		"status": "indeterminate",
		"message": sprintf("the probe does not connect on port %v (implicit TLS), so whether %s accepts Atera's login was not tested%s. Office 365 does not support that port for client submission; if this server is not Office 365 and needs it, confirm with Atera Admin > Email settings > Test Email Settings, otherwise %s", [_probe_port, _target, _said_text, _port_advice]),
		"resource": "atera:smtp/probe",
	}
}

findings contains _unknown_finding("connected") if {
	_ready
	_flag("connected") == "unknown"
}

_connected if {
	_ready
	_flag("connected") == "true"
}

# ---------------------------------------------------------------------------
# 2. STARTTLS, certificate, TLS version.

findings contains f if {
	_connected
	_flag("starttls") == "false"
	f := {
		"status": "fail",
		"message": sprintf("%s did not complete STARTTLS%s: Office 365 and Atera's SSL/TLS setting need it before the login", [_target, _said_text]),
		"resource": "atera:smtp/probe",
	}
}

findings contains _unknown_finding("starttls") if {
	_connected
	_flag("starttls") == "unknown"
}

# starttls says the server accepted the command; whether a TLS session came
# up is told by tls_version (or by a verified certificate, which needs one).
_tls_up if {
	is_string(_probe.tls_version)
	trim_space(_probe.tls_version) != ""
}

_tls_up if _flag("certificate_verified") == "true"

findings contains f if {
	_connected
	_flag("starttls") == "true"
	not _tls_up
	f := {
		"status": "fail",
		"message": sprintf("%s accepted STARTTLS but the TLS handshake did not complete%s: Office 365 requires TLS 1.2 or later before the login", [_target, _said_text]),
		"resource": "atera:smtp/probe",
	}
}

findings contains f if {
	_connected
	_flag("starttls") == "true"
	_tls_up
	_flag("certificate_verified") == "false"
	f := {
		"status": "fail",
		"message": sprintf("the TLS certificate of %s could not be verified%s: it must match the host name and chain to a public CA, or a careful client refuses it (and a careless one sends the password to a server it cannot trust)", [_target, _said_text]),
		"resource": "atera:smtp/probe",
	}
}

findings contains _unknown_finding("certificate_verified") if {
	_connected
	_flag("starttls") == "true"
	_tls_up
	_flag("certificate_verified") == "unknown"
}

_tls_version := v if {
	v := _probe.tls_version
	is_string(v)
	trim_space(v) != ""
} else := "(not recorded)"

# SPEC §1.9: TLS 1.2 or later.
_old_tls if regex.match(`(?i)^\s*(ssl|tls\s*v?1\.[01]\b|tls\s*v?1\s*$)`, _tls_version)

findings contains f if {
	_connected
	_flag("starttls") == "true"
	_old_tls
	f := {
		"status": "fail",
		"message": sprintf("%s negotiated %s: Office 365 requires TLS 1.2 or later for SMTP client submission", [_target, _tls_version]),
		"resource": "atera:smtp/probe",
	}
}

_tls_ok if {
	_connected
	_flag("starttls") == "true"
	_flag("certificate_verified") == "true"
}

# ---------------------------------------------------------------------------
# 3. AUTH offered. Atera's custom SMTP signs in with a user name and password,
# so a password mechanism (LOGIN or PLAIN) must be among them.

_mechanisms := sort({upper(m) |
	some s in util.strings(object.get(_probe, "auth_mechanisms", null))
	some m in split(trim_space(s), " ")
	m != ""
})

_password_mechanisms := {"LOGIN", "PLAIN"}

_mechanisms_text := concat(" ", _mechanisms)

findings contains f if {
	_tls_ok
	count(_mechanisms) == 0
	f := {
		"status": "fail",
		"message": sprintf("%s offers no AUTH after STARTTLS (auth_mechanisms = %v)%s: Atera cannot log in; on Office 365 this means SMTP AUTH client submission is not available, see `ticketguard policy explain smtp-settings`", [_target, object.get(_probe, "auth_mechanisms", null), _said_text]),
		"resource": "atera:smtp/auth",
	}
}

findings contains f if {
	_tls_ok
	count(_mechanisms) > 0
	count({m | some m in _mechanisms} & _password_mechanisms) == 0
	f := {
		"status": "fail",
		"message": sprintf("%s offers AUTH %s only: Atera's custom SMTP logs in with a user name and password, which needs AUTH LOGIN or PLAIN", [_target, _mechanisms_text]),
		"resource": "atera:smtp/auth",
	}
}

_auth_ok if {
	_tls_ok
	count({m | some m in _mechanisms} & _password_mechanisms) > 0
}

findings contains f if {
	_auth_ok
	not _old_tls
	f := {
		"status": "pass",
		"message": sprintf("%s: connected, STARTTLS with %s and a verified certificate, AUTH %s offered", [_target, _tls_version, _mechanisms_text]),
		"resource": "atera:smtp/probe",
	}
}

# ---------------------------------------------------------------------------
# 4. Login.

_login := lower(trim_space(_probe.login)) if is_string(_probe.login)

else := ""

findings contains f if {
	_auth_ok
	_login == "succeeded"
	f := {
		"status": "pass",
		"message": sprintf("login to %s as %s succeeded", [_target, smtp.username_text]),
		"resource": "atera:smtp/login",
	}
}

findings contains f if {
	_auth_ok
	_login == "failed"
	f := {
		"status": "fail",
		"message": sprintf("login to %s as %s failed%s: %s", [_target, smtp.username_text, _said_text, _login_cause]),
		"resource": "atera:smtp/login",
	}
}

findings contains f if {
	_auth_ok
	_login == "skipped"
	f := {
		"status": "indeterminate",
		"message": sprintf("the handshake with %s works but the login as %s was skipped: no SMTP password is configured for this tenant. Give it as smtp_password: {env: <VARIABLE>} (or {file: <path>}) in the tenant's atera block of ticketguard.yaml and run collect with --probe-smtp; the password is used for the login only and never stored", [_target, smtp.username_text]),
		"resource": "atera:smtp/login",
	}
}

findings contains f if {
	_auth_ok
	not _login in {"succeeded", "failed", "skipped"}
	f := {
		"status": "indeterminate",
		"message": sprintf("the SMTP probe of %s recorded login = %v, not succeeded, failed or skipped, so the login cannot be judged", [_target, object.get(_probe, "login", null)]),
		"resource": "atera:smtp/login",
	}
}

# The enhanced status code says why (SPEC §1.9, §1.10).
_reply_text := concat(" ", [v |
	some field in ["reply", "error"]
	v := object.get(_probe, field, "")
	is_string(v)
])

_login_cause := "5.7.30 means basic authentication for SMTP AUTH client submission is turned off for this tenant (Microsoft is retiring it): see `ticketguard policy explain smtp-basic-auth`" if {
	regex.match(`\b5\.7\.30\b`, _reply_text)
} else := "5.7.139 means SMTP AUTH is disabled for the mailbox or the organisation, or the user name or password is wrong (Security Defaults and Conditional Access blocking legacy authentication also cause it): see `ticketguard policy explain smtp-settings`" if {
	regex.match(`\b5\.7\.139\b`, _reply_text)
} else := "check the user name and password in Atera Admin > Email settings, and that SMTP AUTH is enabled for the mailbox: see `ticketguard policy explain smtp-settings`"
