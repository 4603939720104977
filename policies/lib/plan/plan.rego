# Package plan: what the live collector still has to fetch (DESIGN.md, "What
# to collect"). The collector reads the tenant-wide cmdlets first, then
# evaluates `wants` against the partial snapshot, fetches what it lists and
# evaluates again, until it is empty (at most 3 rounds). Identity resolution
# and the delivery graph come from lib/identity and lib/route, so the Go side
# never re-implements them.
#
# Convergence: a value is never wanted twice. It counts as present once its
# data is in the snapshot, once a fetch of it failed (an input.snapshot.errors
# entry of one of its sources whose message names it, case-insensitively, or
# names no address at all, which is a failure of the whole source), or once
# the collector listed it under input.snapshot.collection.not_found.<want>
# (a lookup that answered "no such recipient": not an error, so it must not
# mark the cmdlet errored).
#
# API (DESIGN.md; * = addition):
#   wants   {"group_members": [addr], "inbox_rules": [addr], "mailboxes": [ref],
#            "recipient_permissions": [addr], "cas_mailboxes": [addr]}, each
#            sorted, addresses primary SMTP lower-case, refs as
#            util.parse_ref normalises them. What is wanted:
#            group_members  groups on a delivery path from the support
#                           recipient (the support group first), and groups
#                           named in *MemberOf of enabled outbound spam /
#                           anti-phishing rules (nested groups included) while
#                           the policy for the support recipient is undecided
#            inbox_rules    mailboxes on a delivery path (support mailbox,
#                           forwarding targets, group member mailboxes)
#            mailboxes      references on a path that resolve to no collected
#                           recipient (a ForwardingAddress naming a mailbox the
#                           forwarding filter left out, a member or rule target
#                           at a tenant domain); the support address when
#                           nobody holds it*; the SMTP user when it is not a
#                           recipient of the snapshot*
#            recipient_permissions  the support recipient, with custom SMTP
#                           whose user is not the support recipient
#            cas_mailboxes  the custom SMTP user
#   reached*        delivery-graph nodes reachable from the support recipients
#                   (route.edges, not walking past the ticketing address)
#   tenant_domains* domains of the tenant's mailboxes and groups, accepted
#                   domains and the support address
#   present(want, value)*  the convergence test above
package ticketguard.lib.plan

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.scope
import data.ticketguard.lib.smtp
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

wants := {
	"group_members": sort(_group_members),
	"inbox_rules": sort(_inbox_rules),
	"mailboxes": sort(_mailboxes),
	"recipient_permissions": sort(_recipient_permissions),
	"cas_mailboxes": sort(_cas_mailboxes),
}

# Error sources that answer each want (DESIGN "Collector plumbing"). Inbox
# rules come from either Get-InboxRule or Graph; a failure of either counts,
# since asking again would take the same path. "graph.messageRules" is the
# lib/snap spelling and accepted too.
_sources := {
	"group_members": ["Get-DistributionGroupMember", "graph:groupMembers", "graph.groupMembers"],
	"inbox_rules": ["Get-InboxRule", "graph:messageRules", "graph.messageRules"],
	"mailboxes": ["Get-Mailbox"],
	"recipient_permissions": ["Get-RecipientPermission"],
	"cas_mailboxes": ["Get-CASMailbox"],
}

# ---------------------------------------------------------------------------
# Convergence.

_errors := [e |
	some e in util.as_array(object.get(input, ["snapshot", "errors"], []))
	is_object(e)
	is_string(e.source)
]

_error_text(e) := lower(e.message) if {
	is_string(e.message)
} else := lower(e.error) if {
	is_string(e.error)
} else := ""

_failed(want, value) if {
	some e in _errors
	some s in _sources[want]
	util.eq_fold(e.source, s)
	_names(_error_text(e), lower(value))
}

_names(text, value) if contains(text, value)

# An error that names no address is about the whole source (permission
# missing, service down): asking for another address would fail the same way.
# Mailbox lookups are by any reference, so for them only a named one counts.
_names(text, value) if {
	contains(value, "@")
	not contains(text, "@")
}

_not_found(want, value) if {
	some v in util.as_array(object.get(input, ["snapshot", "collection", "not_found", want], []))
	util.eq_fold(v, value)
}

present(want, value) if _failed(want, value)

present(want, value) if _not_found(want, value)

present("group_members", addr) if _members_collected(addr)

# Rows present count even when their source errored (snap.has_entry): the
# checks read an errored source as failed, but fetching the same rows again
# would not clear the error, and a value is never wanted twice.
present("inbox_rules", addr) if snap.has_entry("Get-InboxRule", addr)

