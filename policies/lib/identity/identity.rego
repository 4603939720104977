# Package identity: one model of the tenant's recipients, and resolution of a
# reference in any form to the recipients it names.
#
# Exchange names one object by display name, alias, primary or proxy address,
# DistinguishedName, Guid, ExchangeObjectId, ExternalDirectoryObjectId, UPN or
# LegacyExchangeDN (inbox rules write the last as "Name" [EX:/o=...]). Checks
# never compare two such forms as strings; they call resolve/by_address and
# compare recipient keys.
#
# The form index is built once per evaluation, so resolve and by_address are
# lookups, not scans (tenants have hundreds of mailboxes). Evaluate all checks
# in one query so that it is built once per snapshot, not once per check.
#
# API (DESIGN.md; * = addition):
#   recipients            key -> {"kind", "label", "primary", "addresses",
#                                 "forms", "forms_by_rank"*, "object"} over
#                         Get-Mailbox, Get-DistributionGroup, Get-MailContact.
#                         Forms add UserPrincipalName, WindowsLiveID,
#                         MicrosoftOnlineServicesID* (Send As trustees are UPNs),
#                         SamAccountName*, the canonical name as
#                         "<tenant OU>/<cn>"* and "<forest>\<account or alias>"*
#                         (both from the DistinguishedName); addresses add
#                         WindowsEmailAddress*. forms_by_rank: [ids, addresses
#                         and canonical name; Identity/Name/Alias/UPN/account
#                         names; DisplayName], disjoint. Two objects with one
#                         id get "#<position>" appended to every key*.
#   resolve(ref)          set of keys whose forms contain util.parse_ref(ref);
#                         always defined (empty set when nothing matches). A
#                         canonical name ("forest/Microsoft Exchange Hosted
#                         Organizations/tenant/Name") and "DOMAIN\name" resolve
#                         too*, by the last part as a name when the recipients
#                         carry no DistinguishedName
#   resolve_best(ref)*    the keys resolve(ref) finds in the best-ranked form
#                         that matches (ids and addresses, then names, then
#                         display name): what a reference Exchange wrote names
#   ambiguous(ref)*       resolve_best(ref) has more than one key
#   known_form(ref)*      the reference is written in a form this package
#                         reads (address, GUID, DN, LegacyExchangeDN, canonical
#                         name, DOMAIN\name, plain name): when such a reference
#                         resolves to nothing, it names no recipient of the
#                         snapshot
#   by_address(addr)      set of keys whose addresses contain util.norm_addr(addr)
#   label(key)            `mailbox "Support" <support@acme.com>`; for a key that
#                         is not a recipient*: `external address <a@b>` for
#                         "external:a@b", `unresolved reference "x"` for
#                         "unresolved:x", `ambiguous reference "x" (matches
#                         ...)` for "ambiguous:x", else the key itself
#   resolve_kind(ref, kind)*   resolve(ref) restricted to one kind
#   resolve_entry(x)*     keys for a member-like value: a string reference, or
#                         an object (Get-DistributionGroupMember row, Graph
#                         member) resolved by its most specific fields first
#                         (ids, addresses, smtp: proxyAddresses, DN), then by
#                         its names; a Graph directoryObject's @odata.type
#                         (user, orgContact, group) prefers recipients of that
#                         kind
#   refers_to(ref, key)*  key in resolve(ref)
#   same(a, b)*           two references share at least one recipient
#   is_unresolvable(ref)* well-known principals (NT AUTHORITY\SELF, SIDs) that
#                         never name a recipient
#   kind_of(key)*         "mailbox" | "group" | "contact"; undefined otherwise
#   external_key(addr)*   "external:" + norm_addr(addr), the graph node for an
#                         address no recipient of the snapshot answers to
#   node(addr)*           by_address(addr), or {external_key(addr)} when empty
#   ref_nodes(ref)*       the one key of resolve_best(ref); {ambiguous_key(ref)}
#                         ("ambiguous:<ref>") when it has several; else
#                         {"external:addr"} for an address, else
#                         {"unresolved:<ref>"}: graph nodes for a reference
#   ambiguous_key(ref)*   "ambiguous:" + util.parse_ref(ref)
#   entry_nodes(x)*       the same for a member-like value (string or object)
#   member_rows(key)*     raw member rows of a group key (or of "external:addr"):
#                         Get-DistributionGroupMember rows, or, when Exchange
#                         has none for the group, its graph.groupMembers rows
#                         (Graph directoryObjects); undefined when neither was
#                         collected
#   members(key)*         set of entry_nodes of member_rows(key); undefined when
#                         not collected (never read that as "no members")
package ticketguard.lib.identity

