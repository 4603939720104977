package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/ticketguard/ticketguard/internal/result"
)

func mustLoad(t *testing.T, path string) *Document {
	t.Helper()
	doc, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return doc
}

// get walks a normalised document by keys and indices.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: want object, got %T", p, v)
			}
			next, ok := m[p]
			if !ok {
				t.Fatalf("key %q missing; have %v", p, keys(m))
			}
			v = next
		case int:
			a, ok := v.([]any)
			if !ok || p >= len(a) {
				t.Fatalf("at [%d]: want array with that index, got %#v", p, v)
			}
			v = a[p]
		}
	}
	return v
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestLoadValid(t *testing.T) {
	doc := mustLoad(t, "testdata/valid.json")
	if doc.Path != "testdata/valid.json" || doc.Name != "acme" || doc.TenantID != "5f2b7c1e-9d3a-4c6b-8e21-0a1b2c3d4e5f" {
		t.Errorf("header = %q %q %q", doc.Path, doc.Name, doc.TenantID)
	}
	if want := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC); !doc.CollectedAt.Equal(want) {
		t.Errorf("CollectedAt = %v, want %v", doc.CollectedAt, want)
	}
	wantErrs := []result.SourceError{{Source: "Get-CASMailbox", Message: "The operation couldn't be performed because object couldn't be found."}}
	if !reflect.DeepEqual(doc.Errors, wantErrs) {
		t.Errorf("Errors = %+v", doc.Errors)
	}
	// The Rego input keeps the sections it does not normalise.
	if got := get(t, doc.Data, "atera", "smtp", "port"); got != json.Number("587") {
		t.Errorf("atera.smtp.port = %#v", got)
	}
}

