package atera

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

const testKey = "sim-atera-key-0123456789"

var now = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

func newServer(t *testing.T, faults *fault.Injector, tenants ...*fixture.Tenant) *httptest.Server {
	t.Helper()
	set, err := fixture.NewSet(tenants...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(New(set, Options{APIKey: testKey, BearerToken: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtc3AifQ.c2ln", Faults: faults}))
	t.Cleanup(srv.Close)
	return srv
}

func tenant(name string, tickets int) *fixture.Tenant {
	t := &fixture.Tenant{Name: name, TenantID: name + "-id", Domain: name + ".onmicrosoft.com", SupportAddress: "support@" + name + ".com"}
	t.Tickets = SampleTickets(t, now, tickets, time.Hour, "Email")
	return t
}

func get(t *testing.T, srv *httptest.Server, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func decode(t *testing.T, body []byte) envelope {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return env
}

func TestAuthentication(t *testing.T) {
	srv := newServer(t, nil, tenant("acme", 1))
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"none", nil, http.StatusUnauthorized},
		{"wrong key", map[string]string{"X-API-KEY": "nope"}, http.StatusUnauthorized},
		{"key", map[string]string{"X-API-KEY": testKey}, http.StatusOK},
		{"bearer", map[string]string{"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtc3AifQ.c2ln"}, http.StatusOK},
		{"wrong bearer", map[string]string{"Authorization": "Bearer eyJ.x.y"}, http.StatusUnauthorized},
		{"key as bearer", map[string]string{"Authorization": "Bearer " + testKey}, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, srv, "/api/v3/tickets", c.hdr)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
			if c.want == http.StatusUnauthorized && len(body) != 0 {
				t.Errorf("401 body %q, want empty as Atera sends", body)
			}
		})
	}
}

func TestPagingEnvelope(t *testing.T) {
	srv := newServer(t, nil, tenant("acme", 120))
	key := map[string]string{"X-API-KEY": testKey}

	_, body := get(t, srv, "/api/v3/tickets?page=1&itemsInPage=100", key)
	env := decode(t, body)
	if env.ItemsInPage != MaxItemsInPage || len(env.Items) != 50 || env.TotalItemCount != 120 || env.TotalPages != 3 {
		t.Fatalf("page 1: itemsInPage=%d items=%d total=%d pages=%d", env.ItemsInPage, len(env.Items), env.TotalItemCount, env.TotalPages)
	}
	if env.PrevLink != "" {
		t.Errorf("prevLink on page 1 = %q", env.PrevLink)
	}
	next, err := url.Parse(env.NextLink)
	if err != nil || !next.IsAbs() || next.Query().Get("page") != "2" || next.Query().Get("itemsInPage") != "50" {
		t.Fatalf("nextLink %q is not an absolute link to page 2", env.NextLink)
	}

	// Follow nextLink to the end.
	seen := len(env.Items)
	var last envelope
	for link := env.NextLink; link != ""; link = last.NextLink {
		_, body := get(t, srv, strings.TrimPrefix(link, srv.URL), key)
		last = decode(t, body)
		seen += len(last.Items)
	}
	if seen != 120 || last.Page != 3 || len(last.Items) != 20 || last.NextLink != "" || last.PrevLink == "" {
		t.Fatalf("walk: seen=%d last page=%d items=%d next=%q prev=%q", seen, last.Page, len(last.Items), last.NextLink, last.PrevLink)
	}

	// Past the end: an empty page, not an error.
	_, body = get(t, srv, "/api/v3/tickets?page=9&itemsInPage=50", key)
	if env := decode(t, body); len(env.Items) != 0 || env.NextLink != "" {
		t.Fatalf("page 9: %+v", env)
	}
}

func TestTicketShapeAndFilters(t *testing.T) {
	acme, globex := tenant("acme", 3), tenant("globex", 2)
	globex.Tickets[0]["TicketStatus"] = "Closed"
	srv := newServer(t, nil, acme, globex)
	key := map[string]string{"X-API-KEY": testKey}

	_, body := get(t, srv, "/api/v3/tickets?page=1&itemsInPage=50", key)
	env := decode(t, body)
	if len(env.Items) != 5 {
		t.Fatalf("all customers: %d tickets, want 5", len(env.Items))
	}
	for i := 1; i < len(env.Items); i++ {
		if ticketID(env.Items[i-1]) >= ticketID(env.Items[i]) {
			t.Fatalf("tickets not in ascending TicketID order: %v then %v", env.Items[i-1]["TicketID"], env.Items[i]["TicketID"])
		}
	}
	tk := env.Items[0]
	for _, k := range []string{"TicketID", "TicketTitle", "TicketNumber", "TicketPriority", "TicketImpact", "TicketStatus", "TicketSource", "TicketType", "EndUserID", "EndUserEmail", "EndUserFirstName", "EndUserLastName", "TicketCreatedDate", "CustomerID", "CustomerName", "FirstComment", "LastEndUserComment"} {
		if _, ok := tk[k]; !ok {
			t.Errorf("ticket lacks %s", k)
		}
	}
	if _, err := time.Parse(time.RFC3339, tk["TicketCreatedDate"].(string)); err != nil {
		t.Errorf("TicketCreatedDate %v: %v", tk["TicketCreatedDate"], err)
	}

	id := CustomerID(globex)
	_, body = get(t, srv, "/api/v3/tickets?customerId="+strconv.Itoa(id), key)
	env = decode(t, body)
	if len(env.Items) != 2 || env.Items[0]["CustomerName"] != "globex" || int(env.Items[0]["CustomerID"].(float64)) != id {
		t.Fatalf("customerId filter: %+v", env.Items)
	}
	_, body = get(t, srv, "/api/v3/tickets?customerId="+strconv.Itoa(id)+"&ticketStatus=open", key)
	if env = decode(t, body); len(env.Items) != 1 {
		t.Fatalf("ticketStatus filter: %d tickets, want 1", len(env.Items))
	}

	resp, _ := get(t, srv, "/api/v3/tickets?page=0", key)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("page=0: status %d, want 400", resp.StatusCode)
	}
}

func TestFaults(t *testing.T) {
	var faults fault.Injector
	acme := tenant("acme", 3)
	srv := newServer(t, &faults, acme, tenant("globex", 1))
	key := map[string]string{"X-API-KEY": testKey}

	faults.Add(fault.Rule{Endpoint: Endpoint, Kind: fault.Throttle, Times: 1, RetryAfter: 2 * time.Second})
	resp, body := get(t, srv, "/api/v3/tickets", key)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" || !json.Valid(body) {
		t.Fatalf("throttle: %d Retry-After=%q body=%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, _ := get(t, srv, "/api/v3/tickets", key); resp.StatusCode != http.StatusOK {
		t.Fatalf("after Times=1 throttle: %d", resp.StatusCode)
	}

	// A tenant-scoped rule fires only when the request names that customer.
	faults.Add(fault.Rule{Endpoint: Endpoint, Tenant: "acme", Kind: fault.ServerError, Status: 502})
	if resp, _ := get(t, srv, "/api/v3/tickets", key); resp.StatusCode != http.StatusOK {
		t.Fatalf("unfiltered request hit the acme rule: %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, "/api/v3/tickets?customerId="+strconv.Itoa(CustomerID(acme)), key); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("acme request: %d, want 502", resp.StatusCode)
	}

	faults.Reset()
	faults.Add(fault.Rule{Endpoint: Endpoint, Kind: fault.Truncate})
	_, body = get(t, srv, "/api/v3/tickets", key)
	if json.Valid(body) {
		t.Fatalf("truncated body is still valid JSON: %s", body)
	}
}
