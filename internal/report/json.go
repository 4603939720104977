package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ticketguard/ticketguard/internal/result"
)

// JSONSchemaVersion is the version of the JSON output documented in
// docs/output.md. It changes only when a field is removed or changes meaning;
// new fields may be added within a version.
const JSONSchemaVersion = 1

// jsonWriter renders the documented, stable JSON schema. The types below are
// the schema: they are separate from internal/result so that a change to the
// internal model cannot silently change the output.
type jsonWriter struct{ opts Options }

type jsonReport struct {
	SchemaVersion int          `json:"schema_version"`
	Tool          string       `json:"tool"`
	ToolVersion   string       `json:"tool_version"`
	EvaluatedAt   string       `json:"evaluated_at"`
	Policy        jsonPolicy   `json:"policy"`
	ExitCode      int          `json:"exit_code"`
	Tenants       []jsonTenant `json:"tenants"`
}

type jsonPolicy struct {
	FailOn             string `json:"fail_on"`
	AllowIndeterminate bool   `json:"allow_indeterminate"`
}

type jsonTenant struct {
	Name        string            `json:"name"`
	TenantID    string            `json:"tenant_id"`
	Snapshot    string            `json:"snapshot"`
	CollectedAt *string           `json:"collected_at"`
	Patched     bool              `json:"patched"`
	Summary     map[string]int    `json:"summary"`
	Results     []jsonResult      `json:"results"`
	Errors      []jsonSourceError `json:"errors"`
}

type jsonResult struct {
	ID             string        `json:"id"`
	Title          string        `json:"title"`
	Severity       string        `json:"severity"`
	Status         string        `json:"status"`
	BaselineStatus string        `json:"baseline_status,omitempty"`
	Changed        *bool         `json:"changed,omitempty"`
	Message        string        `json:"message"`
	Findings       []jsonFinding `json:"findings"`
	Remediation    string        `json:"remediation"`
	Source         string        `json:"source"`
	BuiltIn        bool          `json:"built_in"`
	Waiver         *jsonWaiver   `json:"waiver,omitempty"`
}

type jsonFinding struct {
	Status   string `json:"status"`
	Message  string `json:"message"`
	Resource string `json:"resource,omitempty"`
}

type jsonWaiver struct {
	Reason   string `json:"reason"`
	Expires  string `json:"expires"`
	Resource string `json:"resource,omitempty"`
	Expired  bool   `json:"expired"`
	Status   string `json:"status"`
}

type jsonSourceError struct {
	Source  string `json:"source"`
	Message string `json:"message"`
}

// allStatuses are the keys of every summary, present even when zero so a
// consumer never has to treat a missing key as 0.
var allStatuses = []result.Status{
	result.Pass, result.Fail, result.Warn, result.Indeterminate, result.NotApplicable, result.Waived,
}

func (jw jsonWriter) Write(w io.Writer, r *result.Report) error {
	out := jsonReport{
		SchemaVersion: JSONSchemaVersion,
		Tool:          ToolName,
		ToolVersion:   jw.opts.ToolVersion,
		EvaluatedAt:   formatTime(r.EvaluatedAt),
		Policy: jsonPolicy{
			FailOn:             string(jw.opts.Policy.FailOn),
			AllowIndeterminate: jw.opts.Policy.AllowIndeterminate,
		},
		ExitCode: r.ExitCode(jw.opts.Policy),
		Tenants:  make([]jsonTenant, 0, len(r.Tenants)),
	}
	for _, t := range r.Tenants {
		out.Tenants = append(out.Tenants, toJSONTenant(t))
	}

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // messages quote addresses like <a@b>; keep them readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode json report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func toJSONTenant(t result.Tenant) jsonTenant {
	jt := jsonTenant{
		Name:     t.Name,
		TenantID: t.TenantID,
		Snapshot: t.Snapshot,
		Patched:  t.Patched,
		Summary:  map[string]int{},
		Results:  make([]jsonResult, 0, len(t.Results)),
		Errors:   make([]jsonSourceError, 0, len(t.Errors)),
	}
	if !t.CollectedAt.IsZero() {
		s := formatTime(t.CollectedAt)
		jt.CollectedAt = &s
	}
	for _, s := range allStatuses {
		jt.Summary[string(s)] = 0
	}
	for s, n := range t.Summary() {
		jt.Summary[string(s)] = n
	}
	for _, res := range t.Results {
		jt.Results = append(jt.Results, toJSONResult(res))
	}
	for _, e := range t.Errors {
		jt.Errors = append(jt.Errors, jsonSourceError{Source: e.Source, Message: e.Message})
	}
	return jt
}

func toJSONResult(res result.CheckResult) jsonResult {
	jr := jsonResult{
		ID:             res.Check.ID,
		Title:          res.Check.Title,
		Severity:       string(res.Check.Severity),
		Status:         string(res.Status),
		BaselineStatus: string(res.Baseline),
		Message:        res.Message,
		Findings:       make([]jsonFinding, 0, len(res.Findings)),
		Remediation:    res.Check.Remediation,
		Source:         res.Check.Source,
		BuiltIn:        res.Check.BuiltIn,
	}
	if res.Baseline != "" {
		changed := res.Changed()
		jr.Changed = &changed
	}
	for _, f := range res.Findings {
		jr.Findings = append(jr.Findings, jsonFinding{Status: string(f.Status), Message: f.Message, Resource: f.Resource})
	}
	if wv := res.Waiver; wv != nil {
		jr.Waiver = &jsonWaiver{
			Reason:   wv.Reason,
			Expires:  wv.Expires,
			Resource: wv.Resource,
			Expired:  wv.Expired,
			Status:   string(wv.Status),
		}
	}
	return jr
}
