package collect_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/simulator/smtp"
)

// expectedFailure: the sources faultsFromFixture makes fail, per tenant,
// filled as the faults are built.
var expectedFailure = map[string]map[string]bool{}

// faultsFromFixture turns what a repository snapshot says was not collected
// into failures of the simulated services, so the live collection misses
// the same data: a source in its errors fails with the recorded 5xx, and
// absent inbox rules (Get-InboxRule not collected) are forbidden on both
// Exchange and Graph. Without this the simulator would answer those
// requests, and the collected snapshot would rightly judge more than the
// file does.
func faultsFromFixture(ten *fixture.Tenant) []fault.Rule {
	var rules []fault.Rule
	fail := func(source string, r fault.Rule) {
		r.Tenant = ten.TenantID
		rules = append(rules, r)
		if expectedFailure[ten.Name] == nil {
			expectedFailure[ten.Name] = map[string]bool{}
		}
		expectedFailure[ten.Name][source] = true
	}
	for _, e := range recordedErrors(ten.Name) {
		fail(e.Source, fault.Rule{Endpoint: "exchange:" + e.Source, Kind: fault.ServerError, Status: 500})
	}
	if _, ok := ten.Exchange["Get-InboxRule"]; !ok {
		fail("Get-InboxRule", fault.Rule{Endpoint: "exchange:Get-InboxRule", Kind: fault.Forbidden})
		fail("graph:messageRules", fault.Rule{Endpoint: "graph:messageRules", Kind: fault.Forbidden})
	}
	// A snapshot written without the live sections (offline-only): the
	// services that fill them refuse.
	if _, ok := ten.Graph["messageTraces"]; !ok {
		fail("graph:messageTraces", fault.Rule{Endpoint: "graph:messageTraces", Kind: fault.Forbidden})
	}
	if !hasSection(ten.Name, "atera_api") {
		r := fault.Rule{Endpoint: "atera:tickets", Kind: fault.Forbidden}
		fail("atera_api", r)
		rules[len(rules)-1].Tenant = ten.Name // the Atera service knows tenants by name
	}
	return rules
}

// probeLogin is the login outcome a repository snapshot's smtp_probe
// records, "" without one.
func probeLogin(name string) string {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tenants", name+".json"))
	if err != nil {
		return ""
	}
	var doc struct {
		Probe struct {
			Login string `json:"login"`
		} `json:"smtp_probe"`
	}
	_ = json.Unmarshal(data, &doc)
	return doc.Probe.Login
}

// hasSection reports whether a repository snapshot has a top-level section.
func hasSection(name, section string) bool {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tenants", name+".json"))
	if err != nil {
		return false
	}
	var doc map[string]json.RawMessage
	_ = json.Unmarshal(data, &doc)
	_, ok := doc[section]
	return ok
}

