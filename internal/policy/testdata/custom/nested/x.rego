package ticketguard.checks.foo.bar

findings contains {"status": "pass", "message": "x"}
