package ticketguard.lib.scope_test

import data.ticketguard.lib.scope

_support := {"Name": "support", "DisplayName": "Support", "Guid": "m-support", "PrimarySmtpAddress": "support@acme.com", "EmailAddresses": ["SMTP:support@acme.com", "smtp:support@acme.onmicrosoft.com"]}

_alice := {"Name": "alice", "DisplayName": "Alice", "Guid": "m-alice", "PrimarySmtpAddress": "alice@contoso.com"}

_helpdesk := {"Name": "Helpdesk", "DisplayName": "Helpdesk Staff", "Guid": "g-helpdesk", "PrimarySmtpAddress": "helpdesk@acme.com"}

_outer := {"Name": "Outer", "Guid": "g-outer", "PrimarySmtpAddress": "outer@acme.com"}

_uncollected := {"Name": "Finance", "Guid": "g-finance", "PrimarySmtpAddress": "finance@acme.com"}

_key := "mailbox:m-support"

_default_out := {"Name": "Default", "Identity": "Default", "IsDefault": true, "AutoForwardingMode": "Automatic"}

_fwd_out := {"Name": "Allow forwarding", "Identity": "Allow forwarding", "IsDefault": false, "AutoForwardingMode": "On"}

_block_out := {"Name": "Block", "Identity": "Block", "IsDefault": false, "AutoForwardingMode": "Off"}

_out_rule(name, policy, prio, over) := object.union(
	{
		"Name": name, "HostedOutboundSpamFilterPolicy": policy, "Priority": prio, "State": "Enabled",
		"From": null, "FromMemberOf": null, "SenderDomainIs": null,
		"ExceptIfFrom": null, "ExceptIfFromMemberOf": null, "ExceptIfSenderDomainIs": null,
	},
	over,
)

_snap(exchange) := {"snapshot": {
	"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com"},
	"exchange": object.union(
		{
			"Get-Mailbox": [_support, _alice],
			"Get-DistributionGroup": [_helpdesk, _outer, _uncollected],
			"Get-MailContact": [],
			"Get-DistributionGroupMember": {
				"helpdesk@acme.com": [{"Name": "support", "Guid": "m-support", "RecipientType": "UserMailbox"}],
				"outer@acme.com": [{"Name": "Helpdesk", "PrimarySmtpAddress": "helpdesk@acme.com", "RecipientType": "MailUniversalDistributionGroup"}],
			},
			"Get-HostedOutboundSpamFilterPolicy": [_default_out, _fwd_out, _block_out],
			"Get-HostedOutboundSpamFilterRule": [],
		},
		exchange,
	),
}}

_out(rules) := r if {
	r := scope.applicable("outbound", _key) with input as _snap({"Get-HostedOutboundSpamFilterRule": rules})
}

_policy_name(r) := r.policy.Name

test_outbound_default_when_no_rules if {
	_out([]) == {"status": "known", "policy": _default_out, "rule": null}
}

test_outbound_rule_by_sender_every_form if {
	every ref in ["support@acme.com", "SMTP:Support@acme.com", "support@acme.onmicrosoft.com", "Support", "m-support"] {
		r := _out([_out_rule("fwd", "Allow forwarding", 0, {"From": [ref]})])
		r == {"status": "known", "policy": _fwd_out, "rule": "fwd"}
	}
}

test_outbound_from_bare_string if {
	_policy_name(_out([_out_rule("fwd", "Allow forwarding", 0, {"From": "support@acme.com"})])) == "Allow forwarding"
}

test_outbound_rule_not_matching_falls_to_default if {
	_out([_out_rule("fwd", "Allow forwarding", 0, {"From": ["alice@contoso.com"]})]).rule == null
}

test_outbound_priority_order if {
	rules := [
		_out_rule("second", "Block", 1, {"SenderDomainIs": ["acme.com"]}),
		_out_rule("first", "Allow forwarding", 0, {"From": ["support@acme.com"]}),
	]
	_out(rules).rule == "first"
}

test_outbound_priority_as_string if {
	rules := [
		_out_rule("ten", "Block", "10", {"SenderDomainIs": ["acme.com"]}),
		_out_rule("two", "Allow forwarding", "2", {"SenderDomainIs": ["acme.com"]}),
	]
	_out(rules).rule == "two"
}

