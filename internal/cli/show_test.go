package cli_test

// Black-box tests of `ticketguard show`, against the store of
// storefixture_test.go.

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// snapshotFile writes the snapshot stored with a fixture run to a file, for
// `ticketguard check` to evaluate.
func snapshotFile(t *testing.T, fx *historyFixture, id int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("run-%d.json", id))
	if err := os.WriteFile(path, fx.snap[id], 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A stored run is reported exactly as check reports its snapshot: the same
// text up to the snapshot line, the same results, the same exit code.
func TestShowIsCheckOfTheStoredRun(t *testing.T) {
	db, fx := historyStore(t)
	for _, id := range []int64{fx.acme[0], fx.acme[1], fx.acme[3]} {
		t.Run(fmt.Sprint("run ", id), func(t *testing.T) {
			snap := snapshotFile(t, fx, id)
			check := ticketguard(t, "check", "--now", fx.at[id], snap)
			show := ticketguard(t, "show", "acme", "--store", db, "--run", fmt.Sprint(id))
			if want := fx.exitFor(id); check.code != want || show.code != want {
				t.Fatalf("exit codes: check %d, show %d, want %d\ncheck:\n%s\nshow:\n%s", check.code, show.code, want, check, show)
			}
			// The tenant is named as the store names it, the snapshot is
			// the stored run; everything else is check's, byte for byte.
			want := strings.Replace(check.stdout, "snapshot: "+snap+"\n", fmt.Sprintf("snapshot: %s#run-%d\n", db, id), 1)
			want = strings.Replace(want, "compliant-mailbox (", "acme (", 1)
			if !strings.HasPrefix(show.stdout, want) {
				t.Errorf("show does not start with check's report:\n--- check (adjusted):\n%s\n--- show:\n%s", want, show.stdout)
			}

			checkJSON := parseJSON(t, ticketguard(t, "check", "--format", "json", "--now", fx.at[id], snap))
			showJSON := parseJSON(t, ticketguard(t, "show", "acme", "--store", db, "--run", fmt.Sprint(id), "--format", "json"))
			if len(showJSON.Tenants) != 1 || len(checkJSON.Tenants) != 1 {
				t.Fatalf("tenants: check %d, show %d", len(checkJSON.Tenants), len(showJSON.Tenants))
			}
			if !reflect.DeepEqual(showJSON.Tenants[0].Results, checkJSON.Tenants[0].Results) ||
				!reflect.DeepEqual(showJSON.Tenants[0].Summary, checkJSON.Tenants[0].Summary) {
				t.Errorf("results differ:\ncheck %+v\nshow  %+v", checkJSON.Tenants[0], showJSON.Tenants[0])
			}
			if showJSON.ExitCode != checkJSON.ExitCode {
				t.Errorf("exit_code: show %d, check %d", showJSON.ExitCode, checkJSON.ExitCode)
			}
		})
	}
}

func TestShowLatestRunWithDrift(t *testing.T) {
	db, fx := historyStore(t)
	latest := fx.acme[3]
	r := ticketguard(t, "show", "acme", "--store", db)
	if r.code != fx.exitFor(latest) {
		t.Fatalf("want exit %d:\n%s", fx.exitFor(latest), r)
	}
	for _, want := range []string{
		fmt.Sprintf("snapshot: %s#run-%d\n", db, latest),
		"acme (e2d419ac-3af9-4da2-831c-750e799ecd60) collected 2026-11-30 06:00 UTC",
		"WARN forwarding-keeps-copy",
		fmt.Sprintf("\nDrift since run %d: 1 object changed, 0 added, 0 removed\n\n", fx.acme[1]),
		"outbound anti-spam policy \"Atera ticket forwarding\"\n  AutoForwardingMode \"Off\" → \"On\"\n",
		fmt.Sprintf("\nDrift since the baseline, run %d: 1 object changed, 0 added, 0 removed\n\n", fx.acme[0]),
		"mailbox \"Support\" <support@contosodental.com>\n  DeliverToMailboxAndForward true → false\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, r.stdout)
		}
	}
	// The drift follows the report, the previous run before the baseline.
	iResult, iPrev, iBase := strings.Index(r.stdout, "Result: exit"), strings.Index(r.stdout, "Drift since run"), strings.Index(r.stdout, "Drift since the baseline")
	if iResult >= iPrev || iPrev >= iBase {
		t.Errorf("sections out of order:\n%s", r.stdout)
	}

	// The first run has nothing to compare with, and says so.
	r = ticketguard(t, "show", "acme", "--store", db, "--run", fmt.Sprint(fx.acme[0]))
	if !strings.Contains(r.stdout, "Drift: none to show: no earlier snapshot of acme is stored.") {
		t.Errorf("first run's drift:\n%s", r.stdout)
	}
}

