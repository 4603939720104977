# Package scope: which outbound spam or anti-phishing policy applies to a
# recipient (SPEC §2, "Which policy applies").
#
# Enabled rules in Priority order (0 first); within a rule, condition kinds are
# ANDed, values of one kind ORed, exceptions ORed; the first matching rule's
# policy applies and no other; else the default policy (IsDefault). For
# anti-phishing, the Strict then Standard preset security policies come first;
# they attach through Get-EOPProtectionPolicyRule.
#
# Whenever the answer cannot be decided from the snapshot the result says so
# ("unknown" with a reason) instead of guessing: a cmdlet not collected, a
# rule naming a policy that is not there, a decisive rule whose *MemberOf
# names a group whose membership was not collected, or a value of a type the
# cmdlet never returns (a condition that is a number or an object, a State
# or an anti-phishing policy's Enabled that is neither true nor false, a
# Priority that is not a number when it decides the order). Reading such a
# value as "no condition" or "not enabled" would decide silently, and
# possibly wrongly, which policy applies.
#
# API (DESIGN.md; * = addition):
#   applicable(kind, key)  kind "outbound" | "antiphish"; key an
#                          identity.recipients key. Returns
#                          {"status": "known", "policy": object, "rule": name or null}
#                          or {"status": "unknown", "reason": string}
#   sources(kind)*         the cmdlets applicable(kind, _) reads (array)
#   is_preset_policy(p)*   p is a Standard/Strict preset anti-phishing policy
#   policy_label(p)*       `policy "Name"`, with " (default)"/" (preset)" noted
#   member_of(key, group_ref)*  "match" | "no" | "unknown": key is a member
#                          (directly or through nested groups) of the group(s)
#                          group_ref names
#   group_members(group_ref)*  who a *MemberOf value covers:
#                          {"groups": keys group_ref names, "members": keys
#                          reachable from them (nested groups included, the
#                          named groups themselves left out), "unknown": labels
#                          of groups on the way whose membership is not in the
#                          snapshot (empty when the member list is complete)}
package ticketguard.lib.scope

import data.ticketguard.lib.identity
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_config := {
	"outbound": {
		"rules": "Get-HostedOutboundSpamFilterRule",
		"policies": "Get-HostedOutboundSpamFilterPolicy",
		"policy_field": "HostedOutboundSpamFilterPolicy",
		"conditions": [["From", "recipient"], ["FromMemberOf", "member_of"], ["SenderDomainIs", "domain"]],
		"exceptions": [["ExceptIfFrom", "recipient"], ["ExceptIfFromMemberOf", "member_of"], ["ExceptIfSenderDomainIs", "domain"]],
	},
	"antiphish": {
		"rules": "Get-AntiPhishRule",
		"policies": "Get-AntiPhishPolicy",
		"policy_field": "AntiPhishPolicy",
		"conditions": [["SentTo", "recipient"], ["SentToMemberOf", "member_of"], ["RecipientDomainIs", "domain"]],
		"exceptions": [["ExceptIfSentTo", "recipient"], ["ExceptIfSentToMemberOf", "member_of"], ["ExceptIfRecipientDomainIs", "domain"]],
	},
}

_eop_rules := "Get-EOPProtectionPolicyRule"

sources(kind) := [_config[kind].rules, _config[kind].policies, _eop_rules] if kind == "antiphish"

sources(kind) := [_config[kind].rules, _config[kind].policies] if kind == "outbound"

applicable(kind, key) := {"status": "unknown", "reason": sprintf("unknown policy kind %q", [kind])} if {
	not _config[kind]
} else := {"status": "unknown", "reason": snap.missing_message(needed)} if {
	needed := [_config[kind].rules, _config[kind].policies]
	count(snap.unavailable(needed)) > 0
} else := {"status": "unknown", "reason": sprintf("%s is not a recipient of the snapshot", [key])} if {
	not identity.recipients[key]
} else := {"status": "unknown", "reason": reason} if {
	kind == "antiphish"
	count(_presets) > 0
	not snap.collected(_eop_rules)
	reason := sprintf("%s; preset security policies exist (%s) and attach through it", [
		snap.missing_message([_eop_rules]),
		concat(", ", sort([_name(p) | some p in _presets])),
	])
} else := _decide(kind, key)

