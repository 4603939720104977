# Package route: how mail for the support address reaches the Atera ticketing
# address (SPEC §1.2), and the delivery graph the single-redirect check walks
# (SPEC §1.7).
#
# API (DESIGN.md; * = addition):
#   ticketing_contacts     set of contact keys whose ExternalEmailAddress is the
#                          ticketing address
#   support_recipients     identity.by_address(snap.support_address)
#   support_recipient_keys_by_kind*
#                          {"mailbox": set, "group": set, "contact": set}
#   routes                 set of {"method": "group"|"mailbox"|"transport_rule",
#                          "recipient": key, "detail": string}; a transport
#                          rule only when it acts now, on every message from
#                          outside to the support address
#   ambiguous_routes*      {"method", "recipient", "detail"} for a support
#                          mailbox's ForwardingAddress or a rule's SentTo/action
#                          that names several objects equally well
#                          (identity.resolve_best), one of them a ticketing
#                          contact: not a route, not a sure failure either
#   method                 the single method when routes agree; else undefined
#   forwarding_recipient*  the support recipient key of the group/mailbox
#                          routes, when there is exactly one
#   needed_sources*        cmdlets the routes depend on (set)
#   missing_sources*       those not collected, plus Get-DistributionGroupMember
#                          when a support group's member list is absent
#   missing_message*       snap.missing_message-style text for missing_sources
#   members_missing_message(addr)*  why a group's membership is unknown
#                          (Get-DistributionGroupMember and graph.groupMembers)
#   enforced_transport_rules*  Get-TransportRule rows that are Enabled and Enforce
#   active_transport_rules*    those inside their ActivationDate/ExpiryDate
#                          window at input.now (transport.rego)
#   transport_rule_candidates*  every rule whose SentTo names the support
#                          recipient and whose action reaches the ticketing
#                          contact: {"name", "recipient", "detail",
#                          "inactive": [why it does not act], "conditions":
#                          [what narrows the mail it acts on], "ambiguous":
#                          [references naming several objects],
#                          "excludes_external"}; a route when the lists are empty
#   transport_rule_inactive_reasons(rule)*, transport_rule_conditions(rule)*
#   edges                  set of {"from", "to", "kind", "hop", "detail"}; "to"
#                          is a recipient key, "external:addr", "unresolved:ref"
#                          or "ambiguous:ref" (identity.ref_nodes); members come
#                          from identity.members; transport rules are the
#                          active ones, conditional ones included (they may
#                          act); kind member|forwarding|inbox_rule|
#                          transport_rule; hop true for mailbox forwarding and
#                          inbox-rule forward/redirect
#   inbox_rules_collected(addr)*  Get-InboxRule or graph.messageRules has an
#                          entry for that mailbox address (an errored source
#                          has none: snap.per_recipient)
package ticketguard.lib.route

import data.ticketguard.lib.identity
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

ticketing_contacts := {k |
	some k, r in identity.recipients
	r.kind == "contact"
	util.norm_addr(r.object.ExternalEmailAddress) == snap.ticketing_address
}

# Empty (not undefined) when the support address is not declared.
support_recipients := ks if {
	ks := identity.by_address(snap.support_address)
} else := set()

support_recipient_keys_by_kind := {kind: keys |
	some kind in ["mailbox", "group", "contact"]
	keys := {k | some k in support_recipients; identity.recipients[k].kind == kind}
}

# A reference reaches Atera when it names a ticketing contact, or is the
# ticketing address itself (e.g. a transport rule written with the address).
# It names what identity.resolve_best says; when that is several objects
# (ambiguous), only if every one of them is a ticketing contact.
_reaches_ticketing(ref) if {
	ks := identity.resolve_best(ref)
	count(ks) > 0
	every k in ks {
		k in ticketing_contacts
	}
}

_reaches_ticketing(ref) if util.parse_ref(ref) == snap.ticketing_address

# An ambiguous reference one of whose candidates is a ticketing contact: the
# mail may reach Atera or go elsewhere.
_may_reach_ticketing(ref) if {
	not _reaches_ticketing(ref)
	some k in identity.resolve_best(ref)
	k in ticketing_contacts
}

_ambiguity(prop, ref) := sprintf("%s %s is ambiguous: it matches %s", [prop, util.quote(ref), _candidates_text(ref)])

_candidates_text(ref) := concat(" and ", sort([identity.label(k) | some k in identity.resolve_best(ref)]))

# Routes that would exist if an ambiguous reference named the contact.
ambiguous_routes contains r if {
	some mk in support_recipient_keys_by_kind.mailbox
	fa := object.get(identity.recipients[mk].object, "ForwardingAddress", null)
	not util.is_blank(fa)
	_may_reach_ticketing(fa)
	r := {
		"method": "mailbox",
		"recipient": mk,
		"detail": sprintf("ForwardingAddress %s of %s is ambiguous: it matches %s", [util.quote(fa), identity.label(mk), _candidates_text(fa)]),
	}
}

