// Package result holds what an evaluation produces: the status of every check
// for every tenant, and the exit code a CI pipeline acts on. Writers in
// internal/report render it; nothing here does I/O.
package result

import (
	"time"
)

// Status is the outcome of one check for one tenant.
type Status string

const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	Warn          Status = "warn" // a failed check of severity warning
	Indeterminate Status = "indeterminate"
	NotApplicable Status = "not_applicable"
	Waived        Status = "waived"
)

// Severity of a check, from its METADATA.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Finding is one statement a check makes about the tenant, as the Rego
// `findings` set returns it.
type Finding struct {
	Status   Status `json:"status"`
	Message  string `json:"message"`
	Resource string `json:"resource,omitempty"`
}

// Check describes a check from its METADATA: the catalogue entry.
type Check struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Severity    Severity `json:"severity"`
	Remediation string   `json:"remediation"`
	Source      string   `json:"source,omitempty"`
	// Package is the Rego package path, e.g. "ticketguard.checks.send_as".
	Package string `json:"package"`
	// File is where the check is defined (embedded path or the user's file).
	File    string `json:"file,omitempty"`
	BuiltIn bool   `json:"built_in"`
}

// Waiver records the waiver that applied to a result (or expired on it).
type Waiver struct {
	Reason   string `json:"reason"`
	Expires  string `json:"expires"` // YYYY-MM-DD
	Resource string `json:"resource,omitempty"`
	Expired  bool   `json:"expired"`
	// Status is what the check would report without the waiver.
	Status Status `json:"status"`
}

// CheckResult is the outcome of one check for one tenant.
type CheckResult struct {
	Check    Check     `json:"check"`
	Status   Status    `json:"status"`
	Message  string    `json:"message"`
	Findings []Finding `json:"findings"`
	Waiver   *Waiver   `json:"waiver,omitempty"`
	// Baseline is the status on the unpatched snapshot when --patch is used;
	// empty otherwise.
	Baseline Status `json:"baseline_status,omitempty"`
}

// Changed reports whether a --patch changed this check's status.
func (r CheckResult) Changed() bool { return r.Baseline != "" && r.Baseline != r.Status }

// SourceError is a collection error carried in the snapshot.
type SourceError struct {
	Source  string `json:"source"`
	Message string `json:"message"`
}

// Tenant is the evaluation of one snapshot.
type Tenant struct {
	Name        string        `json:"name"`
	TenantID    string        `json:"tenant_id,omitempty"`
	Snapshot    string        `json:"snapshot"` // file it came from
	CollectedAt time.Time     `json:"collected_at"`
	Patched     bool          `json:"patched,omitempty"`
	Results     []CheckResult `json:"results"`
	Errors      []SourceError `json:"errors,omitempty"`
}

// Summary counts results by status.
func (t Tenant) Summary() map[Status]int {
	s := map[Status]int{}
	for _, r := range t.Results {
		s[r.Status]++
	}
	return s
}

// Report is everything one invocation evaluated.
type Report struct {
	EvaluatedAt time.Time `json:"evaluated_at"`
	Tenants     []Tenant  `json:"tenants"`
}

// Exit codes, documented in the README.
const (
	ExitOK            = 0
	ExitFailed        = 1
	ExitUsage         = 2
	ExitIndeterminate = 3
)

// ExitPolicy decides which results fail a run.
type ExitPolicy struct {
	// FailOn is the lowest severity whose failure fails the run.
	FailOn             Severity
	AllowIndeterminate bool
}

// ExitCode maps the report to the process exit code: 1 when a check failed at or
// above FailOn, else 3 when something was indeterminate (unless allowed), else 0.
// Waived and not-applicable results never fail a run.
func (r *Report) ExitCode(p ExitPolicy) int {
	failed, indeterminate := false, false
	for _, t := range r.Tenants {
		for _, res := range t.Results {
			switch res.Status {
			case Fail:
				failed = true
			case Warn:
				if p.FailOn == SeverityWarning {
					failed = true
				}
			case Indeterminate:
				indeterminate = true
			}
		}
	}
	switch {
	case failed:
		return ExitFailed
	case indeterminate && !p.AllowIndeterminate:
		return ExitIndeterminate
	default:
		return ExitOK
	}
}
