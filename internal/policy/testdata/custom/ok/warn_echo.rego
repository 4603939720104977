# METADATA
# title: Warning echo
# description: A custom check of severity warning.
# custom:
#   id: warn-echo
#   severity: warning
#   source: custom fixture
#   remediation: Fix the thing.
package ticketguard.checks.warn_echo

import data.acme.lib

findings contains f if {
	some f in lib.items(input.snapshot, "warn_echo")
}
