# METADATA
# title: E-mail tickets are arriving in Atera
# description: >-
#   The end-to-end proof that the e-mail route works: Atera created at least one
#   ticket from an e-mail in the last N days. When none did, customers' e-mails
#   are probably being lost on the way (or the customer was quiet), and nobody
#   notices until a customer complains that their request was never answered.
#   Which TicketSource value Atera gives e-mail tickets is unconfirmed (believed
#   to be "Email"): the accepted values are data, atera_api.email_ticket_sources
#   in policies/data/facts.json (now "Email", "E-mail" and "Mail"), compared
#   case-insensitively, and the finding lists the sources it saw.
# custom:
#   id: email-tickets-arriving
#   severity: warning
#   source: >-
#     SPEC §3 "Atera ticket" and §5 (TicketSource, TicketCreatedDate; the e-mail value
#     is unconfirmed); Atera API GET /api/v3/tickets; snapshot section atera_api
#     (window_days, customer_id, tickets) (DESIGN "Snapshot sections filled by collectors")
#   remediation: |-
#     1. Send a test message from an outside mailbox to <support address> and watch
#        Atera > Tickets for a new ticket with source Email (a minute or two).
#     2. If none appears, run the route checks on a fresh collection (ticketguard audit --config ticketguard.yaml)
#        and fix what support-route, external-forwarding, single-redirect and delivery-failures report.
#        Message trace shows whether the message left Exchange: Exchange admin centre > Mail flow >
#        Message trace > Recipients = <ticketing address>, or in PowerShell:
#          Get-MessageTraceV2 -RecipientAddress <ticketing address> -StartDate (Get-Date).AddDays(-7) -EndDate (Get-Date)
#     3. If it left Exchange as Delivered but no ticket appeared: Atera Admin > Email settings, the
#        ticketing address shown there must equal the mail contact's external address
#        (Get-MailContact -Identity "<contact name>" | Format-List ExternalEmailAddress), and the sender must
#        not be blocked by Atera's incoming e-mail settings.
#     4. If e-mail tickets do arrive but under another TicketSource than the finding's accepted values,
#        add that value to atera_api.email_ticket_sources in policies/data/facts.json.
#     5. A customer that simply sent no e-mail in the window: widen the window
#        (atera.ticket_window_days in ticketguard.yaml) or waive the check for that tenant.
package ticketguard.checks.email_tickets_arriving

import data.ticketguard.lib.identity
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_source := "atera_api"

_resource := "atera:tickets"

# SPEC §5: believed to be "Email", unconfirmed; kept as data.
_email_sources := object.get(data.ticketguard.facts, ["atera_api", "email_ticket_sources"], ["Email"])

_email_sources_text := concat(", ", [util.quote(s) | some s in _email_sources])

_day_ns := 86400000000000

# ---------------------------------------------------------------------------
# Indeterminate: nothing to read.

_api := a if {
	a := input.snapshot.atera_api
	is_object(a)
}

findings contains f if {
	snap.errored(_source)
	f := {
		"status": "indeterminate",
		"message": sprintf("the Atera tickets could not be read (%s failed: %s), so whether e-mail tickets arrive cannot be told; check the Atera API key (atera.api_key in ticketguard.yaml)", [_source, snap.error_text(_source)]),
		"resource": _resource,
	}
}

# collect records atera_api as skipped when no Atera API key is configured:
# the user chose not to read tickets, which is not missing data.
findings contains f if {
	not snap.errored(_source)
	not _api
	_skipped
	f := {
		"status": "not_applicable",
		"message": "no Atera API key is configured (collection.skipped lists atera_api), so tickets were not read: set atera.api_key: {env: ATERA_API_KEY} in ticketguard.yaml to check that e-mail tickets arrive",
		"resource": _resource,
	}
}

_skipped if "atera_api" in object.get(object.get(input.snapshot, "collection", {}), "skipped", [])

