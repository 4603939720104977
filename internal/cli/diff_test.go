package cli_test

// Black-box tests of `ticketguard diff`, with the binary and helpers of
// cli_test.go.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// editedTenant writes a copy of a testdata tenant, changed by edit, to a
// temporary file and returns its absolute path.
func editedTenant(t *testing.T, name string, edit func(doc map[string]any)) string {
	t.Helper()
	needTenants(t, name)
	data, err := os.ReadFile(filepath.Join(repoRoot, tenantFile(name)))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	if data, err = json.MarshalIndent(doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+"-edited.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// supportMailbox is compliant-mailbox.json's support mailbox, raw.
func supportMailbox(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	for _, m := range doc["exchange"].(map[string]any)["Get-Mailbox"].([]any) {
		if m := m.(map[string]any); m["PrimarySmtpAddress"] == "support@contosodental.com" {
			return m
		}
	}
	t.Fatal("compliant-mailbox.json has no support mailbox")
	return nil
}

type jsonChange struct {
	Kind     string `json:"kind"`
	Key      string `json:"key"`
	Label    string `json:"label"`
	Property string `json:"property"`
	Change   string `json:"change"`
	Before   any    `json:"before"`
	After    any    `json:"after"`
}

func parseChanges(t *testing.T, r run) []jsonChange {
	t.Helper()
	var changes []jsonChange
	if err := json.Unmarshal([]byte(r.stdout), &changes); err != nil || changes == nil {
		t.Fatalf("stdout is not a JSON array of changes: %v\n%s", err, r)
	}
	return changes
}

func TestDiffNoDrift(t *testing.T) {
	needTenants(t, "compliant-mailbox")
	old := tenantFile("compliant-mailbox")
	// Only what the checks do not read changes: timestamps, order, annotations.
	noise := editedTenant(t, "compliant-mailbox", func(doc map[string]any) {
		doc["collected_at"] = "2026-11-28T06:00:00Z"
		m := supportMailbox(t, doc)
		m["WhenChanged"] = "2026-11-28T05:59:00.0000000+00:00"
		m["DeliverToMailboxAndForward@data.type"] = "System.Boolean"
		slices.Reverse(m["EmailAddresses"].([]any))
		m["ProhibitSendQuota"] = "1 GB (1,073,741,824 bytes)"
	})

	r := ticketguard(t, "diff", old, noise)
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "no drift") {
		t.Errorf("want exit 0 and \"no drift\":\n%s", r)
	}
	r = ticketguard(t, "diff", "--format", "json", old, noise)
	if r.code != 0 || len(parseChanges(t, r)) != 0 {
		t.Errorf("want exit 0 and []:\n%s", r)
	}
}

func TestDiffFindsDrift(t *testing.T) {
	old := tenantFile("compliant-mailbox")
	changed := editedTenant(t, "compliant-mailbox", func(doc map[string]any) {
		m := supportMailbox(t, doc)
		m["DeliverToMailboxAndForward"] = false
		m["WhenChanged"] = "2026-11-28T05:59:00.0000000+00:00"
		// the same contact, named by GUID instead of name: not drift
		for _, c := range doc["exchange"].(map[string]any)["Get-MailContact"].([]any) {
			if c := c.(map[string]any); c["Name"] == "Atera Ticketing" {
				m["ForwardingAddress"] = c["Guid"]
			}
		}
	})

	r := ticketguard(t, "diff", old, changed)
	want := `mailbox "Support" <support@contosodental.com>
  DeliverToMailboxAndForward true → false
`
	if r.code != 1 || r.stderr != "" || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "1 object changed, 0 added, 0 removed") {
		t.Errorf("want exit 1 and the change grouped under its mailbox:\n%s", r)
	}
	if strings.Contains(r.stdout, "ForwardingAddress") {
		t.Errorf("ForwardingAddress written as a GUID reported as drift:\n%s", r.stdout)
	}

	r = ticketguard(t, "diff", "--format", "json", old, changed)
	if r.code != 1 {
		t.Fatalf("want exit 1:\n%s", r)
	}
	got := parseChanges(t, r)
	wantChanges := []jsonChange{{
		Kind: "mailbox", Key: "mailbox:5a1fdd1f-4ee9-4128-99e0-d16183cb8c76",
		Label: `mailbox "Support" <support@contosodental.com>`, Property: "DeliverToMailboxAndForward",
		Change: "changed", Before: true, After: false,
	}}
	if !slices.Equal(got, wantChanges) {
		t.Errorf("changes = %+v\nwant %+v", got, wantChanges)
	}

	// Swapped, the same change the other way round.
	r = ticketguard(t, "diff", "--format", "json", changed, old)
	if got := parseChanges(t, r); r.code != 1 || len(got) != 1 || got[0].Before != false || got[0].After != true {
		t.Errorf("reversed diff:\n%s", r)
	}
}

