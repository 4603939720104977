// Package store is the history of `ticketguard serve`: every run, its
// compressed snapshot, check results and drift events, the approved baselines,
// and the alert state and outbox the Slack notifier works from.
//
// It is one SQLite file, through the pure-Go driver modernc.org/sqlite (no cgo).
// Everything a run produces is written by SaveRun in one transaction, so a
// process killed mid-run leaves the previous state intact. The store knows
// nothing of Slack or drift: payloads are opaque JSON, drift events plain rows.
//
// Connection settings, and why:
//   - journal_mode=WAL: readers (the status page, `ticketguard history`) and
//     the writer do not block each other.
//   - synchronous=NORMAL: in WAL mode a commit is durable against a crash of
//     the process (the case that matters: a killed or OOM-killed service), and
//     the database is never corrupted; only an OS crash or power loss can lose
//     the last transactions since the latest checkpoint. Each of those is a
//     whole run (run, results, alert state and outbox together), so the store
//     falls back to a consistent earlier state and the next scheduled run
//     collects again; a lost "sent" mark means one message is re-sent, which
//     is inside the outbox's at-least-once contract. FULL would fsync the WAL
//     on every commit for no gain a scheduler would notice.
//   - busy_timeout: another process (the `ticketguard baseline approve` CLI
//     while `serve` runs) waits for the lock instead of failing at once.
//   - journal_size_limit: after a large transaction the WAL file is truncated
//     back to 64 MiB instead of keeping its high-water size.
//   - foreign_keys=ON: deleting a run cascades to its rows, and a baseline run
//     cannot be deleted.
//   - Writes go through one connection and begin IMMEDIATE, so writers in this
//     process queue in Go (honouring ctx) and a transaction never has to
//     upgrade a read lock, which busy_timeout cannot resolve.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeout is how long a statement waits for a lock held by another process.
const busyTimeout = 10 * time.Second

// ErrNotFound is returned when a run, snapshot or outbox message does not exist.
var ErrNotFound = errors.New("not found")

// Store is the history database. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // the one writer connection
	r    *sql.DB // read-only connections
	now  func() time.Time
}

// Open opens (creating if needed) the store at path and brings its schema up to
// date. A database written by a newer ticketguard is refused with
// ErrSchemaTooNew rather than misread.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: %q: need the path of a database file", path)
	}
	// The driver splits the DSN at the first '?'; such a path would silently
	// open a different file.
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: %q: path must not contain '?'", path)
	}
	// The store holds mailbox addresses and tenant configuration: create it
	// private to the service user. SQLite gives the -wal and -shm files the
	// permissions of the database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}

	busy := fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", path+"?"+busy+
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"+
		"&_pragma=journal_size_limit(67108864)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{path: path, w: w, now: time.Now}
	if err := s.init(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", path+"?"+busy+"&_pragma=foreign_keys(1)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.r = r
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	if err := s.enableWAL(ctx); err != nil {
		return err
	}
	return migrate(ctx, s.w)
}

// enableWAL switches the file to WAL mode, which is persistent: only the
// first open of a new file changes anything. SQLite answers SQLITE_BUSY at
// once, without waiting for busy_timeout, when another connection opens the
// file while the mode changes (two processes starting on a new store), so the
// change is retried here for as long as busy_timeout would have waited.
func (s *Store) enableWAL(ctx context.Context) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		if err == nil && strings.EqualFold(mode, "wal") {
			return nil
		}
		if err == nil {
			err = s.w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		}
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			// WAL needs shared memory between processes; some network
			// filesystems refuse it and SQLite silently stays in rollback
			// mode, where readers and the writer block each other. Say so
			// instead of running degraded.
			return fmt.Errorf("journal mode is %q, not WAL (is the file on a network filesystem?)", mode)
		case !isBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("enable WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLITE_BUSY (or an extended BUSY code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Close closes the database. A clean close checkpoints the WAL into the main file.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// Size is the size of the database in bytes (pages in use and free pages
// SQLite keeps for reuse), that is the main file once the WAL is checkpointed.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var pages, pageSize int64
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return pages * pageSize, nil
}

// writeTx runs fn in an IMMEDIATE transaction on the writer connection and
// commits it, or rolls it back when fn or the commit fails.
func (s *Store) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// readTx runs fn in a read transaction, so that several queries see the same
// committed state.
func (s *Store) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose
	return fn(tx)
}

// timeLayout is fixed width so that stored times sort as strings, and is one
// SQLite's date functions read.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// truncateText bounds free text from callers (error messages) so a runaway
// error body cannot bloat the database.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…(truncated)"
}
