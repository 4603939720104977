package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ticketguard/ticketguard/internal/result"
)

// AlertStates returns what was last announced for each check of the tenant,
// keyed by check id. Alert state is written by SaveRun, with the run whose
// messages it accounts for.
func (s *Store) AlertStates(ctx context.Context, tenant string) (map[string]AlertState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT check_id, status, last_notified_at, thread_key FROM alert_state WHERE tenant = ?`, tenant)
	if err != nil {
		return nil, fmt.Errorf("store: alert state of %s: %w", tenant, err)
	}
	defer rows.Close()
	out := map[string]AlertState{}
	for rows.Next() {
		var (
			a        = AlertState{Tenant: tenant}
			status   string
			notified sql.NullString
		)
		if err := rows.Scan(&a.CheckID, &status, &notified, &a.ThreadKey); err != nil {
			return nil, fmt.Errorf("store: alert state of %s: %w", tenant, err)
		}
		a.Status = result.Status(status)
		if a.LastNotifiedAt, err = parseNullTime(notified); err != nil {
			return nil, fmt.Errorf("store: alert state of %s: %w", tenant, err)
		}
		out[a.CheckID] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: alert state of %s: %w", tenant, err)
	}
	return out, nil
}

func upsertAlertState(ctx context.Context, tx *sql.Tx, a AlertState) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO alert_state (tenant, check_id, status, last_notified_at, thread_key)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant, check_id) DO UPDATE SET
			status = excluded.status, last_notified_at = excluded.last_notified_at, thread_key = excluded.thread_key`,
		a.Tenant, a.CheckID, string(a.Status), nullTime(a.LastNotifiedAt), a.ThreadKey)
	if err != nil {
		return fmt.Errorf("alert state %s/%s: %w", a.Tenant, a.CheckID, err)
	}
	return nil
}

// Thread returns the Slack thread the tenant's messages reply in; ok is false
// when none was started yet.
func (s *Store) Thread(ctx context.Context, tenant string) (Thread, bool, error) {
	var t Thread
	err := s.r.QueryRowContext(ctx, `SELECT channel, ts FROM threads WHERE tenant = ?`, tenant).Scan(&t.Channel, &t.TS)
	if errors.Is(err, sql.ErrNoRows) {
		return Thread{}, false, nil
	}
	if err != nil {
		return Thread{}, false, fmt.Errorf("store: thread of %s: %w", tenant, err)
	}
	return t, true, nil
}

// SetThread records (or replaces) the tenant's Slack thread.
func (s *Store) SetThread(ctx context.Context, tenant string, t Thread) error {
	if tenant == "" || t.Channel == "" || t.TS == "" {
		return errors.New("store: set thread: tenant, channel and ts are required")
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO threads (tenant, channel, ts, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, updated_at = excluded.updated_at`,
			tenant, t.Channel, t.TS, formatTime(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set thread of %s: %w", tenant, err)
	}
	return nil
}
