// Package service is one compliance round of one tenant, as `ticketguard
// serve` and `ticketguard run --once` perform it:
//
//	collect → evaluate → waivers → drift view, drift against the previous
//	run and the baseline → alert.Plan → store.SaveRun → Prune → flush the
//	outbox
//
// Everything a round produces (the run, its snapshot, check results, drift
// events, the alert state and the Slack message that accounts for it) is
// written by one SaveRun transaction, and the message is written before it
// is sent: a crash at any point leaves either the previous state or the
// whole new one, and a message that was committed is delivered at least
// once (see alert.Deliverer for the one duplicate window).
//
// A tenant whose collection fails is not an error of the service: the round
// is recorded as a run with outcome failed (nothing collected) or partial
// (some sources failed), its checks are indeterminate, and Slack is told
// that collection broke. Round returns an error only for a failed
// collection, so `run --once` can exit 1, and for what stops the round from
// being recorded at all (the store failing, a shutdown).
package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ticketguard/ticketguard/internal/alert"
	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/metrics"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/snapshot"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/internal/waiver"
	"github.com/ticketguard/ticketguard/notifiers"
)

// apiSource labels the request counters in metrics: the collectors count
// requests per tenant, not per service.
const apiSource = "all"

// ErrCollectionFailed marks a round whose collection read nothing: the run
// is recorded (outcome failed) and announced, but the round did not do its
// job, so `run --once` exits 1.
var ErrCollectionFailed = errors.New("collection failed")

