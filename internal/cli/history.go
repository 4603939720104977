package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
)

// defaultHistoryLimit keeps `ticketguard history` to a screenful; the status
// changes and drift shown are those of the listed runs.
const defaultHistoryLimit = 20

// maxDriftLines bounds the drift lines listed per run in the text history:
// the summary line counts them all, `show --run` lists them all.
const maxDriftLines = 5

func newHistoryCmd() *cobra.Command {
	var (
		limit  int
		format string
	)
	cmd := &cobra.Command{
		Use:   "history TENANT",
		Short: "List a tenant's stored runs, the check status changes and the drift between them",
		Long: `List the runs of a tenant in the history store, newest first: when each started,
how long it took, how it ended, the API requests it made and its check results
by status. Then the checks whose status changed from one run to the next, and
the drift each run found against the previous run and the approved baseline.

The store is --store FILE, else ticketguard.db in the current directory; it is
written by ` + "`ticketguard serve` and `ticketguard run --once`" + `.

Exit codes: 0 listed; 2 bad usage, an unknown tenant or no store.`,
		Example: `  # The last 20 runs of a tenant
  ticketguard history acme

  # Every stored run, for a script
  ticketguard history acme --limit 0 --format json | jq '.status_changes[]'

  # A store somewhere else
  ticketguard history acme --store /var/lib/ticketguard/ticketguard.db`,
		Args: tenantArg("history"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHistory(cmd, args[0], limit, format)
		},
	}
	f := cmd.Flags()
	addStoreFlag(cmd)
	f.IntVarP(&limit, "limit", "n", defaultHistoryLimit, "list the latest `N` runs; 0 lists them all")
	f.StringVarP(&format, "format", "f", "text", "output format: text or json")
	return cmd
}

// tenantArg requires exactly one TENANT argument.
func tenantArg(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
			return usageErrorf(cmd, "%s needs one TENANT, as named in ticketguard.yaml; got %d arguments", name, len(args))
		}
		return nil
	}
}

// history is one tenant's history, read in full before anything is written,
// so that a failed read prints nothing rather than half a listing.
type history struct {
	store     string
	tenant    string
	totalRuns int
	baseline  int64                // 0: none approved
	runs      []historyRun         // the listed runs, newest first
	changes   []store.StatusChange // of the listed runs, newest first
}

type historyRun struct {
	store.Run
	counts map[result.Status]int
	drift  []driftGroup
}

func runHistory(cmd *cobra.Command, name string, limit int, format string) error {
	ctx := cmd.Context()
	if format != "text" && format != "json" {
		return usageErrorf(cmd, "--format %q: want text or json", format)
	}
	if limit < 0 {
		return usageErrorf(cmd, "--limit %d: want a number of runs, or 0 for all", limit)
	}
	st, path, tenant, err := openTenantHistory(cmd, name)
	if err != nil {
		return err
	}
	defer st.Close()

	h, err := readHistory(ctx, st, path, tenant, limit)
	if err != nil {
		return storeError(ctx, err)
	}
	var b bytes.Buffer
	if format == "json" {
		err = h.writeJSON(&b)
	} else {
		err = h.writeText(&b)
	}
	if err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("render history: %v", err)}
	}
	if _, err := cmd.OutOrStdout().Write(b.Bytes()); err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("write history: %v", err)}
	}
	return nil
}

