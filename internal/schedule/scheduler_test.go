package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Inside a synctest bubble the clock starts at 2000-01-01 00:00:00 UTC and
// jumps whenever every goroutine is blocked, so cron's timers fire at exactly
// the scheduled instants and a day of schedule runs in microseconds.

var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// at is a time on the bubble's first day.
func at(h, m, s int) time.Time {
	return epoch.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// sleepUntil advances the bubble's clock to t and lets every goroutine that
// became runnable settle.
func sleepUntil(t time.Time) {
	time.Sleep(time.Until(t))
	synctest.Wait()
}

type recorder struct {
	mu     sync.Mutex
	starts map[string][]time.Time
	cur    int
	max    int
	errs   map[string][]error // ctx.Err() when each run returned
}

func newRecorder() *recorder {
	return &recorder{starts: map[string][]time.Time{}, errs: map[string][]error{}}
}

// run returns a Run function that records its start and then does body.
func (r *recorder) run(body func(ctx context.Context, tenant string) error) func(context.Context, string) error {
	return func(ctx context.Context, tenant string) error {
		r.mu.Lock()
		r.starts[tenant] = append(r.starts[tenant], time.Now().UTC())
		r.cur++
		r.max = max(r.max, r.cur)
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			r.cur--
			r.errs[tenant] = append(r.errs[tenant], ctx.Err())
			r.mu.Unlock()
		}()
		if body == nil {
			return nil
		}
		return body(ctx, tenant)
	}
}

func (r *recorder) startsOf(tenant string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.starts[tenant])
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.starts {
		n += len(s)
	}
	return n
}

func sleepFor(d time.Duration) func(context.Context, string) error {
	return func(ctx context.Context, _ string) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type observer struct {
	mu       sync.Mutex
	skipped  map[string]int // tenant/reason
	panics   map[string]int
	inFlight int
}

func newObserver() *observer { return &observer{skipped: map[string]int{}, panics: map[string]int{}} }

func (o *observer) RunSkipped(tenant, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.skipped[tenant+"/"+reason]++
}

func (o *observer) RunPanicked(tenant string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.panics[tenant]++
}

func (o *observer) RunStarted(string) { o.mu.Lock(); o.inFlight++; o.mu.Unlock() }
func (o *observer) RunEnded(string)   { o.mu.Lock(); o.inFlight--; o.mu.Unlock() }

func (o *observer) get(f func(*observer) int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return f(o)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newScheduler(t *testing.T, opts Options) *Scheduler {
	t.Helper()
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func stop(t *testing.T, s *Scheduler) {
	t.Helper()
	if err := s.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func equalTimes(t *testing.T, what string, got, want []time.Time) {
	t.Helper()
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func TestScheduleFiresAtTheConfiguredTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newScheduler(t, Options{
			Default:   "*/15 * * * *",
			PerTenant: map[string]string{"beta": "0 6 * * *"},
			Tenants:   []string{"alpha", "beta"},
			Run:       rec.run(nil),
		})
		if err := s.Ready(); err == nil {
			t.Error("Ready before Start = nil")
		}
		if got, want := s.Next("beta"), at(6, 0, 0); !got.Equal(want) {
			t.Errorf("Next(beta) before Start = %s, want %s", got, want)
		}
		s.Start()
		if err := s.Ready(); err != nil {
			t.Errorf("Ready after Start: %v", err)
		}
		sleepUntil(at(6, 0, 30))

		var want []time.Time
		for m := 15; m <= 6*60; m += 15 {
			want = append(want, epoch.Add(time.Duration(m)*time.Minute))
		}
		equalTimes(t, "alpha's runs", rec.startsOf("alpha"), want)
		equalTimes(t, "beta's runs", rec.startsOf("beta"), []time.Time{at(6, 0, 0)})
		if got, want := s.Next("alpha"), at(6, 15, 0); !got.Equal(want) {
			t.Errorf("Next(alpha) = %s, want %s", got, want)
		}
		if got, want := s.Next("beta"), at(30, 0, 0); !got.Equal(want) {
			t.Errorf("Next(beta) = %s, want %s", got, want)
		}
		if got := s.Next("nobody"); !got.IsZero() {
			t.Errorf("Next(unknown tenant) = %s, want zero", got)
		}
		if s.Spec("beta") != "0 6 * * *" || s.Spec("alpha") != "*/15 * * * *" {
			t.Errorf("Spec: alpha %q, beta %q", s.Spec("alpha"), s.Spec("beta"))
		}

		stop(t, s)
		if err := s.Ready(); err == nil {
			t.Error("Ready after Stop = nil")
		}
		if got := s.Next("alpha"); !got.IsZero() {
			t.Errorf("Next after Stop = %s, want zero", got)
		}
		n := rec.total()
		sleepUntil(at(12, 0, 0))
		if rec.total() != n {
			t.Errorf("%d runs after Stop", rec.total()-n)
		}
		s.Start() // a stopped scheduler does not restart
		sleepUntil(at(13, 0, 0))
		if rec.total() != n {
			t.Errorf("Start after Stop restarted the schedule")
		}
	})
}

func TestOverlappingRunIsSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		obs := newObserver()
		s := newScheduler(t, Options{
			Default: "* * * * *",
			Tenants: []string{"slow", "fast"},
			Run: rec.run(func(ctx context.Context, tenant string) error {
				if tenant == "slow" {
					return sleepFor(150*time.Second)(ctx, tenant)
				}
				return nil
			}),
			Observer: obs,
		})
		s.Start()
		sleepUntil(at(0, 5, 30))
		stop(t, s)

		// 00:01 runs until 00:03:30: 00:02 and 00:03 are skipped; 00:04 runs
		// until 00:06:30: 00:05 is skipped.
		equalTimes(t, "slow's runs", rec.startsOf("slow"), []time.Time{at(0, 1, 0), at(0, 4, 0)})
		if got := obs.get(func(o *observer) int { return o.skipped["slow/overlap"] }); got != 3 {
			t.Errorf("overlap skips of slow = %d, want 3", got)
		}
		// Another tenant is not held up by the slow one.
		if got := len(rec.startsOf("fast")); got != 5 {
			t.Errorf("fast ran %d times, want 5", got)
		}
		if got := obs.get(func(o *observer) int { return o.skipped["fast/overlap"] }); got != 0 {
			t.Errorf("fast was skipped %d times", got)
		}
	})
}