func TestNormalisation(t *testing.T) {
	data := mustLoad(t, "testdata/valid.json").Data
	ex := get(t, data, "exchange").(map[string]any)

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"single object is wrapped in an array", func(t *testing.T) {
			groups, ok := ex["Get-DistributionGroup"].([]any)
			if !ok || len(groups) != 1 {
				t.Fatalf("Get-DistributionGroup = %#v, want a one-element array", ex["Get-DistributionGroup"])
			}
			if got := get(t, groups, 0, "PrimarySmtpAddress"); got != "support@acme.com" {
				t.Errorf("PrimarySmtpAddress = %v", got)
			}
		}},
		{"unknown Get-* cmdlet is a list too", func(t *testing.T) {
			if got := get(t, ex, "Get-SomethingElse", 0, "Custom"); got != json.Number("1") {
				t.Errorf("Get-SomethingElse[0].Custom = %#v", got)
			}
		}},
		{"empty array stays: collected, none exist", func(t *testing.T) {
			if got, ok := ex["Get-Mailbox"].([]any); !ok || len(got) != 0 {
				t.Errorf("Get-Mailbox = %#v, want []", ex["Get-Mailbox"])
			}
		}},
		{"null cmdlet is removed: not collected", func(t *testing.T) {
			if v, ok := ex["Get-CASMailbox"]; ok {
				t.Errorf("Get-CASMailbox = %#v, want the key removed", v)
			}
		}},
		{"null multi-valued property is kept as null", func(t *testing.T) {
			rule := get(t, ex, "Get-TransportRule", 0).(map[string]any)
			for _, k := range []string{"SentTo", "RedirectMessageTo"} {
				if v, ok := rule[k]; !ok || v != nil {
					t.Errorf("%s = %#v (present %v), want null", k, v, ok)
				}
			}
			if got := get(t, ex, "Get-InboxRule", "support@acme.com", 0, "ForwardTo"); got != nil {
				t.Errorf("ForwardTo = %#v, want null", got)
			}
		}},
		{"annotation keys are stripped at every depth", func(t *testing.T) {
			if _, ok := ex["@odata.context"]; ok {
				t.Error("exchange[@odata.context] kept")
			}
			rule := get(t, ex, "Get-TransportRule", 0).(map[string]any)
			if _, ok := rule["Priority@data.type"]; ok {
				t.Error("Priority@data.type kept")
			}
			if got := rule["Priority"]; got != json.Number("0") {
				t.Errorf("Priority = %#v, want 0 kept", got)
			}
			contact := get(t, ex, "Get-MailContact", 0).(map[string]any)
			if _, ok := contact["EmailAddresses@odata.type"]; ok {
				t.Error("EmailAddresses@odata.type kept")
			}
		}},
		{"raw values are untouched", func(t *testing.T) {
			if got := get(t, ex, "Get-MailContact", 0, "ExternalEmailAddress"); got != "SMTP:acme@ticketing.atera.com" {
				t.Errorf("ExternalEmailAddress = %v, want the SMTP: prefix kept", got)
			}
		}},
		{"big integer is preserved", func(t *testing.T) {
			got := get(t, ex, "Get-InboxRule", "support@acme.com", 0, "RuleIdentity")
			if got != json.Number("18446744073709551615123") {
				t.Errorf("RuleIdentity = %#v", got)
			}
		}},
		{"per-recipient keys are lower-cased without SMTP:", func(t *testing.T) {
			members := get(t, ex, "Get-DistributionGroupMember").(map[string]any)
			if !reflect.DeepEqual(keys(members), []string{"support@acme.com"}) {
				t.Errorf("Get-DistributionGroupMember keys = %v", keys(members))
			}
		}},
		{"per-recipient null entry is removed: not collected", func(t *testing.T) {
			rules := get(t, ex, "Get-InboxRule").(map[string]any)
			if _, ok := rules["ceo@acme.com"]; ok {
				t.Errorf("Get-InboxRule[ceo@acme.com] kept: %#v", rules["ceo@acme.com"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

func TestParseNormalisationInline(t *testing.T) {
	tests := []struct {
		name string
		in   string
		path []any
		want any
	}{
		{
			name: "admin API envelope is unwrapped",
			in:   `"Get-Mailbox": {"@odata.context": "x", "@adminapi.warnings": [], "value": [{"Name": "Support", "Name@data.type": "String"}]}`,
			path: []any{"exchange", "Get-Mailbox"},
			want: []any{map[string]any{"Name": "Support"}},
		},
		{
			name: "per-recipient single object wrapped and key normalised",
			in:   `"Get-InboxRule": {" smtp:Support@ACME.com ": {"Name": "r"}}`,
			path: []any{"exchange", "Get-InboxRule"},
			want: map[string]any{"support@acme.com": []any{map[string]any{"Name": "r"}}},
		},
		{
			name: "graph messageRules keyed like per-recipient cmdlets, @odata.type kept",
			in:   `"Get-Mailbox": []}, "graph": {"messageRules": {"SMTP:A@acme.com": [{"displayName": "x", "@odata.etag": "W/1"}]}, "groupMembers": {"g@acme.com": [{"@odata.type": "#microsoft.graph.orgContact", "mail": "t@ticketing.atera.com"}]}`,
			path: []any{"graph"},
			want: map[string]any{
				"messageRules": map[string]any{"a@acme.com": []any{map[string]any{"displayName": "x"}}},
				"groupMembers": map[string]any{"g@acme.com": []any{map[string]any{"@odata.type": "#microsoft.graph.orgContact", "mail": "t@ticketing.atera.com"}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {` + tt.in + `}}`
			doc, err := Parse("inline.json", []byte(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := get(t, doc.Data, tt.path...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// wantError asserts that err is (or joins) an *Error carrying each fragment
// in its message, and returns the first *Error.
func wantError(t *testing.T, err error, fragments ...string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got nil", fragments)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q (%T) is not a *snapshot.Error", err, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
	return e
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		file      string // from testdata, or
		src       string // inline
		fragments []string
		field     string
		line, col int // 0: not asserted
	}{
		{
			name:      "truncated JSON",
			file:      "testdata/truncated.json",
			fragments: []string{"testdata/truncated.json:15:", "invalid JSON: unexpected end of input", "(the file looks truncated; re-export it)"},
			line:      15,
		},
		{
			name:      "wrong schema_version",
			file:      "testdata/wrong_version.json",
			fragments: []string{"testdata/wrong_version.json:2:3: schema_version: version 2 is not supported: this ticketguard reads version 1", "upgrade ticketguard"},
			field:     "schema_version", line: 2, col: 3,
		},
		{
			name:      "cmdlet key holding a string",
			file:      "testdata/cmdlet_string.json",
			fragments: []string{"testdata/cmdlet_string.json:6:5: exchange.Get-Mailbox: must be an array of objects or a single object, got string", "ConvertTo-Json"},
			field:     "exchange.Get-Mailbox", line: 6, col: 5,
		},
		{
			name:      "missing schema_version",
			src:       `{"tenant": {"name": "acme"}}`,
			fragments: []string{"x.json: schema_version: is missing", `add "schema_version": 1`},
			field:     "schema_version",
		},
		{
			name:      "schema_version as a string",
			src:       `{"schema_version": "1", "tenant": {"name": "acme"}}`,
			fragments: []string{"schema_version: must be the number 1, got string"},
			field:     "schema_version", line: 1, col: 2,
		},
		{
			name:      "older schema_version",
			src:       `{"schema_version": 0, "tenant": {"name": "acme"}}`,
			fragments: []string{"version 0 is not supported", `write "schema_version": 1`},
			field:     "schema_version",
		},
		{
			name:      "trailing comma",
			src:       "{\n  \"schema_version\": 1,\n  \"tenant\": {\"name\": \"acme\",}\n}",
			fragments: []string{"x.json:3:29: invalid JSON: invalid character '}'", "remove the trailing comma"},
			line:      3, col: 29,
		},
		{
			name:      "single quotes",
			src:       "{'schema_version': 1}",
			fragments: []string{"x.json:1:2: invalid JSON", "JSON strings use double quotes"},
		},
		{
			name:      "two documents in one file",
			src:       `{"schema_version": 1, "tenant": {"name": "a"}}` + "\n" + `{"schema_version": 1, "tenant": {"name": "b"}}`,
			fragments: []string{"x.json:2:1: invalid JSON: unexpected data after the end of the snapshot", "its own file"},
		},
		{
			name:      "empty file",
			src:       " \n",
			fragments: []string{"x.json: the file is empty"},
		},
		{
			name:      "not an object",
			src:       `[{"schema_version": 1}]`,
			fragments: []string{"x.json:1:1: a snapshot must be a JSON object, got array"},
		},
		{
			name:      "per-recipient cmdlet as an array",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Get-InboxRule": [{"Name": "r"}]}}`,
			fragments: []string{"exchange.Get-InboxRule: must be an object keyed by the recipient's primary SMTP address, got array", `"support@acme.com"`},
			field:     "exchange.Get-InboxRule",
		},
		{
			name:      "array element not an object",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Get-Mailbox": ["support@acme.com"]}}`,
			fragments: []string{"exchange.Get-Mailbox[0]: must be an object (one result of the cmdlet), got string"},
			field:     "exchange.Get-Mailbox[0]",
		},
		{
			name:      "per-recipient value not a list",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Get-InboxRule": {"support@acme.com": "none"}}}`,
			fragments: []string{`exchange.Get-InboxRule["support@acme.com"]: must be an array of objects or a single object, got string`},
			field:     `exchange.Get-InboxRule["support@acme.com"]`,
		},
		{
			name:      "tenant name missing",
			src:       `{"schema_version": 1, "tenant": {"tenant_id": "x"}}`,
			fragments: []string{"x.json:1:23: tenant.name: is required", "waivers and reports refer to it"},
			field:     "tenant.name",
		},
		{
			name:      "misspelt top-level key",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchnage": {}}`,
			fragments: []string{"exchnage: unknown key", `did you mean "exchange"?`},
			field:     "exchnage",
		},
		{
			name:      "key under exchange that is not a cmdlet",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Mailboxes": []}}`,
			fragments: []string{"exchange.Mailboxes: unknown key", `did you mean "Get-Mailbox"?`, "cmdlet names"},
			field:     "exchange.Mailboxes",
		},
		{
			name:      "key under exchange naming a cmdlet without Get-",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"MailContact": []}}`,
			fragments: []string{"exchange.MailContact: unknown key", `did you mean "Get-MailContact"?`},
			field:     "exchange.MailContact",
		},
		{
			name:      "key under exchange prefixed with the service",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"exchange:Get-DistributionGroupMember": {}}}`,
			fragments: []string{`did you mean "Get-DistributionGroupMember"?`},
		},
		{
			name:      "cmdlet name in the wrong case",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Get-mailbox": []}}`,
			fragments: []string{"exchange.Get-mailbox: cmdlet names are case-sensitive here", `write "Get-Mailbox"`},
			field:     "exchange.Get-mailbox",
		},
		{
			name:      "password in atera.smtp",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "atera": {"smtp": {"server": "smtp.office365.com", "port": 587, "ssl": true, "username": "u@acme.com", "password": "hunter2"}}}`,
			fragments: []string{"atera.smtp.password: a password does not belong in a snapshot"},
			field:     "atera.smtp.password",
		},
		{
			name:      "collected_at not a date",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "collected_at": "yesterday"}`,
			fragments: []string{`collected_at: "yesterday" is not a date-time`, "RFC 3339"},
			field:     "collected_at",
		},
		{
			name:      "port out of range",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "atera": {"smtp": {"server": "smtp.office365.com", "port": 70000, "ssl": true, "username": "u@acme.com"}}}`,
			fragments: []string{"atera.smtp.port: must be at most 65535, got 70000"},
			field:     "atera.smtp.port",
		},
		{
			name:      "error entry without message",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "errors": [{"source": "Get-InboxRule"}]}`,
			fragments: []string{"errors[0].message: is required"},
			field:     "errors[0].message",
		},
		{
			name: "error source prefixed with the service",
			src: "{\"schema_version\": 1, \"tenant\": {\"name\": \"acme\"}, \"errors\": [\n" +
				`  {"source": "Get-InboxRule", "message": "x"},` + "\n" +
				`  {"source": "graph:messageRules", "message": "x"},` + "\n" +
				`  {"source": "exchange:Get-MailContact", "message": "HTTP 500"}` + "\n]}",
			fragments: []string{
				`x.json:4:4: errors[2].source: "exchange:Get-MailContact" is not a source ticketguard knows`,
				"no check would treat that data as failed",
				`did you mean "Get-MailContact"?`,
				"a cmdlet name on its own (Get-InboxRule), graph:<section> (graph:messageRules), atera_api, smtp_probe, auth or collection",
			},
			field: "errors[2].source", line: 4, col: 4,
		},
		{
			name:      "error source with cmdlet parameters",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "errors": [{"source": "Get-MailContact -ResultSize Unlimited", "message": "x"}]}`,
			fragments: []string{`errors[0].source: "Get-MailContact -ResultSize Unlimited" is not a source`, `did you mean "Get-MailContact"?`},
			field:     "errors[0].source",
		},
		{
			name:      "error source without Get-",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "errors": [{"source": "DistributionGroupMember", "message": "x"}]}`,
			fragments: []string{`did you mean "Get-DistributionGroupMember"?`},
			field:     "errors[0].source",
		},
		{
			name:      "error source naming a Graph section another way",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "errors": [{"source": "graph/messageRules", "message": "x"}]}`,
			fragments: []string{`did you mean "graph:messageRules"?`},
			field:     "errors[0].source",
		},
		{
			name:      "error source misspelt",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "errors": [{"source": "atera-api", "message": "x"}]}`,
			fragments: []string{`did you mean "atera_api"?`},
			field:     "errors[0].source",
		},
		{
			name:      "error source unrelated to any source",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "errors": [{"source": "PowerShell", "message": "x"}]}`,
			fragments: []string{`errors[0].source: "PowerShell" is not a source ticketguard knows`, "a source is a cmdlet name on its own"},
			field:     "errors[0].source",
		},
		{
			name:      "ticketing address that is not an address",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "atera": {"ticketing_address": "northwind", "support_address": "support@acme.com"}}`,
			fragments: []string{`atera.ticketing_address: "northwind" is not an e-mail address`, "acme@ticketing.atera.com"},
			field:     "atera.ticketing_address",
		},
		{
			name:      "support address that is not an address",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support"}}`,
			fragments: []string{`atera.support_address: "support" is not an e-mail address`, "support@acme.com"},
			field:     "atera.support_address",
		},
		{
			name:      "support address with a space",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "atera": {"support_address": "support @acme.com"}}`,
			fragments: []string{`atera.support_address: "support @acme.com" is not an e-mail address`},
			field:     "atera.support_address",
		},
		{
			name: "empty atera.smtp object",
			src:  `{"schema_version": 1, "tenant": {"name": "acme"}, "atera": {"smtp": {}}}`,
			fragments: []string{
				"atera.smtp.server: is required", "atera.smtp.port: is required",
				"atera.smtp.ssl: is required", "atera.smtp.username: is required",
				`write "smtp": null when Atera sends from its default address`,
			},
			field: "atera.smtp.server",
		},
		{
			name:      "atera.smtp without username",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "atera": {"smtp": {"server": "smtp.office365.com", "port": 587, "ssl": true}}}`,
			fragments: []string{"atera.smtp.username: is required"},
			field:     "atera.smtp.username",
		},
		{
			name:      "truncated admin API result",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Get-Mailbox": {"@odata.context": "x", "@odata.nextLink": "y", "value": []}}}`,
			fragments: []string{"exchange.Get-Mailbox: the result is incomplete", "-ResultSize Unlimited"},
			field:     "exchange.Get-Mailbox",
		},
		{
			name:      "per-recipient key that is not an address",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Get-InboxRule": {"Support": []}}}`,
			fragments: []string{`exchange.Get-InboxRule.Support: the key must be the recipient's primary SMTP address`, "not an alias"},
			field:     "exchange.Get-InboxRule.Support",
		},
		{
			name:      "two keys for one recipient",
			src:       `{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Get-InboxRule": {"SMTP:Support@acme.com": [], "support@acme.com": []}}}`,
			fragments: []string{`names the same recipient as "SMTP:Support@acme.com"`},
			field:     `exchange.Get-InboxRule["support@acme.com"]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.file != "" {
				_, err = Load(tt.file)
			} else {
				_, err = Parse("x.json", []byte(tt.src))
			}
			e := wantError(t, err, tt.fragments...)
			if tt.field != "" && e.Field != tt.field {
				t.Errorf("Field = %q, want %q", e.Field, tt.field)
			}
			if tt.line != 0 && e.Line != tt.line {
				t.Errorf("Line = %d, want %d", e.Line, tt.line)
			}
			if tt.col != 0 && e.Column != tt.col {
				t.Errorf("Column = %d, want %d", e.Column, tt.col)
			}
		})
	}
}

// Every source name a collector writes, and a cmdlet name in any case (the
// Rego library compares sources case-insensitively), is accepted.
func TestParseAcceptsKnownErrorSources(t *testing.T) {
	sources := []string{
		"Get-InboxRule", "get-mailcontact", "GET-MAILBOX", "Get-SomethingCustom",
		"graph:messageRules", "graph.contacts", "graph:groupMembers", "graph:messageTraces", "graph:messageTraceDetails",
		"atera_api", "smtp_probe", "auth", "collection",
	}
	var items []string
	for _, s := range sources {
		items = append(items, fmt.Sprintf(`{"source": %q, "message": "x"}`, s))
	}
	src := `{"schema_version": 1, "tenant": {"name": "acme"}, "errors": [` + strings.Join(items, ",") + `]}`
	doc, err := Parse("x.json", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(doc.Errors) != len(sources) {
		t.Errorf("Errors = %d, want %d", len(doc.Errors), len(sources))
	}
}

// Addresses may be written the way Exchange shows them (SMTP: prefix, upper case).
func TestParseAcceptsAddressForms(t *testing.T) {
	src := `{"schema_version": 1, "tenant": {"name": "acme"}, "atera": {"ticketing_address": "SMTP:Acme@Ticketing.Atera.com", "support_address": "Support@acme.co.uk", "smtp": null}}`
	if _, err := Parse("x.json", []byte(src)); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

func TestParseReportsSeveralProblemsInFileOrder(t *testing.T) {
	src := "{\n\"schema_version\": 1,\n\"tenant\": {},\n\"exchange\": {\"Get-Mailbox\": 3}\n}"
	_, err := Parse("x.json", []byte(src))
	wantError(t, err)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 problems, got %q", lines)
	}
	if !strings.HasPrefix(lines[0], "x.json:3:1: tenant.name: is required") ||
		!strings.HasPrefix(lines[1], "x.json:4:14: exchange.Get-Mailbox: must be an array") {
		t.Errorf("problems = %q", lines)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.json")
	wantError(t, err, "testdata/nope.json: no such file or directory")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
}

func TestEncodings(t *testing.T) {
	src := "{\"schema_version\": 1, \"tenant\": {\"name\": \"Müller\"}}"
	utf16le := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(src)) {
		utf16le = append(utf16le, byte(u), byte(u>>8))
	}
	utf16be := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(src)) {
		utf16be = append(utf16be, byte(u>>8), byte(u))
	}
	for name, data := range map[string][]byte{
		"utf-8":        []byte(src),
		"utf-8 bom":    append([]byte{0xEF, 0xBB, 0xBF}, src...),
		"utf-16le bom": utf16le,
		"utf-16be bom": utf16be,
	} {
		t.Run(name, func(t *testing.T) {
			doc, err := Parse("x.json", data)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Name != "Müller" {
				t.Errorf("Name = %q", doc.Name)
			}
		})
	}
	t.Run("latin-1", func(t *testing.T) {
		_, err := Parse("x.json", []byte("{\"schema_version\": 1, \"tenant\": {\"name\": \"M\xfcller\"}}"))
		wantError(t, err, "x.json: the file is not UTF-8 text")
	})
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr []string
	}{
		{
			name: "directory: its *.json files sorted, not hidden, not recursive, not directories",
			in:   []string{"testdata/dir"},
			want: []string{"testdata/dir/UPPER.JSON", "testdata/dir/a.json", "testdata/dir/b.json"},
		},
		{
			name: "files kept in order, any extension, duplicates dropped",
			in:   []string{"testdata/valid.json", "testdata/dir/notes.txt", "testdata/dir", "./testdata/valid.json", "testdata/dir/a.json"},
			want: []string{"testdata/valid.json", "testdata/dir/notes.txt", "testdata/dir/UPPER.JSON", "testdata/dir/a.json", "testdata/dir/b.json"},
		},
		{
			name:    "missing path",
			in:      []string{"testdata/valid.json", "testdata/missing"},
			wantErr: []string{"testdata/missing: no such file or directory"},
		},
		{
			name:    "directory holding only hidden files",
			in:      []string{"testdata/dir/nested.json"},
			wantErr: []string{"testdata/dir/nested.json: the directory holds no snapshot (*.json)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.in)
			if tt.wantErr != nil {
				wantError(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i] = filepath.ToSlash(filepath.Clean(got[i]))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := Expand(nil); err == nil {
		t.Error("Expand(nil): want an error")
	}
}

func TestPatch(t *testing.T) {
	snap, err := os.ReadFile("testdata/valid.json")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("applies", func(t *testing.T) {
		p, err := LoadPatch("testdata/patch_applies.json")
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Apply("testdata/valid.json", snap)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Parse("testdata/valid.json", out)
		if err != nil {
			t.Fatalf("patched snapshot does not parse: %v", err)
		}
		if want := []string{
			"test /exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode",
			"replace /exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode",
		}; !reflect.DeepEqual(p.Ops(), want) {
			t.Errorf("Ops() = %q", p.Ops())
		}
		if got := get(t, doc.Data, "exchange", "Get-HostedOutboundSpamFilterPolicy", 0, "AutoForwardingMode"); got != "Automatic" {
			t.Errorf("AutoForwardingMode = %v, want Automatic", got)
		}
		// Everything else survives the round trip, big integers included.
		if got := get(t, doc.Data, "exchange", "Get-InboxRule", "support@acme.com", 0, "RuleIdentity"); got != json.Number("18446744073709551615123") {
			t.Errorf("RuleIdentity after patch = %#v", got)
		}
	})

	applyTests := []struct {
		name      string
		patch     string
		fragments []string
		field     string
		line      int
	}{
		{
			name:  "path that does not exist",
			patch: "testdata/patch_missing.json",
			fragments: []string{
				"testdata/patch_missing.json:3:3: [1]:",
				"op 1 (replace /exchange/Get-DistributionGroup/0/ManagedBy) does not apply to testdata/valid.json",
				"/exchange/Get-DistributionGroup is an object, not an array",
				"a cmdlet holding a single object (not an array) has no /0",
			},
			field: "[1]", line: 3,
		},
		{
			name:  "failed test op",
			patch: "testdata/patch_test_fails.json",
			fragments: []string{
				"testdata/patch_test_fails.json:2:3: [0]:",
				`op 0 (test /exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode) failed on testdata/valid.json: the value there is "On"`,
				"not in the state the patch expects",
			},
			field: "[0]", line: 2,
		},
	}
	for _, tt := range applyTests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := LoadPatch(tt.patch)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Apply("testdata/valid.json", snap)
			e := wantError(t, err, tt.fragments...)
			if e.Field != tt.field || e.Line != tt.line {
				t.Errorf("Field, Line = %q, %d; want %q, %d", e.Field, e.Line, tt.field, tt.line)
			}
		})
	}

	t.Run("broken snapshot is reported as the snapshot's problem", func(t *testing.T) {
		p, err := LoadPatch("testdata/patch_applies.json")
		if err != nil {
			t.Fatal(err)
		}
		trunc, _ := os.ReadFile("testdata/truncated.json")
		_, err = p.Apply("testdata/truncated.json", trunc)
		wantError(t, err, "testdata/truncated.json:15:", "the file looks truncated")
	})

	loadTests := []struct {
		name      string
		file      string
		src       string
		fragments []string
		field     string
	}{
		{
			name:      "unknown op",
			file:      "testdata/patch_bad_op.json",
			fragments: []string{"testdata/patch_bad_op.json:3:4: [1].op: unknown op \"rename\"", "use add, remove, replace, move, copy or test"},
			field:     "[1].op",
		},
		{
			name:      "path not a pointer",
			file:      "testdata/patch_bad_pointer.json",
			fragments: []string{"testdata/patch_bad_pointer.json:2:20: [0].path: \"exchange/Get-Mailbox\" is not a JSON Pointer: it must start with \"/\""},
			field:     "[0].path",
		},
		{
			name:      "not an array",
			file:      "testdata/patch_not_array.json",
			fragments: []string{"testdata/patch_not_array.json:1:1: a JSON Patch must be an array of operations, got object"},
		},
		{
			name:      "missing value",
			src:       `[{"op": "add", "path": "/a"}]`,
			fragments: []string{`p.json:1:2: [0]: "add" needs "value"`},
			field:     "[0]",
		},
		{
			name:      "missing op",
			src:       `[{"path": "/a"}]`,
			fragments: []string{`p.json:1:2: [0]: "op" is missing`},
			field:     "[0]",
		},
		{
			name:      "move without from",
			src:       `[{"op": "move", "path": "/a"}]`,
			fragments: []string{`[0]: "move" needs "from"`},
			field:     "[0]",
		},
		{
			name:      "bad escape",
			src:       `[{"op": "remove", "path": "/a~2b"}]`,
			fragments: []string{`"~" must be followed by 0 or 1`},
			field:     "[0].path",
		},
		{
			name:      "empty",
			src:       `[]`,
			fragments: []string{"p.json:1:1: the patch has no operations"},
		},
		{
			name:      "invalid JSON",
			src:       `[{"op": "remove", "path": "/a"}`,
			fragments: []string{"p.json:1:32: invalid JSON: unexpected end of input"},
		},
	}
	for _, tt := range loadTests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.file != "" {
				_, err = LoadPatch(tt.file)
			} else {
				_, err = ParsePatch("p.json", []byte(tt.src))
			}
			e := wantError(t, err, tt.fragments...)
			if e.Field != tt.field {
				t.Errorf("Field = %q, want %q", e.Field, tt.field)
			}
		})
	}
}

func TestPatchMoveCopyAndRemove(t *testing.T) {
	snap := []byte(`{"schema_version": 1, "tenant": {"name": "acme"}, "exchange": {"Get-Mailbox": [{"A": 1}], "Get-MailContact": []}}`)
	p, err := ParsePatch("p.json", []byte(`[
		{"op": "copy", "from": "/exchange/Get-Mailbox/0", "path": "/exchange/Get-MailContact/-"},
		{"op": "move", "from": "/exchange/Get-Mailbox", "path": "/exchange/Get-CASMailbox"},
		{"op": "add", "path": "/exchange/Get-InboxRule", "value": {"SMTP:X@acme.com": null}},
		{"op": "remove", "path": "/exchange/Get-InboxRule"}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply("s.json", snap)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse("s.json", out)
	if err != nil {
		t.Fatal(err)
	}
	ex := doc.Data["exchange"].(map[string]any)
	want := map[string]any{
		"Get-MailContact": []any{map[string]any{"A": json.Number("1")}},
		"Get-CASMailbox":  []any{map[string]any{"A": json.Number("1")}},
	}
	if !reflect.DeepEqual(ex, want) {
		t.Errorf("exchange = %#v", ex)
	}

	absent, err := ParsePatch("p.json", []byte(`[{"op": "test", "path": "/exchange/Get-Mailbox/0/B", "value": 1}]`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = absent.Apply("s.json", snap)
	wantError(t, err, "op 0 (test /exchange/Get-Mailbox/0/B) failed on s.json: there is no value at that path")

	bad, err := ParsePatch("p.json", []byte(`[{"op": "move", "from": "/exchange/Nope", "path": "/exchange/X"}]`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Apply("s.json", snap)
	wantError(t, err, "p.json:1:2: [0]: op 0 (move /exchange/Nope to /exchange/X) does not apply to s.json: /exchange has no key \"Nope\"")
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.json"}, "a.json: "},
		{Error{File: "a.json", Line: 3, Column: 7, Field: "tenant.name", Problem: "is required", Hint: "name it"},
			"a.json:3:7: tenant.name: is required (name it)"},
		{Error{File: "a.json", Line: 3, Problem: "bad"}, "a.json:3: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncdé\nf")
	for _, tt := range []struct{ off, line, col int }{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {7, 2, 4}, {8, 3, 1}, {99, 3, 2},
	} {
		if l, c := position(data, tt.off); l != tt.line || c != tt.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tt.off, l, c, tt.line, tt.col)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"valid.json", "truncated.json", "wrong_version.json", "cmdlet_string.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"schema_version": 1, "tenant": {"name": "a"}, "exchange": {"Get-InboxRule": {"SMTP:A@b": {"x": 1}}, "Get-Mailbox": {"@odata.context": "", "value": [1]}}}`))
	f.Add([]byte{0xFF, 0xFE, '{', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse("fuzz.json", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *snapshot.Error", err, err)
			}
			return
		}
		if doc.Name == "" || doc.Data == nil {
			t.Fatalf("accepted a snapshot without name or data: %+v", doc)
		}
	})
}
