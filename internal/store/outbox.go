package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The outbox gives at-least-once delivery: a message is written (with its run,
// by SaveRun, or alone by Enqueue) before anything is sent, and marked sent
// after Slack accepted it. A crash between sending and marking re-sends that
// one message; nothing written is lost, and a message marked sent is never
// returned again.

func (s *Store) prepareOutbox(m OutboxMessage) (preparedOutbox, error) {
	switch {
	case m.Tenant == "":
		return preparedOutbox{}, errors.New("no tenant")
	case m.Kind == "":
		return preparedOutbox{}, errors.New("no kind")
	case len(m.Payload) == 0 || !json.Valid(m.Payload):
		return preparedOutbox{}, errors.New("payload is not valid JSON")
	}
	created := m.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	next := m.NextAttemptAt
	if next.IsZero() {
		next = created
	}
	return preparedOutbox{msg: m, createdAt: formatTime(created), nextDueAt: formatTime(next)}, nil
}

func insertOutbox(ctx context.Context, tx *sql.Tx, p preparedOutbox) (int64, error) {
	var runID sql.NullInt64
	if p.msg.RunID != 0 {
		runID = sql.NullInt64{Int64: p.msg.RunID, Valid: true}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (tenant, run_id, kind, payload, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		p.msg.Tenant, runID, p.msg.Kind, string(p.msg.Payload), p.createdAt, p.nextDueAt)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Enqueue writes a message that belongs to no new run (a test message, a
// follow-up a notifier decides on later) and returns its id. A non-zero RunID
// must name an existing run.
func (s *Store) Enqueue(ctx context.Context, m OutboxMessage) (int64, error) {
	p, err := s.prepareOutbox(m)
	if err != nil {
		return 0, fmt.Errorf("store: enqueue: %w", err)
	}
	var id int64
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		id, err = insertOutbox(ctx, tx, p)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: enqueue for %s: %w", m.Tenant, err)
	}
	return id, nil
}

const outboxColumns = `id, tenant, run_id, kind, payload, created_at, attempts, next_attempt_at, last_error, sent_at, slack_ts, abandoned_at`

func scanOutbox(sc scanner) (OutboxMessage, error) {
	var (
		m                      OutboxMessage
		runID                  sql.NullInt64
		payload, created, next string
		sent, abandoned        sql.NullString
	)
	if err := sc.Scan(&m.ID, &m.Tenant, &runID, &m.Kind, &payload, &created, &m.Attempts, &next, &m.LastError,
		&sent, &m.SlackTS, &abandoned); err != nil {
		return OutboxMessage{}, err
	}
	m.RunID = runID.Int64
	m.Payload = json.RawMessage(payload)
	var err error
	if m.CreatedAt, err = parseTime(created); err != nil {
		return OutboxMessage{}, err
	}
	if m.NextAttemptAt, err = parseTime(next); err != nil {
		return OutboxMessage{}, err
	}
	if m.SentAt, err = parseNullTime(sent); err != nil {
		return OutboxMessage{}, err
	}
	if m.AbandonedAt, err = parseNullTime(abandoned); err != nil {
		return OutboxMessage{}, err
	}
	return m, nil
}

// PendingOutbox returns unsent messages that are due at now, oldest first.
//
// Order within a tenant is preserved: a message is not returned while an
// older unsent message of the same tenant is waiting for its retry time, so a
// "resolved" never overtakes the alert it resolves. The sender must keep that
// order too: after a failure it should stop sending that tenant's later
// messages of the same batch.
func (s *Store) PendingOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxMessage, error) {
	t := formatTime(now)
	rows, err := s.r.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox o
		WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= ?
		  AND NOT EXISTS (
			SELECT 1 FROM outbox p
			WHERE p.tenant = o.tenant AND p.id < o.id
			  AND p.sent_at IS NULL AND p.abandoned_at IS NULL AND p.next_attempt_at > ?)
		ORDER BY id LIMIT ?`, t, t, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("store: pending outbox: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	return out, nil
}

// OutboxMessage returns one message, sent or not; the error wraps ErrNotFound
// when it does not exist.
func (s *Store) OutboxMessage(ctx context.Context, id int64) (OutboxMessage, error) {
	m, err := scanOutbox(s.r.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxMessage{}, fmt.Errorf("store: outbox message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return OutboxMessage{}, fmt.Errorf("store: outbox message %d: %w", id, err)
	}
	return m, nil
}

// MarkSent records that Slack accepted the message (ts is Slack's message
// timestamp, empty for a webhook). Marking a message already sent is a no-op
// that keeps the first record.
func (s *Store) MarkSent(ctx context.Context, id int64, ts string, at time.Time) error {
	return s.markOutbox(ctx, "mark sent", id,
		`UPDATE outbox SET sent_at = ?, slack_ts = ?, attempts = attempts + 1, last_error = ''
		 WHERE id = ? AND sent_at IS NULL`,
		formatTime(at), ts, id)
}

// MarkFailed records a failed attempt and when to try again (the caller's
// backoff, or Slack's Retry-After). errText must already be redacted. It does
// nothing to a message already sent.
func (s *Store) MarkFailed(ctx context.Context, id int64, errText string, next time.Time) error {
	return s.markOutbox(ctx, "mark failed", id,
		`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
		 WHERE id = ? AND sent_at IS NULL AND abandoned_at IS NULL`,
		truncateText(errText, maxErrorText), formatTime(next), id)
}

// MarkAbandoned gives up on a message Slack will never accept (a permanent
// error such as channel_not_found): it is no longer pending, no longer holds
// back its tenant's later messages, and no longer keeps its run from being
// pruned. errText must already be redacted.
func (s *Store) MarkAbandoned(ctx context.Context, id int64, errText string, at time.Time) error {
	return s.markOutbox(ctx, "mark abandoned", id,
		`UPDATE outbox SET attempts = attempts + 1, last_error = ?, abandoned_at = ?
		 WHERE id = ? AND sent_at IS NULL AND abandoned_at IS NULL`,
		truncateText(errText, maxErrorText), formatTime(at), id)
}

// markOutbox runs a conditional update; when it changed nothing it tells a
// missing message (ErrNotFound) from one whose state made it a no-op.
func (s *Store) markOutbox(ctx context.Context, what string, id int64, query string, args ...any) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n > 0 {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: %s %d: %w", what, id, err)
	}
	return nil
}
