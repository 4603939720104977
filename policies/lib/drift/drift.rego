# Package drift: the canonical view of a snapshot, for drift detection
# (issue 4 §2: `ticketguard diff` and each scheduled run against the last).
#
# Drift is a change in what the checks read, and nothing else. The view holds
# exactly the objects and properties the built-in checks read, each in one
# canonical form, so that two snapshots of an unchanged tenant give equal
# views however Exchange happened to write them:
# - volatile fields (WhenChanged, WhenCreated, ObjectState, ...) and OData
#   annotations are not in the view at all;
# - a recipient is keyed by its identity.recipients key (directory ids), and a
#   reference to one (ForwardingAddress, ManagedBy, rule conditions, Send As
#   trustees, inbox-rule targets) is resolved with lib.identity, so a name, a
#   GUID, a DN or an address naming the same object are the same value;
# - multi-valued properties are sorted sets: null, [] and an absent property
#   are the same empty set, and order never matters;
# - addresses are lower-case without "smtp:"; booleans written as "True" are
#   true; Exchange's enumerations keep one spelling ("Enabled", "On");
# - the connection filter's IPAllowList is the union of its entries as merged
#   address blocks, so "1.2.3.0/24" and two "/25"s are the same list.
#
# API (issue 4 §2; the Go side is internal/drift):
#   view   object key -> {
#            "kind":       "mailbox" | "group" | "contact" | "outbound-policy" |
#                          "outbound-rule" | "antiphish-policy" | "antiphish-rule" |
#                          "protection-rule" | "remote-domain" | "transport-rule" |
#                          "connection-filter" | "transport-config" | "cas-mailbox" |
#                          "recipient-permission" | "inbox-rule" | "message-rule" |
#                          "atera" | "source",
#            "label":      how a person names the object (not compared),
#            "sources":    source ids the object's existence depends on,
#            "properties": {name: canonical value},
#          }
#
# Keys: recipients by their identity.recipients key; policies, rules, remote
# domains and the like by kind and lower-cased Name (else Identity, else
# Guid); per-recipient data (CAS settings, Send As, inbox and message rules)
# by the owning recipient's key. A key shared by two objects (a damaged
# export) gets "#<position>" appended, as identity does.
#
# Values: a reference to a recipient is {"ref": key, "label": label} (an
# "external:addr" or "unresolved:ref" key when no recipient answers to it);
# two references are the same when their "ref" is. A rule's policy is a
# reference too, to the policy's view key. Every array is a sorted set.
#
# What is not known is left out rather than guessed, so that a collection
# failure is never reported as a configuration change:
# - "source" objects (key "source:<id>", property "collected") say whether a
#   source was collected: one per cmdlet the view reads, always present, and
#   one per recipient entry of a per-recipient cmdlet ("Get-InboxRule
#   support@acme.com"), present only when collected. An object whose
#   "sources" are not all collected in both snapshots cannot be said to be
#   added or removed.
# - a property that cannot be read is left out of "properties": reference
#   properties when any of Get-Mailbox, Get-DistributionGroup, Get-MailContact
#   is missing (a reference cannot be resolved then), a group's Members when
#   its Get-DistributionGroupMember entry was not collected. A property
#   present on one side only is not a change.
# - a single-valued property that is absent and one that is null are both
#   null.
package ticketguard.lib.drift

import data.ticketguard.lib.identity
import data.ticketguard.lib.ipnet
import data.ticketguard.lib.route
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

# ---------------------------------------------------------------------------
# Canonical values.

# These run for every property of every recipient, so they are else-chains
# that stop at the first match, the common case first.
_bool(x) := x if {
	is_boolean(x)
} else := b if {
	is_string(x)
	b := _bool_words[lower(trim_space(x))]
} else := _text(x)

_bool_words := {"true": true, "false": false}

# A string trimmed, blank as null; anything else as it is (an array with no
# value, where one value is usual, as null).
_text(x) := null if {
	x == null
} else := t if {
	is_string(x)
	t := trim_space(x)
	t != ""
} else := null if {
	is_string(x)
} else := null if {
	util.is_blank(x)
} else := x

