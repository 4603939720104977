package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/report"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/snapshot"
	"github.com/ticketguard/ticketguard/internal/waiver"
)

// reportOptions are the flags of every command that evaluates and reports
// (check, audit, demo): the format and destination of the report, what
// fails the run, the custom policies and waivers, and the evaluation time.
type reportOptions struct {
	format             string
	output             string
	failOn             string
	allowIndeterminate bool
	policies           []string
	waivers            string
	now                string
}

type checkOptions struct {
	reportOptions
	patch string
}

// addReportFlags declares the reportOptions flags.
func addReportFlags(f *pflag.FlagSet, o *reportOptions) {
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` (atomically) instead of stdout")
	f.StringVar(&o.failOn, "fail-on", "error", "lowest severity whose failure exits 1: error or warning")
	f.BoolVar(&o.allowIndeterminate, "allow-indeterminate", false, "exit 0 rather than 3 when checks are indeterminate but none failed")
	f.StringArrayVar(&o.policies, "policies", nil, "add the custom Rego checks in `DIR` (repeatable)")
	f.StringVar(&o.waivers, "waivers", "", "apply the waivers in the YAML `FILE`")
	f.StringVar(&o.now, "now", "", "evaluation time, RFC 3339 (default the current time)")
}

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check SNAPSHOT...",
		Short: "Evaluate every check against tenant snapshots and report",
		Long: `Evaluate every check (built-in and --policies) against each snapshot, given as
files or directories of *.json files, and print a report per tenant.

Every snapshot, the patch, the waivers and the custom policies are read and
validated before anything is evaluated: if any of them is bad, every problem is
printed to stderr and ticketguard exits 2 without a report.

Exit codes: 0 all good; 1 a check failed at or above --fail-on; 2 bad usage or
bad input; 3 no failure but something indeterminate (unless --allow-indeterminate).`,
		Example: `  # Every snapshot in a directory, as text
  ticketguard check testdata/tenants/

  # JSON for scripts; SARIF for GitHub code scanning; JUnit for CI test tabs
  ticketguard check --format json acme.json | jq '.tenants[].summary'
  ticketguard check --format sarif --output ticketguard.sarif snapshots/
  ticketguard check --format junit --output junit.xml --fail-on warning snapshots/

  # Pre-change check: what breaks if this RFC 6902 patch is applied?
  ticketguard check --patch set-automatic.json acme.json

  # Your own checks and accepted exceptions; a fixed evaluation time
  ticketguard check --policies ./policies --waivers waivers.yaml --now 2026-11-27T06:00:00Z acme.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf(cmd, "check needs at least one snapshot file or directory")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, o, args)
		},
	}
	addReportFlags(cmd.Flags(), &o.reportOptions)
	cmd.Flags().StringVar(&o.patch, "patch", "", "apply the RFC 6902 JSON Patch in `CHANGE.json` to each snapshot and report what changes")
	return cmd
}

// tenantInput is one snapshot, loaded (and patched) before evaluation.
type tenantInput struct {
	doc     *snapshot.Document
	patched *snapshot.Document // nil without --patch
}

func runCheck(cmd *cobra.Command, o *checkOptions, args []string) error {
	ctx := cmd.Context()

	// Flags first: a typo should not wait for the policies to compile.
	settings, err := o.settings(cmd)
	if err != nil {
		return err
	}

	// Then every input, collecting every problem so that one run shows them all.
	engine, waivers, problems, err := loadPolicies(ctx, &o.reportOptions)
	if err != nil {
		return err
	}
	var patch *snapshot.Patch
	if o.patch != "" {
		if patch, err = snapshot.LoadPatch(o.patch); err != nil {
			problems = append(problems, fileProblem(o.patch, err))
		}
	}
	inputs, loadProblems := loadSnapshots(args, patch, o.patch)
	problems = append(problems, loadProblems...)
	if len(problems) > 0 {
		return inputError(problems)
	}
	return evaluateAndReport(cmd, &o.reportOptions, settings, engine, waivers, inputs)
}

// reportSettings are reportOptions' flags, validated.
type reportSettings struct {
	exitPolicy result.ExitPolicy
	now        time.Time
}

