package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/report"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/snapshot"
	"github.com/ticketguard/ticketguard/internal/store"
)

type showOptions struct {
	run                int64
	format             string
	output             string
	failOn             string
	allowIndeterminate bool
}

func newShowCmd() *cobra.Command {
	o := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show TENANT",
		Short: "Print the report of a stored run, in any format of check, with its drift",
		Long: `Print the report of one stored run of a tenant (the latest unless --run names
another) exactly as ` + "`ticketguard check`" + ` prints it, from the results and the check
catalogue stored with the run: nothing is collected or evaluated again. The
text and json formats add the run's drift: in text a "Drift since run N"
section after the report, in json the "run" and "drift" fields added to the
report.
SARIF and JUnit have no place for drift and carry the report only.

The store is --store FILE, else ticketguard.db in the current directory.

Exit codes, as check's, from the stored results: 0 all good; 1 a check failed
at or above --fail-on; 2 bad usage, an unknown tenant or run, or no store;
3 no failure but something indeterminate (unless --allow-indeterminate), or a
run that collected nothing and so has no results.`,
		Example: `  # The latest run of a tenant
  ticketguard show acme

  # An earlier run, as ticketguard history lists them, for a script
  ticketguard show acme --run 42 --format json | jq '.drift'

  # The latest report as SARIF, failing the CI job as check would
  ticketguard show acme --format sarif --output ticketguard.sarif --fail-on warning`,
		Args: tenantArg("show"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runShow(cmd, o, args[0])
		},
	}
	f := cmd.Flags()
	runIDFlag(cmd, &o.run, "the latest run")
	addStoreFlag(cmd)
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` (atomically) instead of stdout")
	f.StringVar(&o.failOn, "fail-on", "error", "lowest severity whose failure exits 1: error or warning")
	f.BoolVar(&o.allowIndeterminate, "allow-indeterminate", false, "exit 0 rather than 3 when checks are indeterminate but none failed")
	return cmd
}

func runShow(cmd *cobra.Command, o *showOptions, name string) error {
	ctx := cmd.Context()
	if !slices.Contains(report.Formats(), o.format) {
		return usageErrorf(cmd, "--format %q: want one of %s", o.format, strings.Join(report.Formats(), ", "))
	}
	policy := result.ExitPolicy{AllowIndeterminate: o.allowIndeterminate}
	switch o.failOn {
	case "error":
		policy.FailOn = result.SeverityError
	case "warning":
		policy.FailOn = result.SeverityWarning
	default:
		return usageErrorf(cmd, "--fail-on %q: want error or warning", o.failOn)
	}
	if err := checkRunID(cmd, o.run); err != nil {
		return err
	}
	if o.output != "" {
		if err := checkOutputDir(o.output); err != nil {
			return usageErrorf(cmd, "--output: %v", err)
		}
	}

	st, path, tenant, err := openTenantHistory(cmd, name)
	if err != nil {
		return err
	}
	defer st.Close()
	run, err := tenantRun(ctx, st, path, tenant, o.run)
	if err != nil {
		return err
	}

	results, err := st.Results(ctx, run.ID)
	if err != nil {
		return storeError(ctx, err)
	}
	if len(results) == 0 {
		// An empty report would read as "nothing failed" and exit 0: a
		// run that evaluated nothing is indeterminate, never a pass.
		msg := fmt.Sprintf("run %d of %s (%s, started %s UTC) has no check results: nothing was evaluated", run.ID, tenant, run.Outcome, formatMinute(run.StartedAt))
		if run.Error != "" {
			msg += "\n  " + indentLines(run.Error, "  ")
		}
		return &exitError{code: result.ExitIndeterminate, msg: msg}
	}

	t := storedTenant(ctx, cmd.ErrOrStderr(), st, path, tenant, run)
	t.Results = results
	for _, r := range results {
		t.Patched = t.Patched || r.Baseline != ""
	}
	rep := &result.Report{EvaluatedAt: run.FinishedAt, Tenants: []result.Tenant{t}}

	w, err := report.Get(o.format, report.Options{Policy: policy, ToolVersion: Version()})
	if err != nil {
		return usageErrorf(cmd, "%v", err)
	}
	var buf bytes.Buffer
	if err := w.Write(&buf, rep); err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("render %s report: %v", o.format, err)}
	}

	if o.format == "text" || o.format == "json" {
		var events []store.DriftEvent
		if run.DriftEvents > 0 {
			if events, err = st.Drift(ctx, run.ID); err != nil {
				return storeError(ctx, err)
			}
		}
		groups := groupDrift(events)
		if o.format == "text" {
			previous, err := previousSnapshotRun(ctx, st, run)
			if err != nil {
				return storeError(ctx, err)
			}
			writeDriftText(&buf, run, previous, groups)
		} else {
			b, err := withRunAndDrift(buf.Bytes(), path, run, groups)
			if err != nil {
				return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("render json report: %v", err)}
			}
			buf.Reset()
			buf.Write(b)
		}
	}

	if o.output != "" {
		if err := writeFileAtomic(o.output, buf.Bytes()); err != nil {
			return &exitError{code: result.ExitUsage, msg: err.Error()}
		}
	} else if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("write report: %v", err)}
	}
	return exitCode(rep.ExitCode(policy))
}

// runRef names a stored run where a report names a snapshot file: the store
// and the run, as a relative URI reference SARIF accepts as an artifact.
func runRef(path string, id int64) string { return fmt.Sprintf("%s#run-%d", path, id) }

// storedTenant is the report's tenant for a stored run: the tenant id,
// collection time and collection errors come from the stored snapshot, as
// check reads them from the file. A snapshot that cannot be read costs those
// details, with a warning, not the report: the results are stored apart.
func storedTenant(ctx context.Context, stderr io.Writer, st *store.Store, path, tenant string, run store.Run) result.Tenant {
	t := result.Tenant{Name: tenant, Snapshot: runRef(path, run.ID)}
	if run.HasSnapshot {
		data, err := st.Snapshot(ctx, run.ID)
		var doc *snapshot.Document
		if err == nil {
			doc, err = snapshot.Parse(t.Snapshot, data)
		}
		if err != nil {
			first, _, _ := strings.Cut(err.Error(), "\n")
			fmt.Fprintf(stderr, "ticketguard: warning: the snapshot of run %d cannot be read (%s): the report lacks its tenant id, collection time and collection errors\n", run.ID, first)
		} else {
			t.TenantID, t.CollectedAt, t.Errors = doc.TenantID, doc.CollectedAt, doc.Errors
		}
	}
	// A partial or failed run says why; the snapshot's own errors say it
	// better, per source, when it has them.
	if run.Error != "" && len(t.Errors) == 0 {
		t.Errors = append(t.Errors, result.SourceError{Source: "run " + string(run.Outcome), Message: run.Error})
	}
	return t
}

// previousSnapshotRun is the stored run the run's drift was computed against
// (the tenant's latest earlier run with a snapshot), or ok false.
func previousSnapshotRun(ctx context.Context, st *store.Store, run store.Run) (store.Run, error) {
	runs, err := st.Runs(ctx, run.Tenant, 0)
	if err != nil {
		return store.Run{}, err
	}
	for _, r := range runs { // newest first
		if r.ID < run.ID && r.HasSnapshot {
			return r, nil
		}
	}
	return store.Run{}, nil
}

// writeDriftText appends the run's drift after the report, one section per
// run compared with: "Drift since run N", then the changes as `ticketguard
// diff` prints them.
func writeDriftText(b *bytes.Buffer, run store.Run, previous store.Run, groups []driftGroup) {
	hasPrevious := slices.ContainsFunc(groups, func(g driftGroup) bool { return g.Against == store.AgainstPrevious })
	if !hasPrevious {
		b.WriteString("\n")
		switch {
		case !run.HasSnapshot:
			fmt.Fprintf(b, "Drift: not known: run %d stored no snapshot to compare.\n", run.ID)
		case previous.ID == 0:
			fmt.Fprintf(b, "Drift: none to show: no earlier snapshot of %s is stored.\n", run.Tenant)
		default:
			fmt.Fprintf(b, "Drift since run %d: none recorded.\n", previous.ID)
		}
	}
	for _, g := range groups {
		fmt.Fprintf(b, "\nDrift since %s: %s\n\n", g.against(), drift.Summary(g.Changes))
		_ = drift.WriteText(b, g.Changes) // a bytes.Buffer does not fail
	}
}

