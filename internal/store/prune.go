package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Prune deletes old runs of the tenant (with their snapshots, results, drift
// events and sent outbox messages) and returns how many runs it deleted. It
// keeps:
//   - the keepLast most recent runs (at least 1: the next run's drift is
//     computed against the latest one),
//   - the newest run of each of the last keepDailyDays calendar days (UTC),
//     today included,
//   - the tenant's baseline run, and its newest run with a snapshot,
//   - every run with an outbox message not yet sent (nor abandoned).
//
// Messages enqueued outside a run are deleted once delivered (or abandoned)
// and older than the daily window (at least a day).
//
// It runs in one transaction: interrupted, it deletes nothing.
func (s *Store) Prune(ctx context.Context, tenant string, keepLast, keepDailyDays int, now time.Time) (int, error) {
	keepLast = max(keepLast, 1)
	keepDailyDays = max(keepDailyDays, 0)
	deleted := 0
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		keep, err := protectedRuns(ctx, tx, tenant)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, started_at FROM runs WHERE tenant = ? ORDER BY id DESC`, tenant)
		if err != nil {
			return err
		}
		type run struct {
			id      int64
			started time.Time
		}
		var runs []run
		for rows.Next() {
			var (
				r  run
				st string
			)
			if err := rows.Scan(&r.id, &st); err != nil {
				rows.Close()
				return err
			}
			if r.started, err = parseTime(st); err != nil {
				rows.Close()
				return err
			}
			runs = append(runs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		// The newest run of each day in the window: a run started later wins,
		// the later id on a tie.
		firstDay := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(keepDailyDays - 1))
		newestOfDay := map[time.Time]run{}
		for i, r := range runs {
			if i < keepLast {
				keep[r.id] = true
			}
			if keepDailyDays == 0 {
				continue
			}
			day := r.started.UTC().Truncate(24 * time.Hour)
			if day.Before(firstDay) {
				continue
			}
			if cur, ok := newestOfDay[day]; !ok || r.started.After(cur.started) {
				newestOfDay[day] = r // runs come newest id first, so an equal start keeps the later id
			}
		}
		for _, r := range newestOfDay {
			keep[r.id] = true
		}

		stmt, err := tx.PrepareContext(ctx, `DELETE FROM runs WHERE id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range runs {
			if keep[r.id] {
				continue
			}
			if _, err := stmt.ExecContext(ctx, r.id); err != nil {
				return fmt.Errorf("delete run %d: %w", r.id, err)
			}
			deleted++
		}
		// Delivered or abandoned messages outside any run go with the window.
		cutoff := now.Add(-time.Duration(max(keepDailyDays, 1)) * 24 * time.Hour)
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE tenant = ? AND run_id IS NULL
			AND (sent_at IS NOT NULL OR abandoned_at IS NOT NULL) AND created_at < ?`, tenant, formatTime(cutoff)); err != nil {
			return fmt.Errorf("delete delivered messages: %w", err)
		}
		if deleted == 0 {
			return nil
		}
		// Catalogue entries no kept result refers to any more.
		if _, err := tx.ExecContext(ctx, `DELETE FROM checks WHERE NOT EXISTS
			(SELECT 1 FROM check_results cr WHERE cr.check_hash = checks.hash)`); err != nil {
			return fmt.Errorf("delete unused catalogue entries: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune %s: %w", tenant, err)
	}
	return deleted, nil
}

// protectedRuns are the tenant's runs that must survive any retention: the
// baseline, the newest run with a snapshot (the next run's drift compares
// against it, even when newer runs failed and stored none), and runs whose
// messages are still to be delivered.
func protectedRuns(ctx context.Context, tx *sql.Tx, tenant string) (map[int64]bool, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT run_id FROM baselines WHERE tenant = ?
		UNION
		SELECT MAX(r.id) FROM runs r JOIN snapshots s ON s.run_id = r.id WHERE r.tenant = ?
		UNION
		SELECT o.run_id FROM outbox o JOIN runs r ON r.id = o.run_id
		WHERE r.tenant = ? AND o.sent_at IS NULL AND o.abandoned_at IS NULL`, tenant, tenant, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keep := map[int64]bool{}
	for rows.Next() {
		var id sql.NullInt64 // MAX over no snapshot is NULL
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if id.Valid {
			keep[id.Int64] = true
		}
	}
	return keep, rows.Err()
}
