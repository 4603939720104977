package graph

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// fakeValidator accepts "Bearer <tenant id>" for the Graph audience.
type fakeValidator struct{}

func (fakeValidator) Validate(authorization, audience string) (string, error) {
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || tok == "" {
		return "", errors.New("no bearer token")
	}
	if audience != Audience {
		return "", errors.New("wrong audience")
	}
	return tok, nil
}

type env struct {
	srv    *httptest.Server
	set    *fixture.Set
	faults *fault.Injector
	now    time.Time
}

func newEnv(t *testing.T, pageSize int, tenants ...*fixture.Tenant) *env {
	t.Helper()
	if len(tenants) == 0 {
		loaded, err := fixture.LoadDir(nil, "../../../testdata/tenants")
		if err != nil {
			t.Fatal(err)
		}
		// LoadDir gives variants of one tenant ids of their own.
		tenants = loaded
	}
	set, err := fixture.NewSet(tenants...)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{set: set, faults: &fault.Injector{}, now: time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)}
	h, err := New(Options{Tenants: set, Validator: fakeValidator{}, Faults: e.faults, PageSize: pageSize, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewTLSServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) tenantID(t *testing.T, name string) string {
	t.Helper()
	ten, ok := e.set.ByName(name)
	if !ok {
		t.Fatalf("no tenant %s", name)
	}
	return ten.TenantID
}

// get fetches path (relative to /v1.0, or an absolute next link) and decodes
// the JSON answer.
func (e *env) get(t *testing.T, tenant, path string) (int, http.Header, map[string]any) {
	t.Helper()
	u := path
	if !strings.HasPrefix(u, "https://") {
		u = e.srv.URL + "/v1.0" + path
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if tenant != "" {
		req.Header.Set("Authorization", "Bearer "+tenant)
	}
	return e.do(t, req)
}

func (e *env) do(t *testing.T, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", req.Method, req.URL, err, data)
		}
	}
	return resp.StatusCode, resp.Header, body
}

// all follows nextLinks and returns every item and the number of pages.
func (e *env) all(t *testing.T, tenant, path string) ([]map[string]any, int) {
	t.Helper()
	var items []map[string]any
	pages := 0
	for next := path; next != ""; {
		status, _, body := e.get(t, tenant, next)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", next, status, body)
		}
		pages++
		for _, v := range body["value"].([]any) {
			items = append(items, v.(map[string]any))
		}
		next, _ = body["@odata.nextLink"].(string)
		if pages > 100 {
			t.Fatal("paging does not end")
		}
	}
	return items, pages
}

func errorCode(t *testing.T, body map[string]any) string {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no Graph error envelope: %v", body)
	}
	inner, ok := e["innerError"].(map[string]any)
	if !ok || inner["request-id"] == "" || inner["date"] == "" || inner["client-request-id"] == "" {
		t.Fatalf("innerError incomplete: %v", e)
	}
	if e["message"] == "" {
		t.Fatalf("error without message: %v", e)
	}
	return e["code"].(string)
}

