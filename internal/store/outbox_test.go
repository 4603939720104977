package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func pendingIDs(t *testing.T, s *Store, now time.Time, limit int) []int64 {
	t.Helper()
	msgs, err := s.PendingOutbox(context.Background(), now, limit)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	msg := func(kind string) OutboxMessage {
		return OutboxMessage{Kind: kind, Payload: json.RawMessage(`{"kind":"` + kind + `"}`)}
	}
	acme := record("acme", t0, nil)
	acme.Outbox = []OutboxMessage{msg("alert"), msg("drift")}
	acmeRun := mustSave(t, s, acme)
	globex := record("globex", t0, nil)
	globex.Outbox = []OutboxMessage{msg("alert")}
	mustSave(t, s, globex)
	later, err := s.Enqueue(ctx, OutboxMessage{Tenant: "acme", Kind: "test", Payload: json.RawMessage(`{}`), CreatedAt: t0, NextAttemptAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	all, err := s.PendingOutbox(ctx, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("pending = %+v", all)
	}
	a1, a2, g1 := all[0], all[1], all[2]
	if a1.Tenant != "acme" || a1.Kind != "alert" || a1.RunID != acmeRun || a2.Kind != "drift" || g1.Tenant != "globex" {
		t.Errorf("pending in the wrong order or shape: %+v", all)
	}
	if got := pendingIDs(t, s, t0, 2); !reflect.DeepEqual(got, []int64{a1.ID, a2.ID}) {
		t.Errorf("limit 2 = %v", got)
	}

	// Slack answers 429 for acme's first message: it waits a minute, and acme's
	// next message waits behind it; globex is not held up.
	if err := s.MarkFailed(ctx, a1.ID, "slack: 429 rate limited", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := pendingIDs(t, s, t0.Add(30*time.Second), 0); !reflect.DeepEqual(got, []int64{g1.ID}) {
		t.Errorf("during backoff pending = %v, want only %d", got, g1.ID)
	}
	if got := pendingIDs(t, s, t0.Add(time.Minute), 0); !reflect.DeepEqual(got, []int64{a1.ID, a2.ID, g1.ID}) {
		t.Errorf("after backoff pending = %v", got)
	}
	m, err := s.OutboxMessage(ctx, a1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Attempts != 1 || m.LastError != "slack: 429 rate limited" || !m.NextAttemptAt.Equal(t0.Add(time.Minute)) || !m.SentAt.IsZero() {
		t.Errorf("after MarkFailed = %+v", m)
	}

	// Sent: never pending again, whatever the time.
	sentAt := t0.Add(61 * time.Second)
	if err := s.MarkSent(ctx, a1.ID, "1700000000.000100", sentAt); err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{t0, t0.Add(time.Minute), t0.AddDate(1, 0, 0)} {
		for _, id := range pendingIDs(t, s, now, 0) {
			if id == a1.ID {
				t.Errorf("sent message %d pending again at %v", a1.ID, now)
			}
		}
	}
	// A second MarkSent (a retried mark after a crash) keeps the first record;
	// a late failure does not un-send it.
	if err := s.MarkSent(ctx, a1.ID, "1700000999.000999", t0.Add(time.Hour)); err != nil {
		t.Errorf("second MarkSent = %v", err)
	}
	if err := s.MarkFailed(ctx, a1.ID, "late", t0.Add(time.Hour)); err != nil {
		t.Errorf("MarkFailed after sent = %v", err)
	}
	m, _ = s.OutboxMessage(ctx, a1.ID)
	if m.SlackTS != "1700000000.000100" || !m.SentAt.Equal(sentAt) || m.Attempts != 2 || m.LastError != "" {
		t.Errorf("sent message = %+v", m)
	}

	// A permanent failure: abandoned, no longer pending nor holding the tenant back.
	if err := s.MarkAbandoned(ctx, a2.ID, "slack: channel_not_found", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := pendingIDs(t, s, t0.Add(2*time.Hour), 0); !reflect.DeepEqual(got, []int64{g1.ID, later}) {
		t.Errorf("pending after abandon = %v, want [%d %d]", got, g1.ID, later)
	}
	m, _ = s.OutboxMessage(ctx, a2.ID)
	if m.AbandonedAt.IsZero() || m.LastError != "slack: channel_not_found" {
		t.Errorf("abandoned message = %+v", m)
	}

	for name, err := range map[string]error{
		"MarkSent":      s.MarkSent(ctx, 999, "", t0),
		"MarkFailed":    s.MarkFailed(ctx, 999, "", t0),
		"MarkAbandoned": s.MarkAbandoned(ctx, 999, "", t0),
		"OutboxMessage": second(s.OutboxMessage(ctx, 999)),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s(999) = %v, want ErrNotFound", name, err)
		}
	}
}

func TestOutboxSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/history.db"
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rec := record("acme", t0, nil)
	rec.Outbox = []OutboxMessage{{Kind: "alert", Payload: json.RawMessage(`{"n":1}`), CreatedAt: t0}, {Kind: "alert", Payload: json.RawMessage(`{"n":2}`), CreatedAt: t0}}
	mustSave(t, s, rec)
	msgs, err := s.PendingOutbox(ctx, t0, 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("pending = %v, %v", msgs, err)
	}
	// Sent the first, then the process stopped before the second.
	if err := s.MarkSent(ctx, msgs[0].ID, "1.1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := pendingIDs(t, s, t0, 0); !reflect.DeepEqual(got, []int64{msgs[1].ID}) {
		t.Errorf("pending after restart = %v, want [%d]", got, msgs[1].ID)
	}
}

func TestOutboxErrorTextIsBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	id, err := s.Enqueue(ctx, OutboxMessage{Tenant: "acme", Kind: "alert", Payload: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(ctx, id, strings.Repeat("é", 10000), t0); err != nil {
		t.Fatal(err)
	}
	m, _ := s.OutboxMessage(ctx, id)
	if len(m.LastError) > maxErrorText+len("…(truncated)") || !strings.HasSuffix(m.LastError, "…(truncated)") {
		t.Errorf("stored error of %d bytes", len(m.LastError))
	}
	if !utf8.ValidString(m.LastError) {
		t.Error("truncation split a UTF-8 sequence")
	}
}