_addr(x) := a if {
	is_string(x)
	a := util.norm_addr(x)
	a != ""
} else := _text(x)

_lower(x) := lower(t) if {
	is_string(x)
	t := trim_space(x)
	t != ""
} else := _text(x)

# One spelling per enumeration value, whatever case Exchange used.
_enum(x, spellings) := s if {
	is_string(x)
	s := spellings[lower(trim_space(x))]
} else := _text(x)

_states := {"enabled": "Enabled", "disabled": "Disabled"}

_modes := {"enforce": "Enforce", "audit": "Audit", "auditandnotify": "AuditAndNotify"}

_forwarding_modes := {"on": "On", "off": "Off", "automatic": "Automatic"}

_number(x) := x if {
	is_number(x)
} else := to_number(trim_space(x)) if {
	is_string(x)
	regex.match(`^\s*-?[0-9]+(\.[0-9]+)?\s*$`, x)
} else := _text(x)

_set(x) := sort({trim_space(s) | some s in util.strings(x)})

_domains(x) := sort({lower(trim_space(s)) | some s in util.strings(x)})

_ref(k) := {"ref": k, "label": identity.label(k)}

_refs(x) := [_ref(k) | some k in sort({k | some s in util.strings(x); some k in identity.ref_nodes(s)})]

# Member-like values: strings or objects (group member rows, Graph recipients).
_entry_refs(xs) := [_ref(k) | some k in sort({k | some e in util.as_array(xs); some k in identity.entry_nodes(e)})]

# References resolve against all three recipient cmdlets; with one missing a
# reference could resolve differently, so reference properties are left out.
_recipient_cmdlets := ["Get-Mailbox", "Get-DistributionGroup", "Get-MailContact"]

_refs_known if count(snap.unavailable(_recipient_cmdlets)) == 0

_with_refs(props, refs) := object.union(props, refs) if {
	_refs_known
} else := props

# _uniq makes a kind's ids unique: unchanged when they already are (the usual
# case, decided by a count), else each gets its position appended.
_uniq(ids) := ids if {
	count({i | some i in ids}) == count(ids)
} else := [sprintf("%s#%d", [id, i]) | some i, id in ids]

_name(o) := s if {
	s := _text(o.Name)
	is_string(s)
} else := s if {
	s := _text(o.Identity)
	is_string(s)
} else := s if {
	s := _text(o.Guid)
	is_string(s)
} else := "(no name)"

# The first directory id of a row, as identity keys recipients.
_row_id(o) := lower(trim_space(o[f])) if {
	f := _first_id_field(o)
} else := util.norm_addr(o.PrimarySmtpAddress) if {
	is_string(o.PrimarySmtpAddress)
	trim_space(o.PrimarySmtpAddress) != ""
}

_first_id_field(o) := fs[0] if {
	fs := [f |
		some f in ["ExternalDirectoryObjectId", "Guid", "ExchangeObjectId", "Identity"]
		is_string(o[f])
		trim_space(o[f]) != ""
	]
	count(fs) > 0
}

_object(k, kind, label, sources, properties) := {k: {
	"kind": kind,
	"label": label,
	"sources": sources,
	"properties": properties,
}}

# ---------------------------------------------------------------------------
# The view. Every section's keys start with its kind, so they cannot clash.

view := {k: v |
	some part in [_sources, _recipients, _named, _per_recipient, [_atera]]
	some o in part
	some k, v in o
}

# ---------------------------------------------------------------------------
# Sources.

_top_sources := [
	"Get-Mailbox", "Get-DistributionGroup", "Get-MailContact", "Get-DistributionGroupMember",
	"Get-InboxRule", "graph.messageRules", "Get-CASMailbox", "Get-RecipientPermission",
	"Get-HostedOutboundSpamFilterPolicy", "Get-HostedOutboundSpamFilterRule",
	"Get-AntiPhishPolicy", "Get-AntiPhishRule", "Get-EOPProtectionPolicyRule",
	"Get-RemoteDomain", "Get-TransportRule", "Get-TransportConfig",
	"Get-HostedConnectionFilterPolicy",
]

