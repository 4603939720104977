package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/result"
)

type auditOptions struct {
	collectOptions
	reportOptions
}

func newAuditCmd() *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Collect every configured tenant live and check it, in one go",
		Long: `Collect the tenants of the configuration, as 'ticketguard collect' does, and
evaluate every check on the collected snapshots, as 'ticketguard check' does:
same report formats, same flags, same exit codes. The snapshots are kept in
memory unless --out DIR is given.

A source that could not be read (a missing permission, throttling that outlasted
the retry budget) makes the checks that need it indeterminate, never pass; a
tenant whose sign-in failed is reported with its checks indeterminate and the
reason. So with nothing failed but something not collected, the exit code is 3.
The collection summary goes to stderr, the report to stdout (or --output).

Exit codes: 0 all good; 1 a check failed at or above --fail-on; 2 bad usage or
a bad configuration, policies or waivers (nothing is collected); 3 no failure
but something indeterminate (unless --allow-indeterminate).`,
		Example: `  # Collect and check every tenant, text report
  ticketguard audit --config ticketguard.yaml

  # Nightly in CI: SARIF for code scanning, keep the snapshots as artefacts
  ticketguard audit --config ticketguard.yaml --out snapshots/ --format sarif --output ticketguard.sarif

  # One tenant, SMTP probe included, warnings fail the run
  ticketguard audit --config ticketguard.yaml --tenant acme --probe-smtp --fail-on warning`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd, o)
		},
	}
	addCollectFlags(cmd.Flags(), &o.collectOptions, "also write the snapshots to `DIR` as <tenant>.json (default: keep them in memory)")
	addReportFlags(cmd.Flags(), &o.reportOptions)
	return cmd
}

func runAudit(cmd *cobra.Command, o *auditOptions) error {
	ctx := cmd.Context()
	// Everything that can be wrong before collecting is checked first: a
	// typo in a flag or a waiver must not cost a collection of every tenant.
	settings, err := o.settings(cmd)
	if err != nil {
		return err
	}
	cfg, err := loadConfigForCollection(o.config, o.tenants)
	if err != nil {
		return err
	}
	engine, waivers, problems, err := loadPolicies(ctx, &o.reportOptions)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return inputError(problems)
	}

	outcomes, err := runCollection(ctx, cfg, &o.collectOptions, engine, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if err := collect.WriteSummary(cmd.ErrOrStderr(), outcomes); err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("write summary: %v", err)}
	}
	if ctx.Err() != nil {
		return interrupted(ctx)
	}
	inputs, problems := collectedInputs(outcomes)
	if len(problems) > 0 {
		return inputError(problems)
	}
	return evaluateAndReport(cmd, &o.reportOptions, settings, engine, waivers, inputs)
}
