package ticketguard.lib.smtp_test

import data.ticketguard.lib.smtp

_facts := {"office365_smtp": {"server": "smtp.office365.com", "ports_ok": [587, 25], "ports_unsupported": [465]}}

_support_mbx := {
	"Name": "Support",
	"DisplayName": "Acme Support",
	"Identity": "6fef5e0d-3093-46e0-8d67-28738686cef7",
	"ExternalDirectoryObjectId": "6fef5e0d-3093-46e0-8d67-28738686cef7",
	"PrimarySmtpAddress": "support@acme.com",
	"UserPrincipalName": "support@acme.onmicrosoft.com",
	"EmailAddresses": ["SMTP:support@acme.com", "smtp:helpdesk-old@acme.com"],
}

_helpdesk_mbx := {
	"Name": "helpdesk",
	"DisplayName": "Helpdesk Sender",
	"Identity": "12216464-9f04-499d-b987-ca402361f2d6",
	"ExternalDirectoryObjectId": "12216464-9f04-499d-b987-ca402361f2d6",
	"PrimarySmtpAddress": "helpdesk@acme.com",
	"UserPrincipalName": "hd.sender@acme.onmicrosoft.com",
	"EmailAddresses": ["SMTP:helpdesk@acme.com"],
}

_gmail_contact := {
	"Name": "Acme Gmail",
	"Identity": "Acme Gmail",
	"Guid": "20804437-f6b8-4309-82eb-017e905b2711",
	"ExternalEmailAddress": "SMTP:acme.tickets@gmail.com",
	"PrimarySmtpAddress": "acme.tickets@gmail.com",
	"EmailAddresses": ["SMTP:acme.tickets@gmail.com"],
}

_input(s) := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "SMTP:Support@acme.com",
			"smtp": s,
		},
		"exchange": {
			"Get-Mailbox": [_support_mbx, _helpdesk_mbx],
			"Get-MailContact": [_gmail_contact],
		},
	},
}

_o365 := {"server": " SMTP.Office365.com. ", "port": 587, "username": "Helpdesk@Acme.com", "ssl": true}

# --- custom / not_custom_finding -------------------------------------------

test_custom_when_object if smtp.custom with input as _input(_o365)

test_not_custom_when_null if {
	not smtp.custom with input as _input(null)
	f := smtp.not_custom_finding with input as _input(null)
	f.status == "not_applicable"
	contains(f.message, "noreply@atera.com")
}

test_no_finding_when_custom if not smtp.not_custom_finding with input as _input(_o365)

test_not_custom_finding_section_missing if {
	f := smtp.not_custom_finding with input as {"snapshot": {"exchange": {}}}
	f.status == "indeterminate"
	contains(f.message, "atera section is missing")
}

test_not_custom_finding_smtp_absent if {
	f := smtp.not_custom_finding with input as json.remove(_input(null), ["snapshot/atera/smtp"])
	f.status == "indeterminate"
	contains(f.message, "atera.smtp is not declared")
}

test_not_custom_finding_wrong_type if {
	f := smtp.not_custom_finding with input as _input("smtp.office365.com")
	f.status == "indeterminate"
	contains(f.message, "smtp.office365.com")
}

# --- declared values -------------------------------------------------------

test_server_normalised if smtp.server == "smtp.office365.com" with input as _input(_o365)

test_port_number_or_digits if {
	smtp.port == 587 with input as _input(_o365)
	smtp.port == 25 with input as _input({"port": " 25 "})
	not smtp.port with input as _input({"port": "submission"})
	smtp.port_text == "(not declared)" with input as _input({})
}

test_label if smtp.label == "smtp.office365.com:587 as Helpdesk@Acme.com" with input as _input(_o365)

# --- the SMTP user in the tenant ---------------------------------------------

test_user_keys_by_address if {
	ks := smtp.user_keys with input as _input(_o365)
	ks == {"mailbox:12216464-9f04-499d-b987-ca402361f2d6"}
}

test_user_keys_by_upn if {
	ks := smtp.user_keys with input as _input({"username": "HD.Sender@acme.onmicrosoft.com"})
	ks == {"mailbox:12216464-9f04-499d-b987-ca402361f2d6"}
}

test_user_keys_empty_when_undeclared if count(smtp.user_keys) == 0 with input as _input({"server": "smtp.office365.com"})

test_contact_is_not_in_tenant if {
	inp := _input({"server": "smtp.gmail.com", "username": "acme.tickets@gmail.com"})
	count(smtp.user_keys) == 1 with input as inp
	not smtp.user_in_tenant with input as inp
	not smtp.on_office365 with input as inp
}

