package atera

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/collectors"
	"github.com/ticketguard/ticketguard/internal/simulator/atera"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

const (
	apiKey = "atera-test-key-5f2c9a7e1b"
	jwt    = "eyJhbGciOiJSUzI1NiJ9.eyJhY2NvdW50IjoiMTIzIn0.c2lnbmF0dXJl"
)

var now = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

type env struct {
	srv    *httptest.Server
	faults *fault.Injector
	set    *fixture.Set
}

// newEnv serves the simulated Atera API over TLS for the given tenants.
func newEnv(t *testing.T, tenants ...*fixture.Tenant) *env {
	t.Helper()
	set, err := fixture.NewSet(tenants...)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{faults: new(fault.Injector), set: set}
	e.srv = httptest.NewTLSServer(atera.New(set, atera.Options{APIKey: apiKey, BearerToken: jwt, Faults: e.faults}))
	t.Cleanup(e.srv.Close)
	return e
}

func tenant(name string, n int, every time.Duration) *fixture.Tenant {
	t := &fixture.Tenant{Name: name, TenantID: name + "-id", SupportAddress: "support@" + name + ".com"}
	t.Tickets = atera.SampleTickets(t, now, n, every, "Email")
	return t
}

// recorder replaces the client's sleep, recording the waits asked for.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recorder) sleep(_ context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return nil
}

func newClient(t *testing.T, baseURL string, hc *http.Client, mod func(*Options)) (*Client, *collectors.Stats, *recorder) {
	t.Helper()
	stats := new(collectors.Stats)
	opts := Options{BaseURL: baseURL, APIKey: apiKey, HTTPClient: hc, Stats: stats}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := new(recorder)
	c.sleep = rec.sleep
	c.jitter = func(time.Duration) time.Duration { return 0 }
	return c, stats, rec
}

func section(t *testing.T, p *collectors.Partial) map[string]any {
	t.Helper()
	s, ok := p.Sections()[Source].(map[string]any)
	if !ok {
		t.Fatalf("no %s section; errors: %+v", Source, p.Errors())
	}
	return s
}

func TestCollectTicketsWalksEveryPageAndKeepsTheWindow(t *testing.T) {
	// 130 tickets, one every 2 hours: the oldest is ~10.8 days old, so the
	// 7-day window holds the newest 84. The simulator answers oldest first:
	// the recent tickets are on the last pages.
	e := newEnv(t, tenant("acme", 130, 2*time.Hour))
	c, stats, _ := newClient(t, e.srv.URL, e.srv.Client(), nil)
	p := collectors.NewPartial(nil)

	if err := c.CollectTickets(context.Background(), p, Query{WindowDays: 7, Now: now}); err != nil {
		t.Fatal(err)
	}
	if got := stats.Requests.Load(); got != 3 {
		t.Errorf("requests = %d, want 3 pages of 50", got)
	}
	s := section(t, p)
	if s["window_days"] != 7 || s["start"] != "2026-11-20T06:00:00Z" || s["end"] != "2026-11-27T06:00:00Z" || s["customer_id"] != nil {
		t.Errorf("section header = %v %v %v %v", s["window_days"], s["start"], s["end"], s["customer_id"])
	}
	tickets := s["tickets"].([]any)
	if len(tickets) != 84 {
		t.Fatalf("%d tickets in the window, want 84", len(tickets))
	}
	prev := now.Add(time.Hour)
	for _, x := range tickets {
		tk := x.(map[string]any)
		if len(tk) != 8 {
			t.Fatalf("ticket keeps %d fields, want 8: %v", len(tk), tk)
		}
		at, _ := time.Parse(time.RFC3339, tk["TicketCreatedDate"].(string))
		if at.Before(now.Add(-7*24*time.Hour)) || at.After(prev) {
			t.Fatalf("ticket %v out of window or order (prev %v)", at, prev)
		}
		prev = at
		if tk["TicketSource"] != "Email" || !strings.HasSuffix(tk["EndUserEmail"].(string), "@acme.com") || tk["CustomerName"] != "acme" {
			t.Fatalf("ticket fields: %v", tk)
		}
	}
	// The bodies the API sends never reach the snapshot.
	raw, _ := json.Marshal(s)
	for _, body := range []string{"FirstComment", "LastEndUserComment", "private", "TicketNumber", "EndUserFirstName"} {
		if bytes.Contains(raw, []byte(body)) {
			t.Errorf("section contains %q", body)
		}
	}
}

