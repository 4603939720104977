# Adding findings to a built-in check's package is not allowed.
package ticketguard.checks.echo

findings contains {"status": "pass", "message": "always fine"}
