package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/ticketguard/ticketguard/collectors"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	simgraph "github.com/ticketguard/ticketguard/internal/simulator/graph"
)

const (
	acmeTenant = "7f0c2b1e-0d6a-4c7e-9a57-3f1de8a0c001"
	acmeClient = "1b2c3d4e-aaaa-bbbb-cccc-000000000001"
	acmeSecret = "Zq8~s3cr3t.acme-DoNotLeak"
)

var testNow = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

// acme is a tenant whose Graph data is given directly, sized so a page size
// of 2 gives several pages.
func acme() *fixture.Tenant {
	rule := func(i int, actions map[string]any) map[string]any {
		return map[string]any{
			"id": fmt.Sprintf("AQAAAA%d=", i), "displayName": fmt.Sprintf("rule %d", i), "sequence": i,
			"isEnabled": i != 4, "hasError": false, "isReadOnly": false,
			"conditions": map[string]any{"senderContains": []any{"x"}}, "actions": actions,
		}
	}
	recipient := func(addr string) []any {
		return []any{map[string]any{"emailAddress": map[string]any{"name": addr, "address": addr}}}
	}
	contact := func(i int) map[string]any {
		addr := fmt.Sprintf("c%d@partner.example", i)
		return map[string]any{"id": fmt.Sprintf("c%d", i), "displayName": fmt.Sprintf("Contact %d", i), "mail": addr,
			"mailNickname": fmt.Sprintf("c%d", i), "proxyAddresses": []any{"SMTP:" + addr}, "companyName": "Partner"}
	}
	trace := func(id, status, when string) map[string]any {
		return map[string]any{"id": id, "senderAddress": "user@customer.example", "recipientAddress": "acme@ticketing.atera.com",
			"messageId": "<" + id + "@customer.example>", "receivedDateTime": when, "subject": "Help " + id,
			"size": 2048, "fromIP": "203.0.113.7", "toIP": "", "status": status}
	}
	return &fixture.Tenant{
		Name: "acme", TenantID: acmeTenant, ClientID: acmeClient, ClientSecret: acmeSecret,
		Graph: map[string]any{
			"messageRules": map[string]any{"support@acme.com": []any{
				rule(1, map[string]any{"moveToFolder": "AAMkAF", "stopProcessingRules": true}),
				rule(2, map[string]any{"redirectTo": recipient("acme@ticketing.atera.com")}),
				rule(3, map[string]any{"forwardTo": recipient("boss@acme.com")}),
				rule(4, map[string]any{"forwardAsAttachmentTo": recipient("audit@acme.com")}),
				rule(5, map[string]any{"markAsRead": true}),
			}},
			"contacts": []any{contact(1), contact(2), contact(3), contact(4)},
			"groupMembers": map[string]any{"help@acme.com": []any{
				map[string]any{"@odata.type": "#microsoft.graph.user", "id": "u1", "displayName": "Ann", "mail": "ann@acme.com", "userPrincipalName": "ann@acme.com", "proxyAddresses": []any{"SMTP:ann@acme.com"}},
				map[string]any{"@odata.type": "#microsoft.graph.orgContact", "id": "c9", "displayName": "Atera", "mail": "acme@ticketing.atera.com", "proxyAddresses": []any{"SMTP:acme@ticketing.atera.com"}},
				map[string]any{"@odata.type": "#microsoft.graph.group", "id": "g2", "displayName": "Nested", "mail": "nested@acme.com"},
			}},
			"messageTraces": []any{
				trace("m1", "delivered", "2026-11-27T05:00:00Z"),
				trace("m2", "failed", "2026-11-26T09:30:00Z"),
				trace("m3", "delivered", "2026-11-25T09:30:00Z"), // outside 24 h
			},
			"messageTraceDetails": map[string]any{"m2": []any{
				map[string]any{"id": "m2", "messageId": "<m2@customer.example>", "dateTime": "2026-11-26T09:30:01Z", "event": "Receive", "action": "", "description": "Message received by: AM0PR01MB1234.eurprd01.prod.outlook.com", "data": nil},
				map[string]any{"id": "m2", "messageId": "<m2@customer.example>", "dateTime": "2026-11-26T09:30:03Z", "event": "Fail", "action": "", "description": "Reason: [{LED=550 5.7.520 Access denied, Your organization does not allow external forwarding. Please contact your administrator for further assistance. AS(7555)}]", "data": nil},
			}},
		},
	}
}