func TestCollectTicketsForOneCustomer(t *testing.T) {
	acme, globex := tenant("acme", 3, time.Hour), tenant("globex", 2, time.Hour)
	e := newEnv(t, acme, globex)
	c, _, _ := newClient(t, e.srv.URL, e.srv.Client(), nil)
	p := collectors.NewPartial(nil)
	id := atera.CustomerID(globex)
	if err := c.CollectTickets(context.Background(), p, Query{CustomerID: id, Now: now}); err != nil {
		t.Fatal(err)
	}
	s := section(t, p)
	if s["customer_id"] != id || s["window_days"] != defaultWindowDays {
		t.Errorf("customer_id=%v window_days=%v", s["customer_id"], s["window_days"])
	}
	tickets := s["tickets"].([]any)
	if len(tickets) != 2 {
		t.Fatalf("%d tickets, want globex's 2", len(tickets))
	}
	for _, x := range tickets {
		if tk := x.(map[string]any); tk["CustomerID"] != int64(id) {
			t.Errorf("ticket of customer %v", tk["CustomerID"])
		}
	}
}

func TestBearerCredentials(t *testing.T) {
	e := newEnv(t, tenant("acme", 1, time.Hour))
	for name, mod := range map[string]func(*Options){
		"bearer option":      func(o *Options) { o.APIKey = ""; o.BearerToken = jwt },
		"JWT given as a key": func(o *Options) { o.APIKey = jwt },
	} {
		t.Run(name, func(t *testing.T) {
			c, _, _ := newClient(t, e.srv.URL+"/api/v3/", e.srv.Client(), mod)
			if _, err := c.ListTickets(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := New(Options{BaseURL: e.srv.URL}); err == nil {
		t.Error("New without a credential succeeded")
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	e := newEnv(t, tenant("acme", 120, time.Hour))
	e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: fault.Throttle, Times: 2, RetryAfter: 3 * time.Second})
	c, stats, rec := newClient(t, e.srv.URL, e.srv.Client(), nil)

	got, err := c.ListTickets(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 120 {
		t.Errorf("%d tickets, want 120", len(got))
	}
	if fmt.Sprint(rec.waits) != "[3s 3s]" {
		t.Errorf("waits %v, want the server's Retry-After twice", rec.waits)
	}
	if stats.Throttled.Load() != 2 || stats.Retries.Load() != 2 || stats.Requests.Load() != 5 {
		t.Errorf("stats throttled=%d retries=%d requests=%d", stats.Throttled.Load(), stats.Retries.Load(), stats.Requests.Load())
	}
}

func TestRetryAfterRealWait(t *testing.T) {
	e := newEnv(t, tenant("acme", 1, time.Hour))
	e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: fault.Throttle, Times: 1, RetryAfter: time.Second})
	c, _, _ := newClient(t, e.srv.URL, e.srv.Client(), nil)
	c.sleep = sleepCtx
	start := time.Now()
	if _, err := c.ListTickets(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second || el > 5*time.Second {
		t.Errorf("took %v, want about the 1 s Retry-After", el)
	}
}

func TestServerErrorsBackOffThenGiveUp(t *testing.T) {
	e := newEnv(t, tenant("acme", 10, time.Hour))
	e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: fault.ServerError, Times: 2})
	c, stats, rec := newClient(t, e.srv.URL, e.srv.Client(), nil)
	if _, err := c.ListTickets(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rec.waits) != "[1s 2s]" || stats.Retries.Load() != 2 {
		t.Errorf("waits %v retries %d, want exponential backoff [1s 2s]", rec.waits, stats.Retries.Load())
	}

	e.faults.Reset()
	e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: fault.ServerError, Status: 502})
	c, stats, _ = newClient(t, e.srv.URL, e.srv.Client(), func(o *Options) { o.MaxRetries = 3 })
	p := collectors.NewPartial(nil)
	err := c.CollectTickets(context.Background(), p, Query{Now: now})
	if err == nil || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "4 attempts") {
		t.Fatalf("err = %v", err)
	}
	if stats.Requests.Load() != 4 {
		t.Errorf("requests = %d, want 1 + 3 retries", stats.Requests.Load())
	}
	if _, ok := p.Sections()[Source]; ok {
		t.Error("a failed collection left an atera_api section")
	}
	if errs := p.Errors(); len(errs) != 1 || errs[0].Source != Source {
		t.Errorf("errors = %+v", errs)
	}
}

