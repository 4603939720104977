package collect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// evalTime is the evaluation time of the repository's expected statuses
// (testdata/README.md: the snapshots were taken on 2026-11-27).
var evalTime = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

// offlineChecks are the 13 checks testdata/expected holds; the live-only
// checks (delivery-failures, email-tickets-arriving, smtp-login) are asserted
// separately.
var offlineChecks = []string{
	"ticketing-contact", "support-route", "group-external-senders", "group-owner",
	"forwarding-keeps-copy", "external-forwarding", "external-forwarding-scope",
	"single-redirect", "send-as", "via-tag", "smtp-settings", "smtp-basic-auth",
	"atera-ip-allowlist",
}

var sharedEngine = sync.OnceValues(func() (*policy.Engine, error) {
	return policy.Load(context.Background(), policy.Options{})
})

func engine(tb testing.TB) *policy.Engine {
	tb.Helper()
	e, err := sharedEngine()
	if err != nil {
		tb.Fatalf("load policies: %v", err)
	}
	return e
}

// testdataTenants loads testdata/tenants/*.json as simulator fixtures.
func testdataTenants(tb testing.TB) []*fixture.Tenant {
	tb.Helper()
	tenants, err := fixture.LoadDir(nil, filepath.Join("..", "..", "testdata", "tenants"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(tenants) == 0 {
		tb.Skip("no testdata tenants")
	}
	// Several files are variants of one tenant and share its id; a
	// simulator serves each id once, so the copies get ids of their own
	// (tenant_id is informational: no check reads it).
	seen := map[string]bool{}
	for i, t := range tenants {
		id := strings.ToLower(t.TenantID)
		if seen[id] {
			t.TenantID = fmt.Sprintf("%s%012x", id[:len(id)-12], i+1)
		}
		seen[strings.ToLower(t.TenantID)] = true
	}
	return tenants
}

// startSim runs a simulator for the test and returns it with the
// configuration its WriteConfig wrote, loaded as the CLI would.
func startSim(tb testing.TB, o simulator.Options) (*simulator.Simulator, *config.Config, string) {
	tb.Helper()
	sim, err := simulator.Start(context.Background(), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sim.Close() })
	dir := tb.TempDir()
	path, err := sim.WriteConfig(dir)
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		tb.Fatalf("load the simulator's configuration: %v", err)
	}
	return sim, cfg, path
}

// statusesOf evaluates a collected snapshot.
func statusesOf(tb testing.TB, o collect.Outcome) map[string]result.Status {
	tb.Helper()
	if o.Snapshot == nil {
		tb.Fatalf("%s: no snapshot: %v", o.Tenant, o.Err)
	}
	res, err := engine(tb).Evaluate(context.Background(), o.Snapshot.Data, evalTime)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]result.Status{}
	for _, r := range res {
		out[r.Check.ID] = r.Status
	}
	return out
}

func messagesOf(tb testing.TB, o collect.Outcome, id string) string {
	tb.Helper()
	res, err := engine(tb).Evaluate(context.Background(), o.Snapshot.Data, evalTime)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range res {
		if r.Check.ID == id {
			var b strings.Builder
			b.WriteString(r.Message)
			for _, f := range r.Findings {
				b.WriteString("\n    " + string(f.Status) + ": " + f.Message)
			}
			return b.String()
		}
	}
	return ""
}

func expectedStatuses(tb testing.TB, name string) map[string]result.Status {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "expected", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var want map[string]result.Status
	if err := json.Unmarshal(data, &want); err != nil {
		tb.Fatal(err)
	}
	return want
}

func byTenant(outcomes []collect.Outcome) map[string]collect.Outcome {
	m := map[string]collect.Outcome{}
	for _, o := range outcomes {
		m[o.Tenant] = o
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