func TestMessageRulesDerivedFromInboxRules(t *testing.T) {
	e := newEnv(t, 0)
	tid := e.tenantID(t, "broken-single-redirect")
	items, _ := e.all(t, tid, "/users/dana.whitfield@contosodental.com/mailFolders/inbox/messageRules")
	if len(items) != 2 {
		t.Fatalf("want 2 rules, got %d: %v", len(items), items)
	}
	r := items[0]
	if r["displayName"] != "Support to Atera" || r["isEnabled"] != true || r["hasError"] != false || r["isReadOnly"] != false {
		t.Errorf("rule scalars wrong: %v", r)
	}
	if seq, _ := r["sequence"].(float64); seq != 1 {
		t.Errorf("sequence = %v, want 1", r["sequence"])
	}
	actions := r["actions"].(map[string]any)
	redirect := actions["redirectTo"].([]any)
	addr := redirect[0].(map[string]any)["emailAddress"].(map[string]any)
	// The EX: LegacyExchangeDN resolves to the contact's SMTP address.
	if addr["address"] != "contosodental@ticketing.atera.com" || addr["name"] != "Atera Ticketing" {
		t.Errorf("redirectTo = %v", addr)
	}
	if actions["stopProcessingRules"] != true {
		t.Errorf("stopProcessingRules missing: %v", actions)
	}
	if _, set := actions["forwardTo"]; set {
		t.Errorf("unset actions must be omitted, got forwardTo: %v", actions)
	}
	cond := r["conditions"].(map[string]any)
	sentTo := cond["sentToAddresses"].([]any)[0].(map[string]any)["emailAddress"].(map[string]any)
	if sentTo["address"] != "support@contosodental.com" {
		t.Errorf("sentToAddresses = %v", sentTo)
	}
	id, _ := r["id"].(string)
	if id == "" || id == items[1]["id"] {
		t.Errorf("rule ids must be set and distinct: %q %q", id, items[1]["id"])
	}

	// Object id and any proxy address name the same mailbox.
	byID, _ := e.all(t, tid, "/users/9b26684e-060a-4312-bcf5-26bb9a5fb833/mailFolders/Inbox/messageRules")
	if len(byID) != 2 {
		t.Errorf("by object id: %d rules", len(byID))
	}
	// A mailbox without Get-InboxRule entry has no rules.
	none, _ := e.all(t, tid, "/users/emma.clarke@contosodental.com/mailFolders/inbox/messageRules")
	if len(none) != 0 {
		t.Errorf("emma has no rules, got %v", none)
	}
	status, _, body := e.get(t, tid, "/users/nobody@contosodental.com/mailFolders/inbox/messageRules")
	if status != http.StatusNotFound || errorCode(t, body) != "ErrorInvalidUser" {
		t.Errorf("unknown user: %d %v", status, body)
	}
}

func TestPagingSelectAndTop(t *testing.T) {
	e := newEnv(t, 1)
	tid := e.tenantID(t, "broken-single-redirect")
	path := "/users/dana.whitfield@contosodental.com/mailFolders/inbox/messageRules?%24select=displayName,isEnabled"
	status, _, first := e.get(t, tid, path)
	if status != http.StatusOK {
		t.Fatalf("%d %v", status, first)
	}
	next, _ := first["@odata.nextLink"].(string)
	if !strings.HasPrefix(next, e.srv.URL+"/v1.0/users/") || !strings.Contains(next, "select=displayName,isEnabled") || !strings.Contains(next, "$skiptoken=") {
		t.Fatalf("nextLink must be absolute and keep the query: %q", next)
	}
	if ctx, _ := first["@odata.context"].(string); !strings.HasSuffix(ctx, "/messageRules(displayName,isEnabled)") {
		t.Errorf("@odata.context = %q", ctx)
	}
	items, pages := e.all(t, tid, path)
	if pages != 2 || len(items) != 2 {
		t.Fatalf("pages=%d items=%d, want 2 and 2", pages, len(items))
	}
	for _, it := range items {
		if len(it) != 3 || it["id"] == nil || it["displayName"] == nil || it["isEnabled"] == nil {
			t.Errorf("$select must return id, displayName, isEnabled only: %v", it)
		}
	}

	// $top below the server's page size is honoured.
	e2 := newEnv(t, 0)
	_, _, body := e2.get(t, e2.tenantID(t, "broken-single-redirect"), "/users/dana.whitfield@contosodental.com/mailFolders/inbox/messageRules?$top=1")
	if v := body["value"].([]any); len(v) != 1 || body["@odata.nextLink"] == nil {
		t.Errorf("$top=1: %v", body)
	}

	status, _, body = e.get(t, tid, "/users/dana.whitfield@contosodental.com/mailFolders/inbox/messageRules?$select=nonsense")
	if status != http.StatusBadRequest || errorCode(t, body) != "BadRequest" {
		t.Errorf("unknown $select property: %d %v", status, body)
	}
	status, _, body = e.get(t, tid, "/contacts?$top=1000")
	if status != http.StatusBadRequest || errorCode(t, body) != "Request_BadRequest" {
		t.Errorf("$top above 999: %d %v", status, body)
	}
	status, _, body = e.get(t, tid, "/contacts?$skiptoken=garbage")
	if status != http.StatusBadRequest {
		t.Errorf("bad skiptoken: %d %v", status, body)
	}
}

