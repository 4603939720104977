// Package schedule runs every tenant's compliance run on its cron schedule for
// `ticketguard serve`, and one round of all of them for `ticketguard run --once`.
//
// It is built on robfig/cron v3 with one entry per tenant, each wrapped in
// SkipIfStillRunning(Recover(job)): Recover must be the inner wrapper, or a
// panic would unwind past SkipIfStillRunning without giving back its token and
// the tenant would be skipped forever. On top of cron the scheduler adds a
// deterministic jitter per tenant and run, so hundreds of tenants on the same
// schedule do not start in the same second, a global limit on runs in flight,
// a time limit per run, and a Stop that finishes or abandons runs within the
// caller's deadline.
//
// The scheduler knows nothing of what a run does: Run collects, evaluates,
// stores and notifies, and records its own outcome. The scheduler reports
// only what Run cannot see: runs skipped, runs that panicked, runs in flight.
package schedule

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Defaults for zero Options fields.
const (
	DefaultConcurrency = 4
	DefaultRunTimeout  = 30 * time.Minute
	DefaultStopGrace   = 10 * time.Second
)

// Reasons a run was skipped, as given to Observer.RunSkipped.
const (
	// SkipOverlap: the tenant's previous run was still in progress (or still
	// waiting for its jitter or a concurrency slot) when the schedule fired.
	SkipOverlap = "overlap"
	// SkipShutdown: the scheduler was stopped, or RunOnce's context ended,
	// before the run started.
	SkipShutdown = "shutdown"
)

// Observer is told what happens to scheduled runs. *metrics.Metrics
// implements it. Methods are called from many goroutines.
type Observer interface {
	RunSkipped(tenant, reason string)
	RunPanicked(tenant string)
	RunStarted(tenant string)
	RunEnded(tenant string)
}

// Options configure a Scheduler.
type Options struct {
	// Default is the schedule of every tenant without an entry in PerTenant
	// (see ParseSpec for the syntax). It may be empty only if every tenant
	// has its own.
	Default string
	// PerTenant overrides Default for the named tenants. A key that is not
	// in Tenants is an error: it is almost certainly a typo.
	PerTenant map[string]string
	// Tenants to schedule, in the order RunOnce starts them.
	Tenants []string
	// Location is the time zone of specs without CRON_TZ=; time.Local when nil.
	Location *time.Location
	// Jitter is the largest delay added to a run's start. The delay is a
	// hash of the tenant and the scheduled minute: spread over [0, Jitter),
	// different for each run, and the same on every replica and restart, so
	// Next can show it and tests can predict it. Keep it well below the
	// schedule's interval, or runs will overlap and be skipped.
	Jitter time.Duration
	// Concurrency is the number of runs allowed in flight at once across all
	// tenants (DefaultConcurrency when 0). A run waiting for a slot counts
	// as still running for overlap skipping.
	Concurrency int
	// RunTimeout bounds one run (DefaultRunTimeout when 0; negative: none).
	// A hung collection would otherwise hold a concurrency slot, and its
	// tenant's schedule, forever.
	RunTimeout time.Duration
	// StopGrace is how long Stop waits for cancelled runs to return once its
	// deadline has passed (DefaultStopGrace when 0).
	StopGrace time.Duration
	// Run performs one tenant's run. It must honour ctx.
	Run func(ctx context.Context, tenant string) error
	// Logger receives the scheduler's logs; discarded when nil.
	Logger *slog.Logger
	// Observer is told about skips, panics and runs in flight; may be nil.
	Observer Observer
}

// PanicError is what a run that panicked returns from RunOnce.
type PanicError struct {
	Tenant string
	Value  any
	Stack  []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("run of tenant %s panicked: %v", e.Tenant, e.Value)
}

// errSkipped marks a run that never started because of a shutdown.
var errSkipped = errors.New("not started: shutting down")

type tenantEntry struct {
	spec  string
	sched cron.Schedule
}

