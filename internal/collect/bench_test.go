package collect_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// BenchmarkCollect100 collects 100 simulated tenants of 500 mailboxes each,
// with 50 ms of latency on every HTTP request (a European MSP to Microsoft's
// data centres), at the default concurrency. It reports requests per tenant
// (the plan keeps it a small constant whatever the mailbox count), the wall
// time of one collection of all tenants, and the peak heap, sampled every
// 10 ms: all objects (peak-heap-MB, garbage included, so it mostly shows
// GOGC's headroom) and live after a GC (peak-live-heap-MB), beside the live
// heap the simulator's fixtures hold before collection begins
// (fixtures-heap-MB; the simulator runs in the same process). Only `go test -bench`
// runs it:
//
//	go test ./internal/collect -run '^$' -bench Collect100 -benchtime 1x
func BenchmarkCollect100(b *testing.B) {
	const tenants, mailboxes = 100, 500
	methods := []fixture.Method{fixture.MethodGroup, fixture.MethodMailbox, fixture.MethodTransportRule}
	set := make([]*fixture.Tenant, tenants)
	for i := range set {
		set[i] = fixture.Generate(fixture.GenerateOptions{
			Name: fmt.Sprintf("tenant-%03d", i+1), Mailboxes: mailboxes, Method: methods[i%len(methods)],
			CustomSMTP: i%4 == 0,
		})
	}
	_, cfg, _ := startSim(b, simulator.Options{Tenants: set, Latency: 50 * time.Millisecond})
	eng := engine(b)

	runtime.GC()
	_, baseline := heapBytes()
	var peak, peakLive atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				h, live := heapBytes()
				if h > peak.Load() {
					peak.Store(h)
				}
				if live > peakLive.Load() {
					peakLive.Store(live)
				}
			}
		}
	}()

	var requests int64
	var wall time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		outcomes, err := collect.Run(context.Background(), cfg, collect.Options{Engine: eng})
		wall += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outcomes {
			if !o.OK() {
				b.Fatalf("%s: %v %v", o.Tenant, o.Err, o.Errors)
			}
			requests += o.Stats.Requests
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()

	n := float64(b.N)
	b.ReportMetric(float64(requests)/n/tenants, "requests/tenant")
	b.ReportMetric(wall.Seconds()/n, "wall-s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peakLive.Load())/(1<<20), "peak-live-heap-MB")
	b.ReportMetric(float64(baseline)/(1<<20), "fixtures-heap-MB")
}

// heapBytes returns the heap occupied by objects (live and not yet swept:
// what the process holds) and the live heap as of the last GC (what it
// needs).
func heapBytes() (heap, live uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}
