# METADATA
# title: Support mail reaches the ticketing address by one path with one redirect hop
# description: >-
#   Exchange Online redirects or forwards a message once. When support mail
#   needs a second hop (A forwards to B, B forwards to Atera) the second one is
#   dropped silently, with no non-delivery report, and the customer's e-mail
#   never becomes a ticket. When it reaches Atera by two paths (say a group
#   that contains the contact and a member mailbox that also forwards) every
#   support e-mail becomes two tickets.
# custom:
#   id: single-redirect
#   severity: error
#   source: >-
#     SPEC §1.7, §2 "redirects" and "Mailbox forwarding overrides an inbox redirect rule";
#     Get-Mailbox (ForwardingAddress, ForwardingSmtpAddress), Get-InboxRule (Enabled,
#     ForwardTo, RedirectTo, ForwardAsAttachmentTo) or Graph messageRules,
#     Get-DistributionGroupMember, Get-TransportRule
#   remediation: |-
#     1. Make the support recipient deliver to the Atera contact directly, in one step:
#        either the distribution group <support address> contains the contact (method 1), or the
#        mailbox <support address> forwards to the contact (method 2). Never forward from one
#        mailbox to another that forwards again.
#        Exchange admin centre > Recipients > Mailboxes > <support mailbox> > Mail flow settings >
#        Email forwarding: forward to the Atera contact, "Keep a copy of forwarded messages".
#        PowerShell: Set-Mailbox -Identity <support address> -ForwardingAddress "<contact name>" -DeliverToMailboxAndForward $true
#     2. Remove the other hops and duplicate paths named in the finding: clear mailbox forwarding on
#        intermediate mailboxes (Set-Mailbox -Identity <mailbox> -ForwardingAddress $null -ForwardingSmtpAddress $null)
#        and disable inbox rules that forward or redirect to the ticketing address or to the support
#        recipient (Outlook on the web > Settings > Mail > Rules, or
#        Disable-InboxRule -Mailbox <mailbox> -Identity "<rule name>").
#     3. A mailbox must not have both mailbox forwarding and a forwarding/redirect inbox rule:
#        mailbox forwarding overrides the rule. Keep the mailbox forwarding (step 1) and disable the rule.
#     4. Send a test message to <support address> and confirm exactly one ticket appears in Atera;
#        message trace must not show the header X-MS-Exchange-Inbox-Rules-Loop on a dropped copy.
package ticketguard.checks.single_redirect

import data.ticketguard.lib.identity
import data.ticketguard.lib.plan
import data.ticketguard.lib.route
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_resource(key) := sprintf("%s:%s", [r.kind, r.primary]) if {
	r := identity.recipients[key]
} else := key

# ---------------------------------------------------------------------------
# Paths

_targets := route.ticketing_contacts | {identity.external_key(snap.ticketing_address)}

# The edges in a fixed order, so a path can be a list of indexes.
_edges := [e | some e in route.edges]

# Graph whose nodes are edges: edge i leads to every edge leaving the node edge
# i arrives at. Walking it keeps the kind of every step (two edges between the
# same recipients are two paths), and graph.reachable_paths ends each walk at a
# repeated edge, so cycles terminate. Nothing continues past a ticketing target.
_edge_graph := {i: _successors(i) | some i, _ in _edges}

_successors(i) := [] if _edges[i].to in _targets

else := object.get(_out_edges, _edges[i].to, [])

# Edge indexes by the node they leave, built once (OPA indexes the inner
# comprehension on n), so the graph is linear in the number of edges.
_out_edges := {n: ids |
	some e in _edges
	n := e.from
	ids := [j | some j, e2 in _edges; e2.from == n]
}

_starts := {i | some i, e in _edges; e.from in route.support_recipients}

_walks := graph.reachable_paths(_edge_graph, _starts)

# Every prefix of a walk that ends at a ticketing target and visits no
# recipient twice is a delivery path.
_paths := {p |
	some w in _walks
	some n in numbers.range(1, count(w))
	p := array.slice(w, 0, n)
	_edges[p[n - 1]].to in _targets
	_simple(p)
}

_nodes(p) := array.concat([_edges[p[0]].from], [_edges[i].to | some i in p])

_simple(p) if count({x | some x in _nodes(p)}) == count(_nodes(p))

_hops(p) := [i | some i in p; _edges[i].hop == true]

# Paths Exchange actually delivers: at most one redirect hop.
_delivering := {p | some p in _paths; count(_hops(p)) <= 1}

# The lib's edge detail names both ends and the setting ("mailbox "Support"
# <support@acme.com> forwards to contact ... (ForwardingAddress ...)").
_step_text(e) := e.detail if {
	is_string(e.detail)
	e.detail != ""
} else := sprintf("%s -> %s (%s)", [identity.label(e.from), identity.label(e.to), e.kind])

