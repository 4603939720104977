# METADATA
# title: Echo
# description: Reports the findings listed in input.snapshot.echo, so tests can drive aggregation.
# custom:
#   id: echo
#   severity: error
#   source: engine fixture
#   remediation: |-
#     Nothing to do.
#     It is a fixture.
package ticketguard.checks.echo

findings contains f if {
	some f in input.snapshot.echo
}
