package ticketguard.checks.via_tag_test

import data.ticketguard.checks.via_tag

# ---------------------------------------------------------------------------
# Fixtures: the support mailbox is covered by a custom anti-phishing policy
# with the via tag off; the default policy keeps it on for everyone else.

_support_mailbox := {
	"Name": "Support",
	"DisplayName": "Support",
	"Alias": "support",
	"Identity": "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
	"ExternalDirectoryObjectId": "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
	"Guid": "c6b5a4f3-e2d1-4c0b-9a8f-7e6d5c4b3a21",
	"ExchangeObjectId": "91a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
	"PrimarySmtpAddress": "support@acme.com",
	"EmailAddresses": ["SMTP:support@acme.com", "smtp:helpdesk@acme.com", "SIP:support@acme.com"],
	"ForwardingAddress": "Atera Ticketing",
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": true,
}

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Identity": "Atera Ticketing",
	"Guid": "0b3f6a52-6d1e-4c8a-9d37-2f1c5e8a7b10",
	"ExternalEmailAddress": "SMTP:acme@ticketing.atera.com",
	"PrimarySmtpAddress": "acme@ticketing.atera.com",
	"EmailAddresses": ["SMTP:acme@ticketing.atera.com"],
}

_default_policy := {
	"Name": "Office365 AntiPhish Default",
	"Identity": "Office365 AntiPhish Default",
	"IsDefault": true,
	"Enabled": true,
	"EnableViaTag": true,
	"EnableUnauthenticatedSender": true,
}

_custom_policy := {
	"Name": "Atera support",
	"Identity": "Atera support",
	"IsDefault": false,
	"Enabled": true,
	"EnableViaTag": false,
	"EnableUnauthenticatedSender": true,
}

_custom_rule := {
	"Name": "Atera support",
	"Identity": "Atera support",
	"AntiPhishPolicy": "Atera support",
	"Priority": 0,
	"State": "Enabled",
	"SentTo": ["helpdesk@acme.com"],
	"SentToMemberOf": null,
	"RecipientDomainIs": null,
	"ExceptIfSentTo": null,
	"ExceptIfSentToMemberOf": null,
	"ExceptIfRecipientDomainIs": null,
}

_base := {
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "support@acme.com",
			"smtp": null,
		},
		"exchange": {
			"Get-Mailbox": [_support_mailbox],
			"Get-DistributionGroup": [],
			"Get-MailContact": [_contact],
			"Get-DistributionGroupMember": {},
			"Get-AntiPhishPolicy": [_default_policy, _custom_policy],
			"Get-AntiPhishRule": [_custom_rule],
			"Get-EOPProtectionPolicyRule": [],
		},
		"errors": [],
	},
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
}

_patch(ops) := json.patch(_base, ops)

_set(path, value) := _patch([{"op": "replace", "path": path, "value": value}])

_findings(inp) := fs if {
	fs := via_tag.findings with input as inp
}

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

# The rule names the mailbox by a secondary proxy address.
test_pass_custom_policy_via_tag_off if {
	fs := _findings(_base)
	_statuses(fs) == {"pass"}
	count(fs) == 1
	_has(fs, "pass", ["anti-phishing policy \"Atera support\"", "selected by rule \"Atera support\"", "mailbox \"Support\" <support@acme.com>", "EnableViaTag = false"])
}

# The support address is a distribution group (method 1); a string "False"
# from another serialiser counts as false.
test_pass_group_recipient if {
	inp := _patch([
		{"op": "replace", "path": "/snapshot/exchange/Get-Mailbox", "value": []},
		{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroup", "value": [{
			"Name": "Support",
			"DisplayName": "Support desk",
			"Identity": "Support",
			"Guid": "aa11bb22-cc33-4d44-8e55-ff6677889900",
			"PrimarySmtpAddress": "support@acme.com",
			"EmailAddresses": ["SMTP:support@acme.com"],
		}]},
		{"op": "replace", "path": "/snapshot/exchange/Get-DistributionGroupMember", "value": {"support@acme.com": [{"Name": "Atera Ticketing", "PrimarySmtpAddress": "acme@ticketing.atera.com", "RecipientType": "MailContact"}]}},
		{"op": "replace", "path": "/snapshot/exchange/Get-AntiPhishRule/0/SentTo", "value": "support@acme.com"},
		{"op": "replace", "path": "/snapshot/exchange/Get-AntiPhishPolicy/1/EnableViaTag", "value": "False"},
	])
	fs := _findings(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["group \"Support desk\" <support@acme.com>", "\"Atera support\""])
}

# The check applies whatever the route: even with no forwarding at all.
test_pass_applies_without_route if {
	fs := _findings(_set("/snapshot/exchange/Get-Mailbox/0/ForwardingAddress", null))
	_statuses(fs) == {"pass"}
}

# ---------------------------------------------------------------------------
# fail (reported as warn)

test_fail_default_policy_via_tag_on if {
	fs := _findings(_set("/snapshot/exchange/Get-AntiPhishRule/0/SentTo", ["ceo@acme.com"]))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["anti-phishing policy \"Office365 AntiPhish Default\"", "the default policy, no rule matched", "EnableViaTag = true", "via <domain>", "wrong sender"])
}

