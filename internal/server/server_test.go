package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/metrics"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/schedule"
	"github.com/ticketguard/ticketguard/internal/store"
)

type fakeStore struct {
	mu      sync.Mutex
	tenants []store.TenantSummary
	err     error
}

func (f *fakeStore) Tenants(ctx context.Context) ([]store.TenantSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tenants, f.err
}

var now = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)

func ready(context.Context) error { return nil }

// start runs a server on a free loopback port and returns its base URL.
func start(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	if opts.Store == nil {
		opts.Store = &fakeStore{}
	}
	if opts.Ready == nil {
		opts.Ready = ready
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s, "http://" + s.Addr()
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	return do(t, http.MethodGet, url)
}

func do(t *testing.T, method, url string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestHealthzAndRouting(t *testing.T) {
	s, base := start(t, Options{})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":0") {
		t.Errorf("Addr = %q, want the bound loopback port", s.Addr())
	}
	code, h, body := get(t, base+"/healthz")
	if code != http.StatusOK || body != "ok\n" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("/healthz = %d %q (%s)", code, body, h.Get("Content-Type"))
	}
	if code, _, _ := do(t, http.MethodHead, base+"/healthz"); code != http.StatusOK {
		t.Errorf("HEAD /healthz = %d", code)
	}
	if code, _, _ := do(t, http.MethodPost, base+"/"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405: the server is read-only", code)
	}
	if code, _, _ := get(t, base+"/nothing-here"); code != http.StatusNotFound {
		t.Errorf("GET /nothing-here = %d, want 404", code)
	}
	if code, _, _ := get(t, base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics without metrics = %d, want 404", code)
	}
	if s.srv.ReadHeaderTimeout <= 0 || s.srv.ReadTimeout <= 0 || s.srv.WriteTimeout <= 0 || s.srv.IdleTimeout <= 0 {
		t.Errorf("server timeouts not set: %+v", s.srv)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
}

func TestReadyzTransitions(t *testing.T) {
	var (
		mu       sync.Mutex
		storeErr = errors.New("store not open")
	)
	sched, err := schedule.New(schedule.Options{
		Default: "0 3 * * *",
		Tenants: []string{"acme"},
		Run:     func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	_, base := start(t, Options{Ready: func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if storeErr != nil {
			return storeErr
		}
		return sched.Ready()
	}})

	check := func(wantCode int, wantBody string) {
		t.Helper()
		code, h, body := get(t, base+"/readyz")
		if code != wantCode || body != wantBody+"\n" {
			t.Errorf("/readyz = %d %q, want %d %q", code, body, wantCode, wantBody)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("/readyz Cache-Control = %q", h.Get("Cache-Control"))
		}
	}
	check(http.StatusServiceUnavailable, "not ready: store not open")
	mu.Lock()
	storeErr = nil
	mu.Unlock()
	check(http.StatusServiceUnavailable, "not ready: scheduler not started")
	sched.Start()
	check(http.StatusOK, "ready")
	if err := sched.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(http.StatusServiceUnavailable, "not ready: scheduler is stopping")
}

func TestMetricsEndpoint(t *testing.T) {
	m := metrics.New()
	m.ObserveRun("acme", metrics.OutcomeOK, now.Add(-time.Minute), now)
	m.SetCheckStatuses("acme", map[string]result.Status{"ticketing-contact": result.Fail})
	_, base := start(t, Options{Metrics: m})
	code, _, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`ticketguard_runs_total{outcome="ok",tenant="acme"} 1`,
		`ticketguard_check_status{check="ticketing-contact",status="fail",tenant="acme"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func summaries() []store.TenantSummary {
	return []store.TenantSummary{
		{
			Tenant: "contoso",
			LastRun: store.Run{ID: 42, Tenant: "contoso", Outcome: store.OutcomePartial,
				StartedAt: now.Add(-20 * time.Minute), FinishedAt: now.Add(-20*time.Minute + 95*time.Second),
				Error: "graph: messageTraces: 403 Forbidden"},
			Checks: []store.CheckStatus{
				{CheckID: "ticketing-contact", Status: result.Pass},
				{CheckID: "forwarding-mode", Status: result.Fail, Severity: result.SeverityError},
				{CheckID: "message-trace", Status: result.Indeterminate},
				{CheckID: "spam-filter", Status: result.Warn, Severity: result.SeverityWarning},
				{CheckID: "smtp-auth", Status: result.Waived},
			},
			BaselineRunID: 40,
		},
		{
			Tenant:  "acme",
			LastRun: store.Run{ID: 41, Tenant: "acme", Outcome: store.OutcomeOK, StartedAt: now.Add(-3 * time.Hour), FinishedAt: now.Add(-3*time.Hour + 10*time.Second)},
			Checks:  []store.CheckStatus{{CheckID: "ticketing-contact", Status: result.Pass}},
		},
	}
}

func TestStatusPage(t *testing.T) {
	next := map[string]time.Time{"acme": now.Add(90 * time.Minute), "fabrikam": now.Add(26 * time.Hour)}
	_, base := start(t, Options{
		Store:    &fakeStore{tenants: summaries()},
		Tenants:  []string{"fabrikam", "acme", "contoso"},
		Next:     func(tenant string) time.Time { return next[tenant] },
		Schedule: func(tenant string) string { return "CRON_TZ=Europe/Berlin 0 6 * * *" },
		Location: time.UTC,
		Now:      func() time.Time { return now },
	})
	code, h, body := get(t, base+"/")
	if code != http.StatusOK {
		t.Fatalf("/ = %d", code)
	}
	if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "src=") || strings.Contains(body, "href=") {
		t.Error("the status page loads or runs something")
	}
	// Tenants in name order, the configured one that never ran included.
	iAcme, iContoso, iFab := strings.Index(body, ">acme<"), strings.Index(body, ">contoso<"), strings.Index(body, ">fabrikam<")
	if iAcme < 0 || iContoso < 0 || iFab < 0 || !(iAcme < iContoso && iContoso < iFab) {
		t.Errorf("tenants missing or out of order: acme %d, contoso %d, fabrikam %d", iAcme, iContoso, iFab)
	}
	contoso := body[iContoso:iFab]
	for _, want := range []string{
		`<time datetime="2026-05-04T09:11:35Z">2026-05-04 09:11 UTC</time>`, // finished
		"18m25s ago", "took 1m35s", "run 42", "baseline: run 40",
		`<span class="badge partial">partial</span>`,
		"1 fail, 1 warn, 1 indeterminate, 1 pass, 1 waived",
		"graph: messageTraces: 403 Forbidden",
		`<code>forwarding-mode</code> <span class="badge fail">fail</span>`,
		`<code>message-trace</code> <span class="badge indeterminate">indeterminate</span>`,
		`<code>spam-filter</code> <span class="badge warn">warn</span>`,
		"not scheduled",
	} {
		if !strings.Contains(contoso, want) {
			t.Errorf("contoso's row lacks %q:\n%s", want, contoso)
		}
	}
	for _, absent := range []string{"<code>ticketing-contact</code>", "<code>smtp-auth</code>"} {
		if strings.Contains(contoso, absent) {
			t.Errorf("contoso's row lists a check that is not failing: %s", absent)
		}
	}
	acme := body[iAcme:iContoso]
	for _, want := range []string{`<span class="badge ok">ok</span>`, "none", "in 1h30m", `2026-05-04T11:00:00Z`, "<code>CRON_TZ=Europe/Berlin 0 6 * * *</code>"} {
		if !strings.Contains(acme, want) {
			t.Errorf("acme's row lacks %q:\n%s", want, acme)
		}
	}
	fab := body[iFab:]
	for _, want := range []string{"no run yet", "in 26h00m"} {
		if !strings.Contains(fab, want) {
			t.Errorf("fabrikam's row lacks %q:\n%s", want, fab)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(body), " "), "3 tenants · 1 with failing or indeterminate checks · 1 whose last run failed or was partial") {
		t.Errorf("summary line missing:\n%s", body)
	}
}

func TestStatusPageEscapesEverything(t *testing.T) {
	evilTenant := `<script>alert("tenant")</script>`
	evilCheck := `"><img src=x onerror=alert(1)>`
	st := &fakeStore{tenants: []store.TenantSummary{{
		Tenant: evilTenant,
		LastRun: store.Run{ID: 1, Tenant: evilTenant, Outcome: store.Outcome(`<b onmouseover=x>`),
			StartedAt: now.Add(-time.Minute), FinishedAt: now, Error: `</td><script>alert("err")</script>`},
		Checks: []store.CheckStatus{{CheckID: evilCheck, Status: result.Fail}, {CheckID: "x", Status: result.Status(`" onclick="y`)}},
	}}}
	_, base := start(t, Options{
		Store:    st,
		Tenants:  []string{`<iframe src="https://evil.example">`},
		Next:     func(string) time.Time { return now.Add(time.Hour) },
		Schedule: func(string) string { return `<style>body{display:none}</style>` },
		Now:      func() time.Time { return now },
	})
	_, _, body := get(t, base+"/")
	for _, raw := range []string{"<script", "<img", "<iframe", "<b ", "onclick=\"y", "<style>body", `"><img`} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains unescaped %q", raw)
		}
	}
	for _, escaped := range []string{
		"&lt;script&gt;alert(&#34;tenant&#34;)&lt;/script&gt;",
		"&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
		"&lt;/td&gt;&lt;script&gt;alert(&#34;err&#34;)&lt;/script&gt;",
		"&lt;iframe src=&#34;https://evil.example&#34;&gt;",
		"&lt;style&gt;body{display:none}&lt;/style&gt;",
	} {
		if !strings.Contains(body, escaped) {
			t.Errorf("page lacks the escaped form %q", escaped)
		}
	}
	// Unknown statuses and outcomes get a fixed CSS class, never their text.
	if strings.Contains(body, `class="badge &#34;`) || strings.Count(body, `class="badge other"`) != 1 {
		t.Errorf("unexpected badge classes in:\n%s", body)
	}
}