func TestPanicIsRecoveredAndTheScheduleGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		obs := newObserver()
		calls := 0
		s := newScheduler(t, Options{
			Default: "* * * * *",
			Tenants: []string{"acme"},
			Run: rec.run(func(ctx context.Context, tenant string) error {
				calls++ // one tenant, runs never overlap
				if calls == 1 {
					panic("collector bug")
				}
				return nil
			}),
			Observer:    obs,
			Concurrency: 1,
		})
		s.Start()
		sleepUntil(at(0, 3, 30))
		stop(t, s)

		equalTimes(t, "runs", rec.startsOf("acme"), []time.Time{at(0, 1, 0), at(0, 2, 0), at(0, 3, 0)})
		if got := obs.get(func(o *observer) int { return o.panics["acme"] }); got != 1 {
			t.Errorf("panics = %d, want 1", got)
		}
		// The panic released the concurrency slot and the overlap token.
		if got := obs.get(func(o *observer) int { return o.skipped["acme/overlap"] }); got != 0 {
			t.Errorf("overlap skips after the panic = %d", got)
		}
		if got := obs.get(func(o *observer) int { return o.inFlight }); got != 0 {
			t.Errorf("in flight after the runs = %d", got)
		}
	})
}

func TestConcurrencyLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var tenants []string
		for i := range 10 {
			tenants = append(tenants, fmt.Sprintf("t%02d", i))
		}
		s := newScheduler(t, Options{
			Default:     "0 * * * *",
			Tenants:     tenants,
			Concurrency: 3,
			Run:         rec.run(sleepFor(10 * time.Second)),
		})
		s.Start()
		sleepUntil(at(1, 10, 0))
		stop(t, s)

		if rec.max != 3 {
			t.Errorf("max runs in flight = %d, want 3", rec.max)
		}
		var starts []time.Time
		for _, tenant := range tenants {
			got := rec.startsOf(tenant)
			if len(got) != 1 {
				t.Fatalf("%s ran %d times, want 1", tenant, len(got))
			}
			starts = append(starts, got[0])
		}
		slices.SortFunc(starts, time.Time.Compare)
		want := []time.Time{
			at(1, 0, 0), at(1, 0, 0), at(1, 0, 0),
			at(1, 0, 10), at(1, 0, 10), at(1, 0, 10),
			at(1, 0, 20), at(1, 0, 20), at(1, 0, 20),
			at(1, 0, 30),
		}
		equalTimes(t, "starts", starts, want)
	})
}

