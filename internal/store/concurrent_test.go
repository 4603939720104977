package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// Readers (the status page, `ticketguard history`) run while runs are being
// written, and always see whole runs.
func TestConcurrentReadersWhileWriting(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	snap := realisticSnapshot(t, 200<<10)
	statuses := map[string]result.Status{}
	for i := range 13 {
		statuses[fmt.Sprintf("check-%02d", i)] = result.Fail
	}
	const runs = 40
	tenants := []string{"acme", "globex", "initech"}

	var (
		done     atomic.Bool
		reads    atomic.Int64
		wg       sync.WaitGroup
		errsMu   sync.Mutex
		readErrs []error
	)
	fail := func(err error) {
		errsMu.Lock()
		readErrs = append(readErrs, err)
		errsMu.Unlock()
	}
	checkGone := func(id int64) {
		if _, err := s.Run(ctx, id); !errors.Is(err, ErrNotFound) {
			fail(fmt.Errorf("run %d lost its rows but not itself: %v", id, err))
		}
	}
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				tenant := tenants[r%len(tenants)]
				last, ok, err := s.LastRun(ctx, tenant)
				if err != nil {
					fail(err)
					return
				}
				if ok {
					// Between two calls the writer may have pruned the run:
					// then it is gone as a whole, never in part.
					res, err := s.Results(ctx, last.ID)
					if errors.Is(err, ErrNotFound) {
						checkGone(last.ID)
						continue
					}
					if err != nil {
						fail(err)
						return
					}
					if len(res) != last.Results || len(res) != 13 {
						fail(fmt.Errorf("run %d: %d results read, %d recorded", last.ID, len(res), last.Results))
					}
					got, err := s.Snapshot(ctx, last.ID)
					if errors.Is(err, ErrNotFound) {
						checkGone(last.ID)
						continue
					}
					if err != nil {
						fail(err)
						return
					}
					if len(got) != len(snap) {
						fail(fmt.Errorf("run %d: snapshot of %d bytes, want %d", last.ID, len(got), len(snap)))
					}
				}
				sums, err := s.Tenants(ctx)
				if err != nil {
					fail(err)
					return
				}
				for _, sum := range sums {
					if len(sum.Checks) != sum.LastRun.Results {
						fail(fmt.Errorf("%s: %d checks for a run recording %d", sum.Tenant, len(sum.Checks), sum.LastRun.Results))
					}
				}
				reads.Add(1)
			}
		}()
	}

	start := time.Now()
	for i := range runs {
		rec := record(tenants[i%len(tenants)], t0.Add(time.Duration(i)*time.Minute), statuses)
		rec.Snapshot = snap
		if _, err := s.SaveRun(ctx, rec); err != nil {
			t.Error(err)
			break
		}
		if i%5 == 4 {
			if _, err := s.Prune(ctx, tenants[i%len(tenants)], 2, 0, t0); err != nil {
				t.Error(err)
			}
		}
	}
	writeTime := time.Since(start)
	done.Store(true)
	wg.Wait()

	if err := errors.Join(readErrs...); err != nil {
		t.Fatal(err)
	}
	if reads.Load() < 4 {
		t.Errorf("only %d read rounds completed while %d runs were written in %v", reads.Load(), runs, writeTime)
	}
	t.Logf("%d runs written in %v alongside %d read rounds", runs, writeTime, reads.Load())
}

// Two writers in the same process queue on the one writer connection instead
// of failing with SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := s.SaveRun(ctx, record(fmt.Sprintf("t%d", w), t0.Add(time.Duration(i)*time.Minute), map[string]result.Status{"a": result.Pass})); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(t, s, "SELECT count(*) FROM runs"); n != 40 {
		t.Errorf("%d runs, want 40", n)
	}
}

// A second process (the CLI while `serve` runs) writes to the same file.
func TestTwoStoresOnOneFile(t *testing.T) {
	ctx := context.Background()
	s, path := openTestStore(t)
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	id := mustSave(t, s, record("acme", t0, nil))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			if _, err := s.SaveRun(ctx, record("acme", t0.Add(time.Duration(i+1)*time.Minute), nil)); err != nil {
				t.Error(err)
			}
		}
	}()
	if err := other.ApproveBaseline(ctx, "acme", id, "cli"); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if got, ok, err := s.Baseline(ctx, "acme"); got != id || !ok || err != nil {
		t.Errorf("baseline seen by the first store = %d, %v, %v", got, ok, err)
	}
}
