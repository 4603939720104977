# METADATA
# title: No findings
# custom:
#   id: no-findings
#   severity: error
#   remediation: None.
package ticketguard.checks.no_findings

deny contains "x"
