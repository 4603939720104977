package ticketguard.checks.no_meta

findings contains {"status": "pass", "message": "x"}