# ---------------------------------------------------------------------------
# Ordering the candidates.

_name(x) := s if {
	s := x.Name
	is_string(s)
} else := s if {
	s := x.Identity
	is_string(s)
} else := "(no name)"

_priority(rule) := to_number(rule.Priority) if {
	is_number(rule.Priority)
} else := to_number(trim_space(rule.Priority)) if {
	_priority_readable(rule)
} else := 1e12

_priority_readable(rule) if is_number(rule.Priority)

_priority_readable(rule) if {
	is_string(rule.Priority)
	regex.match(`^\s*[0-9]+\s*$`, rule.Priority)
}

# State is "Enabled" or "Disabled". Anything else (a missing State, a number,
# an object) is unreadable: such a rule is kept as a candidate whose
# enablement is unknown rather than silently skipped.
_state(rule) := "enabled" if {
	util.eq_fold(object.get(rule, "State", null), "Enabled")
} else := "disabled" if {
	util.eq_fold(object.get(rule, "State", null), "Disabled")
} else := "unreadable"

_candidate_rule(rule) if {
	is_object(rule)
	_state(rule) != "disabled"
}

_find_policy(kind, ref) := ps[0] if {
	ps := [p |
		some p in snap.items(_config[kind].policies)
		_names_policy(p, ref)
	]
	count(ps) > 0
}

_names_policy(p, ref) if util.eq_fold(p.Name, ref)

_names_policy(p, ref) if util.eq_fold(p.Identity, ref)

_names_policy(p, ref) if util.eq_fold(p.Guid, ref)

# A candidate: the rule, where it came from and the policy it names (null
# when that policy is not in the snapshot).
_candidate(kind, source, rule, ref) := {
	"name": _name(rule),
	"source": source,
	"rule": rule,
	"policy_ref": ref,
	"policy": _policy_or_null(kind, ref),
}

# The ranking tier travels with the candidate so that _outcome can tell
# whether an unreadable Priority leaves the order of two rules open.
_with_tier(c, tier) := object.union(c, {"tier": tier})

_policy_or_null(kind, ref) := p if {
	p := _find_policy(kind, ref)
} else := null

# Custom rules: tier 2 (after Strict 0 and Standard 1).
_ranked(kind) := array.concat(
	[[2, _priority(rule), _name(rule), i, c] |
		some i, rule in snap.items(_config[kind].rules)
		_candidate_rule(rule)
		ref := object.get(rule, _config[kind].policy_field, null)
		c := _with_tier(_candidate(kind, _config[kind].rules, rule, ref), 2)
	],
	_preset_ranked(kind),
)

_preset_ranked(kind) := [] if kind != "antiphish"

_preset_ranked("antiphish") := [] if count(_presets) == 0

_preset_ranked("antiphish") := [[_tier[t], _priority(rule), _name(rule), i, c] |
	some i, rule in snap.items(_eop_rules)
	_candidate_rule(rule)
	t := _eop_rule_type(rule)
	c := _with_tier(_eop_candidate(rule, t), _tier[t])
] if count(_presets) > 0

_tier := {"strict": 0, "standard": 1}

_candidates(kind) := [x[4] | some x in sort(_ranked(kind))]

# ---------------------------------------------------------------------------
# Preset security policies (anti-phishing only).

_preset_type(p) := "strict" if {
	util.starts_fold(p.Name, "Strict Preset Security Policy")
} else := "standard" if {
	util.starts_fold(p.Name, "Standard Preset Security Policy")
} else := "strict" if {
	util.eq_fold(p.RecommendedPolicyType, "Strict")
} else := "standard" if {
	util.eq_fold(p.RecommendedPolicyType, "Standard")
}

is_preset_policy(p) if _preset_type(p)

_presets := [p | some p in snap.items("Get-AntiPhishPolicy"); is_object(p); _preset_type(p)]

