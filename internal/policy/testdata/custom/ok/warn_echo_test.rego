# Tests are not evaluated as checks: this package has no METADATA and no
# findings rule, which would break the contract if it were loaded.
package ticketguard.checks.warn_echo_test

import data.ticketguard.checks.warn_echo

test_pass_echoes if {
	count(warn_echo.findings) == 1 with input as {"snapshot": {"warn_echo": [{"status": "pass", "message": "ok"}]}}
}

test_fail_nothing if {
	count(warn_echo.findings) == 0 with input as {"snapshot": {}}
}