import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_sources := [
	{"kind": "mailbox", "cmdlet": "Get-Mailbox"},
	{"kind": "group", "cmdlet": "Get-DistributionGroup"},
	{"kind": "contact", "cmdlet": "Get-MailContact"},
]

# Single-valued properties an object can be referred to by, by rank: the
# unique ids first (with the addresses and the canonical name), then the
# names Exchange writes references with (Identity, Name, Alias, UPN and the
# account name), then the display name, which nothing keeps unique.
_id_fields := ["Guid", "ExchangeObjectId", "ExternalDirectoryObjectId", "DistinguishedName", "LegacyExchangeDN"]

_name_fields := [
	"Identity", "Name", "Alias", "UserPrincipalName", "WindowsLiveID",
	"MicrosoftOnlineServicesID", "SamAccountName",
]

_display_fields := ["DisplayName"]

_str(o, field) := s if {
	v := o[field]
	is_string(v)
	s := trim_space(v)
	s != ""
}

_first_id(o) := lower(s) if {
	s := _str(o, "ExternalDirectoryObjectId")
} else := lower(s) if {
	s := _str(o, "Guid")
} else := lower(s) if {
	s := _str(o, "ExchangeObjectId")
} else := lower(s) if {
	s := _str(o, "Identity")
} else := util.norm_addr(s) if {
	s := _str(o, "PrimarySmtpAddress")
}

_key_id(o, _) := _first_id(o)

# An object with none of the id fields still gets a stable, unique key.
_key_id(o, i) := sprintf("#%d", [i]) if not _first_id(o)

_entries := [e |
	some src in _sources
	some i, o in snap.items(src.cmdlet)
	is_object(o)
	e := {"kind": src.kind, "object": o, "key": concat(":", [src.kind, _key_id(o, i)])}
]

# Two different objects claiming one id (a damaged export) would make the
# recipients comprehension fail; then every key gets its position appended.
# The check is a count, so the usual case costs no pairwise comparison.
_keys_unique if count({e.key | some e in _entries}) == count(_entries)

_entry_key(_, e) := e.key if _keys_unique

_entry_key(i, e) := sprintf("%s#%d", [e.key, i]) if not _keys_unique

recipients := {k: _describe(e.kind, e.object) |
	some i, e in _entries
	k := _entry_key(i, e)
}

# _describe runs for every recipient of the tenant, so it is written to keep
# the number of Rego expressions per value small: values are lower-cased in
# one call per field group (concat/lower/split) and util.parse_ref only runs
# when some name contains ":" or "[".
#
# Proxy addresses: "SMTP:" primary, "smtp:" secondary; other prefixes (SIP:,
# SPO:) are not mail; "X500:" proxies are former LegacyExchangeDNs that inbox
# rules may still cite, so they are forms but not addresses.
#
# forms_by_rank holds three disjoint sets (resolve_best): a form is in the
# best rank it reaches for this object.
_describe(kind, o) := {
	"kind": kind,
	"label": _label(kind, o, primary),
	"primary": primary,
	"addresses": addresses,
	"forms": ((rank1 | rank2) | rank3),
	"forms_by_rank": [rank1, rank2, rank3],
	"object": o,
} if {
	raw_proxies := [p | some p in util.as_array(object.get(o, "EmailAddresses", [])); is_string(p)]
	proxies := split(lower(concat("\n", raw_proxies)), "\n")
	x500 := {trim_space(substring(p, 5, -1)) | some p in proxies; startswith(p, "x500:")}
	addresses := {trim_space(substring(p, 5, -1)) | some p in proxies; startswith(p, "smtp:")} | _own_addresses(kind, o)
	low := {f: trim_space(lower(v)) | some f, v in object.filter(o, _all_fields); is_string(v)}
	special := _any_special([v | some v in low])
	rank1 := ((_rank_forms(low, _id_fields, special) | addresses) | x500) - {""}
	rank2 := (_rank_forms(low, _name_fields, special) - rank1) - {""}
	rank3 := ((_rank_forms(low, _display_fields, special) - rank1) - rank2) - {""}
	primary := _primary(kind, o, raw_proxies)
}

_all_fields := array.concat(array.concat(_id_fields, _name_fields), _display_fields)

# The lower-cased values of some fields, with their util.parse_ref forms when
# some value of the object has ":" or "[" (rare: the regular expressions in
# parse_ref are the costly part).
_rank_forms(low, fields, false) := {v | some f in fields; v := low[f]}

_rank_forms(low, fields, true) := {x |
	some f in fields
	v := low[f]
	some x in [v, util.parse_ref(v)]
}

