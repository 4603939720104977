package ticketguard.checks.atera_ip_allowlist_test

import data.ticketguard.checks.atera_ip_allowlist

# --- fixtures --------------------------------------------------------------

_facts := {"atera": {
	"sender_hosts": ["app.atera.com"],
	"sender_ranges": ["52.157.0.0/16", "40.113.0.0/16"],
	"sender_ranges_narrow": [
		"52.157.175.0/24", "40.113.216.0/24", "40.113.221.0/24", "40.113.222.0/24",
		"54.240.3.0/24", "51.144.126.0/24", "40.122.130.0/24",
		"54.240.106.94", "54.240.106.95",
	],
}}

_narrow := _facts.atera.sender_ranges_narrow

# Get-HostedConnectionFilterPolicy as the REST API returns the default policy.
_default_policy(allow) := {
	"Name": "Default",
	"Identity": "Default",
	"IsDefault": true,
	"EnableSafeList": false,
	"IPAllowList": allow,
	"IPBlockList": [],
	"AdminDisplayName": "",
}

_base := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "support@acme.com",
			"smtp": {"server": "smtp.office365.com", "port": 587, "username": "helpdesk@acme.com", "ssl": true},
		},
		"exchange": {"Get-HostedConnectionFilterPolicy": [_default_policy(_narrow)]},
	},
}

_with_allow(allow) := object.union(_base, {"snapshot": {"exchange": {"Get-HostedConnectionFilterPolicy": [_default_policy(allow)]}}})

_run(inp) := fs if {
	fs := atera_ip_allowlist.findings with input as inp with data.ticketguard.facts as _facts
}

_only(fs, status) := f if {
	count(fs) == 1
	some f in fs
	f.status == status
}

# --- pass ------------------------------------------------------------------

test_pass_narrow_list_entered_as_is if {
	f := _only(_run(_base), "pass")
	contains(f.message, "every range of 52.157.175.0/24")
	contains(f.message, `"Default" [52.157.175.0/24,`)
	f.resource == "hosted-connection-filter-policy:Default"
}

# Several entries together cover one range: two /25s make 40.113.216.0/24, an
# a-b range holds the two single addresses, a wider /23 holds two /24s.
test_pass_ranges_covered_by_several_entries if {
	allow := [
		"52.157.175.0/24", "40.113.216.0/25", "40.113.216.128/25", "40.113.222.0/23",
		"40.113.221.0/24", "54.240.3.0/24", "51.144.126.0/24", "40.122.130.0/24",
		"54.240.106.94-54.240.106.95",
	]
	_only(_run(_with_allow(allow)), "pass")
}

test_pass_wide_ranges if {
	f := _only(_run(_with_allow(["52.157.0.0/16", "40.113.0.0/16"])), "pass")
	contains(f.message, "every range of 52.157.0.0/16, 40.113.0.0/16")
}

test_pass_union_over_policies if {
	half := array.slice(_narrow, 0, 4)
	rest := array.slice(_narrow, 4, count(_narrow))
	other := object.union(_default_policy(rest), {"Name": "Atera senders", "Identity": "Atera senders", "IsDefault": false})
	inp := object.union(_base, {"snapshot": {"exchange": {"Get-HostedConnectionFilterPolicy": [_default_policy(half), other]}}})
	f := _only(_run(inp), "pass")
	f.resource == "hosted-connection-filter-policy:Atera senders,Default"
}

# The allow list matters whatever server Atera submits to.
test_pass_checked_for_any_server if {
	inp := object.union(_base, {"snapshot": {"atera": {"smtp": {"server": "smtp.sendgrid.net", "username": "apikey"}}}})
	_only(_run(inp), "pass")
}

# --- fail ------------------------------------------------------------------

test_fail_empty_allow_list if {
	f := _only(_run(_with_allow([])), "fail")
	contains(f.message, "missing 52.157.175.0/24, 40.113.216.0/24, 40.113.221.0/24, 40.113.222.0/24, 54.240.3.0/24, 51.144.126.0/24, 40.122.130.0/24, 54.240.106.94, 54.240.106.95 of Atera's list")
	contains(f.message, `"Default" [] (empty)`)
	contains(f.message, "52.157.0.0/16, 40.113.0.0/16 are not covered either")
	contains(f.message, "only /24 to /32")
}

test_fail_names_exactly_the_missing_ranges if {
	allow := array.concat(array.slice(_narrow, 0, 6), ["203.0.113.7"])
	f := _only(_run(_with_allow(allow)), "fail")
	contains(f.message, "missing 40.122.130.0/24, 54.240.106.94, 54.240.106.95 of Atera's list")
	contains(f.message, `"Default" [52.157.175.0/24, 40.113.216.0/24, 40.113.221.0/24, 40.113.222.0/24, 54.240.3.0/24, 51.144.126.0/24, 203.0.113.7]`)
	contains(f.message, `-IPAllowList @{Add="40.122.130.0/24","54.240.106.94","54.240.106.95"}`)
}

# One address of a pair is not the pair; a /25 is not its /24.
test_fail_partial_coverage_of_a_range if {
	allow := array.concat(array.slice(_narrow, 0, 6), ["40.122.130.0/25", "54.240.106.94"])
	f := _only(_run(_with_allow(allow)), "fail")
	contains(f.message, "missing 40.122.130.0/24, 54.240.106.95 of")
}

test_fail_bare_string_allow_list_and_invalid_entries if {
	inp := _with_allow("52.157.175.0/24")
	f := _only(_run(inp), "fail")
	contains(f.message, `"Default" [52.157.175.0/24]`)
	not contains(f.message, "missing 52.157.175.0/24")

	g := _only(_run(_with_allow(array.concat(_narrow, ["2001:db8::/32", "app.atera.com", "40.113.0.0/33"]))), "pass")
	contains(g.message, "not an IPv4 address, range or CIDR and were ignored: 2001:db8::/32, 40.113.0.0/33, app.atera.com")
}

test_fail_invalid_entries_do_not_count if {
	allow := array.concat(array.slice(_narrow, 0, 8), ["54.240.106.95/3x"])
	f := _only(_run(_with_allow(allow)), "fail")
	contains(f.message, "missing 54.240.106.95 of")
	contains(f.message, "were ignored: 54.240.106.95/3x")
}

# --- indeterminate ---------------------------------------------------------

test_indeterminate_atera_section_missing if {
	f := _only(_run(json.remove(_base, ["snapshot/atera"])), "indeterminate")
	contains(f.message, "atera section is missing")
}

test_indeterminate_policy_not_collected if {
	f := _only(_run(json.remove(_base, ["snapshot/exchange/Get-HostedConnectionFilterPolicy"])), "indeterminate")
	contains(f.message, "Get-HostedConnectionFilterPolicy was not collected")
}

test_indeterminate_policy_errored if {
	inp := object.union(_base, {"snapshot": {"errors": [{"source": "Get-HostedConnectionFilterPolicy", "message": "The caller does not have permission"}]}})
	f := _only(_run(inp), "indeterminate")
	contains(f.message, "Get-HostedConnectionFilterPolicy failed: The caller does not have permission")
}

test_indeterminate_no_policy_returned if {
	f := _only(_run(object.union(_base, {"snapshot": {"exchange": {"Get-HostedConnectionFilterPolicy": []}}})), "indeterminate")
	contains(f.message, "returned no policy")
}

# --- not applicable --------------------------------------------------------

test_not_applicable_default_sender if {
	f := _only(_run(object.union(_base, {"snapshot": {"atera": {"smtp": null}}})), "not_applicable")
	contains(f.message, "noreply@atera.com")
}
