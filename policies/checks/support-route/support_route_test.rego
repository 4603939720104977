package ticketguard.checks.support_route_test

import data.ticketguard.checks.support_route

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

_only(fs, status) if {
	_statuses(fs) == {status}
	every f in fs {
		f.resource == "recipient:support@acme.com"
	}
}

# ---------------------------------------------------------------------------
# pass

test_pass_method_1_group_contains_contact if {
	fs := support_route.findings with input as _group_input
	_only(fs, "pass")
	count(fs) == 1
	msg := _messages(fs)
	contains(msg, "method 1 (distribution group)")
	contains(msg, `group "Support" <support@acme.com>`)
	contains(msg, `contact "Atera Ticketing" <acme@ticketing.atera.com>`)
}

# Member rows carry a GUID where the name was expected; resolution must not
# depend on one written form.
# Graph directoryObjects (GET /groups/{id}/members), as `ticketguard collect`
# records them when Get-DistributionGroupMember was not read.
_graph_contact_member := {
	"@odata.type": "#microsoft.graph.orgContact",
	"id": "c1d2e3f4-a5b6-4789-8abc-def012345678",
	"displayName": "Atera Ticketing",
	"mail": "acme@ticketing.atera.com",
	"proxyAddresses": ["SMTP:acme@ticketing.atera.com"],
}

_graph_jane_member := {
	"@odata.type": "#microsoft.graph.user",
	"id": "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
	"displayName": "Jane Doe",
	"mail": "jane.doe@acme.com",
	"userPrincipalName": "jane.doe@acme.com",
}

_graph_members_input(members) := json.patch(_group_input, [
	{"op": "remove", "path": "/snapshot/exchange/Get-DistributionGroupMember"},
	{"op": "add", "path": "/snapshot/graph", "value": {"groupMembers": {"support@acme.com": members}}},
])

test_pass_method_1_members_from_graph_only if {
	fs := support_route.findings with input as _graph_members_input([_graph_jane_member, _graph_contact_member])
	_only(fs, "pass")
	contains(_messages(fs), `has member contact "Atera Ticketing" <acme@ticketing.atera.com>`)
}

# Graph's list without the contact is as conclusive as Exchange's.
test_fail_group_without_contact_members_from_graph_only if {
	fs := support_route.findings with input as _graph_members_input([_graph_jane_member])
	_only(fs, "fail")
	contains(_messages(fs), `mailbox "Jane Doe" <jane.doe@acme.com>`)
}

test_indeterminate_group_members_graph_errored if {
	inp := _error(_graph_members_input([_graph_jane_member]), "graph:groupMembers", "403 Forbidden: GroupMember.Read.All is missing")
	fs := support_route.findings with input as inp
	_only(fs, "indeterminate")
	contains(_messages(fs), "graph.groupMembers failed: 403 Forbidden")
}

test_pass_method_1_member_row_with_ids_only if {
	row := {"Name": "c1d2e3f4-a5b6-4789-8abc-def012345678", "Guid": "5b0c3f4e-1d2a-4c7b-9e8f-0a1b2c3d4e5f", "RecipientType": "MailContact"}
	inp := _set(_group_input, "/snapshot/exchange/Get-DistributionGroupMember/support@acme.com", [_jane_row, row])
	fs := support_route.findings with input as inp
	_only(fs, "pass")
}

# The support address is a secondary proxy; member lists are keyed by the
# group's primary address.
test_pass_method_1_support_address_is_secondary_proxy if {
	g := object.union(_group, {
		"PrimarySmtpAddress": "helpdesk@acme.com",
		"EmailAddresses": ["SMTP:helpdesk@acme.com", "smtp:Support@acme.com"],
	})
	inp := _input(object.union(_group_exchange, {
		"Get-DistributionGroup": [g],
		"Get-DistributionGroupMember": {"helpdesk@acme.com": [_contact_row]},
	}))
	fs := support_route.findings with input as inp
	_only(fs, "pass")
	contains(_messages(fs), "helpdesk@acme.com")
}