findings contains f if {
	not snap.errored(_source)
	not _api
	not _skipped
	f := {
		"status": "indeterminate",
		"message": "atera_api is not in the snapshot, so whether e-mail tickets arrive cannot be told: tickets are read by `ticketguard collect` when an Atera API key is configured (atera.api_key: {env: ATERA_API_KEY} in ticketguard.yaml)",
		"resource": _resource,
	}
}

_usable if {
	not snap.errored(_source)
	_api
}

findings contains f if {
	_usable
	not is_array(object.get(_api, "tickets", null))
	f := {
		"status": "indeterminate",
		"message": sprintf("atera_api has no tickets array (tickets = %v), so the e-mail tickets cannot be counted", [object.get(_api, "tickets", null)]),
		"resource": _resource,
	}
}

findings contains f if {
	_usable
	not _window_days
	f := {
		"status": "indeterminate",
		"message": sprintf("atera_api.window_days is %v, not a positive number of days, so the ticket window is unknown", [object.get(_api, "window_days", null)]),
		"resource": _resource,
	}
}

findings contains f if {
	_usable
	not _end_ns
	not _end_declared
	f := {
		"status": "indeterminate",
		"message": sprintf("the evaluation time input.now (%v) is not an RFC 3339 time, so the ticket window cannot be placed", [object.get(input, "now", null)]),
		"resource": _resource,
	}
}

findings contains f if {
	_usable
	_end_declared
	not _end_ns
	f := {
		"status": "indeterminate",
		"message": sprintf("atera_api.end (%s), the time the tickets were collected, is not an RFC 3339 time, so the ticket window cannot be placed", [json.marshal(_api.end)]),
		"resource": _resource,
	}
}

_window_days := d if {
	d := _api.window_days
	is_number(d)
	d > 0
}

# The window ends when the tickets were read (atera_api.end), not when the
# snapshot is evaluated: a snapshot checked a day later still covers the
# days before its collection.
_end_declared if object.get(_api, "end", null) != null

_end_ns := time.parse_rfc3339_ns(_api.end) if {
	_end_declared
	is_string(_api.end)
	regex.match(_rfc3339, _api.end)
} else := input.now_ns if {
	not _end_declared
	is_number(input.now_ns)
} else := time.parse_rfc3339_ns(input.now) if {
	not _end_declared
	is_string(input.now)
	regex.match(_rfc3339, input.now)
}

_end_text := sprintf("%s (when the tickets were collected)", [_api.end]) if {
	_end_declared
} else := input.now if {
	is_string(input.now)
} else := sprintf("%v", [_end_ns])

# Without a customer_id the collector read the tickets of the whole Atera
# account, every customer of the MSP: only tickets from this tenant's end
# users count, told by the domain of EndUserEmail.
_account_wide if object.get(_api, "customer_id", null) == null

findings contains f if {
	_usable
	_account_wide
	count(_tenant_domains) == 0
	f := {
		"status": "indeterminate",
		"message": "atera_api.customer_id is null, so the tickets are those of the whole Atera account, and this tenant's domains are unknown (no Get-AcceptedDomain, no support address or recipient address) to pick its tickets out: set atera.customer_id in ticketguard.yaml",
		"resource": _resource,
	}
}

_ready if {
	_usable
	is_array(_api.tickets)
	_window_days
	_end_ns
	_scope_known
}

_scope_known if not _account_wide

_scope_known if count(_tenant_domains) > 0

# ---------------------------------------------------------------------------
# This tenant's domains (account-wide tickets only).

_accepted := [d |
	some d in snap.items("Get-AcceptedDomain")
	is_object(d)
	is_string(d.DomainName)
	trim_space(d.DomainName) != ""
]

_tenant_domains := {lower(trim_space(d.DomainName)) | some d in _accepted} if {
	snap.collected("Get-AcceptedDomain")
	count(_accepted) > 0
} else := {d |
	some a in array.concat(
		[snap.support_address | snap.support_address],
		[a | some r in identity.recipients; r.kind != "contact"; some a in r.addresses],
	)
	d := util.domain_of(a)
}

