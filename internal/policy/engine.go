// Package policy is ticketguard's Rego engine and the only package that
// imports OPA. It compiles the embedded policies (and the user's --policies
// directories) once, reads every check's METADATA into the catalogue,
// evaluates a snapshot with one prepared query and turns each check's
// findings into a check result. It also runs the Rego unit tests.
package policy

import (
	"context"
	"fmt"
	"io/fs"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/policies"
)

// Options configures which policies are loaded besides the built-in ones.
type Options struct {
	// CustomDirs are the user's --policies directories (or single .rego
	// files). Every *.rego below them except *_test.rego is evaluated.
	CustomDirs []string
}

// allQuery collects every check's findings in one evaluation, keyed by the
// check package's last segment.
const allQuery = `findings := {p: f | f := data.ticketguard.checks[p].findings}`

// Engine evaluates snapshots against the compiled checks. It is built once
// per process by Load and is safe for concurrent use.
type Engine struct {
	checks []checkDef     // sorted by id
	byID   map[string]int // id -> index in checks
	byKey  map[string]int // package key -> index in checks
	all    rego.PreparedEvalQuery
	// one lazily prepared query per check, used only when the combined
	// query hits a runtime error, to find which check is broken.
	single []func() (rego.PreparedEvalQuery, error)
	// the drift view query (view.go), prepared on first use.
	view func() (rego.PreparedEvalQuery, error)
	// the collection plan query (plan.go), prepared on first use.
	plan func() (rego.PreparedEvalQuery, error)
}

// Load compiles the built-in policies and the custom ones in strict mode,
// builds the catalogue from METADATA and prepares the evaluation query. A
// policy that does not compile or breaks the check contract is a *LoadError
// naming file and line. Call it once and share the Engine.
func Load(ctx context.Context, opts Options) (*Engine, error) {
	return load(ctx, builtinFS(), opts)
}

// builtinFS is the embedded policy tree: lib/, checks/ and data/.
func builtinFS() fs.FS { return policies.FS }

// load is Load with the built-in tree as a parameter, so the engine can be
// tested against small fixture policies.
func load(ctx context.Context, builtin fs.FS, opts Options) (*Engine, error) {
	srcs, err := allSources(builtin, opts)
	if err != nil {
		return nil, err
	}
	mods, err := parse(srcs, false)
	if err != nil {
		return nil, err
	}
	c := newCompiler()
	if c.Compile(mods); c.Failed() {
		return nil, compileErrors(c.Errors, srcs)
	}
	defs, err := catalogue(c, srcs)
	if err != nil {
		return nil, err
	}
	store, err := newStore(builtin)
	if err != nil {
		return nil, err
	}

	all, err := rego.New(
		rego.Compiler(c),
		rego.Store(store),
		rego.Query(allQuery),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare policy query: %w", err)
	}

	e := &Engine{
		checks: defs,
		byID:   make(map[string]int, len(defs)),
		byKey:  make(map[string]int, len(defs)),
		all:    all,
		single: make([]func() (rego.PreparedEvalQuery, error), len(defs)),
		view:   sync.OnceValues(func() (rego.PreparedEvalQuery, error) { return prepareQuery(c, store, "drift view", viewQuery) }),
		plan:   sync.OnceValues(func() (rego.PreparedEvalQuery, error) { return prepareQuery(c, store, "collection plan", planQuery) }),
	}
	for i, d := range defs {
		e.byID[d.check.ID] = i
		e.byKey[d.key] = i
		query := "findings := " + d.path.Append(ast.StringTerm(findingsRule)).String()
		e.single[i] = sync.OnceValues(func() (rego.PreparedEvalQuery, error) {
			// Background context: the prepared query is cached and shared,
			// so one caller's cancellation must not poison it for others.
			return rego.New(rego.Compiler(c), rego.Store(store), rego.Query(query)).
				PrepareForEval(context.Background())
		})
	}
	return e, nil
}

// allSources reads the built-in policies and the user's.
func allSources(builtin fs.FS, opts Options) ([]source, error) {
	srcs, err := builtinSources(builtin)
	if err != nil {
		return nil, err
	}
	custom, err := customSources(opts.CustomDirs)
	if err != nil {
		return nil, err
	}
	return append(srcs, custom...), nil
}

// Catalogue returns every check, built-in and custom, sorted by id.
func (e *Engine) Catalogue() []result.Check {
	out := make([]result.Check, len(e.checks))
	for i, d := range e.checks {
		out[i] = d.check
	}
	return out
}

// Lookup returns the check with that id.
func (e *Engine) Lookup(id string) (result.Check, bool) {
	i, ok := e.byID[id]
	if !ok {
		return result.Check{}, false
	}
	return e.checks[i].check, true
}