# A found group route does not need the transport rules.
test_pass_method_1_without_transport_rules if {
	fs := support_route.findings with input as _drop(_group_input, "/snapshot/exchange/Get-TransportRule")
	_only(fs, "pass")
}

test_pass_method_2_forwarding_address if {
	fs := support_route.findings with input as _mailbox_input
	_only(fs, "pass")
	msg := _messages(fs)
	contains(msg, "method 2 (mailbox forwarding)")
	contains(msg, `mailbox "Support" <support@acme.com>`)
}

# ForwardingAddress written as the contact's DistinguishedName.
test_pass_method_2_forwarding_address_as_dn if {
	mbx := object.union(_support_mbx, {"ForwardingAddress": _contact.DistinguishedName})
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	fs := support_route.findings with input as inp
	_only(fs, "pass")
}

test_pass_method_2_forwarding_smtp_address if {
	mbx := object.union(_support_mbx, {"ForwardingAddress": null, "ForwardingSmtpAddress": "smtp:ACME@ticketing.atera.com"})
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	fs := support_route.findings with input as inp
	_only(fs, "pass")
	contains(_messages(fs), "method 2 (mailbox forwarding)")
}

test_pass_method_2_with_transport_rules_errored if {
	fs := support_route.findings with input as _error(_mailbox_input, "Get-TransportRule", "Access denied")
	_only(fs, "pass")
}

test_pass_fallback_transport_rule if {
	fs := support_route.findings with input as _rule_input
	_only(fs, "pass")
	msg := _messages(fs)
	contains(msg, "fallback (transport rule)")
	contains(msg, "Support to Atera")
}

# SentTo names the mailbox by its GUID Name; RedirectMessageTo is an array.
test_pass_fallback_rule_referring_by_name if {
	r := object.union(_rule, {"SentTo": ["b8e1c4a2-3f5d-4e6a-9b7c-1d2e3f4a5b6c"], "RedirectMessageTo": ["Atera Ticketing"]})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "pass")
}

# A rule route decides even when the group's members were not read.
test_pass_fallback_when_group_members_missing if {
	inp := _input(object.union(_group_exchange, {
		"Get-DistributionGroupMember": {},
		"Get-TransportRule": [object.union(_rule, {"SentTo": ["Support"]})],
	}))
	fs := support_route.findings with input as inp
	_only(fs, "pass")
	contains(_messages(fs), "fallback (transport rule)")
}

# ---------------------------------------------------------------------------
# fail: who holds the support address

test_fail_no_recipient_has_support_address if {
	inp := _set(_group_input, "/snapshot/exchange/Get-DistributionGroup", [])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	contains(_messages(fs), "no mailbox, distribution group or mail contact has the support address support@acme.com")
}

test_fail_no_recipient_even_with_transport_rule if {
	inp := _set(_rule_input, "/snapshot/exchange/Get-Mailbox", [_jane])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, "no mailbox, distribution group or mail contact")
	contains(msg, "Support to Atera")
}

test_fail_two_recipients_claim_support_address if {
	mbx := object.union(_support_no_forward, {
		"PrimarySmtpAddress": "support-old@acme.com",
		"EmailAddresses": ["SMTP:support-old@acme.com", "smtp:SUPPORT@acme.com"],
	})
	inp := _set(_group_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, "more than one recipient")
	contains(msg, `group "Support" <support@acme.com>`)
	contains(msg, `mailbox "Support" <support-old@acme.com>`)
}

# ---------------------------------------------------------------------------
# fail: the recipient does not reach the contact

test_fail_group_without_contact_lists_members if {
	inp := _set(_group_input, "/snapshot/exchange/Get-DistributionGroupMember/support@acme.com", [_jane_row])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `group "Support" <support@acme.com> does not contain the ticketing contact`)
	contains(msg, `mailbox "Jane Doe" <jane.doe@acme.com>`)
	not contains(msg, "see ticketing-contact")
	not contains(msg, "nested")
}

