package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

type simulateOptions struct {
	tenantsDir string
	synthetic  int
	mailboxes  int
	latency    time.Duration
	faults     string
	configOut  string
	pageSize   int
}

func newSimulateCmd() *cobra.Command {
	o := &simulateOptions{}
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Run the tenant simulator until Ctrl-C, with a ready configuration to collect from it",
		Long: `Run simulated Microsoft Entra ID, Exchange Online admin API, Microsoft Graph, Atera
API and Office 365 SMTP services on 127.0.0.1, each speaking the real wire format
over TLS with the simulator's own CA, and write a ticketguard.yaml whose endpoints,
CA and secrets point at them. 'ticketguard collect' and 'ticketguard audit' then
run against it unchanged, as they would against real tenants.

Tenants: the three demo tenants by default; --tenants-dir serves snapshot files
(their exchange, graph and atera_api sections) such as testdata/tenants/;
--synthetic N generates N tenants of --mailboxes mailboxes each, for load tests.
--latency adds a delay to every HTTP request, --faults injects failures from a
YAML list of rules:

  - endpoint: exchange:Get-InboxRule    # token, exchange:<cmdlet>, graph:<what>, atera:tickets, smtp
    tenant: "*"                         # tenant id (Exchange, Graph, sign-in) or name (Atera, SMTP); glob
    kind: forbidden                     # throttle, server_error, slow, truncate, expired_token, forbidden
    times: 0                            # 0: every request; N: the first N
    retry_after: 1s                     # throttle
    status: 503                         # server_error
    delay: 2s                           # slow

The configuration is valid only while this simulator runs: its ports, CA and
secrets are new each time. Without --config-out it is written to a temporary
directory that is removed on exit.

Exit codes: 0 stopped with Ctrl-C; 2 bad usage, or the simulator could not start.`,
		Example: `  # The demo tenants; then, in another terminal, the command it prints
  ticketguard simulate --config-out /tmp/sim
  ticketguard collect --config /tmp/sim/ticketguard.yaml --out snaps/

  # The repository's test tenants, with a missing Get-InboxRule permission
  ticketguard simulate --tenants-dir testdata/tenants --faults faults.yaml --config-out /tmp/sim

  # 100 tenants of 500 mailboxes, 50 ms from the data centre
  ticketguard simulate --synthetic 100 --mailboxes 500 --latency 50ms --config-out /tmp/sim`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulate(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.tenantsDir, "tenants-dir", "", "serve the snapshot files (*.json) in `DIR` as tenants")
	f.IntVar(&o.synthetic, "synthetic", 0, "serve `N` generated tenants")
	f.IntVar(&o.mailboxes, "mailboxes", 50, "mailboxes per generated tenant (with --synthetic)")
	f.DurationVar(&o.latency, "latency", 0, "add `DURATION` to every HTTP request, e.g. 50ms")
	f.StringVar(&o.faults, "faults", "", "inject the failures listed in the YAML `FILE`")
	f.StringVar(&o.configOut, "config-out", "", "write ticketguard.yaml, the CA and the secrets to `DIR` (default: a temporary directory)")
	f.IntVar(&o.pageSize, "page-size", 0, "cap Exchange and Graph pages at `N` objects, to exercise paging (default: the services' own)")
	return cmd
}