type recorded struct {
	method, uri, contentEncoding string
	auth                         bool
}

type env struct {
	// intercept, when set, may answer a request instead of the simulator.
	intercept func(w http.ResponseWriter, r *http.Request) bool

	tokens *tokenServer
	faults *fault.Injector
	set    *fixture.Set
	graph  *httptest.Server

	mu   sync.Mutex
	reqs []recorded
}

func newEnv(t *testing.T, pageSize int, tenants ...*fixture.Tenant) *env {
	t.Helper()
	e := &env{tokens: newTokenServer(t), faults: &fault.Injector{}}
	set, err := fixture.NewSet(tenants...)
	if err != nil {
		t.Fatal(err)
	}
	e.set = set
	for _, ten := range tenants {
		e.tokens.register(ten.TenantID, ten.ClientID, ten.ClientSecret)
	}
	h, err := simgraph.New(simgraph.Options{Tenants: set, Validator: e.tokens, Faults: e.faults, PageSize: pageSize, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	e.graph = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.reqs = append(e.reqs, recorded{r.Method, r.RequestURI, r.Header.Get("Content-Encoding"), r.Header.Get("Authorization") != ""})
		e.mu.Unlock()
		if e.intercept != nil && e.intercept(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.graph.Close)
	return e
}

func (e *env) requests() []recorded {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]recorded(nil), e.reqs...)
}

type run struct {
	c     *Client
	stats *collectors.Stats
	p     *collectors.Partial
	mu    sync.Mutex
	steps []string
}