_domains_from := "Get-AcceptedDomain" if {
	snap.collected("Get-AcceptedDomain")
	count(_accepted) > 0
} else := "the support address and the addresses of the tenant's mailboxes and groups (Get-AcceptedDomain was not collected)"

# Accepted domains with MatchSubDomains cover their subdomains too.
_subdomain_parents := {lower(trim_space(d.DomainName)) | some d in _accepted; util.is_true(object.get(d, "MatchSubDomains", null))}

_tenant_domain(d) if d in _tenant_domains

_tenant_domain(d) if {
	some p in _subdomain_parents
	endswith(d, concat("", [".", p]))
}

_end_user_domain(t) := d if {
	is_string(t.EndUserEmail)
	util.is_address(t.EndUserEmail)
	d := util.domain_of(t.EndUserEmail)
}

_of_tenant(_) if not _account_wide

_of_tenant(t) if {
	_account_wide
	_tenant_domain(_end_user_domain(t))
}

# Account-wide tickets whose end user cannot be told (no EndUserEmail).
_unattributed(t) if {
	_account_wide
	not _end_user_domain(t)
}

_domains_text := concat(", ", sort(_tenant_domains))

# ---------------------------------------------------------------------------
# Tickets in the window.

_since_ns := _end_ns - (_window_days * _day_ns)

_window_text := sprintf("in the %v %s before %s%s", [_window_days, _plural(_window_days, "day", "days"), _end_text, _customer_text])

_customer_text := sprintf(" for Atera customer %v%s", [_api.customer_id, _customer_name]) if {
	not _account_wide
} else := sprintf(" across the whole Atera account (atera_api.customer_id is null), counting only tickets whose EndUserEmail is in this tenant's domains (%s, from %s)", [_domains_text, _domains_from])

_customer_name := sprintf(" (%s)", [n]) if {
	some t in _api.tickets
	is_object(t)
	t.CustomerID == _api.customer_id
	n := t.CustomerName
	is_string(n)
} else := ""

_all_tickets := [t | _ready; some t in _api.tickets; is_object(t)]

_tickets := [t | some t in _all_tickets; _of_tenant(t)]

_in_window := [t | some t in _tickets; _created_ns(t) >= _since_ns]

_undated := [t | some t in _tickets; not _created_ns(t)]

# E-mail tickets of the account that may be this tenant's (no EndUserEmail)
# and may be in the window.
_email_unattributed := [t |
	some t in _all_tickets
	_unattributed(t)
	_is_email(t)
	_maybe_in_window(t)
]

_maybe_in_window(t) if _created_ns(t) >= _since_ns

_maybe_in_window(t) if not _created_ns(t)

_is_email(t) if {
	some s in _email_sources
	util.eq_fold(t.TicketSource, s)
}

_email_in_window := [t | some t in _in_window; _is_email(t)]

_email_undated := [t | some t in _undated; _is_email(t)]

# TicketCreatedDate: RFC 3339; a date-time without zone (taken as UTC, which
# can shift a ticket by the account's offset at the window's edge); or the
# "/Date(ms)/" of .NET serialisers.
_rfc3339 := `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|z|[+-][0-9]{2}:[0-9]{2})$`

_zoneless := `^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?$`

_created_ns(t) := n if {
	s := t.TicketCreatedDate
	is_string(s)
	regex.match(_rfc3339, s)
	n := time.parse_rfc3339_ns(s)
} else := n if {
	s := t.TicketCreatedDate
	is_string(s)
	regex.match(_zoneless, s)
	n := time.parse_rfc3339_ns(concat("", [replace(s, " ", "T"), "Z"]))
} else := n if {
	s := t.TicketCreatedDate
	is_string(s)
	m := regex.find_all_string_submatch_n(`^/Date\(([0-9]+)\)/$`, s, 1)[0]
	n := to_number(m[1]) * 1000000
}

