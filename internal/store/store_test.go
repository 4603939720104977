package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

func openTestStore(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t0 }
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

func check(id string, sev result.Severity) result.Check {
	return result.Check{
		ID: id, Title: "Title of " + id, Description: "Why " + id + " matters.", Severity: sev,
		Remediation: "Fix " + id + ".", Source: "SPEC", Package: "ticketguard.checks." + strings.ReplaceAll(id, "-", "_"),
		File: "policies/checks/" + id + "/" + id + ".rego", BuiltIn: true,
	}
}

// results builds one result per check id with the given status.
func results(statuses map[string]result.Status) []result.CheckResult {
	ids := make([]string, 0, len(statuses))
	for id := range statuses {
		ids = append(ids, id)
	}
	// Deterministic order, not alphabetical, so that position is really kept.
	sortDesc(ids)
	var out []result.CheckResult
	for _, id := range ids {
		st := statuses[id]
		out = append(out, result.CheckResult{
			Check:    check(id, result.SeverityError),
			Status:   st,
			Message:  fmt.Sprintf("%s is %s", id, st),
			Findings: []result.Finding{{Status: st, Message: "about " + id, Resource: "mailbox:" + id + "@acme.com"}},
		})
	}
	return out
}

func sortDesc(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] > s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func record(tenant string, start time.Time, statuses map[string]result.Status) RunRecord {
	return RunRecord{
		Run: Run{
			Tenant: tenant, StartedAt: start, FinishedAt: start.Add(42 * time.Second),
			Outcome: OutcomeOK, Requests: 31, Retries: 2, Throttled: 1,
		},
		Snapshot: []byte(fmt.Sprintf(`{"schema_version":1,"tenant":%q,"collected_at":%q}`, tenant, start.Format(time.RFC3339))),
		Results:  results(statuses),
	}
}