ambiguous_routes contains r if {
	some c in transport_rule_candidates
	count(c.inactive) == 0
	count(c.conditions) == 0
	count(c.ambiguous) > 0
	r := {"method": "transport_rule", "recipient": c.recipient, "detail": sprintf("transport rule %s: %s", [util.quote(c.name), concat("; ", c.ambiguous)])}
}

# Method 1: the support address is a distribution group containing the contact.
routes contains r if {
	some gk in support_recipient_keys_by_kind.group
	some ck in identity.members(gk)
	ck in ticketing_contacts
	r := {
		"method": "group",
		"recipient": gk,
		"detail": sprintf("%s has member %s", [identity.label(gk), identity.label(ck)]),
	}
}

# Method 2: the support mailbox forwards to the contact. ForwardingAddress wins
# over ForwardingSmtpAddress when both are set (SPEC §2).
routes contains r if {
	some mk in support_recipient_keys_by_kind.mailbox
	fa := object.get(identity.recipients[mk].object, "ForwardingAddress", null)
	not util.is_blank(fa)
	_reaches_ticketing(fa)
	r := {
		"method": "mailbox",
		"recipient": mk,
		"detail": sprintf("%s forwards to %s (ForwardingAddress %s)", [identity.label(mk), _ref_label(fa), util.quote(fa)]),
	}
}

routes contains r if {
	some mk in support_recipient_keys_by_kind.mailbox
	o := identity.recipients[mk].object
	util.is_blank(object.get(o, "ForwardingAddress", null))
	fsa := object.get(o, "ForwardingSmtpAddress", null)
	_fsa_reaches_ticketing(fsa)
	r := {
		"method": "mailbox",
		"recipient": mk,
		"detail": sprintf("%s forwards to %s (ForwardingSmtpAddress %s)", [identity.label(mk), util.norm_addr(fsa), util.quote(fsa)]),
	}
}

_fsa_reaches_ticketing(fsa) if util.norm_addr(fsa) == snap.ticketing_address

_fsa_reaches_ticketing(fsa) if {
	some k in identity.by_address(fsa)
	k in ticketing_contacts
}

# Fallback: a transport rule redirects mail sent to the support recipient to
# the contact. transport.rego decides which rules act on every message from
# outside; only those are routes.
routes contains r if {
	some c in transport_rule_candidates
	count(c.inactive) == 0
	count(c.conditions) == 0
	count(c.ambiguous) == 0
	r := {"method": "transport_rule", "recipient": c.recipient, "detail": c.detail}
}

_ref_label(ref) := concat(", ", sort([identity.label(k) | some k in identity.ref_nodes(ref)]))

method := m if {
	methods := {r.method | some r in routes}
	count(methods) == 1
	some m in methods
}

forwarding_recipient := k if {
	keys := {r.recipient | some r in routes; r.method in {"group", "mailbox"}}
	count(keys) == 1
	some k in keys
}

needed_sources := {"Get-MailContact", "Get-Mailbox", "Get-DistributionGroup", "Get-TransportRule"}

missing_sources := snap.unavailable(needed_sources) | _missing_members

_missing_members contains "Get-DistributionGroupMember" if {
	some gk in support_recipient_keys_by_kind.group
	not identity.member_rows(gk)
}

missing_message := concat("; ", [_missing_part(n) | some n in sort(missing_sources)])

_missing_part(n) := snap.missing_message([n]) if n != "Get-DistributionGroupMember"

_missing_part("Get-DistributionGroupMember") := members_missing_message(snap.support_address)

# Why a group's membership is unknown: both places it could have come from.
members_missing_message(addr) := concat("; ", [snap.recipient_missing_message(src, addr) | some src in _member_sources])

# ---------------------------------------------------------------------------
# The delivery graph (single-redirect).

# Mailbox forwarding: a hop. ForwardingSmtpAddress only counts when
# ForwardingAddress is empty, as in Exchange.
edges contains e if {
	some mk, rec in identity.recipients
	rec.kind == "mailbox"
	fa := object.get(rec.object, "ForwardingAddress", null)
	not util.is_blank(fa)
	some to in identity.ref_nodes(fa)
	e := {
		"from": mk, "to": to, "kind": "forwarding", "hop": true,
		"detail": sprintf("%s forwards to %s (ForwardingAddress %s)", [rec.label, identity.label(to), util.quote(fa)]),
	}
}