# --- on_office365 ------------------------------------------------------------

test_office365_hosts if {
	every h in ["smtp.office365.com", "outlook.office365.com", "smtp-mail.outlook.com", "acme-com.mail.protection.outlook.com", "office365.com"] {
		smtp.server_is_office365 with input as _input({"server": h})
	}
}

test_lookalike_hosts_are_not_office365 if {
	every h in ["notoffice365.com", "smtp.office365.com.evil.net", "myoutlook.com", "smtp.gmail.com"] {
		not smtp.server_is_office365 with input as _input({"server": h, "username": "x@gmail.com"})
	}
}

test_tenant_user_on_other_host_is_office365 if {
	inp := _input({"server": "mail.acme.com", "username": "helpdesk@acme.com"})
	not smtp.server_is_office365 with input as inp
	smtp.on_office365 with input as inp
}

test_other_host_without_mailboxes_is_undecided if {
	inp := json.remove(_input({"server": "mail.acme.com", "username": "helpdesk@acme.com"}), ["snapshot/exchange/Get-Mailbox"])
	smtp.office365_undecided with input as inp
	not smtp.on_office365 with input as inp
}

# An errored Get-Mailbox is not trusted to say the user is in the tenant.
test_errored_mailboxes_is_undecided if {
	inp := object.union(
		_input({"server": "mail.acme.com", "username": "helpdesk@acme.com"}),
		{"snapshot": {"errors": [{"source": "Get-Mailbox", "message": "throttled"}]}},
	)
	smtp.office365_undecided with input as inp
	not smtp.on_office365 with input as inp
}

# Get-Mailbox filtered to forwarding mailboxes (or missing): the Get-CASMailbox
# row of the SMTP user still places it in the tenant.
test_user_in_cas_mailbox_is_office365 if {
	cas := {"Identity": "helpdesk", "PrimarySmtpAddress": "helpdesk@acme.com", "EmailAddresses": ["SMTP:helpdesk@acme.com", "smtp:hd@acme.com"], "SmtpClientAuthenticationDisabled": null}
	inp := object.union(
		json.remove(_input({"server": "mail.acme.com", "username": "HD@acme.com"}), ["snapshot/exchange/Get-Mailbox"]),
		{"snapshot": {"exchange": {"Get-CASMailbox": [cas]}}},
	)
	smtp.on_office365 with input as inp
	not smtp.office365_undecided with input as inp
}

test_row_has_address if {
	smtp.row_has_address({"PrimarySmtpAddress": "Helpdesk@Acme.com"}, "helpdesk@acme.com")
	smtp.row_has_address({"EmailAddresses": ["SMTP:a@acme.com", "smtp:helpdesk@acme.com"]}, "helpdesk@acme.com")
	not smtp.row_has_address({"EmailAddresses": ["SIP:helpdesk@acme.com"]}, "helpdesk@acme.com")
	not smtp.row_has_address({"Name": "helpdesk@acme.com"}, "helpdesk@acme.com")
}

test_office365_host_is_decided_without_mailboxes if {
	inp := json.remove(_input(_o365), ["snapshot/exchange"])
	smtp.on_office365 with input as inp
	not smtp.office365_undecided with input as inp
}

test_not_office365_message if {
	m := smtp.not_office365_message with input as _input({"server": "smtp.gmail.com", "username": "acme.tickets@gmail.com"})
	m == "custom SMTP server smtp.gmail.com is not Office 365; not checked (SMTP user acme.tickets@gmail.com is not a mailbox of this tenant)"
}

# --- user_is_support -----------------------------------------------------------

test_user_is_support_by_proxy_address if smtp.user_is_support with input as _input({"username": "helpdesk-old@acme.com"})

test_user_is_support_by_upn if smtp.user_is_support with input as _input({"username": "support@acme.onmicrosoft.com"})

test_user_is_support_by_address_when_unresolved if {
	inp := json.remove(_input({"username": "smtp:SUPPORT@acme.com"}), ["snapshot/exchange"])
	smtp.user_is_support with input as inp
}

test_other_user_is_not_support if not smtp.user_is_support with input as _input(_o365)

# --- now ---------------------------------------------------------------------------

test_now_ns_from_input if smtp.now_ns == 1795759200000000000 with input as _input(_o365)

test_now_ns_parsed_from_now if {
	smtp.now_ns == 1795759200000000000 with input as json.remove(_input(_o365), ["now_ns"])
}

test_facts_are_data if smtp.facts.office365_smtp.server == "smtp.office365.com" with data.ticketguard.facts as _facts