func TestContactsGroupsMembers(t *testing.T) {
	e := newEnv(t, 0)
	tid := e.tenantID(t, "compliant-group")
	contacts, _ := e.all(t, tid, "/contacts?$select=id,displayName,mail,proxyAddresses")
	found := false
	for _, c := range contacts {
		if c["mail"] == "northwind@ticketing.atera.com" {
			found = true
			if c["id"] != "afcff646-b1f8-415b-955c-12a71f6ec1b7" {
				t.Errorf("contact id = %v", c["id"])
			}
			if p := c["proxyAddresses"].([]any); len(p) != 1 || p[0] != "SMTP:northwind@ticketing.atera.com" {
				t.Errorf("proxyAddresses = %v", p)
			}
		}
		if _, extra := c["mailNickname"]; extra {
			t.Errorf("unselected property returned: %v", c)
		}
	}
	if !found {
		t.Fatalf("ticketing contact missing: %v", contacts)
	}

	groups, _ := e.all(t, tid, "/groups?$filter="+url.QueryEscape("mail eq 'SUPPORT@northwindtraders.com'")+"&$select=id,mail")
	if len(groups) != 1 || groups[0]["id"] != "3378af55-dcd9-4d81-ac52-fe78d47d3840" {
		t.Fatalf("group look-up: %v", groups)
	}
	members, _ := e.all(t, tid, "/groups/3378af55-dcd9-4d81-ac52-fe78d47d3840/members?$select=id,mail,userPrincipalName")
	if len(members) != 1 {
		t.Fatalf("members: %v", members)
	}
	m := members[0]
	if m["@odata.type"] != "#microsoft.graph.orgContact" || m["mail"] != "northwind@ticketing.atera.com" {
		t.Errorf("member = %v", m)
	}
	if _, ok := m["userPrincipalName"]; ok {
		t.Errorf("a contact has no userPrincipalName: %v", m)
	}

	status, _, body := e.get(t, tid, "/groups?$filter="+url.QueryEscape("startswith(mail,'s')"))
	if status != http.StatusBadRequest || errorCode(t, body) != "Request_UnsupportedQuery" {
		t.Errorf("unsupported filter: %d %v", status, body)
	}
	status, _, body = e.get(t, tid, "/groups/00000000-0000-0000-0000-000000000000/members")
	if status != http.StatusNotFound || errorCode(t, body) != "Request_ResourceNotFound" {
		t.Errorf("unknown group: %d %v", status, body)
	}
}

func TestGraphFixtureDataServedAsIs(t *testing.T) {
	ten := &fixture.Tenant{
		Name: "graph-only", TenantID: "11111111-1111-1111-1111-111111111111",
		Graph: map[string]any{
			"messageRules": map[string]any{"Support@Acme.com": []map[string]any{{
				"id": "AQAAAA==", "displayName": "fwd", "isEnabled": true,
				"actions": map[string]any{"redirectTo": map[string]any{"emailAddress": map[string]any{"address": "a@b.c"}}},
			}}},
			"groupMembers": map[string]any{"help@acme.com": []any{
				map[string]any{"@odata.type": "#microsoft.graph.user", "id": "u1", "mail": "x@acme.com", "proxyAddresses": []any{"SMTP:x@acme.com"}},
			}},
		},
	}
	e := newEnv(t, 0, ten)
	rules, _ := e.all(t, ten.TenantID, "/users/support@acme.com/mailFolders/inbox/messageRules")
	if len(rules) != 1 || rules[0]["displayName"] != "fwd" {
		t.Fatalf("rules: %v", rules)
	}
	// The single-object redirectTo some older data has is served unchanged.
	if _, ok := rules[0]["actions"].(map[string]any)["redirectTo"].(map[string]any); !ok {
		t.Errorf("fixture shape changed: %v", rules[0])
	}
	groups, _ := e.all(t, ten.TenantID, "/groups?$filter="+url.QueryEscape("mail eq 'help@acme.com'"))
	if len(groups) != 1 {
		t.Fatalf("synthesised group: %v", groups)
	}
	members, _ := e.all(t, ten.TenantID, "/groups/"+groups[0]["id"].(string)+"/members")
	// Without $select a user comes back with Graph's default properties.
	if len(members) != 1 || members[0]["mail"] != "x@acme.com" || members[0]["proxyAddresses"] != nil {
		t.Errorf("members: %v", members)
	}
	// Nothing to serve contacts from: an error, never an empty list.
	status, _, body := e.get(t, ten.TenantID, "/contacts")
	if status != http.StatusInternalServerError || errorCode(t, body) != "generalException" {
		t.Errorf("contacts without data: %d %v", status, body)
	}
}

