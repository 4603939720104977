package collect_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// inflight counts Exchange requests in flight per tenant (the tenant id is
// in the admin API's path), keeping the peaks.
type inflight struct {
	next http.RoundTripper

	mu          sync.Mutex
	perTenant   map[string]int
	peakTenant  int // most requests in flight for one tenant
	peakTenants int // most tenants with a request in flight at once
}

func (f *inflight) RoundTrip(req *http.Request) (*http.Response, error) {
	tenant := ""
	if parts := strings.Split(req.URL.Path, "/"); len(parts) > 3 && parts[1] == "adminapi" {
		tenant = parts[3]
	}
	if tenant != "" {
		f.mu.Lock()
		f.perTenant[tenant]++
		f.peakTenant = max(f.peakTenant, f.perTenant[tenant])
		busy := 0
		for _, n := range f.perTenant {
			if n > 0 {
				busy++
			}
		}
		f.peakTenants = max(f.peakTenants, busy)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.perTenant[tenant]--
			f.mu.Unlock()
		}()
	}
	return f.next.RoundTrip(req)
}

func generated(n, mailboxes int) []*fixture.Tenant {
	tenants := make([]*fixture.Tenant, n)
	for i := range tenants {
		tenants[i] = fixture.Generate(fixture.GenerateOptions{Name: "gen-" + string(rune('a'+i)), Mailboxes: mailboxes})
	}
	return tenants
}

