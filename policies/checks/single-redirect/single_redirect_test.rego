package ticketguard.checks.single_redirect_test

import data.ticketguard.checks.single_redirect

# ---------------------------------------------------------------------------
# Fixtures: method 2, the support mailbox forwards straight to the contact
# (one hop) and has no inbox rules that forward.

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Alias": "AteraTicketing",
	"Identity": "Atera Ticketing",
	"Guid": "0b3f6a52-6d1e-4c8a-9d37-2f1c5e8a7b10",
	"ExternalDirectoryObjectId": "7e9d1c44-0f2a-4b6e-8c3d-5a1b2c3d4e5f",
	"DistinguishedName": "CN=AteraTicketing,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM",
	"ExternalEmailAddress": "SMTP:acme@ticketing.atera.com",
	"PrimarySmtpAddress": "acme@ticketing.atera.com",
	"EmailAddresses": ["SMTP:acme@ticketing.atera.com"],
}

_support_mailbox := {
	"Name": "Support",
	"DisplayName": "Support",
	"Alias": "support",
	"Identity": "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
	"ExternalDirectoryObjectId": "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
	"Guid": "c6b5a4f3-e2d1-4c0b-9a8f-7e6d5c4b3a21",
	"ExchangeObjectId": "91a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
	"DistinguishedName": "CN=support,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM",
	"LegacyExchangeDN": "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=3f2a9c1e8b7d4e6fa5c41d2e3f4a5b6c-support",
	"PrimarySmtpAddress": "support@acme.com",
	"EmailAddresses": ["SMTP:support@acme.com", "smtp:support@acme.onmicrosoft.com"],
	"ForwardingAddress": "CN=AteraTicketing,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM",
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": true,
}

_helpdesk_mailbox := {
	"Name": "Helpdesk",
	"DisplayName": "Helpdesk",
	"Alias": "helpdesk",
	"Identity": "helpdesk",
	"ExternalDirectoryObjectId": "8d7c6b5a-4f3e-4d2c-b1a0-9f8e7d6c5b4a",
	"Guid": "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9",
	"LegacyExchangeDN": "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=8d7c6b5a4f3e4d2cb1a09f8e7d6c5b4a-helpdesk",
	"PrimarySmtpAddress": "helpdesk@acme.com",
	"EmailAddresses": ["SMTP:helpdesk@acme.com"],
	"ForwardingAddress": null,
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": false,
}

_alice_mailbox := {
	"Name": "Alice Martin",
	"DisplayName": "Alice Martin",
	"Alias": "alice",
	"Identity": "alice",
	"ExternalDirectoryObjectId": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
	"Guid": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
	"PrimarySmtpAddress": "alice@acme.com",
	"EmailAddresses": ["SMTP:alice@acme.com"],
	"ForwardingAddress": null,
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": false,
}

_redirect_rule(name, target) := {
	"Name": name,
	"Identity": "helpdesk\\18014398509481985",
	"RuleIdentity": "18014398509481985",
	"Enabled": true,
	"Priority": 1,
	"ForwardTo": null,
	"RedirectTo": [target],
	"ForwardAsAttachmentTo": null,
	"MoveToFolder": null,
}

_move_rule := {
	"Name": "File newsletters",
	"Identity": "support\\9223372036854775809",
	"RuleIdentity": "9223372036854775809",
	"Enabled": true,
	"Priority": 1,
	"ForwardTo": null,
	"RedirectTo": null,
	"ForwardAsAttachmentTo": null,
	"MoveToFolder": "support:\\Newsletters",
}

_base := {
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "support@acme.com",
			"smtp": null,
		},
		"exchange": {
			"Get-Mailbox": [_support_mailbox, _helpdesk_mailbox, _alice_mailbox],
			"Get-DistributionGroup": [],
			"Get-MailContact": [_contact],
			"Get-DistributionGroupMember": {},
			"Get-TransportRule": [],
			"Get-InboxRule": {"support@acme.com": [_move_rule], "helpdesk@acme.com": []},
		},
		"errors": [],
	},
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
}

_patch(ops) := json.patch(_base, ops)

_set(path, value) := _patch([{"op": "replace", "path": path, "value": value}])

_findings(inp) := fs if {
	fs := single_redirect.findings with input as inp
}

