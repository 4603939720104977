package cli_test

// Black-box tests of `ticketguard history`, against the store of
// storefixture_test.go.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHistoryText(t *testing.T) {
	db, fx := historyStore(t)
	r := ticketguard(t, "history", "acme", "--store", db)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("want exit 0:\n%s", r)
	}
	r1, r2, r3, r4 := fx.acme[0], fx.acme[1], fx.acme[2], fx.acme[3]
	for _, want := range []string{
		fmt.Sprintf("acme: 4 runs in %s; baseline: run %d\n", db, r1),
		"RUN", "STARTED (UTC)", "DURATION", "OUTCOME", "REQUESTS", "RETRIES", "RESULTS",
		fmt.Sprintf("%d (baseline)", r1),
		"2026-11-27 06:00", "2026-11-30 06:00", "42s",
		// the failed run: its error, and no results rather than "all passed"
		"failed", "no results", fmt.Sprintf("run %d (failed): %s", r3, failedRunError),
		// status changes, newest first
		fmt.Sprintf("  2026-11-30 06:00 run %d: external-forwarding fail → pass\n", r4),
		fmt.Sprintf("  2026-11-28 06:00 run %d: external-forwarding pass → fail\n", r2),
		fmt.Sprintf("  2026-11-28 06:00 run %d: forwarding-keeps-copy pass → warn\n", r2),
		// drift per run, summarised, each change described
		fmt.Sprintf("  2026-11-30 06:00 run %d since run %d: 1 object changed, 0 added, 0 removed\n", r4, r2),
		`    outbound anti-spam policy "Atera ticket forwarding": AutoForwardingMode "Off" → "On"`,
		fmt.Sprintf("  2026-11-30 06:00 run %d since the baseline, run %d: 1 object changed, 0 added, 0 removed\n", r4, r1),
		`    mailbox "Support" <support@contosodental.com>: DeliverToMailboxAndForward true → false`,
		fmt.Sprintf("  2026-11-28 06:00 run %d since run %d: 2 objects changed, 0 added, 0 removed\n", r2, r1),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, r.stdout)
		}
	}
	// Run 2's counts are the evaluation's, not made up.
	if want := fmt.Sprintf("%d fail, %d warn", 1, 1); !strings.Contains(r.stdout, want) {
		t.Errorf("run %d's counts lack %q:\n%s", r2, want, r.stdout)
	}
	// The first run is the starting point, not a change of every check.
	if strings.Contains(r.stdout, "(new)") || strings.Contains(r.stdout, fmt.Sprintf("run %d: ticketing-contact", r1)) {
		t.Errorf("first appearances in the first run listed as status changes:\n%s", r.stdout)
	}
	// The failed run in between does not break the chain: run 4 is compared
	// with run 2, not reported as a first appearance.
	if strings.Contains(r.stdout, fmt.Sprintf("run %d:", r3)) {
		t.Errorf("the failed run has status changes:\n%s", r.stdout)
	}
	// Newest first.
	if strings.Index(r.stdout, fmt.Sprintf("\n%d ", r4)) > strings.Index(r.stdout, fmt.Sprintf("\n%d (baseline)", r1)) {
		t.Errorf("runs not newest first:\n%s", r.stdout)
	}
}

