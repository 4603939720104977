package ticketguard.checks.smtp_settings_test

import data.ticketguard.checks.smtp_settings

# --- fixtures --------------------------------------------------------------

_facts := {"office365_smtp": {"server": "smtp.office365.com", "ports_ok": [587, 25], "ports_unsupported": [465]}}

_helpdesk_mbx := {
	"Name": "helpdesk",
	"Alias": "helpdesk",
	"DisplayName": "Helpdesk Sender",
	"Identity": "12216464-9f04-499d-b987-ca402361f2d6",
	"ExternalDirectoryObjectId": "12216464-9f04-499d-b987-ca402361f2d6",
	"Guid": "a54c74b9-53ae-4e3b-954d-ec83b4d0c169",
	"ExchangeObjectId": "84faf81a-af28-40bc-9366-b3a7af503ffc",
	"PrimarySmtpAddress": "helpdesk@acme.com",
	"UserPrincipalName": "hd.sender@acme.onmicrosoft.com",
	"EmailAddresses": ["SMTP:helpdesk@acme.com", "smtp:helpdesk@acme.mail.onmicrosoft.com"],
	"RecipientTypeDetails": "UserMailbox",
}

_support_mbx := {
	"Name": "Support",
	"Alias": "support",
	"DisplayName": "Acme Support",
	"Identity": "support",
	"Guid": "510e471c-0361-4820-95f8-a6673b05a865",
	"PrimarySmtpAddress": "support@acme.com",
	"EmailAddresses": ["SMTP:support@acme.com"],
	"RecipientTypeDetails": "SharedMailbox",
}

# Get-CASMailbox row of the helpdesk mailbox: same Identity and Guid, value null
# (follows the organisation).
_helpdesk_cas := {
	"Identity": "12216464-9f04-499d-b987-ca402361f2d6",
	"Name": "helpdesk",
	"PrimarySmtpAddress": "helpdesk@acme.com",
	"Guid": "a54c74b9-53ae-4e3b-954d-ec83b4d0c169",
	"SmtpClientAuthenticationDisabled": null,
	"ActiveSyncEnabled": true,
}

_support_cas := {
	"Identity": "support",
	"Name": "Support",
	"PrimarySmtpAddress": "support@acme.com",
	"SmtpClientAuthenticationDisabled": true,
}

_base := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "support@acme.com",
			"smtp": {"server": "smtp.office365.com", "port": 587, "username": "Helpdesk@Acme.com", "ssl": true},
		},
		"exchange": {
			"Get-Mailbox": [_support_mbx, _helpdesk_mbx],
			"Get-DistributionGroup": [{
				"Name": "Sales",
				"DisplayName": "Sales",
				"Identity": "Sales",
				"Guid": "20804437-f6b8-4309-82eb-017e905b2711",
				"PrimarySmtpAddress": "sales@acme.com",
				"EmailAddresses": ["SMTP:sales@acme.com"],
				"RecipientTypeDetails": "MailUniversalDistributionGroup",
			}],
			"Get-MailContact": [],
			"Get-CASMailbox": [_support_cas, _helpdesk_cas],
			"Get-TransportConfig": [{"Name": "Transport Settings", "SmtpClientAuthenticationDisabled": false}],
		},
	},
}

_with_smtp(s) := object.union(_base, {"snapshot": {"atera": {"smtp": s}}})

_with_exchange(x) := object.union(_base, {"snapshot": {"exchange": x}})

_with_cas_value(v) := _with_exchange({"Get-CASMailbox": [_support_cas, object.union(_helpdesk_cas, {"SmtpClientAuthenticationDisabled": v})]})

_run(inp) := fs if {
	fs := smtp_settings.findings with input as inp with data.ticketguard.facts as _facts
}

_statuses(fs) := {f.status | some f in fs}

_with_status(fs, st) := {f | some f in fs; f.status == st}

# _has(fs, st, texts): a finding with that status whose message contains every text.
_has(fs, st, texts) if {
	some f in fs
	f.status == st
	every t in texts {
		contains(f.message, t)
	}
}

# --- pass ------------------------------------------------------------------

test_pass_office365_with_org_smtp_auth if {
	fs := _run(_base)
	_statuses(fs) == {"pass"}
	count(fs) == 4
	_has(fs, "pass", ["smtp.office365.com"])
	_has(fs, "pass", ["587"])
	_has(fs, "pass", ["STARTTLS"])
	_has(fs, "pass", [`mailbox "Helpdesk Sender" <helpdesk@acme.com> (UserMailbox)`, "Get-TransportConfig SmtpClientAuthenticationDisabled = false"])
	some f in fs
	f.resource == "mailbox:helpdesk@acme.com"
}

