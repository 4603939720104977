package acme.failing_test

test_pass_ok if {
	1 == 1
}

test_fail_broken if {
	1 == 2
}