edges contains e if {
	some mk, rec in identity.recipients
	rec.kind == "mailbox"
	fsa := object.get(rec.object, "ForwardingSmtpAddress", null)
	not util.is_blank(fsa)
	util.is_blank(object.get(rec.object, "ForwardingAddress", null))
	some to in identity.node(fsa)
	e := {
		"from": mk, "to": to, "kind": "forwarding", "hop": true,
		"detail": sprintf("%s forwards to %s (ForwardingSmtpAddress %s)", [rec.label, identity.label(to), util.quote(fsa)]),
	}
}

# Group expansion: not a redirect. Membership is read only through
# identity.members (Get-DistributionGroupMember, else graph.groupMembers;
# nothing for an errored source), for every group of the snapshot and for any
# address a membership list is keyed by that no group of the snapshot holds.
_member_sources := ["Get-DistributionGroupMember", "graph.groupMembers"]

_group_nodes := {k | some k, r in identity.recipients; r.kind == "group"} | {n |
	some src in _member_sources
	some addr, _ in snap.per_recipient_all(src)
	some n in identity.node(addr)
}

edges contains e if {
	some from in _group_nodes
	some to in identity.members(from)
	e := {
		"from": from, "to": to, "kind": "member", "hop": false,
		"detail": sprintf("%s has member %s", [identity.label(from), identity.label(to)]),
	}
}

# Inbox rules (Get-InboxRule): ForwardTo, RedirectTo, ForwardAsAttachmentTo.
_inbox_fields := ["ForwardTo", "RedirectTo", "ForwardAsAttachmentTo"]

edges contains e if {
	some addr, rules in snap.per_recipient_all("Get-InboxRule")
	rules != null
	some from in identity.node(addr)
	some rule in util.as_array(rules)
	is_object(rule)
	_rule_on(object.get(rule, "Enabled", null))
	some field in _inbox_fields
	some ref in util.strings(object.get(rule, field, null))
	some to in identity.ref_nodes(ref)
	e := {
		"from": from, "to": to, "kind": "inbox_rule", "hop": true,
		"detail": sprintf("inbox rule %s of %s: %s %s", [
			util.quote(object.get(rule, "Name", "(no name)")),
			identity.label(from), field, identity.label(to),
		]),
	}
}

# Inbox rules read through Microsoft Graph (messageRule). redirectTo was typed
# as one recipient in older documentation: both shapes are accepted. The two
# sources describe the same rules, so Graph is read only for a mailbox whose
# Get-InboxRule was not collected (the Global Reader role cannot run
# Get-InboxRule); reading both would report every hop twice.
_graph_fields := ["forwardTo", "redirectTo", "forwardAsAttachmentTo"]

edges contains e if {
	some addr, rules in snap.per_recipient_all("graph.messageRules")
	rules != null
	not snap.per_recipient("Get-InboxRule", addr)
	some from in identity.node(addr)
	some rule in util.as_array(rules)
	is_object(rule)
	_rule_on(object.get(rule, "isEnabled", null))
	actions := object.get(rule, "actions", {})
	is_object(actions)
	some field in _graph_fields
	some target in util.as_array(object.get(actions, field, null))
	some to in identity.entry_nodes(target)
	e := {
		"from": from, "to": to, "kind": "inbox_rule", "hop": true,
		"detail": sprintf("inbox rule %s of %s: %s %s", [
			util.quote(object.get(rule, "displayName", "(no name)")),
			identity.label(from), field, identity.label(to),
		]),
	}
}

# Exchange and Graph always say whether a rule is enabled. If they do not, the
# rule is counted: missing a hop could pass a broken route, counting one can
# only over-report.
_rule_on(enabled) if not util.is_false(enabled)

# Transport rules: the message is redirected or copied in transport, which is
# not an inbox-rule hop.
edges contains e if {
	some rule in active_transport_rules
	some sent_to in util.strings(object.get(rule, "SentTo", null))
	some from in identity.ref_nodes(sent_to)
	some field in _action_fields
	some target in util.strings(object.get(rule, field, null))
	some to in identity.ref_nodes(target)
	e := {
		"from": from, "to": to, "kind": "transport_rule", "hop": false,
		"detail": sprintf("transport rule %s: mail sent to %s, %s %s%s", [
			util.quote(object.get(rule, "Name", "(no name)")),
			identity.label(from), field, identity.label(to),
			_conditional_note(rule),
		]),
	}
}

# A conditional rule may act, so it is an edge; the path text says so.
_conditional_note(rule) := " (the rule acts only under conditions: see the support-route check)" if {
	count(transport_rule_conditions(rule)) > 0
} else := ""

inbox_rules_collected(addr) if snap.per_recipient("Get-InboxRule", addr)

inbox_rules_collected(addr) if snap.per_recipient("graph.messageRules", addr)