func TestStatusPageStoreError(t *testing.T) {
	st := &fakeStore{err: errors.New("store: tenants: open /var/lib/ticketguard/secret-path.db: disk I/O error")}
	_, base := start(t, Options{
		Store:   st,
		Tenants: []string{"acme"},
		Next:    func(string) time.Time { return now.Add(time.Hour) },
		Now:     func() time.Time { return now },
	})
	code, _, body := get(t, base+"/")
	if code != http.StatusServiceUnavailable {
		t.Errorf("/ with a broken store = %d, want 503", code)
	}
	if !strings.Contains(body, "run history could not be read") || !strings.Contains(body, ">acme<") {
		t.Errorf("page does not explain the error or lost the schedule:\n%s", body)
	}
	if strings.Contains(body, "secret-path") {
		t.Error("page shows the store's error text")
	}
}

func TestShutdown(t *testing.T) {
	s, err := New(Options{Addr: "127.0.0.1:0", Store: &fakeStore{}, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	if code, _, _ := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Error("still accepting connections after Shutdown")
	}

	// The port is now free, and another server can take it; a third cannot.
	a, _ := New(Options{Addr: addr, Store: &fakeStore{}, Ready: ready})
	if err := a.Start(context.Background()); err != nil {
		t.Fatalf("Start on the freed port: %v", err)
	}
	defer a.Shutdown(context.Background())
	b, _ := New(Options{Addr: addr, Store: &fakeStore{}, Ready: ready})
	if err := b.Start(context.Background()); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Start on a port in use = %v, want an error naming the address", err)
	}
}

func TestNewRequiresStoreAndReady(t *testing.T) {
	if _, err := New(Options{Ready: ready}); err == nil {
		t.Error("New without a store succeeded")
	}
	if _, err := New(Options{Store: &fakeStore{}}); err == nil {
		t.Error("New without a readiness check succeeded")
	}
	s, err := New(Options{Store: &fakeStore{}, Ready: ready})
	if err != nil || s.opts.Addr != DefaultAddr {
		t.Errorf("default address: %v %q", err, s.opts.Addr)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                  "0s",
		400 * time.Millisecond:        "0s",
		45 * time.Second:              "45s",
		95 * time.Second:              "1m35s",
		3*time.Hour + 5*time.Minute:   "3h05m",
		50*time.Hour + 10*time.Minute: "2d2h",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%s) = %q, want %q", d, got, want)
		}
	}
	if got := truncate("é"+strings.Repeat("a", 10), 1); got != "…" {
		t.Errorf("truncate cut inside a rune: %q", got)
	}
}