present("inbox_rules", addr) if snap.has_entry("graph.messageRules", addr)

present("mailboxes", ref) if count(identity.resolve(ref)) > 0

present("recipient_permissions", _) if snap.collected("Get-RecipientPermission")

present("cas_mailboxes", addr) if _cas_row(addr)

# Graph group members are accepted as well as the cmdlet: the collector may
# read either, and reading the same source again would not add anything.
_members_collected(addr) if snap.has_entry("Get-DistributionGroupMember", addr)

_members_collected(addr) if snap.has_entry("graph.groupMembers", addr)

_members_collected(addr) if {
	some k in identity.by_address(addr)
	identity.member_rows(k)
}

# ---------------------------------------------------------------------------
# The delivery graph from the support recipient.

_targets := route.ticketing_contacts | {identity.external_key(snap.ticketing_address)} if {
	snap.ticketing_address
} else := route.ticketing_contacts

_edges := [e | some e in route.edges]

# Every node is a key (graph.reachable ignores the others); nothing continues
# past the ticketing address, where the path ends.
_graph := {n: _next(n) |
	some e in _edges
	some n in [e.from, e.to]
}

_next(n) := set() if n in _targets

else := {e.to | some e in _edges; e.from == n}

# A support address no recipient holds can still start a transport-rule path.
_starts := route.support_recipients if {
	count(route.support_recipients) > 0
} else := {identity.external_key(snap.support_address)} if {
	snap.support_address
} else := set()

reached := graph.reachable(_graph, _starts) | _starts

# ---------------------------------------------------------------------------
# Domains of the tenant: an address there that no recipient answers to is a
# recipient the collection left out (Get-Mailbox may be filtered to the
# mailboxes that forward), not an outside address.

tenant_domains := ((_recipient_domains | _accepted_domains) | _support_domain) - _ticketing_domains

_recipient_domains := {d |
	some r in identity.recipients
	r.kind != "contact"
	some a in r.addresses
	d := util.domain_of(a)
}

_accepted_domains := {lower(trim_space(d)) |
	some row in snap.items("Get-AcceptedDomain")
	is_object(row)
	d := row.DomainName
	is_string(d)
}

_support_domain := {d | d := util.domain_of(snap.support_address)}

# A set comprehension each, so that missing facts (a test, a custom data
# set) leave tenant_domains defined.
_ticketing_domains := {d | d := util.domain_of(snap.ticketing_address)} | {d | d := data.ticketguard.facts.atera.ticketing_domain}

_internal_address(a) if {
	util.is_address(a)
	util.domain_of(a) in tenant_domains
	util.norm_addr(a) != snap.ticketing_address
}

# ---------------------------------------------------------------------------
# Group members.

_group_members contains addr if {
	some k in reached
	identity.kind_of(k) == "group"
	addr := identity.recipients[k].primary
	_wanted("group_members", addr)
}

_group_members contains addr if {
	some g in _scope_groups
	addr := identity.recipients[g].primary
	_wanted("group_members", addr)
}

_wanted(want, value) if {
	value != ""
	not present(want, value)
}

# Whose policy the checks decide: the support recipient is the forwarding
# sender (external-forwarding, external-forwarding-scope: outbound) and the
# recipient of customers' mail (via-tag: anti-phishing).
_scope_subjects contains ["outbound", k] if {
	some k in route.support_recipients
	identity.kind_of(k) in {"group", "mailbox"}
}

_scope_subjects contains ["antiphish", k] if {
	some k in route.support_recipients
}

_member_of_fields := {
	"outbound": ["FromMemberOf", "ExceptIfFromMemberOf"],
	"antiphish": ["SentToMemberOf", "ExceptIfSentToMemberOf"],
}

_rule_cmdlets := {
	"outbound": ["Get-HostedOutboundSpamFilterRule"],
	"antiphish": ["Get-AntiPhishRule", "Get-EOPProtectionPolicyRule"],
}

# Only while scope cannot decide: a group whose membership would not change
# the answer is not worth a request. Every enabled rule's undecided group is
# asked for at once rather than one rule per round.
_scope_groups contains g if {
	some [kind, k] in _scope_subjects
	scope.applicable(kind, k).status == "unknown"
	some cmdlet in _rule_cmdlets[kind]
	some rule in snap.items(cmdlet)
	is_object(rule)
	util.eq_fold(object.get(rule, "State", null), "Enabled")
	some field in _member_of_fields[kind]
	some ref in util.strings(object.get(rule, field, null))
	scope.member_of(k, ref) == "unknown"
	named := identity.resolve_kind(ref, "group")
	some g in (graph.reachable(_nested_groups, named) | named)
}