# Member list keyed by a secondary address of the group (the collector asked
# with the support address): it is still that group's list.
test_fail_group_members_keyed_by_secondary_address if {
	g := object.union(_group, {
		"PrimarySmtpAddress": "helpdesk@acme.com",
		"EmailAddresses": ["SMTP:helpdesk@acme.com", "smtp:support@acme.com"],
	})
	inp := _input(object.union(_group_exchange, {
		"Get-DistributionGroup": [g],
		"Get-DistributionGroupMember": {"support@acme.com": [_jane_row]},
	}))
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	contains(_messages(fs), `group "Support" <helpdesk@acme.com> does not contain the ticketing contact`)
}

test_fail_group_with_nested_group_says_nested_groups_are_not_followed if {
	staff := {
		"Name": "All Staff",
		"DisplayName": "All Staff",
		"Identity": "All Staff",
		"Guid": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a",
		"ExternalDirectoryObjectId": "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
		"PrimarySmtpAddress": "staff@acme.com",
		"EmailAddresses": ["SMTP:staff@acme.com"],
	}
	staff_row := {"Name": "All Staff", "Guid": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a", "PrimarySmtpAddress": "staff@acme.com", "RecipientType": "MailUniversalDistributionGroup"}
	inp := _input(object.union(_group_exchange, {
		"Get-DistributionGroup": [_group, staff],
		"Get-DistributionGroupMember": {"support@acme.com": [staff_row]},
	}))
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `group "All Staff" <staff@acme.com>`)
	contains(msg, "nested groups are not followed")
}

test_fail_group_without_members if {
	inp := _set(_group_input, "/snapshot/exchange/Get-DistributionGroupMember/support@acme.com", [])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	contains(_messages(fs), "its members: none")
}

# The member row is a contact with a typo: the group reaches it, but it is
# not the ticketing contact; the message shows where it points.
test_fail_group_contains_mistyped_contact if {
	typo := object.union(_contact, {"ExternalEmailAddress": "SMTP:acme@ticketing.atera.co", "PrimarySmtpAddress": "acme@ticketing.atera.co", "EmailAddresses": ["SMTP:acme@ticketing.atera.co"]})
	row := object.union(_contact_row, {"PrimarySmtpAddress": "acme@ticketing.atera.co", "ExternalEmailAddress": "SMTP:acme@ticketing.atera.co"})
	inp := _input(object.union(_group_exchange, {
		"Get-MailContact": [typo],
		"Get-DistributionGroupMember": {"support@acme.com": [row]},
	}))
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, "acme@ticketing.atera.co>")
	contains(msg, "see ticketing-contact")
}

test_fail_mailbox_forwards_nowhere if {
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, _support_no_forward])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	contains(_messages(fs), `mailbox "Support" <support@acme.com> forwards nowhere`)
}

test_fail_mailbox_forwards_to_other_recipient if {
	mbx := object.union(_support_mbx, {"ForwardingAddress": "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a"})
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `ForwardingAddress = "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a"`)
	contains(msg, `mailbox "Jane Doe" <jane.doe@acme.com>`)
}

test_fail_mailbox_forwards_to_unknown_recipient if {
	mbx := object.union(_support_mbx, {"ForwardingAddress": "Atera Ticketing (old)"})
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `"Atera Ticketing (old)"`)
	contains(msg, "matches no recipient")
}

test_fail_mailbox_forwarding_smtp_to_other_address if {
	mbx := object.union(_support_mbx, {"ForwardingAddress": null, "ForwardingSmtpAddress": "smtp:acme@ticketing.atera.co"})
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	contains(_messages(fs), `ForwardingSmtpAddress = "smtp:acme@ticketing.atera.co"`)
}

# ---------------------------------------------------------------------------
# The route ends at a contact that refuses customers' mail.

