package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/report"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

type demoOptions struct {
	format string
	out    string
}

func newDemoCmd() *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "See the whole job on simulated tenants: no Microsoft account, no network",
		Long: `Start the tenant simulator inside this process with three sample tenants, collect
them through the real clients exactly as 'ticketguard audit' collects a real
tenant (Entra sign-in with a client secret and with a certificate, the Exchange
Online admin API, Microsoft Graph, the Atera API and the SMTP probe), check the
snapshots and print the report. Everything runs on 127.0.0.1: no account, no
configuration and no network are needed.

The sample tenants: northwind (distribution-group forwarding) and contoso
(mailbox forwarding with custom SMTP) are set up correctly; fabrikam is broken
the way tenants break in practice, so the report is meant to show failures and
explain them. The demo therefore exits 0 whenever it ran, whatever the checks
found.

Exit codes: 0 the demo ran; 2 it could not run (bad usage, or the simulator
could not start).`,
		Example: `  # From a fresh clone
  go run ./cmd/ticketguard demo

  # The same report as JSON, and the collected snapshots kept
  ticketguard demo --format json --out demo-snapshots/ > demo.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVar(&o.out, "out", "", "keep the collected snapshots in `DIR` (default: a temporary directory, removed)")
	return cmd
}

const demoHeader = `ticketguard demo: simulated tenants, no Microsoft account, no network.

A simulator of Microsoft Entra ID, Exchange Online, Microsoft Graph, Atera and
Office 365 SMTP is running inside this process on 127.0.0.1, serving three sample
tenants. ticketguard collects them exactly as it collects a real tenant, through
the same clients and wire formats, then checks them:

  contoso    Contoso Dental: mailbox forwarding, custom SMTP        (meant to pass)
  fabrikam   Fabrikam Law: broken the way tenants break in practice (meant to fail)
  northwind  Northwind Traders: support group forwards to Atera    (meant to pass)

`

const demoFooter = `
That was the demo. fabrikam's failures above are what ticketguard finds on a
real tenant, each with the evidence and the fix; "exit 1" is what 'check' and
'audit' would exit with, the demo itself exits 0. Next:

  ticketguard simulate                 run the simulator on its own and point
                                       'ticketguard collect' at it
  ticketguard policy explain CHECK     what a check needs and why
  README.md                            set up the Entra app and Atera API key,
                                       then 'ticketguard audit --config ticketguard.yaml'
`

func runDemo(cmd *cobra.Command, o *demoOptions) error {
	ctx := cmd.Context()
	if !slices.Contains(report.Formats(), o.format) {
		return usageErrorf(cmd, "--format %q: want one of %s", o.format, strings.Join(report.Formats(), ", "))
	}
	// The explanations go with a text report; with a machine format stdout
	// holds the report only, so they go to stderr.
	info := cmd.OutOrStdout()
	if o.format != "text" {
		info = cmd.ErrOrStderr()
	}
	fmt.Fprint(info, demoHeader)

	demoFail := func(format string, args ...any) error {
		return &exitError{code: result.ExitUsage, msg: "demo: " + fmt.Sprintf(format, args...)}
	}
	sim, err := simulator.Start(ctx, simulator.Options{Tenants: fixture.Demo()})
	if err != nil {
		return demoFail("start the simulator: %v", err)
	}
	defer sim.Close()

	dir, err := os.MkdirTemp("", "ticketguard-demo-*")
	if err != nil {
		return demoFail("%v", err)
	}
	defer os.RemoveAll(dir) // the simulator's secrets and CA are only valid while it runs
	cfgPath, err := sim.WriteConfig(dir)
	if err != nil {
		return demoFail("%v", err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return demoFail("the simulator's configuration does not load (a ticketguard bug): %v", err)
	}
	engine, err := policy.Load(ctx, policy.Options{})
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx)
		}
		return &exitError{code: result.ExitUsage, msg: policyProblem(err)}
	}

	start := time.Now()
	outcomes, err := collect.Run(ctx, cfg, collect.Options{
		OutDir:      o.out,
		ProbeSMTP:   true,
		SMTPAddress: sim.URLs().SMTP,
		Progress:    cmd.ErrOrStderr(),
		Engine:      engine,
		Version:     Version(),
	})
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx)
		}
		return demoFail("collect: %v", err)
	}
	if ctx.Err() != nil {
		return interrupted(ctx)
	}
	fmt.Fprintf(info, "Collected %d tenants in %s:\n\n", len(outcomes), time.Since(start).Round(10*time.Millisecond))
	if err := collect.WriteSummary(indent(info), outcomes); err != nil {
		return demoFail("%v", err)
	}
	fmt.Fprintln(info)
	inputs, problems := collectedInputs(outcomes)
	if len(problems) > 0 {
		return demoFail("some sample tenants could not be collected (a ticketguard bug):\n%s", strings.Join(problems, "\n"))
	}
	if o.format == "text" {
		fmt.Fprint(info, "The report, as 'ticketguard check' prints it:\n\n")
	}

	settings := reportSettings{exitPolicy: result.ExitPolicy{FailOn: result.SeverityError}, now: time.Now().UTC()}
	rep, err := evaluate(ctx, engine, nil, inputs, settings.now)
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx)
		}
		return demoFail("%v", err)
	}
	if err := writeReport(cmd, &reportOptions{format: o.format}, settings, engine, rep); err != nil {
		return err
	}
	if o.format == "text" {
		fmt.Fprint(info, demoFooter)
	}
	return nil
}

// indent prefixes every line written through it with two spaces.
func indent(w io.Writer) io.Writer { return &indentWriter{w: w, start: true} }

type indentWriter struct {
	w     io.Writer
	start bool
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, c := range string(p) {
		if iw.start && c != '\n' {
			b.WriteString("  ")
		}
		b.WriteRune(c)
		iw.start = c == '\n'
	}
	if _, err := io.WriteString(iw.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}