test_pass_mailbox_enabled_overrides_org_disabled if {
	inp := object.union(_with_cas_value(false), {"snapshot": {"exchange": {"Get-TransportConfig": [{"SmtpClientAuthenticationDisabled": true}]}}})
	fs := _run(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["Get-CASMailbox SmtpClientAuthenticationDisabled = false"])
}

# The organisation value is not needed when the mailbox decides.
test_pass_mailbox_enabled_without_transport_config if {
	fs := _run(json.remove(_with_cas_value(false), ["snapshot/exchange/Get-TransportConfig"]))
	_statuses(fs) == {"pass"}
}

test_pass_port_25_as_string_and_ssl_as_string if {
	fs := _run(_with_smtp({"server": "SMTP.Office365.com.", "port": "25", "ssl": "True", "username": "hd.sender@acme.onmicrosoft.com"}))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["SMTP port is 25"])
}

# --- fail ------------------------------------------------------------------

test_fail_direct_send_host if {
	fs := _run(_with_smtp({"server": "acme-com.mail.protection.outlook.com", "port": 25}))
	count(_with_status(fs, "fail")) == 1
	_has(fs, "fail", ["acme-com.mail.protection.outlook.com", "inside the organisation only", "smtp.office365.com"])
	_has(fs, "pass", ["SMTP port is 25"])
}

# A non-Microsoft host is checked because the SMTP user is a tenant mailbox.
test_fail_other_host_with_tenant_user if {
	fs := _run(_with_smtp({"server": "mail.acme.com"}))
	_has(fs, "fail", ["SMTP server is mail.acme.com, not smtp.office365.com"])
}

test_fail_port_465 if {
	fs := _run(_with_smtp({"port": 465}))
	_with_status(fs, "fail") == {f | some f in fs; f.status == "fail"; contains(f.message, "SMTP port is 465")}
	count(_with_status(fs, "fail")) == 1
}

test_fail_other_port if {
	fs := _run(_with_smtp({"port": 2525}))
	_has(fs, "fail", ["SMTP port is 2525", "587 or 25"])
}

test_fail_ssl_off if {
	fs := _run(_with_smtp({"ssl": false}))
	_has(fs, "fail", ["SSL/TLS off (ssl = false)"])
	count(_with_status(fs, "fail")) == 1
}

test_fail_mailbox_smtp_auth_disabled if {
	fs := _run(_with_cas_value(true))
	count(_with_status(fs, "fail")) == 1
	_has(fs, "fail", ["helpdesk@acme.com", "Get-CASMailbox SmtpClientAuthenticationDisabled = true"])
}

test_fail_org_smtp_auth_disabled if {
	fs := _run(_with_exchange({"Get-TransportConfig": [{"Name": "Transport Settings", "SmtpClientAuthenticationDisabled": true}]}))
	count(_with_status(fs, "fail")) == 1
	_has(fs, "fail", ["SmtpClientAuthenticationDisabled = null", "Get-TransportConfig SmtpClientAuthenticationDisabled = true"])
}

test_fail_user_is_not_a_mailbox if {
	fs := _run(_with_smtp({"username": "noreply@acme.com"}))
	count(_with_status(fs, "fail")) == 1
	_has(fs, "fail", ["noreply@acme.com is neither in Get-Mailbox nor in Get-CASMailbox"])
}

# Get-Mailbox may be filtered to forwarding mailboxes: the Get-CASMailbox row
# of the SMTP user still identifies its mailbox.
test_fail_user_found_through_cas_mailbox_only if {
	inp := _with_exchange({"Get-Mailbox": [_support_mbx], "Get-CASMailbox": [object.union(_helpdesk_cas, {
		"SmtpClientAuthenticationDisabled": true,
		"EmailAddresses": ["SMTP:helpdesk@acme.com", "smtp:helpdesk@acme.mail.onmicrosoft.com"],
	})]})
	fs := _run(inp)
	count(_with_status(fs, "fail")) == 1
	_has(fs, "fail", ["mailbox <helpdesk@acme.com> (in Get-CASMailbox, not in Get-Mailbox)", "SmtpClientAuthenticationDisabled = true"])
}

test_fail_user_is_a_group if {
	fs := _run(_with_smtp({"username": "Sales@acme.com"}))
	_has(fs, "fail", ["Sales@acme.com is not a mailbox", `it resolves to group "Sales" <sales@acme.com>`])
}

test_fail_every_part_reported_separately if {
	fs := _run(_with_smtp({"server": "acme-com.mail.protection.outlook.com", "port": 465, "ssl": false}))
	count(_with_status(fs, "fail")) == 3
	_with_status(fs, "pass") == {f | some f in fs; f.resource == "mailbox:helpdesk@acme.com"}
}