func TestHistoryLimit(t *testing.T) {
	db, fx := historyStore(t)
	r := ticketguard(t, "history", "acme", "--store", db, "--limit", "2")
	if r.code != 0 {
		t.Fatalf("want exit 0:\n%s", r)
	}
	if !strings.Contains(r.stdout, "4 runs in") || !strings.Contains(r.stdout, "the latest 2 listed") {
		t.Errorf("want the total and how many are listed:\n%s", r.stdout)
	}
	// Only runs 4 and 3, and only their changes and drift.
	if strings.Contains(r.stdout, "2026-11-28") || strings.Contains(r.stdout, "2026-11-27") {
		t.Errorf("runs beyond --limit listed:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("run %d: external-forwarding fail → pass", fx.acme[3])) {
		t.Errorf("the listed run's change is missing:\n%s", r.stdout)
	}
}

type historyJSON struct {
	Tenant      string `json:"tenant"`
	TotalRuns   int    `json:"total_runs"`
	BaselineRun *int64 `json:"baseline_run"`
	Runs        []struct {
		ID              int64          `json:"id"`
		StartedAt       string         `json:"started_at"`
		DurationSeconds float64        `json:"duration_seconds"`
		Outcome         string         `json:"outcome"`
		Error           string         `json:"error"`
		Requests        int            `json:"requests"`
		Retries         int            `json:"retries"`
		HasSnapshot     bool           `json:"has_snapshot"`
		Summary         map[string]int `json:"summary"`
		Drift           []struct {
			Against        string   `json:"against"`
			AgainstRun     *int64   `json:"against_run"`
			ChangedObjects int      `json:"changed_objects"`
			Added          int      `json:"added"`
			Removed        int      `json:"removed"`
			Changes        []string `json:"changes"`
		} `json:"drift"`
	} `json:"runs"`
	StatusChanges []struct {
		Run   int64   `json:"run"`
		At    string  `json:"at"`
		Check string  `json:"check"`
		From  *string `json:"from"`
		To    string  `json:"to"`
	} `json:"status_changes"`
}

func TestHistoryJSON(t *testing.T) {
	db, fx := historyStore(t)
	r := ticketguard(t, "history", "acme", "--store", db, "--format", "json")
	if r.code != 0 {
		t.Fatalf("want exit 0:\n%s", r)
	}
	var h historyJSON
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if h.Tenant != "acme" || h.TotalRuns != 4 || len(h.Runs) != 4 || h.BaselineRun == nil || *h.BaselineRun != fx.acme[0] {
		t.Fatalf("tenant %q, %d runs of %d, baseline %v", h.Tenant, len(h.Runs), h.TotalRuns, h.BaselineRun)
	}
	for i, run := range h.Runs {
		id := fx.acme[3-i]
		if run.ID != id || run.StartedAt != fx.at[id] || run.DurationSeconds != 42 {
			t.Errorf("runs[%d] = id %d started %s took %vs, want id %d started %s took 42s", i, run.ID, run.StartedAt, run.DurationSeconds, id, fx.at[id])
		}
		// The summary counts every stored result, by status.
		want := map[string]int{}
		for _, s := range fx.stat[id] {
			want[s]++
		}
		for _, s := range []string{"pass", "fail", "warn", "indeterminate", "not_applicable", "waived"} {
			if got, ok := run.Summary[s]; !ok || got != want[s] {
				t.Errorf("run %d summary[%s] = %d (present %v), want %d", id, s, got, ok, want[s])
			}
		}
	}
	failed := h.Runs[1]
	if failed.Outcome != "failed" || failed.Error != failedRunError || failed.HasSnapshot || len(failed.Drift) != 0 {
		t.Errorf("the failed run: %+v", failed)
	}
	latest := h.Runs[0]
	if len(latest.Drift) != 2 {
		t.Fatalf("run %d drift groups = %+v, want against the previous run and the baseline", latest.ID, latest.Drift)
	}
	prev, base := latest.Drift[0], latest.Drift[1]
	if prev.Against != "previous" || prev.AgainstRun == nil || *prev.AgainstRun != fx.acme[1] || prev.ChangedObjects != 1 ||
		len(prev.Changes) != 1 || !strings.Contains(prev.Changes[0], `AutoForwardingMode "Off" → "On"`) {
		t.Errorf("drift against the previous run: %+v", prev)
	}
	if base.Against != "baseline" || base.AgainstRun == nil || *base.AgainstRun != fx.acme[0] ||
		len(base.Changes) != 1 || !strings.Contains(base.Changes[0], "DeliverToMailboxAndForward true → false") {
		t.Errorf("drift against the baseline: %+v", base)
	}

	type change struct {
		run             int64
		check, from, to string
	}
	var got []change
	for _, c := range h.StatusChanges {
		if c.From == nil {
			t.Errorf("status change %+v has no from: the first run's checks are not changes", c)
			continue
		}
		got = append(got, change{c.Run, c.Check, *c.From, c.To})
	}
	want := []change{
		{fx.acme[3], "external-forwarding", "fail", "pass"},
		{fx.acme[1], "external-forwarding", "pass", "fail"},
		{fx.acme[1], "forwarding-keeps-copy", "pass", "warn"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("status changes = %v, want %v", got, want)
	}
}

func TestHistoryTenantNames(t *testing.T) {
	db, _ := historyStore(t)
	// Tenant names match ignoring case, as ticketguard.yaml matches them.
	if r := ticketguard(t, "history", "ACME", "--store", db); r.code != 0 || !strings.HasPrefix(r.stdout, "acme: ") {
		t.Errorf("ACME:\n%s", r)
	}
	r := ticketguard(t, "history", "acne", "--store", db)
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, `unknown tenant "acne"`) || !strings.Contains(r.stderr, "acme, zeta") {
		t.Errorf("unknown tenant: want exit 2 naming the known tenants:\n%s", r)
	}
}

func TestHistoryStoreLocation(t *testing.T) {
	db, _ := historyStore(t)
	dir := t.TempDir()

	// No store: an error that says what to do, and no empty store left behind.
	r := ticketguardIn(t, dir, "history", "acme")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "no history yet: ticketguard.db does not exist") ||
		!strings.Contains(r.stderr, "ticketguard run --once") {
		t.Errorf("missing default store:\n%s", r)
	}
	missing := filepath.Join(dir, "elsewhere.db")
	r = ticketguard(t, "history", "acme", "--store", missing)
	if r.code != 2 || !strings.Contains(r.stderr, "no history yet: "+missing+" does not exist") {
		t.Errorf("missing --store:\n%s", r)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("reading a missing store created %v", entries)
	}

	// The default is ticketguard.db in the working directory.
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ticketguard.db"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := ticketguardIn(t, dir, "history", "acme"); r.code != 0 || !strings.HasPrefix(r.stdout, "acme: 4 runs in ticketguard.db") {
		t.Errorf("default store:\n%s", r)
	}

	// A store with no runs yet.
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := ticketguard(t, "history", "acme", "--store", empty); r.code != 2 || !strings.Contains(r.stderr, "has no runs") {
		t.Errorf("empty store:\n%s", r)
	}
	// Not a database.
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("this is not a database, it is a note\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := ticketguard(t, "history", "acme", "--store", junk); r.code != 2 || r.stdout != "" || r.stderr == "" {
		t.Errorf("a file that is not a store:\n%s", r)
	}
}