func TestMessageTraceWindow(t *testing.T) {
	now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	ten := &fixture.Tenant{
		Name: "traces", TenantID: "22222222-2222-2222-2222-222222222222",
		Graph: map[string]any{"messageTraces": []any{
			map[string]any{"id": "t1", "senderAddress": "a@x.com", "recipientAddress": "acme@ticketing.atera.com", "receivedDateTime": "2026-11-27T01:00:00Z", "subject": "Printer", "status": "delivered", "size": 1200},
			map[string]any{"id": "t2", "senderAddress": "b@x.com", "recipientAddress": "ACME@ticketing.atera.com", "receivedDateTime": "2026-11-26T20:00:00Z", "subject": "VPN", "status": "failed", "size": 900},
			map[string]any{"id": "t3", "senderAddress": "c@x.com", "recipientAddress": "other@acme.com", "receivedDateTime": "2026-11-27T02:00:00Z", "subject": "Lunch", "status": "delivered", "size": 500},
			map[string]any{"id": "t4", "senderAddress": "d@x.com", "recipientAddress": "acme@ticketing.atera.com", "receivedDateTime": "2026-11-20T02:00:00Z", "subject": "Old", "status": "delivered", "size": 500},
		},
			"messageTraceDetails": map[string]any{"t2": []any{
				map[string]any{"id": "t2", "messageId": "<a@x.com>", "dateTime": "2026-11-26T20:00:01Z", "event": "Receive", "action": "", "description": "Message received by: AM0PR01MB1234.eurprd01.prod.outlook.com", "data": nil},
				map[string]any{"id": "t2", "messageId": "<a@x.com>", "dateTime": "2026-11-26T20:00:03Z", "event": "Fail", "action": "", "description": "Reason: [{LED=550 5.7.520 Access denied, Your organization does not allow external forwarding.}]", "data": nil},
			}},
		},
	}
	e := newEnv(t, 0, ten)
	e.now = now
	filter := func(f string) string { return "/admin/exchange/tracing/messageTraces?$filter=" + url.QueryEscape(f) }

	items, _ := e.all(t, ten.TenantID, filter("receivedDateTime ge 2026-11-26T06:00:00Z and receivedDateTime le 2026-11-27T06:00:00Z and recipientAddress eq 'acme@ticketing.atera.com'"))
	if len(items) != 2 || items[0]["id"] != "t1" || items[1]["id"] != "t2" {
		t.Fatalf("want t1, t2 newest first: %v", items)
	}
	// No date filter: the last 48 hours.
	items, _ = e.all(t, ten.TenantID, "/admin/exchange/tracing/messageTraces")
	if len(items) != 3 {
		t.Errorf("default window: %v", items)
	}

	details, _ := e.all(t, ten.TenantID, "/admin/exchange/tracing/messageTraces/t2/getDetailsByRecipient(recipientAddress='acme%40ticketing.atera.com')")
	if len(details) != 2 || !strings.Contains(details[1]["description"].(string), "5.7.520") {
		t.Errorf("details of t2: %v", details)
	}
	if none, _ := e.all(t, ten.TenantID, "/admin/exchange/tracing/messageTraces/t1/getDetailsByRecipient(recipientAddress='acme@ticketing.atera.com')"); len(none) != 0 {
		t.Errorf("t1 has no details: %v", none)
	}
	status, _, body := e.get(t, ten.TenantID, "/admin/exchange/tracing/messageTraces/t3/getDetailsByRecipient(recipientAddress='acme@ticketing.atera.com')")
	if status != http.StatusNotFound || errorCode(t, body) != "ResourceNotFound" {
		t.Errorf("trace of another recipient: %d %v", status, body)
	}
	if status, _, _ = e.get(t, ten.TenantID, "/admin/exchange/tracing/messageTraces/t2/getDetails"); status != http.StatusBadRequest {
		t.Errorf("malformed function segment: %d", status)
	}

	for name, f := range map[string]string{
		"11 days":      "receivedDateTime ge 2026-11-16T00:00:00Z and receivedDateTime le 2026-11-27T01:00:00Z",
		"91 days back": "receivedDateTime ge 2026-08-27T00:00:00Z and receivedDateTime le 2026-09-01T00:00:00Z",
		"future end":   "receivedDateTime ge 2026-11-26T00:00:00Z and receivedDateTime le 2026-11-28T00:00:00Z",
		"one bound":    "receivedDateTime ge 2026-11-26T00:00:00Z",
		"reversed":     "receivedDateTime ge 2026-11-27T00:00:00Z and receivedDateTime le 2026-11-26T00:00:00Z",
		"bad operator": "size gt 5",
	} {
		status, _, body := e.get(t, ten.TenantID, filter(f))
		if status != http.StatusBadRequest || errorCode(t, body) != "BadRequest" {
			t.Errorf("%s: want 400 BadRequest, got %d %v", name, status, body)
		}
	}
}