func (e *env) client(t *testing.T, tenantID, clientID, secret string, tweak func(*Options)) *run {
	t.Helper()
	r := &run{stats: &collectors.Stats{}, p: collectors.NewPartial(nil)}
	opts := Options{
		BaseURL:    e.graph.URL,
		Credential: e.tokens.credential(t, tenantID, clientID, secret),
		HTTPClient: e.graph.Client(), // trusts the test servers' certificate
		Stats:      r.stats,
		OnStep: func(s string) {
			r.mu.Lock()
			r.steps = append(r.steps, s)
			r.mu.Unlock()
		},
		RetryDelay: time.Second,
		Now:        func() time.Time { return testNow },
	}
	if tweak != nil {
		tweak(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.c = c
	return r
}

func (r *run) graph(t *testing.T) map[string]any {
	t.Helper()
	g, _ := r.p.Sections()["graph"].(map[string]any)
	if g == nil {
		g = map[string]any{}
	}
	// Round-trip through JSON, as the snapshot file will.
	data, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (r *run) errorsBySource() map[string][]string {
	out := map[string][]string{}
	for _, e := range r.p.Errors() {
		out[e.Source] = append(out[e.Source], e.Message)
	}
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestCollectPagesSelectAndWireShapes(t *testing.T) {
	e := newEnv(t, 2, acme())
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	c := ctx(t)
	r.c.CollectMessageRules(c, r.p, []string{"SMTP:Support@acme.com", "support@acme.com"})
	r.c.CollectContacts(c, r.p)
	r.c.CollectGroupMembers(c, r.p, []string{"help@acme.com"})
	r.c.CollectMessageTraces(c, r.p, "acme@ticketing.atera.com", 24*time.Hour)
	if errs := r.p.Errors(); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	g := r.graph(t)

	rules := g["messageRules"].(map[string]any)["support@acme.com"].([]any)
	if len(rules) != 5 {
		t.Fatalf("want 5 rules over 3 pages, got %d", len(rules))
	}
	r2 := rules[1].(map[string]any)
	addr := r2["actions"].(map[string]any)["redirectTo"].([]any)[0].(map[string]any)["emailAddress"].(map[string]any)["address"]
	if addr != "acme@ticketing.atera.com" || r2["isEnabled"] != true || r2["displayName"] != "rule 2" {
		t.Errorf("rule 2 wire shape: %v", r2)
	}
	if rules[3].(map[string]any)["isEnabled"] != false {
		t.Errorf("isEnabled false must be kept: %v", rules[3])
	}
	if _, ok := r2["@odata.type"]; ok {
		t.Errorf("SDK annotation leaked into a rule: %v", r2)
	}
	if fwd := rules[3].(map[string]any)["actions"].(map[string]any)["forwardAsAttachmentTo"].([]any); len(fwd) != 1 {
		t.Errorf("forwardAsAttachmentTo: %v", rules[3])
	}

	cs := g["contacts"].([]any)
	if len(cs) != 4 {
		t.Fatalf("contacts: %v", cs)
	}
	c0 := cs[0].(map[string]any)
	if c0["mail"] != "c1@partner.example" || c0["proxyAddresses"].([]any)[0] != "SMTP:c1@partner.example" {
		t.Errorf("contact: %v", c0)
	}
	if _, ok := c0["companyName"]; ok {
		t.Errorf("unselected property stored: %v", c0)
	}

	members := g["groupMembers"].(map[string]any)["help@acme.com"].([]any)
	types := []string{}
	for _, m := range members {
		types = append(types, m.(map[string]any)["@odata.type"].(string))
	}
	if strings.Join(types, ",") != "#microsoft.graph.user,#microsoft.graph.orgContact,#microsoft.graph.group" {
		t.Errorf("member types: %v", types)
	}

	mt := g["messageTraces"].(map[string]any)
	if mt["recipient"] != "acme@ticketing.atera.com" || mt["start"] != "2026-11-26T06:00:00Z" || mt["end"] != "2026-11-27T06:00:00Z" {
		t.Errorf("trace window: %v", mt)
	}
	items := mt["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("24 h of traces: %v", items)
	}
	m2 := items[1].(map[string]any)
	if m2["status"] != "failed" || m2["size"] != float64(2048) || m2["senderAddress"] != "user@customer.example" || m2["toIP"] != "" {
		t.Errorf("trace item: %v", m2)
	}
	// The failed message carries its details, where the bounce reason is.
	details, _ := m2["details"].([]any)
	if len(details) != 2 || !strings.Contains(details[1].(map[string]any)["description"].(string), "550 5.7.520") {
		t.Errorf("failed message details: %v", m2)
	}
	if _, ok := items[0].(map[string]any)["details"]; ok {
		t.Errorf("delivered messages need no details: %v", items[0])
	}

	// What went over the wire: every request authenticated, $select on
	// every Graph collection but message trace, paging followed.
	var ruleReqs, traceReqs int
	for _, rq := range e.requests() {
		if !rq.auth {
			t.Errorf("request without token: %s", rq.uri)
		}
		u, _ := url.Parse(rq.uri)
		q := u.Query()
		switch {
		case strings.Contains(u.Path, "/getDetailsByRecipient"):
			traceReqs++
			if !strings.HasSuffix(u.Path, "/messageTraces/m2/getDetailsByRecipient(recipientAddress='acme@ticketing.atera.com')") {
				t.Errorf("details request: %s", rq.uri)
			}
		case strings.Contains(u.Path, "/messageTraces"):
			traceReqs++
			f := q.Get("$filter")
			if !strings.Contains(f, "receivedDateTime ge 2026-11-26T06:00:00Z") || !strings.Contains(f, "receivedDateTime le 2026-11-27T06:00:00Z") ||
				!strings.Contains(f, "recipientAddress eq 'acme@ticketing.atera.com'") {
				t.Errorf("trace filter: %q", f)
			}
		case q.Get("$select") == "":
			t.Errorf("no $select: %s", rq.uri)
		}
		if strings.Contains(u.Path, "/messageRules") {
			ruleReqs++
		}
	}
	if ruleReqs != 3 {
		t.Errorf("messageRules requests = %d, want 3 pages (one mailbox, de-duplicated)", ruleReqs)
	}
	if traceReqs != 2 {
		t.Errorf("message trace requests = %d, want the list and one failed message's details", traceReqs)
	}
	// 3 rule pages + 2 contact pages + group look-up + 2 member pages + trace + details.
	if got := r.stats.Requests.Load(); got != 10 {
		t.Errorf("Stats.Requests = %d, want 10", got)
	}
	if len(r.steps) != 4 || r.steps[0] != "graph:messageRules (1 mailbox)" {
		t.Errorf("steps: %v", r.steps)
	}
}

// A tenant served from its Exchange fixture (testdata) comes back in the
// shapes the Rego library reads: rule recipients resolved to addresses,
// contact members typed.
func TestCollectDerivedTestdataTenant(t *testing.T) {
	tenants, err := fixture.LoadDir(nil, "../../testdata/tenants")
	if err != nil {
		t.Fatal(err)
	}
	var pick []*fixture.Tenant
	for _, ten := range tenants {
		if ten.Name == "broken-single-redirect" || ten.Name == "compliant-group" {
			pick = append(pick, ten)
		}
	}
	if len(pick) != 2 {
		t.Fatalf("testdata tenants missing: %d", len(pick))
	}
	e := newEnv(t, 0, pick...)

	redirect := pick[0]
	if redirect.Name != "broken-single-redirect" {
		redirect = pick[1]
	}
	r := e.client(t, redirect.TenantID, redirect.ClientID, redirect.ClientSecret, nil)
	r.c.CollectMessageRules(ctx(t), r.p, []string{"dana.whitfield@contosodental.com", "nobody@contosodental.com"})
	g := r.graph(t)
	rules := g["messageRules"].(map[string]any)["dana.whitfield@contosodental.com"].([]any)
	to := rules[0].(map[string]any)["actions"].(map[string]any)["redirectTo"].([]any)[0].(map[string]any)["emailAddress"].(map[string]any)
	if to["address"] != "contosodental@ticketing.atera.com" {
		t.Errorf("redirectTo: %v", to)
	}
	if _, ok := g["messageRules"].(map[string]any)["nobody@contosodental.com"]; ok {
		t.Error("a failed mailbox must not be stored")
	}
	errs := r.errorsBySource()[SourceMessageRules]
	if len(errs) != 1 || !strings.Contains(errs[0], "nobody@contosodental.com") || !strings.Contains(errs[0], "HTTP 404 ErrorInvalidUser") {
		t.Errorf("errors: %v", errs)
	}

	group := pick[0]
	if group.Name != "compliant-group" {
		group = pick[1]
	}
	r = e.client(t, group.TenantID, group.ClientID, group.ClientSecret, nil)
	r.c.CollectGroupMembers(ctx(t), r.p, []string{"support@northwindtraders.com", "nogroup@northwindtraders.com"})
	g = r.graph(t)
	members := g["groupMembers"].(map[string]any)["support@northwindtraders.com"].([]any)
	m := members[0].(map[string]any)
	if m["@odata.type"] != "#microsoft.graph.orgContact" || m["mail"] != "northwind@ticketing.atera.com" {
		t.Errorf("member: %v", m)
	}
	if errs := r.errorsBySource()[SourceGroupMembers]; len(errs) != 1 || !strings.Contains(errs[0], "no group in the directory has this address") {
		t.Errorf("unknown group: %v", errs)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	e := newEnv(t, 0, acme())
	e.faults.Add(fault.Rule{Endpoint: simgraph.EndpointContacts, Kind: fault.Throttle, Times: 1, RetryAfter: time.Second})
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	start := time.Now()
	r.c.CollectContacts(ctx(t), r.p)
	elapsed := time.Since(start)
	if errs := r.p.Errors(); len(errs) != 0 {
		t.Fatalf("a single 429 must be retried: %v", errs)
	}
	if elapsed < time.Second {
		t.Errorf("retried after %s, before Retry-After: 1", elapsed)
	}
	if r.stats.Throttled.Load() != 1 || r.stats.Retries.Load() != 1 || r.stats.Requests.Load() != 2 {
		t.Errorf("stats: requests=%d retries=%d throttled=%d", r.stats.Requests.Load(), r.stats.Retries.Load(), r.stats.Throttled.Load())
	}
	if len(r.graph(t)["contacts"].([]any)) != 4 {
		t.Error("contacts not stored after the retry")
	}
}

func TestRetryBudgetBoundsWaiting(t *testing.T) {
	e := newEnv(t, 0, acme())
	e.faults.Add(fault.Rule{Endpoint: simgraph.EndpointContacts, Kind: fault.Throttle, RetryAfter: 30 * time.Second})
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, func(o *Options) { o.RetryBudget = 10 * time.Second })
	start := time.Now()
	r.c.CollectContacts(ctx(t), r.p)
	if time.Since(start) > 5*time.Second {
		t.Errorf("waited %s although Retry-After exceeds the budget", time.Since(start))
	}
	errs := r.errorsBySource()[SourceContacts]
	if len(errs) != 1 || !strings.Contains(errs[0], "HTTP 429") || !strings.Contains(errs[0], "retry budget") {
		t.Errorf("errors: %v", errs)
	}
	if _, ok := r.graph(t)["contacts"]; ok {
		t.Error("contacts stored despite the failure")
	}
}

func TestNegativeBudgetMeansNoRetries(t *testing.T) {
	e := newEnv(t, 0, acme())
	e.faults.Add(fault.Rule{Endpoint: simgraph.EndpointContacts, Kind: fault.Throttle, Times: 1, RetryAfter: time.Second})
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, func(o *Options) { o.RetryBudget = -1 })
	r.c.CollectContacts(ctx(t), r.p)
	if errs := r.errorsBySource()[SourceContacts]; len(errs) != 1 || r.stats.Requests.Load() != 1 {
		t.Errorf("want one request and a 429 error, got %d requests, %v", r.stats.Requests.Load(), errs)
	}
}

func TestServiceUnavailableBacksOff(t *testing.T) {
	e := newEnv(t, 0, acme())
	e.faults.Add(fault.Rule{Endpoint: simgraph.EndpointMessageTraces, Kind: fault.ServerError, Times: 1})
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	r.c.CollectMessageTraces(ctx(t), r.p, "acme@ticketing.atera.com", 24*time.Hour)
	if errs := r.p.Errors(); len(errs) != 0 {
		t.Fatalf("one 503 must be retried: %v", errs)
	}
	if r.stats.Retries.Load() != 1 {
		t.Errorf("retries = %d", r.stats.Retries.Load())
	}
}

func TestForbiddenIsolatedToItsCollection(t *testing.T) {
	e := newEnv(t, 2, acme())
	e.faults.Add(fault.Rule{Endpoint: simgraph.EndpointMessageRules, Kind: fault.Forbidden})
	e.faults.Add(fault.Rule{Endpoint: simgraph.EndpointGroupMembers, Kind: fault.Truncate})
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	c := ctx(t)
	var wg sync.WaitGroup
	for _, f := range []func(){
		func() { r.c.CollectMessageRules(c, r.p, []string{"support@acme.com"}) },
		func() { r.c.CollectContacts(c, r.p) },
		func() { r.c.CollectGroupMembers(c, r.p, []string{"help@acme.com"}) },
		func() { r.c.CollectMessageTraces(c, r.p, "acme@ticketing.atera.com", 24*time.Hour) },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()

	errs := r.errorsBySource()
	if m := errs[SourceMessageRules]; len(m) != 1 || !strings.Contains(m[0], "HTTP 403 ErrorAccessDenied") || !strings.Contains(m[0], "application permission") {
		t.Errorf("403: %v", m)
	}
	if m := errs[SourceGroupMembers]; len(m) != 1 {
		t.Errorf("truncated body must fail the collection: %v", errs)
	}
	if len(errs) != 2 {
		t.Errorf("only the faulted collections may fail: %v", errs)
	}
	g := r.graph(t)
	if _, ok := g["messageRules"]; ok {
		t.Error("messageRules stored despite 403")
	}
	if _, ok := g["groupMembers"]; ok {
		t.Error("groupMembers stored from a truncated answer")
	}
	if len(g["contacts"].([]any)) != 4 || len(g["messageTraces"].(map[string]any)["items"].([]any)) != 2 {
		t.Errorf("unaffected collections: %v", g)
	}
}

// A failure on a later page fails the whole collection: the first page alone
// must not be stored as the complete list.
func TestFailureOnNextPageDropsTheCollection(t *testing.T) {
	e := newEnv(t, 2, acme())
	e.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/contacts") || !strings.Contains(r.URL.RawQuery, "skiptoken") {
			return false
		}
		writeTestJSON(w, http.StatusForbidden, map[string]any{"error": map[string]any{
			"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation.",
			"innerError": map[string]any{"request-id": "r-123"}}})
		return true
	}
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	r.c.CollectContacts(ctx(t), r.p)
	errs := r.errorsBySource()[SourceContacts]
	// The next page's error body is parsed as Graph's envelope too.
	if len(errs) != 1 || !strings.Contains(errs[0], "HTTP 403 Authorization_RequestDenied") || !strings.Contains(errs[0], "request-id r-123") {
		t.Errorf("errors: %v", errs)
	}
	if _, ok := r.graph(t)["contacts"]; ok {
		t.Error("the first page was stored as if complete")
	}
}

func TestTraceDetailFailureKeepsTheTrace(t *testing.T) {
	e := newEnv(t, 0, acme())
	e.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "getDetailsByRecipient") {
			return false
		}
		writeTestJSON(w, http.StatusForbidden, map[string]any{"error": map[string]any{"code": "Forbidden", "message": "Missing role permissions on the request."}})
		return true
	}
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	r.c.CollectMessageTraces(ctx(t), r.p, "acme@ticketing.atera.com", 24*time.Hour)
	errs := r.errorsBySource()
	if len(errs[SourceMessageTraces]) != 0 || len(errs[SourceMessageTraceDetails]) != 1 || !strings.Contains(errs[SourceMessageTraceDetails][0], "HTTP 403 Forbidden") {
		t.Errorf("errors: %v", errs)
	}
	items := r.graph(t)["messageTraces"].(map[string]any)["items"].([]any)
	if len(items) != 2 {
		t.Errorf("the trace must be kept: %v", items)
	}
}

