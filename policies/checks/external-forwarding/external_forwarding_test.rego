package ticketguard.checks.external_forwarding_test

import data.ticketguard.checks.external_forwarding

# ---------------------------------------------------------------------------
# Fixtures: a tenant using method 2 (mailbox forwarding) with a narrow,
# correct exception, in the raw shapes Exchange Online returns.

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Alias": "AteraTicketing",
	"Identity": "Atera Ticketing",
	"Guid": "0b3f6a52-6d1e-4c8a-9d37-2f1c5e8a7b10",
	"ExchangeObjectId": "0b3f6a52-6d1e-4c8a-9d37-2f1c5e8a7b10",
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
	"PrimarySmtpAddress": "support@acme.com",
	"EmailAddresses": ["SMTP:support@acme.com", "smtp:support@acme.onmicrosoft.com", "SPO:SPO_0f1e2d3c@SPO_4b5a6978"],
	"RecipientTypeDetails": "SharedMailbox",
	"ForwardingAddress": "Atera Ticketing",
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": true,
	"GrantSendOnBehalfTo": [],
}

_default_outbound := {
	"Name": "Default",
	"Identity": "Default",
	"IsDefault": true,
	"AutoForwardingMode": "Off",
}

_custom_outbound := {
	"Name": "Atera ticket forwarding",
	"Identity": "Atera ticket forwarding",
	"IsDefault": false,
	"AutoForwardingMode": "On",
}

_custom_outbound_rule := {
	"Name": "Atera ticket forwarding",
	"Identity": "Atera ticket forwarding",
	"HostedOutboundSpamFilterPolicy": "Atera ticket forwarding",
	"Priority": 0,
	"State": "Enabled",
	"From": ["support@acme.com"],
	"FromMemberOf": null,
	"SenderDomainIs": null,
	"ExceptIfFrom": null,
	"ExceptIfFromMemberOf": null,
	"ExceptIfSenderDomainIs": null,
}

# The CIS-style rule that blocks auto-forwarding to the outside, with the
# exception for the ticketing domain that makes it harmless here.
_block_rule := {
	"Name": "Block external auto-forward",
	"Identity": "Block external auto-forward",
	"Guid": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
	"Priority": 0,
	"State": "Enabled",
	"Mode": "Enforce",
	"MessageTypeMatches": "AutoForward",
	"SentToScope": "NotInOrganization",
	"SentTo": null,
	"RecipientDomainIs": null,
	"ExceptIfRecipientDomainIs": ["ticketing.atera.com"],
	"ExceptIfSentTo": null,
	"RejectMessageReasonText": "External forwarding is not allowed",
	"RejectMessageEnhancedStatusCode": "5.7.1",
	"DeleteMessage": false,
	"RedirectMessageTo": null,
	"BlindCopyTo": null,
	"AddToRecipients": null,
	"CopyTo": null,
}

_base := {
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "Support@Acme.com",
			"smtp": null,
		},
		"exchange": {
			"Get-Mailbox": [_support_mailbox],
			"Get-DistributionGroup": [],
			"Get-MailContact": [_contact],
			"Get-DistributionGroupMember": {},
			"Get-TransportRule": [_block_rule],
			"Get-HostedOutboundSpamFilterPolicy": [_default_outbound, _custom_outbound],
			"Get-HostedOutboundSpamFilterRule": [_custom_outbound_rule],
			"Get-RemoteDomain": [
				{"Name": "Default", "Identity": "Default", "DomainName": "*", "AutoForwardEnabled": false},
				{"Name": "Atera ticketing", "Identity": "Atera ticketing", "DomainName": "ticketing.atera.com", "AutoForwardEnabled": true},
			],
			"Get-InboxRule": {"support@acme.com": []},
		},
		"errors": [],
	},
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
}

_patch(ops) := json.patch(_base, ops)

_set(path, value) := _patch([{"op": "replace", "path": path, "value": value}])

