package snapshot

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestSchemaCompiles(t *testing.T) {
	if _, err := compiled(); err != nil {
		t.Fatal(err)
	}
}

// The schema is published documentation: every field it defines must say
// what it is.
func TestSchemaDescribesEveryField(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(Schema, &root); err != nil {
		t.Fatal(err)
	}
	var missing []string
	var walk func(path string, node map[string]any)
	walk = func(path string, node map[string]any) {
		if _, ok := node["description"]; !ok {
			missing = append(missing, path)
		}
		for _, kw := range []string{"properties", "patternProperties", "$defs"} {
			children, _ := node[kw].(map[string]any)
			for name, child := range children {
				if c, ok := child.(map[string]any); ok {
					walk(path+"/"+kw+"/"+name, c)
				}
			}
		}
		for _, kw := range []string{"items", "additionalProperties"} {
			if c, ok := node[kw].(map[string]any); ok {
				// A bare $ref inherits the description of what it points at.
				if _, isRef := c["$ref"]; isRef && len(c) == 1 {
					continue
				}
				walk(path+"/"+kw, c)
			}
		}
	}
	walk("#", root)
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("schema nodes without a description:\n%s", strings.Join(missing, "\n"))
	}
}

// The cmdlet lists in Go and in the schema must agree, or a cmdlet would be
// normalised as a list while documented per recipient (or the reverse).
func TestSchemaCmdletsMatchGo(t *testing.T) {
	var root struct {
		Properties struct {
			Exchange struct {
				Properties map[string]struct {
					Ref string `json:"$ref"`
				} `json:"properties"`
			} `json:"exchange"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(Schema, &root); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for name, p := range root.Properties.Exchange.Properties {
		got[name] = p.Ref
	}
	want := map[string]string{}
	for _, c := range ListCmdlets {
		want[c] = "#/$defs/listCmdlet"
	}
	for _, c := range PerRecipientCmdlets {
		want[c] = "#/$defs/perRecipient"
	}
	for name, ref := range want {
		if got[name] != ref {
			t.Errorf("schema exchange.%s: $ref %q, want %q", name, got[name], ref)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("schema exchange.%s is not in ListCmdlets or PerRecipientCmdlets", name)
		}
	}
}

// The repository's example tenants are the snapshot contract in practice.
func TestRepositoryTenantsParse(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/tenants/*.json")
	if len(files) == 0 {
		t.Fatal("no snapshot in ../../testdata/tenants: the repository tenants are the contract in practice")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestExplainMissing(t *testing.T) {
	doc := map[string]any{
		"exchange": map[string]any{
			"Get-Mailbox":           []any{map[string]any{"Name": "a"}},
			"Get-DistributionGroup": map[string]any{"Name": "g"},
		},
		"tenant": map[string]any{"name": "acme"},
	}
	tests := []struct {
		ptr        string
		parentOnly bool
		want       string
	}{
		{"/exchange/Get-DistributionGroup/0/ManagedBy", false, "/exchange/Get-DistributionGroup is an object, not an array"},
		{"/exchange/get-mailbox/0", false, `/exchange has no key "get-mailbox" (there is "Get-Mailbox")`},
		{"/exchange/Get-Mailbox/3/Name", false, `/exchange/Get-Mailbox has 1 elements; there is no element "3"`},
		{"/tenant/name/x", false, "/tenant/name is string, not an object or array"},
		{"/nope", false, `the document has no key "nope"`},
		{"/exchange/Get-Mailbox/-", true, ""},
		{"/exchange/Get-Mailbox/1", true, ""},
		{"/exchange/New", true, ""},
		{"/exchange/New/x", true, `/exchange has no key "New"`},
	}
	for _, tt := range tests {
		if got := explainMissing(doc, tt.ptr, tt.parentOnly); got != tt.want {
			t.Errorf("explainMissing(%q, %v) = %q, want %q", tt.ptr, tt.parentOnly, got, tt.want)
		}
	}
}
