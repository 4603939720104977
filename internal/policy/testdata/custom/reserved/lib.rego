package ticketguard.lib.mine

x := 1
