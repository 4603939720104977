# Package snap: access to the normalised snapshot (input.snapshot).
#
# Knows where things live and whether they were collected, so checks can say
# "indeterminate" instead of passing on missing data.
#
# Source names are cmdlet names under input.snapshot.exchange ("Get-Mailbox").
# Names starting with "graph." (or "graph:") address input.snapshot.graph
# instead ("graph.messageRules" -> input.snapshot.graph.messageRules).
#
# An error entry is an object in input.snapshot.errors with "source" (the
# source name, compared case-insensitively) and its text in "message"
# (or "error"). The collectors spell Graph sources with a colon
# ("graph:messageRules", DESIGN "Collector plumbing") while checks name the
# section with a dot: both spellings are one source everywhere here, so an
# error recorded under either makes the section errored, never collected.
#
# API (DESIGN.md; * = addition):
#   exchange                   input.snapshot.exchange or {}
#   graph*                     input.snapshot.graph or {}
#   errored(source)            input.snapshot.errors has an entry for source
#   error_text(source)*        the joined error messages for source
#   collected(name)            present and not errored
#   unavailable(names)         set of names (array or set) not collected
#   items(name)                the normalised array, [] when absent
#   per_recipient(name, addr)  array for that recipient; undefined when absent
#   per_recipient_all(name)*   the whole per-recipient object, {} when absent
#                              (per_recipient and per_recipient_all treat an
#                              errored source as absent, even with data)
#   has_entry(name, addr)*     the recipient's entry is present, errored
#                              source or not (collection planning only)
#   ticketing_address          normalised; undefined when not declared
#   support_address            normalised; undefined when not declared
#   atera_declared             both addresses declared
#   smtp                       the atera.smtp value (object or null)
#   smtp_declared*             atera.smtp is present (even null)
#   custom_smtp                smtp is an object
#   missing_message(names)     "Get-X was not collected; Get-Y failed: <text>"
#   recipient_missing_message(name, addr)*
#                              "Get-InboxRule for a@b was not collected" (or failed)
package ticketguard.lib.snap

import data.ticketguard.lib.util

exchange := x if {
	x := input.snapshot.exchange
	is_object(x)
} else := {}

graph := x if {
	x := input.snapshot.graph
	is_object(x)
} else := {}

_errors := [e |
	some e in util.as_array(object.get(input, ["snapshot", "errors"], []))
	is_object(e)
	is_string(e.source)
]

# _canonical(source) is the comparable form of a source name: lower case,
# and "graph:x" spelled "graph.x".
_canonical(source) := concat(".", ["graph", substring(s, 6, -1)]) if {
	s := lower(trim_space(source))
	startswith(s, "graph:")
} else := lower(trim_space(source))

# Error entries by canonical source, built once per evaluation.
_errors_by_source := {c: ms |
	some e in _errors
	c := _canonical(e.source)
	ms := [_error_message(x) | some x in _errors; _canonical(x.source) == c]
}

errored(source) if _errors_by_source[_canonical(source)]

_error_message(e) := e.message if {
	is_string(e.message)
} else := e.error if {
	is_string(e.error)
} else := "no error text"

error_text(source) := concat("; ", sort({m | some m in object.get(_errors_by_source, _canonical(source), [])}))

# _raw(name) is the value of a source; undefined when the key is absent or
# null (null is "not collected" before normalisation too).
_raw(name) := v if {
	not _is_graph(name)
	v := exchange[name]
	v != null
}

_raw(name) := v if {
	_is_graph(name)
	v := graph[substring(name, 6, -1)]
	v != null
}

# Section names after "graph." / "graph:" keep their case (messageRules).
_is_graph(name) if startswith(name, "graph.")

_is_graph(name) if startswith(name, "graph:")

collected(name) if {
	_raw(name)
	not errored(name)
}

unavailable(names) := {n |
	some n in names
	not collected(n)
}

# items is tolerant of an unnormalised single object (hand-written test input).
items(name) := v if {
	v := _raw(name)
	is_array(v)
} else := [v] if {
	v := _raw(name)
	is_object(v)
} else := []

# An errored source is absent here even when it holds rows: the collector
# records one error for the whole cmdlet when any recipient's read failed,
# and README promises that an entry in errors marks its source as failed
# even if data is present. Group membership or inbox rules read from what
# was fetched before the failure must never pass a check.
per_recipient_all(name) := v if {
	not errored(name)
	v := _raw(name)
	is_object(v)
} else := {}

per_recipient(name, addr) := util.as_array(v) if {
	v := per_recipient_all(name)[util.norm_addr(addr)]
	v != null
}

# has_entry is for the collection planner only: whether the snapshot holds a
# (non-null) entry for that recipient, errored source or not. Asking again for
# a recipient whose rows are there would not clear the error.
has_entry(name, addr) if {
	all := _raw(name)
	is_object(all)
	all[util.norm_addr(addr)] != null
}

_atera := a if {
	a := input.snapshot.atera
	is_object(a)
} else := {}

_declared_address(field) := a if {
	a := util.norm_addr(_atera[field])
	a != ""
}

ticketing_address := _declared_address("ticketing_address")

support_address := _declared_address("support_address")

atera_declared if {
	ticketing_address
	support_address
}

smtp := _atera.smtp

smtp_declared if "smtp" in object.keys(_atera)

custom_smtp if is_object(smtp)

_missing_part(n) := sprintf("%s failed: %s", [n, error_text(n)]) if errored(n)

_missing_part(n) := sprintf("%s was not collected", [n]) if {
	not errored(n)
	not collected(n)
}

missing_message(names) := concat("; ", [_missing_part(n) | some n in sort(unavailable(names))])

recipient_missing_message(name, addr) := sprintf("%s failed: %s", [name, error_text(name)]) if {
	errored(name)
} else := sprintf("%s was not collected", [name]) if {
	not collected(name)
} else := sprintf("%s for %s was not collected", [name, util.norm_addr(addr)])
