# Package util: value helpers.
#
# Copes with the raw property values Exchange returns: null, a bare string
# where an array is usual, `SMTP:`/`smtp:` prefixes, recipient references in
# their written forms, and booleans serialised as strings.
#
# API (DESIGN.md; * = addition):
#   as_array(x)      null -> [], array -> x, set -> its elements*, else [x]
#   norm_addr(s)     lower-case, trimmed, leading "smtp:" removed
#   parse_ref(s)     a recipient reference in any written form -> normalised string
#   domain_of(addr)  part after the last "@", lower-case
#   is_true(x)       x == true or "true" in any case
#   is_false(x)*     x == false or "false" in any case (null is neither)
#   strings(x)*      as_array(x) without null and blank strings
#   is_blank(x)*     null, "", whitespace, or an empty array
#   is_address(s)*   the normalised string looks like local@domain
#   eq_fold(a, b)*   strings equal ignoring case and surrounding space
#   starts_fold(s, prefix)*  case-insensitive prefix test
#   quote(s)*        s in double quotes, for messages
package ticketguard.lib.util

# as_array normalises a multi-valued property: Exchange sends null for an empty
# rule condition, a bare string for a single RedirectMessageTo, an array otherwise.
as_array(x) := [] if x == null

as_array(x) := x if is_array(x)

# Sets only arise from Rego callers; they are turned into arrays rather than
# wrapped, so `as_array` can be used on either.
as_array(x) := [e | some e in x] if is_set(x)

as_array(x) := [x] if {
	x != null
	not is_array(x)
	not is_set(x)
}

# norm_addr: "SMTP:Support@Acme.com " -> "support@acme.com".
norm_addr(s) := trim_space(trim_prefix(lower(trim_space(s)), "smtp:")) if is_string(s)

# parse_ref normalises a recipient reference as written by Get-InboxRule,
# ForwardingAddress, rule conditions, Trustee and so on:
#   "Name" [SMTP:a@b]               -> a@b
#   "Name" [EX:/o=ExchangeLabs/...] -> /o=exchangelabs/...
#   SMTP:a@b / EX:/o=... / X500:/o=... -> a@b / /o=... / /o=...
#   anything else                   -> lower-cased and trimmed
# The result is compared with identity forms, which are normalised the same
# way. It runs for every name of every recipient, so the common case (no "["
# and no ":") costs no regular expression.
parse_ref(s) := _parse_lower(lower(trim_space(s))) if is_string(s)

_parse_lower(l) := v if {
	contains(l, "[")
	m := regex.find_all_string_submatch_n(`^.*\[([a-z0-9]+):([^\]]*)\]\s*$`, l, 1)[0]
	v := _strip_ref_prefix(trim_space(concat(":", [m[1], m[2]])))
} else := v if {
	contains(l, ":")
	v := _strip_ref_prefix(l)
} else := l

_strip_ref_prefix(s) := trim_space(substring(s, 5, -1)) if {
	startswith(s, "smtp:")
} else := trim_space(substring(s, 3, -1)) if {
	startswith(s, "ex:")
} else := trim_space(substring(s, 5, -1)) if {
	startswith(s, "x500:")
} else := s

# domain_of("SMTP:Support@Acme.COM") == "acme.com". Undefined without "@".
domain_of(addr) := d if {
	a := norm_addr(addr)
	parts := split(a, "@")
	count(parts) > 1
	d := parts[count(parts) - 1]
}

is_true(x) if x == true

is_true(x) if {
	is_string(x)
	lower(trim_space(x)) == "true"
}

is_false(x) if x == false

is_false(x) if {
	is_string(x)
	lower(trim_space(x)) == "false"
}

strings(x) := [s |
	some v in as_array(x)
	is_string(v)
	s := v
	trim_space(s) != ""
]

is_blank(x) if x == null

is_blank(x) if {
	is_string(x)
	trim_space(x) == ""
}

is_blank(x) if {
	is_array(x)
	count(strings(x)) == 0
	count([v | some v in x; is_object(v)]) == 0
}

is_address(s) if regex.match(`^[^@\s]+@[^@\s]+\.[^@\s]+$`, norm_addr(s))

eq_fold(a, b) if {
	is_string(a)
	is_string(b)
	lower(trim_space(a)) == lower(trim_space(b))
}

starts_fold(s, prefix) if {
	is_string(s)
	startswith(lower(trim_space(s)), lower(prefix))
}

quote(s) := sprintf("%q", [s]) if is_string(s)

quote(s) := sprintf("%v", [s]) if not is_string(s)