// Scheduler runs tenants on their schedules. Create it with New.
type Scheduler struct {
	log        *slog.Logger
	obs        Observer
	loc        *time.Location
	jitterMax  time.Duration
	runTimeout time.Duration
	stopGrace  time.Duration
	runFn      func(context.Context, string) error

	tenants []string
	entries map[string]tenantEntry

	cron *cron.Cron
	sem  chan struct{}

	// runCtx is the parent of every scheduled run; Stop cancels it when its
	// deadline passes. stopping is closed when Stop begins: runs that have
	// not started yet (jitter, waiting for a slot) give up at once.
	runCtx     context.Context
	cancelRuns context.CancelFunc
	stopping   chan struct{}

	stopOnce sync.Once
	cronDone <-chan struct{}
	onceMu   sync.Mutex // one RunOnce at a time

	mu      sync.Mutex
	started bool
	stopped bool
	running map[string]int // tenant -> runs executing, for Stop's report
}

// New validates every schedule and builds the scheduler; it does not start it.
// All problems are reported together, each naming its tenant and spec.
func New(opts Options) (*Scheduler, error) {
	var errs []error
	if opts.Run == nil {
		errs = append(errs, errors.New("no Run function"))
	}
	if len(opts.Tenants) == 0 {
		errs = append(errs, errors.New("no tenants to schedule"))
	}
	if opts.Jitter < 0 {
		errs = append(errs, fmt.Errorf("jitter %s is negative", opts.Jitter))
	}
	if opts.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("concurrency %d is negative", opts.Concurrency))
	}

	var def cron.Schedule
	if opts.Default != "" {
		s, err := ParseSpec(opts.Default)
		if err != nil {
			errs = append(errs, fmt.Errorf("default schedule: %w", err))
		}
		def = s
	}
	entries := make(map[string]tenantEntry, len(opts.Tenants))
	for _, tenant := range opts.Tenants {
		if tenant == "" {
			errs = append(errs, errors.New("a tenant has an empty name"))
			continue
		}
		if _, dup := entries[tenant]; dup {
			errs = append(errs, fmt.Errorf("tenant %q listed twice", tenant))
			continue
		}
		e := tenantEntry{spec: opts.Default, sched: def}
		if spec, ok := opts.PerTenant[tenant]; ok {
			s, err := ParseSpec(spec)
			if err != nil {
				errs = append(errs, fmt.Errorf("tenant %q: %w", tenant, err))
			}
			e = tenantEntry{spec: spec, sched: s}
		} else if opts.Default == "" {
			errs = append(errs, fmt.Errorf("tenant %q has no schedule: set a default schedule or one for the tenant", tenant))
		}
		entries[tenant] = e
	}
	for _, tenant := range slices.Sorted(maps.Keys(opts.PerTenant)) {
		if _, ok := entries[tenant]; !ok {
			errs = append(errs, fmt.Errorf("schedule given for unknown tenant %q", tenant))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}

	s := &Scheduler{
		log:        opts.Logger,
		obs:        opts.Observer,
		loc:        opts.Location,
		jitterMax:  opts.Jitter,
		runTimeout: opts.RunTimeout,
		stopGrace:  opts.StopGrace,
		runFn:      opts.Run,
		tenants:    slices.Clone(opts.Tenants),
		entries:    entries,
		stopping:   make(chan struct{}),
		running:    map[string]int{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.obs == nil {
		s.obs = noopObserver{}
	}
	if s.loc == nil {
		s.loc = time.Local
	}
	if s.runTimeout == 0 {
		s.runTimeout = DefaultRunTimeout
	}
	if s.stopGrace <= 0 {
		s.stopGrace = DefaultStopGrace
	}
	n := opts.Concurrency
	if n == 0 {
		n = DefaultConcurrency
	}
	s.sem = make(chan struct{}, n)
	s.runCtx, s.cancelRuns = context.WithCancel(context.Background())

	s.cron = cron.New(cron.WithLocation(s.loc), cron.WithLogger(cronLogger{log: s.log}))
	for _, tenant := range s.tenants {
		// The chain is built per tenant rather than with cron.WithChain so
		// that its logger knows the tenant: SkipIfStillRunning logs a bare
		// "skip" with no job identity.
		l := cronLogger{log: s.log.With("tenant", tenant), onSkip: func() { s.obs.RunSkipped(tenant, SkipOverlap) }}
		job := cron.NewChain(cron.SkipIfStillRunning(l), cron.Recover(l)).
			Then(cron.FuncJob(func() { s.scheduledRun(tenant) }))
		s.cron.Schedule(entries[tenant].sched, job)
	}
	return s, nil
}

// Start starts the schedule. It does nothing if the scheduler was already
// started or has been stopped.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return
	}
	s.started = true
	s.cron.Start()
	s.log.Info("scheduler started", "tenants", len(s.tenants), "concurrency", cap(s.sem), "jitter", s.jitterMax)
}