# Groups inside groups, as far as memberships are known; the next round
# follows the ones fetched in this one.
_nested_groups := {g: ms |
	some g, r in identity.recipients
	r.kind == "group"
	ms := {n | some n in _members_or_none(g); identity.kind_of(n) == "group"}
}

_members_or_none(g) := ms if {
	ms := identity.members(g)
} else := set()

# ---------------------------------------------------------------------------
# Inbox rules.

_inbox_rules contains addr if {
	some k in reached
	identity.kind_of(k) == "mailbox"
	addr := identity.recipients[k].primary
	_wanted("inbox_rules", addr)
}

# A group member row that says it is a mailbox, but is not in Get-Mailbox: its
# address is its primary one, so its rules are asked for in the same round as
# the mailbox itself rather than a round later.
_inbox_rules contains addr if {
	some from in reached
	not from in _targets
	some row in identity.member_rows(from)
	is_object(row)
	_mailbox_row(row)
	some n in identity.entry_nodes(row)
	startswith(n, "external:")
	addr := substring(n, 9, -1)
	_internal_address(addr)
	_wanted("inbox_rules", addr)
}

_mailbox_row(row) if regex.match(`(?i)mailbox`, object.get(row, "RecipientTypeDetails", ""))

_mailbox_row(row) if regex.match(`(?i)mailbox`, object.get(row, "RecipientType", ""))

# ---------------------------------------------------------------------------
# Mailboxes: references on a path that nothing collected answers to.

_lookups_possible if snap.collected("Get-Mailbox")

_mailboxes contains ref if {
	_lookups_possible
	some n in reached
	startswith(n, "unresolved:")
	ref := substring(n, 11, -1)
	_wanted("mailboxes", ref)
}

_mailboxes contains addr if {
	_lookups_possible
	some n in reached
	startswith(n, "external:")
	addr := substring(n, 9, -1)
	_internal_address(addr)
	_wanted("mailboxes", addr)
}

# The support address itself, when no recipient holds it: a mailbox without
# forwarding is left out by the forwarding filter (the transport-rule
# fallback), and "nobody holds the support address" must not be concluded
# from a filtered list.
_mailboxes contains addr if {
	_lookups_possible
	count(route.support_recipients) == 0
	addr := snap.support_address
	_wanted("mailboxes", addr)
}

# The SMTP user, so Send As trustees and SMTP AUTH resolve to its mailbox.
_mailboxes contains addr if {
	_lookups_possible
	_smtp_in_tenant
	count(smtp.user_keys) == 0
	addr := smtp.user
	_wanted("mailboxes", addr)
}

# ---------------------------------------------------------------------------
# Custom SMTP: Send As on the support recipient, SMTP AUTH of the user.

# Only an SMTP user of this tenant has Exchange settings worth reading.
_smtp_in_tenant if {
	smtp.custom
	smtp.username
	_smtp_tenant_user
}

_smtp_tenant_user if smtp.server_is_office365

_smtp_tenant_user if smtp.user_in_tenant

_smtp_tenant_user if util.domain_of(smtp.user) in tenant_domains

_support_primary := a if {
	count(route.support_recipients) == 1
	some k in route.support_recipients
	a := identity.recipients[k].primary
	a != ""
} else := snap.support_address

_recipient_permissions contains addr if {
	_smtp_in_tenant
	not smtp.user_is_support
	addr := _support_primary
	_wanted("recipient_permissions", addr)
}

_smtp_user_address := a if {
	count(smtp.user_mailboxes) == 1
	some k in smtp.user_mailboxes
	a := identity.recipients[k].primary
	a != ""
} else := smtp.user

_cas_mailboxes contains addr if {
	_smtp_in_tenant
	addr := _smtp_user_address
	_wanted("cas_mailboxes", addr)
}

# A Get-CASMailbox row of the SMTP user, by any of its names: the value asked
# for, the declared user name, or any address of the mailbox it resolves to.
_cas_row(addr) if {
	some r in snap.items("Get-CASMailbox")
	is_object(r)
	some a in (_smtp_user_names | {util.norm_addr(addr)})
	smtp.row_has_address(r, a)
}

_cas_row(_) if {
	some r in snap.items("Get-CASMailbox")
	is_object(r)
	count(identity.resolve_entry(r) & smtp.user_mailboxes) > 0
}

_smtp_user_names := {smtp.user} | {a |
	some k in smtp.user_mailboxes
	some a in identity.recipients[k].addresses
}
