package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
)

// viewQuery evaluates the drift view of policies/lib/drift: everything the
// checks read, keyed by resolved identity, in canonical form.
const viewQuery = "view := data.ticketguard.lib.drift.view"

// errNoView: the compiled policies have no drift library (only possible with
// a fixture tree in tests, or a broken build).
var errNoView = errors.New("data.ticketguard.lib.drift.view is undefined: the built-in drift library is missing")

// prepareQuery prepares one of the engine's secondary queries (the drift
// view, the collection plan) against its compiler and store. Load wires each
// through a sync.OnceValues, so `check` runs, which need neither, do not pay
// for them. The background context is deliberate: the prepared query is
// shared, so one caller's cancellation must not poison it for the others.
func prepareQuery(c *ast.Compiler, store storage.Store, what, query string) (rego.PreparedEvalQuery, error) {
	pq, err := rego.New(rego.Compiler(c), rego.Store(store), rego.Query(query)).
		PrepareForEval(context.Background())
	if err != nil {
		return rego.PreparedEvalQuery{}, fmt.Errorf("prepare %s query: %w", what, err)
	}
	return pq, nil
}

// View evaluates the canonical drift view of one normalised snapshot (the
// same value Evaluate takes): an object key -> {"kind", "label", "sources",
// "properties"}, as documented at the top of policies/lib/drift/drift.rego.
// Two snapshots of an unchanged tenant give equal views; internal/drift
// compares them. Numbers are json.Number. The view does not depend on the
// evaluation time, so none is taken.
func (e *Engine) View(ctx context.Context, snapshot map[string]any) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("drift view: %w", err)
	}
	pq, err := e.view()
	if err != nil {
		return nil, err
	}
	input, err := ast.InterfaceToValue(map[string]any{"snapshot": snapshot})
	if err != nil {
		return nil, fmt.Errorf("convert snapshot to Rego input: %w", err)
	}
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return nil, fmt.Errorf("drift view: %w", err)
	}
	if len(rs) == 0 {
		return nil, errNoView
	}
	view, ok := rs[0].Bindings["view"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("drift view: want an object, got %s", typeName(rs[0].Bindings["view"]))
	}
	return view, nil
}
