package ticketguard.checks.smtp_login_test

import data.ticketguard.checks.smtp_login

# --- fixtures --------------------------------------------------------------

_smtp := {"server": "smtp.office365.com", "port": 587, "username": "helpdesk@acme.com", "ssl": true}

# A successful probe against Office 365 as DESIGN.md shapes it.
_probe := {
	"server": "smtp.office365.com",
	"port": 587,
	"probed_at": "2026-11-27T05:59:12Z",
	"connected": true,
	"starttls": true,
	"tls_version": "TLS 1.3",
	"certificate_verified": true,
	"auth_mechanisms": ["LOGIN", "XOAUTH2"],
	"login": "succeeded",
	"reply": "235 2.7.0 Authentication successful",
}

_base := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com", "smtp": _smtp},
		"exchange": {"Get-Mailbox": []},
		"smtp_probe": _probe,
	},
}

_with_probe(p) := object.union(_base, {"snapshot": {"smtp_probe": p}})

_without_probe := {"now": _base.now, "now_ns": _base.now_ns, "snapshot": object.remove(_base.snapshot, ["smtp_probe"])}

_facts := {"office365_smtp": {"server": "smtp.office365.com", "ports_ok": [587, 25], "ports_unsupported": [465]}}

_run(inp) := fs if {
	fs := smtp_login.findings with input as inp with data.ticketguard.facts as _facts
}

_statuses(fs) := {f.status | some f in fs}

_has(fs, st, texts) if {
	some f in fs
	f.status == st
	every t in texts {
		contains(f.message, t)
	}
}

_count(fs, st) := count([f | some f in fs; f.status == st])

# --- pass ------------------------------------------------------------------

test_pass_handshake_and_login if {
	fs := _run(_base)
	_statuses(fs) == {"pass"}
	count(fs) == 2
	_has(fs, "pass", ["smtp.office365.com:587", "STARTTLS with TLS 1.3 and a verified certificate", "AUTH LOGIN XOAUTH2 offered"])
	_has(fs, "pass", ["login to smtp.office365.com:587 as helpdesk@acme.com succeeded"])
}

# Mechanisms as one space-separated string (the EHLO line) are accepted.
test_pass_mechanisms_as_one_string if {
	fs := _run(_with_probe({"auth_mechanisms": "login plain"}))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["AUTH LOGIN PLAIN offered"])
}

# --- fail ------------------------------------------------------------------

test_fail_not_connected if {
	fs := _run(_with_probe({"connected": false, "starttls": false, "certificate_verified": false, "auth_mechanisms": null, "login": "skipped", "reply": null, "error": "dial tcp 52.96.0.1:587: i/o timeout"}))
	_statuses(fs) == {"fail"}

	# Only the first broken step: STARTTLS was never reached.
	count(fs) == 1
	_has(fs, "fail", ["could not connect to smtp.office365.com:587", "i/o timeout"])
}

# The collector does not probe port 465 (implicit TLS): it records connected
# false with the reason. That is the wrong port, not a firewall.
_declined_465 := {
	"server": "smtp.office365.com",
	"port": 465,
	"probed_at": "2026-11-27T05:59:12Z",
	"connected": false,
	"starttls": false,
	"certificate_verified": false,
	"auth_mechanisms": null,
	"login": "skipped",
	"reply": "",
	"error": "port 465 (implicit TLS) is not supported by Office 365 client submission, and the probe does not use it: use port 587 with STARTTLS",
}

test_fail_port_465_declined_is_not_a_firewall if {
	inp := object.union(_base, {"snapshot": {"atera": {"smtp": {"port": 465}}, "smtp_probe": _declined_465}})
	fs := _run(inp)
	_statuses(fs) == {"fail"}
	count(fs) == 1
	_has(fs, "fail", ["port 465 is not supported by Office 365 client submission", "smtp.office365.com:465", "set port 587 or 25 with STARTTLS", "ticketguard policy explain smtp-settings"])
	every f in fs {
		not contains(f.message, "firewall")
		not contains(f.message, "unreachable")
	}
}

# A server that is not Office 365 may support 465: the probe did not test it.
test_indeterminate_port_465_on_other_server if {
	inp := object.union(_base, {"snapshot": {
		"atera": {"smtp": {"server": "mail.acme.com", "port": 465}},
		"smtp_probe": object.union(_declined_465, {"server": "mail.acme.com"}),
	}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["does not connect on port 465", "mail.acme.com:465", "was not tested", "smtp-settings"])
	every f in fs {
		not contains(f.message, "firewall")
	}
}

test_fail_starttls if {
	fs := _run(_with_probe({"starttls": false, "certificate_verified": false, "tls_version": null, "auth_mechanisms": null, "login": "skipped", "reply": "502 5.5.1 STARTTLS not supported"}))
	_statuses(fs) == {"fail"}
	count(fs) == 1
	_has(fs, "fail", ["did not complete STARTTLS", "502 5.5.1 STARTTLS not supported"])
}

test_fail_certificate_not_verified if {
	fs := _run(_with_probe({"certificate_verified": false, "auth_mechanisms": null, "login": "skipped", "reply": null, "error": "x509: certificate is valid for outlook.com, not mail.acme.com"}))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["could not be verified", "x509: certificate is valid for outlook.com"])
	not _has(fs, "indeterminate", ["skipped"])
}