func TestRetryBudget(t *testing.T) {
	e := newEnv(t, tenant("acme", 1, time.Hour))
	e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: fault.Throttle, RetryAfter: 90 * time.Second})
	c, stats, rec := newClient(t, e.srv.URL, e.srv.Client(), func(o *Options) { o.RetryBudget = time.Minute })
	_, err := c.ListTickets(context.Background(), 0)
	if err == nil || !strings.Contains(err.Error(), "retry budget exhausted") {
		t.Fatalf("err = %v", err)
	}
	if len(rec.waits) != 0 || stats.Requests.Load() != 1 {
		t.Errorf("waited %v over %d requests; a wait beyond the budget must not be started", rec.waits, stats.Requests.Load())
	}
}

// A negative budget turns retries off, as for the Exchange and Graph
// collectors (ticketguard passes one when collect.retry_budget is 0); 0 is
// the default budget.
func TestNegativeRetryBudgetMeansNoRetries(t *testing.T) {
	for _, kind := range []fault.Kind{fault.Throttle, fault.ServerError} {
		e := newEnv(t, tenant("acme", 1, time.Hour))
		e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: kind, Times: 1, RetryAfter: time.Second})
		c, stats, rec := newClient(t, e.srv.URL, e.srv.Client(), func(o *Options) { o.RetryBudget = -1 })
		_, err := c.ListTickets(context.Background(), 0)
		if err == nil || !strings.Contains(err.Error(), "not retried") {
			t.Errorf("%s: err = %v", kind, err)
		}
		if len(rec.waits) != 0 || stats.Requests.Load() != 1 || stats.Retries.Load() != 0 {
			t.Errorf("%s: waited %v over %d requests with retries off", kind, rec.waits, stats.Requests.Load())
		}

		e.faults.Reset()
		e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: kind, Times: 1, RetryAfter: time.Second})
		c, stats, _ = newClient(t, e.srv.URL, e.srv.Client(), func(o *Options) { o.RetryBudget = 0 })
		if _, err := c.ListTickets(context.Background(), 0); err != nil || stats.Retries.Load() != 1 {
			t.Errorf("%s: budget 0 (the default): err %v after %d retries, want one retry", kind, err, stats.Retries.Load())
		}
	}
}

func TestTruncatedBodyIsRetried(t *testing.T) {
	e := newEnv(t, tenant("acme", 60, time.Hour))
	e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: fault.Truncate, Times: 1})
	c, stats, _ := newClient(t, e.srv.URL, e.srv.Client(), nil)
	got, err := c.ListTickets(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 60 || stats.Retries.Load() != 1 {
		t.Errorf("%d tickets after %d retries", len(got), stats.Retries.Load())
	}
}

func TestCancelledWhileWaiting(t *testing.T) {
	e := newEnv(t, tenant("acme", 1, time.Hour))
	e.faults.Add(fault.Rule{Endpoint: atera.Endpoint, Kind: fault.Throttle, RetryAfter: 30 * time.Second})
	c, _, _ := newClient(t, e.srv.URL, e.srv.Client(), nil)
	c.sleep = sleepCtx
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListTickets(ctx, 0)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

// TestSecretNeverLeaks drives every failure path that could carry the key
// (a wrong key, a server echoing the key in its error body, retries logged)
// and searches the errors, the partial snapshot and the log for it.
func TestSecretNeverLeaks(t *testing.T) {
	var hits atomic.Int64
	echo := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		key := r.Header.Get("X-API-KEY")
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"Message":"overloaded while serving key %s"}`, key)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"Message":"The API key %s is not valid for this account."}`, key)
	}))
	defer echo.Close()

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _, _ := newClient(t, echo.URL, echo.Client(), func(o *Options) { o.Logger = logger })
	p := collectors.NewPartial(nil)
	err := c.CollectTickets(context.Background(), p, Query{Now: now})
	if err == nil {
		t.Fatal("expected an error")
	}

	e := newEnv(t, tenant("acme", 1, time.Hour))
	wrong := "wrong-" + apiKey
	c2, _, _ := newClient(t, e.srv.URL, e.srv.Client(), func(o *Options) { o.APIKey = wrong; o.Logger = logger })
	err2 := c2.CollectTickets(context.Background(), p, Query{Now: now})
	if err2 == nil || !strings.Contains(err2.Error(), "401") {
		t.Fatalf("wrong key: err = %v", err2)
	}

	snap, _ := json.Marshal(map[string]any{"sections": p.Sections(), "errors": p.Errors()})
	outputs := map[string]string{"error": err.Error(), "error (wrong key)": err2.Error(), "snapshot": string(snap), "log": logs.String()}
	for name, out := range outputs {
		for _, secret := range []string{apiKey, wrong} {
			if strings.Contains(out, secret) {
				t.Errorf("%s contains the API key: %s", name, out)
			}
		}
	}
	if !strings.Contains(err.Error(), "[REDACTED]") || !strings.Contains(logs.String(), "[REDACTED]") {
		t.Errorf("the echoed key was not visibly redacted:\nerror: %v\nlog: %s", err, logs.String())
	}
}