type showJSON struct {
	ExitCode int `json:"exit_code"`
	Tenants  []struct {
		Name     string `json:"name"`
		TenantID string `json:"tenant_id"`
		Snapshot string `json:"snapshot"`
	} `json:"tenants"`
	Run struct {
		ID          int64  `json:"id"`
		Tenant      string `json:"tenant"`
		StartedAt   string `json:"started_at"`
		Outcome     string `json:"outcome"`
		Requests    int    `json:"requests"`
		HasSnapshot bool   `json:"has_snapshot"`
	} `json:"run"`
	Drift []struct {
		Against    string `json:"against"`
		AgainstRun *int64 `json:"against_run"`
		Kind       string `json:"kind"`
		Property   string `json:"property"`
		Change     string `json:"change"`
		Before     any    `json:"before"`
		After      any    `json:"after"`
	} `json:"drift"`
}

func TestShowJSON(t *testing.T) {
	db, fx := historyStore(t)
	r := ticketguard(t, "show", "acme", "--store", db, "--format", "json")
	var got showJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r)
	}
	latest := fx.acme[3]
	if r.code != fx.exitFor(latest) || got.ExitCode != r.code {
		t.Errorf("exit %d, exit_code %d, want %d", r.code, got.ExitCode, fx.exitFor(latest))
	}
	if len(got.Tenants) != 1 || got.Tenants[0].Name != "acme" || got.Tenants[0].TenantID != "e2d419ac-3af9-4da2-831c-750e799ecd60" {
		t.Errorf("tenants = %+v", got.Tenants)
	}
	if got.Run.ID != latest || got.Run.Tenant != "acme" || got.Run.StartedAt != fx.at[latest] || got.Run.Outcome != "ok" ||
		got.Run.Requests != 57 || !got.Run.HasSnapshot {
		t.Errorf("run = %+v", got.Run)
	}
	if len(got.Drift) != 2 {
		t.Fatalf("drift = %+v, want one change against the previous run and one against the baseline", got.Drift)
	}
	prev, base := got.Drift[0], got.Drift[1]
	if prev.Against != "previous" || prev.AgainstRun == nil || *prev.AgainstRun != fx.acme[1] ||
		prev.Property != "AutoForwardingMode" || prev.Before != "Off" || prev.After != "On" {
		t.Errorf("drift against the previous run = %+v", prev)
	}
	if base.Against != "baseline" || base.AgainstRun == nil || *base.AgainstRun != fx.acme[0] ||
		base.Kind != "mailbox" || base.Property != "DeliverToMailboxAndForward" || base.Before != true || base.After != false {
		t.Errorf("drift against the baseline = %+v", base)
	}

	// No drift is [], not null or absent.
	r = ticketguard(t, "show", "acme", "--store", db, "--format", "json", "--run", fmt.Sprint(fx.acme[0]))
	var first map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &first); err != nil || string(first["drift"]) != "[]" {
		t.Errorf("first run's drift = %s (%v)", first["drift"], err)
	}
}

