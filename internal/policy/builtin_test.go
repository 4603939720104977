package policy

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// These tests hold the embedded policies (package policies) to the contract.
// `go test ./...` is how CI runs the Rego unit tests; no opa binary needed.

// documentedChecks is the check list of the README / issue: every one must
// ship, and nothing else.
var documentedChecks = []string{
	"atera-ip-allowlist",
	"delivery-failures",
	"email-tickets-arriving",
	"external-forwarding",
	"external-forwarding-scope",
	"forwarding-keeps-copy",
	"group-external-senders",
	"group-owner",
	"send-as",
	"single-redirect",
	"smtp-basic-auth",
	"smtp-login",
	"smtp-settings",
	"support-route",
	"ticketing-contact",
	"via-tag",
}

// neverPasses lists checks that by definition cannot pass: smtp-basic-auth
// is "always a warning" whenever it applies (the check table). Their
// "nothing to report" test is test_not_applicable_ instead of test_pass_.
var neverPasses = map[string]bool{"smtp-basic-auth": true}

// TestBuiltinRegoTests runs every embedded *_test.rego, as `opa test
// policies/` would, and names each failing Rego test.
func TestBuiltinRegoTests(t *testing.T) {
	results, err := regoTests(context.Background(), builtinFS(), Options{}, false)
	if err != nil {
		t.Fatalf("compile built-in policies with their tests: %v", err)
	}
	if len(results) == 0 {
		t.Fatal("no Rego tests found in the embedded policies")
	}
	for _, r := range results {
		if r.Pass() || r.Skip {
			continue
		}
		where := ""
		if r.Location != nil {
			where = fmt.Sprintf("%s:%d: ", r.Location.File, r.Location.Row)
		}
		if r.Error != nil {
			t.Errorf("%sRego test %s.%s: error: %v", where, r.Package, r.Name, r.Error)
			continue
		}
		t.Errorf("%sRego test %s.%s failed", where, r.Package, r.Name)
		for path, sr := range r.SubResults.Iter {
			if sr.Fail && len(sr.SubResults) == 0 {
				t.Errorf("    case %s failed", strings.Join(path, "/"))
			}
		}
	}
	sum := summarise(results)
	t.Logf("Rego tests: %d passed, %d failed, %d errored, %d skipped", sum.Passed, sum.Failed, sum.Errored, sum.Skipped)
}

// TestBuiltinStrictCompile is `opa check --strict policies/`: every embedded
// module, tests included, compiles in strict mode.
func TestBuiltinStrictCompile(t *testing.T) {
	srcs, err := builtinSources(builtinFS())
	if err != nil {
		t.Fatal(err)
	}
	mods, err := parse(srcs, true)
	if err != nil {
		t.Fatal(err)
	}
	c := newCompiler()
	if c.Compile(mods); c.Failed() {
		t.Fatal(compileErrors(c.Errors, srcs))
	}
}

// TestBuiltinCheckDirectories: one directory per check, named by its id,
// holding the check and a test file with at least one test_pass_ and one
// test_fail_ test.
func TestBuiltinCheckDirectories(t *testing.T) {
	fsys := builtinFS()
	dirs, err := fs.ReadDir(fsys, "checks")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			t.Errorf("checks/%s: only check directories belong in checks/", d.Name())
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			dir := path.Join("checks", d.Name())
			files, err := fs.Glob(fsys, dir+"/*_test.rego")
			if err != nil {
				t.Fatal(err)
			}
			if len(files) == 0 {
				t.Fatalf("%s has no *_test.rego", dir)
			}
			var pass, fail, notApplicable bool
			for _, file := range files {
				text, err := fs.ReadFile(fsys, file)
				if err != nil {
					t.Fatal(err)
				}
				m, err := ast.ParseModuleWithOpts(file, string(text), parseOptions)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range m.Rules {
					name := r.Head.Ref()[0].String()
					pass = pass || strings.HasPrefix(name, "test_pass_")
					fail = fail || strings.HasPrefix(name, "test_fail_")
					notApplicable = notApplicable || strings.HasPrefix(name, "test_not_applicable_")
				}
			}
			switch {
			case neverPasses[d.Name()] && !notApplicable:
				t.Errorf("%s: no test_not_applicable_ test (this check never passes)", dir)
			case !neverPasses[d.Name()] && !pass:
				t.Errorf("%s: no test_pass_ test", dir)
			}
			if !fail {
				t.Errorf("%s: no test_fail_ test", dir)
			}
		})
	}
}

// TestBuiltinCatalogue loads the real engine: the catalogue is exactly the
// documented checks, each in checks/<id>/ and package
// ticketguard.checks.<id with - as _>.
func TestBuiltinCatalogue(t *testing.T) {
	e, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range e.Catalogue() {
		ids = append(ids, c.ID)
		if !c.BuiltIn {
			t.Errorf("%s: not marked built-in", c.ID)
		}
		if want := "policies/checks/" + c.ID + "/"; !strings.HasPrefix(c.File, want) {
			t.Errorf("%s: METADATA in %s, want it under %s", c.ID, c.File, want)
		}
		if want := "ticketguard.checks." + strings.ReplaceAll(c.ID, "-", "_"); c.Package != want {
			t.Errorf("%s: package %s, want %s", c.ID, c.Package, want)
		}
		if c.Description == "" || c.Source == "" {
			t.Errorf("%s: METADATA lacks description or custom.source", c.ID)
		}
	}
	if !slices.Equal(ids, documentedChecks) {
		t.Errorf("catalogue = %v\nwant       %v", ids, documentedChecks)
	}
}
