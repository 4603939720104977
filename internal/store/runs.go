package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ticketguard/ticketguard/internal/result"
)

// maxErrorText bounds stored error texts (run errors, outbox last errors).
const maxErrorText = 4 << 10

// testHookBeforeCommit, when set by a test, runs inside SaveRun's transaction
// after every insert and before the commit: the crash test kills the process there.
var testHookBeforeCommit func(runID int64)

// SaveRun writes a run and everything it produced (snapshot, results, drift
// events, alert state, outbox messages) in one transaction: after a crash
// either all of it is there or none of it. It returns the new run's id.
//
// Compression, hashing and validation happen before the transaction starts,
// so the write lock is held only for the inserts.
func (s *Store) SaveRun(ctx context.Context, rec RunRecord) (int64, error) {
	p, err := s.prepareRun(rec)
	if err != nil {
		return 0, fmt.Errorf("store: save run of %s: %w", rec.Run.Tenant, err)
	}
	var id int64
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		if id, err = p.insert(ctx, tx); err != nil {
			return err
		}
		if testHookBeforeCommit != nil {
			testHookBeforeCommit(id)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: save run of %s: %w", rec.Run.Tenant, err)
	}
	return id, nil
}

// preparedRun is a RunRecord validated and encoded for insertion.
type preparedRun struct {
	run      Run
	snapshot *encodedSnapshot
	results  []preparedResult
	checks   map[string]checkEntry // by hash of body
	drift    []preparedDrift
	alerts   []AlertState
	outbox   []preparedOutbox
}

type checkEntry struct{ id, body string }

type preparedResult struct {
	checkID, hash, status, severity, message, findings, baseline string
	waiver                                                       sql.NullString
}

type preparedDrift struct {
	ev            DriftEvent
	before, after sql.NullString
}

type preparedOutbox struct {
	msg                  OutboxMessage
	createdAt, nextDueAt string
}

func (s *Store) prepareRun(rec RunRecord) (*preparedRun, error) {
	r := rec.Run
	switch {
	case r.Tenant == "":
		return nil, errors.New("run has no tenant")
	case !r.Outcome.valid():
		return nil, fmt.Errorf("run outcome %q is not ok, failed or partial", r.Outcome)
	case r.StartedAt.IsZero() || r.FinishedAt.IsZero():
		return nil, errors.New("run start and finish times are required")
	case r.Requests < 0 || r.Retries < 0 || r.Throttled < 0:
		return nil, errors.New("run counters must not be negative")
	}
	r.Error = truncateText(r.Error, maxErrorText)
	p := &preparedRun{run: r, checks: map[string]checkEntry{}}

	if rec.Snapshot != nil {
		if !json.Valid(rec.Snapshot) {
			return nil, errors.New("snapshot is not valid JSON")
		}
		enc, err := encodeSnapshot(rec.Snapshot)
		if err != nil {
			return nil, err
		}
		p.snapshot = &enc
	}

	seen := map[string]bool{}
	for _, cr := range rec.Results {
		id := cr.Check.ID
		switch {
		case id == "":
			return nil, errors.New("check result without a check id")
		case seen[id]:
			return nil, fmt.Errorf("check %s: two results in one run", id)
		case cr.Status == "":
			return nil, fmt.Errorf("check %s: result without a status", id)
		}
		seen[id] = true
		body, err := json.Marshal(cr.Check)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", id, err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		p.checks[hash] = checkEntry{id: id, body: string(body)}

		findings := cr.Findings
		if findings == nil {
			findings = []result.Finding{} // "[]", not "null": an empty list is what was evaluated
		}
		fj, err := json.Marshal(findings)
		if err != nil {
			return nil, fmt.Errorf("check %s: findings: %w", id, err)
		}
		var wj sql.NullString
		if cr.Waiver != nil {
			b, err := json.Marshal(cr.Waiver)
			if err != nil {
				return nil, fmt.Errorf("check %s: waiver: %w", id, err)
			}
			wj = sql.NullString{String: string(b), Valid: true}
		}
		p.results = append(p.results, preparedResult{
			checkID: id, hash: hash, status: string(cr.Status), severity: string(cr.Check.Severity),
			message: cr.Message, findings: string(fj), waiver: wj, baseline: string(cr.Baseline),
		})
	}

	for i, ev := range rec.Drift {
		switch {
		case ev.Against != AgainstPrevious && ev.Against != AgainstBaseline:
			return nil, fmt.Errorf("drift event %d: against %q is not previous or baseline", i, ev.Against)
		case ev.Change != ChangeAdded && ev.Change != ChangeRemoved && ev.Change != ChangeChanged:
			return nil, fmt.Errorf("drift event %d: change %q is not added, removed or changed", i, ev.Change)
		case ev.ObjectKind == "" || ev.ObjectKey == "":
			return nil, fmt.Errorf("drift event %d: object kind and key are required", i)
		}
		before, err := jsonValue(ev.Before)
		if err != nil {
			return nil, fmt.Errorf("drift event %d: before: %w", i, err)
		}
		after, err := jsonValue(ev.After)
		if err != nil {
			return nil, fmt.Errorf("drift event %d: after: %w", i, err)
		}
		p.drift = append(p.drift, preparedDrift{ev: ev, before: before, after: after})
	}

	for _, a := range rec.AlertState {
		if a.Tenant == "" {
			a.Tenant = r.Tenant
		}
		if a.CheckID == "" || a.Status == "" {
			return nil, errors.New("alert state needs a check id and a status")
		}
		p.alerts = append(p.alerts, a)
	}

	for i, m := range rec.Outbox {
		if m.Tenant == "" {
			m.Tenant = r.Tenant
		}
		po, err := s.prepareOutbox(m)
		if err != nil {
			return nil, fmt.Errorf("outbox message %d: %w", i, err)
		}
		p.outbox = append(p.outbox, po)
	}
	return p, nil
}