// settings validates the report flags, so a typo fails before anything slow
// (compiling the policies, collecting tenants) starts.
func (o *reportOptions) settings(cmd *cobra.Command) (reportSettings, error) {
	var s reportSettings
	if !slices.Contains(report.Formats(), o.format) {
		return s, usageErrorf(cmd, "--format %q: want one of %s", o.format, strings.Join(report.Formats(), ", "))
	}
	s.exitPolicy = result.ExitPolicy{AllowIndeterminate: o.allowIndeterminate}
	switch o.failOn {
	case "error":
		s.exitPolicy.FailOn = result.SeverityError
	case "warning":
		s.exitPolicy.FailOn = result.SeverityWarning
	default:
		return s, usageErrorf(cmd, "--fail-on %q: want error or warning", o.failOn)
	}
	s.now = time.Now().UTC()
	if o.now != "" {
		t, err := time.Parse(time.RFC3339, o.now)
		if err != nil {
			return s, usageErrorf(cmd, "--now %q: want an RFC 3339 time such as 2026-11-27T06:00:00Z", o.now)
		}
		s.now = t.UTC()
	}
	if o.output != "" {
		if err := checkOutputDir(o.output); err != nil {
			return s, usageErrorf(cmd, "--output: %v", err)
		}
	}
	return s, nil
}

// loadPolicies compiles the built-in and --policies checks and reads the
// waivers. Problems with them are returned as lines for inputError, so the
// caller can add its own before failing; err is only an interruption.
func loadPolicies(ctx context.Context, o *reportOptions) (*policy.Engine, *waiver.Set, []string, error) {
	var problems []string
	engine, err := policy.Load(ctx, policy.Options{CustomDirs: o.policies})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, nil, interrupted(ctx)
		}
		problems = append(problems, policyProblem(err))
	}
	var waivers *waiver.Set
	if o.waivers != "" {
		if engine == nil {
			problems = append(problems, fmt.Sprintf("%s: not checked: the waivers are validated against the checks, which did not load", o.waivers))
		} else {
			var ids []string
			for _, c := range engine.Catalogue() {
				ids = append(ids, c.ID)
			}
			waivers, err = waiver.Load(o.waivers, func(id string) bool { _, ok := engine.Lookup(id); return ok }, ids...)
			if err != nil {
				problems = append(problems, fileProblem(o.waivers, err))
			}
		}
	}
	return engine, waivers, problems, nil
}

// evaluateAndReport evaluates the loaded snapshots, writes the report to
// --output or stdout and ends with the report's exit code.
func evaluateAndReport(cmd *cobra.Command, o *reportOptions, s reportSettings, engine *policy.Engine, waivers *waiver.Set, inputs []tenantInput) error {
	ctx := cmd.Context()
	rep, err := evaluate(ctx, engine, waivers, inputs, s.now)
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx)
		}
		return &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	if err := writeReport(cmd, o, s, engine, rep); err != nil {
		return err
	}
	warnUnusedWaivers(cmd.ErrOrStderr(), waivers)
	return exitCode(rep.ExitCode(s.exitPolicy))
}

// warnUnusedWaivers tells, on stderr so machine-readable reports stay clean,
// which waivers matched no failing or undecided result: a stale waiver is
// one that will silently hide the next regression. It never changes the exit
// code.
func warnUnusedWaivers(w io.Writer, waivers *waiver.Set) {
	if waivers == nil {
		return
	}
	for _, u := range waivers.Unused() {
		res := ""
		if u.Resource != "" {
			res = ", resource " + u.Resource
		}
		fmt.Fprintf(w, "ticketguard: warning: %s:%d: the waiver for check %s, tenant %s%s matched nothing (no failing or undecided result): remove it if the failure is fixed, or correct its check, tenant or resource\n",
			waivers.File, u.Line, u.Check, u.Tenant, res)
	}
}

// writeReport renders the report in --format to --output (atomically) or
// stdout.
func writeReport(cmd *cobra.Command, o *reportOptions, s reportSettings, engine *policy.Engine, rep *result.Report) error {
	w, err := report.Get(o.format, report.Options{Policy: s.exitPolicy, Catalogue: engine.Catalogue(), ToolVersion: Version()})
	if err != nil {
		return usageErrorf(cmd, "%v", err)
	}
	var buf bytes.Buffer
	if err := w.Write(&buf, rep); err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("render %s report: %v", o.format, err)}
	}
	if o.output != "" {
		if err := writeFileAtomic(o.output, buf.Bytes()); err != nil {
			return &exitError{code: result.ExitUsage, msg: err.Error()}
		}
	} else if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("write report: %v", err)}
	}
	return nil
}

