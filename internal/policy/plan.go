package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/ticketguard/ticketguard/collectors"
)

// planQuery evaluates the collection plan of policies/lib/plan: the
// per-recipient data the checks still need and the partial snapshot lacks.
const planQuery = "wants := data.ticketguard.lib.plan.wants"

// errNoPlan: the compiled policies have no plan library (only possible with a
// fixture tree in tests, or a broken build).
var errNoPlan = errors.New("data.ticketguard.lib.plan.wants is undefined: the built-in plan library is missing")

// Plan evaluates what the live collector still has to fetch for one
// normalised partial snapshot (the value Evaluate takes: snapshot.Parse's
// Document.Data), as docs/DESIGN.md "What to collect" describes. The
// collector does not resolve identities itself: it asks the same Rego
// library the checks use, so it fetches exactly what they will read.
//
// A malformed answer is an error rather than an empty Wants: an empty Wants
// means "nothing more to fetch", and a broken plan must not read as that.
// The plan does not depend on the evaluation time, so none is taken.
func (e *Engine) Plan(ctx context.Context, snapshot map[string]any) (collectors.Wants, error) {
	if err := ctx.Err(); err != nil {
		return collectors.Wants{}, fmt.Errorf("collection plan: %w", err)
	}
	pq, err := e.plan()
	if err != nil {
		return collectors.Wants{}, err
	}
	input, err := ast.InterfaceToValue(map[string]any{"snapshot": snapshot})
	if err != nil {
		return collectors.Wants{}, fmt.Errorf("convert snapshot to Rego input: %w", err)
	}
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return collectors.Wants{}, fmt.Errorf("collection plan: %w", err)
	}
	if len(rs) == 0 {
		return collectors.Wants{}, errNoPlan
	}
	return decodeWants(rs[0].Bindings["wants"])
}

// decodeWants reads the plan's object. Every key the collector acts on must
// be an array of strings; keys it does not know are ignored, so the library
// may grow without breaking older collectors.
func decodeWants(v any) (collectors.Wants, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return collectors.Wants{}, fmt.Errorf("collection plan: want an object, got %s", typeName(v))
	}
	var w collectors.Wants
	fields := []struct {
		key string
		dst *[]string
	}{
		{"group_members", &w.GroupMembers},
		{"inbox_rules", &w.InboxRules},
		{"mailboxes", &w.Mailboxes},
		{"recipient_permissions", &w.RecipientPermissions},
		{"cas_mailboxes", &w.CASMailboxes},
	}
	for _, f := range fields {
		raw, present := obj[f.key]
		if !present {
			return collectors.Wants{}, fmt.Errorf("collection plan: %q is missing", f.key)
		}
		list, ok := raw.([]any)
		if !ok {
			return collectors.Wants{}, fmt.Errorf("collection plan: %q: want an array, got %s", f.key, typeName(raw))
		}
		for _, item := range list {
			s, ok := item.(string)
			if !ok {
				return collectors.Wants{}, fmt.Errorf("collection plan: %q: want strings, got %s", f.key, typeName(item))
			}
			*f.dst = append(*f.dst, s)
		}
	}
	return w, nil
}
