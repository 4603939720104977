# METADATA
# title: Raw findings
# description: Defines findings as a complete rule, so tests can hand it any value.
# custom:
#   id: raw-findings
#   severity: error
#   remediation: None.
package ticketguard.checks.raw_findings

findings := input.snapshot.raw