_per_recipient_cmdlets := ["Get-InboxRule", "graph.messageRules"]

_collected(s) if {
	s in _collected_sources
} else := false

# Computed once per evaluation: snap.collected is a function, and it is asked
# for every recipient.
_collected_sources := {s | some s in _top_sources; snap.collected(s)}

_source_id(cmdlet, addr) := concat(" ", [cmdlet, addr])

_sources := array.concat(
	[o |
		some s in _top_sources
		o := _object(concat(":", ["source", s]), "source", sprintf("source %q", [s]), [], {"collected": _collected(s)})
	],
	[o |
		some cmdlet in _per_recipient_cmdlets
		snap.collected(cmdlet)
		some addr, rows in snap.per_recipient_all(cmdlet)
		rows != null
		id := _source_id(cmdlet, addr)
		o := _object(concat(":", ["source", id]), "source", sprintf("source %q", [id]), [], {"collected": true})
	],
)

# ---------------------------------------------------------------------------
# Recipients: Get-Mailbox, Get-DistributionGroup, Get-MailContact.

_recipient_source := {"mailbox": "Get-Mailbox", "group": "Get-DistributionGroup", "contact": "Get-MailContact"}

_recipients := [o |
	some k, r in identity.recipients
	src := _recipient_source[r.kind]
	src in _collected_sources
	o := _object(k, r.kind, r.label, [src], _recipient_properties(k, r))
]

_common(r) := {
	"DisplayName": _text(object.get(r.object, "DisplayName", null)),
	"PrimarySmtpAddress": _addr(r.primary),
	"EmailAddresses": sort(r.addresses),
}

_recipient_properties(_, r) := _with_refs(
	object.union(_common(r), {
		"ForwardingSmtpAddress": _addr(object.get(r.object, "ForwardingSmtpAddress", null)),
		"DeliverToMailboxAndForward": _bool(object.get(r.object, "DeliverToMailboxAndForward", null)),
		"RecipientTypeDetails": _text(object.get(r.object, "RecipientTypeDetails", null)),
		"UserPrincipalName": _lower(object.get(r.object, "UserPrincipalName", null)),
	}),
	{"ForwardingAddress": _refs(object.get(r.object, "ForwardingAddress", null))},
) if r.kind == "mailbox"

_recipient_properties(k, r) := _with_refs(
	object.union(_common(r), {"RequireSenderAuthenticationEnabled": _bool(object.get(r.object, "RequireSenderAuthenticationEnabled", null))}),
	object.union(_members(k), {p: _refs(object.get(r.object, p, null)) | some p in _group_ref_props}),
) if r.kind == "group"

_recipient_properties(_, r) := object.union(_common(r), {"ExternalEmailAddress": _addr(object.get(r.object, "ExternalEmailAddress", null))}) if r.kind == "contact"

_group_ref_props := [
	"AcceptMessagesOnlyFrom", "AcceptMessagesOnlyFromDLMembers",
	"AcceptMessagesOnlyFromSendersOrMembers", "ManagedBy",
]

# Members only when this group's membership was collected
# (identity.members: Get-DistributionGroupMember, else graph.groupMembers;
# undefined for an errored source): an uncollected membership is unknown,
# not empty.
_members(k) := {"Members": [_ref(n) | some n in sort(ms)]} if {
	ms := identity.members(k)
} else := {}

# ---------------------------------------------------------------------------
# Named objects: policies, rules, remote domains, transport settings.

