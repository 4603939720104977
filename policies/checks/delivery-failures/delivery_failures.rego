# METADATA
# title: No failed deliveries to the Atera ticketing address
# description: >-
#   Every customer e-mail to the support address must leave Exchange Online for
#   the Atera ticketing address. The message trace shows whether it did: a
#   message to the ticketing address with status Failed is a support request
#   that never became a ticket, and the customer usually gets no answer (a
#   550 5.7.520 bounce, the usual one, goes back to the customer, not to the
#   helpdesk). Zero failures with zero messages is not proof of delivery: the
#   finding then says no mail arrived at all.
# custom:
#   id: delivery-failures
#   severity: error
#   source: >-
#     SPEC §1.2 (fallback: 550 5.7.520 ... AS(7555)), §3 and §4 message trace;
#     Microsoft Graph GET /admin/exchange/tracing/messageTraces
#     (recipientAddress, senderAddress, receivedDateTime, subject, status),
#     snapshot section graph.messageTraces (DESIGN "Snapshot sections filled by collectors")
#   remediation: |-
#     1. Read why the messages failed: Exchange admin centre > Mail flow > Message trace >
#        Start a trace > Recipients = <ticketing address>, time range as in the finding > Search;
#        open a failed message and read the delivery event's reason (the NDR code).
#        PowerShell:
#          Get-MessageTraceV2 -RecipientAddress <ticketing address> -StartDate (Get-Date).AddDays(-1) -EndDate (Get-Date) | Where-Object Status -eq Failed
#          Get-MessageTraceDetailV2 -MessageTraceId <message trace id> -RecipientAddress <ticketing address>
#     2. 550 5.7.520 Access denied, Your organization does not allow external forwarding ... AS(7555):
#        the outbound anti-spam policy blocks the forward. Fix it as the external-forwarding check says
#        (ticketguard policy explain external-forwarding): Microsoft Defender portal > Email & collaboration >
#        Policies & rules > Threat policies > Anti-spam policies > Outbound, "Automatic forwarding rules" =
#        "On - Forwarding is enabled" for the support sender, or in PowerShell:
#          Set-HostedOutboundSpamFilterPolicy -Identity "<policy name>" -AutoForwardingMode On
#        If the organisation refuses external forwarding, use the transport-rule fallback instead:
#          New-TransportRule -Name "Support to Atera" -SentTo <support address> -RedirectMessageTo "<contact name>" -Mode Enforce
#     3. 550 5.1.1 / 5.1.10 (recipient not found) or 5.4.1 (relay access denied): the ticketing address is
#        wrong. Compare it with Atera Admin > Email settings and correct the mail contact:
#        Exchange admin centre > Recipients > Contacts > <contact name> > Edit, or
#          Set-MailContact -Identity "<contact name>" -ExternalEmailAddress <ticketing address>
#     4. Any other code: look it up in Microsoft's "Email non-delivery reports (NDRs) in Exchange Online".
#     5. Send a test message to <support address> from an outside mailbox, confirm a ticket appears in
#        Atera, and collect again: the new trace must show the message Delivered.
package ticketguard.checks.delivery_failures

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.scope
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

# Error source of the collector (DESIGN "Collector plumbing").
_source := "graph:messageTraces"

_section := "graph.messageTraces"

_resource := sprintf("address:%s", [snap.ticketing_address])

# How many failed messages a finding lists.
_max_listed := 5

# Graph exchangeMessageTrace status values, compared in lower case. "bounced"
# is not a Graph value but other exports use it. Statuses outside these sets
# (quarantined, filteredAsSpam, ...) are counted as "other" and named.
_failed_statuses := {"failed", "bounced"}

_delivered_statuses := {"delivered", "expanded", "resolved"}

_pending_statuses := {"pending", "gettingstatus", "getting status", "none", ""}

# ---------------------------------------------------------------------------
# Indeterminate: no trace to read.

findings contains f if {
	not snap.ticketing_address
	f := {
		"status": "indeterminate",
		"message": "atera.ticketing_address is not declared: declare the ticketing address of Atera Admin > Email settings in the snapshot / config, so the message trace to it can be read",
	}
}

findings contains f if {
	snap.ticketing_address
	snap.errored(_source)
	f := {
		"status": "indeterminate",
		"message": sprintf("the message trace to %s could not be read (%s failed: %s), so failed deliveries cannot be ruled out; the app needs the Graph application permission ExchangeMessageTrace.Read.All", [snap.ticketing_address, _source, snap.error_text(_source)]),
		"resource": _resource,
	}
}

findings contains f if {
	snap.ticketing_address
	not snap.errored(_source)
	not _trace
	f := {
		"status": "indeterminate",
		"message": sprintf("%s is not in the snapshot, so failed deliveries to %s cannot be ruled out: the message trace is read by `ticketguard collect` (a hand-written snapshot has none)", [_section, snap.ticketing_address]),
		"resource": _resource,
	}
}

_trace := t if {
	t := snap.graph.messageTraces
	is_object(t)
}