// loadSnapshots expands the arguments and loads every snapshot (and its
// patched form), returning every problem rather than stopping at the first.
func loadSnapshots(args []string, patch *snapshot.Patch, patchPath string) ([]tenantInput, []string) {
	paths, err := snapshot.Expand(args)
	if err != nil {
		return nil, []string{err.Error()} // an *snapshot.Error naming the path
	}
	var inputs []tenantInput
	var problems []string
	for _, path := range paths {
		doc, err := snapshot.Load(path)
		if err != nil {
			problems = append(problems, fileProblem(path, err))
			continue
		}
		in := tenantInput{doc: doc}
		if patch != nil {
			data, err := os.ReadFile(path)
			if err != nil {
				problems = append(problems, fileProblem(path, err))
				continue
			}
			patchedData, err := patch.Apply(path, data)
			if err != nil {
				problems = append(problems, fileProblem(patchPath, err))
				continue
			}
			// Positions in these errors are in the patched document, not the
			// file: say so in the name.
			name := fmt.Sprintf("%s (as patched by %s)", path, patchPath)
			if in.patched, err = snapshot.Parse(name, patchedData); err != nil {
				problems = append(problems, fileProblem(name, err))
				continue
			}
			in.patched.Path = path
		}
		inputs = append(inputs, in)
	}
	return inputs, problems
}

// evaluate runs the checks on every snapshot, in parallel (the engine is safe
// for concurrent use), keeping the tenants in argument order.
func evaluate(ctx context.Context, engine *policy.Engine, waivers *waiver.Set, inputs []tenantInput, now time.Time) (*result.Report, error) {
	tenants := make([]result.Tenant, len(inputs))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, in := range inputs {
		g.Go(func() error {
			t, err := evaluateTenant(ctx, engine, waivers, in, now)
			if err != nil {
				return err
			}
			tenants[i] = t
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return &result.Report{EvaluatedAt: now, Tenants: tenants}, nil
}

func evaluateTenant(ctx context.Context, engine *policy.Engine, waivers *waiver.Set, in tenantInput, now time.Time) (result.Tenant, error) {
	run := func(doc *snapshot.Document) ([]result.CheckResult, error) {
		res, err := engine.Evaluate(ctx, doc.Data, now)
		if err != nil {
			return nil, fmt.Errorf("%s: evaluate: %w", doc.Path, err)
		}
		if waivers != nil {
			res = waivers.Apply(doc.Name, res, now)
		}
		return res, nil
	}
	doc := in.doc
	if in.patched != nil {
		doc = in.patched
	}
	results, err := run(doc)
	if err != nil {
		return result.Tenant{}, err
	}
	t := result.Tenant{
		Name:        doc.Name,
		TenantID:    doc.TenantID,
		Snapshot:    doc.Path,
		CollectedAt: doc.CollectedAt,
		Results:     results,
		Errors:      doc.Errors,
	}
	if in.patched != nil {
		baseline, err := run(in.doc)
		if err != nil {
			return result.Tenant{}, err
		}
		before := make(map[string]result.Status, len(baseline))
		for _, r := range baseline {
			before[r.Check.ID] = r.Status
		}
		for i := range t.Results {
			t.Results[i].Baseline = before[t.Results[i].Check.ID]
		}
		t.Patched = true
	}
	return t, nil
}

// fileProblem renders an input error so that it names the file exactly once:
// a *snapshot.Error (or several joined) already starts with its file.
func fileProblem(path string, err error) string {
	var se *snapshot.Error
	msg := err.Error()
	if errors.As(err, &se) || strings.Contains(msg, path) {
		return msg
	}
	return path + ": " + msg
}

// policyProblem renders a policy load error; a *policy.LoadError already
// names file and line for each problem.
func policyProblem(err error) string {
	var le *policy.LoadError
	if errors.As(err, &le) {
		msg := le.Error()
		if !le.Custom {
			msg += "\n(this is a ticketguard bug: please report it)"
		}
		return msg
	}
	return "load policies: " + err.Error()
}

func interrupted(ctx context.Context) error {
	return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("interrupted (%v): no report written", context.Cause(ctx))}
}

// checkOutputDir fails early when --output cannot be written, rather than
// after every snapshot has been evaluated.
func checkOutputDir(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory; give a file name", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %w", dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames it
// into place, so that a reader (or a CI step uploading the report) sees the
// old file or the complete new one, never a partial report.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; a report is meant to be read by others.
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