_named_kinds := [
	{"kind": "outbound-policy", "cmdlet": "Get-HostedOutboundSpamFilterPolicy", "noun": "outbound anti-spam policy"},
	{"kind": "outbound-rule", "cmdlet": "Get-HostedOutboundSpamFilterRule", "noun": "outbound anti-spam rule"},
	{"kind": "antiphish-policy", "cmdlet": "Get-AntiPhishPolicy", "noun": "anti-phishing policy"},
	{"kind": "antiphish-rule", "cmdlet": "Get-AntiPhishRule", "noun": "anti-phishing rule"},
	{"kind": "protection-rule", "cmdlet": "Get-EOPProtectionPolicyRule", "noun": "preset security policy rule"},
	{"kind": "remote-domain", "cmdlet": "Get-RemoteDomain", "noun": "remote domain"},
	{"kind": "transport-rule", "cmdlet": "Get-TransportRule", "noun": "transport rule"},
	{"kind": "connection-filter", "cmdlet": "Get-HostedConnectionFilterPolicy", "noun": "connection filter policy"},
	{"kind": "transport-config", "cmdlet": "Get-TransportConfig", "noun": "transport configuration"},
]

_noun := {s.kind: s.noun | some s in _named_kinds}

_named_objects(cmdlet) := [o | some o in snap.items(cmdlet); is_object(o)]

# kind -> [[key, object], ...]
_named_keys := {s.kind: pairs |
	some s in _named_kinds
	objs := _named_objects(s.cmdlet)
	ids := _uniq([lower(_name(o)) | some o in objs])
	pairs := [[concat(":", [s.kind, ids[i]]), o] | some i, o in objs]
}

_named := [o |
	some s in _named_kinds
	snap.collected(s.cmdlet)
	some [k, obj] in _named_keys[s.kind]
	o := _object(k, s.kind, sprintf("%s %q", [s.noun, _name(obj)]), [s.cmdlet], _properties(s.kind, obj))
]

# A rule's policy, as a reference to the policy's view key: the policy whose
# Name, Identity or Guid the rule names; else the name as written.
_policy_ref(kind, ref) := {"ref": pairs[0][0], "label": sprintf("%s %q", [_noun[kind], _name(pairs[0][1])])} if {
	pairs := [p | some p in _named_keys[kind]; _names_policy(p[1], ref)]
	count(pairs) > 0
} else := {"ref": concat(":", [kind, lower(trim_space(ref))]), "label": sprintf("%s %q", [_noun[kind], trim_space(ref)])} if {
	not util.is_blank(ref)
	is_string(ref)
} else := null

_names_policy(p, ref) if util.eq_fold(p.Name, ref)

_names_policy(p, ref) if util.eq_fold(p.Identity, ref)

_names_policy(p, ref) if util.eq_fold(p.Guid, ref)

_get(o, p) := object.get(o, p, null)

_properties("outbound-policy", o) := {
	"AutoForwardingMode": _enum(_get(o, "AutoForwardingMode"), _forwarding_modes),
	"IsDefault": _bool(_get(o, "IsDefault")),
}

_properties("outbound-rule", o) := _with_refs(
	{
		"HostedOutboundSpamFilterPolicy": _policy_ref("outbound-policy", _get(o, "HostedOutboundSpamFilterPolicy")),
		"Priority": _number(_get(o, "Priority")),
		"State": _enum(_get(o, "State"), _states),
		"SenderDomainIs": _domains(_get(o, "SenderDomainIs")),
		"ExceptIfSenderDomainIs": _domains(_get(o, "ExceptIfSenderDomainIs")),
	},
	{p: _refs(_get(o, p)) | some p in ["From", "FromMemberOf", "ExceptIfFrom", "ExceptIfFromMemberOf"]},
)

_properties("antiphish-policy", o) := {
	"EnableViaTag": _bool(_get(o, "EnableViaTag")),
	"Enabled": _bool(_get(o, "Enabled")),
	"IsDefault": _bool(_get(o, "IsDefault")),
	"RecommendedPolicyType": _text(_get(o, "RecommendedPolicyType")),
}

_properties("antiphish-rule", o) := _antiphish_rule(o)

_properties("protection-rule", o) := _antiphish_rule(o)

_properties("remote-domain", o) := {
	"DomainName": _lower(_get(o, "DomainName")),
	"AutoForwardEnabled": _bool(_get(o, "AutoForwardEnabled")),
}