func TestJitterIsBoundedAndPredictable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const jitter = 10 * time.Minute
		rec := newRecorder()
		var tenants []string
		for i := range 100 {
			tenants = append(tenants, fmt.Sprintf("tenant-%03d", i))
		}
		s := newScheduler(t, Options{
			Default:     "0 * * * *",
			Tenants:     tenants,
			Jitter:      jitter,
			Concurrency: len(tenants),
			Run:         rec.run(nil),
		})
		for _, tenant := range tenants {
			if got, want := s.Next(tenant), at(1, 0, 0).Add(jitterFor(tenant, at(1, 0, 0), jitter)); !got.Equal(want) {
				t.Fatalf("Next(%s) = %s, want %s", tenant, got, want)
			}
		}
		s.Start()
		sleepUntil(at(2, 30, 0))
		stop(t, s)

		lo, hi := time.Duration(1<<62), time.Duration(0)
		changed := 0
		for _, tenant := range tenants {
			got := rec.startsOf(tenant)
			if len(got) != 2 {
				t.Fatalf("%s ran %d times, want 2", tenant, len(got))
			}
			for i, activation := range []time.Time{at(1, 0, 0), at(2, 0, 0)} {
				d := got[i].Sub(activation)
				if d != jitterFor(tenant, activation, jitter) {
					t.Errorf("%s run %d started %s after its activation, want %s", tenant, i, d, jitterFor(tenant, activation, jitter))
				}
				if d < 0 || d >= jitter {
					t.Errorf("%s delayed %s, outside [0, %s)", tenant, d, jitter)
				}
				lo, hi = min(lo, d), max(hi, d)
			}
			if got[0].Sub(at(1, 0, 0)) != got[1].Sub(at(2, 0, 0)) {
				changed++
			}
		}
		if hi-lo < jitter/2 {
			t.Errorf("delays span only %s..%s", lo, hi)
		}
		if changed < 90 {
			t.Errorf("only %d of 100 tenants got a different delay on the second run", changed)
		}
	})
}

func TestStopWaitsForRunsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newScheduler(t, Options{
			Default: "* * * * *",
			Tenants: []string{"acme"},
			Run:     rec.run(sleepFor(40 * time.Second)),
		})
		s.Start()
		sleepUntil(at(0, 1, 10)) // the 00:01 run ends at 00:01:40

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if got, want := time.Now(), at(0, 1, 40); !got.Equal(want) {
			t.Errorf("Stop returned at %s, want %s (when the run finished)", got, want)
		}
		if errs := rec.errs["acme"]; len(errs) != 1 || errs[0] != nil {
			t.Errorf("the run's ctx at its end: %v, want one run, not cancelled", errs)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("second Stop: %v", err)
		}
	})
}

func TestStopCancelsRunsAtTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newScheduler(t, Options{
			Default: "* * * * *",
			Tenants: []string{"acme", "contoso"},
			Run:     rec.run(sleepFor(time.Hour)),
		})
		s.Start()
		sleepUntil(at(0, 1, 10))

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := s.Stop(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop = %v, want an error wrapping DeadlineExceeded", err)
		}
		if !strings.Contains(err.Error(), "acme, contoso") {
			t.Errorf("Stop's error %q does not name the cancelled tenants", err)
		}
		if got, want := time.Now(), at(0, 1, 40); !got.Equal(want) {
			t.Errorf("Stop returned at %s, want %s", got, want)
		}
		for _, tenant := range []string{"acme", "contoso"} {
			if errs := rec.errs[tenant]; len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
				t.Errorf("%s's run ended with ctx %v, want canceled", tenant, errs)
			}
		}
	})
}

func TestStopAbandonsRunsThatIgnoreCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		released := make(chan struct{})
		s := newScheduler(t, Options{
			Default:   "* * * * *",
			Tenants:   []string{"stuck"},
			StopGrace: 5 * time.Second,
			Run: func(ctx context.Context, _ string) error {
				<-released // ignores ctx
				return nil
			},
		})
		s.Start()
		sleepUntil(at(0, 1, 10))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := s.Stop(ctx)
		if err == nil || !strings.Contains(err.Error(), "abandoned") || !strings.Contains(err.Error(), "stuck") {
			t.Errorf("Stop = %v, want the stuck run abandoned", err)
		}
		if got, want := time.Now(), at(0, 1, 45); !got.Equal(want) {
			t.Errorf("Stop returned at %s, want %s (deadline + grace)", got, want)
		}
		close(released)
	})
}

func TestStopSkipsRunsNotStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		obs := newObserver()
		s := newScheduler(t, Options{
			Default:     "0 * * * *",
			Tenants:     []string{"a", "b", "c"},
			Concurrency: 1,
			Jitter:      time.Minute,
			Observer:    obs,
			Run:         rec.run(sleepFor(time.Hour)),
		})
		s.Start()
		// Stop once the first run has started: the others wait for their
		// jitter or for the one slot.
		var first time.Time
		for _, tenant := range []string{"a", "b", "c"} {
			d := at(1, 0, 0).Add(jitterFor(tenant, at(1, 0, 0), time.Minute))
			if first.IsZero() || d.Before(first) {
				first = d
			}
		}
		sleepUntil(first.Add(time.Second))
		if rec.total() != 1 {
			t.Fatalf("%d runs started, want 1", rec.total())
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v", err)
		}
		sleepUntil(at(3, 0, 0))
		if rec.total() != 1 {
			t.Errorf("%d runs started after Stop began", rec.total()-1)
		}
		if got := obs.get(func(o *observer) int {
			return o.skipped["a/shutdown"] + o.skipped["b/shutdown"] + o.skipped["c/shutdown"]
		}); got != 2 {
			t.Errorf("shutdown skips = %d, want 2", got)
		}
	})
}

func TestRunTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newScheduler(t, Options{
			Default:    "0 * * * *",
			Tenants:    []string{"hung"},
			RunTimeout: 10 * time.Minute,
			Run:        rec.run(sleepFor(24 * time.Hour)),
		})
		s.Start()
		sleepUntil(at(2, 30, 0))
		stop(t, s)
		// Both hourly runs happened: the first did not hold the schedule.
		equalTimes(t, "runs", rec.startsOf("hung"), []time.Time{at(1, 0, 0), at(2, 0, 0)})
		for _, err := range rec.errs["hung"] {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("run ended with ctx %v, want its deadline", err)
			}
		}
	})
}

func TestRunOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		obs := newObserver()
		s := newScheduler(t, Options{
			Default:     "0 3 * * *",
			Tenants:     []string{"a", "b", "c", "d", "e"},
			Concurrency: 2,
			Observer:    obs,
			Run: rec.run(func(ctx context.Context, tenant string) error {
				if err := sleepFor(10*time.Second)(ctx, tenant); err != nil {
					return err
				}
				switch tenant {
				case "c":
					return errors.New("token expired")
				case "d":
					panic("nil map")
				}
				return nil
			}),
		})
		err := s.RunOnce(context.Background())
		if got, want := time.Since(epoch), 30*time.Second; got != want {
			t.Errorf("RunOnce took %s, want %s (5 runs of 10s, 2 at a time)", got, want)
		}
		if rec.max != 2 {
			t.Errorf("max in flight = %d, want 2", rec.max)
		}
		if rec.total() != 5 {
			t.Errorf("%d runs, want 5", rec.total())
		}
		if err == nil || !strings.Contains(err.Error(), "tenant c: token expired") {
			t.Errorf("RunOnce = %v, want tenant c's error", err)
		}
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Tenant != "d" || pe.Value != "nil map" || len(pe.Stack) == 0 {
			t.Errorf("RunOnce = %v, want tenant d's *PanicError", err)
		}
		if obs.panics["d"] != 1 {
			t.Errorf("panics = %v", obs.panics)
		}

		s.Start()
		if err := s.RunOnce(context.Background()); err == nil {
			t.Error("RunOnce on a started scheduler = nil")
		}
		stop(t, s)
	})
}

func TestRunOnceCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newScheduler(t, Options{
			Default:     "0 3 * * *",
			Tenants:     []string{"a", "b", "c"},
			Concurrency: 1,
			Run:         rec.run(sleepFor(time.Minute)),
		})
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		err := s.RunOnce(ctx)
		if got, want := time.Since(epoch), 90*time.Second; got != want {
			t.Errorf("RunOnce returned after %s, want %s", got, want)
		}
		if rec.total() != 2 {
			t.Errorf("%d runs started, want 2", rec.total())
		}
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errSkipped) {
			t.Errorf("RunOnce = %v, want the second run cancelled and the third skipped", err)
		}
	})
}

func TestRunOnceWithJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newScheduler(t, Options{
			Default: "0 3 * * *",
			Tenants: []string{"a", "b"},
			Jitter:  5 * time.Minute,
			Run:     rec.run(nil),
		})
		if err := s.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, tenant := range []string{"a", "b"} {
			if got, want := rec.startsOf(tenant)[0], epoch.Add(jitterFor(tenant, epoch, 5*time.Minute)); !got.Equal(want) {
				t.Errorf("%s started at %s, want %s", tenant, got, want)
			}
		}
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	run := func(context.Context, string) error { return nil }
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"no run", Options{Default: "0 3 * * *", Tenants: []string{"a"}}, []string{"no Run function"}},
		{"no tenants", Options{Default: "0 3 * * *", Run: run}, []string{"no tenants"}},
		{"no schedule", Options{Tenants: []string{"a", "b"}, PerTenant: map[string]string{"a": "0 3 * * *"}, Run: run},
			[]string{`tenant "b" has no schedule`}},
		{"every problem at once", Options{
			Default:   "CRON_TZ=UTC",
			Tenants:   []string{"a", "b", "a", ""},
			PerTenant: map[string]string{"b": "0 0 3 * * *", "acme-typo": "0 3 * * *"},
			Run:       run,
			Jitter:    -time.Second,
		}, []string{
			`default schedule: invalid schedule "CRON_TZ=UTC"`,
			`tenant "b": invalid schedule "0 0 3 * * *": want 5 fields`,
			`tenant "a" listed twice`,
			"empty name",
			`schedule given for unknown tenant "acme-typo"`,
			"jitter -1s is negative",
		}},
		{"unknown zone", Options{Default: "CRON_TZ=Europe/Atlantis 0 3 * * *", Tenants: []string{"a"}, Run: run},
			[]string{`unknown time zone "Europe/Atlantis"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts)
			if err == nil {
				s.Stop(context.Background())
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var se *SpecError
			if strings.Contains(tt.name, "zone") && !errors.As(err, &se) {
				t.Errorf("error %v does not wrap a *SpecError", err)
			}
		})
	}
}

// panickyObserver panics the first time a run starts: a panic in the
// scheduler's own code, outside the recover around Run, which only
// cron.Recover catches.
type panickyObserver struct {
	*observer
	once sync.Once
}

func (o *panickyObserver) RunStarted(string) { o.once.Do(func() { panic("observer bug") }) }

// TestRecoverIsInsideSkipIfStillRunning: if Recover wrapped
// SkipIfStillRunning instead, the panic would unwind past SkipIfStillRunning
// without returning its token and every later run would be skipped.
func TestRecoverIsInsideSkipIfStillRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		obs := &panickyObserver{observer: newObserver()}
		s := newScheduler(t, Options{
			Default:     "* * * * *",
			Tenants:     []string{"acme"},
			Concurrency: 1,
			Observer:    obs,
			Run:         rec.run(nil),
		})
		s.Start()
		sleepUntil(at(0, 3, 30))
		stop(t, s)
		// 00:01 panicked before Run; 00:02 and 00:03 ran.
		equalTimes(t, "runs", rec.startsOf("acme"), []time.Time{at(0, 2, 0), at(0, 3, 0)})
	})
}

func TestLocationAppliesToSpecsWithoutZone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ny, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		s := newScheduler(t, Options{
			Default:   "0 6 * * *",
			PerTenant: map[string]string{"utc": "CRON_TZ=UTC 0 6 * * *"},
			Tenants:   []string{"local", "utc"},
			Location:  ny,
			Run:       rec.run(nil),
		})
		if err := s.Stop(context.Background()); err != nil { // before Start: nothing to wait for
			t.Fatalf("Stop before Start: %v", err)
		}
		if err := s.RunOnce(context.Background()); err == nil {
			t.Error("RunOnce after Stop succeeded")
		}

		s = newScheduler(t, Options{
			Default:   "0 6 * * *",
			PerTenant: map[string]string{"utc": "CRON_TZ=UTC 0 6 * * *"},
			Tenants:   []string{"local", "utc"},
			Location:  ny,
			Run:       rec.run(nil),
		})
		s.Start()
		sleepUntil(at(12, 0, 0))
		stop(t, s)
		// 06:00 EST is 11:00 UTC in January.
		equalTimes(t, "local", rec.startsOf("local"), []time.Time{at(11, 0, 0)})
		equalTimes(t, "utc", rec.startsOf("utc"), []time.Time{at(6, 0, 0)})
	})
}
