// Package report renders a *result.Report in the output formats of
// `ticketguard check`: text for people, json for scripts, sarif for code
// scanning and junit for CI test tabs. One file per format; every writer
// renders into memory first and writes once, so a failed render never leaves
// half a report on the writer.
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ticketguard/ticketguard/internal/result"
)

// Tool facts shared by the formats that name the producer.
const (
	ToolName           = "ticketguard"
	ToolInformationURI = "https://github.com/ticketguard/ticketguard"
)

// Writer renders a report.
type Writer interface {
	Write(w io.Writer, r *result.Report) error
}

// Options configures every writer the same way, so that all formats agree
// with the process exit code on what failed.
type Options struct {
	// Policy is the exit policy of the run: a warning fails JUnit only when
	// FailOn is warning, an indeterminate result is skipped rather than an
	// error when AllowIndeterminate is set, and the text footer names the
	// exit code.
	Policy result.ExitPolicy
	// Catalogue lists every check that was evaluated (built-in and custom).
	// SARIF declares one rule per entry. When empty, the rules are taken
	// from the checks found in the results.
	Catalogue []result.Check
	// ToolVersion is the ticketguard version recorded in JSON and SARIF.
	ToolVersion string
	// BaseDir is the directory relative snapshot paths were given from and
	// SARIF's %SRCROOT%: a snapshot below it gets a URI relative to it (code
	// scanning resolves that against the checkout), any other an absolute
	// file:// URI. Empty: the current directory.
	BaseDir string
}

// Formats lists the accepted format names, for flag help and validation.
func Formats() []string { return []string{"text", "json", "sarif", "junit"} }

// Get returns the writer for a format name.
func Get(format string, opts Options) (Writer, error) {
	if opts.Policy.FailOn == "" {
		opts.Policy.FailOn = result.SeverityError
	}
	switch format {
	case "text":
		return textWriter{opts}, nil
	case "json":
		return jsonWriter{opts}, nil
	case "sarif":
		return sarifWriter{opts}, nil
	case "junit":
		return junitWriter{opts}, nil
	default:
		return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
}

// statusOrder is the order results are presented to a person: what needs
// action first.
var statusOrder = []result.Status{
	result.Fail, result.Warn, result.Indeterminate, result.Waived, result.Pass, result.NotApplicable,
}

func statusRank(s result.Status) int {
	if i := slices.Index(statusOrder, s); i >= 0 {
		return i
	}
	return len(statusOrder) // unknown statuses last, never hidden
}

// byStatus returns the results ordered by statusOrder, keeping the engine's
// order within one status.
func byStatus(results []result.CheckResult) []result.CheckResult {
	out := slices.Clone(results)
	slices.SortStableFunc(out, func(a, b result.CheckResult) int {
		return cmp.Compare(statusRank(a.Status), statusRank(b.Status))
	})
	return out
}

// findingRank orders the findings inside one result: the ones that decided
// the status first.
func findingsByStatus(fs []result.Finding) []result.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b result.Finding) int {
		return cmp.Compare(statusRank(a.Status), statusRank(b.Status))
	})
	return out
}

// failsRun reports whether a result's status fails the run under p, the
// same rule as result.Report.ExitCode.
func failsRun(s result.Status, p result.ExitPolicy) bool {
	return s == result.Fail || (s == result.Warn && p.FailOn == result.SeverityWarning)
}

// catalogue returns the rules to declare: opts.Catalogue, or else every
// distinct check seen in the report, in order of first appearance.
func catalogue(opts Options, r *result.Report) []result.Check {
	if len(opts.Catalogue) > 0 {
		return opts.Catalogue
	}
	var checks []result.Check
	seen := map[string]bool{}
	for _, t := range r.Tenants {
		for _, res := range t.Results {
			if !seen[res.Check.ID] {
				seen[res.Check.ID] = true
				checks = append(checks, res.Check)
			}
		}
	}
	return checks
}

// tenantLabel names a tenant for people: its name, else the snapshot file.
func tenantLabel(t result.Tenant) string {
	if t.Name != "" {
		return t.Name
	}
	return t.Snapshot
}

// decisive returns the findings that explain a result's status: the failing
// findings of a fail/warn, the indeterminate ones of an indeterminate result.
// A waived result is explained by the findings of the status it would have.
func decisive(res result.CheckResult) []result.Finding {
	status := res.Status
	if status == result.Waived && res.Waiver != nil {
		status = res.Waiver.Status
	}
	want := status
	if status == result.Warn {
		want = result.Fail // Rego findings know no "warn": severity makes it one
	}
	var out []result.Finding
	for _, f := range res.Findings {
		if f.Status == want {
			out = append(out, f)
		}
	}
	return out
}
