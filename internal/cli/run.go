package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/service"
	"github.com/ticketguard/ticketguard/internal/store"
)

type runOptions struct {
	serviceOptions
	once    bool
	tenants []string
	jitter  time.Duration
}

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run --once",
		Short: "Perform one scheduled round of every tenant and exit (systemd timers, CronJobs, CI)",
		Long: `Perform one round of every tenant (or of each --tenant), exactly as 'ticketguard
serve' does on its schedule: collect, check, compare with the previous run and
the baseline, store the run in the history, and queue and send the Slack
messages. Then flush the outbox (waiting out a short rate limit) and exit.

Tenants run concurrently within schedule.concurrency, without jitter unless
--jitter is given. Messages Slack refused stay in the outbox and are sent by the
next run, so a systemd timer or a Kubernetes CronJob loses nothing.

A summary line per tenant goes to stdout, logs to stderr. Use one or the
other on a store: 'run --once' beside a running 'serve' on the same store could
send a Slack message twice.

Exit codes: 0 every round completed (failing checks included: the alerts carry
those); 1 a tenant's round failed (nothing could be collected, or the run could
not be stored), or the run was interrupted; 2 bad usage or configuration.`,
		Example: `  # What a systemd timer or a CronJob runs
  ticketguard run --once --config /etc/ticketguard/ticketguard.yaml

  # Two tenants only, history in a given file
  ticketguard run --once --config ticketguard.yaml --tenant acme --tenant globex --store /var/lib/ticketguard/ticketguard.db`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runOnce(cmd, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.once, "once", false, "perform one round and exit (required: the schedule is 'ticketguard serve')")
	addServiceFlags(cmd, f, &o.serviceOptions)
	f.StringArrayVarP(&o.tenants, "tenant", "t", nil, "run only the tenant `NAME` (repeatable; default every tenant)")
	f.DurationVar(&o.jitter, "jitter", 0, "spread the tenants' starts over up to `DURATION` (default: all start at once, within the concurrency limit)")
	return cmd
}

func runOnce(cmd *cobra.Command, o *runOptions) error {
	if !o.once {
		return usageErrorf(cmd, "run needs --once (one round, then exit); to run on the schedule, use 'ticketguard serve'")
	}
	if o.jitter < 0 {
		return usageErrorf(cmd, "--jitter must not be negative, got %s", o.jitter)
	}
	ctx := cmd.Context()
	cfg, err := loadConfigForCollection(o.config, o.tenants)
	if err != nil {
		return err
	}
	var tenants []string
	if len(o.tenants) == 0 {
		for _, t := range cfg.Tenants {
			tenants = append(tenants, t.Name)
		}
	} else {
		seen := map[string]bool{}
		for _, name := range o.tenants {
			t, err := cfg.Tenant(name)
			if err != nil {
				return usageErrorf(cmd, "--tenant %s: %v", name, err)
			}
			if !seen[t.Name] {
				seen[t.Name] = true
				tenants = append(tenants, t.Name)
			}
		}
	}
	s, err := openService(cmd, &o.serviceOptions, cfg)
	if err != nil {
		return err
	}
	defer s.close()

	var mu sync.Mutex
	outcomes := map[string]service.Outcome{}
	errs := map[string]error{}
	round := func(ctx context.Context, tenant string) error {
		out, err := s.svc.Round(ctx, tenant)
		mu.Lock()
		defer mu.Unlock()
		outcomes[tenant], errs[tenant] = out, err
		return err
	}
	sched, err := newScheduler(cfg, tenants, o.jitter, round, s.log, s.metrics)
	if err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("%s: %v", o.config, err)}
	}
	start := time.Now()
	roundErr := sched.RunOnce(ctx)
	finalFlush(s, s.log)

	if err := writeRunSummary(cmd.OutOrStdout(), tenants, outcomes, errs, s, time.Since(start)); err != nil {
		return &exitError{code: result.ExitFailed, msg: fmt.Sprintf("write summary: %v", err)}
	}
	switch {
	case ctx.Err() != nil:
		return &exitError{code: result.ExitFailed, msg: fmt.Sprintf("interrupted (%v): the rounds not finished were not stored", context.Cause(ctx))}
	case roundErr != nil:
		return &exitError{code: result.ExitFailed, msg: roundFailures(roundErr)}
	}
	return nil
}

// roundFailures is the error of a run with failed rounds, one per line.
func roundFailures(err error) string {
	var lines []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			lines = append(lines, runLine(e.Error()))
		}
	} else {
		lines = append(lines, runLine(err.Error()))
	}
	return strings.Join(lines, "\n")
}

func runLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeRunSummary prints one line per tenant: the run stored, its outcome,
// the checks needing attention, drift and what Slack was told.
func writeRunSummary(w io.Writer, tenants []string, outcomes map[string]service.Outcome, errs map[string]error, s *serviceSetup, took time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tRUN\tOUTCOME\tFAIL\tWARN\tINDETERMINATE\tDRIFT\tSLACK")
	for _, name := range tenants {
		out, ran := outcomes[name]
		if !ran || out.RunID == 0 {
			why := "not run"
			if err := errs[name]; err != nil {
				why = "not stored"
				if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
					why = "abandoned"
				}
			}
			fmt.Fprintf(tw, "%s\t-\t%s\t-\t-\t-\t-\t-\n", name, why)
			continue
		}
		n := map[result.Status]int{}
		for _, r := range out.Results {
			n[r.Status]++
		}
		slackCol := "off"
		switch {
		case out.Queued:
			slackCol = out.Alert // why a message was written (and, unless still queued, sent)
		case s.svc.Alerting():
			slackCol = "nothing new"
		}
		outcome := string(out.Outcome)
		if out.Outcome == store.OutcomeFailed && out.Err != nil {
			outcome += " (" + clip(runLine(out.Err.Error()), 60) + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\n", name, out.RunID, outcome,
			n[result.Fail], n[result.Warn], n[result.Indeterminate], len(out.Drift), slackCol)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	queued := ""
	if s.svc.Alerting() {
		if q, err := s.svc.Queued(context.Background()); err == nil && q > 0 {
			queued = fmt.Sprintf("; %d Slack messages still queued (sent by the next run)", q)
		}
	}
	_, err := fmt.Fprintf(w, "\n%d tenants in %s; history in %s%s\n", len(tenants), took.Round(100*time.Millisecond), s.storePath, queued)
	return err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