// Options configure a Service.
type Options struct {
	// Config is the loaded configuration: tenants, endpoints, slack, store
	// retention. Required.
	Config *config.Config
	// Store is the history. Required.
	Store *store.Store
	// Engine evaluates the checks and the drift view. Required.
	Engine *policy.Engine
	// Waivers, when set, are applied to every tenant's results.
	Waivers *waiver.Set
	// Notifier delivers alerts; nil turns alerting off (no alert state and
	// no outbox message is written, so configuring Slack later announces
	// what is failing then, as a first run).
	Notifier notifiers.Notifier
	// Renderer renders alerts for the Notifier (slack.Renderer).
	Renderer alert.Renderer
	// Collect is the template of every tenant's collection: HTTPClient,
	// ProbeSMTP, SMTPAddress, Version. Tenants, Engine, Progress, OutDir
	// and Now are set by the service.
	Collect collect.Options
	// Metrics, when set, records runs, check statuses, requests and alerts.
	Metrics *metrics.Metrics
	// Logger receives one line per round and per delivery problem; nil
	// discards. Nothing logged carries a secret.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service performs rounds. It is safe for concurrent use by rounds of
// different tenants; the scheduler never runs two rounds of one tenant at
// once.
type Service struct {
	cfg      *config.Config
	st       *store.Store
	engine   *policy.Engine
	waivers  *waiver.Set
	notifier notifiers.Notifier
	renderer alert.Renderer
	collect  collect.Options
	metrics  *metrics.Metrics
	log      *slog.Logger
	now      func() time.Time
	red      *redactor
	deliver  *alert.Deliverer

	// flushing is held by the round flushing the outbox; flushAgain asks
	// it for one more pass (see flushAfterRound).
	flushing, flushAgain atomic.Bool
}

// New checks the options and builds the service.
func New(o Options) (*Service, error) {
	switch {
	case o.Config == nil:
		return nil, errors.New("service: no configuration")
	case o.Store == nil:
		return nil, errors.New("service: no store")
	case o.Engine == nil:
		return nil, errors.New("service: no policy engine")
	case o.Notifier != nil && o.Renderer == nil:
		return nil, errors.New("service: a notifier needs a renderer")
	}
	s := &Service{
		cfg: o.Config, st: o.Store, engine: o.Engine, waivers: o.Waivers,
		notifier: o.Notifier, renderer: o.Renderer, collect: o.Collect,
		metrics: o.Metrics, log: o.Logger, now: o.Now,
		red: secretsOf(o.Config),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.notifier != nil {
		s.deliver = &alert.Deliverer{
			Store:     o.Store,
			Notifier:  s.notifier,
			Now:       s.now,
			Logger:    s.log,
			OnAttempt: s.onAttempt,
		}
	}
	return s, nil
}

// Deliverer is the outbox's sender (nil when alerting is off), for tuning
// its backoff in tests and for Run in serve.
func (s *Service) Deliverer() *alert.Deliverer { return s.deliver }

// Alerting reports whether a notifier is configured.
func (s *Service) Alerting() bool { return s.notifier != nil }

// Outcome is what one round did.
type Outcome struct {
	Tenant  string
	RunID   int64 // 0 when the round was not recorded
	Outcome store.Outcome
	Results []result.CheckResult
	// Drift is what changed since the previous run with a snapshot;
	// BaselineDrift since the approved baseline (nil without one).
	Drift         []drift.Change
	BaselineDrift []drift.Change
	// Alert is why a message was queued, or "nothing to send"; "" when
	// alerting is off.
	Alert string
	// Queued reports whether a message was written to the outbox.
	Queued bool
	// Err is the collection's failure (redacted), for outcome failed.
	Err error
}

// Round performs one tenant's round. See the package documentation for
// what counts as an error.
func (s *Service) Round(ctx context.Context, tenant string) (Outcome, error) {
	t, err := s.cfg.Tenant(tenant)
	if err != nil {
		return Outcome{Tenant: tenant}, err
	}
	log := s.log.With("tenant", t.Name)
	started := s.now()

	oc, err := s.collectTenant(ctx, t.Name)
	if ctx.Err() != nil {
		// Shutting down (or the scheduler's run timeout): what was
		// collected is incomplete for a reason that is not the tenant's,
		// and recording it would announce indeterminate checks and drift
		// that are not there. The next round collects again.
		log.Warn("round abandoned", "reason", context.Cause(ctx))
		return Outcome{Tenant: t.Name}, fmt.Errorf("tenant %s: round abandoned: %w", t.Name, context.Cause(ctx))
	}
	if err != nil {
		// The collection could not start (an unreadable Atera API key or
		// CA file): a failed run, like a sign-in failure, and announced
		// like one, or a rotated secret file would silence the tenant.
		cause := errors.New(s.red.redact(err.Error()))
		oc = collect.Outcome{Tenant: t.Name, Err: cause, Snapshot: failedDocument(t, started, cause)}
	}

	out, rec, err := s.evaluate(ctx, t, oc, started)
	if err != nil {
		return out, err
	}
	rec.Run.FinishedAt = s.now()
	id, err := s.st.SaveRun(ctx, rec)
	if err != nil {
		return out, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	out.RunID = id

	s.metrics.ObserveRun(t.Name, string(out.Outcome), rec.Run.StartedAt, rec.Run.FinishedAt)
	s.metrics.AddAPIRequests(t.Name, apiSource, rec.Run.Requests, rec.Run.Retries, rec.Run.Throttled)
	if out.Results != nil {
		statuses := make(map[string]result.Status, len(out.Results))
		for _, r := range out.Results {
			statuses[r.Check.ID] = r.Status
		}
		s.metrics.SetCheckStatuses(t.Name, statuses)
	}

	// Retention after the run is committed: pruning first could delete
	// the run this one's drift was computed against, and a failure here
	// loses nothing (the next round prunes again).
	if n, err := s.st.Prune(ctx, t.Name, s.cfg.Store.KeepLast, s.cfg.Store.KeepDailyDays, s.now()); err != nil {
		log.Error("prune the history", "error", s.red.redact(err.Error()))
	} else if n > 0 {
		log.Debug("pruned old runs", "runs", n)
	}

	attrs := []any{"run", id, "outcome", out.Outcome, "checks", summary(out.Results),
		"drift", len(out.Drift), "duration", rec.Run.Duration().Round(time.Millisecond)}
	if s.notifier != nil {
		attrs = append(attrs, "alert", out.Alert)
	}
	if rec.Run.Error != "" {
		attrs = append(attrs, "error", rec.Run.Error)
	}
	if out.Outcome == store.OutcomeFailed {
		log.Error("round recorded; collection failed", attrs...)
	} else {
		log.Info("round recorded", attrs...)
	}

	// Delivery problems are recorded in the outbox and retried; only the
	// store failing ends up here, and the message waits for the next flush.
	if err := s.flushAfterRound(ctx); err != nil && ctx.Err() == nil {
		log.Error("flush the Slack outbox", "error", s.red.redact(err.Error()))
	}
	if out.Outcome == store.OutcomeFailed {
		return out, fmt.Errorf("tenant %s: %w: %s", t.Name, ErrCollectionFailed, rec.Run.Error)
	}
	return out, nil
}

// Run is Round for the scheduler.
func (s *Service) Run(ctx context.Context, tenant string) error {
	_, err := s.Round(ctx, tenant)
	return err
}

// collectTenant collects one tenant with the service's template.
func (s *Service) collectTenant(ctx context.Context, tenant string) (collect.Outcome, error) {
	o := s.collect
	o.Tenants = []string{tenant}
	o.Engine = s.engine
	o.OutDir = ""
	o.Progress = nil
	o.Now = s.now
	outs, err := collect.Run(ctx, s.cfg, o)
	if err != nil {
		return collect.Outcome{}, err
	}
	if len(outs) != 1 {
		return collect.Outcome{}, fmt.Errorf("collect returned %d outcomes for one tenant (a ticketguard bug)", len(outs))
	}
	return outs[0], nil
}

// evaluate turns a collection into the run record: results with waivers,
// drift, the alert decision and its message.
func (s *Service) evaluate(ctx context.Context, t config.Tenant, oc collect.Outcome, started time.Time) (Outcome, store.RunRecord, error) {
	out := Outcome{Tenant: t.Name, Outcome: store.OutcomeOK}
	rec := store.RunRecord{Run: store.Run{
		Tenant:    t.Name,
		StartedAt: started,
		Outcome:   store.OutcomeOK,
		Requests:  int(oc.Stats.Requests),
		Retries:   int(oc.Stats.Retries),
		Throttled: int(oc.Stats.Throttled),
	}}
	switch {
	case oc.Err != nil:
		out.Outcome = store.OutcomeFailed
		rec.Run.Error = s.red.redact(oc.Err.Error())
		out.Err = errors.New(rec.Run.Error)
	case len(oc.Errors) > 0:
		out.Outcome = store.OutcomePartial
		rec.Run.Error = s.red.redact(sourceErrors(oc.Errors))
	}
	rec.Run.Outcome = out.Outcome

	now := s.now()
	doc := oc.Snapshot
	tenant := result.Tenant{Name: t.Name, TenantID: t.TenantID, CollectedAt: started}
	if doc != nil {
		// Even a failed collection has a document (no Exchange data, the
		// errors): evaluated, every check is indeterminate with the
		// reason, which is what Slack is told.
		res, err := s.engine.Evaluate(ctx, doc.Data, now)
		if err != nil {
			return out, rec, fmt.Errorf("tenant %s: evaluate: %w", t.Name, err)
		}
		if s.waivers != nil {
			res = s.waivers.Apply(t.Name, res, now)
		}
		tenant.Results, tenant.Errors = res, doc.Errors
		if !doc.CollectedAt.IsZero() {
			tenant.CollectedAt = doc.CollectedAt
		}
		if doc.TenantID != "" {
			tenant.TenantID = doc.TenantID
		}
		out.Results, rec.Results = res, res
	}
	if out.Outcome != store.OutcomeFailed && doc != nil {
		data, err := encodeSnapshot(doc.Data)
		if err != nil {
			return out, rec, fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		rec.Snapshot = data
		if err := s.drift(ctx, t.Name, doc, &out, &rec); err != nil {
			return out, rec, err
		}
	}

	if s.notifier != nil {
		prev, err := s.st.AlertStates(ctx, t.Name)
		if err != nil {
			return out, rec, fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		var repeat time.Duration
		if s.cfg.Slack != nil {
			repeat = s.cfg.Slack.RepeatInterval
		}
		dec := alert.Plan(alert.Input{Tenant: tenant, Drift: out.Drift, Prev: prev, Now: now, Repeat: repeat})
		rec.AlertState = dec.State
		out.Alert = dec.Why()
		if dec.Send() {
			msg, err := alert.Outbox(dec, s.renderer, s.cfg.Slack.Channel(t.Name), now)
			if err != nil {
				return out, rec, fmt.Errorf("tenant %s: %w", t.Name, err)
			}
			rec.Outbox = append(rec.Outbox, msg)
			out.Queued = true
		}
	}
	return out, rec, nil
}

// drift compares the new snapshot's view with the previous run's and the
// baseline's, and adds the events to the record.
// bridgeLookback bounds how many older runs bridgeDrift reads.
const bridgeLookback = 10

// bridgeDrift compares the objects of the missing sources with the newest run
// before prevID that collected all of them.
func (s *Service) bridgeDrift(ctx context.Context, tenant string, prevID int64, view map[string]any, missing []string, viewOf func(int64) (map[string]any, error)) []drift.Change {
	runs, err := s.st.Runs(ctx, tenant, bridgeLookback+1)
	if err != nil {
		s.log.Warn("older runs unreadable: drift of sources that failed last run not checked", "tenant", tenant, "error", s.red.redact(err.Error()))
		return nil
	}
	for _, r := range runs {
		if r.ID >= prevID || !r.HasSnapshot {
			continue
		}
		old, err := viewOf(r.ID)
		if err != nil || !drift.Covers(old, missing) {
			continue
		}
		return drift.CompareSources(old, view, missing)
	}
	return nil
}

func (s *Service) drift(ctx context.Context, tenant string, doc *snapshot.Document, out *Outcome, rec *store.RunRecord) error {
	view, err := s.engine.View(ctx, doc.Data)
	if err != nil {
		return fmt.Errorf("tenant %s: drift view: %w", tenant, err)
	}
	views := map[int64]map[string]any{}
	viewOf := func(runID int64) (map[string]any, error) {
		if v, ok := views[runID]; ok {
			return v, nil
		}
		data, err := s.st.Snapshot(ctx, runID)
		if err != nil {
			return nil, err
		}
		old, err := snapshot.Parse(fmt.Sprintf("%s (run %d)", tenant, runID), data)
		if err != nil {
			return nil, err
		}
		v, err := s.engine.View(ctx, old.Data)
		if err != nil {
			return nil, err
		}
		views[runID] = v
		return v, nil
	}

	prev, ok, err := s.st.LastRunWithSnapshot(ctx, tenant)
	if err != nil {
		return fmt.Errorf("tenant %s: %w", tenant, err)
	}
	if ok {
		pv, err := viewOf(prev.ID)
		if err != nil {
			// A snapshot that no longer reads (written by an older
			// ticketguard, whose schema this one refuses) must not stop
			// the tenant's monitoring: no drift this once.
			s.log.Warn("previous snapshot unreadable: no drift this run", "tenant", tenant, "run", prev.ID, "error", s.red.redact(err.Error()))
		} else {
			out.Drift = drift.Compare(pv, view)
			// Sources that failed in the previous run hide what changed
			// since the run before it: compare those objects with the
			// latest older run that collected them, so a partial run
			// never swallows a change.
			if missing := drift.Uncollected(pv, view); len(missing) > 0 {
				out.Drift = append(out.Drift, s.bridgeDrift(ctx, tenant, prev.ID, view, missing, viewOf)...)
			}
			evs, err := driftEvents(store.AgainstPrevious, prev.ID, out.Drift)
			if err != nil {
				return fmt.Errorf("tenant %s: %w", tenant, err)
			}
			rec.Drift = append(rec.Drift, evs...)
		}
	}

	base, ok, err := s.st.Baseline(ctx, tenant)
	if err != nil {
		return fmt.Errorf("tenant %s: %w", tenant, err)
	}
	if ok {
		bv, err := viewOf(base)
		if err != nil {
			s.log.Warn("baseline snapshot unreadable: no baseline drift this run", "tenant", tenant, "run", base, "error", s.red.redact(err.Error()))
			return nil
		}
		out.BaselineDrift = drift.Compare(bv, view)
		if out.BaselineDrift == nil {
			out.BaselineDrift = []drift.Change{}
		}
		evs, err := driftEvents(store.AgainstBaseline, base, out.BaselineDrift)
		if err != nil {
			return fmt.Errorf("tenant %s: %w", tenant, err)
		}
		rec.Drift = append(rec.Drift, evs...)
	}
	return nil
}

// failedDocument is the snapshot of a tenant whose collection could not
// start: no data, the reason as a collection error. Evaluated, every check
// is indeterminate and says why, as for a failed sign-in. Nil if it does not
// parse (it always should).
func failedDocument(t config.Tenant, at time.Time, cause error) *snapshot.Document {
	doc := map[string]any{
		"schema_version": snapshot.SupportedVersion,
		"tenant":         map[string]any{"name": t.Name, "tenant_id": t.TenantID},
		"collected_at":   at.UTC().Format(time.RFC3339),
		"atera":          t.AteraSection(),
		"errors":         []any{map[string]any{"source": collect.SourceCollection, "message": cause.Error()}},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil
	}
	parsed, err := snapshot.Parse(t.Name+" (not collected)", data)
	if err != nil {
		return nil
	}
	return parsed
}

// driftEvents turns drift changes into the store's rows.
func driftEvents(against store.Against, runID int64, changes []drift.Change) ([]store.DriftEvent, error) {
	evs := make([]store.DriftEvent, 0, len(changes))
	for _, c := range changes {
		ev := store.DriftEvent{
			Against: against, AgainstRunID: runID,
			ObjectKind: c.Kind, ObjectKey: c.Key, ObjectLabel: c.Label,
			Property: c.Property, Change: store.Change(c.Change),
		}
		var err error
		if ev.Before, err = rawValue(c.Before); err != nil {
			return nil, err
		}
		if ev.After, err = rawValue(c.After); err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func rawValue(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode drift value: %w", err)
	}
	return b, nil
}

// encodeSnapshot is the JSON stored with the run: the normalised snapshot,
// which parses back to the same document (normalisation is idempotent), so
// `show`, `baseline` and the next round's drift read it like a file.
func encodeSnapshot(data map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// sourceErrors is a partial run's error text: every source that failed.
func sourceErrors(errs []result.SourceError) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := strings.Join(strings.Fields(e.Message), " ")
		parts = append(parts, e.Source+": "+strings.TrimPrefix(msg, e.Source+": "))
	}
	return strings.Join(parts, "; ")
}

// summary counts results by status for the log line: "fail=2 pass=12".
func summary(rs []result.CheckResult) string {
	if len(rs) == 0 {
		return "none"
	}
	n := map[result.Status]int{}
	for _, r := range rs {
		n[r.Status]++
	}
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%s=%d", st, n[st]))
	}
	return strings.Join(parts, " ")
}