// Simulator → collect → check for every repository tenant: the collected
// snapshot must give the statuses testdata/expected holds, for every check
// (live ones included: the probe, the message trace and the tickets are
// collected from the simulator too). A difference is a collector bug (something read wrongly or not
// at all) or a simulator shape bug (served differently from the file).
func TestCollectEveryTestdataTenant(t *testing.T) {
	tenants := testdataTenants(t)
	faults := &fault.Injector{}
	for _, ten := range tenants {
		for _, r := range faultsFromFixture(ten) {
			faults.Add(r)
		}
	}
	// Pages of 2 objects: every list of more than two goes through paging.
	sim, cfg, _ := startSim(t, simulator.Options{Tenants: tenants, PageSize: 2, Faults: faults})
	cfg.Collect.RetryBudget = time.Second // a recorded 5xx is answered every time: do not wait long for it
	for _, ten := range tenants {
		// A refused SMTP login the Exchange data does not explain (in
		// broken-smtp-login, Security Defaults block basic authentication):
		// the simulator cannot derive it from the fixture, so it is told to
		// refuse basic authentication for that tenant. (An "smtp" fault rule
		// cannot do it: the SMTP service matches rules by tenant only when
		// one tenant has the user name, and these variants share theirs.)
		if probeLogin(ten.Name) == "failed" {
			if err := sim.SMTP().SetAuthMode(ten.Name, smtp.BasicAuthRetired); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := t.TempDir()
	// The repository's snapshots were collected just after 06:00 on
	// 2026-11-27; their message traces and tickets are dated up to then.
	collectedAt := time.Date(2026, 11, 27, 6, 1, 0, 0, time.UTC)
	outcomes, err := collect.Run(context.Background(), cfg, collect.Options{
		OutDir: out, ProbeSMTP: true, SMTPAddress: sim.URLs().SMTP, Engine: engine(t), Version: "test",
		Now: func() time.Time { return collectedAt },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != len(tenants) {
		t.Fatalf("outcomes = %d, want %d", len(outcomes), len(tenants))
	}
	for _, o := range outcomes {
		t.Run(o.Tenant, func(t *testing.T) {
			if o.Err != nil {
				t.Fatalf("not collected: %v", o.Err)
			}
			for _, e := range o.Errors {
				if !expectedFailure[o.Tenant][e.Source] {
					t.Errorf("collection error %s: %s", e.Source, e.Message)
				}
			}
			got := statusesOf(t, o)
			want := expectedStatuses(t, o.Tenant)
			if len(want) < len(offlineChecks) {
				t.Fatalf("testdata/expected/%s.json has %d checks", o.Tenant, len(want))
			}
			for id, w := range want {
				if id == "smtp-login" && !hasSection(o.Tenant, "smtp_probe") && got[id] != result.NotApplicable {
					// Written without --probe-smtp: a live collection with
					// the probe knows more than the file.
					continue
				}
				if got[id] != w {
					t.Errorf("%s = %s, want %s\n  %s", id, got[id], w, messagesOf(t, o, id))
				}
			}
			t.Logf("requests %d, rounds %d", o.Stats.Requests, o.Rounds)
		})
	}
}

// recordedErrors reads the errors a repository snapshot records (fixtures
// do not carry them).
func recordedErrors(name string) []result.SourceError {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tenants", name+".json"))
	if err != nil {
		return nil
	}
	var doc struct {
		Errors []result.SourceError `json:"errors"`
	}
	_ = json.Unmarshal(data, &doc)
	return doc.Errors
}

// The same collection with failures injected: the checks that need what
// failed turn indeterminate (never pass), retried failures leave no trace
// but the counters, and the other tenants are unharmed.
func TestCollectWithFaults(t *testing.T) {
	pick := map[string]bool{
		"compliant-group": true, "compliant-mailbox": true, "compliant-custom-smtp": true, "legacy-identities": true,
		"compliant-transport-rule": true, "broken-via-tag": true, "broken-ticketing-contact": true,
		"broken-send-as": true, // no fault at all
	}
	var tenants []*fixture.Tenant
	ids := map[string]string{}
	for _, ten := range testdataTenants(t) {
		if pick[ten.Name] {
			tenants = append(tenants, ten)
			ids[ten.Name] = ten.TenantID
		}
	}
	if len(tenants) != len(pick) {
		t.Skipf("testdata tenants missing: have %d of %d", len(tenants), len(pick))
	}
	faults := &fault.Injector{}
	add := func(tenant string, r fault.Rule) { r.Tenant = ids[tenant]; faults.Add(r) }
	// The support group's members are unknown: Exchange and Graph both
	// refuse them.
	add("compliant-group", fault.Rule{Endpoint: "exchange:Get-DistributionGroupMember", Kind: fault.Forbidden})
	add("compliant-group", fault.Rule{Endpoint: "graph:groupMembers", Kind: fault.Forbidden})
	// Exchange forbids Get-InboxRule (Global Reader lacks it), Graph
	// answers: the rules are known, nothing changes but the error.
	add("compliant-mailbox", fault.Rule{Endpoint: "exchange:Get-InboxRule", Kind: fault.Forbidden})
	// No inbox rules from either.
	add("legacy-identities", fault.Rule{Endpoint: "exchange:Get-InboxRule", Kind: fault.Forbidden})
	add("legacy-identities", fault.Rule{Endpoint: "graph:messageRules", Kind: fault.Forbidden})
	// Throttled for good on the outbound policies, past the retry budget.
	add("compliant-custom-smtp", fault.Rule{Endpoint: "exchange:Get-HostedOutboundSpamFilterPolicy", Kind: fault.Throttle, RetryAfter: time.Second})
	// Throttled twice, then answered: Retry-After honoured, nothing lost.
	add("compliant-transport-rule", fault.Rule{Endpoint: "exchange:Get-Mailbox", Kind: fault.Throttle, RetryAfter: time.Second, Times: 2})
	// A burst of 503s across Exchange, then normal service.
	add("broken-via-tag", fault.Rule{Endpoint: "exchange:*", Kind: fault.ServerError, Status: 503, Times: 3})

	sim, cfg, _ := startSim(t, simulator.Options{Tenants: tenants, Faults: faults})
	cfg.Collect.RetryBudget = 3 * time.Second
	// A rotated secret: broken-ticketing-contact cannot sign in.
	if err := sim.Tenants().Update("broken-ticketing-contact", func(ten *fixture.Tenant) { ten.ClientSecret = "rotated-" + ten.ClientSecret }); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	start := time.Now()
	outcomes, err := collect.Run(context.Background(), cfg, collect.Options{OutDir: out, Engine: engine(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("collected %d tenants in %s", len(outcomes), time.Since(start).Round(time.Millisecond))
	got := byTenant(outcomes)

	// The tenant that cannot sign in: no snapshot file, the reason given.
	if o := got["broken-ticketing-contact"]; o.Err == nil || o.Path != "" || !strings.Contains(o.Err.Error(), "AADSTS7000215") {
		t.Errorf("broken-ticketing-contact: Err = %v, Path = %q; want Entra's invalid-secret error and no file", o.Err, o.Path)
	}
	if _, err := os.Stat(filepath.Join(out, "broken-ticketing-contact.json")); !os.IsNotExist(err) {
		t.Errorf("a snapshot was written for a tenant that could not sign in (stat: %v)", err)
	}
	if o := got["broken-ticketing-contact"]; o.Snapshot == nil || !o.Snapshot.CollectedAt.IsZero() {
		t.Errorf("a tenant nothing was read from must have no collection time, got %+v", o.Snapshot)
	}

	// becomes: check -> status the fault must cause; the others must stay
	// as expected, or at worst turn indeterminate — never pass where they
	// did not.
	cases := map[string]struct {
		errors  []string
		becomes map[string]result.Status
	}{
		"compliant-group": {
			errors: []string{"Get-DistributionGroupMember", "graph:groupMembers"},
			// Without the members no route is known, so nothing that
			// depends on the route can be judged.
			becomes: map[string]result.Status{
				"support-route": result.Indeterminate, "group-external-senders": result.Indeterminate,
				"group-owner": result.Indeterminate, "forwarding-keeps-copy": result.Indeterminate,
				"external-forwarding": result.Indeterminate, "external-forwarding-scope": result.Indeterminate,
				"single-redirect": result.Indeterminate,
			},
		},
		"compliant-mailbox": {errors: []string{"Get-InboxRule"}},
		"legacy-identities": {
			errors:  []string{"Get-InboxRule", "graph:messageRules"},
			becomes: map[string]result.Status{"single-redirect": result.Indeterminate},
		},
		"compliant-custom-smtp": {
			errors: []string{"Get-HostedOutboundSpamFilterPolicy"},
			becomes: map[string]result.Status{
				"external-forwarding": result.Indeterminate, "external-forwarding-scope": result.Indeterminate,
			},
		},
		"broken-via-tag":           {},
		"broken-send-as":           {},
		"compliant-transport-rule": {},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := got[name]
			if o.Err != nil || o.Path == "" {
				t.Fatalf("Err = %v, Path = %q: a tenant with collection errors is still written", o.Err, o.Path)
			}
			var sources []string
			for _, e := range o.Errors {
				sources = append(sources, e.Source)
			}
			if strings.Join(sources, ",") != strings.Join(c.errors, ",") {
				t.Errorf("error sources = %q, want %q\n%v", sources, c.errors, o.Errors)
			}
			statuses := statusesOf(t, o)
			want := expectedStatuses(t, name)
			for _, id := range offlineChecks {
				w := want[id]
				if b, ok := c.becomes[id]; ok {
					w = b
				}
				if statuses[id] != w {
					t.Errorf("%s = %s, want %s\n  %s", id, statuses[id], w, messagesOf(t, o, id))
				}
			}
		})
	}
	if o := got["compliant-custom-smtp"]; o.Stats.Throttled < 2 {
		t.Errorf("compliant-custom-smtp: throttled = %d, want at least 2 (a try and a retry)", o.Stats.Throttled)
	}
	if o := got["compliant-transport-rule"]; o.Stats.Throttled != 2 || o.Stats.Retries < 2 {
		t.Errorf("compliant-transport-rule: throttled = %d, retries = %d; want 2 and at least 2", o.Stats.Throttled, o.Stats.Retries)
	}
	if o := got["broken-via-tag"]; o.Stats.Retries < 3 {
		t.Errorf("broken-via-tag: retries = %d, want at least 3 (the 503 burst)", o.Stats.Retries)
	}
}
