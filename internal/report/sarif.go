package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/ticketguard/ticketguard/internal/result"
)

// SARIFSchema is the $schema of the SARIF output (OASIS SARIF 2.1.0, errata 01).
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// fingerprintKey names ticketguard's own partial fingerprint. Bump the suffix
// only if the fingerprint input changes, since code scanning uses it to
// match an alert across runs. v2: the snapshot's location is part of it.
const fingerprintKey = "ticketguard/v2"

// srcRoot is the uriBaseId of snapshot locations relative to the directory
// ticketguard ran in; code scanning resolves it against the checkout.
const srcRoot = "%SRCROOT%"

// sarifWriter renders SARIF 2.1.0 for GitHub code scanning and other SARIF
// consumers: one run, one rule per catalogue check (its remediation as help),
// and one result per failing, warning or indeterminate object. Passing,
// not-applicable and waived results are not reported: code scanning lists
// problems, and a waived one is a decision already taken.
type sarifWriter struct{ opts Options }

func (sw sarifWriter) Write(w io.Writer, r *result.Report) error {
	version := sw.opts.ToolVersion
	if version == "" {
		version = "dev"
	}
	run := sarif.NewRunWithInformationURI(ToolName, ToolInformationURI)
	run.Tool.Driver.WithVersion(version)

	for _, c := range catalogue(sw.opts, r) {
		addRule(run, c)
	}

	base := sw.opts.BaseDir
	if base == "" {
		// Without a working directory every location is made absolute
		// below, which is still correct, only less portable.
		base, _ = os.Getwd()
	}
	usesRoot := false
	for _, t := range r.Tenants {
		artifact := artifactLocation(t.Snapshot, base)
		usesRoot = usesRoot || artifact.URIBaseID != nil
		for _, res := range t.Results {
			level, ok := sarifLevel[res.Status]
			if !ok {
				continue
			}
			if run.GetRuleIndex(res.Check.ID) < 0 {
				addRule(run, res.Check) // a check missing from the catalogue still gets a rule
			}
			for _, g := range groupByResource(decisive(res), res) {
				loc := *artifact
				sr := run.CreateResultForRule(res.Check.ID).
					WithLevel(level).
					WithMessage(sarif.NewTextMessage(sarifMessage(t, res, g.messages))).
					AddLocation(sarif.NewLocationWithPhysicalLocation(
						sarif.NewPhysicalLocation().
							WithArtifactLocation(&loc).
							WithRegion(sarif.NewRegion().WithStartLine(1)),
					))
				if res.Status == result.Indeterminate {
					// Not a finding against the tenant: data is missing and a
					// person has to look. SARIF requires level "none" for any
					// kind other than "fail".
					sr.WithKind("review")
				}
				fp := fingerprint(t, *artifact.URI, res.Check.ID, g.resource)
				// Every result sits on line 1 of the snapshot, so the line hash
				// code scanning would compute is the same for all of them; give it
				// ours so distinct objects stay distinct alerts.
				sr.WithPartialFingerprints(map[string]string{fingerprintKey: fp, "primaryLocationLineHash": fp})
				props := sarif.NewPropertyBag().
					Add("tenant", tenantLabel(t)).
					Add("status", string(res.Status))
				if t.TenantID != "" {
					props.Add("tenant_id", t.TenantID)
				}
				if g.resource != "" {
					props.Add("resource", g.resource)
				}
				sr.WithProperties(props)
				if t.Patched {
					// Relative to the unpatched snapshot: "new" is what the patch breaks.
					if res.Changed() {
						sr.WithBaselineState("new")
					} else {
						sr.WithBaselineState("unchanged")
					}
				}
			}
		}
	}

	if usesRoot {
		run.WithOriginalUriBaseIds(map[string]sarif.ArtifactLocation{
			srcRoot: *sarif.NewArtifactLocation().WithURI(dirURI(base)),
		})
	}

	rep := sarif.NewReport()
	rep.Schema = SARIFSchema
	rep.AddRun(run)

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("encode sarif report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

var sarifLevel = map[result.Status]string{
	result.Fail:          sarif.LevelError,
	result.Warn:          sarif.LevelWarning,
	result.Indeterminate: sarif.LevelNone,
}

// artifactLocation names a snapshot file: relative to base (with uriBaseId
// %SRCROOT%) when it lies below base, else an absolute file:// URI. A
// relative snapshot path is taken relative to base, the directory
// ticketguard was run from.
func artifactLocation(snapshot, base string) *sarif.ArtifactLocation {
	p := snapshot
	if !filepath.IsAbs(p) && base != "" {
		p = filepath.Join(base, p)
	}
	p = filepath.Clean(p)
	if base != "" {
		rel, err := filepath.Rel(base, p)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return sarif.NewArtifactLocation().
				WithURI((&url.URL{Path: filepath.ToSlash(rel)}).String()).
				WithURIBaseID(srcRoot)
		}
	}
	if !filepath.IsAbs(p) {
		// No base to resolve against: the path as given is all there is.
		return sarif.NewArtifactLocation().WithURI((&url.URL{Path: filepath.ToSlash(p)}).String())
	}
	return sarif.NewArtifactLocation().WithURI(fileURI(p))
}

// fileURI is the file:// URI of an absolute path (C:\x becomes file:///C:/x).
func fileURI(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// dirURI is fileURI for a directory: SARIF base URIs end with a slash.
func dirURI(dir string) string {
	u := fileURI(dir)
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

func addRule(run *sarif.Run, c result.Check) {
	level := sarif.LevelError
	if c.Severity == result.SeverityWarning {
		level = sarif.LevelWarning
	}
	full := c.Description
	if strings.TrimSpace(full) == "" {
		full = c.Title
	}
	remediation := strings.TrimRight(c.Remediation, "\n")
	if remediation == "" {
		remediation = "No remediation recorded for this check."
	}
	tags := []string{"ticketguard", "exchange-online", string(c.Severity)}
	if !c.BuiltIn {
		tags = append(tags, "custom")
	}
	props := sarif.NewPropertyBag().WithTags(tags).Add("precision", "very-high")
	if c.Source != "" {
		props.Add("source", c.Source)
	}
	run.AddRule(c.ID).
		WithName(ruleName(c.ID)).
		WithShortDescription(sarif.NewMultiformatMessageString().WithText(c.Title)).
		WithFullDescription(sarif.NewMultiformatMessageString().WithText(full)).
		WithHelp(sarif.NewMultiformatMessageString().
			WithText(remediation).
			WithMarkdown(markdownLines(remediation))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(level)).
		WithProperties(props)
}

// ruleName turns "external-forwarding" into "ExternalForwarding", the
// conventional form of a SARIF rule name.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// markdownLines keeps the remediation's line breaks in Markdown, where a
// single newline would otherwise join the steps into one paragraph.
func markdownLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" && i < len(lines)-1 && strings.TrimSpace(lines[i+1]) != "" {
			lines[i] = l + "  "
		}
	}
	return strings.Join(lines, "\n")
}