_status(fs, s) := {f | some f in fs; f.status == s}

_statuses(fs) := {f.status | some f in fs}

_has(fs, status, parts) if {
	some f in fs
	f.status == status
	every p in parts {
		contains(f.message, p)
	}
}

# Method 1: the support group contains the contact and Alice.
_group_ops := [
	{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": null},
	{"op": "replace", "path": "/snapshot/atera/support_address", "value": "team@acme.com"},
	{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroup", "value": [{
		"Name": "Support team",
		"DisplayName": "Support team",
		"Identity": "Support team",
		"Guid": "aa11bb22-cc33-4d44-8e55-ff6677889900",
		"ExternalDirectoryObjectId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
		"PrimarySmtpAddress": "team@acme.com",
		"EmailAddresses": ["SMTP:team@acme.com"],
		"ManagedBy": ["admin"],
	}]},
	{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroupMember", "value": {"team@acme.com": [
		{
			"Name": "Atera Ticketing",
			"Identity": "Atera Ticketing",
			"ExternalDirectoryObjectId": "7e9d1c44-0f2a-4b6e-8c3d-5a1b2c3d4e5f",
			"PrimarySmtpAddress": "acme@ticketing.atera.com",
			"RecipientType": "MailContact",
		},
		{
			"Name": "Alice Martin",
			"Identity": "alice",
			"ExternalDirectoryObjectId": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
			"PrimarySmtpAddress": "alice@acme.com",
			"RecipientType": "UserMailbox",
		},
	]}},
]

_group_input := _patch(_group_ops)

# ---------------------------------------------------------------------------
# pass

test_pass_mailbox_forwarding_one_hop if {
	fs := _findings(_base)
	_statuses(fs) == {"pass"}
	count(fs) == 1
	_has(fs, "pass", ["single path with 1 redirect hop", "mailbox \"Support\" <support@acme.com>", "contact \"Atera Ticketing\""])
}

# Group membership is not a hop. Alice, a member, receives support mail too,
# so her inbox rules must be known (none forward).
test_pass_group_zero_hops if {
	fs := _findings(json.patch(_group_input, [{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule", "value": {"alice@acme.com": [_move_rule]}}]))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["single path with 0 redirect hops", "group \"Support team\"", "contact \"Atera Ticketing\""])
}

# Group members read through Graph are as good as Get-DistributionGroupMember.
test_pass_group_members_from_graph if {
	inp := json.patch(_group_input, [
		{"op": "remove", "path": "/snapshot/exchange/Get-DistributionGroupMember"},
		{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule", "value": {"alice@acme.com": []}},
		{"op": "add", "path": "/snapshot/graph", "value": {"groupMembers": {"team@acme.com": [
			{
				"@odata.type": "#microsoft.graph.orgContact",
				"id": "7e9d1c44-0f2a-4b6e-8c3d-5a1b2c3d4e5f",
				"displayName": "Atera Ticketing",
				"mail": "acme@ticketing.atera.com",
			},
			{
				"@odata.type": "#microsoft.graph.user",
				"id": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
				"displayName": "Alice Martin",
				"mail": "alice@acme.com",
				"userPrincipalName": "alice@acme.com",
			},
		]}}},
	])
	fs := _findings(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["single path with 0 redirect hops", "group \"Support team\" <team@acme.com> has member contact \"Atera Ticketing\""])
}

# Inbox rules read through Graph are as good as Get-InboxRule.
test_pass_inbox_rules_from_graph if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule", "value": {}},
		{"op": "add", "path": "/snapshot/graph", "value": {"messageRules": {"support@acme.com": [{
			"id": "AQAAAJ5dZqA=",
			"displayName": "File newsletters",
			"sequence": 1,
			"isEnabled": true,
			"hasError": false,
			"actions": {"moveToFolder": "AAMkAGI2", "stopProcessingRules": true},
		}]}}},
	])
	fs := _findings(inp)
	_statuses(fs) == {"pass"}
}

