package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/schedule"
)

var _ schedule.Observer = (*Metrics)(nil)

func gatherAndCompare(t *testing.T, m *Metrics, want string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func TestRuns(t *testing.T) {
	m := New()
	m.InitTenants([]string{"acme"})
	start := time.Date(2026, 5, 1, 6, 0, 0, 0, time.UTC)
	m.ObserveRun("acme", OutcomeOK, start, start.Add(12*time.Second))
	m.ObserveRun("acme", OutcomePartial, start.Add(time.Hour), start.Add(time.Hour+90*time.Second))
	m.RunPanicked("contoso")
	m.RunSkipped("contoso", schedule.SkipOverlap)
	m.RunStarted("acme")
	m.RunStarted("contoso")
	m.RunEnded("acme")

	gatherAndCompare(t, m, `
# HELP ticketguard_runs_total Runs that finished, by tenant and outcome (ok, partial, failed, panic).
# TYPE ticketguard_runs_total counter
ticketguard_runs_total{outcome="failed",tenant="acme"} 0
ticketguard_runs_total{outcome="ok",tenant="acme"} 1
ticketguard_runs_total{outcome="panic",tenant="acme"} 0
ticketguard_runs_total{outcome="partial",tenant="acme"} 1
ticketguard_runs_total{outcome="panic",tenant="contoso"} 1
# HELP ticketguard_last_run_timestamp_seconds When the tenant's last run finished, whatever its outcome (Unix time).
# TYPE ticketguard_last_run_timestamp_seconds gauge
ticketguard_last_run_timestamp_seconds{tenant="acme"} 1.77761889e+09
# HELP ticketguard_last_successful_run_timestamp_seconds When the tenant's last run with outcome ok finished (Unix time). Alert on its age.
# TYPE ticketguard_last_successful_run_timestamp_seconds gauge
ticketguard_last_successful_run_timestamp_seconds{tenant="acme"} 1.777615212e+09
# HELP ticketguard_runs_skipped_total Scheduled runs that did not start: overlap (the previous run was still going) or shutdown.
# TYPE ticketguard_runs_skipped_total counter
ticketguard_runs_skipped_total{reason="overlap",tenant="contoso"} 1
# HELP ticketguard_runs_in_flight Runs executing now (not counting those waiting for jitter or a concurrency slot).
# TYPE ticketguard_runs_in_flight gauge
ticketguard_runs_in_flight 1
`, "ticketguard_runs_total", "ticketguard_last_run_timestamp_seconds",
		"ticketguard_last_successful_run_timestamp_seconds", "ticketguard_runs_skipped_total", "ticketguard_runs_in_flight")

	gatherAndCompare(t, m, `
# HELP ticketguard_run_duration_seconds How long a tenant's run took: collection, evaluation, storage and queuing alerts.
# TYPE ticketguard_run_duration_seconds histogram
ticketguard_run_duration_seconds_bucket{tenant="acme",le="1"} 0
ticketguard_run_duration_seconds_bucket{tenant="acme",le="2.5"} 0
ticketguard_run_duration_seconds_bucket{tenant="acme",le="5"} 0
ticketguard_run_duration_seconds_bucket{tenant="acme",le="10"} 0
ticketguard_run_duration_seconds_bucket{tenant="acme",le="30"} 1
ticketguard_run_duration_seconds_bucket{tenant="acme",le="60"} 1
ticketguard_run_duration_seconds_bucket{tenant="acme",le="120"} 2
ticketguard_run_duration_seconds_bucket{tenant="acme",le="300"} 2
ticketguard_run_duration_seconds_bucket{tenant="acme",le="600"} 2
ticketguard_run_duration_seconds_bucket{tenant="acme",le="1200"} 2
ticketguard_run_duration_seconds_bucket{tenant="acme",le="1800"} 2
ticketguard_run_duration_seconds_bucket{tenant="acme",le="+Inf"} 2
ticketguard_run_duration_seconds_sum{tenant="acme"} 102
ticketguard_run_duration_seconds_count{tenant="acme"} 2
`, "ticketguard_run_duration_seconds")
}

func TestCheckStatuses(t *testing.T) {
	m := New()
	m.SetCheckStatuses("acme", map[string]result.Status{
		"ticketing-contact": result.Fail,
		"send-as":           result.Pass,
		"journal-rule":      result.Indeterminate,
	})
	m.SetCheckStatuses("contoso", map[string]result.Status{"send-as": result.Warn})
	// The next run: one check fixed, one gone (policy removed), one unchanged.
	m.SetCheckStatuses("acme", map[string]result.Status{
		"ticketing-contact": result.Pass,
		"send-as":           result.Pass,
	})
	gatherAndCompare(t, m, `
# HELP ticketguard_check_status 1 for each check's status in the tenant's last run; only the current status has a series.
# TYPE ticketguard_check_status gauge
ticketguard_check_status{check="send-as",status="pass",tenant="acme"} 1
ticketguard_check_status{check="ticketing-contact",status="pass",tenant="acme"} 1
ticketguard_check_status{check="send-as",status="warn",tenant="contoso"} 1
`, "ticketguard_check_status")

	m.SetCheckStatuses("contoso", nil)
	if n := testutil.CollectAndCount(m.checkStatus); n != 2 {
		t.Errorf("%d check_status series after clearing contoso, want 2", n)
	}
}

func TestAPIAndAlerts(t *testing.T) {
	m := New()
	m.AddAPIRequests("acme", "exchange", 12, 2, 1)
	m.AddAPIRequests("acme", "exchange", 3, 0, 0)
	m.AddAPIRequests("acme", "graph", 5, -1, 0) // a negative count must not panic
	m.AlertSent("acme", "alert")
	m.AlertSent("acme", "alert")
	m.AlertFailed("acme", "resolved")
	m.AlertAbandoned("acme", "drift")
	m.SetOutboxQueued(4)
	m.SetOutboxQueued(3)

	checks := map[string]float64{
		`requests acme exchange`:  testutil.ToFloat64(m.apiRequests.WithLabelValues("acme", "exchange")),
		`retries acme exchange`:   testutil.ToFloat64(m.apiRetries.WithLabelValues("acme", "exchange")),
		`throttled acme exchange`: testutil.ToFloat64(m.apiThrottled.WithLabelValues("acme", "exchange")),
		`requests acme graph`:     testutil.ToFloat64(m.apiRequests.WithLabelValues("acme", "graph")),
		`retries acme graph`:      testutil.ToFloat64(m.apiRetries.WithLabelValues("acme", "graph")),
		`sent`:                    testutil.ToFloat64(m.alertsSent.WithLabelValues("acme", "alert")),
		`failed`:                  testutil.ToFloat64(m.alertsFailed.WithLabelValues("acme", "resolved")),
		`abandoned`:               testutil.ToFloat64(m.alertsAbandoned.WithLabelValues("acme", "drift")),
		`queued`:                  testutil.ToFloat64(m.outboxQueued),
	}
	want := map[string]float64{
		`requests acme exchange`: 15, `retries acme exchange`: 2, `throttled acme exchange`: 1,
		`requests acme graph`: 5, `retries acme graph`: 0,
		`sent`: 2, `failed`: 1, `abandoned`: 1, `queued`: 3,
	}
	for k, w := range want {
		if checks[k] != w {
			t.Errorf("%s = %v, want %v", k, checks[k], w)
		}
	}
}

func TestHandler(t *testing.T) {
	m := New()
	m.ObserveRun("acme", OutcomeFailed, time.Unix(0, 0), time.Unix(5, 0))
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`ticketguard_runs_total{outcome="failed",tenant="acme"} 1`,
		"go_goroutines ",
		"process_",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// No successful run: the success timestamp has no series at all.
	if strings.Contains(string(body), "ticketguard_last_successful_run_timestamp_seconds{") {
		t.Error("a failed run set the last successful run timestamp")
	}
	if lint, err := testutil.GatherAndLint(m.Registry()); err != nil || len(lint) > 0 {
		t.Errorf("lint: %v %v", lint, err)
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *Metrics
	m.InitTenants([]string{"a"})
	m.ObserveRun("a", OutcomeOK, time.Now(), time.Now())
	m.SetCheckStatuses("a", map[string]result.Status{"x": result.Fail})
	m.AddAPIRequests("a", "graph", 1, 1, 1)
	m.AlertSent("a", "alert")
	m.AlertFailed("a", "alert")
	m.AlertAbandoned("a", "alert")
	m.SetOutboxQueued(1)
	m.RunSkipped("a", "overlap")
	m.RunPanicked("a")
	m.RunStarted("a")
	m.RunEnded("a")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Handler status %d", rec.Code)
	}
}
