package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/result"
)

// collectOptions are the flags of the commands that collect (collect,
// audit): which configuration and tenants, and what else to read.
type collectOptions struct {
	config      string
	tenants     []string
	out         string
	probeSMTP   bool
	smtpAddress string
}

// addCollectFlags declares collectOptions' flags; outUsage says what --out
// means for the command.
func addCollectFlags(f *pflag.FlagSet, o *collectOptions, outUsage string) {
	f.StringVarP(&o.config, "config", "c", "ticketguard.yaml", "the configuration `FILE`: tenants, credentials, Atera settings")
	f.StringArrayVarP(&o.tenants, "tenant", "t", nil, "collect only the tenant `NAME` (repeatable; default every tenant)")
	f.StringVar(&o.out, "out", "", outUsage)
	f.BoolVar(&o.probeSMTP, "probe-smtp", false, "also connect to each tenant's custom SMTP server: STARTTLS, AUTH offered, and the login when smtp_password is set (nothing is sent)")
	f.StringVar(&o.smtpAddress, "smtp-address", "", "with --probe-smtp, dial `HOST:PORT` instead of each tenant's SMTP server, still verifying its certificate for the configured name (for the simulator)")
}

func newCollectCmd() *cobra.Command {
	o := &collectOptions{}
	cmd := &cobra.Command{
		Use:   "collect --out DIR",
		Short: "Read every configured tenant live and write one snapshot per tenant",
		Long: `Sign in to each tenant of the configuration and read what the checks need:
Exchange Online through its admin API, Microsoft Graph (inbox rules, contacts,
group members, message trace), the Atera API when atera.api_key is set, and with
--probe-smtp the SMTP handshake. Then write DIR/<tenant>.json, a snapshot that
'ticketguard check' evaluates offline.

Only what the checks need is read: after the tenant-wide settings, the checks'
own plan names the recipients on the support path, so the number of requests per
tenant stays small whatever the number of mailboxes. Tenants are collected
concurrently (collect.concurrency); one tenant's failure never stops the others.
A tenant whose sign-in fails gets no snapshot; a tenant where some source failed
gets a snapshot that records the errors, so the checks needing that source are
indeterminate rather than passing on missing data.

On a terminal a progress line shows tenants done, the current step and the
elapsed time; in a pipe nothing is printed until the summary (requests, retries,
throttled answers, errors, duration, snapshot written, per tenant). No secret is
ever printed or written: secrets and tokens are replaced by [REDACTED].

Exit codes: 0 every tenant collected without error; 1 some tenant had
collection errors or could not be collected (the other snapshots are written);
2 bad usage or a bad configuration (nothing is collected).`,
		Example: `  # Every tenant of ticketguard.yaml into snapshots/, then check them
  ticketguard collect --config ticketguard.yaml --out snapshots/
  ticketguard check snapshots/

  # Two tenants only, with the SMTP probe
  ticketguard collect --config ticketguard.yaml --tenant acme --tenant globex --probe-smtp --out snapshots/

  # Against the simulator ('ticketguard simulate' prints this command)
  ticketguard collect --config /tmp/sim/ticketguard.yaml --out snaps/`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCollect(cmd, o)
		},
	}
	addCollectFlags(cmd.Flags(), o, "write the snapshots to `DIR` as <tenant>.json (created if needed; required)")
	return cmd
}

func runCollect(cmd *cobra.Command, o *collectOptions) error {
	if o.out == "" {
		return usageErrorf(cmd, "collect needs --out DIR: where to write the snapshots")
	}
	cfg, err := loadConfigForCollection(o.config, o.tenants)
	if err != nil {
		return err
	}
	outcomes, err := runCollection(cmd.Context(), cfg, o, nil, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if err := collect.WriteSummary(cmd.OutOrStdout(), outcomes); err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("write summary: %v", err)}
	}
	if ctx := cmd.Context(); ctx.Err() != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("interrupted (%v): the snapshots above are incomplete", context.Cause(ctx))}
	}
	for _, oc := range outcomes {
		if !oc.OK() {
			return exitCode(result.ExitFailed)
		}
	}
	return nil
}

// loadConfig reads the configuration; a bad one is exit 2 with every
// problem (file, line and field) on stderr.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, os.ErrNotExist) {
			msg = fmt.Sprintf("%s: no such file: pass --config FILE (docs/ticketguard.example.yaml is a commented example; 'ticketguard simulate' writes one for the simulator)", path)
		}
		return nil, &exitError{code: result.ExitUsage, msg: msg}
	}
	return cfg, nil
}

// loadConfigForCollection loads the configuration and reads every secret the
// given tenants (all when none) will need, so a missing variable or file is
// a configuration error (exit 2, with its line and field) before any tenant
// is contacted, not a tenant that "failed to collect".
func loadConfigForCollection(path string, tenants []string) (*config.Config, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.CheckSecrets(path, tenants...); err != nil {
		return nil, &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	return cfg, nil
}

// runCollection runs collect.Run with the command's options; progress goes
// to progress when it is a terminal. A problem that stops the whole run (an
// unknown --tenant, an unreadable Atera key) is exit 2.
func runCollection(ctx context.Context, cfg *config.Config, o *collectOptions, engine *policy.Engine, progress io.Writer) ([]collect.Outcome, error) {
	outcomes, err := collect.Run(ctx, cfg, collect.Options{
		Tenants:     o.tenants,
		OutDir:      o.out,
		ProbeSMTP:   o.probeSMTP,
		SMTPAddress: o.smtpAddress,
		Progress:    progress,
		Engine:      engine,
		Version:     Version(),
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, interrupted(ctx)
		}
		return nil, &exitError{code: result.ExitUsage, msg: fmt.Sprintf("%s: %v", o.config, err)}
	}
	return outcomes, nil
}

// collectedInputs turns the outcomes into the inputs check evaluates. A
// tenant that could not be collected is still reported, from the snapshot
// that records why (every check that needs Exchange data indeterminate):
// leaving it out would let a run pass without looking at it.
func collectedInputs(outcomes []collect.Outcome) ([]tenantInput, []string) {
	var inputs []tenantInput
	var problems []string
	for _, oc := range outcomes {
		if oc.Snapshot == nil {
			problems = append(problems, fmt.Sprintf("%s: %s", oc.Tenant, strings.TrimSpace(errText(oc.Err))))
			continue
		}
		inputs = append(inputs, tenantInput{doc: oc.Snapshot})
	}
	return inputs, problems
}

func errText(err error) string {
	if err == nil {
		return "no snapshot"
	}
	return err.Error()
}