func TestDiffAddedAndRemovedObjects(t *testing.T) {
	old := tenantFile("compliant-mailbox")
	changed := editedTenant(t, "compliant-mailbox", func(doc map[string]any) {
		ex := doc["exchange"].(map[string]any)
		var keep []any
		for _, p := range ex["Get-RemoteDomain"].([]any) {
			if p.(map[string]any)["Name"] != "Atera ticketing" {
				keep = append(keep, p)
			}
		}
		ex["Get-RemoteDomain"] = keep
		ex["Get-TransportRule"] = append(ex["Get-TransportRule"].([]any), map[string]any{
			"Name": "Block auto-forwarding", "State": "Enabled", "Mode": "Enforce", "Priority": 1,
			"MessageTypeMatches": "AutoForward", "DeleteMessage": true,
		})
	})
	r := ticketguard(t, "diff", "--format", "json", old, changed)
	if r.code != 1 {
		t.Fatalf("want exit 1:\n%s", r)
	}
	var got []string
	for _, c := range parseChanges(t, r) {
		got = append(got, c.Change+" "+c.Label)
	}
	want := []string{`removed remote domain "Atera ticketing"`, `added transport rule "Block auto-forwarding"`}
	if !slices.Equal(got, want) {
		t.Errorf("changes = %q, want %q", got, want)
	}
}

func TestDiffWarnsAboutDifferentTenants(t *testing.T) {
	needTenants(t, "compliant-mailbox", "compliant-group")
	r := ticketguard(t, "diff", tenantFile("compliant-mailbox"), tenantFile("compliant-group"))
	if r.code != 1 || !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "2b0e398e-1e0f-4146-a103-feab6e8e582b") {
		t.Errorf("want exit 1 and a warning naming the other tenant:\n%s", r)
	}
}

func TestDiffBadInput(t *testing.T) {
	needTenants(t, "compliant-mailbox")
	td := filepath.Join("internal", "cli", "testdata", "bad")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"truncated NEW", []string{tenantFile("compliant-mailbox"), filepath.Join(td, "truncated.json")}, []string{"truncated.json", "unexpected end of input"}},
		{"both bad, both reported", []string{filepath.Join(td, "no-such-file.json"), filepath.Join(td, "wrong-schema-version.json")}, []string{"no-such-file.json", "wrong-schema-version.json", "schema_version"}},
		{"a directory", []string{"testdata/tenants", tenantFile("compliant-mailbox")}, []string{"testdata/tenants"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{"text", "json"} {
				r := ticketguard(t, append([]string{"diff", "--format", format}, tc.args...)...)
				if r.code != 2 || r.stdout != "" {
					t.Errorf("want exit 2 and nothing on stdout:\n%s", r)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
					}
				}
			}
		})
	}
}

func TestDiffUsage(t *testing.T) {
	for _, args := range [][]string{
		{"diff"},
		{"diff", "a.json"},
		{"diff", "a.json", "b.json", "c.json"},
		{"diff", "--format", "sarif", "a.json", "b.json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := ticketguard(t, args...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 2 || r.stdout != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], "ticketguard: ") || !strings.Contains(lines[1], "diff --help") {
				t.Errorf("want exit 2, one error line and one hint line:\n%s", r)
			}
		})
	}
}

func TestDiffHelp(t *testing.T) {
	r := ticketguard(t, "diff", "--help")
	_, examples, ok := strings.Cut(r.stdout, "Examples:\n")
	if r.code != 0 || !ok || !strings.Contains(examples, "  ticketguard diff ") {
		t.Errorf("want exit 0 and an Examples section:\n%s", r)
	}
	if !strings.Contains(r.stdout, "0 no drift; 1 drift found; 2 bad usage or bad input") {
		t.Errorf("help does not document the exit codes:\n%s", r.stdout)
	}
}
