package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
)

func newBaselineCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Pin a reviewed run as a tenant's baseline, and show it",
		Long: `A baseline is a stored run whose snapshot was reviewed and accepted. Once one is
approved, every later run of the tenant reports its drift against the baseline
as well as against the previous run, so a change that crept in over several
runs stays visible until it is undone or a new baseline is approved.`,
		Example: `  ticketguard baseline approve acme
  ticketguard baseline approve acme --run 42 --by "Jane Doe"
  ticketguard baseline show acme`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf(cmd, "unknown baseline command %q: want approve or show", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBaselineApproveCmd(), newBaselineShowCmd())
	return cmd
}

func newBaselineApproveCmd() *cobra.Command {
	var (
		runID int64
		by    string
	)
	cmd := &cobra.Command{
		Use:   "approve TENANT",
		Short: "Pin a stored run (default the latest with a snapshot) as the tenant's baseline",
		Long: `Pin a stored run as the tenant's baseline: later runs report drift against it as
well as against the previous run. The run must have a snapshot; by default it
is the tenant's latest run that has one. Approving again replaces the baseline.
A baseline run is kept by the store's retention.

Exit codes: 0 approved; 2 bad usage, an unknown tenant or run, a run without a
snapshot, or no store.`,
		Example: `  # Accept the tenant as it is now
  ticketguard baseline approve acme

  # Accept an earlier, reviewed run, recording who did
  ticketguard history acme
  ticketguard baseline approve acme --run 42 --by "Jane Doe"`,
		Args: tenantArg("baseline approve"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBaselineApprove(cmd, args[0], runID, by)
		},
	}
	runIDFlag(cmd, &runID, "the latest run with a snapshot")
	addStoreFlag(cmd)
	cmd.Flags().StringVar(&by, "by", "", "who approves, recorded with the baseline (default the current user)")
	return cmd
}

func runBaselineApprove(cmd *cobra.Command, name string, runID int64, by string) error {
	ctx := cmd.Context()
	if err := checkRunID(cmd, runID); err != nil {
		return err
	}
	st, path, tenant, err := openTenantHistory(cmd, name)
	if err != nil {
		return err
	}
	defer st.Close()

	var run store.Run
	if runID != 0 {
		if run, err = tenantRun(ctx, st, path, tenant, runID); err != nil {
			return err
		}
		if !run.HasSnapshot {
			return &exitError{code: result.ExitUsage, msg: fmt.Sprintf(
				"run %d of %s (%s) stored no snapshot, and drift is computed from snapshots: pick a run with one (ticketguard history %s)",
				run.ID, tenant, run.Outcome, tenant)}
		}
	} else {
		var ok bool
		if run, ok, err = st.LastRunWithSnapshot(ctx, tenant); err != nil {
			return storeError(ctx, err)
		}
		if !ok {
			return &exitError{code: result.ExitUsage, msg: fmt.Sprintf(
				"no run of %s stored a snapshot (every run failed to collect): nothing to approve", tenant)}
		}
	}

	if by == "" {
		by = currentUser()
	}
	old, hadOld, err := st.Baseline(ctx, tenant)
	if err != nil {
		return storeError(ctx, err)
	}
	if err := st.ApproveBaseline(ctx, tenant, run.ID, by); err != nil {
		return storeError(ctx, err)
	}

	if run.Outcome != store.OutcomeOK {
		// Drift is only reported for what both snapshots collected: a
		// partial baseline silently covers less.
		fmt.Fprintf(cmd.ErrOrStderr(), "ticketguard: warning: run %d was %s (%s): drift against it is not reported for what it did not collect\n",
			run.ID, run.Outcome, firstLine(run.Error))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Approved run %d of %s (started %s UTC) as its baseline", run.ID, tenant, formatMinute(run.StartedAt))
	if by != "" {
		fmt.Fprintf(&b, ", by %s", by)
	}
	switch {
	case hadOld && old != run.ID:
		fmt.Fprintf(&b, "; it replaces run %d", old)
	case hadOld:
		b.WriteString("; it already was")
	}
	b.WriteString(".\nLater runs report drift against it as well as against the previous run.\n")
	_, err = fmt.Fprint(cmd.OutOrStdout(), b.String())
	return err
}

// currentUser names who approves when --by is not given: the OS account,
// which is what an audit trail of a shared admin host has.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, env := range []string{"USER", "USERNAME"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return ""
}

func firstLine(s string) string {
	if s == "" {
		return "no error recorded"
	}
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func newBaselineShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show TENANT",
		Short: "Print the tenant's baseline run and the latest run's drift against it",
		Long: `Print the tenant's approved baseline: the run, when it started, its check
results, and the drift the tenant's latest run recorded against it.

Exit codes: 0 printed; 1 the tenant has no approved baseline; 2 bad usage, an
unknown tenant or no store.`,
		Example: `  ticketguard baseline show acme
  ticketguard baseline show acme --store /var/lib/ticketguard/ticketguard.db`,
		Args: tenantArg("baseline show"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBaselineShow(cmd, args[0])
		},
	}
	addStoreFlag(cmd)
	return cmd
}

func runBaselineShow(cmd *cobra.Command, name string) error {
	ctx := cmd.Context()
	st, _, tenant, err := openTenantHistory(cmd, name)
	if err != nil {
		return err
	}
	defer st.Close()
	id, ok, err := st.Baseline(ctx, tenant)
	if err != nil {
		return storeError(ctx, err)
	}
	if !ok {
		return &exitError{code: result.ExitFailed, msg: fmt.Sprintf(
			"%s has no approved baseline: approve one with `ticketguard baseline approve %s`", tenant, tenant)}
	}
	var b bytes.Buffer
	if err := writeBaseline(ctx, &b, st, tenant, id); err != nil {
		return storeError(ctx, err)
	}
	_, err = cmd.OutOrStdout().Write(b.Bytes())
	return err
}

func writeBaseline(ctx context.Context, b *bytes.Buffer, st *store.Store, tenant string, id int64) error {
	base, err := st.Run(ctx, id) // a baseline run is never pruned
	if err != nil {
		return err
	}
	results, err := st.Results(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "Baseline of %s: run %d, started %s UTC (%s)\n", tenant, base.ID, formatMinute(base.StartedAt), base.Outcome)
	fmt.Fprintf(b, "Results then: %s\n", statusSummary(countStatuses(results)))

	latest, ok, err := st.LastRun(ctx, tenant)
	if err != nil || !ok {
		return err
	}
	if latest.ID == id {
		b.WriteString("The latest run is the baseline.\n")
		return nil
	}
	var events []store.DriftEvent
	if latest.DriftEvents > 0 {
		if events, err = st.Drift(ctx, latest.ID); err != nil {
			return err
		}
	}
	var changes []drift.Change
	for _, g := range groupDrift(events) {
		if g.Against == store.AgainstBaseline && g.AgainstRunID == id {
			changes = g.Changes
		}
	}
	head := fmt.Sprintf("Latest run %d (started %s UTC)", latest.ID, formatMinute(latest.StartedAt))
	if len(changes) == 0 {
		// Say what is known: the run may predate the approval, or have
		// collected nothing, in which case no comparison was made.
		fmt.Fprintf(b, "%s: no drift against the baseline recorded.\n", head)
		return nil
	}
	fmt.Fprintf(b, "%s drifted from the baseline: %s\n\n", head, drift.Summary(changes))
	return drift.WriteText(b, changes)
}