# --- indeterminate ---------------------------------------------------------

test_indeterminate_atera_section_missing if {
	fs := _run(json.remove(_base, ["snapshot/atera"]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera section is missing"])
}

test_indeterminate_cas_mailbox_not_collected if {
	fs := _run(json.remove(_base, ["snapshot/exchange/Get-CASMailbox"]))
	_statuses(fs) == {"pass", "indeterminate"}
	_has(fs, "indeterminate", ["Get-CASMailbox was not collected", "helpdesk@acme.com"])
}

test_indeterminate_cas_mailbox_errored if {
	inp := object.union(_base, {"snapshot": {"errors": [{"source": "Get-CASMailbox", "message": "Access denied"}]}})
	fs := _run(inp)
	_has(fs, "indeterminate", ["Get-CASMailbox failed: Access denied"])
}

test_indeterminate_cas_mailbox_has_no_row if {
	fs := _run(_with_exchange({"Get-CASMailbox": [_support_cas]}))
	_has(fs, "indeterminate", ["Get-CASMailbox has no row for", "helpdesk@acme.com"])
	not "fail" in _statuses(fs)
}

test_indeterminate_cas_value_absent if {
	fs := _run(_with_exchange({"Get-CASMailbox": [json.remove(_helpdesk_cas, ["SmtpClientAuthenticationDisabled"])]}))
	_has(fs, "indeterminate", ["(absent)"])
}

test_indeterminate_transport_config_needed_but_missing if {
	fs := _run(json.remove(_base, ["snapshot/exchange/Get-TransportConfig"]))
	_has(fs, "indeterminate", ["Get-TransportConfig was not collected", "SmtpClientAuthenticationDisabled = null"])
	not "fail" in _statuses(fs)
}

test_indeterminate_transport_config_errored if {
	inp := object.union(_base, {"snapshot": {"errors": [{"source": "Get-TransportConfig", "message": "The term 'Get-TransportConfig' is not recognized"}]}})
	fs := _run(inp)
	_has(fs, "indeterminate", ["Get-TransportConfig failed: The term"])
}

test_indeterminate_user_not_in_mailboxes_and_cas_not_collected if {
	inp := json.remove(_with_exchange({"Get-Mailbox": [_support_mbx]}), ["snapshot/exchange/Get-CASMailbox"])
	fs := _run(inp)
	_has(fs, "indeterminate", ["Helpdesk@Acme.com is not in Get-Mailbox", "Get-CASMailbox was not collected"])
	not "fail" in _statuses(fs)
}

test_indeterminate_cas_value_not_boolean if {
	fs := _run(_with_cas_value("Enabled"))
	_has(fs, "indeterminate", [`SmtpClientAuthenticationDisabled = ["Enabled"]`])
	not "fail" in _statuses(fs)
}

test_indeterminate_org_value_null if {
	fs := _run(_with_exchange({"Get-TransportConfig": [{"Name": "Transport Settings", "SmtpClientAuthenticationDisabled": null}]}))
	_has(fs, "indeterminate", ["Get-TransportConfig SmtpClientAuthenticationDisabled is [null]"])
	not "fail" in _statuses(fs)
}

test_indeterminate_mailboxes_missing_on_other_host if {
	fs := _run(json.remove(_with_smtp({"server": "smtp.sendgrid.net", "username": "apikey"}), ["snapshot/exchange/Get-Mailbox"]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["smtp.sendgrid.net", "Get-Mailbox was not collected"])
}

test_indeterminate_mailboxes_missing_on_office365_host if {
	fs := _run(json.remove(_base, ["snapshot/exchange/Get-Mailbox"]))
	_has(fs, "indeterminate", ["Helpdesk@Acme.com", "Get-Mailbox was not collected"])
	count(_with_status(fs, "pass")) == 3
}

test_indeterminate_port_and_ssl_not_declared if {
	fs := _run(json.remove(_base, ["snapshot/atera/smtp/port", "snapshot/atera/smtp/ssl"]))
	_has(fs, "indeterminate", ["atera.smtp.port is not declared"])
	_has(fs, "indeterminate", ["atera.smtp.ssl is not declared"])
	not "fail" in _statuses(fs)
}

# --- not applicable --------------------------------------------------------

test_not_applicable_default_sender if {
	fs := _run(_with_smtp(null))
	_statuses(fs) == {"not_applicable"}
	_has(fs, "not_applicable", ["noreply@atera.com"])
}

test_not_applicable_not_office365 if {
	fs := _run(_with_smtp({"server": "smtp.sendgrid.net", "port": 465, "username": "apikey"}))
	count(fs) == 1
	_has(fs, "not_applicable", ["custom SMTP server smtp.sendgrid.net is not Office 365; not checked", "apikey"])
}
