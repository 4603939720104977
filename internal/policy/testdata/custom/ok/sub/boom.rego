# METADATA
# title: Boom
# custom:
#   id: boom
#   severity: error
#   remediation: Stop setting boom.
package ticketguard.checks.boom

# Two definitions of one complete rule with different values: a runtime
# conflict error whenever input.snapshot.boom is true.
_value := 1 if input.snapshot.boom

_value := 2 if input.snapshot.boom

findings contains {"status": "pass", "message": "no boom"} if not input.snapshot.boom

findings contains {"status": "pass", "message": sprintf("value %d", [_value])} if input.snapshot.boom
