package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/ticketguard/ticketguard/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var (
	failOnError   = result.ExitPolicy{FailOn: result.SeverityError}
	failOnWarning = result.ExitPolicy{FailOn: result.SeverityWarning}
	allowIndet    = result.ExitPolicy{FailOn: result.SeverityError, AllowIndeterminate: true}
)

func render(t *testing.T, format string, opts Options, r *result.Report) []byte {
	t.Helper()
	w, err := Get(format, opts)
	if err != nil {
		t.Fatalf("Get(%q): %v", format, err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, r); err != nil {
		t.Fatalf("%s Write: %v", format, err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	cases := []struct {
		file   string
		format string
		policy result.ExitPolicy
	}{
		{"report.txt", "text", failOnError},
		{"report-fail-on-warning.txt", "text", failOnWarning},
		{"report.json", "json", failOnError},
		{"report.sarif", "sarif", failOnError},
		{"report.xml", "junit", failOnError},
		{"report-fail-on-warning.xml", "junit", failOnWarning},
		{"report-allow-indeterminate.xml", "junit", allowIndet},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			// A fixed BaseDir: SARIF names it in originalUriBaseIds.
			opts := Options{Policy: tc.policy, Catalogue: fixtureCatalogue, ToolVersion: "1.0.0-test", BaseDir: filepath.FromSlash("/srv/audit")}
			got := render(t, tc.format, opts, fixtureReport())
			path := filepath.Join("testdata", "golden", tc.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run `go test ./internal/report -update` to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file; diff it with `go test ./internal/report -update && git diff`.\ngot:\n%s", path, got)
			}
		})
	}
}

func TestGetUnknownFormat(t *testing.T) {
	_, err := Get("html", Options{})
	if err == nil || !strings.Contains(err.Error(), "text, json, sarif, junit") {
		t.Fatalf("Get(html) error = %v, want one listing the formats", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorIsReturned(t *testing.T) {
	for _, f := range Formats() {
		w, err := Get(f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(failingWriter{}, fixtureReport()); err == nil {
			t.Errorf("%s: Write to a failing writer returned nil", f)
		}
	}
}

func TestTextOrdersWhatNeedsActionFirst(t *testing.T) {
	out := string(render(t, "text", Options{Policy: failOnError}, fixtureReport()))
	acme, _, _ := strings.Cut(out, "contoso (")
	order := []string{
		"FAIL external-forwarding", "WARN group-owner", "INDETERMINATE via-tag",
		"WAIVED send-as", "PASS ticketing-contact", "PASS support-route", "N/A acme-naming",
	}
	last := -1
	for _, s := range order {
		i := strings.Index(acme, s)
		if i < 0 {
			t.Fatalf("%q missing from the acme section:\n%s", s, acme)
		}
		if i < last {
			t.Errorf("%q comes before the result listed ahead of it:\n%s", s, acme)
		}
		last = i
	}
	for _, want := range []string{
		"acme (00000000-0000-0000-0000-0000000000a1) collected 2026-11-27 06:00 UTC: 2 pass, 1 fail, 1 warn, 1 indeterminate, 1 waived, 1 not applicable",
		"Changed by the patch:\n  external-forwarding: pass → fail\n",
		// every finding with its values, and the remediation, indented
		"  - fail: outbound spam policy \"Default\" applies to support@acme.com with AutoForwardingMode \"Automatic\";\n    Automatic now behaves as Off: set it to On [outbound-policy:Default]\n",
		"  Remediation:\n    Microsoft Defender > Policies & rules",
		"  Get-InboxRule: The operation couldn't be performed",
		"waiver expired on 2026-10-31 and no longer applies",
		"Result: exit 1, 3 checks failing at or above --fail-on error across 2 tenants.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("text output contains ANSI escape sequences")
	}
}

func TestTextVerdictFollowsPolicy(t *testing.T) {
	r := &result.Report{Tenants: []result.Tenant{{Name: "x", Results: []result.CheckResult{
		{Check: chkOwner, Status: result.Warn},
		{Check: chkVia, Status: result.Indeterminate},
	}}}}
	tests := []struct {
		policy result.ExitPolicy
		want   string
	}{
		{failOnError, "Result: exit 3, no failure but 1 check indeterminate"},
		{failOnWarning, "Result: exit 1, 1 check failing at or above --fail-on warning"},
		{allowIndet, "Result: exit 0, no failure at or above --fail-on error across 1 tenant; 1 warning not failing the run; 1 indeterminate check allowed by --allow-indeterminate."},
	}
	for _, tc := range tests {
		out := string(render(t, "text", Options{Policy: tc.policy}, r))
		if !strings.Contains(out, tc.want) {
			t.Errorf("policy %+v: output lacks %q:\n%s", tc.policy, tc.want, out)
		}
	}
}

func TestJSONSchema(t *testing.T) {
	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		Tool          string `json:"tool"`
		EvaluatedAt   string `json:"evaluated_at"`
		ExitCode      int    `json:"exit_code"`
		Tenants       []struct {
			Name        string           `json:"name"`
			TenantID    string           `json:"tenant_id"`
			CollectedAt *string          `json:"collected_at"`
			Patched     bool             `json:"patched"`
			Summary     map[string]int   `json:"summary"`
			Results     []map[string]any `json:"results"`
			Errors      []map[string]any `json:"errors"`
		} `json:"tenants"`
	}
	out := render(t, "json", Options{Policy: failOnError}, fixtureReport())
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if doc.SchemaVersion != 1 || doc.Tool != "ticketguard" || doc.EvaluatedAt != "2026-11-27T07:30:00Z" || doc.ExitCode != 1 {
		t.Errorf("header = %d %q %q exit %d", doc.SchemaVersion, doc.Tool, doc.EvaluatedAt, doc.ExitCode)
	}
	if len(doc.Tenants) != 2 {
		t.Fatalf("tenants = %d, want 2", len(doc.Tenants))
	}
	acme := doc.Tenants[0]
	wantSummary := map[string]int{"pass": 2, "fail": 1, "warn": 1, "indeterminate": 1, "waived": 1, "not_applicable": 1}
	for k, v := range wantSummary {
		if acme.Summary[k] != v {
			t.Errorf("acme summary[%s] = %d, want %d", k, acme.Summary[k], v)
		}
	}
	if !acme.Patched || acme.CollectedAt == nil || *acme.CollectedAt != "2026-11-27T06:00:00Z" {
		t.Errorf("acme patched=%v collected_at=%v", acme.Patched, acme.CollectedAt)
	}
	byID := map[string]map[string]any{}
	for _, r := range acme.Results {
		byID[r["id"].(string)] = r
	}
	fwd := byID["external-forwarding"]
	if fwd["status"] != "fail" || fwd["baseline_status"] != "pass" || fwd["changed"] != true {
		t.Errorf("external-forwarding = %v", fwd)
	}
	if f := fwd["findings"].([]any); len(f) != 2 {
		t.Errorf("external-forwarding findings = %v", f)
	}
	if w, ok := byID["send-as"]["waiver"].(map[string]any); !ok || w["status"] != "fail" || w["expires"] != "2026-12-15" {
		t.Errorf("send-as waiver = %v", byID["send-as"]["waiver"])
	}
	if acme.Errors == nil {
		t.Error("errors must be an array, not null, when there are none")
	}
	contoso := doc.Tenants[1]
	if contoso.Patched || len(contoso.Errors) != 1 {
		t.Errorf("contoso patched=%v errors=%v", contoso.Patched, contoso.Errors)
	}
	for _, r := range contoso.Results {
		if _, ok := r["baseline_status"]; ok {
			t.Errorf("unpatched tenant has baseline_status on %v", r["id"])
		}
		if r["findings"] == nil {
			t.Errorf("%v: findings must be an array, not null", r["id"])
		}
	}
}

func TestSARIFStructure(t *testing.T) {
	out := render(t, "sarif", Options{Policy: failOnError, Catalogue: fixtureCatalogue, ToolVersion: "1.2.3"}, fixtureReport())

	// The schema, through the library's validator.
	parsed, err := sarif.FromBytes(out)
	if err != nil {
		t.Fatalf("sarif.FromBytes: %v", err)
	}
	if err := parsed.Validate(); err != nil {
		t.Fatalf("SARIF schema validation: %v", err)
	}

	// What GitHub code scanning requires, on the raw document.
	var doc struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name           string `json:"name"`
					Version        string `json:"version"`
					InformationURI string `json:"informationUri"`
					Rules          []struct {
						ID               string `json:"id"`
						Name             string `json:"name"`
						ShortDescription struct{ Text string }
						FullDescription  struct{ Text string }
						Help             struct{ Text, Markdown string }
						Properties       struct{ Tags []string }
						Default          struct {
							Level   string `json:"level"`
							Enabled bool   `json:"enabled"`
						} `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				BaselineState       string            `json:"baselineState"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || doc.Schema == "" || len(doc.Runs) != 1 {
		t.Fatalf("version=%q $schema=%q runs=%d", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	d := run.Tool.Driver
	if d.Name != "ticketguard" || d.Version != "1.2.3" || d.InformationURI == "" {
		t.Errorf("driver = %q %q %q", d.Name, d.Version, d.InformationURI)
	}
	if len(d.Rules) != len(fixtureCatalogue) {
		t.Fatalf("rules = %d, want one per catalogue check (%d)", len(d.Rules), len(fixtureCatalogue))
	}
	for i, r := range d.Rules {
		c := fixtureCatalogue[i]
		if r.ID != c.ID || r.ShortDescription.Text != c.Title || r.Help.Text != c.Remediation || r.Help.Markdown == "" ||
			r.FullDescription.Text == "" || r.Name == "" || !r.Default.Enabled {
			t.Errorf("rule %d = %+v, want it built from %+v", i, r, c)
		}
		wantLevel := map[result.Severity]string{result.SeverityError: "error", result.SeverityWarning: "warning"}[c.Severity]
		if r.Default.Level != wantLevel {
			t.Errorf("rule %s level = %q, want %q", r.ID, r.Default.Level, wantLevel)
		}
		if len(r.Properties.Tags) == 0 {
			t.Errorf("rule %s has no tags", r.ID)
		}
	}

	// One result per failing/warning/indeterminate object: acme fail(1) warn(1)
	// indeterminate(1); contoso fail(1) indeterminate(1) fail(2 resources) warn(1).
	if len(run.Results) != 8 {
		t.Errorf("results = %d, want 8", len(run.Results))
	}
	fps := map[string]bool{}
	levels := map[string]int{}
	for _, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(d.Rules) || d.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s has ruleIndex %d not pointing at its rule", r.RuleID, r.RuleIndex)
		}
		if r.Message.Text == "" || len(r.Locations) == 0 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" ||
			r.Locations[0].PhysicalLocation.Region.StartLine != 1 {
			t.Errorf("result %s lacks message or location: %+v", r.RuleID, r)
		}
		fp := r.PartialFingerprints[fingerprintKey]
		if fp == "" || fps[fp] {
			t.Errorf("result %s fingerprint %q empty or duplicated", r.RuleID, fp)
		}
		fps[fp] = true
		levels[r.Level]++
		if r.RuleID == "send-as" {
			t.Error("a waived result must not be reported")
		}
	}
	if levels["error"] != 4 || levels["warning"] != 2 || levels["none"] != 2 {
		t.Errorf("levels = %v", levels)
	}
	if fwd := run.Results[0]; fwd.RuleID != "external-forwarding" || fwd.BaselineState != "new" {
		t.Errorf("first result = %s baselineState %q, want external-forwarding new", fwd.RuleID, fwd.BaselineState)
	}
}

func TestSARIFFingerprintIgnoresMessage(t *testing.T) {
	a := fixtureReport()
	b := fixtureReport()
	b.Tenants[1].Results[2].Findings[0].Message = "transport rule \"Block auto-forward\" (priority 1) rejects AutoForward messages"
	fp := func(r *result.Report) map[string]bool {
		var doc struct {
			Runs []struct {
				Results []struct {
					PartialFingerprints map[string]string `json:"partialFingerprints"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(render(t, "sarif", Options{}, r), &doc); err != nil {
			t.Fatal(err)
		}
		set := map[string]bool{}
		for _, res := range doc.Runs[0].Results {
			set[res.PartialFingerprints[fingerprintKey]] = true
		}
		return set
	}
	fa, fb := fp(a), fp(b)
	for k := range fa {
		if !fb[k] {
			t.Errorf("fingerprint %s changed when only a message changed", k)
		}
	}
}

func TestSARIFRulesFromResultsWithoutCatalogue(t *testing.T) {
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", Options{}, fixtureReport()), &doc); err != nil {
		t.Fatal(err)
	}
	if n := len(doc.Runs[0].Tool.Driver.Rules); n != len(fixtureCatalogue) {
		t.Errorf("rules = %d, want %d (every check seen in the results)", n, len(fixtureCatalogue))
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Error   *struct{} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitMatchesExitPolicy(t *testing.T) {
	tests := []struct {
		name                      string
		policy                    result.ExitPolicy
		failures, errors, skipped int
		warnFails, indetIsSkipped bool
	}{
		// acme: fail, warn, indeterminate, waived, n/a; contoso: fail, indeterminate, fail, n/a, n/a, warn
		{"fail-on error", failOnError, 3, 2, 4, false, false},
		{"fail-on warning", failOnWarning, 5, 2, 4, true, false},
		{"allow indeterminate", allowIndet, 3, 0, 6, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc junitDoc
			if err := xml.Unmarshal(render(t, "junit", Options{Policy: tc.policy}, fixtureReport()), &doc); err != nil {
				t.Fatalf("not XML: %v", err)
			}
			if doc.Failures != tc.failures || doc.Errors != tc.errors || doc.Skipped != tc.skipped || doc.Tests != 14 {
				t.Errorf("testsuites counts tests=%d failures=%d errors=%d skipped=%d, want 14/%d/%d/%d",
					doc.Tests, doc.Failures, doc.Errors, doc.Skipped, tc.failures, tc.errors, tc.skipped)
			}
			if len(doc.Suites) != 2 || doc.Suites[0].Name != "acme" || doc.Suites[1].Name != "contoso" {
				t.Fatalf("suites = %+v", doc.Suites)
			}
			for _, s := range doc.Suites {
				var f, e, sk int
				for _, c := range s.Cases {
					if c.Classname != s.Name || !strings.Contains(c.Name, ": ") {
						t.Errorf("testcase classname=%q name=%q", c.Classname, c.Name)
					}
					if c.Failure != nil {
						f++
						if !strings.Contains(c.Failure.Body, "Remediation:") {
							t.Errorf("%s: failure body lacks the remediation", c.Name)
						}
					}
					if c.Error != nil {
						e++
					}
					if c.Skipped != nil {
						sk++
					}
				}
				if s.Tests != len(s.Cases) || s.Failures != f || s.Errors != e || s.Skipped != sk {
					t.Errorf("suite %s attributes %d/%d/%d/%d disagree with its testcases %d/%d/%d/%d",
						s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases), f, e, sk)
				}
			}
			// JUnit fails exactly when the exit code says a check failed.
			if got, want := doc.Failures > 0, fixtureReport().ExitCode(tc.policy) == result.ExitFailed; got != want {
				t.Errorf("junit failures=%d but exit code %d", doc.Failures, fixtureReport().ExitCode(tc.policy))
			}
		})
	}
}

func TestJUnitSurvivesHostileText(t *testing.T) {
	r := &result.Report{Tenants: []result.Tenant{{Name: "x<y>", Results: []result.CheckResult{{
		Check:    chkContact,
		Status:   result.Fail,
		Message:  "bad \x00 byte",
		Findings: []result.Finding{{Status: result.Fail, Message: "ends CDATA ]]> and has \x1b[31m escape"}},
	}}}}}
	out := render(t, "junit", Options{}, r)
	var doc junitDoc
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("junit output is not well-formed XML: %v\n%s", err, out)
	}
	body := doc.Suites[0].Cases[0].Failure.Body
	if !strings.Contains(body, "ends CDATA ]]> and has") {
		t.Errorf("failure body lost text: %q", body)
	}
}

// sarifResults decodes what the SARIF tests below look at.
type sarifDoc struct {
	Runs []struct {
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			Kind      string `json:"kind"`
			Level     string `json:"level"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          struct {
				Tenant string `json:"tenant"`
			} `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func renderSARIF(t *testing.T, opts Options, r *result.Report) sarifDoc {
	t.Helper()
	out := render(t, "sarif", opts, r)
	parsed, err := sarif.FromBytes(out)
	if err != nil {
		t.Fatalf("sarif.FromBytes: %v", err)
	}
	if err := parsed.Validate(); err != nil {
		t.Fatalf("SARIF schema validation: %v\n%s", err, out)
	}
	var doc sarifDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// oneFailure is a tenant whose only result is one failing finding.
func oneFailure(name, snapshot string) result.Tenant {
	return result.Tenant{Name: name, Snapshot: snapshot, Results: []result.CheckResult{{
		Check: chkContact, Status: result.Fail, Message: "no contact",
		Findings: []result.Finding{{Status: result.Fail, Message: "no contact", Resource: "contact:x"}},
	}}}
}

// Code scanning resolves a relative URI against the checkout; a snapshot
// outside the working directory can only be named absolutely.
func TestSARIFArtifactURIs(t *testing.T) {
	base := filepath.FromSlash("/srv/audit")
	r := &result.Report{Tenants: []result.Tenant{
		oneFailure("rel", "snapshots/acme corp.json"),
		oneFailure("abs-under", filepath.FromSlash("/srv/audit/snapshots/b.json")),
		oneFailure("outside", filepath.FromSlash("/tmp/elsewhere/c.json")),
		oneFailure("dotdot", filepath.FromSlash("../other/d.json")),
	}}
	doc := renderSARIF(t, Options{BaseDir: base}, r)
	run := doc.Runs[0]
	want := map[string][2]string{ // tenant → uri, uriBaseId
		"rel":       {"snapshots/acme%20corp.json", "%SRCROOT%"},
		"abs-under": {"snapshots/b.json", "%SRCROOT%"},
		"outside":   {"file:///tmp/elsewhere/c.json", ""},
		"dotdot":    {"file:///srv/other/d.json", ""},
	}
	if len(run.Results) != len(want) {
		t.Fatalf("results = %d, want %d", len(run.Results), len(want))
	}
	for _, res := range run.Results {
		loc := res.Locations[0].PhysicalLocation.ArtifactLocation
		w := want[res.Properties.Tenant]
		if loc.URI != w[0] || loc.URIBaseID != w[1] {
			t.Errorf("%s: uri %q uriBaseId %q, want %q %q", res.Properties.Tenant, loc.URI, loc.URIBaseID, w[0], w[1])
		}
	}
	if got := run.OriginalURIBaseIDs["%SRCROOT%"].URI; got != "file:///srv/audit/" {
		t.Errorf("originalUriBaseIds[%%SRCROOT%%] = %q, want file:///srv/audit/", got)
	}

	// No relative location, no base to declare.
	doc = renderSARIF(t, Options{BaseDir: base}, &result.Report{Tenants: []result.Tenant{oneFailure("outside", filepath.FromSlash("/tmp/c.json"))}})
	if n := len(doc.Runs[0].OriginalURIBaseIDs); n != 0 {
		t.Errorf("originalUriBaseIds = %v, want none", doc.Runs[0].OriginalURIBaseIDs)
	}
}

// An indeterminate result is not a finding against the tenant: SARIF's
// kind "review" (level "none", as SARIF requires for kinds other than fail).
func TestSARIFIndeterminateIsReview(t *testing.T) {
	doc := renderSARIF(t, Options{BaseDir: "/srv/audit"}, fixtureReport())
	seen := 0
	for _, res := range doc.Runs[0].Results {
		indeterminate := res.RuleID == chkVia.ID && res.Properties.Tenant == "acme" ||
			res.RuleID == chkRoute.ID && res.Properties.Tenant == "contoso"
		switch {
		case indeterminate:
			seen++
			if res.Kind != "review" || res.Level != "none" {
				t.Errorf("%s/%s: kind %q level %q, want review none", res.Properties.Tenant, res.RuleID, res.Kind, res.Level)
			}
		case res.Kind != "fail" || (res.Level != "error" && res.Level != "warning"):
			t.Errorf("%s/%s: kind %q level %q, want fail error|warning", res.Properties.Tenant, res.RuleID, res.Kind, res.Level)
		}
	}
	if seen != 2 {
		t.Errorf("saw %d indeterminate results, want 2", seen)
	}
}

// Two snapshots of tenants that share a name (two customers called "acme",
// or one tenant before and after a change) are distinct alerts.
func TestSARIFFingerprintsDistinctPerSnapshot(t *testing.T) {
	r := &result.Report{Tenants: []result.Tenant{
		oneFailure("acme", "eu/acme.json"),
		oneFailure("acme", "us/acme.json"),
	}}
	doc := renderSARIF(t, Options{BaseDir: "/srv/audit"}, r)
	res := doc.Runs[0].Results
	if len(res) != 2 {
		t.Fatalf("results = %d, want 2", len(res))
	}
	for _, key := range []string{fingerprintKey, "primaryLocationLineHash"} {
		if a, b := res[0].PartialFingerprints[key], res[1].PartialFingerprints[key]; a == "" || a == b {
			t.Errorf("%s: %q and %q, want two distinct fingerprints", key, a, b)
		}
	}
	// The same snapshot path gives the same fingerprint in another run.
	again := renderSARIF(t, Options{BaseDir: "/srv/audit"}, r)
	if again.Runs[0].Results[0].PartialFingerprints[fingerprintKey] != res[0].PartialFingerprints[fingerprintKey] {
		t.Error("fingerprint not stable across runs")
	}
}

// CI test tabs key suites by name: tenants that share a name get the
// snapshot's file name appended (its path when even that is shared).
func TestJUnitSuiteNamesUnique(t *testing.T) {
	r := &result.Report{Tenants: []result.Tenant{
		oneFailure("acme", "eu/acme-2026.json"),
		oneFailure("acme", "us/acme-2025.json"),
		oneFailure("contoso", "a/contoso.json"),
		oneFailure("contoso", "b/contoso.json"),
		oneFailure("fabrikam", "fabrikam.json"),
	}}
	var doc junitDoc
	if err := xml.Unmarshal(render(t, "junit", Options{}, r), &doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"acme (acme-2026.json)", "acme (acme-2025.json)", "contoso (a/contoso.json)", "contoso (b/contoso.json)", "fabrikam"}
	var got []string
	for _, s := range doc.Suites {
		got = append(got, s.Name)
		for _, c := range s.Cases {
			if c.Classname != s.Name {
				t.Errorf("suite %q: testcase classname %q", s.Name, c.Classname)
			}
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("suite names = %q, want %q", got, want)
	}
}