// jsonValue maps an absent value to NULL and checks a present one.
func jsonValue(v json.RawMessage) (sql.NullString, error) {
	if len(v) == 0 {
		return sql.NullString{}, nil
	}
	if !json.Valid(v) {
		return sql.NullString{}, errors.New("not valid JSON")
	}
	return sql.NullString{String: string(v), Valid: true}, nil
}

func (p *preparedRun) insert(ctx context.Context, tx *sql.Tx) (int64, error) {
	r := p.run
	res, err := tx.ExecContext(ctx, `INSERT INTO runs
		(tenant, started_at, finished_at, outcome, requests, retries, throttled, error, result_count, drift_count)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Tenant, formatTime(r.StartedAt), formatTime(r.FinishedAt), string(r.Outcome),
		r.Requests, r.Retries, r.Throttled, r.Error, len(p.results), len(p.drift))
	if err != nil {
		return 0, fmt.Errorf("insert run: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert run: %w", err)
	}

	if p.snapshot != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO snapshots (run_id, encoding, data, sha256, raw_size) VALUES (?, ?, ?, ?, ?)`,
			id, encodingZstd, p.snapshot.data, p.snapshot.sha256, p.snapshot.rawSize); err != nil {
			return 0, fmt.Errorf("insert snapshot: %w", err)
		}
	}

	if len(p.results) > 0 {
		for hash, c := range p.checks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO checks (hash, check_id, body) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
				hash, c.id, c.body); err != nil {
				return 0, fmt.Errorf("insert check: %w", err)
			}
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO check_results
			(run_id, check_id, position, check_hash, status, severity, message, findings, waiver, baseline_status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, fmt.Errorf("insert results: %w", err)
		}
		defer stmt.Close()
		for i, cr := range p.results {
			if _, err := stmt.ExecContext(ctx, id, cr.checkID, i, cr.hash, cr.status, cr.severity, cr.message, cr.findings, cr.waiver, cr.baseline); err != nil {
				return 0, fmt.Errorf("insert result %s: %w", cr.checkID, err)
			}
		}
	}

	if len(p.drift) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO drift_events
			(run_id, position, against, against_run, object_kind, object_key, object_label, property, before, after, change)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, fmt.Errorf("insert drift: %w", err)
		}
		defer stmt.Close()
		for i, d := range p.drift {
			var against sql.NullInt64
			if d.ev.AgainstRunID != 0 {
				against = sql.NullInt64{Int64: d.ev.AgainstRunID, Valid: true}
			}
			if _, err := stmt.ExecContext(ctx, id, i, string(d.ev.Against), against, d.ev.ObjectKind, d.ev.ObjectKey,
				d.ev.ObjectLabel, d.ev.Property, d.before, d.after, string(d.ev.Change)); err != nil {
				return 0, fmt.Errorf("insert drift event %d: %w", i, err)
			}
		}
	}

	for _, a := range p.alerts {
		if err := upsertAlertState(ctx, tx, a); err != nil {
			return 0, err
		}
	}

	for i, m := range p.outbox {
		m.msg.RunID = id
		if _, err := insertOutbox(ctx, tx, m); err != nil {
			return 0, fmt.Errorf("outbox message %d: %w", i, err)
		}
	}
	return id, nil
}

// runColumns are scanned by scanRun, from "runs" (unaliased).
const runColumns = `id, tenant, started_at, finished_at, outcome, requests, retries, throttled, error,
	result_count, drift_count, EXISTS (SELECT 1 FROM snapshots s WHERE s.run_id = runs.id)`