test_outbound_disabled_rule_ignored if {
	rules := [
		_out_rule("off", "Block", 0, {"From": ["support@acme.com"], "State": "Disabled"}),
		_out_rule("on", "Allow forwarding", 1, {"From": ["support@acme.com"]}),
	]
	_out(rules).rule == "on"
}

test_outbound_conditions_anded if {
	# From matches but SenderDomainIs does not: the rule does not apply.
	_out([_out_rule("both", "Allow forwarding", 0, {"From": ["support@acme.com"], "SenderDomainIs": ["contoso.com"]})]).rule == null
	_out([_out_rule("both", "Allow forwarding", 0, {"From": ["support@acme.com"], "SenderDomainIs": ["contoso.com", "ACME.com"]})]).rule == "both"
}

test_outbound_exceptions if {
	_out([_out_rule("exc", "Allow forwarding", 0, {"SenderDomainIs": ["acme.com"], "ExceptIfFrom": ["Support"]})]).rule == null
	_out([_out_rule("exc", "Allow forwarding", 0, {"SenderDomainIs": ["acme.com"], "ExceptIfFrom": ["alice@contoso.com"]})]).rule == "exc"
	_out([_out_rule("exc", "Allow forwarding", 0, {"SenderDomainIs": ["acme.com"], "ExceptIfSenderDomainIs": "acme.com"})]).rule == null
	_out([_out_rule("exc", "Allow forwarding", 0, {"SenderDomainIs": ["acme.com"], "ExceptIfFromMemberOf": ["helpdesk@acme.com"]})]).rule == null
}

test_outbound_member_of_direct if {
	_out([_out_rule("grp", "Allow forwarding", 0, {"FromMemberOf": ["Helpdesk Staff"]})]).rule == "grp"
}

test_outbound_member_of_nested if {
	_out([_out_rule("grp", "Allow forwarding", 0, {"FromMemberOf": ["outer@acme.com"]})]).rule == "grp"
}

test_outbound_member_of_unknown_membership_decisive if {
	r := _out([
		_out_rule("fin", "Block", 0, {"FromMemberOf": ["Finance"]}),
		_out_rule("fwd", "Allow forwarding", 1, {"From": ["support@acme.com"]}),
	])
	r.status == "unknown"
	contains(r.reason, `rule "fin"`)
	contains(r.reason, `names group "Finance"`)
	contains(r.reason, "FromMemberOf")
}

test_outbound_unknown_membership_after_winner_is_irrelevant if {
	r := _out([
		_out_rule("fwd", "Allow forwarding", 0, {"From": ["support@acme.com"]}),
		_out_rule("fin", "Block", 1, {"FromMemberOf": ["Finance"]}),
	])
	r == {"status": "known", "policy": _fwd_out, "rule": "fwd"}
}

test_outbound_unknown_membership_anded_with_a_no if {
	# The other condition already fails, so the unknown group cannot matter.
	_out([_out_rule("fin", "Block", 0, {"FromMemberOf": ["Finance"], "SenderDomainIs": ["contoso.com"]})]).rule == null
}

test_outbound_unknown_membership_or_with_a_match if {
	_out([_out_rule("fin", "Block", 0, {"FromMemberOf": ["Finance", "Helpdesk"]})]).rule == "fin"
}

test_outbound_unknown_exception_membership if {
	r := _out([_out_rule("exc", "Allow forwarding", 0, {"From": ["support@acme.com"], "ExceptIfFromMemberOf": ["Finance"]})])
	r.status == "unknown"
	contains(r.reason, "ExceptIfFromMemberOf")
}

test_outbound_group_not_in_snapshot_is_unknown if {
	r := _out([_out_rule("m365", "Block", 0, {"FromMemberOf": ["All Company"]})])
	r.status == "unknown"
	contains(r.reason, `"All Company"`)
}