test_fail_ticketing_contact_requires_authenticated_senders if {
	c := object.union(_contact, {"RequireSenderAuthenticationEnabled": true, "AcceptMessagesOnlyFrom": ["jane.doe"]})
	every inp in [_group_input, _mailbox_input, _rule_input] {
		fs := support_route.findings with input as _set(inp, "/snapshot/exchange/Get-MailContact", [c])
		"fail" in _statuses(fs)
		msg := _messages(fs)
		contains(msg, `support mail reaches contact "Atera Ticketing" <acme@ticketing.atera.com>, but it has RequireSenderAuthenticationEnabled = true and AcceptMessagesOnlyFrom = ["jane.doe"]`)
	}
}

test_pass_ticketing_contact_without_restrictions if {
	c := object.union(_contact, {"RequireSenderAuthenticationEnabled": false, "AcceptMessagesOnlyFrom": [], "AcceptMessagesOnlyFromDLMembers": null})
	fs := support_route.findings with input as _set(_group_input, "/snapshot/exchange/Get-MailContact", [c])
	_only(fs, "pass")
}

# ---------------------------------------------------------------------------
# References that name several objects, or none

# The real contact answers to "Atera Ticketing" by its display name only,
# another one by the same display name: which one Exchange forwards to
# cannot be told.
_lookalike := {
	"Name": "Atera Ticketing old",
	"DisplayName": "Atera Ticketing",
	"Guid": "0e0e0e0e-1111-4222-8333-444455556666",
	"ExternalEmailAddress": "SMTP:acme@ticketing.atera.cmo",
	"PrimarySmtpAddress": "acme@ticketing.atera.cmo",
	"RecipientTypeDetails": "MailContact",
}

_renamed_contact := object.union(_contact, {"Name": "Atera Ticketing new", "Identity": "Atera Ticketing new"})

test_indeterminate_forwarding_address_ambiguous if {
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-MailContact", [_renamed_contact, _lookalike])
	fs := support_route.findings with input as inp
	_only(fs, "indeterminate")
	msg := _messages(fs)
	contains(msg, `ForwardingAddress "Atera Ticketing" of mailbox "Support" <support@acme.com> is ambiguous: it matches contact "Atera Ticketing" <acme@ticketing.atera.cmo> and contact "Atera Ticketing" <acme@ticketing.atera.com>`)
}

# ForwardingAddress is written by the target's Name: the contact holding the
# name is the target, however the real ticketing contact is displayed.
test_fail_forwarding_address_names_the_lookalike if {
	lookalike := object.union(_lookalike, {"Name": "Atera Ticketing", "Identity": "Atera Ticketing"})
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-MailContact", [_renamed_contact, lookalike])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `ForwardingAddress = "Atera Ticketing" (contact "Atera Ticketing" <acme@ticketing.atera.cmo>;`)
	contains(msg, `contact "Atera Ticketing" <acme@ticketing.atera.com> also answers to "Atera Ticketing", but only by a lower-ranked name`)
}

# The canonical name Exchange shows for a linked object.
test_pass_method_2_forwarding_address_as_canonical_name if {
	mbx := object.union(_support_mbx, {"ForwardingAddress": "EURPR05A003.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/acme.onmicrosoft.com/Atera Ticketing"})
	fs := support_route.findings with input as _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	_only(fs, "pass")
}

# A reference in a form this check cannot read may name the contact.
test_indeterminate_forwarding_address_unreadable_form if {
	mbx := object.union(_support_mbx, {"ForwardingAddress": "acme.onmicrosoft.com/Users/Atera Ticketing"})
	fs := support_route.findings with input as _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	_only(fs, "indeterminate")
	contains(_messages(fs), `ForwardingAddress "acme.onmicrosoft.com/Users/Atera Ticketing" matches no recipient in the snapshot`)
}