func TestShowSARIFAndJUnit(t *testing.T) {
	db, fx := historyStore(t)
	broken := fmt.Sprint(fx.acme[1])
	r := ticketguard(t, "show", "acme", "--store", db, "--run", broken, "--format", "sarif")
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 {
		t.Fatalf("not SARIF 2.1.0 (%v):\n%s", err, r)
	}
	rules := map[string]string{}
	for _, res := range sarif.Runs[0].Results {
		rules[res.RuleID] = res.Level
	}
	if rules["external-forwarding"] != "error" {
		t.Errorf("SARIF results %v lack the failing external-forwarding", rules)
	}
	if r.code != fx.exitFor(fx.acme[1]) || r.code != 1 {
		t.Errorf("exit %d, want 1 (external-forwarding fails)", r.code)
	}

	r = ticketguard(t, "show", "acme", "--store", db, "--run", broken, "--format", "junit")
	var junit struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &junit); err != nil || len(junit.Suites) != 1 || junit.Suites[0].Name != "acme" || junit.Failures != 1 {
		t.Errorf("JUnit (%v): %+v\n%s", err, junit, r)
	}
	if strings.Contains(r.stdout, "Drift") {
		t.Errorf("drift text in a JUnit report:\n%s", r.stdout)
	}
}

func TestShowExitPolicy(t *testing.T) {
	db, fx := historyStore(t)
	latest := fx.acme[3] // a warning, no failure
	if fx.stat[latest]["forwarding-keeps-copy"] != "warn" || fx.exitFor(latest) != 0 {
		t.Fatalf("fixture: run %d statuses %v", latest, fx.stat[latest])
	}
	if r := ticketguard(t, "show", "acme", "--store", db, "--fail-on", "warning"); r.code != 1 {
		t.Errorf("--fail-on warning with a warning: want exit 1:\n%s", r)
	}
	if r := ticketguard(t, "show", "acme", "--store", db); r.code != 0 {
		t.Errorf("a warning under --fail-on error: want exit 0:\n%s", r)
	}
}

func TestShowOutputFile(t *testing.T) {
	db, fx := historyStore(t)
	out := filepath.Join(t.TempDir(), "report.json")
	r := ticketguard(t, "show", "acme", "--store", db, "--run", fmt.Sprint(fx.acme[1]), "--format", "json", "--output", out)
	if r.code != 1 || r.stdout != "" {
		t.Errorf("want exit 1 and nothing on stdout:\n%s", r)
	}
	data, err := os.ReadFile(out)
	var got showJSON
	if err != nil || json.Unmarshal(data, &got) != nil || got.Run.ID != fx.acme[1] || len(got.Drift) != 2 {
		t.Errorf("report file (%v):\n%s", err, data)
	}
}

// A run that collected nothing has no results: never an empty report that
// exits 0.
func TestShowFailedRun(t *testing.T) {
	db, fx := historyStore(t)
	r := ticketguard(t, "show", "acme", "--store", db, "--run", fmt.Sprint(fx.acme[2]))
	if r.code != 3 || r.stdout != "" || !strings.Contains(r.stderr, "has no check results") || !strings.Contains(r.stderr, failedRunError) {
		t.Errorf("want exit 3, the run's error, nothing on stdout:\n%s", r)
	}
}

func TestShowUnknownTenantRunOrStore(t *testing.T) {
	db, fx := historyStore(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "nope", "--store", db}, `unknown tenant "nope": ` + db + " has runs of acme, zeta"},
		{[]string{"show", "acme", "--store", db, "--run", "9999"}, "no run 9999 in " + db},
		{[]string{"show", "acme", "--store", db, "--run", fmt.Sprint(fx.zeta)}, fmt.Sprintf("run %d is a run of zeta, not of acme", fx.zeta)},
		{[]string{"show", "acme", "--store", filepath.Join(t.TempDir(), "none.db")}, "no history yet"},
	} {
		r := ticketguard(t, tc.args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit 2 and %q:\n%s", tc.args[1:], tc.want, r)
		}
	}
}
