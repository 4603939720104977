package policy

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"
)

// testTimeout bounds one Rego test, as `opa test` does by default.
const testTimeout = 5 * time.Second

// TestSummary counts the Rego unit tests of one RunTests call.
type TestSummary struct {
	Passed  int
	Failed  int
	Errored int
	Skipped int
	// Failures names every failed or errored test as package.rule (with the
	// test case for parameterised tests), in file order.
	Failures []string
}

// OK reports whether tests ran and none failed or errored.
func (s TestSummary) OK() bool {
	return s.Failed == 0 && s.Errored == 0 && s.Passed > 0
}

// RunTests compiles the built-in and custom policies with their *_test.rego
// files (strict mode, as for evaluation) and runs every test_ rule, printing
// the report `opa test` prints to w (every test when verbose, otherwise the
// failures and the summary). A policy that does not compile is a *LoadError;
// failing tests are counted in the summary, not returned as an error.
func RunTests(ctx context.Context, opts Options, verbose bool, w io.Writer) (TestSummary, error) {
	return runTests(ctx, builtinFS(), opts, verbose, w)
}

func runTests(ctx context.Context, builtin fs.FS, opts Options, verbose bool, w io.Writer) (TestSummary, error) {
	results, err := regoTests(ctx, builtin, opts, verbose)
	if err != nil {
		return TestSummary{}, err
	}
	ch := make(chan *tester.Result, len(results))
	for _, r := range results {
		ch <- r
	}
	close(ch)
	rep := tester.PrettyReporter{Output: w, Verbose: verbose, FailureLine: verbose}
	if err := rep.Report(ch); err != nil {
		return TestSummary{}, fmt.Errorf("report Rego tests: %w", err)
	}
	return summarise(results), nil
}

// regoTests runs the tests and returns the results sorted by file and line,
// so the report reads in source order whatever order they finished in.
func regoTests(ctx context.Context, builtin fs.FS, opts Options, trace bool) ([]*tester.Result, error) {
	srcs, err := allSources(builtin, opts)
	if err != nil {
		return nil, err
	}
	mods, err := parse(srcs, true)
	if err != nil {
		return nil, err
	}
	store, err := newStore(builtin)
	if err != nil {
		return nil, err
	}
	txn, err := store.NewTransaction(ctx, storage.TransactionParams{})
	if err != nil {
		return nil, fmt.Errorf("open policy store: %w", err)
	}
	defer store.Abort(ctx, txn)

	c := newCompiler().WithEnablePrintStatements(true)
	ch, err := tester.NewRunner().
		SetCompiler(c).
		SetStore(store).
		SetModules(mods).
		CapturePrintOutput(true).
		EnableTracing(trace).
		SetTimeout(testTimeout).
		RunTests(ctx, txn)
	if err != nil {
		if c.Failed() {
			return nil, compileErrors(c.Errors, srcs)
		}
		return nil, fmt.Errorf("run Rego tests: %w", err)
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run Rego tests: %w", err)
	}
	slices.SortFunc(results, func(a, b *tester.Result) int {
		if a.Location == nil || b.Location == nil {
			return strings.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name)
		}
		return cmp.Or(
			strings.Compare(a.Location.File, b.Location.File),
			cmp.Compare(a.Location.Row, b.Location.Row),
			strings.Compare(a.Name, b.Name),
		)
	})
	return results, nil
}

// summarise counts the results the way `opa test` does: a parameterised test
// counts once per case.
func summarise(results []*tester.Result) TestSummary {
	var s TestSummary
	for _, r := range results {
		name := strings.TrimPrefix(r.Package, "data.") + "." + r.Name
		switch {
		case r.Skip:
			s.Skipped++
		case r.Error != nil:
			s.Errored++
			s.Failures = append(s.Failures, fmt.Sprintf("%s (error: %v)", name, r.Error))
		case len(r.SubResults) > 0:
			for path, sr := range r.SubResults.Iter {
				if len(sr.SubResults) > 0 {
					continue
				}
				if sr.Fail {
					s.Failed++
					s.Failures = append(s.Failures, name+"/"+strings.Join(path, "/"))
				} else {
					s.Passed++
				}
			}
		case r.Fail:
			s.Failed++
			s.Failures = append(s.Failures, name)
		default:
			s.Passed++
		}
	}
	return s
}