_any_special(names) := regex.match(`[:\[]`, concat("", names))

# Contacts also answer to their external address (the Atera ticketing address).
_own_addresses(kind, o) := {a |
	some f in _address_fields[kind]
	a := util.norm_addr(o[f])
	contains(a, "@")
}

_address_fields := {
	"mailbox": ["PrimarySmtpAddress", "WindowsEmailAddress"],
	"group": ["PrimarySmtpAddress", "WindowsEmailAddress"],
	"contact": ["PrimarySmtpAddress", "WindowsEmailAddress", "ExternalEmailAddress"],
}

_primary(kind, o, raw_proxies) := a if {
	a := util.norm_addr(o.PrimarySmtpAddress)
	a != ""
} else := util.norm_addr(ps[0]) if {
	ps := [p | some p in raw_proxies; startswith(p, "SMTP:")]
	count(ps) > 0
} else := a if {
	kind == "contact"
	a := util.norm_addr(o.ExternalEmailAddress)
} else := ""

_display(o) := s if {
	s := _str(o, "DisplayName")
} else := s if {
	s := _str(o, "Name")
} else := s if {
	s := _str(o, "Alias")
} else := s if {
	s := _str(o, "Identity")
} else := "(no name)"

_label(kind, o, primary) := sprintf("%s %q <%s>", [kind, _display(o), primary]) if primary != ""

_label(kind, o, "") := sprintf("%s %q", [kind, _display(o)])

# The index, built once per evaluation: normalised form -> {key: rank}
# (1 ids and addresses, 2 names, 3 display name). object.union_n merges
# nested objects, so a form shared by several recipients keeps all their
# keys; the merge runs in Go, not in Rego. A form is in one rank per
# recipient, so no value is overwritten.
_form_index := object.union_n([{f: {k: i + 1}} |
	some k, r in recipients
	some i, fs in r.forms_by_rank
	some f in fs
])

# Security principals that Get-RecipientPermission and friends list but that
# are not recipients: they must never resolve, even to an object whose name
# happens to match.
_unresolvable_prefixes := ["nt authority\\", "s-1-5-", "nt-authority\\"]

is_unresolvable(ref) if _unresolvable(util.parse_ref(ref))

_unresolvable(r) if strings.any_prefix_match(r, _unresolvable_prefixes)

# Every recipient the reference matches in any form (a name shared by a
# mailbox and a contact gives both). resolve_best picks among them.
resolve(ref) := ks if {
	r := util.parse_ref(ref)
	not _unresolvable(r)
	ks := object.keys(_matches(r))
} else := set()

# The recipients matching the reference in its best-ranked form: an id or an
# address, else an Identity/Name/Alias/UPN/account name, else a display name.
# Exchange stores a reference as a link to one object and writes it by that
# object's Name (or an id), so a Name match outranks another object's equal
# display name. More than one key left: the reference is ambiguous.
resolve_best(ref) := ks if {
	r := util.parse_ref(ref)
	not _unresolvable(r)
	m := _matches(r)
	best := min([v | some v in m])
	ks := {k | some k, v in m; v == best}
} else := set()

ambiguous(ref) if count(resolve_best(ref)) > 1

# {key: rank} for a normalised reference: its form in the index, else a
# canonical or DOMAIN\name reference (_scoped_matches).
_matches(r) := m if {
	m := _form_index[r]
} else := m if {
	m := _scoped_matches(r)
	count(m) > 0
}

# Older Exchange builds write a linked object by its canonical name,
# "NAMPR04A010.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/
# contoso.onmicrosoft.com/Atera Ticketing": the DN read backwards, as unique
# as the DN (rank 1). Get-RecipientPermission writes trustees as
# "NAMPR11A006\helpdesk": the forest's NetBIOS name (the first DC of the DN)
# and the account name or alias (rank 2). Both are matched by their last
# part as a name, kept to the recipients whose DistinguishedName has that
# tenant OU or that DC; a recipient without a DN (a hand-written snapshot)
# is kept too. The work is done per such reference, which is rare, rather
# than per recipient.
_scoped_matches(r) := {k: 1 |
	name := trim_space(m[2])
	some k, v in object.get(_form_index, name, {})
	v <= 2
	_dn_fits(k, concat("", ["cn=", replace(name, ",", "\\,"), ",ou=", m[1], ","]), "")
} if {
	m := regex.find_all_string_submatch_n(_canonical_pattern, r, 1)[0]
} else := {k: 2 |
	some k, v in object.get(_form_index, trim_space(m[2]), {})
	v <= 2
	_dn_fits(k, "", concat("", [",dc=", m[1], ","]))
} if {
	m := regex.find_all_string_submatch_n(_account_pattern, r, 1)[0]
}

