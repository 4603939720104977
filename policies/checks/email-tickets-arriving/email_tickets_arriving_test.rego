package ticketguard.checks.email_tickets_arriving_test

import data.ticketguard.checks.email_tickets_arriving

# --- fixtures --------------------------------------------------------------

_facts := {"atera_api": {"email_ticket_sources": ["Email", "E-mail", "Mail"]}}

# Atera API ticket rows (SPEC §3): no bodies, only what the collector keeps.
_ticket(id, source, created, title) := {
	"TicketID": id,
	"TicketTitle": title,
	"TicketSource": source,
	"TicketStatus": "Open",
	"TicketCreatedDate": created,
	"EndUserEmail": "alice@customer.com",
	"CustomerID": 42,
	"CustomerName": "Acme Ltd",
}

_email_recent := _ticket(5012, "Email", "2026-11-25T14:03:11Z", "Printer on floor 2 is jammed")

_agent_recent := _ticket(5013, "Agent", "2026-11-26T09:00:00Z", "Patch Tuesday follow-up")

_portal_recent := _ticket(5014, "Portal", "2026-11-24T10:30:00Z", "New starter on Monday")

# Nine days before now: outside a 7-day window.
_email_old := _ticket(4990, "Email", "2026-11-18T08:00:00Z", "Old request")

_api(tickets) := {
	"window_days": 7,
	"start": "2026-11-20T06:00:00Z",
	"end": "2026-11-27T06:00:00Z",
	"customer_id": 42,
	"tickets": tickets,
}

_base := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com", "smtp": null},
		"exchange": {},
		"atera_api": _api([_agent_recent, _email_recent, _portal_recent]),
	},
}

_with_tickets(ts) := object.union(_base, {"snapshot": {"atera_api": {"tickets": ts}}})

_without_api := {"now": _base.now, "now_ns": _base.now_ns, "snapshot": object.remove(_base.snapshot, ["atera_api"])}

_run(inp) := fs if {
	fs := email_tickets_arriving.findings with input as inp with data.ticketguard.facts as _facts
}

_statuses(fs) := {f.status | some f in fs}

_has(fs, st, texts) if {
	some f in fs
	f.status == st
	every t in texts {
		contains(f.message, t)
	}
}

# --- pass ------------------------------------------------------------------

test_pass_email_ticket_in_window if {
	fs := _run(_base)
	_statuses(fs) == {"pass"}
	count(fs) == 1
	_has(fs, "pass", ["1 e-mail ticket created in the 7 days before 2026-11-27T06:00:00Z (when the tickets were collected) for Atera customer 42 (Acme Ltd) (by TicketSource: Email 1)", "#5012", "Printer on floor 2 is jammed", "alice@customer.com"])
	some f in fs
	f.resource == "atera:tickets"
}

test_pass_source_compared_case_insensitively if {
	fs := _run(_with_tickets([_ticket(1, "e-MAIL", "2026-11-26T10:00:00Z", "a"), _ticket(2, "MAIL", "2026-11-26T11:00:00Z", "b")]))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["2 e-mail tickets", "e-MAIL 1", "MAIL 1", "#2"])
}

# Atera may send dates without a zone (taken as UTC) or as /Date(ms)/.
test_pass_zoneless_and_dotnet_dates if {
	fs := _run(_with_tickets([_ticket(1, "Email", "2026-11-26T10:00:00.123", "zoneless")]))
	_statuses(fs) == {"pass"}
	fs2 := _run(_with_tickets([_ticket(2, "Email", "/Date(1795600000000)/", "dotnet")]))
	_statuses(fs2) == {"pass"}
}

test_pass_names_customer if {
	fs := _run(object.union(_base, {"snapshot": {"atera_api": {"customer_id": 42}}}))
	_has(fs, "pass", ["for Atera customer 42 (Acme Ltd)"])
}

