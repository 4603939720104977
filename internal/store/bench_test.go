package store

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// BenchmarkSaveRun saves a run as `serve` does for a tenant of a few hundred
// mailboxes: a ~200 KB snapshot, the 13 built-in checks with findings, some
// drift, alert state and a message. It reports the database growth per run
// (compressed snapshot, rows and indexes) next to the raw snapshot size.
func BenchmarkSaveRun(b *testing.B) {
	ctx := context.Background()
	s, _ := openTestStore(b)
	snap := realisticSnapshot(b, 200<<10)

	statuses := map[string]result.Status{}
	for i := range 13 {
		st := result.Pass
		if i%4 == 0 {
			st = result.Fail
		}
		statuses[fmt.Sprintf("check-%02d", i)] = st
	}
	rec := RunRecord{Snapshot: snap, Results: results(statuses)}
	for _, r := range rec.Results {
		rec.AlertState = append(rec.AlertState, AlertState{CheckID: r.Check.ID, Status: r.Status})
	}
	for i := range 5 {
		rec.Drift = append(rec.Drift, DriftEvent{Against: AgainstPrevious, ObjectKind: "mailbox", ObjectKey: fmt.Sprintf("mailbox:%d", i),
			ObjectLabel: fmt.Sprintf(`mailbox "User %d"`, i), Property: "DeliverToMailboxAndForward",
			Before: json.RawMessage(`true`), After: json.RawMessage(`false`), Change: ChangeChanged})
	}
	rec.Outbox = []OutboxMessage{{Kind: "alert", Payload: json.RawMessage(`{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"3 new failures"}}]}`)}}

	before, err := s.Size(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(snap)))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		rec.Run = Run{Tenant: fmt.Sprintf("tenant-%03d", i%200), StartedAt: t0.Add(time.Duration(i) * time.Minute),
			FinishedAt: t0.Add(time.Duration(i)*time.Minute + 30*time.Second), Outcome: OutcomeOK, Requests: 40}
		if _, err := s.SaveRun(ctx, rec); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	after, err := s.Size(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(after-before)/float64(i), "stored-B/run")
	b.ReportMetric(float64(len(snap)), "snapshot-B")
}