// history, show and baseline find the store the way serve and run do:
// store.path of --config when no --store is given.
func TestHistoryStoreFromConfig(t *testing.T) {
	db, _ := historyStore(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ticketguard.yaml")
	yaml := `version: 1
store:
  path: ` + db + `
tenants:
  - name: acme
    tenant_id: 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f
    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90
    client_secret: {env: TG_TEST_UNUSED_SECRET}
    atera:
      ticketing_address: acme@ticketing.atera.com
      support_address: support@acme.example
      smtp: null
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"history", "acme", "--config", cfg},
		{"show", "acme", "--config", cfg, "--allow-indeterminate", "--fail-on", "warning"},
		{"baseline", "show", "acme", "--config", cfg},
	} {
		r := ticketguardIn(t, dir, args...)
		if r.code == 2 || !strings.Contains(r.stdout, "acme") {
			t.Errorf("%v did not read the configured store %s:\n%s", args, db, r)
		}
	}
	// A --config that does not load is an error, not another database.
	r := ticketguardIn(t, dir, "history", "acme", "--config", filepath.Join(dir, "missing.yaml"))
	if r.code != 2 || !strings.Contains(r.stderr, "missing.yaml") {
		t.Errorf("missing --config:\n%s", r)
	}
}

func TestHistoryUsage(t *testing.T) {
	db, _ := historyStore(t)
	for _, args := range [][]string{
		{"history"},
		{"history", "acme", "zeta"},
		{"history", "acme", "--store", db, "--format", "yaml"},
		{"history", "acme", "--store", db, "--limit", "-1"},
		{"show"},
		{"show", "acme", "--store", db, "--format", "html"},
		{"show", "acme", "--store", db, "--fail-on", "critical"},
		{"show", "acme", "--store", db, "--run", "0"},
		{"show", "acme", "--store", db, "--run", "latest"},
		{"show", "acme", "--store", db, "--output", "/no/such/dir/report.json"},
		{"baseline", "approve"},
		{"baseline", "approve", "acme", "--store", db, "--run", "-3"},
		{"baseline", "show"},
		{"baseline", "revoke", "acme"},
	} {
		name := strings.ReplaceAll(strings.Join(args, " "), db, "STORE")
		t.Run(name, func(t *testing.T) {
			r := ticketguard(t, args...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("want exit 2 and nothing on stdout:\n%s", r)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "ticketguard: ") || !strings.Contains(lines[1], "--help") {
				t.Errorf("want one error line and one hint line:\n%s", r.stderr)
			}
		})
	}
}

func TestHistoryCommandsHaveExamples(t *testing.T) {
	for _, args := range [][]string{
		{"history", "--help"},
		{"show", "--help"},
		{"baseline", "--help"},
		{"baseline", "approve", "--help"},
		{"baseline", "show", "--help"},
	} {
		r := ticketguard(t, args...)
		_, examples, ok := strings.Cut(r.stdout, "Examples:\n")
		if r.code != 0 || !ok || !strings.Contains(examples, "  ticketguard ") {
			t.Errorf("%v: want exit 0 and an Examples section:\n%s", args, r)
		}
	}
}