type resourceGroup struct {
	resource string
	messages []string
}

// groupByResource makes one SARIF result per object: findings about the same
// resource (or without one) are merged, so that every result has a distinct
// fingerprint. A result without findings is reported with its message.
func groupByResource(fs []result.Finding, res result.CheckResult) []resourceGroup {
	if len(fs) == 0 {
		msg := res.Message
		if msg == "" {
			msg = res.Check.Title
		}
		return []resourceGroup{{messages: []string{msg}}}
	}
	var groups []resourceGroup
	index := map[string]int{}
	for _, f := range fs {
		i, ok := index[f.Resource]
		if !ok {
			i = len(groups)
			index[f.Resource] = i
			groups = append(groups, resourceGroup{resource: f.Resource})
		}
		groups[i].messages = append(groups[i].messages, f.Message)
	}
	return groups
}

func sarifMessage(t result.Tenant, res result.CheckResult, messages []string) string {
	msg := tenantLabel(t) + ": " + strings.Join(messages, "\n")
	if res.Status == result.Indeterminate {
		msg = tenantLabel(t) + ": could not be decided: " + strings.Join(messages, "\n")
	}
	if res.Changed() {
		msg += fmt.Sprintf("\n(changed by the patch: %s before, %s after)", res.Baseline, res.Status)
	}
	return msg
}

// fingerprint is stable across runs for the same snapshot location, tenant,
// check and object, whatever the message says about the object's current
// values. The location (the artifact URI, relative when it can be) keeps two
// snapshots of tenants with one name, or of one tenant, distinct; code
// scanning ties an alert to its file anyway.
func fingerprint(t result.Tenant, location, checkID, resource string) string {
	tenant := t.TenantID
	if tenant == "" {
		tenant = tenantLabel(t)
	}
	sum := sha256.Sum256([]byte(location + "\x00" + strings.ToLower(tenant) + "\x00" + checkID + "\x00" + resource))
	return hex.EncodeToString(sum[:16])
}
