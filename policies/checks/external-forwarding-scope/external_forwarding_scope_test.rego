package ticketguard.checks.external_forwarding_scope_test

import data.ticketguard.checks.external_forwarding_scope

# ---------------------------------------------------------------------------
# Fixtures: method 2 (mailbox forwarding) with the narrowest exception:
# a custom outbound policy for the support mailbox only, the default policy
# Off, and a remote domain of its own for ticketing.atera.com.

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Alias": "AteraTicketing",
	"Identity": "Atera Ticketing",
	"Guid": "0b3f6a52-6d1e-4c8a-9d37-2f1c5e8a7b10",
	"ExternalDirectoryObjectId": "7e9d1c44-0f2a-4b6e-8c3d-5a1b2c3d4e5f",
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
	"EmailAddresses": ["SMTP:support@acme.com", "smtp:support@acme.onmicrosoft.com"],
	"ForwardingAddress": "7e9d1c44-0f2a-4b6e-8c3d-5a1b2c3d4e5f",
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": true,
}

_rule := {
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

_base := {
	"snapshot": {
		"atera": {
			"ticketing_address": "SMTP:acme@ticketing.atera.com",
			"support_address": "support@acme.com",
			"smtp": null,
		},
		"exchange": {
			"Get-Mailbox": [_support_mailbox],
			"Get-DistributionGroup": [],
			"Get-MailContact": [_contact],
			"Get-DistributionGroupMember": {},
			"Get-TransportRule": [],
			"Get-HostedOutboundSpamFilterPolicy": [
				{"Name": "Default", "Identity": "Default", "IsDefault": true, "AutoForwardingMode": "Off"},
				{"Name": "Atera ticket forwarding", "Identity": "Atera ticket forwarding", "IsDefault": false, "AutoForwardingMode": "On"},
			],
			"Get-HostedOutboundSpamFilterRule": [_rule],
			"Get-RemoteDomain": [
				{"Name": "Default", "Identity": "Default", "DomainName": "*", "AutoForwardEnabled": false},
				{"Name": "Atera ticketing", "Identity": "Atera ticketing", "DomainName": "ticketing.atera.com", "AutoForwardEnabled": true},
			],
		},
		"errors": [],
	},
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
}

_patch(ops) := json.patch(_base, ops)

_set(path, value) := _patch([{"op": "replace", "path": path, "value": value}])

_findings(inp) := fs if {
	fs := external_forwarding_scope.findings with input as inp
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

# ---------------------------------------------------------------------------
# pass

test_pass_narrow_exception if {
	fs := _findings(_base)
	_statuses(fs) == {"pass"}
	count(fs) == 3
	_has(fs, "pass", ["custom outbound anti-spam policy \"Atera ticket forwarding\"", "rule \"Atera ticket forwarding\"", "From support@acme.com", "mailbox \"Support\""])
	_has(fs, "pass", ["default outbound anti-spam policy \"Default\"", "AutoForwardingMode = Off"])
	_has(fs, "pass", ["own remote domain \"Atera ticketing\"", "DomainName ticketing.atera.com"])
}

_group(name, addr, guid) := {
	"Name": name,
	"DisplayName": name,
	"Identity": name,
	"Guid": guid,
	"PrimarySmtpAddress": addr,
	"EmailAddresses": [concat("", ["SMTP:", addr])],
}

_member_row(name, addr, type) := {"Name": name, "Identity": name, "PrimarySmtpAddress": addr, "RecipientType": type}

_support_row := _member_row("Support", "support@acme.com", "UserMailbox")

_alice := {"Name": "alice", "DisplayName": "Alice Smith", "Identity": "alice", "Guid": "a1a1a1a1-0000-4000-8000-000000000001", "PrimarySmtpAddress": "alice@acme.com", "EmailAddresses": ["SMTP:alice@acme.com"]}

# The rule names group "All Staff" (FromMemberOf) instead of the mailbox.
_all_staff(members, extra_groups) := _patch([
	{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", "value": null},
	{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/FromMemberOf", "value": ["All Staff"]},
	{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox", "value": [_support_mailbox, _alice]},
	{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroup", "value": array.concat([_group("All Staff", "allstaff@acme.com", "a11a11a1-0000-4000-8000-00000000a115")], extra_groups)},
	{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroupMember", "value": members},
])

# FromMemberOf a group the support mailbox is in is specific too.
test_pass_from_member_of_group if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", "value": null},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/FromMemberOf", "value": "Ticket senders"},
		{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroup", "value": [{
			"Name": "Ticket senders",
			"DisplayName": "Ticket senders",
			"Identity": "Ticket senders",
			"Guid": "44556677-8899-4aab-bccd-deeff0011223",
			"PrimarySmtpAddress": "ticket-senders@acme.com",
			"EmailAddresses": ["SMTP:ticket-senders@acme.com"],
		}]},
		{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroupMember", "value": {"ticket-senders@acme.com": [{
			"Name": "Support",
			"Identity": "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
			"ExternalDirectoryObjectId": "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
			"PrimarySmtpAddress": "support@acme.com",
			"RecipientType": "UserMailbox",
		}]}},
	])
	fs := _findings(inp)
	_has(fs, "pass", ["custom outbound anti-spam policy \"Atera ticket forwarding\"", "FromMemberOf Ticket senders"])
	not "fail" in _statuses(fs)
}