# "Agent 3, Portal 2": every TicketSource in the window with its count.
_source_name(t) := t.TicketSource if {
	is_string(t.TicketSource)
	trim_space(t.TicketSource) != ""
} else := sprintf("%v", [t.TicketSource]) if {
	t.TicketSource != null
} else := "(no TicketSource)"

_sources_text(ts) := concat(", ", [sprintf("%s %d", [s, n]) |
	some s in {_source_name(t) | some t in ts}
	n := count([t | some t in ts; _source_name(t) == s])
])

_title(t) := s if {
	is_string(t.TicketTitle)
	count(t.TicketTitle) <= 60
	s := t.TicketTitle
} else := concat("", [substring(t.TicketTitle, 0, 57), "..."]) if {
	is_string(t.TicketTitle)
} else := "(no title)"

_newest := x[1] if {
	count(_email_in_window) > 0
	x := max([[_created_ns(t), t] | some t in _email_in_window])
}

_ticket_text(t) := sprintf("#%v %q from %v created %v", [
	object.get(t, "TicketID", "?"), _title(t),
	object.get(t, "EndUserEmail", "(no end-user e-mail)"), object.get(t, "TicketCreatedDate", null),
])

# ---------------------------------------------------------------------------
# Verdicts.

findings contains f if {
	count(_email_in_window) > 0
	n := count(_email_in_window)
	f := {
		"status": "pass",
		"message": sprintf("%d e-mail %s created %s (by TicketSource: %s); newest: %s", [
			n, _plural(n, "ticket", "tickets"), _window_text, _sources_text(_email_in_window), _ticket_text(_newest),
		]),
		"resource": _resource,
	}
}

# E-mail tickets whose date cannot be read may be inside the window.
findings contains f if {
	_ready
	count(_email_in_window) == 0
	count(_email_undated) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("no e-mail ticket with a readable date was created %s, but %d e-mail %s an unreadable TicketCreatedDate (%s), so whether one arrived in the window cannot be told", [
			_window_text, count(_email_undated), _plural(count(_email_undated), "ticket has", "tickets have"),
			concat(", ", sort({util.quote(object.get(t, "TicketCreatedDate", null)) | some t in _email_undated})),
		]),
		"resource": _resource,
	}
}

findings contains f if {
	_ready
	count(_email_in_window) == 0
	count(_email_undated) == 0
	count(_email_unattributed) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("no e-mail ticket from this tenant's domains was created %s, but %d e-mail %s of the account %s no EndUserEmail (%s) and may be this tenant's, so whether one of its e-mails arrived cannot be told; set atera.customer_id in ticketguard.yaml", [
			_window_text, count(_email_unattributed), _plural(count(_email_unattributed), "ticket", "tickets"),
			_plural(count(_email_unattributed), "has", "have"),
			concat(", ", sort({sprintf("#%v", [object.get(t, "TicketID", "?")]) | some t in _email_unattributed})),
		]),
		"resource": _resource,
	}
}

findings contains f if {
	_ready
	count(_email_in_window) == 0
	count(_email_undated) == 0
	count(_email_unattributed) == 0
	f := {
		"status": "fail",
		"message": sprintf("no e-mail ticket (TicketSource %s) was created %s: %s. Customers' e-mails to the support address may not be reaching Atera; send a test message to %s", [
			_email_sources_text, _window_text, _seen_text, _support_text,
		]),
		"resource": _resource,
	}
}

_seen_text := sprintf("none of the %d tickets of the account in the window is from this tenant's domains", [n]) if {
	count(_in_window) == 0
	_account_wide
	n := count([t | some t in _all_tickets; _created_ns(t) >= _since_ns])
	n > 0
} else := "Atera returned no ticket at all in the window" if {
	count(_in_window) == 0
} else := sprintf("the %d %s in the window are, by TicketSource: %s", [count(_in_window), _plural(count(_in_window), "ticket", "tickets"), _sources_text(_in_window)])

_support_text := a if {
	a := snap.support_address
} else := "the support address"

_plural(n, one, many) := one if n == 1

else := many