func TestMessageTraceWindows(t *testing.T) {
	e := newEnv(t, 0, acme())
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	// 15 days: two queries, each within the 10-day limit the simulator enforces.
	r.c.CollectMessageTraces(ctx(t), r.p, "acme@ticketing.atera.com", 15*24*time.Hour)
	if errs := r.p.Errors(); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if n := len(r.graph(t)["messageTraces"].(map[string]any)["items"].([]any)); n != 3 {
		t.Errorf("15 days of traces: %d items, want 3", n)
	}
	if n := r.stats.Requests.Load(); n != 3 {
		t.Errorf("requests = %d, want 2 slices and one failed message's details", n)
	}

	r = e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	r.c.CollectMessageTraces(ctx(t), r.p, "acme@ticketing.atera.com", 91*24*time.Hour)
	if errs := r.errorsBySource()[SourceMessageTraces]; len(errs) != 1 || !strings.Contains(errs[0], "90 days") {
		t.Errorf("91 days: %v", errs)
	}
	if r.stats.Requests.Load() != 0 {
		t.Error("an impossible window must not be sent")
	}
}

// The SDK gzips request bodies; the simulator accepts them, and a rule
// created that way is collected back.
func TestGzipRequestBodyAccepted(t *testing.T) {
	e := newEnv(t, 0, acme())
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	rule := models.NewMessageRule()
	name, seq, on := "Forward everything", int32(9), true
	rule.SetDisplayName(&name)
	rule.SetSequence(&seq)
	rule.SetIsEnabled(&on)
	actions := models.NewMessageRuleActions()
	to := models.NewRecipient()
	ea := models.NewEmailAddress()
	addr := "outside@elsewhere.example"
	ea.SetAddress(&addr)
	to.SetEmailAddress(ea)
	actions.SetForwardTo([]models.Recipientable{to})
	rule.SetActions(actions)
	created, err := r.c.client.Users().ByUserId("support@acme.com").MailFolders().ByMailFolderId("inbox").MessageRules().Post(ctx(t), rule, nil)
	if err != nil {
		t.Fatalf("create rule: %v", describe("create", err))
	}
	if created.GetId() == nil {
		t.Fatal("created rule has no id")
	}
	var sawGzip bool
	for _, rq := range e.requests() {
		if rq.method == http.MethodPost && rq.contentEncoding == "gzip" {
			sawGzip = true
		}
	}
	if !sawGzip {
		t.Fatalf("the SDK did not gzip the body: %v", e.requests())
	}
	r.c.CollectMessageRules(ctx(t), r.p, []string{"support@acme.com"})
	rules := r.graph(t)["messageRules"].(map[string]any)["support@acme.com"].([]any)
	last := rules[len(rules)-1].(map[string]any)
	if len(rules) != 6 || last["displayName"] != name || last["id"] != *created.GetId() {
		t.Errorf("created rule not collected: %v", last)
	}
}