# A wildcard remote domain is still a remote domain of its own.
test_pass_wildcard_remote_domain if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain/1/DomainName", "*.atera.com"))
	_has(fs, "pass", ["own remote domain \"Atera ticketing\"", "DomainName *.atera.com"])
	not "fail" in _statuses(fs)
}

# Automatic on the default policy is not On, but the message says it is ambiguous.
test_pass_default_policy_automatic_is_flagged_as_ambiguous if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode", "Automatic"))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["\"Default\" has AutoForwardingMode = Automatic, not On", "Off is the unambiguous baseline value"])
}

# ---------------------------------------------------------------------------
# fail (reported as warn: the check's severity is warning)

test_fail_default_policy_on if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode", "On"))
	_has(fs, "fail", ["default outbound anti-spam policy \"Default\"", "AutoForwardingMode = On", "everyone in the organisation", "CISA SCuBA"])
	_has(fs, "pass", ["custom outbound anti-spam policy"])
	count(_status(fs, "fail")) == 1
}

# With no custom policy the default-policy finding is the one to fix; it is
# not reported twice.
test_fail_default_policy_on_without_custom_policy if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode", "value": "On"},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule", "value": []},
	])
	fs := _findings(inp)
	count(_status(fs, "fail")) == 1
	_has(fs, "fail", ["\"Default\"", "everyone in the organisation"])
}

test_fail_sender_domain_only if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", "value": null},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/SenderDomainIs", "value": ["acme.com"]},
	])
	fs := _findings(inp)
	_has(fs, "fail", ["rule \"Atera ticket forwarding\"", "SenderDomainIs acme.com only", "every sender in that domain"])
	not _has(fs, "pass", ["custom outbound anti-spam policy"])
}

test_fail_no_custom_policy_for_recipient if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", ["ceo@acme.com"]))
	_has(fs, "fail", ["no custom outbound anti-spam policy is scoped to mailbox \"Support\"", "default policy \"Default\"", "AutoForwardingMode = Off"])
}

test_fail_default_remote_domain_only if {
	fs := _findings(_set("/snapshot/exchange/Get-RemoteDomain", [
		{"Name": "Default", "Identity": "Default", "DomainName": "*", "AutoForwardEnabled": true},
		{"Name": "Contoso", "DomainName": "contoso.com", "AutoForwardEnabled": true},
	]))
	_has(fs, "fail", ["ticketing.atera.com has no remote domain of its own", "Default remote domain \"Default\"", "AutoForwardEnabled = true"])
	count(_status(fs, "fail")) == 1
}

# The policy selected for the recipient is Off: it opens nothing, however wide
# its rule is, and nothing is said about who "can auto-forward" (the blocked
# forward is external-forwarding's finding).
test_pass_selected_policy_off_opens_nothing if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", "value": null},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/SenderDomainIs", "value": ["acme.com"]},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", "value": "Off"},
	])
	fs := _findings(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", [
		"outbound anti-spam policy \"Atera ticket forwarding\" (AutoForwardingMode = Off), selected by rule \"Atera ticket forwarding\" (scoped by SenderDomainIs acme.com), applies to mailbox \"Support\" <support@acme.com>",
		"allows no automatic external forwarding",
	])
	every f in fs {
		not contains(f.message, "can auto-forward")
	}
}

# Automatic may still behave as On: a domain-wide rule is still too wide, and
# the message says "may".
test_fail_sender_domain_with_automatic if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", "value": null},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/SenderDomainIs", "value": ["acme.com"]},
		{"op": "replace", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", "value": "Automatic"},
	])
	fs := _findings(inp)
	_has(fs, "fail", ["SenderDomainIs acme.com only", "every sender in that domain may be able to auto-forward externally", "Automatic may still behave as On"])
}

test_fail_member_of_wider_group if {
	inp := _all_staff(
		{"allstaff@acme.com": [_support_row, _member_row("alice", "alice@acme.com", "UserMailbox")]},
		[],
	)
	fs := _findings(inp)
	_has(fs, "fail", [
		"rule \"Atera ticket forwarding\" scoped by FromMemberOf All Staff",
		"a group with 2 members",
		"more than the forwarding recipient(s) mailbox \"Support\" <support@acme.com>",
		"mailbox \"Alice Smith\" <alice@acme.com>",
		"Everyone who is or becomes a member of that group can auto-forward externally",
	])
	not _has(fs, "pass", ["FromMemberOf"])
}

