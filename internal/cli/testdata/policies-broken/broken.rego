# METADATA
# title: A custom check with a syntax error
# custom:
#   id: broken-check
#   severity: warning
#   remediation: Fix the Rego.
package ticketguard.checks.broken_check

findings contains f if {
	f := {"status": "pass", "message": "never"
}
