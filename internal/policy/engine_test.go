package policy

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// The engine tests run against fixture policies (testdata/builtin stands in
// for the embedded tree), so they test the engine, not the built-in checks.

var fixtureNow = time.Date(2026, 11, 27, 7, 0, 0, 0, time.FixedZone("CET", 3600))

func fixtureFS() fs.FS { return os.DirFS("testdata/builtin") }

func loadFixture(t *testing.T, customDirs ...string) *Engine {
	t.Helper()
	e, err := load(context.Background(), fixtureFS(), Options{CustomDirs: customDirs})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return e
}

func resultByID(t *testing.T, rs []result.CheckResult, id string) result.CheckResult {
	t.Helper()
	for _, r := range rs {
		if r.Check.ID == id {
			return r
		}
	}
	t.Fatalf("no result for check %s", id)
	return result.CheckResult{}
}

func TestCatalogue(t *testing.T) {
	e := loadFixture(t, "testdata/custom/ok")

	var ids []string
	for _, c := range e.Catalogue() {
		ids = append(ids, c.ID)
	}
	if want := []string{"boom", "clock", "echo", "raw-findings", "warn-echo"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("catalogue ids = %v, want %v", ids, want)
	}

	echo, ok := e.Lookup("echo")
	want := result.Check{
		ID:          "echo",
		Title:       "Echo",
		Description: "Reports the findings listed in input.snapshot.echo, so tests can drive aggregation.",
		Severity:    result.SeverityError,
		Remediation: "Nothing to do.\nIt is a fixture.",
		Source:      "engine fixture",
		Package:     "ticketguard.checks.echo",
		File:        "policies/checks/echo/echo.rego",
		BuiltIn:     true,
	}
	if !ok || echo != want {
		t.Errorf("Lookup(echo) = %+v, %v\nwant %+v", echo, ok, want)
	}

	custom, ok := e.Lookup("warn-echo")
	if !ok || custom.BuiltIn || custom.File != "testdata/custom/ok/warn_echo.rego" ||
		custom.Severity != result.SeverityWarning || custom.Package != "ticketguard.checks.warn_echo" {
		t.Errorf("Lookup(warn-echo) = %+v, %v; want a custom warning check from testdata/custom/ok/warn_echo.rego", custom, ok)
	}
	if _, ok := e.Lookup("nope"); ok {
		t.Error("Lookup(nope) found a check")
	}

	// The catalogue is a copy: callers cannot change the engine.
	e.Catalogue()[0].ID = "changed"
	if e.Catalogue()[0].ID != "boom" {
		t.Error("Catalogue returned the engine's own slice")
	}
}