func TestAuthFaultsAndGzip(t *testing.T) {
	e := newEnv(t, 0)
	tid := e.tenantID(t, "compliant-group")

	status, hdr, body := e.get(t, "", "/contacts")
	if status != http.StatusUnauthorized || errorCode(t, body) != "InvalidAuthenticationToken" || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d %v", status, body)
	}
	status, _, body = e.get(t, "not-a-tenant", "/contacts")
	if status != http.StatusUnauthorized {
		t.Errorf("unknown tenant: %d %v", status, body)
	}

	e.faults.Add(fault.Rule{Endpoint: EndpointContacts, Tenant: "compliant-group", Kind: fault.Forbidden})
	e.faults.Add(fault.Rule{Endpoint: EndpointGroupMembers, Kind: fault.Throttle, Times: 1, RetryAfter: 2 * time.Second})
	status, _, body = e.get(t, tid, "/contacts")
	if status != http.StatusForbidden || errorCode(t, body) != "Authorization_RequestDenied" {
		t.Errorf("forbidden fault: %d %v", status, body)
	}
	status, hdr, body = e.get(t, tid, "/groups")
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") != "2" || errorCode(t, body) != "TooManyRequests" {
		t.Errorf("throttle fault: %d %v %v", status, hdr, body)
	}
	if status, _, _ = e.get(t, tid, "/groups"); status != http.StatusOK {
		t.Errorf("throttle fires once: %d", status)
	}
	// Other tenants are unaffected by a tenant-scoped fault.
	if status, _, _ = e.get(t, e.tenantID(t, "compliant-mailbox"), "/contacts"); status != http.StatusOK {
		t.Errorf("fault leaked to another tenant: %d", status)
	}
	e.faults.Reset()
	e.faults.Add(fault.Rule{Endpoint: EndpointContacts, Tenant: tid, Kind: fault.Forbidden, Times: 1})
	if status, _, _ = e.get(t, tid, "/contacts"); status != http.StatusForbidden {
		t.Errorf("a rule naming the tenant id: %d", status)
	}
	e.faults.Add(fault.Rule{Endpoint: EndpointContacts, Kind: fault.Truncate})
	resp, err := e.srv.Client().Do(authed(e.srv.URL+"/v1.0/contacts", tid))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if json.Valid(data) || len(data) == 0 {
		t.Errorf("truncated body should be cut JSON: %q", data)
	}
	e.faults.Reset()

	// A gzip-compressed POST (as msgraph-sdk-go sends bodies) creates a rule.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"displayName":"Forward to Atera","sequence":3,"isEnabled":true,"actions":{"forwardTo":[{"emailAddress":{"name":"Atera","address":"northwind@ticketing.atera.com"}}]}}`))
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1.0/users/reception@northwindtraders.com/mailFolders/inbox/messageRules", &buf)
	req.Header.Set("Authorization", "Bearer "+tid)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	status, _, body = e.do(t, req)
	if status != http.StatusCreated || body["id"] == nil || body["displayName"] != "Forward to Atera" {
		t.Fatalf("create: %d %v", status, body)
	}
	rules, _ := e.all(t, tid, "/users/reception@northwindtraders.com/mailFolders/inbox/messageRules")
	if len(rules) != 1 || rules[0]["id"] != body["id"] {
		t.Errorf("created rule not listed: %v", rules)
	}
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/v1.0/users/reception@northwindtraders.com/mailFolders/inbox/messageRules", strings.NewReader("not gzip"))
	req.Header.Set("Authorization", "Bearer "+tid)
	req.Header.Set("Content-Encoding", "gzip")
	if status, _, body = e.do(t, req); status != http.StatusBadRequest {
		t.Errorf("corrupt gzip: %d %v", status, body)
	}
}

