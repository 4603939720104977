package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ApproveBaseline pins runID as the tenant's baseline: later runs report drift
// against it as well. The run must be the tenant's and must have a snapshot
// (drift is computed from snapshots). A baseline run is never pruned.
func (s *Store) ApproveBaseline(ctx context.Context, tenant string, runID int64, by string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var (
			owner       string
			hasSnapshot bool
		)
		err := tx.QueryRowContext(ctx, `SELECT tenant, EXISTS (SELECT 1 FROM snapshots s WHERE s.run_id = runs.id) FROM runs WHERE id = ?`, runID).
			Scan(&owner, &hasSnapshot)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("run %d: %w", runID, ErrNotFound)
		case err != nil:
			return err
		case owner != tenant:
			return fmt.Errorf("run %d belongs to tenant %s", runID, owner)
		case !hasSnapshot:
			return fmt.Errorf("run %d has no snapshot to compare against", runID)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO baselines (tenant, run_id, approved_at, approved_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant) DO UPDATE SET run_id = excluded.run_id, approved_at = excluded.approved_at, approved_by = excluded.approved_by`,
			tenant, runID, formatTime(s.now()), by)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: approve baseline of %s: %w", tenant, err)
	}
	return nil
}

// Baseline returns the tenant's approved baseline run; ok is false when none
// was approved.
func (s *Store) Baseline(ctx context.Context, tenant string) (runID int64, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT run_id FROM baselines WHERE tenant = ?`, tenant).Scan(&runID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: baseline of %s: %w", tenant, err)
	}
	return runID, true, nil
}