_findings(inp) := fs if {
	fs := external_forwarding.findings with input as inp
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

# Method 1: a distribution group whose address is the support address and
# which contains the contact.
_group_input := _patch([
	{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox", "value": []},
	{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroup", "value": [{
		"Name": "Support",
		"DisplayName": "Support",
		"Alias": "support",
		"Identity": "Support",
		"Guid": "aa11bb22-cc33-4d44-8e55-ff6677889900",
		"ExternalDirectoryObjectId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
		"PrimarySmtpAddress": "support@acme.com",
		"EmailAddresses": ["SMTP:support@acme.com", "smtp:support@acme.onmicrosoft.com"],
		"ManagedBy": ["admin"],
		"RequireSenderAuthenticationEnabled": false,
		"AcceptMessagesOnlyFrom": [],
		"AcceptMessagesOnlyFromDLMembers": [],
		"AcceptMessagesOnlyFromSendersOrMembers": [],
	}]},
	{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroupMember", "value": {"support@acme.com": [{
		"Name": "Atera Ticketing",
		"DisplayName": "Atera Ticketing",
		"Identity": "Atera Ticketing",
		"Guid": "0b3f6a52-6d1e-4c8a-9d37-2f1c5e8a7b10",
		"ExternalDirectoryObjectId": "7e9d1c44-0f2a-4b6e-8c3d-5a1b2c3d4e5f",
		"PrimarySmtpAddress": "acme@ticketing.atera.com",
		"RecipientType": "MailContact",
	}]}},
	{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", "value": "support@acme.com"},
])

# The fallback: no forwarding on the mailbox, a transport rule redirects instead.
_transport_input := _patch([
	{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": null},
	{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", "value": "Off"},
	{"op": "add", "path": "/snapshot/exchange/Get-TransportRule/-", "value": {
		"Name": "Support to Atera",
		"Identity": "Support to Atera",
		"Guid": "6b5c4d3e-2f1a-4b0c-9d8e-7f6a5b4c3d2e",
		"Priority": 1,
		"State": "Enabled",
		"Mode": "Enforce",
		"SentTo": ["support@acme.com"],
		"RedirectMessageTo": "Atera Ticketing",
		"BlindCopyTo": null,
		"AddToRecipients": null,
		"CopyTo": null,
		"MessageTypeMatches": null,
	}},
])

# ---------------------------------------------------------------------------
# pass

test_pass_mailbox_method if {
	fs := _findings(_base)
	_statuses(fs) == {"pass"}
	count(fs) == 3
	_has(fs, "pass", ["Atera ticket forwarding", "selected by rule \"Atera ticket forwarding\"", "AutoForwardingMode = On", "support@acme.com"])
	_has(fs, "pass", ["remote domain \"Atera ticketing\"", "DomainName ticketing.atera.com", "AutoForwardEnabled = true"])
	_has(fs, "pass", ["no transport rule (1 in total)", "rule \"Block external auto-forward\" blocks auto-forwarded mail but leaves the ticketing address out"])
}

test_pass_group_method if {
	fs := _findings(_group_input)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["group \"Support\" <support@acme.com>", "AutoForwardingMode = On"])
}

# "*.atera.com" covers ticketing.atera.com and beats the Default "*" (false).
test_pass_wildcard_remote_domain if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain", [
		{"Name": "Default", "Identity": "Default", "DomainName": "*", "AutoForwardEnabled": false},
		{"Name": "Any com", "DomainName": "*.com", "AutoForwardEnabled": false},
		{"Name": "Atera", "DomainName": "*.atera.com", "AutoForwardEnabled": true},
		{"Name": "Elsewhere", "DomainName": "ticketing.example.com", "AutoForwardEnabled": false},
	]))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["remote domain \"Atera\"", "*.atera.com", "AutoForwardEnabled = true"])
}

# The Default remote domain allows it when nothing more specific exists; a
# string "True" (another serialiser) counts as true.
test_pass_default_remote_domain_allows if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain", [
		{"Name": "Default", "Identity": "Default", "DomainName": "*", "AutoForwardEnabled": "True"},
	]))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["remote domain \"Default\"", "DomainName *"])
}

# Rules that cannot block the forward to ticketing.atera.com.
test_pass_transport_rules_that_cannot_block if {
	rules := [
		object.union(_block_rule, {"Name": "Disabled", "State": "Disabled", "ExceptIfRecipientDomainIs": null}),
		object.union(_block_rule, {"Name": "Audit only", "Mode": "AuditAndNotify", "ExceptIfRecipientDomainIs": null}),
		object.union(_block_rule, {"Name": "Internal only", "SentToScope": "InOrganization", "ExceptIfRecipientDomainIs": null}),
		object.union(_block_rule, {"Name": "Other domain", "RecipientDomainIs": ["gmail.com"], "ExceptIfRecipientDomainIs": null}),
		object.union(_block_rule, {"Name": "Except contact", "ExceptIfSentTo": ["Atera Ticketing"], "ExceptIfRecipientDomainIs": null}),
		object.union(_block_rule, {"Name": "Except parent domain", "ExceptIfRecipientDomainIs": "atera.com"}),
		object.union(_block_rule, {"Name": "Not auto-forward", "MessageTypeMatches": "OOF", "ExceptIfRecipientDomainIs": null}),
		object.union(_block_rule, {"Name": "No action", "RejectMessageReasonText": null, "RejectMessageEnhancedStatusCode": null, "ExceptIfRecipientDomainIs": null}),
	]
	fs := _findings(_set("/snapshot/exchange/Get-TransportRule", rules))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["no transport rule (8 in total)", "\"Except contact\"", "\"Internal only\""])
}

