package ticketguard.checks.forwarding_keeps_copy_test

import data.ticketguard.checks.forwarding_keeps_copy

# ---------------------------------------------------------------------------
# Fixtures: one recent tenant, raw Exchange shapes (GUID identities, SMTP:/smtp:
# prefixes, null rule conditions, bare strings where arrays are usual).

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

_jane := {
	"Name": "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
	"DisplayName": "Jane Doe",
	"Alias": "jane.doe",
	"Identity": "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
	"ExternalDirectoryObjectId": "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
	"Guid": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
	"ExchangeObjectId": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
	"DistinguishedName": "CN=d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR05A003,DC=PROD,DC=OUTLOOK,DC=COM",
	"PrimarySmtpAddress": "jane.doe@acme.com",
	"EmailAddresses": ["SMTP:jane.doe@acme.com", "smtp:jane.doe@acme.onmicrosoft.com", "SIP:jane.doe@acme.com"],
	"RecipientTypeDetails": "UserMailbox",
	"ForwardingAddress": null,
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": false,
}

_group := {
	"Name": "Support",
	"DisplayName": "Support",
	"Alias": "support",
	"Identity": "Support",
	"DistinguishedName": "CN=Support,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR05A003,DC=PROD,DC=OUTLOOK,DC=COM",
	"Guid": "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f",
	"ExchangeObjectId": "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f",
	"ExternalDirectoryObjectId": "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9",
	"PrimarySmtpAddress": "support@acme.com",
	"EmailAddresses": ["SMTP:support@acme.com", "smtp:support@acme.onmicrosoft.com"],
	"RecipientTypeDetails": "MailUniversalDistributionGroup",
	"RequireSenderAuthenticationEnabled": false,
	"AcceptMessagesOnlyFrom": [],
	"AcceptMessagesOnlyFromDLMembers": [],
	"AcceptMessagesOnlyFromSendersOrMembers": [],
	"ManagedBy": ["d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a"],
}

# Get-DistributionGroupMember rows (ReducedRecipient).
_contact_row := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Identity": "Atera Ticketing",
	"Guid": "5b0c3f4e-1d2a-4c7b-9e8f-0a1b2c3d4e5f",
	"ExternalDirectoryObjectId": "c1d2e3f4-a5b6-4789-8abc-def012345678",
	"PrimarySmtpAddress": "acme@ticketing.atera.com",
	"ExternalEmailAddress": "SMTP:acme@ticketing.atera.com",
	"RecipientType": "MailContact",
}

_jane_row := {
	"Name": "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
	"DisplayName": "Jane Doe",
	"Identity": "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
	"Guid": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
	"ExternalDirectoryObjectId": "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
	"PrimarySmtpAddress": "jane.doe@acme.com",
	"ExternalEmailAddress": null,
	"RecipientType": "UserMailbox",
}

# The support address as a shared mailbox (method 2 and the fallback).
_support_mbx := {
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
	"ForwardingAddress": "Atera Ticketing",
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": true,
}

_rule := {
	"Name": "Support to Atera",
	"Identity": "Support to Atera",
	"Guid": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
	"Priority": 0,
	"State": "Enabled",
	"Mode": "Enforce",
	"SentTo": ["support@acme.com"],
	"SentToMemberOf": null,
	"RedirectMessageTo": "Atera Ticketing",
	"BlindCopyTo": null,
	"CopyTo": null,
	"AddToRecipients": null,
}

_input(exchange) := {
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "support@acme.com",
			"smtp": null,
		},
		"exchange": exchange,
		"errors": [],
	},
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
}

# Method 1: the support address is a distribution group containing the contact.
_group_exchange := {
	"Get-Mailbox": [_jane],
	"Get-DistributionGroup": [_group],
	"Get-MailContact": [_contact],
	"Get-DistributionGroupMember": {"support@acme.com": [_jane_row, _contact_row]},
	"Get-TransportRule": [],
}

_group_input := _input(_group_exchange)

# Method 2: the support address is a shared mailbox forwarding to the contact.
_mailbox_exchange := {
	"Get-Mailbox": [_jane, _support_mbx],
	"Get-DistributionGroup": [],
	"Get-MailContact": [_contact],
	"Get-DistributionGroupMember": {},
	"Get-TransportRule": [],
}

_mailbox_input := _input(_mailbox_exchange)

_support_no_forward := object.union(_support_mbx, {"ForwardingAddress": null, "DeliverToMailboxAndForward": false})

# Fallback: a mailbox that does not forward, and a rule redirecting its mail.
_rule_input := _input(object.union(_mailbox_exchange, {
	"Get-Mailbox": [_jane, _support_no_forward],
	"Get-TransportRule": [_rule],
}))

_set(inp, path, value) := json.patch(inp, [{"op": "add", "path": path, "value": value}])

_drop(inp, path) := json.patch(inp, [{"op": "remove", "path": path}])

