package ticketguard.checks.ticketing_contact_test

import data.ticketguard.checks.ticketing_contact

# ---------------------------------------------------------------------------
# Fixture: a recent tenant (Identity = ExternalDirectoryObjectId on mailboxes),
# the Atera contact, an unrelated vendor contact, raw Exchange shapes.

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Alias": "AteraTicketing",
	"Identity": "Atera Ticketing",
	"DistinguishedName": "CN=Atera Ticketing,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR05A003,DC=PROD,DC=OUTLOOK,DC=COM",
	"Guid": "5b0c3f4e-1d2a-4c7b-9e8f-0a1b2c3d4e5f",
	"ExchangeObjectId": "5b0c3f4e-1d2a-4c7b-9e8f-0a1b2c3d4e5f",
	"ExternalDirectoryObjectId": "c1d2e3f4-a5b6-4789-8abc-def012345678",
	"ExternalEmailAddress": "SMTP:acme@ticketing.atera.com",
	"PrimarySmtpAddress": "acme@ticketing.atera.com",
	"EmailAddresses": ["SMTP:acme@ticketing.atera.com"],
	"RecipientTypeDetails": "MailContact",
}

_vendor := {
	"Name": "Contoso Billing",
	"DisplayName": "Contoso Billing",
	"Alias": "ContosoBilling",
	"Identity": "Contoso Billing",
	"Guid": "0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c",
	"ExternalDirectoryObjectId": "11112222-3333-4444-5555-666677778888",
	"ExternalEmailAddress": "SMTP:billing@contoso.example",
	"PrimarySmtpAddress": "billing@contoso.example",
	"EmailAddresses": ["SMTP:billing@contoso.example"],
	"RecipientTypeDetails": "MailContact",
}

_mailbox := {
	"Name": "b8e1c4a2-3f5d-4e6a-9b7c-1d2e3f4a5b6c",
	"DisplayName": "Support",
	"Alias": "support",
	"Identity": "b8e1c4a2-3f5d-4e6a-9b7c-1d2e3f4a5b6c",
	"ExternalDirectoryObjectId": "b8e1c4a2-3f5d-4e6a-9b7c-1d2e3f4a5b6c",
	"Guid": "2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7a8b",
	"ExchangeObjectId": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
	"PrimarySmtpAddress": "support@acme.com",
	"EmailAddresses": ["SMTP:support@acme.com", "smtp:support@acme.onmicrosoft.com", "SPO:SPO_1c2d3e4f@SPO_5a6b7c8d"],
	"RecipientTypeDetails": "SharedMailbox",
	"ForwardingAddress": null,
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": false,
}

_base := {
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "support@acme.com",
			"smtp": null,
		},
		"exchange": {
			"Get-MailContact": [_vendor, _contact],
			"Get-Mailbox": [_mailbox],
		},
		"errors": [],
	},
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
}

_with_contacts(contacts) := json.patch(_base, [{"op": "replace", "path": "/snapshot/exchange/Get-MailContact", "value": contacts}])

_statuses(fs) := {f.status | some f in fs}

_messages(fs) := concat("\n", [f.message | some f in fs])

# ---------------------------------------------------------------------------
# pass

test_pass_contact_with_ticketing_address if {
	fs := ticketing_contact.findings with input as _base
	_statuses(fs) == {"pass"}
	count(fs) == 1
	some f in fs
	contains(f.message, `contact "Atera Ticketing"`)
	contains(f.message, "SMTP:acme@ticketing.atera.com")
	f.resource == "contact:acme@ticketing.atera.com"
}

test_pass_case_and_prefix_ignored if {
	c := object.union(_contact, {"ExternalEmailAddress": "SMTP:ACME@Ticketing.Atera.COM"})
	inp := json.patch(_with_contacts([c]), [{"op": "replace", "path": "/snapshot/atera/ticketing_address", "value": " Acme@ticketing.atera.com "}])
	fs := ticketing_contact.findings with input as inp
	_statuses(fs) == {"pass"}
	contains(_messages(fs), "SMTP:ACME@Ticketing.Atera.COM")
}

test_pass_bare_address_without_prefix if {
	c := object.union(_contact, {"ExternalEmailAddress": "acme@ticketing.atera.com"})
	fs := ticketing_contact.findings with input as _with_contacts([c])
	_statuses(fs) == {"pass"}
}

# Hand-written snapshots may hold one object where a list is usual.
test_pass_single_object_instead_of_array if {
	fs := ticketing_contact.findings with input as _with_contacts(_contact)
	_statuses(fs) == {"pass"}
}

test_pass_names_every_matching_contact if {
	dup := object.union(_contact, {
		"Name": "Atera Old",
		"DisplayName": "Atera Old",
		"Identity": "Atera Old",
		"Guid": "99999999-1d2a-4c7b-9e8f-0a1b2c3d4e5f",
		"ExternalDirectoryObjectId": "99999999-a5b6-4789-8abc-def012345678",
	})
	fs := ticketing_contact.findings with input as _with_contacts([_contact, dup])
	_statuses(fs) == {"pass"}
	count(fs) == 2
	contains(_messages(fs), "Atera Old")
	contains(_messages(fs), "Atera Ticketing")
}