# The preset an EOP rule belongs to: the one its AntiPhishPolicy names, else
# the one its own name says ("Strict Preset Security Policy"). EOP rules that
# are neither concern other protections and are skipped.
_eop_rule_type(rule) := t if {
	p := _find_policy("antiphish", rule.AntiPhishPolicy)
	t := _preset_type(p)
} else := t if {
	t := _preset_type({"Name": rule.Name})
}

_eop_candidate(rule, t) := _candidate("antiphish", _eop_rules, rule, rule.AntiPhishPolicy) if {
	is_string(rule.AntiPhishPolicy)
	rule.AntiPhishPolicy != ""
} else := c if {
	ps := sort([[_name(p), p] | some p in _presets; _preset_type(p) == t])
	c := {"name": _name(rule), "source": _eop_rules, "rule": rule, "policy_ref": ps[0][0], "policy": ps[0][1]}
}

# ---------------------------------------------------------------------------
# Deciding.

_decide(kind, key) := result if {
	ctx := {"kind": kind, "key": key, "domain": _domain(kind, key)}
	evaluated := [e | some c in _candidates(kind); e := _evaluate(ctx, c)]
	decisive := [e | some e in evaluated; e.result != "no"]
	result := _outcome(kind, decisive)
}

_outcome(kind, decisive) := {"status": "known", "policy": p, "rule": null} if {
	count(decisive) == 0
	p := _default_policy(kind)
} else := {"status": "unknown", "reason": sprintf("no rule applies and %s has no default policy (IsDefault)", [_config[kind].policies])} if {
	count(decisive) == 0
} else := {"status": "unknown", "reason": reason} if {
	reason := _order_unknown(decisive)
} else := {"status": "known", "policy": decisive[0].candidate.policy, "rule": decisive[0].candidate.name} if {
	decisive[0].result == "match"
} else := {"status": "unknown", "reason": concat("; ", decisive[0].reasons)}

# Rules are ordered by Priority within a tier. When the first decisive rule
# and another decisive rule of its tier cannot both be ordered (one Priority
# is not a number), which of them applies is unknown.
_order_unknown(decisive) := sprintf("rules %q (Priority %s) and %q (Priority %s) of %s may both apply and their order cannot be read, so it cannot be decided which one comes first", [
	first.name, _json(object.get(first.rule, "Priority", null)),
	other.name, _json(object.get(other.rule, "Priority", null)),
	first.source,
]) if {
	first := decisive[0].candidate
	some i, d in decisive
	i > 0
	other := d.candidate
	other.tier == first.tier
	_unordered(first.rule, other.rule)
}

_unordered(a, _) if not _priority_readable(a)

_unordered(_, b) if not _priority_readable(b)

_json(v) := json.marshal(v)

_default_policy(kind) := ps[0] if {
	ps := [p | some p in snap.items(_config[kind].policies); util.is_true(p.IsDefault)]
	count(ps) > 0
}

# Domain conditions: the sender's domain for outbound mail (it leaves from the
# primary address). For anti-phishing the recipient domain is the one mail is
# addressed to: the support address when it is one of this recipient's
# addresses, else the primary address.
_domain(kind, key) := util.domain_of(snap.support_address) if {
	kind == "antiphish"
	snap.support_address in identity.recipients[key].addresses
} else := util.domain_of(identity.recipients[key].primary) if {
	identity.recipients[key].primary != ""
} else := ""

_evaluate(ctx, c) := {"candidate": c, "result": result, "reasons": reasons} if {
	cfg := _config[ctx.kind]
	conds := [x |
		some pair in cfg.conditions
		x := _field_result(ctx, c.rule, pair[0], pair[1])
	]
	excs := [x |
		some pair in cfg.exceptions
		x := _field_result(ctx, c.rule, pair[0], pair[1])
	]
	match := _combine(_all_of(conds), _any_of(excs))
	result := _with_state(c, _with_policy(ctx, c, match))
	reasons := _reasons(ctx, c, result, array.concat(conds, excs))
}

