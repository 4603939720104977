// Package metrics holds the Prometheus metrics of `ticketguard serve`, in a
// registry of its own (not the global one, so tests and embedders get a clean
// set), and serves them on /metrics.
//
// Who records what:
//   - the run pipeline: ObserveRun (outcome ok, partial or failed, duration,
//     last run), SetCheckStatuses, AddAPIRequests;
//   - the scheduler, through schedule.Observer: runs skipped, panicked (outcome
//     "panic": the pipeline never got to record an outcome) and in flight;
//   - the Slack outbox: AlertSent, AlertFailed, AlertAbandoned,
//     SetOutboxQueued.
//
// Every method is safe on a nil *Metrics, so metrics can be switched off by
// passing nil.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ticketguard/ticketguard/internal/result"
)

const namespace = "ticketguard"

// Outcomes counted in ticketguard_runs_total. The first three are the
// store's run outcomes.
const (
	OutcomeOK      = "ok"
	OutcomePartial = "partial"
	OutcomeFailed  = "failed"
	OutcomePanic   = "panic"
)

var outcomes = []string{OutcomeOK, OutcomePartial, OutcomeFailed, OutcomePanic}

// Metrics is the set of ticketguard's metrics and their registry.
type Metrics struct {
	reg *prometheus.Registry

	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	lastRun     *prometheus.GaugeVec
	lastOK      *prometheus.GaugeVec
	skipped     *prometheus.CounterVec
	inFlight    prometheus.Gauge

	checkStatus *prometheus.GaugeVec

	apiRequests  *prometheus.CounterVec
	apiRetries   *prometheus.CounterVec
	apiThrottled *prometheus.CounterVec

	alertsSent      *prometheus.CounterVec
	alertsFailed    *prometheus.CounterVec
	alertsAbandoned *prometheus.CounterVec
	outboxQueued    prometheus.Gauge

	mu     sync.Mutex
	checks map[string]map[string]result.Status // tenant -> check -> exported status
}

// New creates the metrics in a new registry, with the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "runs_total",
			Help: "Runs that finished, by tenant and outcome (ok, partial, failed, panic).",
		}, []string{"tenant", "outcome"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "run_duration_seconds",
			Help: "How long a tenant's run took: collection, evaluation, storage and queuing alerts.",
			// A run is a few API calls per tenant: seconds normally, minutes
			// when the tenant is throttled.
			Buckets: []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800},
		}, []string{"tenant"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "last_run_timestamp_seconds",
			Help: "When the tenant's last run finished, whatever its outcome (Unix time).",
		}, []string{"tenant"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "last_successful_run_timestamp_seconds",
			Help: "When the tenant's last run with outcome ok finished (Unix time). Alert on its age.",
		}, []string{"tenant"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "runs_skipped_total",
			Help: "Scheduled runs that did not start: overlap (the previous run was still going) or shutdown.",
		}, []string{"tenant", "reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "runs_in_flight",
			Help: "Runs executing now (not counting those waiting for jitter or a concurrency slot).",
		}),
		checkStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "check_status",
			Help: "1 for each check's status in the tenant's last run; only the current status has a series.",
		}, []string{"tenant", "check", "status"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "api_requests_total",
			Help: "Requests the collectors made, by tenant and source (exchange, graph, atera, smtp).",
		}, []string{"tenant", "source"}),
		apiRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "api_retries_total",
			Help: "Requests the collectors retried, by tenant and source.",
		}, []string{"tenant", "source"}),
		apiThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "api_throttled_total",
			Help: "Responses that throttled the collectors (HTTP 429 or 503 with Retry-After), by tenant and source.",
		}, []string{"tenant", "source"}),
		alertsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "alerts_sent_total",
			Help: "Slack messages delivered, by tenant and kind.",
		}, []string{"tenant", "kind"}),
		alertsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "alerts_failed_total",
			Help: "Slack delivery attempts that failed and will be retried, by tenant and kind.",
		}, []string{"tenant", "kind"}),
		alertsAbandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "alerts_abandoned_total",
			Help: "Slack messages given up on (permanent error or too many attempts), by tenant and kind.",
		}, []string{"tenant", "kind"}),
		outboxQueued: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "outbox_queued",
			Help: "Slack messages written to the outbox and not yet delivered or abandoned.",
		}),
		checks: map[string]map[string]result.Status{},
	}
	m.reg.MustRegister(
		m.runs, m.runDuration, m.lastRun, m.lastOK, m.skipped, m.inFlight,
		m.checkStatus,
		m.apiRequests, m.apiRetries, m.apiThrottled,
		m.alertsSent, m.alertsFailed, m.alertsAbandoned, m.outboxQueued,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A collector failing (e.g. /proc unreadable) should not hide the rest.
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Registry is the registry the metrics live in, to gather in tests or to add
// collectors to.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// InitTenants creates the run counters of each tenant at zero, so that
// increase() and absent-series alerts work from the first run on.
func (m *Metrics) InitTenants(tenants []string) {
	if m == nil {
		return
	}
	for _, t := range tenants {
		for _, o := range outcomes {
			m.runs.WithLabelValues(t, o)
		}
		m.runDuration.WithLabelValues(t)
	}
}

// ObserveRun records a finished run: its outcome (OutcomeOK, OutcomePartial
// or OutcomeFailed, as the store records it), duration and finish time.
func (m *Metrics) ObserveRun(tenant, outcome string, started, finished time.Time) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(tenant, outcome).Inc()
	m.runDuration.WithLabelValues(tenant).Observe(finished.Sub(started).Seconds())
	m.lastRun.WithLabelValues(tenant).Set(unixSeconds(finished))
	if outcome == OutcomeOK {
		m.lastOK.WithLabelValues(tenant).Set(unixSeconds(finished))
	}
}

