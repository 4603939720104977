package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// The crash test runs this test binary again as a child process that writes
// runs in a loop, kills it with SIGKILL at a random moment, and checks what
// the next process finds.
const (
	crashDBEnv   = "TICKETGUARD_STORE_CRASH_DB"
	crashSeedEnv = "TICKETGUARD_STORE_CRASH_SEED"
)

var crashTenants = []string{"acme", "globex", "initech"}

// crashSnapshot is what the child stores as a run's snapshot: it declares
// what else the run wrote, so the parent can check that all of it is there.
type crashSnapshot struct {
	Seq     int64           `json:"seq"`
	Tenant  string          `json:"tenant"`
	Results int             `json:"results"`
	Drift   int             `json:"drift"`
	Outbox  int             `json:"outbox"`
	Checks  []string        `json:"checks"`
	Base    json.RawMessage `json:"base"`
	Padding string          `json:"padding"` // incompressible, so some transactions spill to the WAL before commit
}

// TestCrashChild is the child process of TestKilledMidRunLeavesStoreConsistent.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("helper process for TestKilledMidRunLeavesStoreConsistent")
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	// Report from inside the transaction, then linger there so that the
	// parent's kill often lands before the commit.
	testHookBeforeCommit = func(id int64) {
		fmt.Printf("commit %d\n", id)
		time.Sleep(time.Duration(2000+rng.IntN(8000)) * time.Microsecond)
	}
	base := realisticSnapshot(t, 100<<10)
	seq := time.Now().UnixNano()
	for i := 0; ; i++ {
		seq++
		tenant := crashTenants[rng.IntN(len(crashTenants))]
		rec := crashRecord(rng, tenant, seq, base)
		id, err := s.SaveRun(ctx, rec)
		if err != nil {
			fmt.Fprintln(os.Stderr, "save:", err)
			os.Exit(2)
		}
		fmt.Printf("saved %d\n", id)

		switch i % 4 {
		case 1: // deliver some messages, so that prune can delete their runs
			msgs, err := s.PendingOutbox(ctx, time.Now(), 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "pending:", err)
				os.Exit(2)
			}
			for _, m := range msgs {
				if rng.IntN(2) == 0 {
					if err := s.MarkSent(ctx, m.ID, "1700000000.000100", time.Now()); err != nil {
						fmt.Fprintln(os.Stderr, "mark sent:", err)
						os.Exit(2)
					}
				}
			}
		case 2:
			if _, err := s.Prune(ctx, tenant, 3, 1, time.Now()); err != nil {
				fmt.Fprintln(os.Stderr, "prune:", err)
				os.Exit(2)
			}
		case 3:
			if rng.IntN(3) == 0 {
				if err := s.ApproveBaseline(ctx, tenant, id, "crash-test"); err != nil {
					fmt.Fprintln(os.Stderr, "baseline:", err)
					os.Exit(2)
				}
			}
		}
	}
}

func crashRecord(rng *rand.Rand, tenant string, seq int64, base []byte) RunRecord {
	now := time.Now()
	nResults := 5 + rng.IntN(11)
	statuses := []result.Status{result.Pass, result.Fail, result.Warn, result.Indeterminate, result.NotApplicable}
	var (
		results []result.CheckResult
		alerts  []AlertState
		checks  []string
	)
	for i := range nResults {
		id := fmt.Sprintf("check-%02d", (i*7+int(seq))%16)
		if strings.Contains(strings.Join(checks, ","), id) {
			id = fmt.Sprintf("extra-%02d", i)
		}
		checks = append(checks, id)
		st := statuses[rng.IntN(len(statuses))]
		results = append(results, result.CheckResult{
			Check: check(id, result.SeverityError), Status: st, Message: id + " " + string(st),
			Findings: []result.Finding{{Status: st, Message: "finding of " + id, Resource: "mailbox:x@acme.com"}},
		})
		alerts = append(alerts, AlertState{CheckID: id, Status: st, ThreadKey: strconv.FormatInt(seq, 10)})
	}
	var drift []DriftEvent
	for i := range rng.IntN(10) {
		drift = append(drift, DriftEvent{Against: AgainstPrevious, ObjectKind: "mailbox", ObjectKey: fmt.Sprintf("mailbox:%d", i),
			Property: "ForwardingAddress", Before: json.RawMessage(`null`), After: json.RawMessage(`"x"`), Change: ChangeChanged})
	}
	var outbox []OutboxMessage
	for range rng.IntN(4) {
		outbox = append(outbox, OutboxMessage{Kind: "alert", Payload: json.RawMessage(`{"seq":` + strconv.FormatInt(seq, 10) + `}`)})
	}
	pad := make([]byte, rng.IntN(1<<20))
	for i := range pad {
		pad[i] = byte(rng.Uint32())
	}
	snap, err := json.Marshal(crashSnapshot{
		Seq: seq, Tenant: tenant, Results: nResults, Drift: len(drift), Outbox: len(outbox), Checks: checks,
		Base: base, Padding: hex.EncodeToString(pad),
	})
	if err != nil {
		panic(err)
	}
	return RunRecord{
		Run:      Run{Tenant: tenant, StartedAt: now, FinishedAt: now, Outcome: OutcomeOK, Requests: nResults},
		Snapshot: snap, Results: results, Drift: drift, Outbox: outbox, AlertState: alerts,
	}
}

