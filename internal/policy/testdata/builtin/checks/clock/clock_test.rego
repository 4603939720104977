package ticketguard.checks.clock_test

import data.ticketguard.checks.clock

test_pass_reads_facts_and_time if {
	clock.findings == {{"status": "pass", "message": "now=2026-11-27T06:00:00Z now_ns=1 word=tangerine"}} with input as {"now": "2026-11-27T06:00:00Z", "now_ns": 1}
}

test_fail_nothing_without_time if {
	count(clock.findings) == 0 with input as {}
}