// Ready reports whether the schedule is running: nil after Start and before
// Stop, for /readyz.
func (s *Scheduler) Ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return errors.New("scheduler is stopping")
	case !s.started:
		return errors.New("scheduler not started")
	}
	return nil
}

// Next is when the tenant's next scheduled run is due to start: its next
// activation after now, plus that run's jitter. It is zero for a tenant that
// is not scheduled and once the scheduler is stopping.
func (s *Scheduler) Next(tenant string) time.Time {
	e, ok := s.entries[tenant]
	if !ok {
		return time.Time{}
	}
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return time.Time{}
	}
	at := e.sched.Next(time.Now().In(s.loc))
	if at.IsZero() {
		return at
	}
	return at.Add(s.jitter(tenant, at))
}

// Spec is the schedule the tenant runs on, as configured ("" if unknown).
func (s *Scheduler) Spec(tenant string) string { return s.entries[tenant].spec }

// Stop stops scheduling new runs and waits for the runs in flight. Runs that
// were still waiting for their jitter or a concurrency slot are skipped at
// once. If ctx ends first, the runs in flight are cancelled and Stop waits up
// to StopGrace for them to return, then returns an error wrapping ctx.Err()
// that names them. Stop may be called more than once; it never restarts.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		close(s.stopping)
		// Cron's context is done when every job it started has returned.
		s.cronDone = s.cron.Stop().Done()
		s.log.Info("scheduler stopping: no new runs")
	})
	select {
	case <-s.cronDone:
		return nil
	case <-ctx.Done():
	}

	tenants := s.runningTenants()
	s.log.Warn("stop deadline passed: cancelling runs in flight", "tenants", tenants)
	s.cancelRuns()
	grace := time.NewTimer(s.stopGrace)
	defer grace.Stop()
	select {
	case <-s.cronDone:
		return fmt.Errorf("schedule: stop: cancelled runs in flight (%s): %w", strings.Join(tenants, ", "), ctx.Err())
	case <-grace.C:
		return fmt.Errorf("schedule: stop: runs in flight (%s) had not returned %s after being cancelled; abandoned: %w",
			strings.Join(s.runningTenants(), ", "), s.stopGrace, ctx.Err())
	}
}