// SetCheckStatuses replaces the tenant's check statuses (check ID -> status)
// with those of its latest run. Checks absent from statuses lose their series.
func (m *Metrics) SetCheckStatuses(tenant string, statuses map[string]result.Status) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.checks[tenant]
	for check, prev := range old {
		if cur, ok := statuses[check]; !ok || cur != prev {
			m.checkStatus.DeleteLabelValues(tenant, check, string(prev))
		}
	}
	cur := make(map[string]result.Status, len(statuses))
	for check, st := range statuses {
		m.checkStatus.WithLabelValues(tenant, check, string(st)).Set(1)
		cur[check] = st
	}
	m.checks[tenant] = cur
}

// AddAPIRequests adds a run's request counters for one source.
func (m *Metrics) AddAPIRequests(tenant, source string, requests, retries, throttled int) {
	if m == nil {
		return
	}
	m.apiRequests.WithLabelValues(tenant, source).Add(nonNegative(requests))
	m.apiRetries.WithLabelValues(tenant, source).Add(nonNegative(retries))
	m.apiThrottled.WithLabelValues(tenant, source).Add(nonNegative(throttled))
}

// AlertSent counts a delivered Slack message.
func (m *Metrics) AlertSent(tenant, kind string) {
	if m != nil {
		m.alertsSent.WithLabelValues(tenant, kind).Inc()
	}
}

// AlertFailed counts a failed delivery attempt that will be retried.
func (m *Metrics) AlertFailed(tenant, kind string) {
	if m != nil {
		m.alertsFailed.WithLabelValues(tenant, kind).Inc()
	}
}

// AlertAbandoned counts a message the outbox gave up on.
func (m *Metrics) AlertAbandoned(tenant, kind string) {
	if m != nil {
		m.alertsAbandoned.WithLabelValues(tenant, kind).Inc()
	}
}

// SetOutboxQueued sets the number of messages waiting in the outbox.
func (m *Metrics) SetOutboxQueued(n int) {
	if m != nil {
		m.outboxQueued.Set(float64(n))
	}
}

// RunSkipped implements schedule.Observer.
func (m *Metrics) RunSkipped(tenant, reason string) {
	if m != nil {
		m.skipped.WithLabelValues(tenant, reason).Inc()
	}
}

// RunPanicked implements schedule.Observer: a panicking run is counted with
// outcome "panic", since the pipeline never recorded one.
func (m *Metrics) RunPanicked(tenant string) {
	if m != nil {
		m.runs.WithLabelValues(tenant, OutcomePanic).Inc()
	}
}

// RunStarted implements schedule.Observer.
func (m *Metrics) RunStarted(string) {
	if m != nil {
		m.inFlight.Inc()
	}
}

// RunEnded implements schedule.Observer.
func (m *Metrics) RunEnded(string) {
	if m != nil {
		m.inFlight.Dec()
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func nonNegative(n int) float64 { return float64(max(n, 0)) }