_properties("transport-rule", o) := _with_refs(
	{
		"State": _enum(_get(o, "State"), _states),
		"Mode": _enum(_get(o, "Mode"), _modes),
		"Priority": _number(_get(o, "Priority")),
		"SentToScope": _text(_get(o, "SentToScope")),
		"RecipientDomainIs": _domains(_get(o, "RecipientDomainIs")),
		"ExceptIfRecipientDomainIs": _domains(_get(o, "ExceptIfRecipientDomainIs")),
		"MessageTypeMatches": _set(_get(o, "MessageTypeMatches")),
		"RejectMessageReasonText": _text(_get(o, "RejectMessageReasonText")),
		"RejectMessageEnhancedStatusCode": _text(_get(o, "RejectMessageEnhancedStatusCode")),
		"DeleteMessage": _bool(_get(o, "DeleteMessage")),
	},
	{p: _refs(_get(o, p)) | some p in [
		"SentTo", "ExceptIfSentTo",
		"RedirectMessageTo", "BlindCopyTo", "AddToRecipients", "CopyTo",
	]},
)

_properties("connection-filter", o) := {"IPAllowList": _ip_list(_get(o, "IPAllowList"))}

_properties("transport-config", o) := {"SmtpClientAuthenticationDisabled": _bool(_get(o, "SmtpClientAuthenticationDisabled"))}

_antiphish_rule(o) := _with_refs(
	{
		"AntiPhishPolicy": _policy_ref("antiphish-policy", _get(o, "AntiPhishPolicy")),
		"Priority": _number(_get(o, "Priority")),
		"State": _enum(_get(o, "State"), _states),
		"RecipientDomainIs": _domains(_get(o, "RecipientDomainIs")),
		"ExceptIfRecipientDomainIs": _domains(_get(o, "ExceptIfRecipientDomainIs")),
	},
	{p: _refs(_get(o, p)) | some p in ["SentTo", "SentToMemberOf", "ExceptIfSentTo", "ExceptIfSentToMemberOf"]},
)

# ---------------------------------------------------------------------------
# IPAllowList: the union of the valid entries as maximal address blocks,
# then the invalid entries (which the check reports and ignores).

_ip_list(entries) := array.concat(
	[_block_text(b[0], b[1]) | some b in _blocks(ivs)],
	sort({lower(trim_space(e)) | some e in ipnet.invalid_entries(strs)}),
) if {
	strs := util.strings(entries)
	ivs := [iv | some e in strs; iv := ipnet.interval(e)]
}

# A block starts where an entry starts and the address before is not
# covered, and ends where an entry ends and the address after is not; the
# n-th start and the n-th end (both sorted) bound the n-th block.
_blocks(ivs) := [[s, ends[i]] | some i, s in starts] if {
	starts := sort({iv[0] | some iv in ivs; not _covered(ivs, iv[0] - 1)})
	ends := sort({iv[1] | some iv in ivs; not _covered(ivs, iv[1] + 1)})
}

_covered(ivs, p) if {
	some iv in ivs
	iv[0] <= p
	p <= iv[1]
}

_block_text(a, b) := ipnet.to_ip(a) if {
	a == b
} else := sprintf("%s/%d", [ipnet.to_ip(a), 32 - n]) if {
	size := (b - a) + 1
	some n in numbers.range(1, 32)
	bits.lsh(1, n) == size
	a % size == 0
} else := sprintf("%s-%s", [ipnet.to_ip(a), ipnet.to_ip(b)])

# ---------------------------------------------------------------------------
# Per-recipient data.

_per_recipient := array.concat(array.concat(_cas, _send_as), array.concat(_inbox_rules, _message_rules))

# CAS settings: keyed by the mailbox's own directory id, which is the
# identity key of that mailbox ("mailbox:<id>"), so the key does not depend
# on Get-Mailbox being collected.
_cas_rows := [r | some r in snap.items("Get-CASMailbox"); is_object(r)]

_cas_owner(r) := concat(":", ["mailbox", _row_id(r)]) if {
	_row_id(r)
} else := "mailbox:(no id)"