# A disabled rule does not select its policy.
test_fail_disabled_rule if {
	fs := _findings(_set("/snapshot/exchange/Get-AntiPhishRule/0/State", "Disabled"))
	_has(fs, "fail", ["\"Office365 AntiPhish Default\"", "EnableViaTag = true"])
}

test_fail_custom_policy_via_tag_on if {
	fs := _findings(_set("/snapshot/exchange/Get-AntiPhishPolicy/1/EnableViaTag", true))
	_has(fs, "fail", ["anti-phishing policy \"Atera support\"", "selected by rule \"Atera support\"", "EnableViaTag = true"])
}

test_fail_via_tag_null_means_default_true if {
	fs := _findings(_set("/snapshot/exchange/Get-AntiPhishPolicy/1/EnableViaTag", null))
	_has(fs, "fail", ["\"Atera support\"", "EnableViaTag = null (not set; the default is true)"])
}

test_fail_via_tag_absent_means_default_true if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-AntiPhishPolicy/1/EnableViaTag"}]))
	_has(fs, "fail", ["\"Atera support\"", "EnableViaTag = null (not set; the default is true)"])
}

# A preset policy wins over the custom one and cannot be edited.
test_fail_preset_policy if {
	inp := _patch([
		{"op": "add", "path": "/snapshot/exchange/Get-AntiPhishPolicy/-", "value": {
			"Name": "Standard Preset Security Policy1784144689723",
			"Identity": "Standard Preset Security Policy1784144689723",
			"IsDefault": false,
			"Enabled": true,
			"EnableViaTag": true,
			"RecommendedPolicyType": "Standard",
		}},
		{"op": "replace", "path": "/snapshot/exchange/Get-EOPProtectionPolicyRule", "value": [{
			"Name": "Standard Preset Security Policy",
			"Identity": "Standard Preset Security Policy",
			"AntiPhishPolicy": "Standard Preset Security Policy1784144689723",
			"HostedContentFilterPolicy": "Standard Preset Security Policy1784144689723",
			"MalwareFilterPolicy": "Standard Preset Security Policy1784144689723",
			"Priority": 1,
			"State": "Enabled",
			"SentTo": null,
			"SentToMemberOf": null,
			"RecipientDomainIs": ["acme.com"],
			"ExceptIfSentTo": null,
			"ExceptIfSentToMemberOf": null,
			"ExceptIfRecipientDomainIs": null,
		}]},
	])
	fs := _findings(inp)
	_has(fs, "fail", ["\"Standard Preset Security Policy1784144689723\"", "EnableViaTag = true", "preset security policy, which cannot be edited"])
}

# ---------------------------------------------------------------------------
# indeterminate

test_indeterminate_support_address_not_declared if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/atera/support_address"}]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera.support_address"])
}

test_indeterminate_atera_section_missing if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/atera"}]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera.support_address"])
}

test_indeterminate_support_recipient_not_found if {
	fs := _findings(_set("/snapshot/atera/support_address", "help@acme.com"))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["no mailbox, distribution group or mail contact", "help@acme.com"])
}

test_indeterminate_recipients_not_collected if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-Mailbox"}]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["support@acme.com", "Get-Mailbox was not collected"])
}

test_indeterminate_antiphish_policy_not_collected if {
	fs := _findings(json.patch(_base, [{"op": "remove", "path": "/snapshot/exchange/Get-AntiPhishPolicy"}]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["cannot tell which anti-phishing policy applies to mailbox \"Support\"", "Get-AntiPhishPolicy"])
}

test_indeterminate_antiphish_rule_errored if {
	fs := _findings(_set("/snapshot/errors", [{"source": "Get-AntiPhishRule", "message": "Access denied"}]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["cannot tell which anti-phishing policy applies to", "Get-AntiPhishRule"])
}

# The custom policy's Enabled is not a boolean: whether it (and its EnableViaTag
# = false) applies is unknown, so the check cannot pass on it.
test_indeterminate_custom_policy_enabled_unreadable if {
	every v in [123, {}, [], [{}], null, "", "garbage"] {
		fs := _findings(_set("/snapshot/exchange/Get-AntiPhishPolicy/1/Enabled", v))
		_statuses(fs) == {"indeterminate"}
		_has(fs, "indeterminate", ["cannot tell which anti-phishing policy applies to mailbox \"Support\"", "policy \"Atera support\"", sprintf("Enabled = %s", [json.marshal(v)])])
	}
}

# "True"/"False" from other serialisers are read as booleans.
test_pass_custom_policy_enabled_as_string if {
	fs := _findings(_set("/snapshot/exchange/Get-AntiPhishPolicy/1/Enabled", "True"))
	_statuses(fs) == {"pass"}
}

test_fail_custom_policy_enabled_false_string if {
	fs := _findings(_set("/snapshot/exchange/Get-AntiPhishPolicy/1/Enabled", "False"))
	_has(fs, "fail", ["\"Office365 AntiPhish Default\"", "EnableViaTag = true"])
}

# A SentTo of a type the cmdlet never returns is not "no condition".
test_indeterminate_rule_condition_unreadable if {
	every v in [123, {}, [{}], true, false] {
		fs := _findings(_set("/snapshot/exchange/Get-AntiPhishRule/0/SentTo", v))
		_statuses(fs) == {"indeterminate"}
		_has(fs, "indeterminate", ["rule \"Atera support\"", sprintf("SentTo = %s", [json.marshal(v)]), "not a list of names"])
	}
}
