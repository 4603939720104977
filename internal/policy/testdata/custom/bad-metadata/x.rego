# A comment first.

# METADATA
# title: Bad metadata
# custom:
#   id: Bad_ID
#   severity: critical
package ticketguard.checks.bad_meta

findings contains {"status": "pass", "message": "x"}