func readHistory(ctx context.Context, st *store.Store, path, tenant string, limit int) (*history, error) {
	// Every run, not only the listed ones: the total is shown, and the
	// oldest stored run tells a check's first appearance from a new check.
	all, err := st.Runs(ctx, tenant, 0)
	if err != nil {
		return nil, err
	}
	h := &history{store: path, tenant: tenant, totalRuns: len(all)}
	if h.baseline, _, err = st.Baseline(ctx, tenant); err != nil {
		return nil, err
	}
	listed := all
	if limit > 0 && len(listed) > limit {
		listed = listed[:limit]
	}
	for _, r := range listed {
		hr := historyRun{Run: r, counts: map[result.Status]int{}}
		if r.Results > 0 {
			results, err := st.Results(ctx, r.ID)
			if err != nil {
				return nil, err
			}
			hr.counts = countStatuses(results)
		}
		if r.DriftEvents > 0 {
			events, err := st.Drift(ctx, r.ID)
			if err != nil {
				return nil, err
			}
			hr.drift = groupDrift(events)
		}
		h.runs = append(h.runs, hr)
	}

	changes, err := st.StatusChanges(ctx, tenant, 0)
	if err != nil {
		return nil, err
	}
	if len(listed) > 0 {
		oldestListed, oldestStored := listed[len(listed)-1].ID, all[len(all)-1].ID
		for _, c := range changes {
			// The first run stored "changes" every check from nothing: that
			// is the starting point, not news. A check first seen later is
			// new (a custom policy added, a check added by an upgrade).
			if c.RunID < oldestListed || (c.From == "" && c.RunID == oldestStored) {
				continue
			}
			h.changes = append(h.changes, c)
		}
	}
	return h, nil
}