_cas_label(owner, r) := identity.label(owner) if {
	identity.recipients[owner]
} else := sprintf("mailbox <%s>", [a]) if {
	a := util.norm_addr(r.PrimarySmtpAddress)
} else := owner

_cas := [o |
	snap.collected("Get-CASMailbox")
	ids := _uniq([concat(":", ["cas-mailbox", _cas_owner(r)]) | some r in _cas_rows])
	some i, r in _cas_rows
	o := _object(
		ids[i], "cas-mailbox",
		sprintf("CAS settings of %s", [_cas_label(_cas_owner(r), r)]),
		["Get-CASMailbox"],
		{"SmtpClientAuthenticationDisabled": _bool(_get(r, "SmtpClientAuthenticationDisabled"))},
	)
]

# Send As (Get-RecipientPermission): one object per resource and trustee.
# Rows without Identity are the support recipient's (DESIGN "Check semantics
# decided"). Keys are resolved recipients, so they need all recipient cmdlets.
_perm_rows := [r | some r in snap.items("Get-RecipientPermission"); is_object(r)]

_perm_owner(r) := _nodes_id(identity.ref_nodes(r.Identity)) if {
	not util.is_blank(_get(r, "Identity"))
} else := _nodes_id(route.support_recipients) if {
	count(route.support_recipients) > 0
} else := identity.external_key(snap.support_address) if {
	snap.support_address
} else := "unresolved:(support address not declared)"

_nodes_id(ks) := concat(",", sort(ks)) if {
	count(ks) > 0
} else := "unresolved:(none)"

_nodes_label(ids) := concat(", ", [_node_label(k) | some k in split(ids, ",")])

_rights(x) := sort({_right(p) |
	some e in util.as_array(x)
	is_string(e)
	some part in split(e, ",")
	p := trim_space(part)
	p != ""
} | {"SendAs" |
	some e in util.as_array(x)
	is_number(e)
	bits.and(e, 1) == 1
})

_right(p) := "SendAs" if {
	lower(p) == "sendas"
} else := p

_access(x) := "Allow" if {
	util.eq_fold(x, "allow")
} else := "Allow" if {
	x == 0
} else := "Deny" if {
	util.eq_fold(x, "deny")
} else := "Deny" if {
	x == 1
} else := _text(x)

# Trustees that are security principals (NT AUTHORITY\SELF, SIDs) never
# name a recipient; they get a key of their own rather than "unresolved:".
_trustee_nodes(t) := {concat("", ["principal:", lower(trim_space(t))])} if {
	identity.is_unresolvable(t)
} else := identity.ref_nodes(t)

_node_label(k) := upper(substring(k, 10, -1)) if {
	startswith(k, "principal:")
} else := identity.label(k)

_send_as := [o |
	snap.collected("Get-RecipientPermission")
	_refs_known
	pairs := [[_perm_owner(r), _nodes_id(_trustee_nodes(_get(r, "Trustee")))] | some r in _perm_rows]
	ids := _uniq([concat("|", [concat(":", ["recipient-permission", p[0]]), p[1]]) | some p in pairs])
	some i, r in _perm_rows
	o := _object(
		ids[i], "recipient-permission",
		sprintf("permission on %s for %s", [_nodes_label(pairs[i][0]), _nodes_label(pairs[i][1])]),
		array.concat(["Get-RecipientPermission"], _recipient_cmdlets),
		{
			"AccessRights": _rights(_get(r, "AccessRights")),
			"AccessControlType": _access(_get(r, "AccessControlType")),
		},
	)
]

# Inbox rules (Get-InboxRule) and Graph message rules that forward or
# redirect: the checks read their state and targets, nothing else.
_inbox_fields := ["ForwardTo", "RedirectTo", "ForwardAsAttachmentTo"]

_graph_fields := ["forwardTo", "redirectTo", "forwardAsAttachmentTo"]

_owner(addr) := _nodes_id(identity.node(addr))