# The collector's starttls means "the server accepted the command"; no
# tls_version means the session never came up.
test_fail_tls_handshake_after_starttls if {
	fs := _run(_with_probe({"tls_version": "", "certificate_verified": false, "auth_mechanisms": [], "login": "skipped", "reply": "", "error": "tls: handshake failure: remote error: tls: protocol version not supported"}))
	_statuses(fs) == {"fail"}
	count(fs) == 1
	_has(fs, "fail", ["accepted STARTTLS but the TLS handshake did not complete", "protocol version not supported"])
}

test_fail_old_tls_version if {
	fs := _run(_with_probe({"tls_version": "TLS 1.0"}))
	_statuses(fs) == {"fail", "pass"}
	_has(fs, "fail", ["negotiated TLS 1.0", "TLS 1.2 or later"])
}

test_fail_auth_not_offered if {
	fs := _run(_with_probe({"auth_mechanisms": [], "login": "skipped"}))
	_statuses(fs) == {"fail"}
	count(fs) == 1
	_has(fs, "fail", ["offers no AUTH after STARTTLS", "smtp-settings"])
}

test_fail_only_oauth_offered if {
	fs := _run(_with_probe({"auth_mechanisms": ["XOAUTH2"], "login": "skipped"}))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["offers AUTH XOAUTH2 only", "LOGIN or PLAIN"])
}

test_fail_login_5_7_139_points_at_smtp_settings if {
	fs := _run(_with_probe({"login": "failed", "reply": "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR02CA0012.eurprd02.prod.outlook.com]"}))
	_statuses(fs) == {"fail", "pass"}
	_count(fs, "fail") == 1
	_has(fs, "fail", ["login to smtp.office365.com:587 as helpdesk@acme.com failed", "535 5.7.139 Authentication unsuccessful", "SMTP AUTH is disabled", "ticketguard policy explain smtp-settings"])
}

test_fail_login_5_7_30_points_at_smtp_basic_auth if {
	fs := _run(_with_probe({"login": "failed", "reply": "550 5.7.30 Basic authentication is not supported for Client Submission"}))
	_has(fs, "fail", ["550 5.7.30 Basic authentication", "ticketguard policy explain smtp-basic-auth"])
	not _has(fs, "fail", ["5.7.139 means"])
}

test_fail_login_other_reply if {
	fs := _run(_with_probe({"login": "failed", "reply": "535 5.7.3 Authentication unsuccessful"}))
	_has(fs, "fail", ["535 5.7.3 Authentication unsuccessful", "user name and password in Atera Admin > Email settings"])
	not _has(fs, "fail", ["smtp-basic-auth"])
}

# --- indeterminate -----------------------------------------------------------

test_indeterminate_probe_missing if {
	fs := _run(_without_probe)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["smtp_probe is not in the snapshot", "run collect with --probe-smtp", "smtp_password: {env:"])
}

test_not_applicable_probe_not_requested if {
	inp := object.union(_without_probe, {"snapshot": {"collection": {"skipped": ["smtp_probe"]}}})
	fs := _run(inp)
	_statuses(fs) == {"not_applicable"}
	_has(fs, "not_applicable", ["not requested", "--probe-smtp"])
}

# A failed probe is not "not requested", even if the collector also listed it.
test_indeterminate_probe_errored_even_if_skipped if {
	inp := object.union(_without_probe, {"snapshot": {
		"collection": {"skipped": ["smtp_probe"]},
		"errors": [{"source": "smtp_probe", "message": "dial timeout"}],
	}})
	_statuses(_run(inp)) == {"indeterminate"}
}

test_indeterminate_probe_errored if {
	inp := object.union(_without_probe, {"snapshot": {"errors": [{"source": "smtp_probe", "message": "smtp_password: environment variable ACME_SMTP_PASSWORD is not set"}]}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["smtp_probe failed: smtp_password: environment variable ACME_SMTP_PASSWORD is not set"])
}

test_indeterminate_login_skipped_says_how_to_give_password if {
	fs := _run(_with_probe({"login": "skipped", "reply": null}))
	_statuses(fs) == {"pass", "indeterminate"}
	_has(fs, "indeterminate", ["login as helpdesk@acme.com was skipped", "smtp_password: {env: <VARIABLE>}", "ticketguard.yaml", "--probe-smtp"])
}

test_indeterminate_probe_of_another_server if {
	fs := _run(_with_probe({"server": "smtp.gmail.com", "port": 465}))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["server smtp.gmail.com, declared smtp.office365.com", "port 465, declared 587"])
}

test_indeterminate_flag_not_recorded if {
	fs := _run(_with_probe({"connected": null}))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["did not record connected"])
}

test_indeterminate_unknown_login_value if {
	fs := _run(_with_probe({"login": "timeout"}))
	_has(fs, "indeterminate", ["login = timeout"])
}

test_indeterminate_atera_undeclared if {
	fs := _run({"now": _base.now, "snapshot": {"exchange": {}, "smtp_probe": _probe}})
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera section is missing"])
}

# --- not applicable ----------------------------------------------------------

test_not_applicable_default_sender if {
	fs := _run(object.union(_without_probe, {"snapshot": {"atera": {"smtp": null}}}))
	_statuses(fs) == {"not_applicable"}
	_has(fs, "not_applicable", ["noreply@atera.com"])
}

# A stray probe does not make the check apply when Atera uses its own sender.
test_not_applicable_ignores_probe_without_custom_smtp if {
	fs := _run(object.union(_base, {"snapshot": {"atera": {"smtp": null}}}))
	_statuses(fs) == {"not_applicable"}
}