func (h *history) writeText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %s in %s", h.tenant, countNoun(h.totalRuns, "run", "runs"), h.store)
	if len(h.runs) < h.totalRuns {
		fmt.Fprintf(&b, ", the latest %d listed (--limit 0 lists all)", len(h.runs))
	}
	if h.baseline != 0 {
		fmt.Fprintf(&b, "; baseline: run %d", h.baseline)
	} else {
		b.WriteString("; no baseline approved")
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED (UTC)\tDURATION\tOUTCOME\tREQUESTS\tRETRIES\tTHROTTLED\tRESULTS")
	for _, r := range h.runs {
		id := fmt.Sprint(r.ID)
		if r.ID == h.baseline {
			id += " (baseline)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", id, formatMinute(r.StartedAt), formatDuration(r.Duration()),
			r.Outcome, r.Requests, r.Retries, r.Throttled, statusSummary(r.counts))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	var errored []historyRun
	for _, r := range h.runs {
		if r.Error != "" {
			errored = append(errored, r)
		}
	}
	if len(errored) > 0 {
		b.WriteString("\nRun errors:\n")
		for _, r := range errored {
			fmt.Fprintf(&b, "  run %d (%s): %s\n", r.ID, r.Outcome, indentLines(r.Error, "    "))
		}
	}

	b.WriteString("\nStatus changes:\n")
	if len(h.changes) == 0 {
		b.WriteString("  none in these runs\n")
	}
	for _, c := range h.changes {
		from := string(c.From)
		if from == "" {
			from = "(new)"
		}
		fmt.Fprintf(&b, "  %s run %d: %s %s → %s\n", formatMinute(c.At), c.RunID, c.CheckID, from, c.To)
	}

	b.WriteString("\nDrift:\n")
	drifted := false
	for _, r := range h.runs {
		for _, g := range r.drift {
			drifted = true
			fmt.Fprintf(&b, "  %s run %d since %s: %s\n", formatMinute(r.StartedAt), r.ID, g.against(), drift.Summary(g.Changes))
			for i, c := range g.Changes {
				if i == maxDriftLines {
					fmt.Fprintf(&b, "    … and %d more: ticketguard show %s --run %d\n", len(g.Changes)-i, h.tenant, r.ID)
					break
				}
				fmt.Fprintf(&b, "    %s\n", indentLines(drift.Describe(c), "      "))
			}
		}
	}
	if !drifted {
		b.WriteString("  none recorded in these runs\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// The JSON history, for scripts: times are RFC 3339 UTC; fields may be
// added, never removed or changed in meaning.
type historyJSON struct {
	Tenant        string             `json:"tenant"`
	Store         string             `json:"store"`
	TotalRuns     int                `json:"total_runs"`
	BaselineRun   *int64             `json:"baseline_run"`
	Runs          []historyRunJSON   `json:"runs"`
	StatusChanges []statusChangeJSON `json:"status_changes"`
}

type historyRunJSON struct {
	ID              int64            `json:"id"`
	StartedAt       string           `json:"started_at"`
	FinishedAt      string           `json:"finished_at"`
	DurationSeconds float64          `json:"duration_seconds"`
	Outcome         string           `json:"outcome"`
	Error           string           `json:"error,omitempty"`
	Requests        int              `json:"requests"`
	Retries         int              `json:"retries"`
	Throttled       int              `json:"throttled"`
	HasSnapshot     bool             `json:"has_snapshot"`
	Summary         map[string]int   `json:"summary"`
	Drift           []driftGroupJSON `json:"drift"`
}

type driftGroupJSON struct {
	Against    string `json:"against"` // "previous" or "baseline"
	AgainstRun *int64 `json:"against_run"`
	// Objects changed (property changes of one object count once), added
	// and removed, as in drift.Summary.
	ChangedObjects int      `json:"changed_objects"`
	Added          int      `json:"added"`
	Removed        int      `json:"removed"`
	Changes        []string `json:"changes"` // one line each, as drift.Describe
}

type statusChangeJSON struct {
	Run   int64   `json:"run"`
	At    string  `json:"at"`
	Check string  `json:"check"`
	From  *string `json:"from"` // null when the check is new
	To    string  `json:"to"`
}

func (h *history) writeJSON(w io.Writer) error {
	out := historyJSON{
		Tenant:        h.tenant,
		Store:         h.store,
		TotalRuns:     h.totalRuns,
		Runs:          make([]historyRunJSON, 0, len(h.runs)),
		StatusChanges: make([]statusChangeJSON, 0, len(h.changes)),
	}
	if h.baseline != 0 {
		out.BaselineRun = &h.baseline
	}
	for _, r := range h.runs {
		jr := historyRunJSON{
			ID:              r.ID,
			StartedAt:       rfc3339(r.StartedAt),
			FinishedAt:      rfc3339(r.FinishedAt),
			DurationSeconds: r.Duration().Seconds(),
			Outcome:         string(r.Outcome),
			Error:           r.Error,
			Requests:        r.Requests,
			Retries:         r.Retries,
			Throttled:       r.Throttled,
			HasSnapshot:     r.HasSnapshot,
			Summary:         map[string]int{},
			Drift:           make([]driftGroupJSON, 0, len(r.drift)),
		}
		// Every status, zero or not, as in the JSON report's summary.
		for _, s := range summaryStatuses {
			jr.Summary[string(s)] = 0
		}
		for s, n := range r.counts {
			jr.Summary[string(s)] = n
		}
		for _, g := range r.drift {
			jg := driftGroupJSON{Against: string(g.Against), Changes: make([]string, 0, len(g.Changes))}
			if g.AgainstRunID != 0 {
				id := g.AgainstRunID
				jg.AgainstRun = &id
			}
			jg.ChangedObjects, jg.Added, jg.Removed = driftCounts(g.Changes)
			for _, c := range g.Changes {
				jg.Changes = append(jg.Changes, drift.Describe(c))
			}
			jr.Drift = append(jr.Drift, jg)
		}
		out.Runs = append(out.Runs, jr)
	}
	for _, c := range h.changes {
		jc := statusChangeJSON{Run: c.RunID, At: rfc3339(c.At), Check: c.CheckID, To: string(c.To)}
		if c.From != "" {
			from := string(c.From)
			jc.From = &from
		}
		out.StatusChanges = append(out.StatusChanges, jc)
	}
	return encodeJSON(w, out)
}

// driftCounts counts as drift.Summary does: changed objects, added, removed.
func driftCounts(changes []drift.Change) (changed, added, removed int) {
	objects := map[string]bool{}
	for _, c := range changes {
		switch c.Change {
		case drift.Added:
			added++
		case drift.Removed:
			removed++
		default:
			objects[c.Key] = true
		}
	}
	return len(objects), added, removed
}

// encodeJSON writes v indented, without HTML escaping (labels quote
// addresses like <a@b>).
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// minuteLayout is how the history commands show a time to people: UTC, to
// the minute.
const minuteLayout = "2006-01-02 15:04"

func formatMinute(t time.Time) string { return t.UTC().Format(minuteLayout) }

// formatDuration rounds a run's duration for people: milliseconds below a
// second, seconds above.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// driftChange turns a stored drift event back into the drift package's
// Change, so that stored drift is described exactly as `ticketguard diff`
// describes it. Values are decoded with json.Number, as drift views are.
func driftChange(ev store.DriftEvent) drift.Change {
	return drift.Change{
		Kind:     ev.ObjectKind,
		Key:      ev.ObjectKey,
		Label:    ev.ObjectLabel,
		Property: ev.Property,
		Change:   string(ev.Change),
		Before:   decodeValue(ev.Before),
		After:    decodeValue(ev.After),
	}
}

func decodeValue(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		// The store validated it when it was written; show it as stored
		// rather than drop the event.
		return string(raw)
	}
	return v
}

// driftGroup is the drift events of one run against one earlier run.
type driftGroup struct {
	Against      store.Against
	AgainstRunID int64
	Changes      []drift.Change
}

// groupDrift splits a run's drift events by what they compare with, the
// previous run first, keeping the stored order (drift.Compare's) inside each.
func groupDrift(events []store.DriftEvent) []driftGroup {
	var groups []driftGroup
	for _, ev := range events {
		i := slices.IndexFunc(groups, func(g driftGroup) bool {
			return g.Against == ev.Against && g.AgainstRunID == ev.AgainstRunID
		})
		if i < 0 {
			groups = append(groups, driftGroup{Against: ev.Against, AgainstRunID: ev.AgainstRunID})
			i = len(groups) - 1
		}
		groups[i].Changes = append(groups[i].Changes, driftChange(ev))
	}
	slices.SortStableFunc(groups, func(a, b driftGroup) int {
		return boolRank(a.Against != store.AgainstPrevious) - boolRank(b.Against != store.AgainstPrevious)
	})
	return groups
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// against names what a drift group compares with, for a sentence:
// "run 41", "the baseline, run 40".
func (g driftGroup) against() string {
	run := "an earlier run"
	if g.AgainstRunID != 0 {
		run = fmt.Sprintf("run %d", g.AgainstRunID)
	}
	if g.Against == store.AgainstBaseline {
		return "the baseline, " + run
	}
	return run
}

// summaryStatuses is the order of the counts in a summary, the report's.
var summaryStatuses = []result.Status{
	result.Pass, result.Fail, result.Warn, result.Indeterminate, result.Waived, result.NotApplicable,
}

// statusSummary is "8 pass, 1 fail, 2 not applicable", zero counts left out.
func statusSummary(counts map[result.Status]int) string {
	var parts, unknown []string
	for _, s := range summaryStatuses {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(s), "_", " ")))
		}
	}
	for s, n := range counts { // a status this version does not know: still counted
		if !slices.Contains(summaryStatuses, s) && n > 0 {
			unknown = append(unknown, fmt.Sprintf("%d %s", n, s))
		}
	}
	slices.Sort(unknown)
	if parts = append(parts, unknown...); len(parts) == 0 {
		return "no results"
	}
	return strings.Join(parts, ", ")
}

func countStatuses(results []result.CheckResult) map[result.Status]int {
	m := map[result.Status]int{}
	for _, r := range results {
		m[r.Status]++
	}
	return m
}

// countNoun is "1 run", "3 runs".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// indentLines indents every line after the first, so a multi-line text
// (a run error, a drift line) stays inside its block.
func indentLines(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}
