# METADATA
# title: Duplicate b
# custom:
#   id: dup
#   severity: error
#   remediation: None.
package ticketguard.checks.dup_b

findings contains {"status": "pass", "message": "x"}