type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (Run, error) {
	var (
		r                 Run
		started, finished string
		outcome           string
	)
	if err := sc.Scan(&r.ID, &r.Tenant, &started, &finished, &outcome, &r.Requests, &r.Retries, &r.Throttled,
		&r.Error, &r.Results, &r.DriftEvents, &r.HasSnapshot); err != nil {
		return Run{}, err
	}
	r.Outcome = Outcome(outcome)
	var err error
	if r.StartedAt, err = parseTime(started); err != nil {
		return Run{}, err
	}
	if r.FinishedAt, err = parseTime(finished); err != nil {
		return Run{}, err
	}
	return r, nil
}

func queryRuns(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]Run, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// sqlLimit maps "no limit" (0 or less) to SQLite's -1.
func sqlLimit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// Runs lists a tenant's runs, newest first; limit <= 0 lists them all.
func (s *Store) Runs(ctx context.Context, tenant string, limit int) ([]Run, error) {
	runs, err := queryRuns(ctx, s.r, `SELECT `+runColumns+` FROM runs WHERE tenant = ? ORDER BY id DESC LIMIT ?`,
		tenant, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: runs of %s: %w", tenant, err)
	}
	return runs, nil
}

// LastRun is the tenant's most recently saved run; ok is false when it has none.
func (s *Store) LastRun(ctx context.Context, tenant string) (Run, bool, error) {
	return s.oneRun(ctx, "last run of "+tenant,
		`SELECT `+runColumns+` FROM runs WHERE tenant = ? ORDER BY id DESC LIMIT 1`, tenant)
}

// LastRunWithSnapshot is the tenant's most recent run that stored a snapshot:
// what the next run's drift is computed against when the last run collected
// nothing.
func (s *Store) LastRunWithSnapshot(ctx context.Context, tenant string) (Run, bool, error) {
	return s.oneRun(ctx, "last snapshot of "+tenant,
		`SELECT `+runColumns+` FROM runs WHERE tenant = ? AND EXISTS (SELECT 1 FROM snapshots s WHERE s.run_id = runs.id)
		 ORDER BY id DESC LIMIT 1`, tenant)
}

func (s *Store) oneRun(ctx context.Context, what, query string, args ...any) (Run, bool, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("store: %s: %w", what, err)
	}
	return r, true, nil
}

// Run returns one run; the error wraps ErrNotFound when it does not exist.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	r, ok, err := s.oneRun(ctx, fmt.Sprintf("run %d", id), `SELECT `+runColumns+` FROM runs WHERE id = ?`, id)
	if err != nil {
		return Run{}, err
	}
	if !ok {
		return Run{}, fmt.Errorf("store: run %d: %w", id, ErrNotFound)
	}
	return r, nil
}

// Snapshot returns a run's snapshot JSON, verified against its checksum. The
// error wraps ErrNotFound when the run does not exist or stored no snapshot.
func (s *Store) Snapshot(ctx context.Context, runID int64) ([]byte, error) {
	var (
		encoding, sum string
		data          []byte
		rawSize       int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT encoding, data, sha256, raw_size FROM snapshots WHERE run_id = ?`, runID).
		Scan(&encoding, &data, &sum, &rawSize)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: snapshot of run %d: %w", runID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: snapshot of run %d: %w", runID, err)
	}
	raw, err := decodeSnapshot(encoding, data, sum, rawSize)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot of run %d: %w", runID, err)
	}
	return raw, nil
}

// runExists fails with ErrNotFound when the run does not exist, so that
// "no results" and "no such run" are told apart.
func runExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// Results returns a run's check results in the order they were saved, each
// with the catalogue entry (title, remediation) as it was at the time.
func (s *Store) Results(ctx context.Context, runID int64) ([]result.CheckResult, error) {
	var out []result.CheckResult
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := runExists(ctx, tx, runID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT cr.check_id, c.body, cr.status, cr.message, cr.findings, cr.waiver, cr.baseline_status
			FROM check_results cr JOIN checks c ON c.hash = cr.check_hash
			WHERE cr.run_id = ? ORDER BY cr.position`, runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				checkID, body, status, message, findings, baseline string
				waiver                                             sql.NullString
				cr                                                 result.CheckResult
			)
			if err := rows.Scan(&checkID, &body, &status, &message, &findings, &waiver, &baseline); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(body), &cr.Check); err != nil {
				return fmt.Errorf("check %s: catalogue entry: %w", checkID, err)
			}
			if err := json.Unmarshal([]byte(findings), &cr.Findings); err != nil {
				return fmt.Errorf("check %s: findings: %w", checkID, err)
			}
			if waiver.Valid {
				cr.Waiver = new(result.Waiver)
				if err := json.Unmarshal([]byte(waiver.String), cr.Waiver); err != nil {
					return fmt.Errorf("check %s: waiver: %w", checkID, err)
				}
			}
			cr.Status = result.Status(status)
			cr.Message = message
			cr.Baseline = result.Status(baseline)
			out = append(out, cr)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: results of run %d: %w", runID, err)
	}
	return out, nil
}

