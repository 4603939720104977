package cli_test

// Black-box tests: TestMain builds the real binary once, and every test runs
// it as a CI pipeline would, from the repository root, asserting exit codes,
// stdout and stderr.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// now is the evaluation time of every run, so results are reproducible.
const now = "2026-11-27T06:00:00Z"

var (
	binary   string // built by TestMain
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "ticketguard-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "ticketguard")
	build := exec.Command("go", "build", "-o", binary, "./cmd/ticketguard")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/ticketguard: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

type run struct {
	code           int
	stdout, stderr string
}

// ticketguard runs the binary from the repository root.
func ticketguard(t *testing.T, args ...string) run {
	t.Helper()
	return ticketguardIn(t, repoRoot, args...)
}

// ticketguardIn runs the binary in dir (for paths relative to the working
// directory, such as the default store).
func ticketguardIn(t *testing.T, dir string, args ...string) run {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("run ticketguard %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return run{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r run) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s\n--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

type jsonResult struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	BaselineStatus string `json:"baseline_status"`
	Message        string `json:"message"`
	Findings       []struct {
		Status   string `json:"status"`
		Message  string `json:"message"`
		Resource string `json:"resource"`
	} `json:"findings"`
	Waiver *struct {
		Reason  string `json:"reason"`
		Expired bool   `json:"expired"`
		Status  string `json:"status"`
	} `json:"waiver"`
}

// The JSON report, as much of it as the tests read.
type jsonReport struct {
	SchemaVersion int `json:"schema_version"`
	ExitCode      int `json:"exit_code"`
	Tenants       []struct {
		Name     string         `json:"name"`
		Snapshot string         `json:"snapshot"`
		Patched  bool           `json:"patched"`
		Summary  map[string]int `json:"summary"`
		Results  []jsonResult   `json:"results"`
	} `json:"tenants"`
}

func parseJSON(t *testing.T, r run) jsonReport {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, r)
	}
	return rep
}

// statuses maps check id to status for tenant i.
func (rep jsonReport) statuses(i int) map[string]string {
	m := map[string]string{}
	for _, r := range rep.Tenants[i].Results {
		m[r.ID] = r.Status
	}
	return m
}

func tenantFile(name string) string { return filepath.Join("testdata", "tenants", name+".json") }

func needTenants(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(repoRoot, tenantFile(n))); err != nil {
			t.Skipf("testdata tenant %s not available yet: %v", n, err)
		}
	}
}

// expectedExit is result.Report.ExitCode with the default policy, restated
// so that the test does not trust the code it tests.
func expectedExit(statuses map[string]string) int {
	indeterminate := false
	for _, s := range statuses {
		switch s {
		case "fail":
			return 1
		case "indeterminate":
			indeterminate = true
		}
	}
	if indeterminate {
		return 3
	}
	return 0
}

func TestHelpShowsAnExample(t *testing.T) {
	for _, args := range [][]string{
		{"--help"},
		{"check", "--help"},
		{"policy", "--help"},
		{"policy", "list", "--help"},
		{"policy", "explain", "--help"},
		{"policy", "test", "--help"},
		{"version", "--help"},
		{"help", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := ticketguard(t, args...)
			_, examples, ok := strings.Cut(r.stdout, "Examples:\n")
			if r.code != 0 || !ok || !strings.Contains(examples, "  ticketguard ") {
				t.Errorf("want exit 0 and an Examples section:\n%s", r)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := ticketguard(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ticketguard ") {
		t.Errorf("version:\n%s", r)
	}
}

// Every realistic tenant in testdata/tenants has its expected statuses in
// testdata/expected; the binary must report exactly those and the matching
// exit code.
func TestCheckTenantsMatchExpectations(t *testing.T) {
	expected, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "expected", "*.json"))
	if len(expected) == 0 {
		t.Skip("testdata/expected not available yet")
	}
	tenants, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "tenants", "*.json"))
	if len(tenants) != len(expected) {
		t.Errorf("%d tenants but %d expected files: every tenant needs its expectations", len(tenants), len(expected))
	}
	ids := builtinIDs(t)
	for _, path := range expected {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]string
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			// An expectation for every built-in check and nothing else: a
			// new check must be thought through on every tenant.
			if listed := slices.Sorted(maps.Keys(want)); !slices.Equal(listed, ids) {
				t.Errorf("%s lists checks %v, want every built-in check %v", path, listed, ids)
			}
			r := ticketguard(t, "check", "--format", "json", "--now", now, tenantFile(name))
			rep := parseJSON(t, r)
			if len(rep.Tenants) != 1 {
				t.Fatalf("tenants = %d, want 1", len(rep.Tenants))
			}
			got := rep.statuses(0)
			for id, status := range want {
				if got[id] != status {
					t.Errorf("%s: %s = %q, want %q", name, id, got[id], status)
				}
			}
			for id, status := range got {
				if _, ok := want[id]; !ok {
					t.Errorf("%s: unexpected result %s = %q", name, id, status)
				}
			}
			if code := expectedExit(want); r.code != code || rep.ExitCode != code {
				t.Errorf("exit code %d (report says %d), want %d from the expected statuses", r.code, rep.ExitCode, code)
			}
			if r.stderr != "" {
				t.Errorf("unexpected stderr: %s", r.stderr)
			}
		})
	}
}

