package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// textWriter renders the report for a person reading a terminal or a CI log:
// per tenant a summary line, what the patch changed, then the results with
// what needs action first. Plain text, no colour, no terminal detection, so
// the output is the same in a pipe, a file and a golden test.
type textWriter struct{ opts Options }

var textLabel = map[result.Status]string{
	result.Fail:          "FAIL",
	result.Warn:          "WARN",
	result.Indeterminate: "INDETERMINATE",
	result.Waived:        "WAIVED",
	result.Pass:          "PASS",
	result.NotApplicable: "N/A",
}

// summaryOrder is the order of the counts on a tenant's summary line.
var summaryOrder = []result.Status{
	result.Pass, result.Fail, result.Warn, result.Indeterminate, result.Waived, result.NotApplicable,
}

func (tw textWriter) Write(w io.Writer, r *result.Report) error {
	var b bytes.Buffer
	for i, t := range r.Tenants {
		if i > 0 {
			b.WriteString("\n")
		}
		tw.tenant(&b, t)
	}
	if len(r.Tenants) > 0 {
		b.WriteString("\n")
	}
	b.WriteString(tw.verdict(r))
	b.WriteString("\n")
	_, err := w.Write(b.Bytes())
	return err
}

func (tw textWriter) tenant(b *bytes.Buffer, t result.Tenant) {
	fmt.Fprintf(b, "%s: %s\n", tenantHeading(t), summaryText(t.Summary()))
	snap := t.Snapshot
	if t.Patched {
		snap += " (patched)"
	}
	fmt.Fprintf(b, "snapshot: %s\n", snap)

	if t.Patched {
		b.WriteString("\nChanged by the patch:\n")
		changed := 0
		for _, res := range t.Results {
			if res.Changed() {
				fmt.Fprintf(b, "  %s: %s → %s\n", res.Check.ID, res.Baseline, res.Status)
				changed++
			}
		}
		if changed == 0 {
			b.WriteString("  nothing: every check has the status it has without the patch\n")
		}
	}

	if len(t.Errors) > 0 {
		b.WriteString("\nCollection errors in the snapshot (checks that need this data are indeterminate):\n")
		for _, e := range t.Errors {
			fmt.Fprintf(b, "  %s: %s\n", e.Source, indentRest(e.Message, "    "))
		}
	}

	results := byStatus(t.Results)
	detailed := false
	for _, res := range results {
		switch res.Status {
		case result.Pass, result.NotApplicable:
			if detailed {
				b.WriteString("\n")
				detailed = false
			}
			tw.oneLine(b, res)
		default:
			b.WriteString("\n")
			tw.detailed(b, res)
			detailed = true
		}
	}
}

// tenantHeading is "acme (<tenant id>) collected 2026-11-27 06:00 UTC".
func tenantHeading(t result.Tenant) string {
	var s strings.Builder
	s.WriteString(tenantLabel(t))
	if t.TenantID != "" {
		fmt.Fprintf(&s, " (%s)", t.TenantID)
	}
	if t.CollectedAt.IsZero() {
		s.WriteString(" collection time unknown")
	} else {
		fmt.Fprintf(&s, " collected %s", t.CollectedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return s.String()
}

// summaryText is "9 pass, 1 fail, 1 warn, 2 not applicable"; zero counts are
// left out.
func summaryText(sum map[result.Status]int) string {
	var parts []string
	for _, s := range summaryOrder {
		if n := sum[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(s), "_", " ")))
		}
	}
	for s, n := range sum { // a status this version does not know: still counted
		if statusRank(s) == len(statusOrder) && n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(parts) == 0 {
		return "no checks evaluated"
	}
	return strings.Join(parts, ", ")
}

func label(s result.Status) string {
	if l, ok := textLabel[s]; ok {
		return l
	}
	return strings.ToUpper(string(s))
}

// oneLine renders a pass or not-applicable result: the message says what was
// found (pass) or why the check does not apply (not applicable).
func (tw textWriter) oneLine(b *bytes.Buffer, res result.CheckResult) {
	msg := res.Message
	if msg == "" {
		msg = res.Check.Title
	}
	fmt.Fprintf(b, "%s %s: %s%s\n", label(res.Status), res.Check.ID, indentRest(msg, "    "), wasSuffix(res))
}

