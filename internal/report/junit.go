package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ticketguard/ticketguard/internal/result"
)

// junitWriter renders JUnit XML for CI test tabs: one <testsuite> per tenant,
// one <testcase> per check. A test case fails exactly when the result fails
// the run under the exit policy, so the test tab and the exit code agree.
type junitWriter struct{ opts Options }

type junitTestsuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemErr  *junitText      `xml:"system-err,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// junitText is element text written as CDATA: encoding/xml would escape
// every newline of character data as &#xA;, which CI log viewers show raw.
type junitText struct {
	Text string `xml:",cdata"`
}

func text(s string) *junitText {
	if s == "" {
		return nil
	}
	return &junitText{Text: xmlSafe(s)}
}

// xmlSafe replaces the characters XML 1.0 cannot carry at all (CDATA does not
// escape), so a stray control character in a tenant's data cannot make the
// whole report unparseable.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func (jw junitWriter) Write(w io.Writer, r *result.Report) error {
	out := junitTestsuites{Name: ToolName}
	names := suiteNames(r.Tenants)
	for i, t := range r.Tenants {
		s := jw.suite(r, t, names[i])
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}

	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode junit report: %w", err)
	}
	b.WriteString("\n")
	_, err := w.Write(b.Bytes())
	return err
}

// suiteNames names each tenant's suite uniquely: CI test tabs key suites and
// test cases by name, so two suites called "acme" (two customers with one
// short name, or one tenant's snapshots from two days) would be merged or
// shown as one. A shared name gets the snapshot's file name appended, or its
// path when the file names are shared too.
func suiteNames(tenants []result.Tenant) []string {
	names := make([]string, len(tenants))
	for i, t := range tenants {
		names[i] = tenantLabel(t)
	}
	for _, qualify := range []func(result.Tenant) string{
		func(t result.Tenant) string { return filepath.Base(t.Snapshot) },
		func(t result.Tenant) string { return filepath.ToSlash(t.Snapshot) },
	} {
		count := map[string]int{}
		for _, n := range names {
			count[n]++
		}
		for i, t := range tenants {
			if count[names[i]] > 1 && t.Snapshot != "" {
				names[i] = tenantLabel(t) + " (" + qualify(t) + ")"
			}
		}
	}
	// The same snapshot given twice: number them, so no suite disappears.
	seen := map[string]int{}
	for i, n := range names {
		seen[n]++
		if seen[n] > 1 {
			names[i] = fmt.Sprintf("%s #%d", n, seen[n])
		}
	}
	return names
}

func (jw junitWriter) suite(r *result.Report, t result.Tenant, name string) junitSuite {
	s := junitSuite{Name: name}
	if !r.EvaluatedAt.IsZero() {
		// JUnit's timestamp is an ISO 8601 date-time without a zone; it is UTC.
		s.Timestamp = r.EvaluatedAt.UTC().Format("2006-01-02T15:04:05")
	}
	s.Properties = append(s.Properties, junitProperty{"snapshot", t.Snapshot})
	if t.TenantID != "" {
		s.Properties = append(s.Properties, junitProperty{"tenant_id", t.TenantID})
	}
	if !t.CollectedAt.IsZero() {
		s.Properties = append(s.Properties, junitProperty{"collected_at", formatTime(t.CollectedAt)})
	}
	if t.Patched {
		s.Properties = append(s.Properties, junitProperty{"patched", "true"})
	}
	if len(t.Errors) > 0 {
		var e strings.Builder
		e.WriteString("Collection errors in the snapshot (checks that need this data are indeterminate):\n")
		for _, se := range t.Errors {
			fmt.Fprintf(&e, "%s: %s\n", se.Source, se.Message)
		}
		s.SystemErr = text(e.String())
	}

	for _, res := range t.Results {
		c := jw.testcase(name, res)
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	return s
}

func (jw junitWriter) testcase(tenant string, res result.CheckResult) junitCase {
	c := junitCase{Classname: tenant, Name: res.Check.ID + ": " + res.Check.Title}
	msg := res.Message
	if msg == "" {
		msg = res.Check.Title
	}
	p := jw.opts.Policy
	switch res.Status {
	case result.Pass:
		if res.Changed() {
			c.SystemOut = text(changedLine(res))
		}
	case result.Fail, result.Warn:
		if failsRun(res.Status, p) {
			c.Failure = &junitProblem{Message: msg, Type: string(res.Status), Body: xmlSafe(problemBody(res, true))}
		} else {
			c.SystemOut = text(fmt.Sprintf("warning, not failing the run with --fail-on %s:\n%s", p.FailOn, problemBody(res, true)))
		}
	case result.Indeterminate:
		if p.AllowIndeterminate {
			c.Skipped = &junitSkipped{Message: "indeterminate (allowed by --allow-indeterminate): " + msg}
			c.SystemOut = text(problemBody(res, false))
		} else {
			c.Error = &junitProblem{Message: msg, Type: string(res.Status), Body: xmlSafe(problemBody(res, false))}
		}
	case result.Waived:
		skip := "waived"
		if wv := res.Waiver; wv != nil {
			skip = fmt.Sprintf("waived until %s (would be %s): %s", wv.Expires, wv.Status, wv.Reason)
		}
		c.Skipped = &junitSkipped{Message: skip}
		c.SystemOut = text(problemBody(res, false))
	case result.NotApplicable:
		c.Skipped = &junitSkipped{Message: "not applicable: " + msg}
	default:
		// A status this version does not know is never silently a pass.
		c.Error = &junitProblem{Message: msg, Type: string(res.Status), Body: xmlSafe(problemBody(res, false))}
	}
	return c
}

// problemBody is the text of a failure: every finding with its values, the
// waiver and patch context, and the remediation.
func problemBody(res result.CheckResult, remediation bool) string {
	var b strings.Builder
	if res.Changed() {
		b.WriteString(changedLine(res))
		b.WriteString("\n")
	}
	if wv := res.Waiver; wv != nil && wv.Expired {
		fmt.Fprintf(&b, "Waiver expired on %s and no longer applies (reason was: %s)\n", wv.Expires, wv.Reason)
	}
	for _, f := range findingsByStatus(res.Findings) {
		fmt.Fprintf(&b, "- %s: %s", f.Status, f.Message)
		if f.Resource != "" {
			fmt.Fprintf(&b, " [%s]", f.Resource)
		}
		b.WriteString("\n")
	}
	if len(res.Findings) == 0 && res.Message != "" {
		b.WriteString(res.Message + "\n")
	}
	if remediation && strings.TrimSpace(res.Check.Remediation) != "" {
		b.WriteString("Remediation:\n")
		b.WriteString(strings.TrimRight(res.Check.Remediation, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

func changedLine(res result.CheckResult) string {
	return fmt.Sprintf("Changed by the patch: %s → %s", res.Baseline, res.Status)
}