# ---------------------------------------------------------------------------
# fail

test_fail_no_contacts_at_all if {
	fs := ticketing_contact.findings with input as _with_contacts([])
	_statuses(fs) == {"fail"}
	some f in fs
	contains(f.message, "acme@ticketing.atera.com")
	contains(f.message, "none of the 0 mail contacts")
	f.resource == "contact:acme@ticketing.atera.com"
}

test_fail_unrelated_contacts_are_not_listed if {
	fs := ticketing_contact.findings with input as _with_contacts([_vendor])
	_statuses(fs) == {"fail"}
	msg := _messages(fs)
	contains(msg, "none of the 1 mail contacts")
	not contains(msg, "Contoso")
}

test_fail_typo_in_local_part_listed_as_near_miss if {
	c := object.union(_contact, {"ExternalEmailAddress": "SMTP:acmee@ticketing.atera.com"})
	fs := ticketing_contact.findings with input as _with_contacts([_vendor, c])
	_statuses(fs) == {"fail"}
	msg := _messages(fs)
	contains(msg, `contact "Atera Ticketing"`)
	contains(msg, "SMTP:acmee@ticketing.atera.com")
	not contains(msg, "Contoso")
}

test_fail_typo_in_domain_listed_as_near_miss if {
	c := object.union(_contact, {"ExternalEmailAddress": "SMTP:acme@ticketting.atera.com"})
	fs := ticketing_contact.findings with input as _with_contacts([c])
	_statuses(fs) == {"fail"}
	contains(_messages(fs), "SMTP:acme@ticketting.atera.com")
}

# A contact answering to the ticketing address through a proxy still sends
# its mail to its external address: that is not the ticketing contact.
test_fail_ticketing_address_only_as_proxy if {
	c := object.union(_contact, {
		"ExternalEmailAddress": "SMTP:helpdesk@acme-old.example",
		"PrimarySmtpAddress": "helpdesk@acme-old.example",
		"EmailAddresses": ["SMTP:helpdesk@acme-old.example", "smtp:acme@ticketing.atera.com"],
	})
	fs := ticketing_contact.findings with input as _with_contacts([c])
	_statuses(fs) == {"fail"}
}

# The ticketing address on a mailbox is not a contact.
test_fail_ticketing_address_on_mailbox_only if {
	mbx := object.union(_mailbox, {"EmailAddresses": ["SMTP:support@acme.com", "smtp:acme@ticketing.atera.com"]})
	inp := json.patch(_with_contacts([_vendor]), [{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox", "value": [mbx]}])
	fs := ticketing_contact.findings with input as inp
	_statuses(fs) == {"fail"}
}

# ---------------------------------------------------------------------------
# indeterminate

test_indeterminate_contacts_not_collected if {
	inp := json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-MailContact"}])
	fs := ticketing_contact.findings with input as inp
	_statuses(fs) == {"indeterminate"}
	contains(_messages(fs), "Get-MailContact was not collected")
}

test_indeterminate_contacts_null if {
	fs := ticketing_contact.findings with input as _with_contacts(null)
	_statuses(fs) == {"indeterminate"}
	contains(_messages(fs), "Get-MailContact")
}

# Rows that came back before the error are not a complete list: no verdict.
test_indeterminate_contacts_errored if {
	inp := json.patch(_base, [{"op": "replace", "path": "/snapshot/errors", "value": [{
		"source": "Get-MailContact",
		"message": "The request was throttled (429); retry after 30 seconds",
	}]}])
	fs := ticketing_contact.findings with input as inp
	_statuses(fs) == {"indeterminate"}
	msg := _messages(fs)
	contains(msg, "Get-MailContact failed")
	contains(msg, "throttled")
}

test_indeterminate_no_atera_section if {
	inp := json.patch(_base, [{"op": "remove", "path": "/snapshot/atera"}])
	fs := ticketing_contact.findings with input as inp
	_statuses(fs) == {"indeterminate"}
	contains(_messages(fs), "atera.ticketing_address is not declared")
}

test_indeterminate_ticketing_address_blank if {
	inp := json.patch(_base, [{"op": "replace", "path": "/snapshot/atera/ticketing_address", "value": "  "}])
	fs := ticketing_contact.findings with input as inp
	_statuses(fs) == {"indeterminate"}
}

test_indeterminate_both_missing_reports_both if {
	inp := json.patch(_base, [
		{"op": "remove", "path": "/snapshot/atera"},
		{"op": "remove", "path": "/snapshot/exchange/Get-MailContact"},
	])
	fs := ticketing_contact.findings with input as inp
	_statuses(fs) == {"indeterminate"}
	count(fs) == 2
}