# ---------------------------------------------------------------------------
# fail: part a

test_fail_policy_automatic if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", "Automatic"))
	_has(fs, "fail", [
		"outbound anti-spam policy \"Atera ticket forwarding\"",
		"selected by rule \"Atera ticket forwarding\"",
		"AutoForwardingMode = Automatic",
		"is now the same as Off for all customers",
		"Set-HostedOutboundSpamFilterPolicy",
		"set On",
	])
	count(_status(fs, "fail")) == 1
}

test_fail_policy_off if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", "Off"))
	_has(fs, "fail", ["AutoForwardingMode = Off", "550 5.7.520", "AS(7555)", "Atera ticket forwarding"])
}

# The rule names someone else: the default policy applies.
test_fail_default_policy_no_rule_matched if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", "value": ["ceo@acme.com"]},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode", "value": "Automatic"},
	])
	fs := _findings(inp)
	_has(fs, "fail", ["outbound anti-spam policy \"Default\"", "the default policy, no rule matched", "AutoForwardingMode = Automatic"])
}

# A disabled rule does not select its policy.
test_fail_disabled_rule_leaves_default_off if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/State", "Disabled"))
	_has(fs, "fail", ["\"Default\"", "no rule matched", "AutoForwardingMode = Off", "5.7.520"])
}

# Case does not matter: "on" is On.
test_pass_policy_mode_lower_case if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", " on "))
	_has(fs, "pass", ["AutoForwardingMode =  on ", "automatic forwarding to external recipients is enabled"])
}

# ---------------------------------------------------------------------------
# fail: part b

# A block anywhere wins: the policy is On, the remote domain still blocks.
test_fail_remote_domain_blocks if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain/1/AutoForwardEnabled", false))
	_has(fs, "fail", ["remote domain \"Atera ticketing\"", "DomainName ticketing.atera.com", "AutoForwardEnabled = false", "whatever the outbound anti-spam policy says"])
	_has(fs, "pass", ["AutoForwardingMode = On"])
	count(_status(fs, "fail")) == 1
}

test_fail_default_remote_domain_blocks if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain", [
		{"Name": "Default", "Identity": "Default", "DomainName": "*", "AutoForwardEnabled": false},
		{"Name": "Contoso", "DomainName": "contoso.com", "AutoForwardEnabled": true},
	]))
	_has(fs, "fail", ["remote domain \"Default\"", "DomainName *", "AutoForwardEnabled = false"])
}

# The exact domain beats a wildcard that would allow it.
test_fail_exact_remote_domain_beats_wildcard if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain", [
		{"Name": "Default", "DomainName": "*", "AutoForwardEnabled": true},
		{"Name": "Atera all", "DomainName": "*.atera.com", "AutoForwardEnabled": true},
		{"Name": "Atera ticketing", "DomainName": "Ticketing.Atera.com", "AutoForwardEnabled": false},
	]))
	_has(fs, "fail", ["remote domain \"Atera ticketing\"", "AutoForwardEnabled = false"])
	not _has(fs, "pass", ["remote domain"])
}

# The longer wildcard beats the shorter one.
test_fail_longest_wildcard_wins if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain", [
		{"Name": "Default", "DomainName": "*", "AutoForwardEnabled": true},
		{"Name": "Atera all", "DomainName": "*.atera.com", "AutoForwardEnabled": true},
		{"Name": "Atera ticketing all", "DomainName": "*.ticketing.atera.com", "AutoForwardEnabled": false},
	]))
	_has(fs, "fail", ["remote domain \"Atera ticketing all\"", "*.ticketing.atera.com", "AutoForwardEnabled = false"])
}

# ---------------------------------------------------------------------------
# fail: part c

test_fail_transport_rule_rejects if {
	fs := _findings(_set("/snapshot/exchange/Get-TransportRule/0/ExceptIfRecipientDomainIs", null))
	_has(fs, "fail", [
		"transport rule \"Block external auto-forward\"",
		"Priority 0",
		"MessageTypeMatches = AutoForward",
		"RejectMessageEnhancedStatusCode 5.7.1",
		"External forwarding is not allowed",
		"whatever the outbound anti-spam policy says",
	])
	_has(fs, "pass", ["AutoForwardingMode = On"])
}