func TestCheckDirectoryEvaluatesEveryTenant(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "tenants", "*.json"))
	if len(files) == 0 {
		t.Skip("testdata/tenants not available yet")
	}
	r := ticketguard(t, "check", "--format", "json", "--now", now, "testdata/tenants")
	rep := parseJSON(t, r)
	if len(rep.Tenants) != len(files) {
		t.Errorf("tenants = %d, want %d (one per file)", len(rep.Tenants), len(files))
	}
	if r.code != 1 {
		t.Errorf("a directory with broken tenants must exit 1:\n%s", r)
	}
}

// SARIF and JUnit over every realistic tenant: the structure CI consumers
// rely on, on real evaluation output rather than a hand-made report.
func TestCheckSARIFAndJUnitOnAllTenants(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "tenants", "*.json"))
	if len(files) == 0 {
		t.Skip("testdata/tenants not available yet")
	}

	r := ticketguard(t, "check", "--format", "sarif", "--now", now, "testdata/tenants")
	rep, err := sarif.FromBytes([]byte(r.stdout))
	if err != nil {
		t.Fatalf("not SARIF: %v\n%s", err, r)
	}
	if err := rep.Validate(); err != nil {
		t.Fatalf("SARIF schema validation: %v", err)
	}
	ids := builtinIDs(t)
	run := rep.Runs[0]
	var rules []string
	for _, r := range run.Tool.Driver.Rules {
		if r.ID != nil {
			rules = append(rules, *r.ID)
		}
	}
	slices.Sort(rules)
	if !slices.Equal(rules, ids) {
		t.Errorf("SARIF rules = %v, want one per built-in check %v", rules, ids)
	}
	if len(run.Results) == 0 {
		t.Error("no SARIF results for the broken tenants")
	}
	for _, res := range run.Results {
		if res.Message == nil || res.Message.Text == nil || *res.Message.Text == "" || len(res.Locations) == 0 {
			t.Errorf("result %v lacks message or location", res.RuleID)
		}
	}

	r = ticketguard(t, "check", "--format", "junit", "--now", now, "testdata/tenants")
	var doc struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Tests int `xml:"tests,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	if len(doc.Suites) != len(files) || doc.Failures == 0 {
		t.Errorf("suites = %d (want %d), failures = %d", len(doc.Suites), len(files), doc.Failures)
	}
	for _, s := range doc.Suites {
		if s.Tests != len(ids) || len(s.Cases) != len(ids) {
			t.Errorf("suite has %d tests, want one per check (%d)", len(s.Cases), len(ids))
		}
	}
}

func TestCheckTextReport(t *testing.T) {
	needTenants(t, "compliant-group")
	r := ticketguard(t, "check", "--now", now, tenantFile("compliant-group"))
	if r.code != 0 {
		t.Fatalf("compliant tenant:\n%s", r)
	}
	first := strings.SplitN(r.stdout, "\n", 2)[0]
	if !strings.Contains(first, " collected ") || !strings.Contains(first, " pass") {
		t.Errorf("first line is not the tenant summary: %q", first)
	}
	if !strings.Contains(r.stdout, "PASS ticketing-contact: ") {
		t.Errorf("text report lacks the pass lines:\n%s", r.stdout)
	}
}

func TestCheckPatchShowsWhatBreaks(t *testing.T) {
	needTenants(t, "compliant-group")
	patch := filepath.Join("internal", "cli", "testdata", "patches", "automatic.json")

	r := ticketguard(t, "check", "--format", "json", "--now", now, "--patch", patch, tenantFile("compliant-group"))
	if r.code != 1 {
		t.Errorf("setting AutoForwardingMode to Automatic must fail the run:\n%s", r)
	}
	rep := parseJSON(t, r)
	tenant := rep.Tenants[0]
	if !tenant.Patched {
		t.Error("tenant not marked patched")
	}
	for _, res := range tenant.Results {
		if res.BaselineStatus == "" {
			t.Errorf("%s has no baseline_status", res.ID)
		}
		if res.ID == "external-forwarding" {
			if res.BaselineStatus != "pass" || res.Status != "fail" {
				t.Errorf("external-forwarding: %s → %s, want pass → fail", res.BaselineStatus, res.Status)
			}
			if !strings.Contains(res.Message, "Automatic") {
				t.Errorf("message does not name the value: %q", res.Message)
			}
		}
	}

	text := ticketguard(t, "check", "--now", now, "--patch", patch, tenantFile("compliant-group"))
	if !strings.Contains(text.stdout, "Changed by the patch:\n  external-forwarding: pass → fail\n") {
		t.Errorf("text report does not show the change first:\n%s", text)
	}
	if i, j := strings.Index(text.stdout, "Changed by the patch"), strings.Index(text.stdout, "FAIL external-forwarding"); i < 0 || j < 0 || i > j {
		t.Errorf("the change list must come before the results:\n%s", text.stdout)
	}

	// The snapshot file itself is untouched.
	again := ticketguard(t, "check", "--format", "json", "--now", now, tenantFile("compliant-group"))
	if s := parseJSON(t, again).statuses(0)["external-forwarding"]; s != "pass" {
		t.Errorf("after a patched run the unpatched snapshot reports %q", s)
	}
}

func TestCheckWaivers(t *testing.T) {
	needTenants(t, "compliant-group")
	patch := filepath.Join("internal", "cli", "testdata", "patches", "automatic.json")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tenant := tenantName(t, "compliant-group")

	active := write("active.yaml", fmt.Sprintf(waiverYAML, "external-forwarding", tenant, "Automatic accepted until the change window", "2027-01-31"))
	r := ticketguard(t, "check", "--format", "json", "--now", now, "--patch", patch, "--waivers", active, tenantFile("compliant-group"))
	rep := parseJSON(t, r)
	res := findResult(t, rep, "external-forwarding")
	if res.Status != "waived" || res.Waiver == nil || res.Waiver.Status != "fail" || res.Waiver.Reason == "" {
		t.Errorf("external-forwarding = %+v, want waived with the reason and would-be status fail", res)
	}
	if r.code != 0 {
		t.Errorf("a waived failure must not fail the run:\n%s", r)
	}

	expired := write("expired.yaml", fmt.Sprintf(waiverYAML, "external-forwarding", tenant, "old exception", "2026-01-31"))
	r = ticketguard(t, "check", "--format", "json", "--now", now, "--patch", patch, "--waivers", expired, tenantFile("compliant-group"))
	rep = parseJSON(t, r)
	res = findResult(t, rep, "external-forwarding")
	if res.Status != "fail" || res.Waiver == nil || !res.Waiver.Expired {
		t.Errorf("external-forwarding = %+v, want fail with an expired waiver", res)
	}
	if r.code != 1 {
		t.Errorf("an expired waiver must not hide the failure:\n%s", r)
	}
	if strings.Contains(r.stderr, "matched nothing") {
		t.Errorf("an expired waiver on a failing check is not unused:\n%s", r.stderr)
	}

	// Without the patch the check passes: the waiver is stale, and check says
	// so on stderr without changing the exit code or polluting the JSON.
	r = ticketguard(t, "check", "--format", "json", "--now", now, "--waivers", active, tenantFile("compliant-group"))
	parseJSON(t, r)
	if !strings.Contains(r.stderr, "waiver for check external-forwarding") || !strings.Contains(r.stderr, "matched nothing") {
		t.Errorf("an unused waiver must be reported on stderr, got:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, active+":") {
		t.Errorf("the unused-waiver warning must name the waivers file and line, got:\n%s", r.stderr)
	}
}

func findResult(t *testing.T, rep jsonReport, id string) jsonResult {
	t.Helper()
	for _, r := range rep.Tenants[0].Results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	panic("unreachable")
}

// tenantName reads the tenant name a waiver must match.
func tenantName(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, tenantFile(name)))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tenant struct{ Name string } `json:"tenant"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Tenant.Name == "" {
		t.Fatalf("%s: no tenant.name (%v)", name, err)
	}
	return doc.Tenant.Name
}