# Members of nested groups count: "All Staff" holds a team group that holds Alice.
test_fail_member_of_group_with_nested_members if {
	inp := _all_staff(
		{
			"allstaff@acme.com": [_support_row, _member_row("Sales", "sales@acme.com", "MailUniversalDistributionGroup")],
			"sales@acme.com": [_member_row("alice", "alice@acme.com", "UserMailbox")],
		},
		[_group("Sales", "sales@acme.com", "5a1e5a1e-0000-4000-8000-00000000a1e5")],
	)
	fs := _findings(inp)
	_has(fs, "fail", ["FromMemberOf All Staff", "a group with 3 members (nested groups included)", "group \"Sales\" <sales@acme.com>", "mailbox \"Alice Smith\" <alice@acme.com>"])
}

# ---------------------------------------------------------------------------
# indeterminate

# A nested group whose membership was not collected: who else is covered is unknown.
test_indeterminate_member_of_group_membership_incomplete if {
	inp := _all_staff(
		{"allstaff@acme.com": [_support_row, _member_row("Sales", "sales@acme.com", "MailUniversalDistributionGroup")]},
		[_group("Sales", "sales@acme.com", "5a1e5a1e-0000-4000-8000-00000000a1e5")],
	)
	fs := _findings(inp)
	_has(fs, "indeterminate", ["FromMemberOf All Staff", "the membership of group \"Sales\" <sales@acme.com> is not in the snapshot"])
	not _has(fs, "pass", ["FromMemberOf"])
}

test_indeterminate_default_policy_unreadable_mode if {
	every v in ["Sometimes", "", 123, {}, [], [{}], true, null] {
		fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode", v))
		_has(fs, "indeterminate", ["outbound anti-spam policy \"Default\" (the default policy)", sprintf("AutoForwardingMode = %s", [json.marshal(v)]), "not On, Off or Automatic"])
		not _has(fs, "pass", ["default outbound anti-spam policy"])
	}
}

test_indeterminate_applicable_policy_unreadable_mode if {
	every v in ["Sometimes", 123, {}, [{}], false, null] {
		fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/1/AutoForwardingMode", v))
		_has(fs, "indeterminate", ["\"Atera ticket forwarding\" (selected by rule \"Atera ticket forwarding\") applies to mailbox \"Support\"", sprintf("AutoForwardingMode = %s", [json.marshal(v)])])
		not _has(fs, "pass", ["custom outbound anti-spam policy"])
	}
}

test_indeterminate_rule_condition_unreadable if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterRule/0/From", {}))
	_has(fs, "indeterminate", ["cannot tell which outbound anti-spam policy applies to", "From = {}"])
	not _has(fs, "pass", ["custom outbound anti-spam policy"])
}

test_indeterminate_atera_section_missing if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/atera"}]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera.ticketing_address"])
}

test_indeterminate_outbound_policies_not_collected if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy"}]))
	_has(fs, "indeterminate", ["Get-HostedOutboundSpamFilterPolicy was not collected"])
	_has(fs, "indeterminate", ["cannot tell which outbound anti-spam policy applies to"])
	not _has(fs, "pass", ["outbound anti-spam policy"])
}

test_indeterminate_remote_domain_errored if {
	fs := _findings(_set("/snapshot/errors", [{"source": "Get-RemoteDomain", "message": "The term 'Get-RemoteDomain' is not recognized"}]))
	_has(fs, "indeterminate", ["Get-RemoteDomain failed", "is not recognized"])
	not _has(fs, "pass", ["remote domain"])
}

test_indeterminate_no_default_policy if {
	fs := _findings(_set("/snapshot/exchange/Get-HostedOutboundSpamFilterPolicy/0/IsDefault", false))
	_has(fs, "indeterminate", ["no policy with IsDefault = true"])
}

test_indeterminate_no_route if {
	fs := _findings(_set("/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", null))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["no route from support@acme.com to acme@ticketing.atera.com"])
}

# ---------------------------------------------------------------------------
# not applicable

test_not_applicable_transport_rule_route if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", "value": null},
		{"op": "replace", "path": "/snapshot/exchange/Get-TransportRule", "value": [{
			"Name": "Support to Atera",
			"Identity": "Support to Atera",
			"Guid": "6b5c4d3e-2f1a-4b0c-9d8e-7f6a5b4c3d2e",
			"Priority": 0,
			"State": "Enabled",
			"Mode": "Enforce",
			"SentTo": "support@acme.com",
			"RedirectMessageTo": ["acme@ticketing.atera.com"],
			"BlindCopyTo": null,
			"AddToRecipients": null,
			"CopyTo": null,
		}]},
	])
	fs := _findings(inp)
	_statuses(fs) == {"not_applicable"}
	_has(fs, "not_applicable", ["transport-rule fallback", "needs no external-forwarding exception"])
}