findings contains f if {
	_usable_trace
	not is_array(object.get(_trace, "items", null))
	f := {
		"status": "indeterminate",
		"message": sprintf("%s has no items array (items = %v), so the messages to %s cannot be counted", [_section, object.get(_trace, "items", null), snap.ticketing_address]),
		"resource": _resource,
	}
}

# A trace of another address says nothing about this one (the declared
# ticketing address changed since the collection, say).
findings contains f if {
	_usable_trace
	not _same_recipient
	f := {
		"status": "indeterminate",
		"message": sprintf("%s traces mail to %s, not to the ticketing address %s: collect again", [_section, util.quote(_trace.recipient), snap.ticketing_address]),
		"resource": _resource,
	}
}

_usable_trace if {
	snap.ticketing_address
	not snap.errored(_source)
	_trace
}

_same_recipient if util.is_blank(object.get(_trace, "recipient", null))

_same_recipient if util.norm_addr(_trace.recipient) == snap.ticketing_address

_ready if {
	_usable_trace
	_same_recipient
	is_array(_trace.items)
}

# ---------------------------------------------------------------------------
# The messages.

# Items without recipientAddress are taken to be the trace's recipient's: the
# query filters on it.
_items := [item |
	_ready
	some item in _trace.items
	is_object(item)
	_to_ticketing(item)
]

_to_ticketing(item) if util.is_blank(object.get(item, "recipientAddress", null))

_to_ticketing(item) if util.norm_addr(item.recipientAddress) == snap.ticketing_address

_status(item) := lower(trim_space(item.status)) if is_string(item.status)

else := ""

_status_text(item) := item.status if is_string(item.status)

else := "(no status)"

_failed := [item | some item in _items; _status(item) in _failed_statuses]

_delivered := [item | some item in _items; _status(item) in _delivered_statuses]

_pending := [item | some item in _items; _status(item) in _pending_statuses]

_other := [item |
	some item in _items
	s := _status(item)
	not s in _failed_statuses
	not s in _delivered_statuses
	not s in _pending_statuses
]

_counts_text := sprintf("%d delivered, %d failed, %d pending%s", [count(_delivered), count(_failed), count(_pending), _other_text])

_other_text := "" if count(_other) == 0

else := sprintf(", %d other (%s)", [count(_other), concat(", ", [sprintf("%s %d", [s, n]) |
	some s in {_status_text(i) | some i in _other}
	n := count([i | some i in _other; _status_text(i) == s])
])])

# ---------------------------------------------------------------------------
# The window: "in the last 24 h (2026-11-26T06:00:00Z to 2026-11-27T06:00:00Z)".

_rfc3339 := `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|z|[+-][0-9]{2}:[0-9]{2})$`

_ns(s) := time.parse_rfc3339_ns(s) if {
	is_string(s)
	regex.match(_rfc3339, s)
}

_hours := round((_ns(_trace.end) - _ns(_trace.start)) / 3600000000000)

_window_text := sprintf("in the last %d h (%s to %s)", [_hours, _trace.start, _trace.end]) if {
	_hours > 0
} else := sprintf("in the trace window (start %v, end %v)", [object.get(_trace, "start", null), object.get(_trace, "end", null)])

# ---------------------------------------------------------------------------
# Failed messages, newest first.

_received_ns(item) := n if {
	n := _ns(item.receivedDateTime)
} else := 0

_failed_newest_first := [_failed[x[1]] | some x in array.reverse(sort([[_received_ns(item), i] | some i, item in _failed]))]

_listed := array.slice(_failed_newest_first, 0, _max_listed)

_more_text := sprintf("; and %d more", [count(_failed) - count(_listed)]) if count(_failed) > count(_listed)

else := ""

_subject(item) := s if {
	is_string(item.subject)
	count(item.subject) <= 60
	s := item.subject
} else := concat("", [substring(item.subject, 0, 57), "..."]) if {
	is_string(item.subject)
} else := "(no subject)"

_sender(item) := util.norm_addr(item.senderAddress) if {
	is_string(item.senderAddress)
	trim_space(item.senderAddress) != ""
} else := "(unknown sender)"

_received(item) := item.receivedDateTime if is_string(item.receivedDateTime)

else := "(no time)"

_item_text(item) := sprintf("%s from %s %q (status %s%s)", [_received(item), _sender(item), _subject(item), _status_text(item), _reason_text(item)])

_reason_text(item) := sprintf("; %s", [_reason(item)]) if _reason(item)

else := ""

# ---------------------------------------------------------------------------
# Why they failed. The Graph collector attaches to each failed item its
# message trace detail events (DESIGN "Graph message trace details"):
#   "details": [{"event": "Fail", "description": "Reason: [{LED=550 5.7.520
#   Access denied, Your organization does not allow external forwarding. ...
#   AS(7555)};{MSG=};...]", "dateTime": ...}, ...]
# Only those events are read, never the subject or the sender, which a
# customer writes.