# A forwarding loop (Alice -> group -> Alice) terminates and is not a path.
test_pass_cycle_terminates if {
	inp := json.patch(_group_input, [
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/2/ForwardingAddress", "value": "team@acme.com"},
		{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule", "value": {"support@acme.com": [], "alice@acme.com": []}},
	])
	fs := _findings(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["single path with 0 redirect hops"])
}

# A disabled inbox rule adds no hop.
test_pass_disabled_inbox_rule if {
	rule := object.union(_redirect_rule("Old redirect", "\"Atera Ticketing\" [SMTP:acme@ticketing.atera.com]"), {"Enabled": false})
	inp := _set("/snapshot/exchange/Get-InboxRule/support@acme.com", [rule])
	fs := _findings(inp)
	_statuses(fs) == {"pass"}
}

# The fallback: a transport-rule redirect is not a hop. The check applies to
# every method (it is never not_applicable).
test_pass_transport_rule_redirect_is_not_a_hop if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": null},
		{"op": "replace", "path": "/snapshot/exchange/Get-TransportRule", "value": [{
			"Name": "Support to Atera",
			"Identity": "Support to Atera",
			"Guid": "6b5c4d3e-2f1a-4b0c-9d8e-7f6a5b4c3d2e",
			"Priority": 0,
			"State": "Enabled",
			"Mode": "Enforce",
			"SentTo": ["support@acme.com"],
			"RedirectMessageTo": "Atera Ticketing",
			"BlindCopyTo": null,
			"AddToRecipients": null,
			"CopyTo": null,
		}]},
	])
	fs := _findings(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["single path with 0 redirect hops", "transport rule \"Support to Atera\""])
}

# A rule with a condition may act, so its path counts; the pass says the rule
# is conditional (support-route judges whether it delivers).
test_pass_conditional_transport_rule_path_says_so if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": null},
		{"op": "replace", "path": "/snapshot/exchange/Get-TransportRule", "value": [{
			"Name": "Support to Atera",
			"Priority": 0,
			"State": "Enabled",
			"Mode": "Enforce",
			"SentTo": ["support@acme.com"],
			"SubjectContainsWords": ["ticket"],
			"RedirectMessageTo": "Atera Ticketing",
		}]},
	])
	fs := _findings(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["transport rule \"Support to Atera\"", "the rule acts only under conditions: see the support-route check"])
}

# ---------------------------------------------------------------------------
# fail (a): two hops

# Support forwards to Helpdesk, Helpdesk's inbox rule redirects to Atera.
test_fail_two_hops if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": "helpdesk"},
		{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule/helpdesk@acme.com", "value": [_redirect_rule("To Atera", "\"Atera Ticketing\" [SMTP:acme@ticketing.atera.com]")]},
	])
	fs := _findings(inp)
	_has(fs, "fail", [
		"takes 2 redirect hops",
		"hop 1:",
		"hop 2:",
		"mailbox \"Support\" <support@acme.com>",
		"mailbox \"Helpdesk\" <helpdesk@acme.com>",
		"contact \"Atera Ticketing\"",
		"X-MS-Exchange-Inbox-Rules-Loop",
		"no non-delivery report",
	])
	not "pass" in _statuses(fs)
}

# Support's inbox rule redirects to Helpdesk by LegacyExchangeDN; Helpdesk
# forwards to the ticketing address by ForwardingSmtpAddress.
test_fail_two_hops_inbox_rule_then_smtp_forwarding if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": null},
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/1/ForwardingSmtpAddress", "value": "smtp:acme@ticketing.atera.com"},
		{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule/support@acme.com", "value": [_redirect_rule("To helpdesk", "\"Helpdesk\" [EX:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=8d7c6b5a4f3e4d2cb1a09f8e7d6c5b4a-helpdesk]")]},
	])
	fs := _findings(inp)
	_has(fs, "fail", ["takes 2 redirect hops", "mailbox \"Helpdesk\"", "acme@ticketing.atera.com"])
}

# ---------------------------------------------------------------------------
# fail (b): two paths, two tickets

