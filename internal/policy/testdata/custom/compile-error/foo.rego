# METADATA
# title: Broken
# custom:
#   id: broken
#   severity: error
#   remediation: None.
package ticketguard.checks.broken

findings contains f if {
	name := input.snapshot.tenant.name
	f := {"status": "pass", "message": name}
	count(name) + "three" > 1
}
