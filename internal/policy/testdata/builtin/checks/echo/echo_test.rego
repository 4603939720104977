package ticketguard.checks.echo_test

import data.ticketguard.checks.echo

test_pass_echoes_findings if {
	echo.findings == {{"status": "pass", "message": "ok"}} with input as {"snapshot": {"echo": [{"status": "pass", "message": "ok"}]}}
}

test_fail_echoes_nothing_without_input if {
	count(echo.findings) == 0 with input as {"snapshot": {}}
}