// No secret or token in any error, progress line or snapshot section, for a
// good run with failures and for a refused sign-in.
func TestNoSecretInOutputs(t *testing.T) {
	e := newEnv(t, 2, acme())
	e.faults.Add(fault.Rule{Endpoint: simgraph.EndpointContacts, Kind: fault.Forbidden})
	e.faults.Add(fault.Rule{Endpoint: simgraph.EndpointMessageTraces, Kind: fault.ExpiredToken})
	good := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	wrongSecret := "Wr0ng~secret.value-DoNotLeak"
	bad := e.client(t, acmeTenant, acmeClient, wrongSecret, nil)
	c := ctx(t)
	var outputs []string
	for _, r := range []*run{good, bad} {
		r.c.CollectMessageRules(c, r.p, []string{"support@acme.com"})
		r.c.CollectContacts(c, r.p)
		r.c.CollectGroupMembers(c, r.p, []string{"help@acme.com"})
		r.c.CollectMessageTraces(c, r.p, "acme@ticketing.atera.com", 24*time.Hour)
		data, err := json.Marshal(struct {
			S map[string]any
			E []result.SourceError
		}{r.p.Sections(), r.p.Errors()})
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(data))
		outputs = append(outputs, r.steps...)
	}
	if n := len(bad.p.Errors()); n != 4 {
		t.Errorf("a refused sign-in must fail every collection: %v", bad.p.Errors())
	}
	if n := e.tokens.refusals(); n != 1 {
		t.Errorf("a refused secret was sent %d times, want once", n)
	}
	for _, m := range bad.errorsBySource()[SourceContacts] {
		if !strings.Contains(m, "sign-in failed") {
			t.Errorf("sign-in error not named: %q", m)
		}
	}
	if m := good.errorsBySource()[SourceMessageTraces]; len(m) != 1 || !strings.Contains(m[0], "HTTP 401") {
		t.Errorf("expired token: %v", m)
	}
	secrets := append([]string{acmeSecret, wrongSecret}, e.tokens.tokens()...)
	if len(secrets) < 3 {
		t.Fatal("no token was issued; the test proves nothing")
	}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("secret %q... found in output: %s", s[:6], out)
			}
		}
	}
}

func TestNewValidatesOptions(t *testing.T) {
	ts := newTokenServer(t)
	cred := ts.credential(t, acmeTenant, acmeClient, acmeSecret)
	if _, err := New(Options{}); err == nil {
		t.Error("no credential accepted")
	}
	if _, err := New(Options{Credential: cred, BaseURL: "http://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("plain http accepted: %v", err)
	}
	for in, want := range map[string]string{
		"":                                  "https://graph.microsoft.com/v1.0",
		"https://graph.microsoft.com/":      "https://graph.microsoft.com/v1.0",
		"https://127.0.0.1:8443/v1.0":       "https://127.0.0.1:8443/v1.0",
		"https://proxy.example/graph/v1.0/": "https://proxy.example/graph/v1.0",
	} {
		got, _, err := serviceRoot(in)
		if err != nil || got != want {
			t.Errorf("serviceRoot(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