# The accepted values are data: another value in facts.json is honoured.
test_pass_accepted_values_from_facts if {
	fs := email_tickets_arriving.findings with input as _with_tickets([_ticket(1, "Inbound e-mail", "2026-11-26T10:00:00Z", "x")])
		with data.ticketguard.facts as {"atera_api": {"email_ticket_sources": ["Inbound e-mail"]}}
	_statuses(fs) == {"pass"}
}

# --- fail (warning) ----------------------------------------------------------

test_fail_no_email_ticket_lists_sources_seen if {
	fs := _run(_with_tickets([_agent_recent, _portal_recent, _email_old]))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", [
		`no e-mail ticket (TicketSource "Email", "E-mail", "Mail") was created in the 7 days before 2026-11-27T06:00:00Z (when the tickets were collected) for Atera customer 42`,
		"the 2 tickets in the window are, by TicketSource: Agent 1, Portal 1",
		"support@acme.com",
	])
}

test_fail_no_ticket_at_all if {
	fs := _run(_with_tickets([]))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["Atera returned no ticket at all in the window"])
}

test_fail_window_days_honoured if {
	fs := _run(object.union(_with_tickets([_email_recent]), {"snapshot": {"atera_api": {"window_days": 1}}}))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["in the 1 day before", "Atera returned no ticket at all"])
}

test_fail_source_missing_or_numeric if {
	fs := _run(_with_tickets([_ticket(1, null, "2026-11-26T10:00:00Z", "x"), _ticket(2, 3, "2026-11-26T10:00:00Z", "y")]))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["(no TicketSource) 1", "3 1"])
}

# --- indeterminate -----------------------------------------------------------

test_indeterminate_section_missing if {
	fs := _run(_without_api)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera_api is not in the snapshot", "ticketguard collect", "api_key"])
}

test_not_applicable_no_api_key_configured if {
	inp := object.union(_without_api, {"snapshot": {"collection": {"skipped": ["atera_api"]}}})
	fs := _run(inp)
	_statuses(fs) == {"not_applicable"}
	_has(fs, "not_applicable", ["no Atera API key is configured", "atera.api_key"])
}