func TestNeverSendsTheKeyElsewhere(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-KEY") != "" {
			leaked.Add(1)
		}
		fmt.Fprint(w, `{"items":[],"page":2,"totalPages":2,"nextLink":""}`)
	}))
	defer other.Close()

	for name, h := range map[string]http.HandlerFunc{
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/api/v3/tickets", http.StatusFound)
		},
		"nextLink": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"items":[],"page":1,"totalPages":2,"nextLink":%q}`, other.URL+"/api/v3/tickets?page=2")
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewTLSServer(h)
			defer srv.Close()
			// One client trusting both test servers' certificates.
			hc := srv.Client()
			c, stats, _ := newClient(t, srv.URL, hc, nil)
			_, err := c.ListTickets(context.Background(), 0)
			if err == nil || !strings.Contains(err.Error(), "another host") {
				t.Fatalf("err = %v", err)
			}
			if leaked.Load() != 0 {
				t.Fatal("the API key reached another host")
			}
			if stats.Requests.Load() != 1 {
				t.Errorf("requests = %d; a refused redirect must not be retried", stats.Requests.Load())
			}
		})
	}
}

func TestPagingFallbacksAndLimits(t *testing.T) {
	var calls atomic.Int64
	// No nextLink, but totalPages says there is more: page numbers are used.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
		fmt.Fprintf(w, `{"items":[{"TicketID":%d,"TicketCreatedDate":"2026-11-26T10:00:00.123","TicketSource":"Email"},
			{"TicketID":%d,"TicketCreatedDate":"yesterday"}],"page":%d,"itemsInPage":50,"totalPages":3,"nextLink":""}`, pg, 100+pg, pg)
	}))
	defer srv.Close()

	c, _, _ := newClient(t, srv.URL, srv.Client(), nil)
	got, err := c.ListTickets(context.Background(), 0)
	if err != nil || len(got) != 6 || calls.Load() != 3 {
		t.Fatalf("got %d tickets in %d calls, err %v", len(got), calls.Load(), err)
	}
	s := c.Section(Query{Now: now}, got)
	if n := len(s["tickets"].([]any)); n != 3 {
		t.Errorf("%d tickets kept, want the 3 with a readable (zone-less) date", n)
	}

	c, _, _ = newClient(t, srv.URL, srv.Client(), func(o *Options) { o.MaxPages = 2 })
	if _, err := c.ListTickets(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "more than 2 pages") {
		t.Errorf("err = %v", err)
	}
}

func TestSameOrigin(t *testing.T) {
	base, _ := url.Parse("https://app.atera.com/api/v3")
	for link, want := range map[string]bool{
		"https://app.atera.com/api/v3/tickets?page=2":     true,
		"https://APP.atera.com:443/api/v3/tickets?page=2": true,
		"http://app.atera.com/api/v3/tickets?page=2":      false, // the key in clear text
		"https://app.atera.com:8443/api/v3/tickets":       false,
		"https://app.atera.com.evil.example/api/v3":       false,
	} {
		u, _ := url.Parse(link)
		if got := sameOrigin(u, base); got != want {
			t.Errorf("sameOrigin(%s) = %v, want %v", link, got, want)
		}
	}
}