func TestEvaluateResultsInCatalogueOrder(t *testing.T) {
	e := loadFixture(t, "testdata/custom/ok")
	rs, err := e.Evaluate(context.Background(), map[string]any{}, fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	cat := e.Catalogue()
	if len(rs) != len(cat) {
		t.Fatalf("%d results for %d checks", len(rs), len(cat))
	}
	for i := range rs {
		if rs[i].Check != cat[i] {
			t.Errorf("result %d is for %s, want %s", i, rs[i].Check.ID, cat[i].ID)
		}
	}
}

func TestEvaluateInputTimeAndFacts(t *testing.T) {
	e := loadFixture(t)
	rs, err := e.Evaluate(context.Background(), map[string]any{}, fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	got := resultByID(t, rs, "clock")
	// now is passed in UTC, RFC 3339; now_ns is the same instant.
	want := "now=2026-11-27T06:00:00Z now_ns=1795759200000000000 word=tangerine"
	if got.Status != result.Pass || got.Message != want {
		t.Errorf("clock = %s %q, want pass %q", got.Status, got.Message, want)
	}
}

func f(status, msg, resource string) map[string]any {
	m := map[string]any{"status": status, "message": msg}
	if resource != "" {
		m["resource"] = resource
	}
	return m
}

func TestEvaluateAggregation(t *testing.T) {
	e := loadFixture(t, "testdata/custom/ok")
	tests := []struct {
		name      string
		check     string // echo (severity error) or warn-echo (severity warning)
		findings  any    // the check's findings; nil: the key is absent
		status    result.Status
		message   string
		nFindings int
	}{
		{"no key: no finding", "echo", nil, result.Indeterminate, "the check produced no finding", 0},
		{"empty set: no finding", "echo", []any{}, result.Indeterminate, "the check produced no finding", 0},
		{"one pass", "echo", []any{f("pass", "contact found", "contact:a")}, result.Pass, "contact found", 1},
		{"several passes", "echo", []any{f("pass", "b ok", "b"), f("pass", "a ok", "a")}, result.Pass, "a ok (and 1 more)", 2},
		{"fail wins over pass", "echo", []any{f("pass", "a ok", "a"), f("fail", "b broken", "b")}, result.Fail, "b broken", 2},
		{"fail wins over indeterminate", "echo", []any{f("indeterminate", "x missing", ""), f("fail", "b broken", "b"), f("fail", "c broken", "c")}, result.Fail, "b broken (and 1 more)", 3},
		{"indeterminate wins over pass", "echo", []any{f("pass", "a ok", "a"), f("indeterminate", "Get-Mailbox was not collected", "")}, result.Indeterminate, "Get-Mailbox was not collected", 2},
		{"pass wins over not applicable", "echo", []any{f("not_applicable", "no smtp", ""), f("pass", "a ok", "")}, result.Pass, "a ok", 2},
		{"all not applicable", "echo", []any{f("not_applicable", "no custom smtp", "")}, result.NotApplicable, "no custom smtp", 1},
		{"warning severity fails as warn", "warn-echo", []any{f("fail", "via tag on", "policy:x"), f("pass", "ok", "")}, result.Warn, "via tag on", 2},
		{"warning severity passes", "warn-echo", []any{f("pass", "ok", "")}, result.Pass, "ok", 1},
		{"warning severity, no finding", "warn-echo", []any{}, result.Indeterminate, "the check produced no finding", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := map[string]any{}
			key := strings.ReplaceAll(tt.check, "-", "_")
			if tt.findings != nil {
				snap[key] = tt.findings
			}
			rs, err := e.Evaluate(context.Background(), snap, fixtureNow)
			if err != nil {
				t.Fatal(err)
			}
			got := resultByID(t, rs, tt.check)
			if got.Status != tt.status || got.Message != tt.message {
				t.Errorf("got %s %q, want %s %q", got.Status, got.Message, tt.status, tt.message)
			}
			if len(got.Findings) != tt.nFindings {
				t.Errorf("got %d findings %+v, want %d", len(got.Findings), got.Findings, tt.nFindings)
			}
			if got.Findings == nil {
				t.Error("Findings is nil; want an empty list so JSON shows []")
			}
		})
	}
}

func TestEvaluateFindingsSortedProblemsFirst(t *testing.T) {
	e := loadFixture(t)
	rs, err := e.Evaluate(context.Background(), map[string]any{"echo": []any{
		f("pass", "p", "z"), f("not_applicable", "n", ""), f("fail", "f2", "b"), f("indeterminate", "i", ""), f("fail", "f1", "a"),
	}}, fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	got := resultByID(t, rs, "echo").Findings
	want := []result.Finding{
		{Status: result.Fail, Message: "f1", Resource: "a"},
		{Status: result.Fail, Message: "f2", Resource: "b"},
		{Status: result.Indeterminate, Message: "i"},
		{Status: result.Pass, Message: "p", Resource: "z"},
		{Status: result.NotApplicable, Message: "n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings = %+v\nwant %+v", got, want)
	}
}

func TestEvaluateMalformedFindings(t *testing.T) {
	e := loadFixture(t, "testdata/custom/ok")
	tests := []struct {
		name     string
		findings any
		status   result.Status
		want     string // in the result message
	}{
		{"unknown status", []any{f("ok", "fine", "")}, result.Indeterminate, `status must be one of pass, fail, indeterminate, not_applicable, got "ok"`},
		{"warn is not a finding status", []any{f("warn", "fine", "")}, result.Indeterminate, `got "warn"`},
		{"missing status", []any{map[string]any{"message": "fine"}}, result.Indeterminate, "got nothing"},
		{"missing message", []any{map[string]any{"status": "pass"}}, result.Indeterminate, "message must be a non-empty string, got nothing"},
		{"empty message", []any{f("pass", "  ", "")}, result.Indeterminate, "message must be a non-empty string"},
		{"message not a string", []any{map[string]any{"status": "pass", "message": 3}}, result.Indeterminate, "message must be a non-empty string, got 3"},
		{"resource not a string", []any{map[string]any{"status": "pass", "message": "m", "resource": []any{"a"}}}, result.Indeterminate, "resource must be a string, got an array"},
		{"finding not an object", []any{"pass"}, result.Indeterminate, "a finding must be an object, got a string"},
		// A broken finding next to a passing one must not let the check pass.
		{"malformed beside a pass", []any{f("pass", "fine", ""), f("PASS", "also fine", "")}, result.Indeterminate, "broke the findings contract"},
		// A real failure still decides the status.
		{"malformed beside a fail", []any{f("fail", "broken", ""), f("bad", "x", "")}, result.Warn, "broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := e.Evaluate(context.Background(), map[string]any{"warn_echo": tt.findings}, fixtureNow)
			if err != nil {
				t.Fatal(err)
			}
			got := resultByID(t, rs, "warn-echo")
			if got.Status != tt.status || !strings.Contains(got.Message, tt.want) {
				t.Errorf("got %s %q, want %s containing %q", got.Status, got.Message, tt.status, tt.want)
			}
			if tt.status == result.Indeterminate && !strings.Contains(got.Message, "check warn-echo broke the findings contract") {
				t.Errorf("message %q does not name the check and the contract", got.Message)
			}
		})
	}
}

func TestEvaluateFindingsNotASet(t *testing.T) {
	e := loadFixture(t, "testdata/custom/ok")
	tests := []struct {
		raw  any
		want string
	}{
		{"pass", "check raw-findings broke the findings contract: findings must be a set of objects, got a string"},
		{map[string]any{"status": "pass", "message": "m"}, "findings must be a set of objects, got an object"},
		{nil, "the check produced no finding"}, // undefined findings
	}
	for _, tt := range tests {
		snap := map[string]any{}
		if tt.raw != nil {
			snap["raw"] = tt.raw
		}
		rs, err := e.Evaluate(context.Background(), snap, fixtureNow)
		if err != nil {
			t.Fatal(err)
		}
		got := resultByID(t, rs, "raw-findings")
		if got.Status != result.Indeterminate || !strings.Contains(got.Message, tt.want) {
			t.Errorf("raw %v: got %s %q, want indeterminate containing %q", tt.raw, got.Status, got.Message, tt.want)
		}
	}
}

func TestEvaluateRuntimeErrorIsIsolated(t *testing.T) {
	e := loadFixture(t, "testdata/custom/ok")
	snap := map[string]any{"boom": true, "echo": []any{f("fail", "echo failed", "")}}
	rs, err := e.Evaluate(context.Background(), snap, fixtureNow)
	if err != nil {
		t.Fatalf("Evaluate returned %v; a broken check must not fail the run", err)
	}
	boom := resultByID(t, rs, "boom")
	if boom.Status != result.Indeterminate ||
		!strings.Contains(boom.Message, "check boom failed to evaluate") ||
		!strings.Contains(boom.Message, "testdata/custom/ok/sub/boom.rego:") ||
		!strings.Contains(boom.Message, "eval_conflict_error") {
		t.Errorf("boom = %s %q; want indeterminate naming the file and the conflict", boom.Status, boom.Message)
	}
	// The other checks still report what they found.
	if got := resultByID(t, rs, "echo"); got.Status != result.Fail || got.Message != "echo failed" {
		t.Errorf("echo = %s %q, want fail %q", got.Status, got.Message, "echo failed")
	}
	if got := resultByID(t, rs, "clock"); got.Status != result.Pass {
		t.Errorf("clock = %s %q, want pass", got.Status, got.Message)
	}

	// Without the trigger the same engine evaluates boom normally.
	rs, err = e.Evaluate(context.Background(), map[string]any{}, fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := resultByID(t, rs, "boom"); got.Status != result.Pass || got.Message != "no boom" {
		t.Errorf("boom without trigger = %s %q, want pass", got.Status, got.Message)
	}
}

func TestEvaluateCancelled(t *testing.T) {
	e := loadFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Evaluate(ctx, map[string]any{}, fixtureNow); err == nil {
		t.Fatal("Evaluate with a cancelled context returned no error")
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	e := loadFixture(t, "testdata/custom/ok")
	snaps := []map[string]any{
		{"echo": []any{f("pass", "a", "")}},
		{"echo": []any{f("fail", "b", "")}, "boom": true},
		{"warn_echo": []any{f("fail", "c", "")}},
	}
	want := make([][]result.CheckResult, len(snaps))
	for i, s := range snaps {
		rs, err := e.Evaluate(context.Background(), s, fixtureNow)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = rs
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 20 {
				i := (g + n) % len(snaps)
				rs, err := e.Evaluate(context.Background(), snaps[i], fixtureNow)
				if err != nil {
					t.Error(err)
					return
				}
				if !reflect.DeepEqual(rs, want[i]) {
					t.Errorf("concurrent Evaluate of snapshot %d differs", i)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		dirs   []string
		kind   ProblemKind
		custom bool
		want   []string // each must appear in the error text
	}{
		{
			name: "type error", dirs: []string{"testdata/custom/compile-error"}, kind: KindCompile, custom: true,
			want: []string{"custom policy failed to compile: testdata/custom/compile-error/foo.rego:12: rego_type_error: plus: invalid argument(s)", "want: (x: number, y: number"},
		},
		{
			name: "rego v0 syntax", dirs: []string{"testdata/custom/parse-error"}, kind: KindCompile, custom: true,
			want: []string{"custom policy failed to compile", "testdata/custom/parse-error/old.rego:4: rego_parse_error: `if` keyword is required before rule body"},
		},
		{
			name: "no METADATA", dirs: []string{"testdata/custom/no-metadata"}, kind: KindContract, custom: true,
			want: []string{"custom policy breaks the check contract: testdata/custom/no-metadata/x.rego:1: check package ticketguard.checks.no_meta has no METADATA block"},
		},
		{
			name: "invalid METADATA", dirs: []string{"testdata/custom/bad-metadata"}, kind: KindContract, custom: true,
			want: []string{
				"testdata/custom/bad-metadata/x.rego:3: check package ticketguard.checks.bad_meta: METADATA custom.id \"Bad_ID\" is invalid",
				"testdata/custom/bad-metadata/x.rego:3: check package ticketguard.checks.bad_meta: METADATA custom.severity \"critical\" is invalid: want error or warning",
				"testdata/custom/bad-metadata/x.rego:3: check package ticketguard.checks.bad_meta: METADATA custom.remediation is missing",
			},
		},
		{
			name: "no findings rule", dirs: []string{"testdata/custom/no-findings"}, kind: KindContract, custom: true,
			want: []string{"testdata/custom/no-findings/x.rego:7: check package ticketguard.checks.no_findings has no \"findings\" rule"},
		},
		{
			name: "duplicate id", dirs: []string{"testdata/custom/duplicate-id"}, kind: KindContract, custom: true,
			want: []string{"testdata/custom/duplicate-id/b.rego:1: duplicate check id \"dup\": already declared by package ticketguard.checks.dup_a in testdata/custom/duplicate-id/a.rego:1"},
		},
		{
			name: "id of a built-in check", dirs: []string{"testdata/custom/builtin-id"}, kind: KindContract, custom: true,
			want: []string{"testdata/custom/builtin-id/my_echo.rego:1: duplicate check id \"echo\": already declared by package ticketguard.checks.echo in policies/checks/echo/echo.rego:1"},
		},
		{
			name: "reserved packages", dirs: []string{"testdata/custom/reserved"}, kind: KindContract, custom: true,
			want: []string{
				"testdata/custom/reserved/echo_extra.rego:2: package ticketguard.checks.echo is a built-in package",
				"testdata/custom/reserved/lib.rego:1: package ticketguard.lib.mine is reserved for built-in policies",
			},
		},
		{
			name: "nested check package", dirs: []string{"testdata/custom/nested"}, kind: KindContract, custom: true,
			want: []string{"testdata/custom/nested/x.rego:1: package ticketguard.checks.foo.bar is nested below a check package"},
		},
		{
			name: "missing directory", dirs: []string{"testdata/custom/does-not-exist"}, kind: KindInput, custom: true,
			want: []string{"custom policy could not be read: testdata/custom/does-not-exist: no such file or directory"},
		},
		{
			name: "directory without rego", dirs: []string{"testdata/custom/empty"}, kind: KindInput, custom: true,
			want: []string{"testdata/custom/empty: no .rego files found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(context.Background(), fixtureFS(), Options{CustomDirs: tt.dirs})
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("load error = %v, want a *LoadError", err)
			}
			if le.Kind != tt.kind || le.Custom != tt.custom {
				t.Errorf("kind %s custom %v, want %s %v", le.Kind, le.Custom, tt.kind, tt.custom)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadSkipsTestsHiddenDirsAndOtherFiles(t *testing.T) {
	// testdata/custom/ok holds a _test.rego without METADATA, a .hidden
	// directory with invalid Rego and a README: loading succeeds only if all
	// three are left out of evaluation.
	e := loadFixture(t, "testdata/custom/ok", "testdata/custom/ok/sub")
	if _, ok := e.Lookup("warn-echo"); !ok {
		t.Fatal("custom check warn-echo not loaded")
	}
}

func TestRunTests(t *testing.T) {
	var out bytes.Buffer
	sum, err := runTests(context.Background(), fixtureFS(), Options{CustomDirs: []string{"testdata/custom/ok"}}, true, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.OK() || sum.Passed != 6 || sum.Failed != 0 {
		t.Errorf("summary = %+v, want 6 passed (built-in fixture and custom tests)\n%s", sum, &out)
	}
	for _, w := range []string{
		"policies/checks/echo/echo_test.rego:",
		"data.ticketguard.checks.warn_echo_test.test_pass_echoes: PASS",
		"PASS: 6/6",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output does not contain %q:\n%s", w, &out)
		}
	}
}

func TestRunTestsReportsFailures(t *testing.T) {
	var out bytes.Buffer
	sum, err := runTests(context.Background(), fixtureFS(), Options{CustomDirs: []string{"testdata/custom/failing-test"}}, false, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK() || sum.Failed != 1 || sum.Passed != 5 {
		t.Errorf("summary = %+v, want 5 passed and 1 failed", sum)
	}
	if want := []string{"acme.failing_test.test_fail_broken"}; !reflect.DeepEqual(sum.Failures, want) {
		t.Errorf("failures = %v, want %v", sum.Failures, want)
	}
	if !strings.Contains(out.String(), "FAIL: 1/6") {
		t.Errorf("output lacks the opa test summary:\n%s", &out)
	}
}

func TestRunTestsCompileError(t *testing.T) {
	_, err := runTests(context.Background(), fixtureFS(), Options{CustomDirs: []string{"testdata/custom/compile-error"}}, false, &bytes.Buffer{})
	var le *LoadError
	if !errors.As(err, &le) || !le.Custom || !strings.Contains(err.Error(), "testdata/custom/compile-error/foo.rego:12: rego_type_error") {
		t.Errorf("err = %v, want a custom compile error at foo.rego:12", err)
	}
}

// writePolicy writes one custom policy file into a fresh directory and
// returns the directory and the file's name as errors spell it.
func writePolicy(t *testing.T, name, text string) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.ToSlash(path)
}

// A check whose package is not under ticketguard.checks is never evaluated:
// loading it silently would look like a check that passes.
func TestLoadCheckIDOutsideChecksPackage(t *testing.T) {
	for _, pkg := range []string{"mycompany.checks.my_check", "ticketguard.check.my_check", "my_check"} {
		t.Run(pkg, func(t *testing.T) {
			dir, file := writePolicy(t, "my_check.rego", `# METADATA
# title: My check
# custom:
#   id: my-check
#   severity: error
#   remediation: Fix it.
package `+pkg+`

findings contains {"status": "fail", "message": "broken"}
`)
			_, err := load(context.Background(), fixtureFS(), Options{CustomDirs: []string{dir}})
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("load error = %v, want a *LoadError", err)
			}
			if le.Kind != KindContract || !le.Custom {
				t.Errorf("kind %s custom %v, want contract true", le.Kind, le.Custom)
			}
			want := file + `:1: METADATA declares check id "my-check" but package ` + pkg +
				" is not under ticketguard.checks: the check would never run (name the package ticketguard.checks.my_check)"
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not contain %q:\n%v", want, err)
			}
		})
	}
}

// Library code outside ticketguard.checks without a check id stays allowed.
func TestLoadLibraryPackageWithMetadata(t *testing.T) {
	dir, _ := writePolicy(t, "lib.rego", `# METADATA
# title: Helpers
# description: A documented library package.
package mycompany.lib

double(x) := 2 * x
`)
	if _, err := load(context.Background(), fixtureFS(), Options{CustomDirs: []string{dir}}); err != nil {
		t.Fatalf("load: %v", err)
	}
}

// Checks must give the same result for the same snapshot and must not reach
// out of the process: the builtins that read the clock, the network, the
// environment or a random source do not compile, in checks or in `policy test`.
func TestLoadRejectsNonDeterministicBuiltins(t *testing.T) {
	tests := []struct {
		call string
		why  string
	}{
		{`http.send({"method": "GET", "url": "https://example.com"})`, "reaches the network"},
		{`net.lookup_ip_addr("example.com")`, "reaches the network"},
		{`opa.runtime()`, "reads the process environment"},
		{`time.now_ns()`, "use input.now"},
		{`rand.intn("x", 10)`, "is random"},
		{`uuid.rfc4122("x")`, "is random"},
	}
	for _, tt := range tests {
		name, _, _ := strings.Cut(tt.call, "(")
		t.Run(name, func(t *testing.T) {
			dir, file := writePolicy(t, "sneaky.rego", `# METADATA
# title: Sneaky
# custom:
#   id: sneaky
#   severity: error
#   remediation: None.
package ticketguard.checks.sneaky

findings contains f if {
	x := `+tt.call+`
	f := {"status": "pass", "message": sprintf("%v", [x])}
}
`)
			for _, run := range []struct {
				what string
				load func() error
			}{
				{"load", func() error {
					_, err := load(context.Background(), fixtureFS(), Options{CustomDirs: []string{dir}})
					return err
				}},
				{"policy test", func() error {
					_, err := runTests(context.Background(), fixtureFS(), Options{CustomDirs: []string{dir}}, false, &bytes.Buffer{})
					return err
				}},
			} {
				err := run.load()
				var le *LoadError
				if !errors.As(err, &le) {
					t.Fatalf("%s: error = %v, want a *LoadError", run.what, err)
				}
				if le.Kind != KindCompile || !le.Custom {
					t.Errorf("%s: kind %s custom %v, want compile true", run.what, le.Kind, le.Custom)
				}
				for _, w := range []string{file + ":10: ", name + " is not available to ticketguard policies", "checks must be reproducible", tt.why} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error does not contain %q:\n%v", run.what, w, err)
					}
				}
			}
		})
	}
}

// A custom test that mocks a removed builtin gets the same explanation.
func TestRunTestsMockingForbiddenBuiltin(t *testing.T) {
	dir, file := writePolicy(t, "clock_test.rego", `package acme.clock_test

import data.ticketguard.checks.echo

test_mocked_clock if {
	echo.findings with time.now_ns as 1
}
`)
	_, err := runTests(context.Background(), fixtureFS(), Options{CustomDirs: []string{dir}}, false, &bytes.Buffer{})
	var le *LoadError
	if !errors.As(err, &le) || le.Kind != KindCompile || !le.Custom {
		t.Fatalf("err = %v, want a custom compile error", err)
	}
	for _, w := range []string{file + ":6: ", "time.now_ns is not available to ticketguard policies", "use input.now"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}