_path_text(p) := concat(", then ", [_step_text(_edges[i]) | some i in p])

# The full path is only worth repeating when it has steps that are not hops.
_path_suffix(p) := sprintf(" Full path: %s.", [_path_text(p)]) if count(p) > count(_hops(p))

else := ""

_plural(n, one, many) := one if n == 1

else := many

# ---------------------------------------------------------------------------
# Preconditions

findings contains f if {
	not snap.ticketing_address
	f := {
		"status": "indeterminate",
		"message": "the Atera ticketing address is not declared: declare atera.ticketing_address in the snapshot / config",
	}
}

findings contains f if {
	snap.ticketing_address
	not snap.support_address
	f := {
		"status": "indeterminate",
		"message": "the Atera primary support address is not declared: declare atera.support_address in the snapshot / config",
	}
}

findings contains f if {
	snap.atera_declared
	missing := snap.unavailable(route.needed_sources)
	count(missing) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot build the delivery paths from %s to %s: %s", [snap.support_address, snap.ticketing_address, snap.missing_message(missing)]),
	}
}

findings contains f if {
	snap.atera_declared
	count(snap.unavailable(route.needed_sources)) == 0
	count(route.support_recipients) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("no mailbox, distribution group or mail contact in the snapshot has the address %s, so its delivery paths cannot be followed", [snap.support_address]),
	}
}

findings contains f if {
	snap.atera_declared
	count(snap.unavailable(route.needed_sources)) == 0
	count(route.support_recipients) > 0
	count(_paths) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("no delivery path from %s to %s was found in the snapshot (see the support-route check), so the number of redirect hops is unknown", [snap.support_address, snap.ticketing_address]),
	}
}

# A group whose members were not collected may hide another path.
_walked_nodes contains n if {
	some w in _walks
	some i in w
	some n in [_edges[i].from, _edges[i].to]
}

_walked_nodes contains k if {
	snap.atera_declared
	some k in route.support_recipients
}

findings contains f if {
	snap.atera_declared
	some k in _walked_nodes
	identity.recipients[k].kind == "group"
	not identity.member_rows(k)
	f := {
		"status": "indeterminate",
		"message": sprintf("the members of %s are unknown (%s), so a second path or hop through it cannot be ruled out", [identity.label(k), route.members_missing_message(identity.recipients[k].primary)]),
		"resource": _resource(k),
	}
}

# Mailboxes on a completed path (for the forwarding/inbox-rule conflict).
_path_mailboxes contains k if {
	some p in _paths
	some k in _nodes(p)
	identity.recipients[k].kind == "mailbox"
}

# Every mailbox support mail reaches (a group member, a forwarding target),
# not only those on a completed path: an inbox rule of one of them that
# forwards to Atera is a second path (two tickets per e-mail), one that
# forwards elsewhere a second hop. Their rules must be known.
_reached_mailboxes contains k if {
	some k in _walked_nodes
	identity.recipients[k].kind == "mailbox"
}

_rules_known(addr) if snap.per_recipient("Get-InboxRule", addr)

_rules_known(addr) if snap.per_recipient("graph.messageRules", addr)

findings contains f if {
	some k in _reached_mailboxes
	addr := identity.recipients[k].primary
	not _rules_known(addr)
	f := {
		"status": "indeterminate",
		"message": sprintf("the inbox rules of %s are unknown (%s; %s), so an inbox rule of it forwarding or redirecting support mail (a second path to Atera, or an extra redirect hop) cannot be ruled out", [identity.label(k), snap.recipient_missing_message("Get-InboxRule", addr), snap.recipient_missing_message("graph.messageRules", addr)]),
		"resource": _resource(k),
	}
}

# An address of the tenant's own domains that no collected recipient holds is
# not mail leaving the organisation: it is a recipient the collection left out
# (Get-Mailbox filtered to the mailboxes that forward, say), whose forwarding
# and inbox rules are unknown. The collector looks such addresses up
# (lib.plan); one it found no mailbox for (collection.not_found.mailboxes)
# has none of either.
_not_found_mailboxes := {util.norm_addr(a) |
	some a in util.strings(object.get(input, ["snapshot", "collection", "not_found", "mailboxes"], []))
}

findings contains f if {
	some n in _walked_nodes
	startswith(n, "external:")
	addr := substring(n, 9, -1)
	addr != snap.ticketing_address
	domain := util.domain_of(addr)
	domain in plan.tenant_domains
	not addr in _not_found_mailboxes
	f := {
		"status": "indeterminate",
		"message": sprintf("support mail reaches %s, an address of the tenant's domain %s that no mailbox, distribution group or mail contact in the snapshot has (Get-Mailbox may have been filtered to forwarding mailboxes), so its forwarding and inbox rules, and whether it adds a path or a hop to %s, are unknown", [addr, domain, snap.ticketing_address]),
		"resource": sprintf("address:%s", [addr]),
	}
}

