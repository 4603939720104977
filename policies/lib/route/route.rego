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
#                          "recipient": key, "detail": string}
#   method                 the single method when routes agree; else undefined
#   forwarding_recipient*  the support recipient key of the group/mailbox
#                          routes, when there is exactly one
#   needed_sources*        cmdlets the routes depend on (set)
#   missing_sources*       those not collected, plus Get-DistributionGroupMember
#                          when a support group's member list is absent
#   missing_message*       snap.missing_message-style text for missing_sources
#   enforced_transport_rules*  Get-TransportRule rows that are Enabled and Enforce
#   edges                  set of {"from", "to", "kind", "hop", "detail"}; "to"
#                          is a recipient key, "external:addr" or
#                          "unresolved:ref"; kind member|forwarding|inbox_rule|
#                          transport_rule; hop true for mailbox forwarding and
#                          inbox-rule forward/redirect
#   inbox_rules_collected(addr)*  Get-InboxRule or graph.messageRules has an
#                          entry for that mailbox address
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
_reaches_ticketing(ref) if {
	some k in identity.resolve(ref)
	k in ticketing_contacts
}

_reaches_ticketing(ref) if util.parse_ref(ref) == snap.ticketing_address

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

# Fallback: an enforced transport rule redirects mail sent to the support
# recipient to the contact.
_action_fields := ["RedirectMessageTo", "BlindCopyTo", "AddToRecipients", "CopyTo"]

routes contains r if {
	some rule in enforced_transport_rules
	some recipient in _rule_support_targets(rule)
	some field in _action_fields
	some target in util.strings(object.get(rule, field, null))
	_reaches_ticketing(target)
	r := {
		"method": "transport_rule",
		"recipient": recipient,
		"detail": sprintf("transport rule %s (priority %v) sends mail for %s to %s (%s)", [
			util.quote(object.get(rule, "Name", "(no name)")),
			object.get(rule, "Priority", "unknown"),
			identity.label(recipient),
			_ref_label(target),
			field,
		]),
	}
}

# The support recipients a rule's SentTo names. When the support address is
# named but no recipient of the snapshot has it, the node is "external:addr".
_rule_support_targets(rule) := {k |
	some v in util.strings(object.get(rule, "SentTo", null))
	some k in _support_nodes(v)
}

_support_nodes(v) := ks if {
	ks := identity.resolve(v) & support_recipients
	count(ks) > 0
} else := identity.node(snap.support_address) if {
	util.parse_ref(v) == snap.support_address
} else := set()

# Real Exchange Online always returns Mode. When it is absent or null the rule
# is taken to be enforced, but only if its State is Enabled: a hand-written or
# trimmed snapshot should not lose a working redirect for want of Mode.
enforced_transport_rules := [rule |
	some rule in snap.items("Get-TransportRule")
	is_object(rule)
	util.eq_fold(object.get(rule, "State", null), "Enabled")
	_enforce_mode(object.get(rule, "Mode", null))
]

_enforce_mode(null)

_enforce_mode(mode) if util.eq_fold(mode, "Enforce")

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

_missing_part("Get-DistributionGroupMember") := snap.recipient_missing_message("Get-DistributionGroupMember", snap.support_address)

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

# Group expansion: not a redirect.
edges contains e if {
	some addr, rows in snap.per_recipient_all("Get-DistributionGroupMember")
	rows != null
	some from in identity.node(addr)
	some row in util.as_array(rows)
	some to in identity.entry_nodes(row)
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
	some rule in enforced_transport_rules
	some sent_to in util.strings(object.get(rule, "SentTo", null))
	some from in identity.ref_nodes(sent_to)
	some field in _action_fields
	some target in util.strings(object.get(rule, field, null))
	some to in identity.ref_nodes(target)
	e := {
		"from": from, "to": to, "kind": "transport_rule", "hop": false,
		"detail": sprintf("transport rule %s: mail sent to %s, %s %s", [
			util.quote(object.get(rule, "Name", "(no name)")),
			identity.label(from), field, identity.label(to),
		]),
	}
}

inbox_rules_collected(addr) if snap.per_recipient("Get-InboxRule", addr)

inbox_rules_collected(addr) if snap.per_recipient("graph.messageRules", addr)
