# METADATA
# title: Duplicate a
# custom:
#   id: dup
#   severity: error
#   remediation: None.
package ticketguard.checks.dup_a

findings contains {"status": "pass", "message": "x"}