func mustSave(t testing.TB, s *Store, rec RunRecord) int64 {
	t.Helper()
	id, err := s.SaveRun(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestOpenMigratesEmptyAndReopens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}

	var versions []int
	rows, err := s.r.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	rows.Close()
	if len(versions) == 0 || len(versions) != SchemaVersion() || versions[len(versions)-1] != SchemaVersion() {
		t.Fatalf("recorded versions %v, binary knows %d", versions, SchemaVersion())
	}

	// The connection settings the package comment promises, on the writer.
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000",
	} {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	// Readers cannot write.
	if _, err := s.r.ExecContext(ctx, `DELETE FROM runs`); err == nil {
		t.Error("a reader connection could write")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode %v, want 0600", perm)
	}

	id := mustSave(t, s, record("acme", t0, map[string]result.Status{"a": result.Pass}))
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("WAL file: %v, %v; want mode 0600", fi, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening applies nothing again and keeps the data.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion() {
		t.Errorf("after reopen %d migrations recorded, want %d", n, SchemaVersion())
	}
	if _, err := s.Run(ctx, id); err != nil {
		t.Errorf("run lost across reopen: %v", err)
	}
}

// Two processes starting on a new file at once (serve and a CLI command) both
// succeed, and each migration is applied once.
func TestConcurrentOpenOfNewFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	const n = 4
	errs := make(chan error, n)
	stores := make(chan *Store, n)
	for range n {
		go func() {
			s, err := Open(ctx, path)
			errs <- err
			stores <- s
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		if s := <-stores; s != nil {
			defer s.Close()
		}
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != SchemaVersion() {
		t.Errorf("%d migration rows, want %d", rows, SchemaVersion())
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	newer := SchemaVersion() + 1
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future', '2027-01-01T00:00:00.000Z')`, newer); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{path, fmt.Sprintf("version %d", newer), fmt.Sprintf("up to %d", SchemaVersion())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, p := range []string{"", ":memory:", "file:x.db", filepath.Join(dir, "a?b.db"), filepath.Join(dir, "missing", "x.db")} {
		if s, err := Open(ctx, p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	// A file that is not a database.
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not sqlite ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, junk); err == nil {
		s.Close()
		t.Error("Open of a non-database succeeded")
	}
}

func TestLoadMigrations(t *testing.T) {
	ok := fstest.MapFS{
		"m/0002_two.sql": {Data: []byte("CREATE TABLE b (x);")},
		"m/0001_one.sql": {Data: []byte("CREATE TABLE a (x);")},
	}
	ms, err := loadMigrations(ok, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].version != 1 || ms[1].name != "two" {
		t.Errorf("loaded %+v", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"m/0001_one.sql": {}, "m/0003_three.sql": {}},
		"duplicate": {"m/0001_one.sql": {}, "m/0001_again.sql": {}},
		"bad name":  {"m/1_one.sql": {}},
		"not first": {"m/0002_two.sql": {}},
	} {
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The embedded set itself is valid.
	if _, err := migrations(); err != nil {
		t.Fatal(err)
	}
}

func TestSaveRunRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)

	prev := mustSave(t, s, record("acme", t0.Add(-time.Hour), map[string]result.Status{"send-as": result.Pass}))

	snap := []byte(`{"schema_version":1,"tenant":"acme","exchange":{"Get-Mailbox":[{"PrimarySmtpAddress":"support@acme.com"}]}}`)
	waived := result.CheckResult{
		Check:   check("group-owner", result.SeverityWarning),
		Status:  result.Waived,
		Message: "waived: owner is being replaced",
		Findings: []result.Finding{
			{Status: result.Fail, Message: `group "Support" has no owner`, Resource: "group:support@acme.com"},
			{Status: result.Pass, Message: "other group fine"},
		},
		Waiver:   &result.Waiver{Reason: "ticket 123", Expires: "2026-12-31", Resource: "group:support@acme.com", Status: result.Warn},
		Baseline: result.Warn,
	}
	empty := result.CheckResult{Check: check("smtp-settings", result.SeverityError), Status: result.NotApplicable, Message: "no custom SMTP"}
	failing := result.CheckResult{
		Check: check("send-as", result.SeverityError), Status: result.Fail, Message: "Send As missing",
		Findings: []result.Finding{{Status: result.Fail, Message: "no SendAs for helpdesk@acme.com", Resource: "mailbox:helpdesk@acme.com"}},
	}
	drift := []DriftEvent{
		{Against: AgainstPrevious, AgainstRunID: prev, ObjectKind: "mailbox", ObjectKey: "mailbox:b044d25e", ObjectLabel: `mailbox "Support" <support@acme.com>`,
			Property: "DeliverToMailboxAndForward", Before: json.RawMessage(`true`), After: json.RawMessage(`false`), Change: ChangeChanged},
		{Against: AgainstPrevious, AgainstRunID: prev, ObjectKind: "contact", ObjectKey: "contact:9f1", ObjectLabel: "contact Atera",
			After: json.RawMessage(`{"ExternalEmailAddress":"acme@ticketing.atera.com"}`), Change: ChangeAdded},
		{Against: AgainstBaseline, ObjectKind: "mailbox", ObjectKey: "mailbox:b044d25e", Property: "ForwardingAddress",
			Before: json.RawMessage(`null`), After: json.RawMessage(`"Atera"`), Change: ChangeChanged},
	}
	rec := RunRecord{
		Run: Run{Tenant: "acme", StartedAt: t0.Add(123456 * time.Microsecond), FinishedAt: t0.Add(time.Minute),
			Outcome: OutcomePartial, Requests: 40, Retries: 3, Throttled: 2, Error: "Get-InboxRule: 403"},
		Snapshot:   snap,
		Results:    []result.CheckResult{failing, waived, empty},
		Drift:      drift,
		AlertState: []AlertState{{CheckID: "send-as", Status: result.Fail, LastNotifiedAt: t0, ThreadKey: "1700000000.000100"}},
		Outbox:     []OutboxMessage{{Kind: "alert", Payload: json.RawMessage(`{"blocks":[]}`)}},
	}
	id := mustSave(t, s, rec)
	if id <= prev {
		t.Fatalf("run id %d not after %d", id, prev)
	}

	got, err := s.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := rec.Run
	want.ID, want.Results, want.DriftEvents, want.HasSnapshot = id, 3, 3, true
	want.StartedAt = want.StartedAt.Truncate(time.Millisecond) // stored to the millisecond
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Run =\n%+v\nwant\n%+v", got, want)
	}
	if last, ok, err := s.LastRun(ctx, "acme"); err != nil || !ok || last.ID != id {
		t.Errorf("LastRun = %d, %v, %v; want %d", last.ID, ok, err, id)
	}
	if runs, err := s.Runs(ctx, "acme", 0); err != nil || len(runs) != 2 || runs[0].ID != id || runs[1].ID != prev {
		t.Errorf("Runs = %+v, %v", runs, err)
	}
	if runs, err := s.Runs(ctx, "acme", 1); err != nil || len(runs) != 1 {
		t.Errorf("Runs limit 1 = %d runs, %v", len(runs), err)
	}

	gotSnap, err := s.Snapshot(ctx, id)
	if err != nil || string(gotSnap) != string(snap) {
		t.Errorf("Snapshot = %s, %v", gotSnap, err)
	}

	gotResults, err := s.Results(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	empty.Findings = []result.Finding{} // stored as an empty list
	if wantResults := []result.CheckResult{failing, waived, empty}; !reflect.DeepEqual(gotResults, wantResults) {
		t.Errorf("Results =\n%+v\nwant\n%+v", gotResults, wantResults)
	}

	gotDrift, err := s.Drift(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotDrift, drift) {
		t.Errorf("Drift =\n%+v\nwant\n%+v", gotDrift, drift)
	}

	states, err := s.AlertStates(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	wantState := AlertState{Tenant: "acme", CheckID: "send-as", Status: result.Fail, LastNotifiedAt: t0, ThreadKey: "1700000000.000100"}
	if len(states) != 1 || states["send-as"] != wantState {
		t.Errorf("AlertStates = %+v", states)
	}

	pending, err := s.PendingOutbox(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].RunID != id || pending[0].Tenant != "acme" || string(pending[0].Payload) != `{"blocks":[]}` ||
		!pending[0].CreatedAt.Equal(t0) || !pending[0].NextAttemptAt.Equal(t0) {
		t.Errorf("PendingOutbox = %+v", pending)
	}

	// Alert state is upserted by later runs.
	rec2 := record("acme", t0.Add(time.Hour), map[string]result.Status{"send-as": result.Pass})
	rec2.AlertState = []AlertState{{CheckID: "send-as", Status: result.Pass}}
	mustSave(t, s, rec2)
	states, _ = s.AlertStates(ctx, "acme")
	if st := states["send-as"]; st.Status != result.Pass || !st.LastNotifiedAt.IsZero() || st.ThreadKey != "" {
		t.Errorf("alert state after update = %+v", st)
	}

	// Unknown ids.
	for name, err := range map[string]error{
		"Run":      second(s.Run(ctx, 999)),
		"Snapshot": second(s.Snapshot(ctx, 999)),
		"Results":  second(s.Results(ctx, 999)),
		"Drift":    second(s.Drift(ctx, 999)),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s(999) = %v, want ErrNotFound", name, err)
		}
	}
	if _, ok, err := s.LastRun(ctx, "nobody"); ok || err != nil {
		t.Errorf("LastRun(nobody) = %v, %v", ok, err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestSaveRunWithoutSnapshot(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	withSnap := mustSave(t, s, record("acme", t0, map[string]result.Status{"a": result.Pass}))
	failed := mustSave(t, s, RunRecord{Run: Run{Tenant: "acme", StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour),
		Outcome: OutcomeFailed, Error: "auth: AADSTS700016"}})

	r, err := s.Run(ctx, failed)
	if err != nil || r.HasSnapshot || r.Results != 0 || r.Error != "auth: AADSTS700016" {
		t.Errorf("Run = %+v, %v", r, err)
	}
	if _, err := s.Snapshot(ctx, failed); !errors.Is(err, ErrNotFound) {
		t.Errorf("Snapshot of a failed run = %v, want ErrNotFound", err)
	}
	if res, err := s.Results(ctx, failed); err != nil || len(res) != 0 {
		t.Errorf("Results of a failed run = %v, %v", res, err)
	}
	if r, ok, err := s.LastRunWithSnapshot(ctx, "acme"); err != nil || !ok || r.ID != withSnap {
		t.Errorf("LastRunWithSnapshot = %d, %v, %v; want %d", r.ID, ok, err, withSnap)
	}
}

func TestSaveRunRejectsInvalidRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	base := func() RunRecord {
		return record("acme", t0, map[string]result.Status{"a": result.Pass, "b": result.Fail})
	}
	cases := map[string]func(*RunRecord){
		"no tenant":         func(r *RunRecord) { r.Run.Tenant = "" },
		"bad outcome":       func(r *RunRecord) { r.Run.Outcome = "fine" },
		"no start":          func(r *RunRecord) { r.Run.StartedAt = time.Time{} },
		"negative counter":  func(r *RunRecord) { r.Run.Requests = -1 },
		"snapshot not JSON": func(r *RunRecord) { r.Snapshot = []byte(`{"truncated":`) },
		"duplicate check":   func(r *RunRecord) { r.Results = append(r.Results, r.Results[0]) },
		"result no status":  func(r *RunRecord) { r.Results[0].Status = "" },
		"drift bad change": func(r *RunRecord) {
			r.Drift = []DriftEvent{{Against: AgainstPrevious, ObjectKind: "m", ObjectKey: "k", Change: "moved"}}
		},
		"drift bad against": func(r *RunRecord) {
			r.Drift = []DriftEvent{{Against: "yesterday", ObjectKind: "m", ObjectKey: "k", Change: ChangeAdded}}
		},
		"drift bad value": func(r *RunRecord) {
			r.Drift = []DriftEvent{{Against: AgainstPrevious, ObjectKind: "m", ObjectKey: "k", Change: ChangeAdded, After: json.RawMessage(`{`)}}
		},
		"outbox bad payload": func(r *RunRecord) { r.Outbox = []OutboxMessage{{Kind: "alert", Payload: json.RawMessage(`not json`)}} },
		"outbox no kind":     func(r *RunRecord) { r.Outbox = []OutboxMessage{{Payload: json.RawMessage(`{}`)}} },
		"alert no check":     func(r *RunRecord) { r.AlertState = []AlertState{{Status: result.Fail}} },
	}
	for name, mutate := range cases {
		rec := base()
		mutate(&rec)
		if _, err := s.SaveRun(ctx, rec); err == nil {
			t.Errorf("%s: SaveRun accepted it", name)
		}
	}
	if runs, err := s.Runs(ctx, "acme", 0); err != nil || len(runs) != 0 {
		t.Errorf("rejected records left %d runs (%v)", len(runs), err)
	}
}

// A failure inside the transaction, after the run and its results were
// inserted, leaves nothing behind.
func TestSaveRunIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	before := mustSave(t, s, record("acme", t0, map[string]result.Status{"a": result.Pass}))

	if _, err := s.w.ExecContext(ctx, `CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
		t.Fatal(err)
	}
	rec := record("acme", t0.Add(time.Hour), map[string]result.Status{"a": result.Fail, "b": result.Fail})
	rec.Drift = []DriftEvent{{Against: AgainstPrevious, ObjectKind: "mailbox", ObjectKey: "k", Change: ChangeRemoved, Before: json.RawMessage(`{}`)}}
	rec.AlertState = []AlertState{{CheckID: "a", Status: result.Fail}}
	rec.Outbox = []OutboxMessage{{Kind: "alert", Payload: json.RawMessage(`{}`)}}
	if _, err := s.SaveRun(ctx, rec); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("SaveRun = %v, want the trigger's error", err)
	}

	for table, want := range map[string]int{"runs": 1, "snapshots": 1, "check_results": 1, "drift_events": 0, "alert_state": 0, "outbox": 0} {
		var n int
		if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s has %d rows after a failed SaveRun, want %d", table, n, want)
		}
	}
	if last, _, _ := s.LastRun(ctx, "acme"); last.ID != before {
		t.Errorf("last run %d, want %d", last.ID, before)
	}
	// The writer connection is usable again.
	if _, err := s.w.ExecContext(ctx, `DROP TRIGGER refuse_outbox`); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, rec)
}

func TestSnapshotCorruptionIsDetected(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	id := mustSave(t, s, record("acme", t0, nil))
	if _, err := s.w.ExecContext(ctx, `UPDATE snapshots SET sha256 = ? WHERE run_id = ?`, strings.Repeat("0", 64), id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snapshot(ctx, id); err == nil || !strings.Contains(err.Error(), "corrupted") {
		t.Errorf("Snapshot with a wrong checksum = %v", err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE snapshots SET data = x'00112233' WHERE run_id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snapshot(ctx, id); err == nil {
		t.Error("Snapshot of garbage data succeeded")
	}
}

func TestStatusChanges(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	P, F, I := result.Pass, result.Fail, result.Indeterminate
	r1 := mustSave(t, s, record("acme", t0, map[string]result.Status{"a": P, "b": F}))
	mustSave(t, s, record("other", t0, map[string]result.Status{"a": F, "b": P}))
	mustSave(t, s, record("acme", t0.Add(1*time.Hour), map[string]result.Status{"a": P, "b": F}))
	r3 := mustSave(t, s, record("acme", t0.Add(2*time.Hour), map[string]result.Status{"a": F, "b": P}))
	// A run that collected nothing does not break the chain.
	mustSave(t, s, RunRecord{Run: Run{Tenant: "acme", StartedAt: t0.Add(3 * time.Hour), FinishedAt: t0.Add(3 * time.Hour), Outcome: OutcomeFailed}})
	r5 := mustSave(t, s, record("acme", t0.Add(4*time.Hour), map[string]result.Status{"a": F, "b": P, "c": I}))

	got, err := s.StatusChanges(ctx, "acme", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatusChange{
		{RunID: r5, At: t0.Add(4 * time.Hour), CheckID: "c", From: "", To: I},
		{RunID: r3, At: t0.Add(2 * time.Hour), CheckID: "a", From: P, To: F},
		{RunID: r3, At: t0.Add(2 * time.Hour), CheckID: "b", From: F, To: P},
		{RunID: r1, At: t0, CheckID: "a", From: "", To: P},
		{RunID: r1, At: t0, CheckID: "b", From: "", To: F},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StatusChanges =\n%+v\nwant\n%+v", got, want)
	}
	if got, _ := s.StatusChanges(ctx, "acme", 2); len(got) != 2 || got[0].CheckID != "c" {
		t.Errorf("StatusChanges limit 2 = %+v", got)
	}
	if got, _ := s.StatusChanges(ctx, "nobody", 0); len(got) != 0 {
		t.Errorf("StatusChanges(nobody) = %+v", got)
	}
}

func TestTenants(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	first := mustSave(t, s, record("zeta", t0, map[string]result.Status{"a": result.Pass}))
	mustSave(t, s, record("acme", t0, map[string]result.Status{"a": result.Pass}))
	zeta := mustSave(t, s, record("zeta", t0.Add(time.Hour), map[string]result.Status{"a": result.Fail, "b": result.Pass, "c": result.Warn}))
	acme := mustSave(t, s, RunRecord{Run: Run{Tenant: "acme", StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour), Outcome: OutcomeFailed, Error: "timeout"}})
	if err := s.ApproveBaseline(ctx, "zeta", first, "alice"); err != nil {
		t.Fatal(err)
	}

	got, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Tenant != "acme" || got[1].Tenant != "zeta" {
		t.Fatalf("Tenants = %+v", got)
	}
	if got[0].LastRun.ID != acme || got[0].LastRun.Outcome != OutcomeFailed || len(got[0].Checks) != 0 || got[0].BaselineRunID != 0 {
		t.Errorf("acme = %+v", got[0])
	}
	z := got[1]
	wantChecks := []CheckStatus{{"c", result.Warn, result.SeverityError}, {"b", result.Pass, result.SeverityError}, {"a", result.Fail, result.SeverityError}}
	if z.LastRun.ID != zeta || !reflect.DeepEqual(z.Checks, wantChecks) || z.BaselineRunID != first {
		t.Errorf("zeta = %+v", z)
	}
	if f := z.Failing(); !reflect.DeepEqual(f, []string{"c", "a"}) {
		t.Errorf("Failing = %v", f)
	}
	if c := z.Counts(); c[result.Fail] != 1 || c[result.Warn] != 1 || c[result.Pass] != 1 {
		t.Errorf("Counts = %v", c)
	}
}

func TestBaseline(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	if _, ok, err := s.Baseline(ctx, "acme"); ok || err != nil {
		t.Fatalf("Baseline before approval = %v, %v", ok, err)
	}
	r1 := mustSave(t, s, record("acme", t0, nil))
	r2 := mustSave(t, s, record("acme", t0.Add(time.Hour), nil))
	other := mustSave(t, s, record("other", t0, nil))
	failed := mustSave(t, s, RunRecord{Run: Run{Tenant: "acme", StartedAt: t0, FinishedAt: t0, Outcome: OutcomeFailed}})

	if err := s.ApproveBaseline(ctx, "acme", r1, "alice"); err != nil {
		t.Fatal(err)
	}
	if id, ok, err := s.Baseline(ctx, "acme"); id != r1 || !ok || err != nil {
		t.Errorf("Baseline = %d, %v, %v", id, ok, err)
	}
	if err := s.ApproveBaseline(ctx, "acme", r2, "bob"); err != nil {
		t.Fatal(err)
	}
	if id, _, _ := s.Baseline(ctx, "acme"); id != r2 {
		t.Errorf("re-approved baseline = %d, want %d", id, r2)
	}
	if err := s.ApproveBaseline(ctx, "acme", other, "eve"); err == nil || !strings.Contains(err.Error(), "belongs to tenant other") {
		t.Errorf("approving another tenant's run = %v", err)
	}
	if err := s.ApproveBaseline(ctx, "acme", failed, "eve"); err == nil || !strings.Contains(err.Error(), "no snapshot") {
		t.Errorf("approving a run without snapshot = %v", err)
	}
	if err := s.ApproveBaseline(ctx, "acme", 999, "eve"); !errors.Is(err, ErrNotFound) {
		t.Errorf("approving a missing run = %v", err)
	}
	// The database itself refuses to delete a baseline run.
	if _, err := s.w.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, r2); err == nil {
		t.Error("deleted a baseline run")
	}
}

func TestThread(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	if _, ok, err := s.Thread(ctx, "acme"); ok || err != nil {
		t.Fatalf("Thread before set = %v, %v", ok, err)
	}
	for _, th := range []Thread{{"C123", "1700000000.000100"}, {"C456", "1700000001.000200"}} {
		if err := s.SetThread(ctx, "acme", th); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Thread(ctx, "acme"); got != th || !ok || err != nil {
			t.Errorf("Thread = %+v, %v, %v; want %+v", got, ok, err, th)
		}
	}
	if err := s.SetThread(ctx, "acme", Thread{Channel: "C1"}); err == nil {
		t.Error("SetThread without ts accepted")
	}
}

func TestSize(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	empty, err := s.Size(ctx)
	if err != nil || empty <= 0 {
		t.Fatalf("Size = %d, %v", empty, err)
	}
	rec := record("acme", t0, nil)
	rec.Snapshot = realisticSnapshot(t, 200<<10)
	mustSave(t, s, rec)
	full, err := s.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Compressed, the snapshot adds far less than its 200 KB, but it adds something.
	if grew := full - empty; grew <= 0 || grew >= 200<<10 {
		t.Errorf("a 200 KB snapshot grew the store by %d bytes", grew)
	}
}