# A group member mailbox also forwards to Atera.
test_fail_two_paths_group_and_member_forwarding if {
	inp := json.patch(_group_input, [
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/2/ForwardingSmtpAddress", "value": "smtp:acme@ticketing.atera.com"},
		{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule", "value": {"alice@acme.com": []}},
	])
	fs := _findings(inp)
	_has(fs, "fail", ["by 2 distinct paths", "becomes 2 tickets", "path 1:", "path 2:", "mailbox \"Alice Martin\"", "group \"Support team\""])
	count(_status(fs, "fail")) == 1
}

# Mailbox forwarding plus a transport rule that Bccs the contact.
test_fail_two_paths_forwarding_and_transport_rule if {
	inp := _set("/snapshot/exchange/Get-TransportRule", [{
		"Name": "Copy support to Atera",
		"Identity": "Copy support to Atera",
		"Guid": "6b5c4d3e-2f1a-4b0c-9d8e-7f6a5b4c3d2e",
		"Priority": 0,
		"State": "Enabled",
		"Mode": "Enforce",
		"SentTo": ["support@acme.com"],
		"BlindCopyTo": "Atera Ticketing",
		"RedirectMessageTo": null,
		"AddToRecipients": null,
		"CopyTo": null,
	}])
	fs := _findings(inp)
	_has(fs, "fail", ["by 2 distinct paths", "becomes 2 tickets", "mailbox \"Support\""])
}

# ---------------------------------------------------------------------------
# fail (c): mailbox forwarding and a forwarding inbox rule on one mailbox

test_fail_forwarding_and_inbox_redirect_on_same_mailbox if {
	inp := _set("/snapshot/exchange/Get-InboxRule/support@acme.com", [
		_move_rule,
		_redirect_rule("Send to manager", "\"Bob\" [SMTP:bob@contoso.com]"),
	])
	fs := _findings(inp)
	_has(fs, "fail", [
		"mailbox \"Support\" <support@acme.com> has mailbox forwarding",
		"ForwardingAddress",
		"1 enabled inbox rule",
		"overrides an inbox redirect rule",
		"expected behaviour",
	])
	not "pass" in _statuses(fs)
}

# The same rule pointing at Atera also makes a second path.
test_fail_forwarding_and_inbox_redirect_to_ticketing if {
	inp := _set("/snapshot/exchange/Get-InboxRule/support@acme.com", [_redirect_rule("To Atera", "acme@ticketing.atera.com")])
	fs := _findings(inp)
	_has(fs, "fail", ["has mailbox forwarding", "overrides an inbox redirect rule"])
	_has(fs, "fail", ["by 2 distinct paths"])
}

# ---------------------------------------------------------------------------
# indeterminate

test_indeterminate_atera_section_missing if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/atera"}]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera.ticketing_address"])
}

test_indeterminate_inbox_rules_not_collected if {
	fs := _findings(_set("/snapshot/exchange/Get-InboxRule", {"helpdesk@acme.com": []}))
	_has(fs, "indeterminate", ["inbox rules of mailbox \"Support\" <support@acme.com> are unknown", "Get-InboxRule for support@acme.com was not collected"])
	not "fail" in _statuses(fs)
}

test_indeterminate_inbox_rules_errored if {
	inp := _patch([
		{"op": "remove", "path": "/snapshot/exchange/Get-InboxRule"},
		{"op": "replace", "path": "/snapshot/errors", "value": [{"source": "Get-InboxRule", "message": "The operation couldn't be performed because object 'support@acme.com' couldn't be found"}]},
	])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["inbox rules of mailbox \"Support\"", "Get-InboxRule failed", "couldn't be found"])
}

# The rows are there, but the source failed (README: an entry in errors
# marks its source as failed even if data is present).
test_indeterminate_inbox_rules_errored_with_rows_present if {
	fs := _findings(_set("/snapshot/errors", [{"source": "Get-InboxRule", "message": "timeout"}]))
	_has(fs, "indeterminate", ["inbox rules of mailbox \"Support\" <support@acme.com> are unknown", "Get-InboxRule failed: timeout"])
	not "fail" in _statuses(fs)
}

test_indeterminate_group_members_errored_with_rows_present if {
	inp := json.patch(_group_input, [
		{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule", "value": {"alice@acme.com": []}},
		{"op": "replace", "path": "/snapshot/errors", "value": [{"source": "Get-DistributionGroupMember", "message": "partial: 403 for team@acme.com"}]},
	])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["members of group \"Support team\" <team@acme.com> are unknown", "Get-DistributionGroupMember failed: partial: 403"])
	not "pass" in _statuses(fs)
}