test_outbound_not_a_member if {
	i := _snap({
		"Get-Mailbox": [_support, _alice],
		"Get-DistributionGroupMember": {"helpdesk@acme.com": [{"Name": "alice", "Guid": "m-alice"}]},
		"Get-DistributionGroup": [_helpdesk],
		"Get-HostedOutboundSpamFilterRule": [_out_rule("grp", "Block", 0, {"FromMemberOf": ["Helpdesk"]})],
	})
	scope.applicable("outbound", _key).rule == null with input as i
	scope.applicable("outbound", "mailbox:m-alice").rule == "grp" with input as i
}

test_outbound_missing_policy_of_winning_rule if {
	r := _out([_out_rule("ghost", "Deleted policy", 0, {"From": ["support@acme.com"]})])
	r.status == "unknown"
	contains(r.reason, `names policy "Deleted policy", which is not in Get-HostedOutboundSpamFilterPolicy`)
}

test_outbound_missing_policy_of_non_matching_rule_is_irrelevant if {
	_out([_out_rule("ghost", "Deleted policy", 0, {"From": ["alice@contoso.com"]})]).rule == null
}

test_outbound_policy_named_by_identity if {
	p := object.union(_fwd_out, {"Name": "Fwd", "Identity": "FwdIdentity"})
	i := _snap({
		"Get-HostedOutboundSpamFilterPolicy": [_default_out, p],
		"Get-HostedOutboundSpamFilterRule": [_out_rule("r", "fwdidentity", 0, {"From": ["support@acme.com"]})],
	})
	scope.applicable("outbound", _key).policy == p with input as i
}

test_outbound_not_collected if {
	i := json.remove(_snap({}), ["snapshot/exchange/Get-HostedOutboundSpamFilterRule"])
	scope.applicable("outbound", _key) == {"status": "unknown", "reason": "Get-HostedOutboundSpamFilterRule was not collected"} with input as i
}

test_outbound_failed if {
	i := object.union(_snap({}), {"snapshot": {"errors": [{"source": "Get-HostedOutboundSpamFilterPolicy", "message": "denied"}]}})
	scope.applicable("outbound", _key) == {"status": "unknown", "reason": "Get-HostedOutboundSpamFilterPolicy failed: denied"} with input as i
}

test_outbound_no_default if {
	i := _snap({"Get-HostedOutboundSpamFilterPolicy": [_fwd_out]})
	r := scope.applicable("outbound", _key) with input as i
	r.status == "unknown"
	contains(r.reason, "no default policy")
}

test_unknown_recipient_key if {
	r := scope.applicable("outbound", "mailbox:nobody") with input as _snap({})
	r.status == "unknown"
}

test_unknown_kind if {
	scope.applicable("inbound", _key).status == "unknown" with input as _snap({})
}

# ---------------------------------------------------------------------------
# anti-phishing

_ap_default := {"Name": "Office365 AntiPhish Default", "Identity": "Office365 AntiPhish Default", "IsDefault": true, "Enabled": true, "EnableViaTag": true}

_ap_custom := {"Name": "Support no via", "Identity": "Support no via", "IsDefault": false, "Enabled": true, "EnableViaTag": false}

_ap_strict := {"Name": "Strict Preset Security Policy1784144689724", "IsDefault": false, "Enabled": true, "EnableViaTag": true, "RecommendedPolicyType": "Strict"}

_ap_standard := {"Name": "Standard Preset Security Policy1784144689723", "IsDefault": false, "Enabled": true, "EnableViaTag": true, "RecommendedPolicyType": "Standard"}

_ap_rule(name, policy, prio, over) := object.union(
	{
		"Name": name, "AntiPhishPolicy": policy, "Priority": prio, "State": "Enabled",
		"SentTo": null, "SentToMemberOf": null, "RecipientDomainIs": null,
		"ExceptIfSentTo": null, "ExceptIfSentToMemberOf": null, "ExceptIfRecipientDomainIs": null,
	},
	over,
)

_eop_rule(name, policy, prio, over) := object.union(
	{"Name": name, "AntiPhishPolicy": policy, "Priority": prio, "State": "Enabled", "SentTo": null, "SentToMemberOf": null, "RecipientDomainIs": null},
	over,
)

_ap(policies, rules, extra) := r if {
	i := _snap(object.union({"Get-AntiPhishPolicy": policies, "Get-AntiPhishRule": rules}, extra))
	r := scope.applicable("antiphish", _key) with input as i
}