# An inbox rule's Identity is "<mailbox>\<rule id>"; the rule id stays when
# the mailbox part is written another way.
_inbox_rule_id(rule) := lower(parts[count(parts) - 1]) if {
	is_string(rule.Identity)
	parts := split(trim_space(rule.Identity), "\\")
	parts[count(parts) - 1] != ""
} else := sprintf("%v", [rule.RuleIdentity]) if {
	not util.is_blank(_get(rule, "RuleIdentity"))
} else := lower(_name(rule))

_forwards(rule, fields) if {
	some f in fields
	count(util.strings(_get(rule, f))) > 0
}

_inbox_rules := [o |
	snap.collected("Get-InboxRule")
	some addr, rows in snap.per_recipient_all("Get-InboxRule")
	rows != null
	rules := [r | some r in util.as_array(rows); is_object(r); _forwards(r, _inbox_fields)]
	owner := _owner(addr)
	ids := _uniq([concat("/", [concat(":", ["inbox-rule", owner]), _inbox_rule_id(r)]) | some r in rules])
	some i, rule in rules
	o := _object(
		ids[i], "inbox-rule",
		sprintf("inbox rule %q of %s", [_name(rule), _nodes_label(owner)]),
		array.concat([_source_id("Get-InboxRule", addr)], _recipient_cmdlets),
		_with_refs(
			{"Enabled": _bool(_get(rule, "Enabled"))},
			{f: _refs(_get(rule, f)) | some f in _inbox_fields},
		),
	)
]

_graph_forwards(rule) if {
	is_object(rule.actions)
	some f in _graph_fields
	count(util.as_array(object.get(rule.actions, f, null))) > 0
}

_message_rule_id(rule) := lower(trim_space(rule.id)) if {
	is_string(rule.id)
	trim_space(rule.id) != ""
} else := lower(_text(rule.displayName)) if {
	is_string(_text(rule.displayName))
} else := "(no id)"

_message_rule_name(rule) := s if {
	s := _text(rule.displayName)
	is_string(s)
} else := "(no name)"

_message_rules := [o |
	snap.collected("graph.messageRules")
	some addr, rows in snap.per_recipient_all("graph.messageRules")
	rows != null
	rules := [r | some r in util.as_array(rows); is_object(r); _graph_forwards(r)]
	owner := _owner(addr)
	ids := _uniq([concat("/", [concat(":", ["message-rule", owner]), _message_rule_id(r)]) | some r in rules])
	some i, rule in rules
	o := _object(
		ids[i], "message-rule",
		sprintf("message rule %q of %s", [_message_rule_name(rule), _nodes_label(owner)]),
		array.concat([_source_id("graph.messageRules", addr)], _recipient_cmdlets),
		_with_refs(
			{"isEnabled": _bool(_get(rule, "isEnabled"))},
			{f: _entry_refs(object.get(rule.actions, f, null)) | some f in _graph_fields},
		),
	)
]

# ---------------------------------------------------------------------------
# The Atera section, as the user declared it.

_atera := _object("atera", "atera", "Atera e-mail settings", [], {
	"ticketing_address": _ticketing_address,
	"support_address": _support_address,
	"smtp": _smtp_mode,
	"smtp.server": _host(object.get(_smtp, "server", null)),
	"smtp.port": _number(object.get(_smtp, "port", null)),
	"smtp.ssl": _bool(object.get(_smtp, "ssl", null)),
	"smtp.username": _addr(object.get(_smtp, "username", null)),
})

default _ticketing_address := null

_ticketing_address := snap.ticketing_address

default _support_address := null

_support_address := snap.support_address

# atera.smtp: an object (custom SMTP), null (Atera's own sender) or not declared.
_smtp_mode := "custom" if {
	snap.custom_smtp
} else := "default (noreply@atera.com)" if {
	snap.smtp_declared
	snap.smtp == null
} else := null

default _smtp := {}

_smtp := snap.smtp if snap.custom_smtp

_host(x) := trim_suffix(lower(trim_space(x)), ".") if {
	is_string(x)
	trim_space(x) != ""
} else := _text(x)