// detailed renders a result that needs attention: every finding with its
// actual values, the waiver, and (for a failure) the remediation.
func (tw textWriter) detailed(b *bytes.Buffer, res result.CheckResult) {
	fmt.Fprintf(b, "%s %s [%s] %s%s\n", label(res.Status), res.Check.ID, res.Check.Severity, res.Check.Title, wasSuffix(res))

	if wv := res.Waiver; wv != nil {
		if wv.Expired {
			fmt.Fprintf(b, "  waiver expired on %s and no longer applies (reason was: %s)\n", wv.Expires, indentRest(wv.Reason, "    "))
		} else {
			fmt.Fprintf(b, "  waived until %s, would be %s: %s\n", wv.Expires, wv.Status, indentRest(wv.Reason, "    "))
		}
		if wv.Resource != "" {
			fmt.Fprintf(b, "  waiver covers: %s\n", wv.Resource)
		}
	}

	if len(res.Findings) == 0 {
		if res.Message != "" {
			fmt.Fprintf(b, "  %s\n", indentRest(res.Message, "    "))
		}
	}
	for _, f := range findingsByStatus(res.Findings) {
		line := fmt.Sprintf("  - %s: %s", f.Status, f.Message)
		if f.Resource != "" {
			line += " [" + f.Resource + "]"
		}
		b.WriteString(indentRest(line, "    "))
		b.WriteString("\n")
	}

	// Remediation is what to change; an indeterminate result needs data, not
	// a change, and its findings already say which data.
	showFix := res.Status == result.Fail || res.Status == result.Warn ||
		(res.Status == result.Waived && res.Waiver != nil && res.Waiver.Status != result.Indeterminate)
	if showFix && strings.TrimSpace(res.Check.Remediation) != "" {
		b.WriteString("  Remediation:\n")
		for _, l := range strings.Split(strings.TrimRight(res.Check.Remediation, "\n"), "\n") {
			if strings.TrimSpace(l) == "" {
				b.WriteString("\n")
				continue
			}
			fmt.Fprintf(b, "    %s\n", l)
		}
	}
}

// wasSuffix marks a result whose status the patch changed.
func wasSuffix(res result.CheckResult) string {
	if res.Changed() {
		return fmt.Sprintf(" (was %s before the patch)", res.Baseline)
	}
	return ""
}

// verdict is the closing line: the exit code and why, in the terms of the
// flags that decide it.
func (tw textWriter) verdict(r *result.Report) string {
	p := tw.opts.Policy
	code := r.ExitCode(p)
	failing, indeterminate, warnings := 0, 0, 0
	for _, t := range r.Tenants {
		for _, res := range t.Results {
			switch {
			case failsRun(res.Status, p):
				failing++
			case res.Status == result.Indeterminate:
				indeterminate++
			case res.Status == result.Warn:
				warnings++
			}
		}
	}
	tenants := plural(len(r.Tenants), "tenant", "tenants")
	switch code {
	case result.ExitFailed:
		return fmt.Sprintf("Result: exit %d, %s failing at or above --fail-on %s across %s.",
			code, plural(failing, "check", "checks"), p.FailOn, tenants)
	case result.ExitIndeterminate:
		return fmt.Sprintf("Result: exit %d, no failure but %s indeterminate across %s: collect the missing data, or pass --allow-indeterminate.",
			code, plural(indeterminate, "check", "checks"), tenants)
	default:
		s := fmt.Sprintf("Result: exit %d, no failure at or above --fail-on %s across %s", code, p.FailOn, tenants)
		if warnings > 0 {
			s += fmt.Sprintf("; %s not failing the run", plural(warnings, "warning", "warnings"))
		}
		if indeterminate > 0 {
			s += fmt.Sprintf("; %s allowed by --allow-indeterminate", plural(indeterminate, "indeterminate check", "indeterminate checks"))
		}
		return s + "."
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// indentRest indents every line after the first, so a multi-line message
// stays inside its block.
func indentRest(s, indent string) string {
	s = strings.TrimRight(s, "\n")
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

// formatTime is the RFC 3339 form every machine-readable format uses.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