func TestCheckFailOnWarning(t *testing.T) {
	name := tenantWithOnly(t, "warn")
	def := ticketguard(t, "check", "--now", now, tenantFile(name))
	strict := ticketguard(t, "check", "--now", now, "--fail-on", "warning", tenantFile(name))
	if def.code != 0 {
		t.Errorf("%s has only warnings: default --fail-on error must exit 0:\n%s", name, def)
	}
	if strict.code != 1 {
		t.Errorf("%s has warnings: --fail-on warning must exit 1:\n%s", name, strict)
	}
	junit := ticketguard(t, "check", "--now", now, "--fail-on", "warning", "--format", "junit", tenantFile(name))
	var doc struct {
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(junit.stdout), &doc); err != nil || doc.Failures == 0 {
		t.Errorf("junit with --fail-on warning: failures=%d err=%v", doc.Failures, err)
	}
}

func TestCheckAllowIndeterminate(t *testing.T) {
	needTenants(t, "compliant-group")
	// Removing a cmdlet the checks need makes them indeterminate without
	// making anything fail.
	patch := filepath.Join("internal", "cli", "testdata", "patches", "remove-antiphish.json")
	r := ticketguard(t, "check", "--format", "json", "--now", now, "--patch", patch, tenantFile("compliant-group"))
	if r.code != 3 {
		t.Fatalf("missing data must exit 3:\n%s", r)
	}
	if s := findResult(t, parseJSON(t, r), "via-tag").Status; s != "indeterminate" {
		t.Errorf("via-tag = %s, want indeterminate", s)
	}
	r = ticketguard(t, "check", "--now", now, "--patch", patch, "--allow-indeterminate", tenantFile("compliant-group"))
	if r.code != 0 {
		t.Errorf("--allow-indeterminate must exit 0:\n%s", r)
	}
}

