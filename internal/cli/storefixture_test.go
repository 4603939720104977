package cli_test

// A history store for the tests of history, show and baseline, written with
// store.SaveRun as `ticketguard serve` writes it: real snapshots from
// testdata, evaluated by the real policies, with drift computed by the real
// drift views. Black-box: the commands under test only read the file.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/snapshot"
	"github.com/ticketguard/ticketguard/internal/store"
)

// The stored history of tenant "acme" (compliant-mailbox.json), one run a day:
//
//	run 1  11-27  compliant
//	run 2  11-28  AutoForwardingMode Off and DeliverToMailboxAndForward false:
//	              external-forwarding fail, forwarding-keeps-copy warn;
//	              drift against run 1: two objects changed
//	run 3  11-29  failed: sign-in refused, no snapshot, no results
//	run 4  11-30  AutoForwardingMode back On: external-forwarding pass again;
//	              drift against run 2 (the previous snapshot) and against
//	              run 1, approved as the baseline after run 2
//
// and one run of tenant "zeta" (broken-send-as.json).
type historyFixture struct {
	db   []byte            // the store file, closed and checkpointed
	acme [4]int64          // run ids of acme, in order
	zeta int64             // run id of zeta
	snap map[int64][]byte  // the snapshot stored with each run
	at   map[int64]string  // each run's start, RFC 3339
	stat map[int64]statMap // check id → status of each run
}

type statMap map[string]string

const failedRunError = "sign-in: AADSTS7000215: Invalid client secret provided"

var historyOnce = sync.OnceValues(buildHistory)

// historyStore copies the fixture store into a fresh directory and returns
// its path, so a test may write to it (baseline approve) without affecting
// the others.
func historyStore(t *testing.T) (string, *historyFixture) {
	t.Helper()
	needTenants(t, "compliant-mailbox", "broken-send-as")
	fx, err := historyOnce()
	if err != nil {
		t.Fatalf("build history store: %v", err)
	}
	path := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(path, fx.db, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, fx
}

func buildHistory() (*historyFixture, error) {
	ctx := context.Background()
	engine, err := policy.Load(ctx, policy.Options{})
	if err != nil {
		return nil, err
	}
	compliant, err := os.ReadFile(filepath.Join(repoRoot, tenantFile("compliant-mailbox")))
	if err != nil {
		return nil, err
	}
	zeta, err := os.ReadFile(filepath.Join(repoRoot, tenantFile("broken-send-as")))
	if err != nil {
		return nil, err
	}
	broken, err := editSnapshot(compliant, "2026-11-28T06:00:09Z", "Off", false)
	if err != nil {
		return nil, err
	}
	fixed, err := editSnapshot(compliant, "2026-11-30T06:00:07Z", "On", false)
	if err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "ticketguard-history")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "history.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	fx := &historyFixture{snap: map[int64][]byte{}, at: map[int64]string{}, stat: map[int64]statMap{}}
	views := map[int64]map[string]any{}
	save := func(tenant, day string, snap []byte, outcome store.Outcome, against map[store.Against]int64) (int64, error) {
		start, _ := time.Parse(time.RFC3339, day+"T06:00:00Z")
		rec := store.RunRecord{Run: store.Run{
			Tenant: tenant, StartedAt: start, FinishedAt: start.Add(42 * time.Second),
			Outcome: outcome, Requests: 57, Retries: 2, Throttled: 1,
		}, Snapshot: snap}
		var view map[string]any
		if snap == nil {
			rec.Run.Error = failedRunError
			rec.Run.Requests, rec.Run.Retries, rec.Run.Throttled = 1, 0, 0
		} else {
			doc, err := snapshot.Parse(tenant+".json", snap)
			if err != nil {
				return 0, err
			}
			if rec.Results, err = engine.Evaluate(ctx, doc.Data, start); err != nil {
				return 0, err
			}
			if view, err = engine.View(ctx, doc.Data); err != nil {
				return 0, err
			}
			for _, kind := range []store.Against{store.AgainstPrevious, store.AgainstBaseline} {
				if id, ok := against[kind]; ok {
					evs, err := driftEvents(kind, id, drift.Compare(views[id], view))
					if err != nil {
						return 0, err
					}
					rec.Drift = append(rec.Drift, evs...)
				}
			}
		}
		id, err := st.SaveRun(ctx, rec)
		if err != nil {
			return 0, err
		}
		views[id], fx.snap[id], fx.at[id] = view, snap, start.Format(time.RFC3339)
		fx.stat[id] = statMap{}
		for _, r := range rec.Results {
			fx.stat[id][r.Check.ID] = string(r.Status)
		}
		return id, nil
	}

	steps := []struct {
		day     string
		snap    []byte
		outcome store.Outcome
		against func() map[store.Against]int64
	}{
		{"2026-11-27", compliant, store.OutcomeOK, func() map[store.Against]int64 { return nil }},
		{"2026-11-28", broken, store.OutcomeOK, func() map[store.Against]int64 {
			return map[store.Against]int64{store.AgainstPrevious: fx.acme[0]}
		}},
		{"2026-11-29", nil, store.OutcomeFailed, func() map[store.Against]int64 { return nil }},
		{"2026-11-30", fixed, store.OutcomeOK, func() map[store.Against]int64 {
			return map[store.Against]int64{store.AgainstPrevious: fx.acme[1], store.AgainstBaseline: fx.acme[0]}
		}},
	}
	for i, s := range steps {
		if fx.acme[i], err = save("acme", s.day, s.snap, s.outcome, s.against()); err != nil {
			return nil, err
		}
		if i == 1 {
			if err := st.ApproveBaseline(ctx, "acme", fx.acme[0], "fixture"); err != nil {
				return nil, err
			}
		}
	}
	if fx.zeta, err = save("zeta", "2026-11-30", zeta, store.OutcomeOK, nil); err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	if fx.db, err = os.ReadFile(path); err != nil {
		return nil, err
	}
	return fx, nil
}