func TestKilledMidRunLeavesStoreConsistent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "history.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	deadline := time.Now().Add(60 * time.Second)
	const rounds = 10
	inTx := 0
	var lastSaved int64 // the last run a child reported saved, in any round
	for round := 0; round < rounds && time.Now().Before(deadline); round++ {
		childSeed := rng.Uint64()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=2m")
		cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashSeedEnv+"="+strconv.FormatUint(childSeed, 10))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()

		// Half the rounds kill at a random time after the child got going;
		// the other half right after it reports being inside a SaveRun
		// transaction, so that the kill lands before or during the commit.
		var (
			mode      string
			lastLine  string
			timeout   = time.After(20 * time.Second)
			deadAlone = false
		)
		wantCommits := 1 + rng.IntN(4)
		killAfter := time.Duration(rng.IntN(300)) * time.Millisecond
		var killAt <-chan time.Time
		if round%2 == 0 {
			mode = fmt.Sprintf("at random time %v after the first save", killAfter)
		} else {
			mode = fmt.Sprintf("inside the transaction of save #%d", wantCommits)
		}
	wait:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					deadAlone = true
					break wait
				}
				lastLine = line
				if id, ok := strings.CutPrefix(line, "saved "); ok {
					lastSaved, _ = strconv.ParseInt(id, 10, 64)
					if round%2 == 0 && killAt == nil {
						killAt = time.After(killAfter)
					}
				}
				if strings.HasPrefix(line, "commit ") && round%2 == 1 {
					if wantCommits--; wantCommits == 0 {
						time.Sleep(time.Duration(rng.IntN(1000)) * time.Microsecond)
						break wait
					}
				}
			case <-killAt:
				break wait
			case <-timeout:
				break wait
			}
		}
		if deadAlone {
			cmd.Wait()
			t.Fatalf("round %d: the child exited by itself: %s", round, stderr.String())
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		for line := range lines { // what the child wrote before it died
			lastLine = line
			if id, ok := strings.CutPrefix(line, "saved "); ok {
				lastSaved, _ = strconv.ParseInt(id, 10, 64)
			}
		}
		if strings.HasPrefix(lastLine, "commit ") {
			inTx++
		}
		if lastLine == "" {
			t.Fatalf("round %d: the child wrote nothing before it was killed (%s)", round, stderr.String())
		}
		t.Logf("round %d: killed %s; last line %q", round, mode, lastLine)
		verifyAfterCrash(t, path, lastSaved)
	}
	t.Logf("%d of %d kills landed inside a SaveRun transaction", inTx, rounds)
	if inTx == 0 {
		t.Error("no kill landed inside a transaction: the test did not test what it claims")
	}
}

// verifyAfterCrash opens the store as the next process would and checks that
// it is intact, that every run in it is whole, that the last run the child
// reported saved survived, and that a new run can be saved.
func verifyAfterCrash(t *testing.T, path string, lastSaved int64) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()

	var integrity string
	if err := s.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	if n := count(t, s, `SELECT count(*) FROM pragma_foreign_key_check`); n != 0 {
		t.Fatalf("%d foreign key violations", n)
	}
	if _, err := s.Run(ctx, lastSaved); lastSaved != 0 && err != nil {
		t.Errorf("run %d, reported saved before the kill, is gone: %v", lastSaved, err)
	}

	sums, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sum := range sums {
		runs, err := s.Runs(ctx, sum.Tenant, 0)
		if err != nil {
			t.Fatal(err)
		}
		total += len(runs)
		for i, r := range runs {
			raw, err := s.Snapshot(ctx, r.ID)
			if err != nil {
				t.Fatalf("run %d: %v", r.ID, err)
			}
			var snap crashSnapshot
			if err := json.Unmarshal(raw, &snap); err != nil {
				t.Fatalf("run %d: snapshot: %v", r.ID, err)
			}
			res, err := s.Results(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			drift, err := s.Drift(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			outbox := count(t, s, `SELECT count(*) FROM outbox WHERE run_id = ?`, r.ID)
			if snap.Tenant != r.Tenant || len(res) != snap.Results || r.Results != snap.Results ||
				len(drift) != snap.Drift || r.DriftEvents != snap.Drift || outbox != snap.Outbox {
				t.Fatalf("run %d incomplete: tenant %s/%s, results %d/%d (recorded %d), drift %d/%d, outbox %d/%d",
					r.ID, r.Tenant, snap.Tenant, len(res), snap.Results, r.Results, len(drift), snap.Drift, outbox, snap.Outbox)
			}
			for j, cr := range res {
				if cr.Check.ID != snap.Checks[j] || len(cr.Findings) != 1 {
					t.Fatalf("run %d: result %d is %s, want %s", r.ID, j, cr.Check.ID, snap.Checks[j])
				}
			}
			// Alert state is written with its run: the latest run's checks
			// carry its sequence number.
			if i == 0 {
				states, err := s.AlertStates(ctx, r.Tenant)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range snap.Checks {
					if got := states[id].ThreadKey; got != strconv.FormatInt(snap.Seq, 10) {
						t.Fatalf("%s: alert state of %s is from run seq %s, last run is seq %d", r.Tenant, id, got, snap.Seq)
					}
				}
			}
		}
	}
	if total == 0 {
		t.Fatal("no runs survived")
	}
	// The next run starts clean.
	rec := crashRecord(rand.New(rand.NewPCG(uint64(lastSaved), 0)), "acme", time.Now().UnixNano(), json.RawMessage(`{}`))
	if _, err := s.SaveRun(ctx, rec); err != nil {
		t.Fatalf("SaveRun after the kill: %v", err)
	}
}
