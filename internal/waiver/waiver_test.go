package waiver

import (
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var catalogue = []string{"ticketing-contact", "external-forwarding-scope", "send-as", "via-tag"}

func known(id string) bool {
	for _, c := range catalogue {
		if c == id {
			return true
		}
	}
	return false
}

func date(s string) time.Time {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLoadValid(t *testing.T) {
	s, err := Load("testdata/valid.yaml", known, catalogue...)
	if err != nil {
		t.Fatal(err)
	}
	want := []Waiver{
		{Check: "external-forwarding-scope", Tenant: "acme", Reason: "Customer insists on default policy; ticket #4711", Expires: date("2027-03-31"), Line: 3},
		{Check: "via-tag", Tenant: "*", Resource: "policy:Office365 AntiPhish Default", Reason: "Via tag accepted until the preset policy rollout", Expires: date("2027-01-15"), Line: 7},
		{Check: "send-as", Tenant: "Globex", Reason: "SMTP user replaced next sprint", Expires: date("2026-12-01"), Line: 12},
	}
	if got := s.Waivers(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if s.File != "testdata/valid.yaml" {
		t.Errorf("File = %q", s.File)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string // from testdata, or
		src   string // inline
		known func(string) bool
		ids   []string
		want  []string // each line of the error, in order
	}{
		{
			name: "not a date",
			file: "testdata/bad_date.yaml",
			want: []string{`testdata/bad_date.yaml:7: waivers[1].expires: "2027-13-01" is not a date (use YYYY-MM-DD)`},
		},
		{
			name: "unknown check id lists the known ids",
			file: "testdata/unknown_check.yaml",
			want: []string{`testdata/unknown_check.yaml:2: waivers[0].check: unknown check "external-forwarding-scop" (did you mean "external-forwarding-scope"? known checks: external-forwarding-scope, send-as, ticketing-contact, via-tag)`},
		},
		{
			name:  "unknown check id without the list",
			file:  "testdata/unknown_check.yaml",
			known: known,
			want:  []string{"testdata/unknown_check.yaml:2: waivers[0].check: unknown check \"external-forwarding-scop\" (`ticketguard policy list` shows the known check ids)"},
		},
		{
			name: "unknown field",
			file: "testdata/unknown_field.yaml",
			want: []string{`testdata/unknown_field.yaml:5: waivers[0].expiry: unknown field (did you mean "expires"? fields: check, tenant, resource, reason, expires)`},
		},
		{
			name: "missing required fields",
			file: "testdata/missing_fields.yaml",
			want: []string{
				`testdata/missing_fields.yaml:2: waivers[0].tenant: is required (a tenant name as in the snapshot's tenant.name, or "*" for every tenant)`,
				`testdata/missing_fields.yaml:2: waivers[0].reason: is required (say why the failure is accepted, e.g. a ticket number; reports show it)`,
				`testdata/missing_fields.yaml:2: waivers[0].expires: is required (a date, YYYY-MM-DD: every waiver expires so that it gets reviewed)`,
			},
		},
		{
			name: "unquoted star",
			file: "testdata/bare_star.yaml",
			want: []string{`testdata/bare_star.yaml:3: invalid YAML: mapping value is not allowed in this context (quote a lone *, as in tenant: "*": YAML reads a bare * as an alias)`},
		},
		{
			name: "unquoted star at the end of the file",
			src:  "waivers:\n  - check: via-tag\n    tenant: *\n",
			want: []string{`w.yaml:3: invalid YAML: undefined alias name (quote a lone *, as in tenant: "*"`},
		},
		{
			name: "missing check",
			src:  "waivers:\n  - tenant: acme\n    reason: r\n    expires: 2027-01-01\n",
			want: []string{"w.yaml:2: waivers[0].check: is required (the id of the check, as `ticketguard policy list` shows it)"},
		},
		{
			name: "timestamp instead of a date",
			src:  "waivers:\n  - check: via-tag\n    tenant: acme\n    reason: r\n    expires: 2027-01-01T00:00:00Z\n",
			want: []string{`w.yaml:5: waivers[0].expires: "2027-01-01T00:00:00Z" is not a date (use YYYY-MM-DD)`},
		},
		{
			name: "blank reason",
			src:  "waivers:\n  - check: via-tag\n    tenant: acme\n    reason: \"  \"\n    expires: 2027-01-01\n",
			want: []string{`w.yaml:4: waivers[0].reason: is required`},
		},
		{
			name: "top-level key misspelt",
			src:  "waiver:\n  - check: via-tag\n",
			want: []string{`w.yaml:1: waiver: unknown field (the file has one key, waivers:, holding a list of waivers)`},
		},
		{
			name: "waivers not a list",
			src:  "waivers:\n  check: via-tag\n",
			want: []string{`w.yaml:2: waivers: must be a list of waivers`},
		},
		{
			name: "waiver not a mapping",
			src:  "waivers:\n  - via-tag\n",
			want: []string{`w.yaml:2: waivers[0]: must be a mapping (each waiver is a mapping: check, tenant, resource, reason, expires)`},
		},
		{
			name: "field not a string",
			src:  "waivers:\n  - check: via-tag\n    tenant: [acme, globex]\n",
			want: []string{`w.yaml:3: waivers[0].tenant: must be a string`},
		},
		{
			name: "duplicate waiver",
			src: "waivers:\n  - {check: via-tag, tenant: acme, reason: a, expires: 2027-01-01}\n" +
				"  - {check: via-tag, tenant: ACME, reason: b, expires: 2028-01-01}\n",
			want: []string{`w.yaml:3: waivers[1]: waives the same check, tenant and resource as waivers[0]`},
		},
		{
			name: "two documents",
			src:  "waivers: []\n---\nwaivers: []\n",
			want: []string{`w.yaml:3: only one YAML document is allowed`},
		},
		{
			name: "tab indentation",
			src:  "waivers:\n\t- check: via-tag\n",
			want: []string{"w.yaml:2: invalid YAML: found character '\t' that cannot start any token (YAML does not allow tabs for indentation; use spaces)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			k, ids := tt.known, tt.ids
			if k == nil && ids == nil {
				ids = catalogue
			}
			if tt.file != "" {
				_, err = Load(tt.file, k, ids...)
			} else {
				_, err = Parse("w.yaml", []byte(tt.src), k, ids...)
			}
			if err == nil {
				t.Fatalf("want error %q, got nil", tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v (%T) is not a *waiver.Error", err, err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				got := lines[min(i, len(lines)-1)]
				if !strings.Contains(got, w) {
					t.Errorf("problem %d = %q\nwant it to contain %q", i, got, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yaml", known)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "testdata/nope.yaml: ") {
		t.Errorf("err = %v", err)
	}
}

func TestEmptyFileWaivesNothing(t *testing.T) {
	for _, src := range []string{"", "# no waivers yet\n", "waivers: []\n", "waivers:\n"} {
		s, err := Parse("w.yaml", []byte(src), known)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if len(s.Waivers()) != 0 {
			t.Errorf("%q: %d waivers", src, len(s.Waivers()))
		}
	}
}

func TestActiveThroughExpiryDayUTC(t *testing.T) {
	w := Waiver{Expires: date("2027-03-31")}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), false},
		// 01:30 on April 1st in Berlin is still March 31st in UTC.
		{time.Date(2027, 4, 1, 1, 30, 0, 0, time.FixedZone("CEST", 2*3600)), true},
		{time.Date(2027, 4, 1, 2, 30, 0, 0, time.FixedZone("CEST", 2*3600)), false},
	}
	for _, tt := range tests {
		if got := w.Active(tt.now); got != tt.want {
			t.Errorf("Active(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"valid.yaml", "bad_date.yaml", "unknown_field.yaml", "bare_star.yaml"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("waivers:\n  - {check: via-tag, tenant: '*', reason: r, expires: 2027-01-01, resource: x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, known)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v (%T) is not a *waiver.Error", err, err)
			}
			return
		}
		for _, w := range s.Waivers() {
			if w.Check == "" || w.Tenant == "" || w.Reason == "" || w.Expires.IsZero() || !known(w.Check) {
				t.Fatalf("accepted an incomplete waiver: %+v", w)
			}
		}
	})
}