# ForwardingSmtpAddress is ignored while ForwardingAddress is set.
test_fail_forwarding_smtp_ignored_when_forwarding_address_set if {
	mbx := object.union(_support_mbx, {"ForwardingAddress": "Jane Doe", "ForwardingSmtpAddress": "smtp:acme@ticketing.atera.com"})
	inp := _set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, mbx])
	fs := support_route.findings with input as inp
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `ForwardingAddress = "Jane Doe"`)
	contains(msg, "is ignored while ForwardingAddress is set")
}

# ---------------------------------------------------------------------------
# fail: a transport rule that would route but does not run

test_fail_transport_rule_disabled if {
	r := object.union(_rule, {"State": "Disabled"})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `transport rule "Support to Atera"`)
	contains(msg, `State = "Disabled"`)
	contains(msg, "forwards nowhere")
}

test_fail_transport_rule_audit_mode if {
	r := object.union(_rule, {"Mode": "Audit"})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `Mode = "Audit"`)
	not contains(msg, "State =")
}

test_fail_transport_rule_disabled_and_audit_and_notify if {
	r := object.union(_rule, {"State": "Disabled", "Mode": "AuditAndNotify"})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `State = "Disabled"`)
	contains(msg, `Mode = "AuditAndNotify"`)
}

# The rule's activation window, compared with input.now (2026-11-27T06:00Z).
test_fail_transport_rule_expired if {
	r := object.union(_rule, {"ExpiryDate": "2025-01-01T00:00:00.0000000+00:00"})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "fail")
	msg := _messages(fs)
	contains(msg, `transport rule "Support to Atera"`)
	contains(msg, `ExpiryDate = "2025-01-01T00:00:00.0000000+00:00", before the evaluation time 2026-11-27T06:00:00Z (the rule has expired`)
	contains(msg, "forwards nowhere")
}

test_fail_transport_rule_not_yet_active if {
	r := object.union(_rule, {"ActivationDate": "2027-06-01T00:00:00.0000000+00:00"})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "fail")
	contains(_messages(fs), `ActivationDate = "2027-06-01T00:00:00.0000000+00:00", after the evaluation time 2026-11-27T06:00:00Z (the rule does not act yet)`)
}

test_pass_transport_rule_inside_its_window if {
	r := object.union(_rule, {"ActivationDate": "2026-01-01T00:00:00.0000000+00:00", "ExpiryDate": "/Date(1830297600000)/"})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "pass")
}

# Customers write from outside: a rule for internal senders only never
# redirects their mail.
test_fail_transport_rule_internal_senders_only if {
	every over in [{"FromScope": "InOrganization"}, {"ExceptIfFromScope": "NotInOrganization"}] {
		r := object.union(_rule, over)
		fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
		_only(fs, "fail")
		msg := _messages(fs)
		contains(msg, `transport rule "Support to Atera"`)
		contains(msg, "customers writing from outside are never redirected")
		contains(msg, "InOrganization")
	}
}

# Any other condition or exception: some support mail is redirected, some
# not, and which cannot be told from the configuration.
test_indeterminate_transport_rule_with_condition if {
	r := object.union(_rule, {"SubjectContainsWords": ["urgent"]})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "indeterminate")
	msg := _messages(fs)
	contains(msg, `transport rule "Support to Atera"`)
	contains(msg, `SubjectContainsWords = ["urgent"]`)
}

test_indeterminate_transport_rule_with_exception if {
	r := object.union(_rule, {"ExceptIfSenderDomainIs": ["gmail.com"]})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "indeterminate")
	contains(_messages(fs), `ExceptIfSenderDomainIs = ["gmail.com"] (an exception`)
}

# A rule for another address is no near miss: the recipient's problem is reported.
test_fail_unrelated_disabled_rule_is_not_reported if {
	r := object.union(_rule, {"State": "Disabled", "SentTo": ["jane.doe@acme.com"]})
	fs := support_route.findings with input as _set(_rule_input, "/snapshot/exchange/Get-TransportRule", [r])
	_only(fs, "fail")
	msg := _messages(fs)
	not contains(msg, "Support to Atera")
	contains(msg, "forwards nowhere")
}