// RunOnce runs every tenant once, now, within the concurrency limit and with
// the configured jitter (set Jitter to 0 for an immediate round), and waits
// for all of them. It returns the runs' errors joined, each naming its tenant;
// a panic in a run is recovered and returned as a *PanicError. Cancelling ctx
// cancels the runs in flight and skips those not started. It is for
// `run --once` and refuses to run while the schedule is running.
func (s *Scheduler) RunOnce(ctx context.Context) error {
	s.mu.Lock()
	started, stopped := s.started, s.stopped
	s.mu.Unlock()
	if started || stopped {
		return errors.New("schedule: RunOnce on a scheduler that was started or stopped")
	}
	if !s.onceMu.TryLock() {
		return errors.New("schedule: RunOnce already in progress")
	}
	defer s.onceMu.Unlock()

	at := time.Now().In(s.loc).Truncate(time.Minute)
	errs := make([]error, len(s.tenants))
	var wg sync.WaitGroup
	for i, tenant := range s.tenants {
		wg.Go(func() {
			if err := s.run(ctx, tenant, at); err != nil {
				errs[i] = fmt.Errorf("tenant %s: %w", tenant, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// scheduledRun is the cron job of one tenant. Errors are logged by run.
func (s *Scheduler) scheduledRun(tenant string) {
	// Specs have minute resolution, so the minute is the activation the
	// timer fired for, even if the timer fired late by some seconds.
	at := time.Now().In(s.loc).Truncate(time.Minute)
	_ = s.run(s.runCtx, tenant, at)
}

// run waits for the run's jitter and a concurrency slot, then calls Run.
func (s *Scheduler) run(ctx context.Context, tenant string, at time.Time) error {
	if d := s.jitter(tenant, at); d > 0 {
		s.log.Debug("run delayed by jitter", "tenant", tenant, "delay", d)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.stopping:
			return s.skipShutdown(tenant, nil)
		case <-ctx.Done():
			return s.skipShutdown(tenant, ctx.Err())
		}
	}
	select {
	case s.sem <- struct{}{}:
	case <-s.stopping:
		return s.skipShutdown(tenant, nil)
	case <-ctx.Done():
		return s.skipShutdown(tenant, ctx.Err())
	}
	defer func() { <-s.sem }()
	// select picks at random among ready cases: a slot may have been won
	// after Stop began.
	select {
	case <-s.stopping:
		return s.skipShutdown(tenant, nil)
	default:
	}

	s.track(tenant, 1)
	defer s.track(tenant, -1)
	s.obs.RunStarted(tenant)
	defer s.obs.RunEnded(tenant)

	if s.runTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.runTimeout)
		defer cancel()
	}
	s.log.Debug("run started", "tenant", tenant)
	start := time.Now()
	err := s.call(ctx, tenant)
	d := time.Since(start)
	var pe *PanicError
	switch {
	case errors.As(err, &pe):
		s.log.Error("run panicked; the schedule continues", "tenant", tenant, "duration", d, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
	case err != nil:
		s.log.Warn("run failed", "tenant", tenant, "duration", d, "error", err)
	default:
		s.log.Debug("run finished", "tenant", tenant, "duration", d)
	}
	return err
}

// call calls Run, turning a panic into a *PanicError. cron.Recover in the
// chain stays as the last line of defence for the scheduler's own code;
// recovering here as well lets RunOnce report the panic and the log name the
// tenant.
func (s *Scheduler) call(ctx context.Context, tenant string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.obs.RunPanicked(tenant)
			err = &PanicError{Tenant: tenant, Value: r, Stack: debug.Stack()}
		}
	}()
	return s.runFn(ctx, tenant)
}

func (s *Scheduler) skipShutdown(tenant string, cause error) error {
	s.obs.RunSkipped(tenant, SkipShutdown)
	s.log.Info("run skipped: shutting down", "tenant", tenant)
	if cause != nil {
		return fmt.Errorf("%w: %w", errSkipped, cause)
	}
	return errSkipped
}

func (s *Scheduler) track(tenant string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[tenant] += delta
	if s.running[tenant] <= 0 {
		delete(s.running, tenant)
	}
}

func (s *Scheduler) runningTenants() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.running))
}

// jitter is the delay of the tenant's run scheduled at `at`.
func (s *Scheduler) jitter(tenant string, at time.Time) time.Duration {
	return jitterFor(tenant, at, s.jitterMax)
}

// jitterFor hashes the tenant and the scheduled minute into [0, max). A hash
// rather than math/rand: the delay is reproducible, so the status page can
// show when a run will really start and a restart does not reshuffle it.
func jitterFor(tenant string, at time.Time, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(at.Unix())))
	// FNV's low bits mix poorly for inputs that differ only at the end;
	// finish with splitmix64 before reducing.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return time.Duration(x % uint64(max))
}

type noopObserver struct{}

func (noopObserver) RunSkipped(string, string) {}
func (noopObserver) RunPanicked(string)        {}
func (noopObserver) RunStarted(string)         {}
func (noopObserver) RunEnded(string)           {}

// cronLogger adapts slog to cron's logger. Cron's own chatter (wake, run,
// schedule) goes to Debug; a skip by SkipIfStillRunning is reported.
type cronLogger struct {
	log    *slog.Logger
	onSkip func()
}

func (l cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" && l.onSkip != nil {
		l.log.Warn("run skipped: the previous run of this tenant is still in progress")
		l.onSkip()
		return
	}
	l.log.Debug("cron: "+msg, kv...)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append([]any{"error", err}, kv...)...)
}