// A snapshot an MSP writes by hand from PowerShell has no live sections
// (graph, atera_api, smtp_probe): the checks that read them cannot know, so
// they are indeterminate and the run exits 3 unless the pipeline accepts
// that with --allow-indeterminate (testdata/README.md, offline-only).
// offline-only is compliant-custom-smtp without those sections, so every
// status that differs between the two is one of those checks.
func TestCheckOfflineSnapshotLiveChecksIndeterminate(t *testing.T) {
	needTenants(t, "offline-only", "compliant-custom-smtp")
	collected := parseJSON(t, ticketguard(t, "check", "--format", "json", "--now", now, tenantFile("compliant-custom-smtp"))).statuses(0)
	r := ticketguard(t, "check", "--format", "json", "--now", now, tenantFile("offline-only"))
	if r.code != 3 {
		t.Fatalf("a compliant snapshot without live sections must exit 3:\n%s", r)
	}
	rep := parseJSON(t, r)
	var live []string
	for _, res := range rep.Tenants[0].Results {
		if res.Status == collected[res.ID] {
			continue
		}
		live = append(live, res.ID)
		if res.Status != "indeterminate" {
			t.Errorf("%s = %s without live data (%s when collected), want indeterminate", res.ID, res.Status, collected[res.ID])
		}
		if !strings.Contains(res.Message, "not in the snapshot") {
			t.Errorf("%s does not say which data is missing: %q", res.ID, res.Message)
		}
	}
	if len(live) == 0 {
		t.Fatal("no check depends on the live sections: offline-only and compliant-custom-smtp report the same")
	}
	for _, flags := range [][]string{{"--allow-indeterminate"}, {"--allow-indeterminate", "--format", "json"}} {
		args := append([]string{"check", "--now", now}, flags...)
		r := ticketguard(t, append(args, tenantFile("offline-only"))...)
		if r.code != 0 {
			t.Errorf("--allow-indeterminate must exit 0 when only %v are indeterminate:\n%s", live, r)
		}
	}
}

