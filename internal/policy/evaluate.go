package policy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/ticketguard/ticketguard/internal/result"
)

// outcome is what evaluating one check produced: its raw findings value, or
// the runtime error that stopped it.
type outcome struct {
	value any // the findings document; nil when undefined
	err   error
}

// Evaluate runs every check against one normalised snapshot (the Rego
// input's `snapshot`) at the evaluation time now, and returns one result per
// catalogue check, in catalogue order. A check that breaks at runtime or
// returns malformed findings is indeterminate; the error return is kept for
// cancellation and for input that cannot be turned into Rego.
func (e *Engine) Evaluate(ctx context.Context, snapshot map[string]any, now time.Time) ([]result.CheckResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate policies: %w", err)
	}
	input, err := ast.InterfaceToValue(map[string]any{
		"snapshot": snapshot,
		"now":      now.UTC().Format(time.RFC3339),
		"now_ns":   now.UnixNano(),
	})
	if err != nil {
		return nil, fmt.Errorf("convert snapshot to Rego input: %w", err)
	}
	outcomes, err := e.evaluate(ctx, input)
	if err != nil {
		return nil, err
	}
	results := make([]result.CheckResult, len(e.checks))
	for i, d := range e.checks {
		results[i] = checkResult(d.check, outcomes[i])
	}
	return results, nil
}

// evaluate runs the combined query. A runtime error (conflicting values, a
// type error) in one check fails the whole query; then every check is
// evaluated on its own so that only the broken ones become indeterminate.
func (e *Engine) evaluate(ctx context.Context, input ast.Value) ([]outcome, error) {
	outcomes := make([]outcome, len(e.checks))
	rs, err := e.all.Eval(ctx, rego.EvalParsedInput(input))
	if err == nil {
		if len(rs) > 0 {
			byKey, _ := rs[0].Bindings["findings"].(map[string]any)
			for key, v := range byKey {
				if i, ok := e.byKey[key]; ok {
					outcomes[i].value = v
				}
			}
		}
		return outcomes, nil
	}
	if cancelled(ctx, err) {
		return nil, fmt.Errorf("evaluate policies: %w", err)
	}

	for i := range e.checks {
		pq, err := e.single[i]()
		if err != nil {
			return nil, fmt.Errorf("prepare query for check %s: %w", e.checks[i].check.ID, err)
		}
		rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
		switch {
		case cancelled(ctx, err):
			return nil, fmt.Errorf("evaluate policies: %w", err)
		case err != nil:
			outcomes[i].err = err
		case len(rs) > 0:
			outcomes[i].value = rs[0].Bindings["findings"]
		}
	}
	return outcomes, nil
}

func cancelled(ctx context.Context, err error) bool {
	return err != nil && (ctx.Err() != nil || topdown.IsCancel(err))
}

// checkResult validates a check's findings and aggregates them.
func checkResult(chk result.Check, o outcome) result.CheckResult {
	var findings []result.Finding
	if o.err != nil {
		findings = []result.Finding{{
			Status:  result.Indeterminate,
			Message: fmt.Sprintf("check %s failed to evaluate: %v", chk.ID, o.err),
		}}
	} else {
		findings = toFindings(chk.ID, o.value)
	}
	status, msg := aggregate(chk.Severity, findings)
	return result.CheckResult{Check: chk, Status: status, Message: msg, Findings: findings}
}

// toFindings converts the findings document (a set, which arrives as an
// array) and enforces the finding contract. A malformed finding becomes an
// indeterminate one that says so: it must never count as a pass.
func toFindings(id string, v any) []result.Finding {
	if v == nil {
		return []result.Finding{}
	}
	items, ok := v.([]any)
	if !ok {
		return []result.Finding{brokeContract(id, v, "findings must be a set of objects, got "+typeName(v))}
	}
	out := make([]result.Finding, 0, len(items))
	for _, item := range items {
		out = append(out, toFinding(id, item))
	}
	slices.SortFunc(out, compareFindings)
	return slices.CompactFunc(out, func(a, b result.Finding) bool { return a == b })
}

func toFinding(id string, item any) result.Finding {
	obj, ok := item.(map[string]any)
	if !ok {
		return brokeContract(id, item, "a finding must be an object, got "+typeName(item))
	}
	var f result.Finding
	if r, present := obj["resource"]; present {
		s, ok := r.(string)
		if !ok {
			return brokeContract(id, item, "resource must be a string, got "+typeName(r))
		}
		f.Resource = s
	}
	st, _ := obj["status"].(string)
	switch result.Status(st) {
	case result.Pass, result.Fail, result.Indeterminate, result.NotApplicable:
		f.Status = result.Status(st)
	default:
		f = brokeContract(id, item, fmt.Sprintf("status must be one of pass, fail, indeterminate, not_applicable, got %s", describe(obj["status"])))
		f.Resource = resourceOf(obj)
		return f
	}
	msg, ok := obj["message"].(string)
	if !ok || strings.TrimSpace(msg) == "" {
		res := brokeContract(id, item, "message must be a non-empty string, got "+describe(obj["message"]))
		res.Resource = f.Resource
		return res
	}
	f.Message = msg
	return f
}

func brokeContract(id string, item any, why string) result.Finding {
	return result.Finding{
		Status:  result.Indeterminate,
		Message: fmt.Sprintf("check %s broke the findings contract: %s (finding: %s)", id, why, excerpt(item)),
	}
}

func resourceOf(obj map[string]any) string {
	s, _ := obj["resource"].(string)
	return s
}

// describe names a value in a contract message: its JSON, or "nothing" when
// the key is absent.
func describe(v any) string {
	if v == nil {
		return "nothing"
	}
	return excerpt(v)
}

// excerpt is a short JSON rendering of v for messages.
func excerpt(v any) string {
	const maxLen = 200
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > maxLen {
		return string(b[:maxLen]) + "..."
	}
	return string(b)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64:
		return "a number"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// statusRank orders findings the way a reader wants them: problems first.
func statusRank(s result.Status) int {
	switch s {
	case result.Fail:
		return 0
	case result.Indeterminate:
		return 1
	case result.Pass:
		return 2
	default:
		return 3
	}
}

func compareFindings(a, b result.Finding) int {
	return cmp.Or(
		cmp.Compare(statusRank(a.Status), statusRank(b.Status)),
		strings.Compare(a.Resource, b.Resource),
		strings.Compare(a.Message, b.Message),
	)
}

// noFindingMessage: a check that says nothing has not shown anything holds.
const noFindingMessage = "the check produced no finding"

// aggregate decides a check's status from its findings, as DESIGN.md fixes
// it: any fail -> fail (warn for a warning-severity check); else any
// indeterminate -> indeterminate; else any pass -> pass; else all
// not_applicable -> not_applicable; no findings -> indeterminate, so a check
// can never pass by saying nothing. The message is the first deciding
// finding's, with a count of the others of the same status.
func aggregate(sev result.Severity, findings []result.Finding) (result.Status, string) {
	if len(findings) == 0 {
		return result.Indeterminate, noFindingMessage
	}
	first := 0
	for i, f := range findings {
		if statusRank(f.Status) < statusRank(findings[first].Status) {
			first = i
		}
	}
	decider := findings[first].Status
	n := 0
	for _, f := range findings {
		if f.Status == decider {
			n++
		}
	}
	msg := findings[first].Message
	if n > 1 {
		msg = fmt.Sprintf("%s (and %d more)", msg, n-1)
	}
	if decider == result.Fail && sev == result.SeverityWarning {
		return result.Warn, msg
	}
	return decider, msg
}