# A condition or exception is null, [] or a blank string when unset, and a
# string or an array of strings when set. Any other value (123, {}, true,
# [{}]) is not something the cmdlet returns: whom it names is unknown, so
# the condition is neither met nor unmet.
_field_result(ctx, rule, field, type) := {"field": field, "r": "unknown", "unknown": [], "malformed": true} if {
	not _well_formed(object.get(rule, field, null))
} else := x if {
	values := util.strings(object.get(rule, field, null))
	count(values) > 0
	x := _kind_result(ctx, field, type, values)
}

_well_formed(v) if v == null

_well_formed(v) if is_string(v)

_well_formed(v) if {
	is_array(v)
	every e in v {
		is_string(e)
	}
}

# A rule whose State cannot be read applies if it is enabled: when it would
# otherwise apply (or might), the answer is unknown.
_with_state(_, "no") := "no"

_with_state(c, r) := "unknown" if {
	r != "no"
	_state(c.rule) == "unreadable"
} else := r

# conditions ANDed: one "no" decides; exceptions ORed: one "match" decides.
_all_of(xs) := "no" if {
	some x in xs
	x.r == "no"
} else := "unknown" if {
	some x in xs
	x.r == "unknown"
} else := "match"

_any_of(xs) := "match" if {
	some x in xs
	x.r == "match"
} else := "unknown" if {
	some x in xs
	x.r == "unknown"
} else := "no"

_combine("no", _) := "no"

_combine(_, "match") := "no"

_combine("match", "no") := "match"

_combine("match", "unknown") := "unknown"

_combine("unknown", "no") := "unknown"

_combine("unknown", "unknown") := "unknown"

# A rule that would apply still needs its policy; an anti-phishing policy that
# is switched off (Enabled false) means the rule does not apply.
_with_policy(_, _, "no") := "no"

_with_policy(ctx, c, m) := "no" if {
	m != "no"
	ctx.kind == "antiphish"
	c.policy != null
	util.is_false(object.get(c.policy, "Enabled", null))
} else := "unknown" if {
	m != "no"
	c.policy == null
} else := "unknown" if {
	m != "no"
	_enabled_unreadable(ctx, c)
} else := m if m != "no"

# Enabled is a boolean (or "True"/"False" from some serialisers). A policy
# object without the property is taken as enabled, which is the default for
# a new policy; any other value (null, 123, {}, "garbage") cannot be read.
_enabled_unreadable(ctx, c) if {
	ctx.kind == "antiphish"
	c.policy != null
	"Enabled" in object.keys(c.policy)
	v := c.policy.Enabled
	not util.is_true(v)
	not util.is_false(v)
}

_reasons(_, _, "no", _) := []

_reasons(_, _, "match", _) := []

# Every reason the rule's answer is unknown, in a fixed order.
_reasons(ctx, c, "unknown", kinds) := [r |
	some part in [
		_policy_missing_reasons(ctx, c),
		_malformed_reasons(ctx, c, kinds),
		_state_reasons(ctx, c),
		_enabled_reasons(ctx, c),
		_membership_reasons(ctx, c, kinds),
	]
	some r in part
]

_rule_text(c) := sprintf("rule %q (%s, priority %v)", [c.name, c.source, object.get(c.rule, "Priority", "unknown")])

_policy_missing_reasons(ctx, c) := [sprintf("%s names policy %s, which is not in %s", [
	_rule_text(c), util.quote(c.policy_ref), _config[ctx.kind].policies,
]) |
	c.policy == null
]

_malformed_reasons(ctx, c, kinds) := [sprintf("%s has %s = %s, which is not a list of names: it cannot be decided whether the rule applies to %s", [
	_rule_text(c), x.field, _json(object.get(c.rule, x.field, null)), identity.label(ctx.key),
]) |
	some x in kinds
	x.malformed
]

_state_reasons(ctx, c) := [sprintf("%s has State = %s, neither Enabled nor Disabled, so it cannot be decided whether it applies to %s", [
	_rule_text(c), _json(object.get(c.rule, "State", null)), identity.label(ctx.key),
]) |
	_state(c.rule) == "unreadable"
]