_canonical_pattern := `^[^/\\]+/microsoft exchange hosted organizations/([^/]+)/(.+)$`

_account_pattern := `^([^\\/=@\s]+)\\([^\\/=]+)$`

# The recipient's DN (lower-cased) starts with prefix and contains part; a
# recipient without a DN fits any.
_dn_fits(k, prefix, part) if {
	dn := lower(_str(recipients[k].object, "DistinguishedName"))
	startswith(dn, prefix)
	contains(concat("", [dn, ","]), part)
}

_dn_fits(k, _, _) if not _has_dn(k)

_has_dn(k) if _str(recipients[k].object, "DistinguishedName")

# Whether a reference is written in a form this package reads: an address,
# an id, a DN, a LegacyExchangeDN (also inside "Name" [EX:...]), a canonical
# name, DOMAIN\name, or a plain name. A reference in a known form that
# matches nothing names no recipient of the snapshot; one in another form
# may name one this package cannot see.
known_form(ref) if _known_form(util.parse_ref(ref))

_known_form(r) if util.is_address(r)

_known_form(r) if regex.match(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, r)

_known_form(r) if regex.match(`^cn=[^,]+(,\s*(ou|dc|cn)=[^,]+)+$`, replace(r, "\\,", ""))

_known_form(r) if startswith(r, "/o=")

_known_form(r) if regex.match(_canonical_pattern, r)

_known_form(r) if regex.match(_account_pattern, r)

_known_form(r) if {
	r != ""
	not regex.match(`[\\/=\[\]:@]`, r)
}

# Addresses are forms too, so the form index answers; the address test keeps
# out an object whose *name* merely looks like the address.
by_address(addr) := {k |
	a := util.norm_addr(addr)
	some k, _ in object.get(_form_index, a, {})
	a in recipients[k].addresses
}

resolve_kind(ref, kind) := {k | some k in resolve(ref); recipients[k].kind == kind}

refers_to(ref, key) if key in resolve(ref)

same(a, b) if count(resolve(a) & resolve(b)) > 0

kind_of(key) := recipients[key].kind

external_key(addr) := concat("", ["external:", util.norm_addr(addr)])

node(addr) := ks if {
	ks := by_address(addr)
	count(ks) > 0
} else := {external_key(addr)}

label(key) := recipients[key].label

label(key) := sprintf("external address <%s>", [substring(key, 9, -1)]) if {
	not recipients[key]
	startswith(key, "external:")
}

label(key) := sprintf("unresolved reference %q", [substring(key, 11, -1)]) if {
	not recipients[key]
	startswith(key, "unresolved:")
}

label(key) := sprintf("ambiguous reference %q (matches %s)", [ref, concat(", ", sort([recipients[k].label | some k in resolve_best(ref)]))]) if {
	not recipients[key]
	startswith(key, "ambiguous:")
	ref := substring(key, 10, -1)
}

label(key) := key if {
	not recipients[key]
	not startswith(key, "external:")
	not startswith(key, "unresolved:")
	not startswith(key, "ambiguous:")
}

# The graph node for a reference that names several recipients equally well.
ambiguous_key(ref) := concat("", ["ambiguous:", util.parse_ref(ref)])

# Member rows name one object several ways; the precise fields are tried first
# so that a shared display name cannot add a second recipient.
_strong_fields := [
	"ExternalDirectoryObjectId", "Guid", "ExchangeObjectId", "PrimarySmtpAddress",
	"DistinguishedName", "LegacyExchangeDN", "ExternalEmailAddress", "WindowsEmailAddress",
	"UserPrincipalName", "Id", "id", "mail", "userPrincipalName",
]

_weak_fields := ["Identity", "Alias", "Name", "DisplayName", "displayName", "mailNickname"]

# object.filter first: member rows carry many fields, few of them ids.
_resolve_fields(o, fields) := {k |
	some v in object.filter(o, fields)
	is_string(v)
	some k in resolve(v)
}

# A Graph recipient: {"emailAddress": {"name", "address"}}.
_resolve_nested(o) := by_address(o.emailAddress.address) if {
	is_object(o.emailAddress)
} else := set()

# A Graph directoryObject lists its addresses in proxyAddresses, prefixed as
# in Exchange ("SMTP:" primary, "smtp:" secondary; other prefixes are not
# mail).
_resolve_proxies(o) := {k |
	some p in util.as_array(object.get(o, "proxyAddresses", []))
	is_string(p)
	startswith(lower(trim_space(p)), "smtp:")
	some k in by_address(p)
} if is_object(o)

