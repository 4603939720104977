package policy

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ticketguard/ticketguard/collectors"
	"github.com/ticketguard/ticketguard/internal/snapshot"
)

// What the plan asks for in each situation is tested in Rego
// (policies/lib/plan/plan_test.rego); these tests hold the engine side: the
// query against the real library, the decoding, and the errors.

// planSnapshot loads a repository tenant, lets edit change the raw document
// (as a collector's partial snapshot would differ), and normalises it.
func planSnapshot(t *testing.T, name string, edit func(doc map[string]any)) map[string]any {
	t.Helper()
	path := "../../testdata/tenants/" + name + ".json"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	if raw, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	d, err := snapshot.Parse(path, raw)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return d.Data
}

func loadPlanEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatalf("load built-in policies: %v", err)
	}
	return e
}

func TestPlanFirstRoundAndConvergence(t *testing.T) {
	e := loadPlanEngine(t)
	ctx := context.Background()

	// After the tenant-wide round: no per-recipient data yet. The support
	// address is a distribution group, so its members are wanted, and
	// nothing is wanted twice once they are there.
	first := planSnapshot(t, "compliant-group", func(doc map[string]any) {
		ex := doc["exchange"].(map[string]any)
		delete(ex, "Get-DistributionGroupMember")
		delete(ex, "Get-InboxRule")
	})
	w, err := e.Plan(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.GroupMembers, []string{"support@northwindtraders.com"}) {
		t.Errorf("group_members = %q, want the support group", w.GroupMembers)
	}
	if w.RecipientPermissions != nil || w.CASMailboxes != nil {
		t.Errorf("no custom SMTP, yet wants = %+v", w)
	}

	// The complete snapshot as the repository holds it: nothing left to fetch.
	full := planSnapshot(t, "compliant-group", func(map[string]any) {})
	w, err = e.Plan(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Empty() {
		t.Errorf("complete snapshot, yet wants = %+v", w)
	}

	// A failed fetch counts as answered: asking again would fail the same way.
	failed := planSnapshot(t, "compliant-group", func(doc map[string]any) {
		delete(doc["exchange"].(map[string]any), "Get-DistributionGroupMember")
		doc["errors"] = []any{map[string]any{"source": "Get-DistributionGroupMember", "message": "support@northwindtraders.com: HTTP 403"}}
	})
	if w, err = e.Plan(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if len(w.GroupMembers) != 0 {
		t.Errorf("group members failed already, yet wanted again: %q", w.GroupMembers)
	}
}

func TestPlanCustomSMTPWantsPermissionsAndCAS(t *testing.T) {
	e := loadPlanEngine(t)
	snap := planSnapshot(t, "compliant-custom-smtp", func(doc map[string]any) {
		ex := doc["exchange"].(map[string]any)
		delete(ex, "Get-RecipientPermission")
		delete(ex, "Get-CASMailbox")
	})
	w, err := e.Plan(context.Background(), snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.CASMailboxes) != 1 || !strings.Contains(w.CASMailboxes[0], "@") {
		t.Errorf("cas_mailboxes = %q, want the SMTP user", w.CASMailboxes)
	}
	if len(w.RecipientPermissions) != 1 {
		t.Errorf("recipient_permissions = %q, want the support recipient", w.RecipientPermissions)
	}
}

func TestPlanCancelled(t *testing.T) {
	e := loadPlanEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Plan(ctx, map[string]any{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestDecodeWants(t *testing.T) {
	good := map[string]any{
		"group_members": []any{"g@x.com"}, "inbox_rules": []any{"a@x.com", "b@x.com"},
		"mailboxes": []any{}, "recipient_permissions": []any{}, "cas_mailboxes": []any{},
		"later_addition": []any{"ignored"},
	}
	w, err := decodeWants(good)
	if err != nil {
		t.Fatal(err)
	}
	want := collectors.Wants{GroupMembers: []string{"g@x.com"}, InboxRules: []string{"a@x.com", "b@x.com"}}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("got %+v, want %+v", w, want)
	}

	// A malformed plan must not read as "nothing more to fetch".
	for name, v := range map[string]any{
		"not an object": []any{},
		"missing key":   map[string]any{"group_members": []any{}},
		"not an array": map[string]any{"group_members": "g@x.com", "inbox_rules": []any{}, "mailboxes": []any{},
			"recipient_permissions": []any{}, "cas_mailboxes": []any{}},
		"not strings": map[string]any{"group_members": []any{json.Number("1")}, "inbox_rules": []any{}, "mailboxes": []any{},
			"recipient_permissions": []any{}, "cas_mailboxes": []any{}},
	} {
		if _, err := decodeWants(v); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