// editSnapshot is compliant-mailbox.json collected at another time, with the
// "Atera ticket forwarding" outbound policy's AutoForwardingMode and the
// support mailbox's DeliverToMailboxAndForward set.
func editSnapshot(data []byte, collectedAt, autoForwarding string, keepCopy bool) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	doc["collected_at"] = collectedAt
	ex := doc["exchange"].(map[string]any)
	found := 0
	for _, p := range ex["Get-HostedOutboundSpamFilterPolicy"].([]any) {
		if p := p.(map[string]any); p["Name"] == "Atera ticket forwarding" {
			p["AutoForwardingMode"] = autoForwarding
			found++
		}
	}
	for _, m := range ex["Get-Mailbox"].([]any) {
		if m := m.(map[string]any); m["PrimarySmtpAddress"] == "support@contosodental.com" {
			m["DeliverToMailboxAndForward"] = keepCopy
			found++
		}
	}
	if found != 2 {
		return nil, errors.New("compliant-mailbox.json no longer has the outbound policy and support mailbox the history fixture edits")
	}
	return json.MarshalIndent(doc, "", "  ")
}

// driftEvents is what the scheduler stores for drift.Compare's changes.
func driftEvents(against store.Against, runID int64, changes []drift.Change) ([]store.DriftEvent, error) {
	var out []store.DriftEvent
	for _, c := range changes {
		ev := store.DriftEvent{
			Against: against, AgainstRunID: runID,
			ObjectKind: c.Kind, ObjectKey: c.Key, ObjectLabel: c.Label, Property: c.Property,
			Change: store.Change(c.Change),
		}
		var err error
		if c.Before != nil {
			if ev.Before, err = json.Marshal(c.Before); err != nil {
				return nil, err
			}
		}
		if c.After != nil {
			if ev.After, err = json.Marshal(c.After); err != nil {
				return nil, err
			}
		}
		out = append(out, ev)
	}
	return out, nil
}

// exitFor is the exit code check gives a run's statuses under the default
// policy (expectedExit restates result.Report.ExitCode).
func (fx *historyFixture) exitFor(id int64) int { return expectedExit(fx.stat[id]) }