_detail_texts(item) := [s |
	some d in util.as_array(object.get(item, "details", null))
	is_object(d)
	some field in ["description", "data", "action"]
	s := d[field]
	is_string(s)
]

# The SMTP reply in a detail: "550 5.7.520 Access denied, ... AS(7555)".
_reply_pattern := `[245][0-9]{2}[ -][245]\.[0-9]{1,3}\.[0-9]{1,3}[^;}\]]*`

_reason(item) := r if {
	replies := [trim_space(m) |
		some s in _detail_texts(item)
		some m in regex.find_n(_reply_pattern, s, 1)
	]
	count(replies) > 0
	r := _cut(replies[0], 160)
}

_cut(s, n) := s if count(s) <= n

else := concat("", [substring(s, 0, n - 3), "..."])

_is_5_7_520(item) if {
	some s in _detail_texts(item)
	regex.match(`\b5\.7\.520\b`, s)
}

_refused := [item | some item in _failed; _is_5_7_520(item)]

_with_reason := [item | some item in _failed; _reason(item)]

# The policy that applies to the forwarding recipient, when it does not allow
# forwarding: named in the finding, since it is what to change.
_forwarding_routes := {r | some r in route.routes; r.method in {"group", "mailbox"}}

_blocking_policies contains sprintf("outbound anti-spam policy %q applies to %s and has AutoForwardingMode = %v", [
	object.get(res.policy, "Name", object.get(res.policy, "Identity", "(no name)")),
	identity.label(r.recipient),
	object.get(res.policy, "AutoForwardingMode", null),
]) if {
	some r in _forwarding_routes
	res := scope.applicable("outbound", r.recipient)
	res.status == "known"
	not util.eq_fold(object.get(res.policy, "AutoForwardingMode", null), "On")
}

_explain := "see `ticketguard policy explain external-forwarding`"

_forwarding_fix := sprintf("allow external forwarding for the support sender as the external-forwarding check says: the outbound anti-spam policy that applies to it must have AutoForwardingMode On (Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies > Anti-spam policies > Outbound; Set-HostedOutboundSpamFilterPolicy -Identity \"<policy name>\" -AutoForwardingMode On), the remote domain for %s must allow automatic forwarding and no transport rule may block it; %s", [
	_ticketing_domain, _explain,
])

_ticketing_domain := util.domain_of(snap.ticketing_address)

_policies_now := sprintf(" Now %s.", [concat("; ", sort(_blocking_policies))]) if {
	count(_blocking_policies) > 0
} else := ""

_cause_text := sprintf(" %d of them %s refused with 550 5.7.520 Access denied, the organisation does not allow external forwarding (message trace details): %s.%s", [
	count(_refused), _plural(count(_refused), "was", "were"), _forwarding_fix, _policies_now,
]) if {
	count(_refused) > 0
} else := sprintf(" The trace does not say why %s failed, but %s, which can refuse external forwarding (550 5.7.520): the likely cause, %s.", [
	_plural(count(_failed), "it", "they"), concat("; ", sort(_blocking_policies)), _explain,
]) if {
	count(_with_reason) == 0
	count(_blocking_policies) > 0
} else := " The reasons are the SMTP replies above; look the codes up in Microsoft's \"Email non-delivery reports (NDRs) in Exchange Online\"." if {
	count(_with_reason) > 0
} else := sprintf(" The details of the failed messages could not be read (%s failed: %s): open them in message trace to read the reason (the NDR code).", [_details_source, snap.error_text(_details_source)]) if {
	snap.errored(_details_source)
} else := " Open the failed messages in message trace to read the reason (the NDR code)."

_details_source := "graph:messageTraceDetails"

_plural(n, one, many) := one if n == 1

else := many

# ---------------------------------------------------------------------------
# Verdicts.

findings contains f if {
	count(_failed) > 0
	f := {
		"status": "fail",
		"message": sprintf("%d %s to the ticketing address %s failed %s: %s. Newest failures: %s%s.%s", [
			count(_failed), _plural(count(_failed), "message", "messages"), snap.ticketing_address, _window_text, _counts_text,
			concat("; ", [_item_text(i) | some i in _listed]), _more_text, _cause_text,
		]),
		"resource": _resource,
	}
}

findings contains f if {
	_ready
	count(_failed) == 0
	count(_items) > 0
	f := {
		"status": "pass",
		"message": sprintf("no message to the ticketing address %s failed %s: %s", [snap.ticketing_address, _window_text, _counts_text]),
		"resource": _resource,
	}
}

# No evidence of failure is not evidence of delivery: say so.
findings contains f if {
	_ready
	count(_items) == 0
	f := {
		"status": "pass",
		"message": sprintf("no mail to the ticketing address %s %s, so nothing failed, but nothing was delivered either: send a test message to %s to prove the route", [snap.ticketing_address, _window_text, _support_text]),
		"resource": _resource,
	}
}

_support_text := a if {
	a := snap.support_address
} else := "the support address"