func authed(u, tenant string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+tenant)
	return req
}

func TestEveryTestdataTenantIsServable(t *testing.T) {
	e := newEnv(t, 0)
	for _, ten := range e.set.All() {
		for _, path := range []string{"/contacts", "/admin/exchange/tracing/messageTraces"} {
			if status, _, body := e.get(t, ten.TenantID, path); status != http.StatusOK {
				t.Errorf("%s %s: %d %v", ten.Name, path, status, body)
			}
		}
		groups, _ := e.all(t, ten.TenantID, "/groups")
		for _, g := range groups {
			e.all(t, ten.TenantID, "/groups/"+g["id"].(string)+"/members")
		}
		_, hasRules := ten.Exchange["Get-InboxRule"]
		for _, mbx := range objects(ten.Exchange["Get-Mailbox"]) {
			path := "/users/" + url.PathEscape(str(mbx["PrimarySmtpAddress"])) + "/mailFolders/inbox/messageRules"
			status, _, body := e.get(t, ten.TenantID, path)
			switch {
			case hasRules && status != http.StatusOK:
				t.Errorf("%s %s: %d %v", ten.Name, path, status, body)
			case !hasRules && status != http.StatusInternalServerError:
				// No Get-InboxRule in the fixture: the rules are unknown,
				// which must not read as "no rules".
				t.Errorf("%s %s: want 500 without Get-InboxRule, got %d %v", ten.Name, path, status, body)
			}
		}
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, 0)
	tid := e.tenantID(t, "compliant-group")
	for path, want := range map[string]int{
		"/beta/contacts": http.StatusBadRequest,
		"/v1.0/nothing":  http.StatusBadRequest,
		"/v1.0/users/x/mailFolders/sent/messageRules": http.StatusNotFound,
	} {
		status, _, body := e.get(t, tid, e.srv.URL+path)
		if status != want {
			t.Errorf("%s: %d, want %d (%v)", path, status, want, body)
		}
		errorCode(t, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/v1.0/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+tid)
	if status, _, _ := e.do(t, req); status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", status)
	}
}

// inboxTenant is a two-mailbox tenant whose only inbox rule is support's.
// inbox is its Get-InboxRule value: "absent" leaves the key out.
func inboxTenant(name string, inbox any, graph map[string]any) *fixture.Tenant {
	mbx := func(alias string) map[string]any {
		addr := alias + "@fabrikam.example"
		return map[string]any{"Name": alias, "Alias": alias, "DisplayName": alias, "PrimarySmtpAddress": addr,
			"EmailAddresses": []any{"SMTP:" + addr}, "RecipientTypeDetails": "SharedMailbox",
			"ExternalDirectoryObjectId": fixture.NameGUID("mailbox", name+alias)}
	}
	ex := map[string]any{"Get-Mailbox": []any{mbx("support"), mbx("helpdesk")}}
	if inbox != "absent" {
		ex["Get-InboxRule"] = inbox
	}
	return &fixture.Tenant{Name: name, TenantID: fixture.NameGUID("tenant", name), Exchange: ex, Graph: graph}
}

