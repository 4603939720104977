# METADATA
# title: Clock
# custom:
#   id: clock
#   severity: warning
#   remediation: Nothing to do.
package ticketguard.checks.clock

import data.ticketguard.lib.sample

findings contains f if {
	f := {
		"status": "pass",
		"message": sprintf("now=%s now_ns=%d word=%s", [input.now, input.now_ns, sample.word]),
	}
}
