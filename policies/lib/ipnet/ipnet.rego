# Package ipnet: IPv4 address arithmetic for connection-filter IP allow lists.
#
# Addresses are handled as integers and every entry as an interval
# [first, last], so several entries can cover a range together (two /25s
# cover a /24; 256 /24s cover a /16) without expanding any CIDR.
# Exchange Online's IPAllowList takes IPv4 only; anything else is invalid.
#
# API (DESIGN.md; * = addition):
#   covers(entries, target)   true when the entries (IP, "a-b" range, CIDR),
#                             taken together, cover the target (IP, range or
#                             CIDR); false otherwise, and for an invalid target
#   invalid_entries(entries)* set of entries that are not an IPv4 address,
#                             range or CIDR (ignored by covers)
#   interval(entry)*          [first, last] as integers; undefined when invalid
#   uncovered(entries, targets)*  set of targets not covered
#   exo_acceptable(entry)*    Exchange Online would accept it: a single IP, a
#                             range of at most 256 addresses, or CIDR /24-/32
#   to_int(ip)* / to_ip(n)*   dotted quad <-> integer
package ticketguard.lib.ipnet

import data.ticketguard.lib.util

# Leading zeros are dropped by the pattern (to_number rejects "08"); octets
# are read as decimal.
_ip_re := `^0*([0-9]{1,3})\.0*([0-9]{1,3})\.0*([0-9]{1,3})\.0*([0-9]{1,3})$`

to_int(ip) := n if {
	is_string(ip)
	m := regex.find_all_string_submatch_n(_ip_re, trim_space(ip), 1)[0]
	o := [to_number(m[1]), to_number(m[2]), to_number(m[3]), to_number(m[4])]
	max(o) <= 255
	n := (((((o[0] * 256) + o[1]) * 256) + o[2]) * 256) + o[3]
}

to_ip(n) := sprintf("%d.%d.%d.%d", [
	bits.and(bits.rsh(n, 24), 255),
	bits.and(bits.rsh(n, 16), 255),
	bits.and(bits.rsh(n, 8), 255),
	bits.and(n, 255),
])

interval(entry) := iv if {
	is_string(entry)
	iv := _interval(trim_space(entry))
}

_interval(s) := [first, (first + size) - 1] if {
	contains(s, "/")
	parts := split(s, "/")
	count(parts) == 2
	regex.match(`^\s*[0-9]{1,2}\s*$`, parts[1])
	len := to_number(trim_space(parts[1]))
	len <= 32
	ip := to_int(parts[0])
	size := bits.lsh(1, 32 - len)
	first := ip - (ip % size)
} else := [a, b] if {
	contains(s, "-")
	parts := split(s, "-")
	count(parts) == 2
	a := to_int(parts[0])
	b := to_int(parts[1])
	a <= b
} else := [n, n] if {
	n := to_int(s)
}

invalid_entries(entries) := {e |
	some e in util.as_array(entries)
	not interval(e)
}

exo_acceptable(entry) if to_int(entry)

exo_acceptable(entry) if {
	is_string(entry)
	contains(entry, "/")
	iv := interval(entry)
	iv[1] - iv[0] < 256
}

exo_acceptable(entry) if {
	is_string(entry)
	contains(entry, "-")
	iv := interval(entry)
	iv[1] - iv[0] < 256
}

covers(entries, target) if {
	_covered_interval(util.as_array(entries), interval(target))
} else := false

uncovered(entries, targets) := {t |
	some t in util.as_array(targets)
	not _covered_interval(util.as_array(entries), interval(t))
}

# The target [s, e] is covered iff s is covered and so is every point just
# past the end of an entry that falls inside [s, e]: the first uncovered point,
# if any, is one of those. A point where some entry starts is covered without
# a scan, which keeps adjacent blocks (the common case) linear.
_covered_interval(entries, t) if {
	ivs := [iv |
		some e in entries
		iv := interval(e)
		iv[1] >= t[0]
		iv[0] <= t[1]
	]
	starts := {iv[0] | some iv in ivs}
	points := {t[0]} | {p |
		some iv in ivs
		p := iv[1] + 1
		p > t[0]
		p <= t[1]
	}
	gaps := [p |
		some p in points
		not p in starts
		count([1 | some iv in ivs; iv[0] <= p; p <= iv[1]]) == 0
	]
	count(gaps) == 0
}
