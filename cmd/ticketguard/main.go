// Command ticketguard audits the Exchange Online → Atera e-mail ticketing
// setup of Microsoft 365 tenants. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketguard/ticketguard/internal/cli"
)

func main() {
	os.Exit(run())
}

// run exists so the deferred stop runs before os.Exit.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
}