// Drift returns a run's drift events in the order they were saved.
func (s *Store) Drift(ctx context.Context, runID int64) ([]DriftEvent, error) {
	var out []DriftEvent
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := runExists(ctx, tx, runID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT against, against_run, object_kind, object_key, object_label, property, before, after, change
			FROM drift_events WHERE run_id = ? ORDER BY position`, runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				ev              DriftEvent
				against, change string
				againstRun      sql.NullInt64
				before, after   sql.NullString
			)
			if err := rows.Scan(&against, &againstRun, &ev.ObjectKind, &ev.ObjectKey, &ev.ObjectLabel, &ev.Property,
				&before, &after, &change); err != nil {
				return err
			}
			ev.Against, ev.Change, ev.AgainstRunID = Against(against), Change(change), againstRun.Int64
			if before.Valid {
				ev.Before = json.RawMessage(before.String)
			}
			if after.Valid {
				ev.After = json.RawMessage(after.String)
			}
			out = append(out, ev)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: drift of run %d: %w", runID, err)
	}
	return out, nil
}

// StatusChanges lists, newest first, the runs in which a check of the tenant
// changed status compared with the previous stored run that evaluated it
// (including its first appearance, with an empty From). Runs that produced no
// result for a check (a failed collection) do not break the chain. Pruned runs
// are gone: a change and its reversal between two kept runs is not seen.
func (s *Store) StatusChanges(ctx context.Context, tenant string, limit int) ([]StatusChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT run_id, started_at, check_id, prev, status FROM (
			SELECT cr.run_id, r.started_at, cr.check_id, cr.status,
			       LAG(cr.status) OVER (PARTITION BY cr.check_id ORDER BY cr.run_id) AS prev
			FROM check_results cr JOIN runs r ON r.id = cr.run_id
			WHERE r.tenant = ?
		) WHERE prev IS NULL OR prev <> status
		ORDER BY run_id DESC, check_id LIMIT ?`, tenant, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: status changes of %s: %w", tenant, err)
	}
	defer rows.Close()
	var out []StatusChange
	for rows.Next() {
		var (
			c    StatusChange
			at   string
			prev sql.NullString
			to   string
		)
		if err := rows.Scan(&c.RunID, &at, &c.CheckID, &prev, &to); err != nil {
			return nil, fmt.Errorf("store: status changes of %s: %w", tenant, err)
		}
		if c.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: status changes of %s: %w", tenant, err)
		}
		c.From, c.To = result.Status(prev.String), result.Status(to)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: status changes of %s: %w", tenant, err)
	}
	return out, nil
}

// Tenants summarises every tenant's latest run, ordered by tenant name.
func (s *Store) Tenants(ctx context.Context) ([]TenantSummary, error) {
	var out []TenantSummary
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		const latest = `SELECT MAX(id) FROM runs GROUP BY tenant`
		runs, err := queryRuns(ctx, tx, `SELECT `+runColumns+` FROM runs WHERE id IN (`+latest+`) ORDER BY tenant`)
		if err != nil {
			return err
		}
		byRun := make(map[int64]int, len(runs))
		for i, r := range runs {
			out = append(out, TenantSummary{Tenant: r.Tenant, LastRun: r})
			byRun[r.ID] = i
		}
		rows, err := tx.QueryContext(ctx, `SELECT run_id, check_id, status, severity FROM check_results
			WHERE run_id IN (`+latest+`) ORDER BY run_id, position`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				runID                     int64
				checkID, status, severity string
			)
			if err := rows.Scan(&runID, &checkID, &status, &severity); err != nil {
				return err
			}
			if i, ok := byRun[runID]; ok {
				out[i].Checks = append(out[i].Checks, CheckStatus{CheckID: checkID, Status: result.Status(status), Severity: result.Severity(severity)})
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		brows, err := tx.QueryContext(ctx, `SELECT tenant, run_id FROM baselines`)
		if err != nil {
			return err
		}
		defer brows.Close()
		idx := make(map[string]int, len(out))
		for i, t := range out {
			idx[t.Tenant] = i
		}
		for brows.Next() {
			var (
				tenant string
				runID  int64
			)
			if err := brows.Scan(&tenant, &runID); err != nil {
				return err
			}
			if i, ok := idx[tenant]; ok {
				out[i].BaselineRunID = runID
			}
		}
		return brows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: tenants: %w", err)
	}
	return out, nil
}
