package store

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

func runIDs(t *testing.T, s *Store, tenant string) []int64 {
	t.Helper()
	runs, err := s.Runs(context.Background(), tenant, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.r.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPruneKeepsLastN(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	var ids []int64
	for i := range 10 {
		// Long ago: outside any daily window.
		ids = append(ids, mustSave(t, s, record("acme", t0.AddDate(0, -6, 0).Add(time.Duration(i)*time.Hour), map[string]result.Status{"a": result.Pass})))
	}
	other := mustSave(t, s, record("other", t0.AddDate(0, -6, 0), map[string]result.Status{"a": result.Pass}))

	n, err := s.Prune(ctx, "acme", 3, 30, t0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Errorf("deleted %d runs, want 7", n)
	}
	if got := runIDs(t, s, "acme"); !reflect.DeepEqual(got, ids[7:]) {
		t.Errorf("kept %v, want %v", got, ids[7:])
	}
	if got := runIDs(t, s, "other"); !reflect.DeepEqual(got, []int64{other}) {
		t.Errorf("other tenant's runs %v, want untouched", got)
	}
	// Deleting a run takes its rows with it.
	for _, table := range []string{"snapshots", "check_results"} {
		if n := count(t, s, "SELECT count(*) FROM "+table+" WHERE run_id NOT IN (SELECT id FROM runs)"); n != 0 {
			t.Errorf("%d orphaned rows in %s", n, table)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM snapshots"); n != 4 {
		t.Errorf("%d snapshots left, want 4", n)
	}

	// Pruning again changes nothing.
	if n, err := s.Prune(ctx, "acme", 3, 30, t0); n != 0 || err != nil {
		t.Errorf("second prune = %d, %v", n, err)
	}
	// keepLast below 1 still keeps the latest run: the next drift is computed against it.
	if _, err := s.Prune(ctx, "acme", 0, 0, t0); err != nil {
		t.Fatal(err)
	}
	if got := runIDs(t, s, "acme"); !reflect.DeepEqual(got, ids[9:]) {
		t.Errorf("keepLast 0 kept %v, want the latest %v", got, ids[9:])
	}
}

func TestPruneKeepsNewestRunOfEachDay(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	byDay := map[int][]int64{} // days ago → ids, in save order
	// Ten days, three runs a day at 01:00, 09:00 and 17:00 UTC (today's 17:00 is in the future, clock skew).
	for daysAgo := 9; daysAgo >= 0; daysAgo-- {
		day := time.Date(2026, 11, 27-daysAgo, 0, 0, 0, 0, time.UTC)
		for _, h := range []int{1, 9, 17} {
			byDay[daysAgo] = append(byDay[daysAgo], mustSave(t, s, record("acme", day.Add(time.Duration(h)*time.Hour), nil)))
		}
	}
	// Out of order: saved last but started earliest on day 3; the 17:00 run stays the newest of that day.
	late := mustSave(t, s, record("acme", time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC), nil))

	if _, err := s.Prune(ctx, "acme", 2, 5, now); err != nil {
		t.Fatal(err)
	}
	want := []int64{
		// The newest start of each of the 5 days (today and 1..4 days ago);
		// today's is also one of the last two saved.
		byDay[4][2], byDay[3][2], byDay[2][2], byDay[1][2], byDay[0][2],
		late, // the other of the last two saved
	}
	slices.Sort(want)
	got := runIDs(t, s, "acme")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
}

func TestPruneNeverDeletesBaselineOrUndeliveredRuns(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	old := t0.AddDate(-1, 0, 0)
	baseline := mustSave(t, s, record("acme", old, nil))
	withMessage := record("acme", old.Add(time.Hour), nil)
	withMessage.Outbox = []OutboxMessage{{Kind: "alert", Payload: json.RawMessage(`{"text":"x"}`)}}
	undelivered := mustSave(t, s, withMessage)
	abandonedRec := record("acme", old.Add(2*time.Hour), nil)
	abandonedRec.Outbox = []OutboxMessage{{Kind: "alert", Payload: json.RawMessage(`{"text":"y"}`)}}
	abandoned := mustSave(t, s, abandonedRec)
	plain := mustSave(t, s, record("acme", old.Add(3*time.Hour), nil))
	latest := mustSave(t, s, record("acme", t0, nil))
	if err := s.ApproveBaseline(ctx, "acme", baseline, "alice"); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.PendingOutbox(ctx, t0, 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("pending = %+v, %v", msgs, err)
	}
	if err := s.MarkAbandoned(ctx, msgs[1].ID, "channel_not_found", t0); err != nil {
		t.Fatal(err)
	}

	if _, err := s.Prune(ctx, "acme", 1, 0, t0); err != nil {
		t.Fatal(err)
	}
	if got, want := runIDs(t, s, "acme"), []int64{baseline, undelivered, latest}; !reflect.DeepEqual(got, want) {
		t.Errorf("kept %v, want %v (deleted plain %d and abandoned %d)", got, want, plain, abandoned)
	}

	// Once delivered, the message no longer holds its run, and goes with it.
	if err := s.MarkSent(ctx, msgs[0].ID, "1700000000.000100", t0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Prune(ctx, "acme", 1, 0, t0); n != 1 || err != nil {
		t.Errorf("prune after delivery = %d, %v; want 1", n, err)
	}
	if got, want := runIDs(t, s, "acme"), []int64{baseline, latest}; !reflect.DeepEqual(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
	if n := count(t, s, "SELECT count(*) FROM outbox"); n != 0 {
		t.Errorf("%d outbox rows left after their runs were pruned", n)
	}
}

func TestPruneDropsUnusedCatalogueEntries(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	old := record("acme", t0.AddDate(0, -1, 0), map[string]result.Status{"a": result.Pass})
	mustSave(t, s, old)
	renamed := record("acme", t0, map[string]result.Status{"a": result.Pass})
	renamed.Results[0].Check.Title = "A better title"
	id := mustSave(t, s, renamed)
	if n := count(t, s, "SELECT count(*) FROM checks WHERE check_id = 'a'"); n != 2 {
		t.Fatalf("%d catalogue entries for a, want 2 (one per title)", n)
	}
	if _, err := s.Prune(ctx, "acme", 1, 0, t0); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT count(*) FROM checks"); n != 1 {
		t.Errorf("%d catalogue entries after prune, want 1", n)
	}
	res, err := s.Results(ctx, id)
	if err != nil || len(res) != 1 || res[0].Check.Title != "A better title" {
		t.Errorf("Results after prune = %+v, %v", res, err)
	}
}

func TestPruneRemovesOldDeliveredStandaloneMessages(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	oldID, err := s.Enqueue(ctx, OutboxMessage{Tenant: "acme", Kind: "test", Payload: json.RawMessage(`{}`), CreatedAt: t0.AddDate(0, 0, -3)})
	if err != nil {
		t.Fatal(err)
	}
	pendingID, err := s.Enqueue(ctx, OutboxMessage{Tenant: "acme", Kind: "test", Payload: json.RawMessage(`{}`), CreatedAt: t0.AddDate(0, 0, -3)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, oldID, "", t0.AddDate(0, 0, -3)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(ctx, "acme", 1, 1, t0); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT count(*) FROM outbox WHERE id = ?", oldID); n != 0 {
		t.Error("an old delivered message was kept")
	}
	if n := count(t, s, "SELECT count(*) FROM outbox WHERE id = ?", pendingID); n != 1 {
		t.Error("an undelivered message was deleted")
	}
}

// Failed runs store no snapshot; pruning them down to keepLast must not
// delete the newest run that has one, or the next run has nothing to
// compare against and its drift is lost.
func TestPruneKeepsNewestSnapshotRun(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	good := mustSave(t, s, record("acme", t0.AddDate(0, -6, 0), map[string]result.Status{"a": result.Pass}))
	var failed []int64
	for i := range 3 {
		rec := record("acme", t0.AddDate(0, -6, 0).Add(time.Duration(i+1)*time.Hour), nil)
		rec.Snapshot = nil
		rec.Run.Outcome = OutcomeFailed
		failed = append(failed, mustSave(t, s, rec))
	}
	if _, err := s.Prune(ctx, "acme", 1, 0, t0); err != nil {
		t.Fatal(err)
	}
	want := []int64{good, failed[2]}
	if got := runIDs(t, s, "acme"); !reflect.DeepEqual(got, want) {
		t.Errorf("kept %v, want the last run and the newest with a snapshot %v", got, want)
	}
	if r, ok, err := s.LastRunWithSnapshot(ctx, "acme"); err != nil || !ok || r.ID != good {
		t.Errorf("LastRunWithSnapshot = %v, %v, %v; want run %d", r.ID, ok, err, good)
	}
}