_error(inp, source, text) := _set(inp, "/snapshot/errors", [{"source": source, "message": text}])

_statuses(fs) := {f.status | some f in fs}

_messages(fs) := concat("\n", [f.message | some f in fs])

_only(fs, status, resource) if {
	_statuses(fs) == {status}
	every f in fs {
		f.resource == resource
	}
}

_with_support(props) := _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, object.union(_support_mbx, props)])

# ---------------------------------------------------------------------------
# pass

test_pass_keeps_copy if {
	fs := forwarding_keeps_copy.findings with input as _mailbox_input
	_only(fs, "pass", "mailbox:support@acme.com")
	count(fs) == 1
	msg := _messages(fs)
	contains(msg, `mailbox "Support" <support@acme.com>`)
	contains(msg, "DeliverToMailboxAndForward = true")
}

test_pass_forwarding_smtp_address_keeps_copy if {
	fs := forwarding_keeps_copy.findings with input as _with_support({"ForwardingAddress": null, "ForwardingSmtpAddress": "smtp:acme@ticketing.atera.com"})
	_only(fs, "pass", "mailbox:support@acme.com")
}

test_pass_boolean_serialised_as_string if {
	fs := forwarding_keeps_copy.findings with input as _with_support({"DeliverToMailboxAndForward": "True"})
	_only(fs, "pass", "mailbox:support@acme.com")
}

# ---------------------------------------------------------------------------
# fail

test_fail_no_copy if {
	fs := forwarding_keeps_copy.findings with input as _with_support({"DeliverToMailboxAndForward": false})
	_only(fs, "fail", "mailbox:support@acme.com")
	msg := _messages(fs)
	contains(msg, `mailbox "Support" <support@acme.com>`)
	contains(msg, "DeliverToMailboxAndForward = false")
	contains(msg, "bounces")
}

# null is the unset default, false.
test_fail_copy_flag_null if {
	fs := forwarding_keeps_copy.findings with input as _with_support({"DeliverToMailboxAndForward": null})
	_only(fs, "fail", "mailbox:support@acme.com")
	contains(_messages(fs), "DeliverToMailboxAndForward = null")
}

# ---------------------------------------------------------------------------
# not applicable

test_not_applicable_distribution_group if {
	fs := forwarding_keeps_copy.findings with input as _group_input
	_only(fs, "not_applicable", "recipient:support@acme.com")
	contains(_messages(fs), "method 1 (distribution group)")
}

# The fallback mailbox does not forward: its copy flag is irrelevant.
test_not_applicable_transport_rule if {
	fs := forwarding_keeps_copy.findings with input as _rule_input
	_only(fs, "not_applicable", "recipient:support@acme.com")
	contains(_messages(fs), "fallback (transport rule)")
}

# ---------------------------------------------------------------------------
# indeterminate

test_indeterminate_copy_flag_absent if {
	mbx := object.remove(_support_mbx, ["DeliverToMailboxAndForward"])
	fs := forwarding_keeps_copy.findings with input as _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	_only(fs, "indeterminate", "mailbox:support@acme.com")
	contains(_messages(fs), "no DeliverToMailboxAndForward property")
}

test_indeterminate_no_route if {
	fs := forwarding_keeps_copy.findings with input as _with_support({"ForwardingAddress": "Jane Doe"})
	_only(fs, "indeterminate", "recipient:support@acme.com")
	msg := _messages(fs)
	contains(msg, "no route from the support address support@acme.com")
	contains(msg, "mailbox forwarding")
}

test_indeterminate_transport_rules_not_collected_without_route if {
	inp := _drop(_with_support({"ForwardingAddress": null}), "/snapshot/exchange/Get-TransportRule")
	fs := forwarding_keeps_copy.findings with input as inp
	_only(fs, "indeterminate", "recipient:support@acme.com")
	contains(_messages(fs), "Get-TransportRule was not collected")
}

test_indeterminate_mailboxes_errored if {
	fs := forwarding_keeps_copy.findings with input as _error(_mailbox_input, "Get-Mailbox", "Expired or Invalid pagination request")
	_only(fs, "indeterminate", "mailbox:support@acme.com")
	msg := _messages(fs)
	contains(msg, "Get-Mailbox failed")
	contains(msg, "Expired or Invalid pagination request")
}

test_indeterminate_mailboxes_not_collected if {
	fs := forwarding_keeps_copy.findings with input as _drop(_mailbox_input, "/snapshot/exchange/Get-Mailbox")
	_only(fs, "indeterminate", "recipient:support@acme.com")
	contains(_messages(fs), "Get-Mailbox was not collected")
}

test_indeterminate_no_atera_section if {
	fs := forwarding_keeps_copy.findings with input as _drop(_mailbox_input, "/snapshot/atera")
	_statuses(fs) == {"indeterminate"}
	contains(_messages(fs), "atera.support_address and atera.ticketing_address are not declared")
}