// tenantWithOnly finds a testdata tenant whose expected statuses include
// want and nothing failing or indeterminate.
func tenantWithOnly(t *testing.T, want string) string {
	t.Helper()
	expected, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "expected", "*.json"))
	for _, path := range expected {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		var statuses []string
		for _, s := range m {
			statuses = append(statuses, s)
		}
		if slices.Contains(statuses, want) && !slices.Contains(statuses, "fail") && !slices.Contains(statuses, "indeterminate") {
			return strings.TrimSuffix(filepath.Base(path), ".json")
		}
	}
	t.Skipf("no testdata tenant with %s and no failure", want)
	return ""
}

func TestCheckOutputFile(t *testing.T) {
	needTenants(t, "compliant-group")
	out := filepath.Join(t.TempDir(), "report.sarif")
	r := ticketguard(t, "check", "--now", now, "--format", "sarif", "--output", out, tenantFile("compliant-group"))
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("with --output, stdout must be empty:\n%s", r)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	stdout := ticketguard(t, "check", "--now", now, "--format", "sarif", tenantFile("compliant-group"))
	if string(data) != stdout.stdout {
		t.Error("the file differs from the report printed to stdout")
	}
	var sarif struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &sarif); err != nil || sarif.Version != "2.1.0" {
		t.Errorf("output is not SARIF 2.1.0: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the report: %v", entries)
	}

	// A run that fails on bad input writes nothing.
	bad := filepath.Join(t.TempDir(), "bad.json")
	r = ticketguard(t, "check", "--output", bad, "internal/cli/testdata/bad/truncated.json")
	if r.code != 2 {
		t.Fatalf("bad input:\n%s", r)
	}
	if _, err := os.Stat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed run left a report at %s (%v)", bad, err)
	}
}

