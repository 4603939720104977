package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ticketguard/ticketguard/internal/snapshot"
)

// The drift view's canonicalisation is tested in Rego
// (policies/lib/drift/drift_test.rego) and end to end in internal/drift;
// these tests hold the engine side: the query, its input and its errors.

var realEngine = sync.OnceValues(func() (*Engine, error) {
	return Load(context.Background(), Options{})
})

func builtinEngine(tb testing.TB) *Engine {
	tb.Helper()
	e, err := realEngine()
	if err != nil {
		tb.Fatalf("load built-in policies: %v", err)
	}
	return e
}

func parseTenant(tb testing.TB, path string, edit func(map[string]any)) map[string]any {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			tb.Fatal(err)
		}
		edit(doc)
		if raw, err = json.Marshal(doc); err != nil {
			tb.Fatal(err)
		}
	}
	d, err := snapshot.Parse(path, raw)
	if err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	return d.Data
}

func TestViewOfEveryRepositoryTenant(t *testing.T) {
	e := builtinEngine(t)
	files, _ := filepath.Glob(tenantsGlob)
	if len(files) == 0 {
		t.Skipf("no snapshots in %s", tenantsGlob)
	}
	kinds := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			view, err := e.View(context.Background(), parseTenant(t, f, nil))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := view["atera"]; !ok {
				t.Error("no atera object")
			}
			for key, v := range view {
				o, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("%s: want an object, got %T", key, v)
				}
				kind, _ := o["kind"].(string)
				label, _ := o["label"].(string)
				_, hasProps := o["properties"].(map[string]any)
				_, hasSources := o["sources"].([]any)
				if kind == "" || label == "" || !hasProps || !hasSources {
					t.Errorf("%s: want kind, label, sources and properties, got %v", key, o)
				}
				if key != "atera" && !strings.HasPrefix(key, kind+":") {
					t.Errorf("%s: key does not start with its kind %q", key, kind)
				}
				kinds[kind] = true
			}
		})
	}
	// The repository's tenants between them exercise these kinds; a kind
	// missing here means the view silently stopped producing it.
	for _, k := range []string{
		"mailbox", "group", "contact", "outbound-policy", "outbound-rule",
		"antiphish-policy", "antiphish-rule", "remote-domain", "transport-rule",
		"connection-filter", "transport-config", "cas-mailbox", "recipient-permission",
		"inbox-rule", "atera", "source",
	} {
		if !kinds[k] {
			t.Errorf("no tenant in %s produced a %q object", tenantsGlob, k)
		}
	}
}

func TestViewReadsOnlyWhatChecksRead(t *testing.T) {
	e := builtinEngine(t)
	const path = "../../testdata/tenants/compliant-mailbox.json"
	before, err := e.View(context.Background(), parseTenant(t, path, nil))
	if err != nil {
		t.Fatal(err)
	}
	after, err := e.View(context.Background(), parseTenant(t, path, func(doc map[string]any) {
		ex := doc["exchange"].(map[string]any)
		for _, m := range ex["Get-Mailbox"].([]any) {
			m := m.(map[string]any)
			m["WhenChanged"] = "2026-11-27T05:59:59.0000000+00:00"
			m["ProhibitSendQuota"] = "1 GB (1,073,741,824 bytes)"
		}
		doc["collected_at"] = "2026-11-28T06:00:00Z"
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Error("changing WhenChanged, ProhibitSendQuota and collected_at changed the view")
	}

	flipped, err := e.View(context.Background(), parseTenant(t, path, func(doc map[string]any) {
		for _, m := range doc["exchange"].(map[string]any)["Get-Mailbox"].([]any) {
			m.(map[string]any)["DeliverToMailboxAndForward"] = false
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	const support = "mailbox:5a1fdd1f-4ee9-4128-99e0-d16183cb8c76"
	got := flipped[support].(map[string]any)["properties"].(map[string]any)["DeliverToMailboxAndForward"]
	if got != false {
		t.Errorf("%s DeliverToMailboxAndForward = %v, want false", support, got)
	}
}

func TestViewWithoutDriftLibrary(t *testing.T) {
	e := loadFixture(t) // fixture policies: no lib/drift
	_, err := e.View(context.Background(), map[string]any{})
	if !errors.Is(err, errNoView) {
		t.Fatalf("View on policies without lib/drift: err = %v, want errNoView", err)
	}
}

func TestViewCancelled(t *testing.T) {
	e := builtinEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.View(ctx, realisticSnapshot("acme", 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The shared prepared query survives a cancelled caller.
	if _, err := e.View(context.Background(), realisticSnapshot("acme", 0)); err != nil {
		t.Fatalf("View after a cancelled call: %v", err)
	}
}

func TestViewConcurrent(t *testing.T) {
	e := builtinEngine(t)
	want, err := e.View(context.Background(), realisticSnapshot("acme", 1))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := e.View(context.Background(), realisticSnapshot("acme", 1))
			if err != nil {
				t.Error(err)
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Error("concurrent View returned a different view")
			}
		})
	}
	wg.Wait()
}

// withMailboxes adds n user mailboxes, one in ten forwarding to a colleague
// by display name, so the view's size and reference resolution scale as in a
// large tenant.
func withMailboxes(snap map[string]any, n int) map[string]any {
	ex := snap["exchange"].(map[string]any)
	list := ex["Get-Mailbox"].([]any)
	for i := range n {
		alias := fmt.Sprintf("user%03d", i)
		m := map[string]any{
			"Name": alias, "Alias": alias, "DisplayName": fmt.Sprintf("User %03d", i),
			"ExternalDirectoryObjectId":  fmt.Sprintf("8b7a6c5d-5555-4e3f-9a1b-%012d", i),
			"Guid":                       fmt.Sprintf("1a2b3c4d-5555-4e5f-8a9b-%012d", i),
			"PrimarySmtpAddress":         alias + "@acme.com",
			"EmailAddresses":             []any{"SMTP:" + alias + "@acme.com", "smtp:" + alias + "@acme.onmicrosoft.com"},
			"RecipientTypeDetails":       "UserMailbox",
			"ForwardingAddress":          nil,
			"DeliverToMailboxAndForward": false,
			"WhenChanged":                "2026-11-01T10:00:00Z",
		}
		if i%10 == 0 && i > 0 {
			m["ForwardingAddress"] = fmt.Sprintf("User %03d", i-1)
			m["DeliverToMailboxAndForward"] = true
		}
		list = append(list, m)
	}
	ex["Get-Mailbox"] = list
	return snap
}

// BenchmarkView: the drift view of one realistic tenant, through the
// prepared query (what `serve` pays per run on top of Evaluate).
//
//	go test -run '^$' -bench View -benchmem ./internal/policy/
func BenchmarkView(b *testing.B) {
	e := builtinEngine(b)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		snap func() map[string]any
	}{
		{"synthetic", func() map[string]any { return realisticSnapshot("acme", 0) }},
		{"compliant-custom-smtp", func() map[string]any {
			return parseTenant(b, "../../testdata/tenants/compliant-custom-smtp.json", nil)
		}},
		{"500-mailboxes", func() map[string]any { return withMailboxes(realisticSnapshot("acme", 0), 500) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			snap := tc.snap()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.View(ctx, snap); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