# ---------------------------------------------------------------------------
# indeterminate

test_indeterminate_mailboxes_not_collected if {
	fs := support_route.findings with input as _drop(_group_input, "/snapshot/exchange/Get-Mailbox")
	_statuses(fs) == {"indeterminate"}
	contains(_messages(fs), "Get-Mailbox was not collected")
}

test_indeterminate_groups_errored if {
	fs := support_route.findings with input as _error(_group_input, "Get-DistributionGroup", "Expired or Invalid pagination request")
	_statuses(fs) == {"indeterminate"}
	msg := _messages(fs)
	contains(msg, "Get-DistributionGroup failed")
	contains(msg, "Expired or Invalid pagination request")
}

test_indeterminate_contacts_null if {
	fs := support_route.findings with input as _set(_group_input, "/snapshot/exchange/Get-MailContact", null)
	_statuses(fs) == {"indeterminate"}
	contains(_messages(fs), "Get-MailContact")
}

test_indeterminate_group_members_entry_missing if {
	inp := _set(_group_input, "/snapshot/exchange/Get-DistributionGroupMember", {"sales@acme.com": [_jane_row]})
	fs := support_route.findings with input as inp
	_only(fs, "indeterminate")
	msg := _messages(fs)
	contains(msg, "Get-DistributionGroupMember for support@acme.com was not collected")
	contains(msg, `group "Support" <support@acme.com>`)
}

# A failed member read may be partial: without the contact in it, nothing can
# be concluded ...
test_indeterminate_group_members_errored if {
	inp := _set(_group_input, "/snapshot/exchange/Get-DistributionGroupMember/support@acme.com", [_jane_row])
	fs := support_route.findings with input as _error(inp, "Get-DistributionGroupMember", "The operation couldn't be performed because object 'Support' couldn't be found")
	_only(fs, "indeterminate")
	msg := _messages(fs)
	contains(msg, "Get-DistributionGroupMember failed")
	contains(msg, "couldn't be found")
}

# ... and neither can a contact found in it: an entry in errors marks the
# source as failed even if data is present (README), so the rows fetched
# before the failure are not read as the group's membership.
test_indeterminate_contact_in_errored_member_list if {
	fs := support_route.findings with input as _error(_group_input, "Get-DistributionGroupMember", "partial: 403 for support@acme.com")
	_only(fs, "indeterminate")
	msg := _messages(fs)
	contains(msg, "Get-DistributionGroupMember failed: partial: 403 for support@acme.com")
	contains(msg, `group "Support" <support@acme.com>`)
}

test_indeterminate_transport_rules_missing_when_no_route if {
	inp := _drop(_set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, _support_no_forward]), "/snapshot/exchange/Get-TransportRule")
	fs := support_route.findings with input as inp
	_only(fs, "indeterminate")
	msg := _messages(fs)
	contains(msg, "Get-TransportRule was not collected")
	contains(msg, "transport-rule fallback cannot be ruled out")
}

test_indeterminate_transport_rules_errored_when_no_route if {
	inp := _error(_set(_mailbox_input, "/snapshot/exchange/Get-Mailbox", [_jane, _support_no_forward]), "Get-TransportRule", "Access denied")
	fs := support_route.findings with input as inp
	_only(fs, "indeterminate")
	contains(_messages(fs), "Get-TransportRule failed: Access denied")
}

test_indeterminate_no_atera_section if {
	fs := support_route.findings with input as _drop(_group_input, "/snapshot/atera")
	_statuses(fs) == {"indeterminate"}
	contains(_messages(fs), "atera.support_address and atera.ticketing_address are not declared")
}

test_indeterminate_support_address_not_declared if {
	fs := support_route.findings with input as _set(_group_input, "/snapshot/atera/support_address", null)
	_statuses(fs) == {"indeterminate"}
	msg := _messages(fs)
	contains(msg, "atera.support_address is not declared")
	not contains(msg, "atera.ticketing_address")
}