test_antiphish_default if {
	_ap([_ap_default, _ap_custom], [], {}) == {"status": "known", "policy": _ap_default, "rule": null}
}

test_antiphish_custom_rule if {
	_ap([_ap_default, _ap_custom], [_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})], {}) == {"status": "known", "policy": _ap_custom, "rule": "support"}
}

test_antiphish_recipient_domain_uses_support_address if {
	# The support address is a secondary address on some tenants: mail is
	# addressed to it, so its domain is the recipient domain.
	i := _snap({
		"Get-Mailbox": [{"Guid": "m-support", "PrimarySmtpAddress": "support@acme.onmicrosoft.com", "EmailAddresses": ["SMTP:support@acme.onmicrosoft.com", "smtp:support@acme.com"]}],
		"Get-AntiPhishPolicy": [_ap_default, _ap_custom],
		"Get-AntiPhishRule": [_ap_rule("dom", "Support no via", 0, {"RecipientDomainIs": ["acme.com"]})],
	})
	scope.applicable("antiphish", _key).rule == "dom" with input as i
	scope.applicable("outbound", _key).rule == null with input as object.union(i, {"snapshot": {"exchange": {"Get-HostedOutboundSpamFilterRule": [_out_rule("dom", "Block", 0, {"SenderDomainIs": ["acme.com"]})]}}})
}

test_antiphish_disabled_policy_does_not_apply if {
	off := object.union(_ap_custom, {"Enabled": false})
	r := _ap([_ap_default, off], [_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})], {})
	r == {"status": "known", "policy": _ap_default, "rule": null}
}

test_antiphish_member_of_and_exceptions if {
	rules := [_ap_rule("staff", "Support no via", 0, {"SentToMemberOf": ["Helpdesk"], "ExceptIfRecipientDomainIs": ["contoso.com"]})]
	_ap([_ap_default, _ap_custom], rules, {}).rule == "staff"
	rules2 := [_ap_rule("staff", "Support no via", 0, {"SentToMemberOf": ["Helpdesk"], "ExceptIfSentTo": "support"})]
	_ap([_ap_default, _ap_custom], rules2, {}).rule == null
}

test_antiphish_presets_need_eop_rules if {
	r := _ap([_ap_default, _ap_custom, _ap_standard], [_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})], {})
	r.status == "unknown"
	contains(r.reason, "Get-EOPProtectionPolicyRule was not collected")
	contains(r.reason, "Standard Preset Security Policy1784144689723")
}

test_antiphish_preset_precedes_custom if {
	eop := [_eop_rule("Standard Preset Security Policy", "Standard Preset Security Policy1784144689723", 1, {"RecipientDomainIs": ["acme.com"]})]
	r := _ap(
		[_ap_default, _ap_custom, _ap_standard],
		[_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})],
		{"Get-EOPProtectionPolicyRule": eop},
	)
	r == {"status": "known", "policy": _ap_standard, "rule": "Standard Preset Security Policy"}
}

test_antiphish_strict_precedes_standard if {
	eop := [
		_eop_rule("Standard Preset Security Policy", "Standard Preset Security Policy1784144689723", 0, {"SentTo": ["support@acme.com"]}),
		_eop_rule("Strict Preset Security Policy", "Strict Preset Security Policy1784144689724", 5, {"SentTo": ["support@acme.com"]}),
	]
	r := _ap([_ap_default, _ap_standard, _ap_strict], [], {"Get-EOPProtectionPolicyRule": eop})
	r.rule == "Strict Preset Security Policy"
	r.policy == _ap_strict
}

test_antiphish_preset_not_applying_falls_to_custom if {
	eop := [_eop_rule("Standard Preset Security Policy", "Standard Preset Security Policy1784144689723", 0, {"SentTo": ["alice@contoso.com"]})]
	r := _ap(
		[_ap_default, _ap_custom, _ap_standard],
		[_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})],
		{"Get-EOPProtectionPolicyRule": eop},
	)
	r.rule == "support"
}

test_antiphish_preset_rule_disabled if {
	eop := [_eop_rule("Standard Preset Security Policy", "Standard Preset Security Policy1784144689723", 0, {"State": "Disabled"})]
	_ap([_ap_default, _ap_standard], [], {"Get-EOPProtectionPolicyRule": eop}).rule == null
}