func runSimulate(cmd *cobra.Command, o *simulateOptions) error {
	ctx := cmd.Context()
	switch {
	case o.tenantsDir != "" && o.synthetic > 0:
		return usageErrorf(cmd, "--tenants-dir and --synthetic are alternatives: give one")
	case o.synthetic < 0 || o.mailboxes < 1 || o.latency < 0 || o.pageSize < 0:
		return usageErrorf(cmd, "--synthetic, --mailboxes, --latency and --page-size must be positive")
	}
	tenants, err := simulatedTenants(o)
	if err != nil {
		return &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	faults := &fault.Injector{}
	if o.faults != "" {
		rules, err := loadFaults(o.faults)
		if err != nil {
			return &exitError{code: result.ExitUsage, msg: err.Error()}
		}
		for _, r := range rules {
			faults.Add(r)
		}
	}

	sim, err := simulator.Start(ctx, simulator.Options{Tenants: tenants, Faults: faults, Latency: o.latency, PageSize: o.pageSize})
	if err != nil {
		return &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	defer sim.Close()

	dir := o.configOut
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ticketguard-simulate-*"); err != nil {
			return &exitError{code: result.ExitUsage, msg: err.Error()}
		}
		defer os.RemoveAll(dir)
	}
	cfgPath, err := sim.WriteConfig(dir)
	if err != nil {
		return &exitError{code: result.ExitUsage, msg: err.Error()}
	}

	u := sim.URLs()
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "ticketguard simulator: %d tenants on 127.0.0.1 (Ctrl-C to stop)\n\n", len(tenants))
	fmt.Fprintf(w, "  login     %s\n  exchange  %s\n  graph     %s/v1.0\n  atera     %s/api/v3\n  smtp      %s\n\n", u.Login, u.Exchange, u.Graph, u.Atera, u.SMTP)
	names := make([]string, 0, len(tenants))
	for _, t := range tenants {
		names = append(names, t.Name)
	}
	if len(names) > 8 {
		names = append(names[:8], fmt.Sprintf("... (%d more)", len(tenants)-8))
	}
	fmt.Fprintf(w, "Tenants: %s\n", strings.Join(names, ", "))
	fmt.Fprintf(w, "Configuration: %s\n\nCollect from it:\n\n  ticketguard collect --config %s --out snaps/\n", cfgPath, cfgPath)
	fmt.Fprintf(w, "  ticketguard audit --config %s --probe-smtp --smtp-address %s\n\n", cfgPath, u.SMTP)
	if o.configOut == "" {
		fmt.Fprintln(w, "The configuration directory is removed when the simulator stops.")
	}

	<-ctx.Done()
	fmt.Fprintln(cmd.ErrOrStderr(), "\nticketguard simulator: stopped")
	return nil
}

// simulatedTenants builds the tenants the options ask for.
func simulatedTenants(o *simulateOptions) ([]*fixture.Tenant, error) {
	switch {
	case o.tenantsDir != "":
		tenants, err := fixture.LoadDir(nil, o.tenantsDir)
		if err != nil {
			return nil, fmt.Errorf("--tenants-dir: %w", err)
		}
		if len(tenants) == 0 {
			return nil, fmt.Errorf("--tenants-dir %s: no snapshot (*.json) in it", o.tenantsDir)
		}
		return distinctTenantIDs(tenants), nil
	case o.synthetic > 0:
		methods := []fixture.Method{fixture.MethodGroup, fixture.MethodMailbox, fixture.MethodTransportRule}
		tenants := make([]*fixture.Tenant, o.synthetic)
		for i := range tenants {
			opts := fixture.GenerateOptions{Name: fmt.Sprintf("tenant-%03d", i+1), Mailboxes: o.mailboxes, Method: methods[i%len(methods)]}
			if err := opts.Validate(); err != nil {
				return nil, err
			}
			tenants[i] = fixture.Generate(opts)
		}
		return tenants, nil
	}
	return fixture.Demo(), nil
}

// distinctTenantIDs gives a tenant whose id another file already uses an id
// of its own. Snapshot files are often variants of one tenant (before and
// after a change, as in testdata/), and the simulator serves each id once;
// no check reads the id.
func distinctTenantIDs(tenants []*fixture.Tenant) []*fixture.Tenant {
	seen := map[string]bool{}
	for i, t := range tenants {
		id := strings.ToLower(t.TenantID)
		if seen[id] && len(id) >= 12 {
			t.TenantID = fmt.Sprintf("%s%012x", id[:len(id)-12], i+1)
		}
		seen[strings.ToLower(t.TenantID)] = true
	}
	return tenants
}

// loadFaults reads a YAML list of fault rules, strictly: a misspelt key
// would otherwise inject nothing, silently.
func loadFaults(path string) ([]fault.Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--faults: %w", err)
	}
	var rules []fault.Rule
	if err := yaml.UnmarshalWithOptions(data, &rules, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", filepath.Clean(path), yaml.FormatError(err, false, true))
	}
	kinds := []fault.Kind{fault.Throttle, fault.ServerError, fault.Slow, fault.Truncate, fault.ExpiredToken, fault.Forbidden}
	for i, r := range rules {
		known := false
		for _, k := range kinds {
			known = known || r.Kind == k
		}
		if !known {
			return nil, fmt.Errorf("%s: rule %d: kind %q: want one of throttle, server_error, slow, truncate, expired_token, forbidden", path, i+1, r.Kind)
		}
		if r.Endpoint == "" {
			return nil, fmt.Errorf("%s: rule %d: endpoint is required (e.g. exchange:Get-InboxRule, graph:*, token)", path, i+1)
		}
	}
	return rules, nil
}