# Graph types its members; on the Exchange side they are these recipient kinds.
_graph_kinds := {
	"#microsoft.graph.user": "mailbox",
	"#microsoft.graph.orgcontact": "contact",
	"#microsoft.graph.group": "group",
}

_graph_kind(o) := _graph_kinds[lower(o["@odata.type"])] if is_string(o["@odata.type"])

# A typed member keeps the candidates of its kind when there are any (a
# contact and a mailbox sharing a display name stay apart); otherwise, or
# untyped, every candidate.
_of_kind(ks, o) := typed if {
	kind := _graph_kind(o)
	typed := {k | some k in ks; recipients[k].kind == kind}
	count(typed) > 0
} else := ks

resolve_entry(x) := resolve(x) if is_string(x)

resolve_entry(x) := ks if {
	is_object(x)
	strong := (_resolve_fields(x, _strong_fields) | _resolve_nested(x)) | _resolve_proxies(x)
	ks := _of_kind(_pick(strong, x), x)
}

resolve_entry(x) := set() if {
	not is_string(x)
	not is_object(x)
}

_pick(strong, _) := strong if count(strong) > 0

_pick(strong, x) := _resolve_fields(x, _weak_fields) if count(strong) == 0

# Graph nodes for a reference: the recipients it resolves to; else, for an
# address, "external:addr" (no recipient of the snapshot answers to it, so mail
# leaves through it); else "unresolved:<normalised reference>".
ref_nodes(ref) := ks if {
	ks := resolve_best(ref)
	count(ks) == 1
} else := {ambiguous_key(ref)} if {
	count(resolve_best(ref)) > 1
} else := {external_key(r)} if {
	r := util.parse_ref(ref)
	util.is_address(r)
} else := {concat("", ["unresolved:", util.parse_ref(ref)])} if {
	is_string(ref)
} else := set()

_entry_address_fields := ["PrimarySmtpAddress", "ExternalEmailAddress", "WindowsEmailAddress", "mail", "address"]

_entry_name(x) := s if {
	s := _display(x)
	s != "(no name)"
} else := s if {
	s := _str(x, "displayName")
} else := "(no name)"

entry_nodes(x) := ref_nodes(x) if is_string(x)

entry_nodes(x) := ks if {
	is_object(x)
	ks := _entry_nodes(x, resolve_entry(x))
}

# Graph recipients wrap the address: {"emailAddress": {"address": ...}}.
_entry_address(x) := a if {
	a := util.norm_addr(x.emailAddress.address)
	util.is_address(a)
} else := a if {
	some f in _entry_address_fields
	a := util.norm_addr(x[f])
	util.is_address(a)
} else := a if {
	ps := [p | some p in util.as_array(object.get(x, "proxyAddresses", [])); is_string(p); startswith(p, "SMTP:")]
	a := util.norm_addr(ps[0])
	util.is_address(a)
}

_entry_nodes(_, ks) := ks if count(ks) > 0

_entry_nodes(x, ks) := nodes if {
	count(ks) == 0
	nodes := _entry_fallback(x)
}

_entry_fallback(x) := {external_key(a)} if {
	a := _entry_address(x)
} else := {concat("", ["unresolved:", lower(_entry_name(x))])}

# Group membership, from Get-DistributionGroupMember keyed by the group's
# primary address (the collector's key; any other address of the group is
# tried as well), else from graph.groupMembers, which `ticketguard collect`
# fills through Graph (GET /groups/{id}/members) when the Exchange read of the
# members failed or was not made. The Exchange rows win when both exist: one
# source, not a merge, so a member listed by one and missing from the other
# is never counted twice nor half-known. Undefined when the membership of
# that group was collected by neither: callers must then say "unknown", never
# "not a member".
member_rows(key) := rows if {
	rows := _rows_in(snap.per_recipient_all("Get-DistributionGroupMember"), key)
} else := rows if {
	rows := _rows_in(snap.per_recipient_all("graph.groupMembers"), key)
}

_rows_in(all, key) := rows if {
	lists := [l | some a in _member_lookup_addresses(key); l := all[a]; l != null]
	count(lists) > 0
	rows := [row | some l in lists; some row in util.as_array(l)]
}

_member_lookup_addresses(key) := recipients[key].addresses

_member_lookup_addresses(key) := {substring(key, 9, -1)} if {
	not recipients[key]
	startswith(key, "external:")
}

members(key) := ms if {
	rows := member_rows(key)
	ms := {n | some row in rows; some n in entry_nodes(row)}
}