test_antiphish_preset_without_conditions_applies_to_all if {
	eop := [_eop_rule("Standard Preset Security Policy", "Standard Preset Security Policy1784144689723", 0, {})]
	_ap([_ap_default, _ap_standard], [], {"Get-EOPProtectionPolicyRule": eop}).policy == _ap_standard
}

test_antiphish_preset_by_name_when_rule_names_no_policy if {
	eop := [_eop_rule("Strict Preset Security Policy", null, 0, {"SentTo": "support"})]
	strict_by_name := json.remove(_ap_strict, ["RecommendedPolicyType"])
	r := _ap([_ap_default, strict_by_name], [], {"Get-EOPProtectionPolicyRule": eop})
	r.policy == strict_by_name
}

test_antiphish_no_presets_eop_ignored if {
	_ap([_ap_default], [], {}).policy == _ap_default
	eop := [_eop_rule("Standard Preset Security Policy", "Standard Preset Security Policy1", 0, {})]
	_ap([_ap_default], [], {"Get-EOPProtectionPolicyRule": eop}).policy == _ap_default
}

test_antiphish_preset_unknown_membership_decisive if {
	eop := [_eop_rule("Standard Preset Security Policy", "Standard Preset Security Policy1784144689723", 0, {"SentToMemberOf": ["Finance"]})]
	r := _ap(
		[_ap_default, _ap_custom, _ap_standard],
		[_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})],
		{"Get-EOPProtectionPolicyRule": eop},
	)
	r.status == "unknown"
	contains(r.reason, "Get-EOPProtectionPolicyRule")
	contains(r.reason, "Finance")
}

test_member_of if {
	scope.member_of(_key, "Helpdesk") == "match" with input as _snap({})
	scope.member_of(_key, "outer@acme.com") == "match" with input as _snap({})
	scope.member_of("mailbox:m-alice", "outer@acme.com") == "no" with input as _snap({})
	scope.member_of(_key, "Finance") == "unknown" with input as _snap({})
	scope.member_of(_key, "No such group") == "unknown" with input as _snap({})
}

test_member_of_nested_group_without_membership if {
	i := _snap({"Get-DistributionGroupMember": {"outer@acme.com": [{"Name": "Finance", "Guid": "g-finance"}]}})
	scope.member_of(_key, "outer@acme.com") == "unknown" with input as i
}

test_member_of_nested_m365_group if {
	i := _snap({"Get-DistributionGroupMember": {"outer@acme.com": [{"Name": "All Company", "PrimarySmtpAddress": "allcompany@acme.com", "RecipientType": "GroupMailbox"}]}})
	scope.member_of(_key, "outer@acme.com") == "unknown" with input as i
	scope.member_of("mailbox:m-alice", "outer@acme.com") == "unknown" with input as i
}

test_policy_label if {
	scope.policy_label(_ap_default) == `policy "Office365 AntiPhish Default" (default)`
	scope.policy_label(_ap_standard) == `policy "Standard Preset Security Policy1784144689723" (preset)`
	scope.policy_label(_ap_custom) == `policy "Support no via"`
	scope.is_preset_policy(_ap_strict)
	not scope.is_preset_policy(_ap_custom)
}

test_sources if {
	scope.sources("antiphish") == ["Get-AntiPhishRule", "Get-AntiPhishPolicy", "Get-EOPProtectionPolicyRule"]
	scope.sources("outbound") == ["Get-HostedOutboundSpamFilterRule", "Get-HostedOutboundSpamFilterPolicy"]
}

# ---------------------------------------------------------------------------
# Values of a type the cmdlets never return: never "no condition".

test_outbound_malformed_condition_is_unknown if {
	every v in [123, {}, true, false, [{}], ["support@acme.com", 7]] {
		r := _out([_out_rule("odd", "Block", 0, {"From": v})])
		r.status == "unknown"
		contains(r.reason, `rule "odd"`)
		contains(r.reason, sprintf("From = %s", [json.marshal(v)]))
		contains(r.reason, "not a list of names")
	}
}