# A step to a reference that names several recipients equally well
# (identity.resolve_best): Exchange sends the mail to one of them, which one
# the snapshot cannot tell.
findings contains f if {
	some w in _walks
	some i in w
	e := _edges[i]
	startswith(e.to, "ambiguous:")
	f := {
		"status": "indeterminate",
		"message": sprintf("%s: the reference names several recipients equally well, so where support mail goes from there, and whether that adds a path or a hop to %s, cannot be told", [_step_text(e), snap.ticketing_address]),
		"resource": _resource(e.from),
	}
}

# A step from the support recipient's walk to a reference no recipient of the
# snapshot answers to (a LegacyExchangeDN of a deleted object, say) may be
# another path or hop to Atera.
findings contains f if {
	some w in _walks
	some i in w
	e := _edges[i]
	startswith(e.to, "unresolved:")
	f := {
		"status": "indeterminate",
		"message": sprintf("%s, which no recipient of the snapshot answers to, so whether it adds a path or a hop to %s cannot be told", [_step_text(e), snap.ticketing_address]),
		"resource": _resource(e.from),
	}
}

# ---------------------------------------------------------------------------
# (a) two or more hops on one path

findings contains f if {
	some p in _paths
	hops := _hops(p)
	count(hops) >= 2
	f := {
		"status": "fail",
		"message": sprintf(
			"support mail to %s takes %d redirect hops to %s: %s. Exchange redirects a message once and drops the second hop silently (no non-delivery report; the header X-MS-Exchange-Inbox-Rules-Loop marks it), so these e-mails never become tickets.%s",
			[snap.support_address, count(hops), snap.ticketing_address, concat("; ", [sprintf("hop %d: %s", [n + 1, _step_text(_edges[i])]) | some n, i in hops]), _path_suffix(p)],
		),
		"resource": _resource(_edges[p[0]].from),
	}
}

# ---------------------------------------------------------------------------
# (b) more than one delivering path: one ticket per path

findings contains f if {
	count(_delivering) > 1
	texts := sort([_path_text(p) | some p in _delivering])
	f := {
		"status": "fail",
		"message": sprintf(
			"support mail to %s reaches %s by %d distinct paths, so every support e-mail becomes %d tickets: %s",
			[snap.support_address, snap.ticketing_address, count(texts), count(texts), concat("; ", [sprintf("path %d: %s", [n + 1, t]) | some n, t in texts])],
		),
		"resource": sprintf("address:%s", [snap.support_address]),
	}
}

# ---------------------------------------------------------------------------
# (c) mailbox forwarding and a forwarding inbox rule on the same mailbox

_forwarding_text(k) := concat(", ", [sprintf("%s %s", [prop, util.quote(v)]) |
	some prop in ["ForwardingAddress", "ForwardingSmtpAddress"]
	v := object.get(identity.recipients[k].object, prop, null)
	not util.is_blank(v)
])

_has_forwarding(k) if _forwarding_text(k) != ""

_has_forwarding(k) if {
	some e in route.edges
	e.from == k
	e.kind == "forwarding"
}

_rule_edges(k) := sort([_step_text(e) |
	some e in route.edges
	e.from == k
	e.kind == "inbox_rule"
])

findings contains f if {
	some k in _path_mailboxes
	_has_forwarding(k)
	rules := _rule_edges(k)
	count(rules) > 0
	f := {
		"status": "fail",
		"message": sprintf(
			"%s has mailbox forwarding (%s) and %d enabled inbox %s that %s or %s (%s): mailbox forwarding overrides an inbox redirect rule (Microsoft calls this expected behaviour), so the rule never fires or behaves unexpectedly; keep one of them",
			[identity.label(k), _forwarding_desc(k), count(rules), _plural(count(rules), "rule", "rules"), _plural(count(rules), "forwards", "forward"), _plural(count(rules), "redirects", "redirect"), concat("; ", rules)],
		),
		"resource": _resource(k),
	}
}

_forwarding_desc(k) := _forwarding_text(k) if _forwarding_text(k) != ""

else := concat("; ", sort([_step_text(e) | some e in route.edges; e.from == k; e.kind == "forwarding"]))

# ---------------------------------------------------------------------------
# Pass: one delivering path, at most one hop, no conflicting forwarding.

_conflicted if {
	some k in _path_mailboxes
	_has_forwarding(k)
	count(_rule_edges(k)) > 0
}

findings contains f if {
	count(_paths) == 1
	some p in _paths
	count(_hops(p)) <= 1
	not _conflicted
	n := count(_hops(p))
	f := {
		"status": "pass",
		"message": sprintf("support mail to %s reaches %s by a single path with %d redirect %s: %s", [snap.support_address, snap.ticketing_address, n, _plural(n, "hop", "hops"), _path_text(p)]),
		"resource": sprintf("address:%s", [snap.support_address]),
	}
}