_enabled_reasons(ctx, c) := [sprintf("%s selects %s, whose Enabled = %s is neither true nor false, so it cannot be decided whether the policy applies to %s", [
	_rule_text(c), policy_label(c.policy), _json(c.policy.Enabled), identity.label(ctx.key),
]) |
	_enabled_unreadable(ctx, c)
]

_membership_reasons(ctx, c, kinds) := [sprintf("%s may apply: %s names group %q whose members are not in the snapshot (Get-DistributionGroup, Get-DistributionGroupMember, nested groups included); it cannot be decided whether %s is a member", [
	_rule_text(c), x.field, g, identity.label(ctx.key),
]) |
	some x in kinds
	x.r == "unknown"
	some g in x.unknown
]

_kind_result(ctx, field, type, values) := {"field": field, "r": r, "unknown": unknown} if {
	results := [[v, _test(ctx, type, v)] | some v in values]
	unknown := [x[0] | some x in results; x[1] == "unknown"]
	r := _or_result([x[1] | some x in results])
}

_or_result(rs) := "match" if {
	"match" in rs
} else := "unknown" if {
	"unknown" in rs
} else := "no"

_test(ctx, "recipient", v) := "match" if {
	ctx.key in identity.resolve(v)
} else := "no"

_test(ctx, "domain", v) := "match" if {
	lower(trim_space(v)) == ctx.domain
} else := "no"

_test(ctx, "member_of", v) := member_of(ctx.key, v)

# ---------------------------------------------------------------------------
# Group membership, nested groups included.

member_of(key, group_ref) := "match" if {
	groups := identity.resolve_kind(group_ref, "group")
	key in graph.reachable(_member_graph, groups)
} else := "unknown" if {
	groups := identity.resolve_kind(group_ref, "group")
	count(groups) == 0
} else := "unknown" if {
	groups := identity.resolve_kind(group_ref, "group")
	some n in (groups | graph.reachable(_member_graph, groups))
	_unknown_membership(n)
} else := "no"

# Every node is a key of the graph (graph.reachable ignores the others); a
# group without collected membership is a leaf whose members are unknown.
_member_graph := object.union(
	{n: set() | some g, ms in _group_members; some n in ms},
	_group_members,
)

_group_members := {g: ms |
	some g, r in identity.recipients
	r.kind == "group"
	rows := identity.member_rows(g)
	ms := {n | some row in rows; some n in _member_nodes(row)}
}

# A member row of a group type that resolves to no group of the snapshot (an
# M365 group, say) is a nested group with unknown membership.
_member_nodes(row) := {concat("", ["unknown-group:", identity.label(n)]) | some n in nodes} if {
	nodes := identity.entry_nodes(row)
	is_object(row)
	regex.match(`(?i)group`, object.get(row, "RecipientType", ""))
	count({n | some n in nodes; identity.kind_of(n) == "group"}) == 0
} else := identity.entry_nodes(row)

_unknown_membership(n) if startswith(n, "unknown-group:")

_unknown_membership(n) if {
	identity.kind_of(n) == "group"
	not _group_members[n]
}

# Who a *MemberOf value covers (see the API above).
group_members(group_ref) := {"groups": groups, "members": members, "unknown": unknown} if {
	groups := identity.resolve_kind(group_ref, "group")
	count(groups) > 0
	reach := graph.reachable(_member_graph, groups)
	members := {n | some n in reach; not n in groups; not startswith(n, "unknown-group:")}
	unknown := sort({_unknown_label(n) | some n in reach; _unknown_membership(n)})
} else := {"groups": set(), "members": set(), "unknown": [sprintf("%s (no such group in Get-DistributionGroup)", [util.quote(group_ref)])]}

_unknown_label(n) := substring(n, 14, -1) if {
	startswith(n, "unknown-group:")
} else := identity.label(n)

policy_label(p) := sprintf("policy %q (default)", [_name(p)]) if {
	util.is_true(p.IsDefault)
} else := sprintf("policy %q (preset)", [_name(p)]) if {
	is_preset_policy(p)
} else := sprintf("policy %q", [_name(p)])