test_fail_transport_rule_deletes if {
	rule := object.union(_block_rule, {
		"Name": "Drop forwards",
		"Priority": 3,
		"MessageTypeMatches": ["AutoForward"],
		"RejectMessageReasonText": null,
		"RejectMessageEnhancedStatusCode": null,
		"DeleteMessage": true,
		"ExceptIfRecipientDomainIs": null,
		"SentToScope": null,
	})
	fs := _findings(_set("/snapshot/exchange/Get-TransportRule", [rule]))
	_has(fs, "fail", ["transport rule \"Drop forwards\"", "Priority 3", "deletes it (DeleteMessage = true)"])
}

# SentTo naming the contact by display name (resolved, not string-compared).
test_fail_transport_rule_sent_to_contact if {
	rule := object.union(_block_rule, {
		"Name": "No forwards to Atera",
		"SentTo": ["Atera Ticketing"],
		"ExceptIfRecipientDomainIs": null,
	})
	fs := _findings(_set("/snapshot/exchange/Get-TransportRule", [rule]))
	_has(fs, "fail", ["transport rule \"No forwards to Atera\""])
}

# ---------------------------------------------------------------------------
# indeterminate

test_indeterminate_atera_section_missing if {
	inp := json.patch(_base, [{"op": "remove", "path": "/snapshot/atera"}])
	fs := _findings(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera.ticketing_address"])
}

test_indeterminate_support_address_missing if {
	inp := json.patch(_base, [{"op": "remove", "path": "/snapshot/atera/support_address"}])
	fs := _findings(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera.support_address"])
}

test_indeterminate_remote_domain_not_collected if {
	inp := json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-RemoteDomain"}])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["Get-RemoteDomain was not collected"])
	not "fail" in _statuses(fs)
}

# A definite failure is still reported next to the indeterminate part.
test_indeterminate_transport_rule_errored_with_policy_fail if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/errors", "value": [{"source": "Get-TransportRule", "message": "The operation couldn't be performed because of throttling"}]},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", "value": "Off"},
	])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["Get-TransportRule failed", "throttling"])
	_has(fs, "fail", ["AutoForwardingMode = Off"])
}

test_indeterminate_outbound_rules_not_collected if {
	inp := json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule"}])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["cannot tell which outbound anti-spam policy applies to", "support@acme.com", "Get-HostedOutboundSpamFilterRule"])
	not _has(fs, "pass", ["AutoForwardingMode"])
}

test_indeterminate_policy_without_mode if {
	inp := json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode"}])
	fs := _findings(inp)
	_has(fs, "indeterminate", ["\"Atera ticket forwarding\"", "AutoForwardingMode = null", "not On, Off or Automatic"])
	not _has(fs, "pass", ["AutoForwardingMode"])
}

# A value the cmdlet never returns is not a setting: neither pass nor fail.
test_indeterminate_policy_unreadable_mode if {
	every v in ["Sometimes", "", 123, {}, [], [{}], true, false, "True", null] {
		fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", v))
		_has(fs, "indeterminate", ["\"Atera ticket forwarding\"", sprintf("AutoForwardingMode = %s", [json.marshal(v)]), "not On, Off or Automatic"])
		not _has(fs, "pass", ["AutoForwardingMode"])
		not _has(fs, "fail", ["AutoForwardingMode"])
	}
}

# The lib's decision is unknown when the selecting rule has a condition of a
# type the cmdlet never returns (here From = 123): never read as "no condition".
test_indeterminate_rule_condition_unreadable if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", 123))
	_has(fs, "indeterminate", ["cannot tell which outbound anti-spam policy applies to", "From = 123", "not a list of names"])
	not _has(fs, "pass", ["AutoForwardingMode"])
}

test_indeterminate_remote_domain_value_null if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain/1/AutoForwardEnabled", null))
	_has(fs, "indeterminate", ["remote domain \"Atera ticketing\"", "AutoForwardEnabled is null"])
}

test_indeterminate_no_matching_remote_domain if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain", [{"Name": "Contoso", "DomainName": "contoso.com", "AutoForwardEnabled": true}]))
	_has(fs, "indeterminate", ["no remote domain matching ticketing.atera.com", "Default (*)"])
}

test_indeterminate_route_sources_missing if {
	inp := json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-Mailbox"}])
	fs := _findings(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["Get-Mailbox was not collected"])
}

test_indeterminate_no_route if {
	fs := _findings(_set("/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", null))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["no route from support@acme.com to acme@ticketing.atera.com"])
}

# ---------------------------------------------------------------------------
# not applicable

test_not_applicable_transport_rule_route if {
	fs := _findings(_transport_input)
	_statuses(fs) == {"not_applicable"}
	_has(fs, "not_applicable", ["transport-rule fallback", "not subject to the outbound anti-spam policy"])
}