func TestBadInput(t *testing.T) {
	td := filepath.Join("internal", "cli", "testdata")
	good := tenantFile("compliant-group")
	tests := []struct {
		name string
		args []string
		// every string must appear in stderr
		want []string
		// needs the realistic tenants
		needsTenant bool
	}{
		{
			name: "truncated JSON",
			args: []string{filepath.Join(td, "bad", "truncated.json")},
			want: []string{"truncated.json", "unexpected end of input"},
		},
		{
			name: "wrong schema_version",
			args: []string{filepath.Join(td, "bad", "wrong-schema-version.json")},
			want: []string{"wrong-schema-version.json", "schema_version"},
		},
		{
			name: "cmdlet key holding a string",
			args: []string{filepath.Join(td, "bad", "cmdlet-string.json")},
			want: []string{"cmdlet-string.json", "Get-Mailbox", "string"},
		},
		{
			name:        "patch that does not apply",
			args:        []string{"--patch", filepath.Join(td, "patches", "does-not-apply.json"), good},
			want:        []string{"does-not-apply.json", "Get-NoSuchCmdlet"},
			needsTenant: true,
		},
		{
			name:        "unknown check id in waivers",
			args:        []string{"--waivers", filepath.Join(td, "bad", "waivers-unknown-check.yaml"), good},
			want:        []string{"waivers-unknown-check.yaml", "no-such-check"},
			needsTenant: true,
		},
		{
			name:        "custom policy that does not compile",
			args:        []string{"--policies", filepath.Join(td, "policies-broken"), good},
			want:        []string{"broken.rego:", "compile"},
			needsTenant: true,
		},
		{
			name: "every bad snapshot is reported at once",
			args: []string{filepath.Join(td, "bad", "truncated.json"), filepath.Join(td, "bad", "cmdlet-string.json")},
			want: []string{"truncated.json", "cmdlet-string.json"},
		},
		{
			name: "missing file",
			args: []string{filepath.Join(td, "bad", "no-such-file.json")},
			want: []string{"no-such-file.json"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.needsTenant {
				needTenants(t, "compliant-group")
			}
			for _, format := range []string{"text", "json"} {
				args := append([]string{"check", "--now", now, "--format", format}, tc.args...)
				r := ticketguard(t, args...)
				if r.code != 2 {
					t.Errorf("want exit 2:\n%s", r)
				}
				if r.stdout != "" {
					t.Errorf("bad input must produce no report on stdout:\n%s", r)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
					}
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"check"},
		{"check", "--format", "html", "x.json"},
		{"check", "--fail-on", "critical", "x.json"},
		{"check", "--now", "yesterday", "x.json"},
		{"check", "--no-such-flag", "x.json"},
		{"no-such-command"},
		{"policy", "no-such-command"},
		{"policy", "explain"},
		{"policy", "list", "--format", "yaml"},
		{"check", "--output", "/no/such/dir/report.json", "x.json"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
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

// builtinIDs are the ids of the built-in checks: one directory per check
// under policies/checks, named by its id (docs/DESIGN.md, "Layout"). Read
// from the tree, not from the binary, so that the catalogue the binary
// reports is checked against it rather than trusted.
func builtinIDs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot, "policies", "checks"))
	if err != nil {
		t.Fatalf("reading the built-in checks: %v", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) == 0 {
		t.Fatal("no built-in checks under policies/checks")
	}
	return ids
}

func TestPolicyList(t *testing.T) {
	r := ticketguard(t, "policy", "list")
	if r.code != 0 {
		t.Fatalf("policy list:\n%s", r)
	}
	if !strings.HasPrefix(r.stdout, "ID") || !strings.Contains(r.stdout, "SEVERITY") {
		t.Errorf("no table header:\n%s", r.stdout)
	}
	ids := builtinIDs(t)
	for _, id := range ids {
		if !strings.Contains(r.stdout, id+" ") {
			t.Errorf("policy list lacks %s", id)
		}
	}

	r = ticketguard(t, "policy", "list", "--format", "json", "--policies", "internal/cli/testdata/policies-custom")
	var checks []struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Severity string `json:"severity"`
		BuiltIn  bool   `json:"built_in"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &checks); err != nil {
		t.Fatalf("policy list --format json: %v\n%s", err, r)
	}
	found := map[string]bool{}
	var builtIn []string
	for _, c := range checks {
		found[c.ID] = true
		if c.Title == "" || (c.Severity != "error" && c.Severity != "warning") {
			t.Errorf("catalogue entry %+v lacks title or severity", c)
		}
		if c.ID == "contact-name" && c.BuiltIn {
			t.Error("the custom check is marked built-in")
		}
		if c.BuiltIn {
			builtIn = append(builtIn, c.ID)
		}
	}
	if !found["contact-name"] {
		t.Error("json catalogue lacks the custom check contact-name")
	}
	slices.Sort(builtIn)
	if !slices.Equal(builtIn, ids) {
		t.Errorf("built-in checks in the json catalogue = %v, want %v (policies/checks)", builtIn, ids)
	}
}

func TestPolicyExplain(t *testing.T) {
	r := ticketguard(t, "policy", "explain", "external-forwarding")
	if r.code != 0 {
		t.Fatalf("explain:\n%s", r)
	}
	for _, want := range []string{"external-forwarding: ", "Severity: error", "Why it matters:", "Remediation:", "AutoForwardingMode"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain lacks %q:\n%s", want, r.stdout)
		}
	}

	r = ticketguard(t, "policy", "explain", "no-such-check")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "no-such-check") || !strings.Contains(r.stderr, "ticketing-contact") {
		t.Errorf("unknown id must exit 2 listing the known ids:\n%s", r)
	}
}

func TestPolicyTest(t *testing.T) {
	r := ticketguard(t, "policy", "test", "internal/cli/testdata/policies-custom")
	if r.code != 0 {
		t.Errorf("built-in and custom Rego tests must pass:\n%s", r)
	}
	r = ticketguard(t, "policy", "test", "internal/cli/testdata/policies-failing-test")
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "test_fail_other_name_deliberately_wrong") {
		t.Errorf("a failing Rego test must exit 1 and be named:\n%s", r)
	}
	r = ticketguard(t, "policy", "test", "internal/cli/testdata/policies-broken")
	if r.code != 2 || !strings.Contains(r.stderr, "broken.rego:") {
		t.Errorf("a policy that does not compile must exit 2 naming the file:\n%s", r)
	}
}

func TestCustomPolicyIsEvaluated(t *testing.T) {
	needTenants(t, "compliant-group")
	r := ticketguard(t, "check", "--format", "json", "--now", now, "--policies", "internal/cli/testdata/policies-custom", tenantFile("compliant-group"))
	rep := parseJSON(t, r)
	if s := rep.statuses(0)["contact-name"]; s == "" {
		t.Errorf("the custom check contact-name has no result:\n%s", r)
	}
}

// waiverYAML is a waivers file with one entry: check, tenant, reason, expires.
const waiverYAML = `waivers:
  - check: %s
    tenant: %s
    reason: %s
    expires: %s
`