func TestConcurrencyLimits(t *testing.T) {
	sim, cfg, _ := startSim(t, simulator.Options{Tenants: generated(5, 12), Latency: 20 * time.Millisecond})
	cfg.Collect.Concurrency = 2
	cfg.Collect.PerTenantRequests = 3
	f := &inflight{next: sim.HTTPClient().Transport, perTenant: map[string]int{}}
	outcomes, err := collect.Run(context.Background(), cfg, collect.Options{Engine: engine(t), HTTPClient: &http.Client{Transport: f}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if !o.OK() {
			t.Errorf("%s: %v %v", o.Tenant, o.Err, o.Errors)
		}
	}
	if f.peakTenants > 2 {
		t.Errorf("%d tenants had Exchange requests in flight at once; collect.concurrency is 2", f.peakTenants)
	}
	if f.peakTenant > 3 {
		t.Errorf("%d Exchange requests in flight for one tenant; collect.per_tenant_requests is 3", f.peakTenant)
	}
	if f.peakTenant < 2 {
		t.Errorf("never more than %d request in flight for a tenant: the per-tenant limit is not used", f.peakTenant)
	}
}

// A tenant that outlasts collect.timeout is cut off and its snapshot says
// so; the others are unaffected.
func TestTenantTimeout(t *testing.T) {
	tenants := generated(2, 12)
	slow := tenants[0]
	faults := &fault.Injector{}
	faults.Add(fault.Rule{Endpoint: "exchange:Get-TransportRule", Tenant: slow.TenantID, Kind: fault.Slow, Delay: 10 * time.Second})
	_, cfg, _ := startSim(t, simulator.Options{Tenants: tenants, Faults: faults})
	cfg.Collect.Timeout = 1500 * time.Millisecond

	start := time.Now()
	outcomes, err := collect.Run(context.Background(), cfg, collect.Options{Engine: engine(t), OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: the timeout did not cut the slow tenant off", d)
	}
	got := byTenant(outcomes)
	o := got[slow.Name]
	if o.Path == "" || o.Err != nil {
		t.Fatalf("the timed-out tenant still has Exchange data and must be written: Err %v", o.Err)
	}
	var sources []string
	for _, e := range o.Errors {
		sources = append(sources, e.Source)
	}
	if !strings.Contains(strings.Join(sources, ","), "Get-TransportRule") || !strings.Contains(strings.Join(sources, ","), collect.SourceCollection) {
		t.Errorf("errors = %v, want Get-TransportRule and the timeout", o.Errors)
	}
	if st := statusesOf(t, o)["support-route"]; st == result.Pass {
		t.Error("support-route passed without the transport rules")
	}
	if fast := got[tenants[1].Name]; !fast.OK() {
		t.Errorf("the other tenant was harmed: %v %v", fast.Err, fast.Errors)
	}
}

// The snapshot file: valid for check, the collection statistics in it, no
// temporary file left beside it.
func TestSnapshotFile(t *testing.T) {
	tenants := generated(1, 12)
	_, cfg, _ := startSim(t, simulator.Options{Tenants: tenants, PageSize: 3})
	out := filepath.Join(t.TempDir(), "new", "dir")
	now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	outcomes, err := collect.Run(context.Background(), cfg, collect.Options{Engine: engine(t), OutDir: out, Version: "v9.9.9", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	o := outcomes[0]
	if o.Path != filepath.Join(out, tenants[0].Name+".json") {
		t.Fatalf("path = %q", o.Path)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("files in the output directory: %v (a temporary file left?)", entries)
	}
	data, err := os.ReadFile(o.Path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		CollectedAt   string `json:"collected_at"`
		Tenant        struct {
			Name          string `json:"name"`
			DefaultDomain string `json:"default_domain"`
		} `json:"tenant"`
		Collection map[string]any `json:"collection"`
		Exchange   map[string]any `json:"exchange"`
		Graph      map[string]any `json:"graph"`
		AteraAPI   map[string]any `json:"atera_api"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != 1 || doc.CollectedAt != "2026-11-27T06:00:00Z" || doc.Tenant.Name != tenants[0].Name {
		t.Errorf("header: %+v", doc)
	}
	if doc.Tenant.DefaultDomain != strings.ToLower(tenants[0].Domain) {
		t.Errorf("default_domain = %q, want %q", doc.Tenant.DefaultDomain, tenants[0].Domain)
	}
	for _, k := range []string{"requests", "retries", "throttled", "duration_ms", "rounds", "collector_version"} {
		if _, ok := doc.Collection[k]; !ok {
			t.Errorf("collection.%s missing: %v", k, doc.Collection)
		}
	}
	if doc.Collection["collector_version"] != "v9.9.9" || doc.Collection["requests"].(float64) != float64(o.Stats.Requests) {
		t.Errorf("collection = %v, outcome stats %+v", doc.Collection, o.Stats)
	}
	if r := o.Rounds; r < 2 || r > 1+collect.MaxPlanRounds {
		t.Errorf("rounds = %d, want the tenant-wide one and 1 to %d plan rounds", r, collect.MaxPlanRounds)
	}
	// A group tenant whose group holds the contact: no inbox rules are on
	// the path, so none are read (and messageRules stays out).
	for _, k := range []string{"contacts", "groupMembers", "messageTraces"} {
		if _, ok := doc.Graph[k]; !ok {
			t.Errorf("graph.%s missing", k)
		}
	}
	if doc.AteraAPI["tickets"] == nil {
		t.Error("atera_api.tickets missing though an API key is configured")
	}
}

// The aim of the plan: requests per tenant do not grow with its mailboxes.
func TestRequestsIndependentOfMailboxCount(t *testing.T) {
	small := fixture.Generate(fixture.GenerateOptions{Name: "small", Seed: 7, Mailboxes: 15})
	large := fixture.Generate(fixture.GenerateOptions{Name: "large", Seed: 7, Mailboxes: 600})
	large.TenantID = "0badc0de-0000-4000-8000-000000000600" // same seed, same id: the simulator serves each id once
	_, cfg, _ := startSim(t, simulator.Options{Tenants: []*fixture.Tenant{small, large}})
	outcomes, err := collect.Run(context.Background(), cfg, collect.Options{Engine: engine(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := byTenant(outcomes)
	s, l := got["small"], got["large"]
	if !s.OK() || !l.OK() {
		t.Fatalf("errors: small %v %v, large %v %v", s.Err, s.Errors, l.Err, l.Errors)
	}
	if l.Stats.Requests > s.Stats.Requests+2 {
		t.Errorf("requests: %d for 15 mailboxes, %d for 600: the collection grows with the tenant", s.Stats.Requests, l.Stats.Requests)
	}
	t.Logf("requests: small %d, large %d", s.Stats.Requests, l.Stats.Requests)
}

func TestUnknownTenantStopsTheRun(t *testing.T) {
	_, cfg, _ := startSim(t, simulator.Options{Tenants: generated(1, 12)})
	if _, err := collect.Run(context.Background(), cfg, collect.Options{Engine: engine(t), Tenants: []string{"nope"}}); err == nil {
		t.Error("an unknown --tenant must fail the run before collecting")
	}
}

// Sections left out on purpose are listed in collection.skipped, so the
// checks that read them say "not requested" rather than "could not be told";
// a section that was collected is never listed.
func TestSkippedSections(t *testing.T) {
	tenant := fixture.Generate(fixture.GenerateOptions{Name: "gen-smtp", Mailboxes: 12, Method: fixture.MethodMailbox, CustomSMTP: true})
	_, cfg, _ := startSim(t, simulator.Options{Tenants: []*fixture.Tenant{tenant}})
	skipped := func(o collect.Outcome) []any {
		c, _ := o.Snapshot.Data["collection"].(map[string]any)
		s, _ := c["skipped"].([]any)
		return s
	}
	outcomes, err := collect.Run(context.Background(), cfg, collect.Options{Engine: engine(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := skipped(outcomes[0]); len(got) != 1 || got[0] != "smtp_probe" {
		t.Errorf("without --probe-smtp: skipped = %v, want [smtp_probe]", got)
	}
	cfg.Atera.APIKey = nil
	outcomes, err = collect.Run(context.Background(), cfg, collect.Options{Engine: engine(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := skipped(outcomes[0]); len(got) != 2 || got[1] != "atera_api" {
		t.Errorf("without an Atera API key: skipped = %v, want [smtp_probe atera_api]", got)
	}
}