# Alice is a member of the support group but on no completed path: an inbox
# rule of hers forwarding to Atera would be a second path (two tickets per
# e-mail), so her unknown rules leave the check undecided.
test_indeterminate_group_member_rules_unknown if {
	fs := _findings(_group_input)
	_has(fs, "indeterminate", [
		"inbox rules of mailbox \"Alice Martin\" <alice@acme.com> are unknown",
		"Get-InboxRule for alice@acme.com was not collected",
	])
	not "fail" in _statuses(fs)
}

# The same for a mailbox reached by forwarding that forwards nowhere further.
test_indeterminate_forwarding_target_rules_unknown if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-TransportRule", "value": [{
			"Name": "Support to Atera",
			"Priority": 0,
			"State": "Enabled",
			"Mode": "Enforce",
			"SentTo": ["support@acme.com"],
			"RedirectMessageTo": "Atera Ticketing",
		}]},
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": "alice"},
	])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["inbox rules of mailbox \"Alice Martin\" <alice@acme.com> are unknown"])
}

# A member at the tenant's own domain that no collected recipient answers to
# (Get-Mailbox filtered to forwarding mailboxes) may be a mailbox with rules.
test_indeterminate_member_at_tenant_domain_not_collected if {
	inp := json.patch(_group_input, [
		{"op": "replace", "path": "/snapshot/exchange/Get-InboxRule", "value": {"alice@acme.com": []}},
		{"op": "add", "path": "/snapshot/exchange/Get-DistributionGroupMember/team@acme.com/-", "value": {
			"Name": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
			"DisplayName": "Nancy Davolio",
			"PrimarySmtpAddress": "nancy@acme.com",
			"RecipientType": "UserMailbox",
		}},
	])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["support mail reaches nancy@acme.com", "tenant's domain acme.com", "no mailbox, distribution group or mail contact in the snapshot has"])
	not "fail" in _statuses(fs)

	# once the collector looked it up and found no mailbox, it is not one
	done := json.patch(inp, [{"op": "add", "path": "/snapshot/collection", "value": {"not_found": {"mailboxes": ["nancy@acme.com"]}}}])
	_statuses(_findings(done)) == {"pass"}
}

# Helpdesk forwards to "Helpdesk team", the display name of two mailboxes.
_twin(name, guid, addr) := {
	"Name": name, "DisplayName": "Helpdesk team", "Guid": guid, "PrimarySmtpAddress": addr,
	"ForwardingAddress": null, "ForwardingSmtpAddress": null,
}

test_indeterminate_ambiguous_forwarding_target if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": "Helpdesk team"},
		{"op": "add", "path": "/snapshot/exchange/Get-Mailbox/-", "value": _twin("hd-1", "5d1c2b3a-0000-4000-8000-000000000001", "hd1@acme.com")},
		{"op": "add", "path": "/snapshot/exchange/Get-Mailbox/-", "value": _twin("hd-2", "5d1c2b3a-0000-4000-8000-000000000002", "hd2@acme.com")},
	])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["ambiguous reference \"helpdesk team\"", "mailbox \"Helpdesk team\" <hd1@acme.com>", "mailbox \"Helpdesk team\" <hd2@acme.com>", "names several recipients equally well"])
	not "fail" in _statuses(fs)
}

test_indeterminate_mailboxes_not_collected if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-Mailbox"}]))
	_has(fs, "indeterminate", ["Get-Mailbox was not collected"])
	not "pass" in _statuses(fs)
}

test_indeterminate_transport_rules_errored if {
	fs := _findings(_set("/snapshot/errors", [{"source": "Get-TransportRule", "message": "Access is denied"}]))
	_has(fs, "indeterminate", ["Get-TransportRule failed: Access is denied"])
}

test_indeterminate_group_members_not_collected if {
	fs := _findings(json.patch(_group_input, [{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroupMember", "value": {}}]))
	_has(fs, "indeterminate", ["members of group \"Support team\"", "Get-DistributionGroupMember for team@acme.com was not collected"])
	not "pass" in _statuses(fs)
}

test_indeterminate_no_path if {
	fs := _findings(_set("/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "helpdesk"))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["no delivery path from support@acme.com to acme@ticketing.atera.com"])
}

test_indeterminate_support_recipient_not_found if {
	fs := _findings(_set("/snapshot/atera/support_address", "help@acme.com"))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["no mailbox, distribution group or mail contact", "help@acme.com"])
}