test_outbound_malformed_exception_is_unknown if {
	r := _out([_out_rule("odd", "Allow forwarding", 0, {"From": ["support@acme.com"], "ExceptIfSenderDomainIs": {"x": 1}})])
	r.status == "unknown"
	contains(r.reason, `ExceptIfSenderDomainIs = {"x":1}`)
}

test_outbound_malformed_condition_anded_with_a_no_is_irrelevant if {
	# From names someone else, so the rule cannot apply whatever FromMemberOf says.
	_out([_out_rule("odd", "Block", 0, {"From": ["alice@contoso.com"], "FromMemberOf": 123})]) == {"status": "known", "policy": _default_out, "rule": null}
}

test_outbound_malformed_after_winner_is_irrelevant if {
	r := _out([
		_out_rule("fwd", "Allow forwarding", 0, {"From": ["support@acme.com"]}),
		_out_rule("odd", "Block", 1, {"SenderDomainIs": 123}),
	])
	r == {"status": "known", "policy": _fwd_out, "rule": "fwd"}
}

test_outbound_wellformed_empty_values_are_no_condition if {
	every v in [null, [], "", "  ", [""]] {
		_out([_out_rule("all", "Block", 0, {"From": v})]).rule == "all"
	}
}

test_outbound_unreadable_state_is_unknown if {
	every v in [{}, 1, true, "garbage", null] {
		r := _out([_out_rule("odd", "Block", 0, {"From": ["support@acme.com"], "State": v})])
		r.status == "unknown"
		contains(r.reason, sprintf("State = %s", [json.marshal(v)]))
	}

	# A rule that cannot apply anyway does not matter.
	_out([_out_rule("odd", "Block", 0, {"From": ["alice@contoso.com"], "State": "garbage"})]).rule == null
}

test_outbound_unreadable_priority_between_two_applicable_rules_is_unknown if {
	r := _out([
		_out_rule("odd", "Block", {}, {"From": ["support@acme.com"]}),
		_out_rule("fwd", "Allow forwarding", 1, {"From": ["support@acme.com"]}),
	])
	r.status == "unknown"
	contains(r.reason, `"fwd" (Priority 1)`)
	contains(r.reason, `"odd" (Priority {})`)

	# Only one rule applies: its Priority does not matter.
	_out([
		_out_rule("odd", "Allow forwarding", "garbage", {"From": ["support@acme.com"]}),
		_out_rule("other", "Block", 1, {"From": ["alice@contoso.com"]}),
	]).rule == "odd"
}

test_antiphish_unreadable_enabled_is_unknown if {
	every v in [123, {}, [], null, "garbage", ""] {
		p := object.union(_ap_custom, {"Enabled": v})
		r := _ap([_ap_default, p], [_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})], {})
		r.status == "unknown"
		contains(r.reason, `policy "Support no via"`)
		contains(r.reason, sprintf("Enabled = %s", [json.marshal(v)]))
	}
}

test_antiphish_enabled_as_string if {
	on := object.union(_ap_custom, {"Enabled": "True"})
	_ap([_ap_default, on], [_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})], {}).rule == "support"
	off := object.union(_ap_custom, {"Enabled": "False"})
	_ap([_ap_default, off], [_ap_rule("support", "Support no via", 0, {"SentTo": ["support@acme.com"]})], {}).rule == null
}

test_antiphish_malformed_sent_to_is_unknown if {
	r := _ap([_ap_default, _ap_custom], [_ap_rule("support", "Support no via", 0, {"SentTo": [{}]})], {})
	r.status == "unknown"
	contains(r.reason, `rule "support"`)
	contains(r.reason, "SentTo = [{}]")
}

test_group_members if {
	m := scope.group_members("outer@acme.com") with input as _snap({})
	m.groups == {"group:g-outer"}
	m.members == {"group:g-helpdesk", _key}
	m.unknown == []

	u := scope.group_members("outer@acme.com") with input as _snap({"Get-DistributionGroupMember": {"outer@acme.com": [{"Name": "Finance", "Guid": "g-finance"}]}})
	u.unknown == [`group "Finance" <finance@acme.com>`]

	n := scope.group_members("No such group") with input as _snap({})
	n.members == set()
	n.unknown == [`"No such group" (no such group in Get-DistributionGroup)`]
}