test_indeterminate_source_errored if {
	inp := object.union(_without_api, {"snapshot": {"errors": [{"source": "atera_api", "message": "GET /api/v3/tickets: 401 Unauthorized"}]}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera_api failed: GET /api/v3/tickets: 401 Unauthorized"])
}

test_indeterminate_errored_wins_over_partial_section if {
	inp := object.union(_base, {"snapshot": {"errors": [{"source": "atera_api", "message": "page 2: 429 Too Many Requests"}]}})
	_statuses(_run(inp)) == {"indeterminate"}
}

test_indeterminate_undated_email_tickets if {
	fs := _run(_with_tickets([_agent_recent, _ticket(1, "Email", "26/11/2026 10:00", "x")]))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", [`"26/11/2026 10:00"`, "1 e-mail ticket has an unreadable TicketCreatedDate"])
}

test_indeterminate_window_days_missing if {
	inp := object.union(_base, {"snapshot": {"atera_api": {"window_days": null}}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera_api.window_days is null"])
}

test_indeterminate_tickets_missing if {
	inp := object.union(_base, {"snapshot": {"atera_api": {"tickets": null}}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["no tickets array"])
}

# --- the window ends at the collection time ------------------------------------

# Collected a week before the evaluation: the window is the 7 days before
# atera_api.end, not before input.now.
test_pass_window_measured_from_collection_time if {
	inp := object.union(_with_tickets([_ticket(1, "Email", "2026-11-14T10:00:00Z", "last week")]), {"snapshot": {"atera_api": {"start": "2026-11-13T06:00:00Z", "end": "2026-11-20T06:00:00Z"}}})
	fs := _run(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["in the 7 days before 2026-11-20T06:00:00Z (when the tickets were collected)", "#1"])
}

test_fail_window_measured_from_collection_time if {
	# 2026-11-12 is more than 7 days before the collection (2026-11-20).
	inp := object.union(_with_tickets([_ticket(1, "Email", "2026-11-12T10:00:00Z", "too old")]), {"snapshot": {"atera_api": {"end": "2026-11-20T06:00:00Z"}}})
	_statuses(_run(inp)) == {"fail"}
}

test_pass_window_from_now_without_end if {
	inp := object.union(_base, {"snapshot": {"atera_api": {"end": null}}})
	fs := _run(inp)
	_has(fs, "pass", ["in the 7 days before 2026-11-27T06:00:00Z for Atera customer 42"])
}

test_indeterminate_end_unreadable if {
	inp := object.union(_base, {"snapshot": {"atera_api": {"end": "yesterday"}}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", [`atera_api.end ("yesterday")`, "not an RFC 3339 time"])
}

# --- account-wide tickets (customer_id null) ----------------------------------

_by(t, email) := object.union(t, {"EndUserEmail": email, "CustomerID": 7, "CustomerName": "Someone"})

_account_wide(tickets, exchange) := object.union(_base, {"snapshot": {
	"exchange": exchange,
	"atera_api": {"customer_id": null, "tickets": tickets},
}})

_accepted := {"Get-AcceptedDomain": [
	{"DomainName": "acme.com", "DomainType": "Authoritative", "Default": true, "MatchSubDomains": false},
	{"DomainName": "acme.onmicrosoft.com", "DomainType": "Authoritative", "Default": false, "MatchSubDomains": false},
]}

# Another customer's e-mail tickets do not count for this tenant.
test_pass_account_wide_counts_only_tenant_domains if {
	inp := _account_wide([_email_recent, _by(_ticket(6001, "Email", "2026-11-26T08:00:00Z", "VPN down"), "Bob@Acme.com")], _accepted)
	fs := _run(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", [
		"1 e-mail ticket created",
		"across the whole Atera account (atera_api.customer_id is null), counting only tickets whose EndUserEmail is in this tenant's domains (acme.com, acme.onmicrosoft.com, from Get-AcceptedDomain)",
		"#6001",
	])
}

test_fail_account_wide_only_other_customers if {
	fs := _run(_account_wide([_email_recent, _agent_recent], _accepted))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["across the whole Atera account", "none of the 2 tickets of the account in the window is from this tenant's domains"])
}

# Without Get-AcceptedDomain the domains come from the support address and
# the tenant's mailboxes and groups (not from mail contacts: those are external).
test_pass_account_wide_domains_from_recipients if {
	exchange := {
		"Get-Mailbox": [{"Name": "bob", "Guid": "b0b0b0b0-0000-4000-8000-000000000001", "PrimarySmtpAddress": "bob@acme.co.uk", "EmailAddresses": ["SMTP:bob@acme.co.uk"]}],
		"Get-MailContact": [{"Name": "Atera", "Guid": "c0c0c0c0-0000-4000-8000-000000000002", "ExternalEmailAddress": "SMTP:acme@ticketing.atera.com", "PrimarySmtpAddress": "acme@ticketing.atera.com"}],
	}
	inp := _account_wide([_by(_ticket(6002, "Email", "2026-11-26T08:00:00Z", "x"), "carol@acme.co.uk")], exchange)
	fs := _run(inp)
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["(acme.co.uk, acme.com, from the support address and the addresses of the tenant's mailboxes and groups (Get-AcceptedDomain was not collected))"])

	ticketing := _account_wide([_by(_ticket(6003, "Email", "2026-11-26T08:00:00Z", "x"), "noreply@ticketing.atera.com")], exchange)
	_statuses(_run(ticketing)) == {"fail"}
}

# An account-wide e-mail ticket without EndUserEmail may be this tenant's.
test_indeterminate_account_wide_ticket_without_end_user if {
	fs := _run(_account_wide([_email_recent, _by(_ticket(6004, "Email", "2026-11-26T08:00:00Z", "x"), null)], _accepted))
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["1 e-mail ticket of the account has no EndUserEmail (#6004) and may be this tenant's", "atera.customer_id"])
}