// The Exchange simulator's Get-InboxRule and this messageRules agree: a
// mailbox the fixture's rules leave out has none; a fixture with no inbox
// rules at all (neither Get-InboxRule nor graph.messageRules) is an error
// (here 500, there 403), never an empty list.
func TestMessageRulesMissingFromTheFixture(t *testing.T) {
	rules := map[string]any{"support@fabrikam.example": []any{map[string]any{"Name": "to Atera", "RuleIdentity": 1, "Enabled": true}}}
	graphRules := map[string]any{"messageRules": map[string]any{"support@fabrikam.example": []any{}}}
	e := newEnv(t, 0,
		inboxTenant("listed", rules, nil),
		inboxTenant("absent", "absent", nil),
		inboxTenant("null", nil, nil),
		inboxTenant("graph-only", "absent", graphRules),
	)
	path := func(mbx string) string { return "/users/" + mbx + "/mailFolders/inbox/messageRules" }
	if got, _ := e.all(t, e.tenantID(t, "listed"), path("support@fabrikam.example")); len(got) != 1 {
		t.Errorf("support's rules: %v", got)
	}
	for _, tenant := range []string{"listed", "graph-only"} {
		status, _, body := e.get(t, e.tenantID(t, tenant), path("helpdesk@fabrikam.example"))
		if list, _ := body["value"].([]any); status != http.StatusOK || list == nil || len(list) != 0 {
			t.Errorf("%s: a mailbox the fixture leaves out: %d %v", tenant, status, body)
		}
	}
	for _, tenant := range []string{"absent", "null"} {
		status, _, body := e.get(t, e.tenantID(t, tenant), path("support@fabrikam.example"))
		if status != http.StatusInternalServerError || errorCode(t, body) != "generalException" {
			t.Errorf("%s: no inbox rules at all: %d %v", tenant, status, body)
		}
	}
	status, _, body := e.get(t, e.tenantID(t, "listed"), path("ghost@fabrikam.example"))
	if status != http.StatusNotFound || errorCode(t, body) != "ErrorInvalidUser" {
		t.Errorf("unknown mailbox: %d %v", status, body)
	}
}

// A trace item may carry its own details, as a ticketguard snapshot stores
// them (graph.messageTraces.items[].details): getDetailsByRecipient serves
// them, and the list does not (exchangeMessageTrace has no such property).
// graph.messageTraceDetails[<id>] is the fallback for items without them.
func TestMessageTraceDetailsFromTheItems(t *testing.T) {
	detail := func(id, event, text string) map[string]any {
		return map[string]any{"id": id, "messageId": "<" + id + "@x.com>", "dateTime": "2026-11-27T01:00:01Z", "event": event, "action": "", "description": text, "data": nil}
	}
	item := func(id, status string, details ...any) map[string]any {
		it := map[string]any{"id": id, "senderAddress": "a@x.com", "recipientAddress": "acme@ticketing.atera.com",
			"receivedDateTime": "2026-11-27T01:00:00Z", "subject": "Help", "status": status, "size": 1200}
		if details != nil {
			it["details"] = details
		}
		return it
	}
	ten := &fixture.Tenant{
		Name: "snapshot-traces", TenantID: "33333333-3333-3333-3333-333333333333",
		Graph: map[string]any{
			// The snapshot form.
			"messageTraces": map[string]any{"recipient": "acme@ticketing.atera.com", "items": []any{
				item("s1", "failed", detail("s1", "Fail", "Reason: [{LED=550 5.7.520 Access denied}]")),
				item("s2", "failed"),
				func() map[string]any { it := item("s3", "delivered"); it["details"] = []any{}; return it }(),
			}},
			"messageTraceDetails": map[string]any{
				"s1": []any{detail("s1", "Receive", "not this one")},
				"s2": []any{detail("s2", "Fail", "from the fallback map")},
				"s3": []any{detail("s3", "Receive", "not this one either")},
			},
		},
	}
	e := newEnv(t, 0, ten)
	items, _ := e.all(t, ten.TenantID, "/admin/exchange/tracing/messageTraces")
	if len(items) != 3 {
		t.Fatalf("items: %v", items)
	}
	for _, it := range items {
		if _, ok := it["details"]; ok {
			t.Errorf("a listed trace carries details: %v", it)
		}
	}
	if _, has := objects(asMap(ten.Graph["messageTraces"])["items"])[0]["details"]; !has {
		t.Error("listing changed the fixture")
	}
	details := func(id string) []map[string]any {
		got, _ := e.all(t, ten.TenantID, "/admin/exchange/tracing/messageTraces/"+id+"/getDetailsByRecipient(recipientAddress='acme@ticketing.atera.com')")
		return got
	}
	if got := details("s1"); len(got) != 1 || !strings.Contains(str(got[0]["description"]), "5.7.520") {
		t.Errorf("s1, from its own details: %v", got)
	}
	if got := details("s2"); len(got) != 1 || got[0]["description"] != "from the fallback map" {
		t.Errorf("s2, from messageTraceDetails: %v", got)
	}
	if got := details("s3"); len(got) != 0 {
		t.Errorf("s3 says it has none: %v", got)
	}
}
