package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/schedule"
	"github.com/ticketguard/ticketguard/internal/service"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers/slack"
	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

// BenchmarkRound200 is one scheduled round of 200 simulated tenants through
// the whole pipeline, as `ticketguard run --once` performs it: collect over
// the real clients (TLS, MSAL sign-in, Exchange admin API, Graph, Atera),
// evaluate, drift, store, and Slack for every tenant with something to say.
// A third of the tenants are broken, so the first round alerts on them;
// later rounds are the steady state (drift computed, nothing to send).
//
//	go test ./internal/service -run '^$' -bench Round200 -benchtime 2x
//
// Reported: wall seconds per round, the peak live heap during the rounds,
// and the store's size per tenant after them (with the runs kept).
func BenchmarkRound200(b *testing.B) {
	const tenants = 200
	ctx := context.Background()
	now := time.Now()
	methods := fixture.Methods()
	var list []*fixture.Tenant
	for i := range tenants {
		o := fixture.GenerateOptions{
			Name: fmt.Sprintf("tenant%03d", i), Seed: uint64(i + 1), Mailboxes: 6,
			Method: methods[i%len(methods)], Now: now,
		}
		if i%3 == 0 && o.Method != fixture.MethodTransportRule {
			o.Breaks = []string{fixture.BreakAutoForwardingAutomatic}
		}
		list = append(list, fixture.Generate(o))
	}
	sim, err := simulator.Start(ctx, simulator.Options{Tenants: list})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	fs := fakeslack.New()
	defer fs.Close()

	dir := b.TempDir()
	path, err := sim.WriteConfig(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "slack-token"), []byte(botToken), 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(f, "slack:\n  bot_token: {file: slack-token}\n  default_channel: \"#alerts\"\n  api_url: %s\nstore:\n  path: history.db\n", fs.APIURL())
	f.Close()
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine()
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	notifier, renderer, err := slack.FromConfig(cfg.Slack, nil)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := service.New(service.Options{
		Config: cfg, Store: st, Engine: eng, Notifier: notifier, Renderer: renderer,
		Collect: collect.Options{HTTPClient: sim.HTTPClient(), Version: "bench"},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		names[i] = t.Name
	}

	peak := &peakHeap{}
	stop := peak.sample(10 * time.Millisecond)
	b.ResetTimer()
	for range b.N {
		sched, err := schedule.New(schedule.Options{
			Default: cfg.Schedule.Default, Tenants: names, Concurrency: cfg.Schedule.Concurrency, Run: svc.Run,
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := sched.RunOnce(ctx); err != nil {
			b.Fatal(err)
		}
		if err := svc.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	stop()

	if n, err := svc.Queued(ctx); err != nil || n != 0 {
		b.Fatalf("outbox still holds %d messages (%v)", n, err)
	}
	size, err := st.Size(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "wall-s/round")
	b.ReportMetric(float64(peak.max.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(size)/tenants, "store-bytes/tenant")
	b.ReportMetric(float64(len(fs.Messages())), "slack-messages")
	b.ReportMetric(float64(b.N), "runs-stored/tenant")
}

// peakHeap samples the live heap (runtime/metrics, no stop-the-world).
type peakHeap struct{ max atomic.Uint64 }

func (p *peakHeap) sample(every time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(s)
		if v := s[0].Value.Uint64(); v > p.max.Load() {
			p.max.Store(v)
		}
	}
	runtime.GC()
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