// The fields show adds to the JSON report: the run, and its drift events as
// `ticketguard diff --format json` prints changes, with what they compare with.
type showRunJSON struct {
	ID          int64  `json:"id"`
	Tenant      string `json:"tenant"`
	Store       string `json:"store"`
	StartedAt   string `json:"started_at"`
	FinishedAt  string `json:"finished_at"`
	Outcome     string `json:"outcome"`
	Error       string `json:"error,omitempty"`
	Requests    int    `json:"requests"`
	Retries     int    `json:"retries"`
	Throttled   int    `json:"throttled"`
	HasSnapshot bool   `json:"has_snapshot"`
}

type showDriftJSON struct {
	Against    string `json:"against"` // "previous" or "baseline"
	AgainstRun *int64 `json:"against_run"`
	drift.Change
}

// withRunAndDrift adds "run" and "drift" to the JSON report check renders.
// The report's schema allows new fields within a version; adding them to the
// rendered document, rather than re-encoding it from a copy of its types,
// keeps every other byte exactly what check prints.
func withRunAndDrift(rendered []byte, path string, run store.Run, groups []driftGroup) ([]byte, error) {
	body := bytes.TrimRight(rendered, " \n")
	if !bytes.HasSuffix(body, []byte("}")) {
		return nil, errors.New("the report is not a JSON object")
	}
	body = bytes.TrimRight(body[:len(body)-1], " \n")

	events := []showDriftJSON{}
	for _, g := range groups {
		for _, c := range g.Changes {
			e := showDriftJSON{Against: string(g.Against), Change: c}
			if g.AgainstRunID != 0 {
				id := g.AgainstRunID
				e.AgainstRun = &id
			}
			events = append(events, e)
		}
	}
	fields := []struct {
		name  string
		value any
	}{
		{"run", showRunJSON{
			ID: run.ID, Tenant: run.Tenant, Store: path,
			StartedAt: rfc3339(run.StartedAt), FinishedAt: rfc3339(run.FinishedAt),
			Outcome: string(run.Outcome), Error: run.Error,
			Requests: run.Requests, Retries: run.Retries, Throttled: run.Throttled,
			HasSnapshot: run.HasSnapshot,
		}},
		{"drift", events},
	}
	var out bytes.Buffer
	out.Write(body)
	for _, f := range fields {
		var v bytes.Buffer
		enc := json.NewEncoder(&v)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(f.value); err != nil {
			return nil, fmt.Errorf("encode %s: %w", f.name, err)
		}
		fmt.Fprintf(&out, ",\n  %q: %s", f.name, bytes.TrimRight(v.Bytes(), "\n"))
	}
	out.WriteString("\n}\n")
	if !json.Valid(out.Bytes()) {
		return nil, errors.New("adding run and drift made invalid JSON")
	}
	return out.Bytes(), nil
}
