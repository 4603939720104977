package cli_test

// Black-box tests of `ticketguard baseline`, against the store of
// storefixture_test.go (where run 1 of acme is the approved baseline).

import (
	"fmt"
	"strings"
	"testing"
)

func TestBaselineShow(t *testing.T) {
	db, fx := historyStore(t)
	r := ticketguard(t, "baseline", "show", "acme", "--store", db)
	if r.code != 0 {
		t.Fatalf("want exit 0:\n%s", r)
	}
	for _, want := range []string{
		fmt.Sprintf("Baseline of acme: run %d, started 2026-11-27 06:00 UTC (ok)\n", fx.acme[0]),
		fmt.Sprintf("Latest run %d (started 2026-11-30 06:00 UTC) drifted from the baseline: 1 object changed, 0 added, 0 removed\n", fx.acme[3]),
		"mailbox \"Support\" <support@contosodental.com>\n  DeliverToMailboxAndForward true → false\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("baseline show lacks %q:\n%s", want, r.stdout)
		}
	}
	// Drift against the previous run is not drift against the baseline.
	if strings.Contains(r.stdout, "AutoForwardingMode") {
		t.Errorf("drift against the previous run shown as drift against the baseline:\n%s", r.stdout)
	}

	r = ticketguard(t, "baseline", "show", "zeta", "--store", db)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "zeta has no approved baseline") {
		t.Errorf("no baseline: want exit 1 and a pointer to approve:\n%s", r)
	}
}

func TestBaselineApprove(t *testing.T) {
	db, fx := historyStore(t)

	// Default: the latest run with a snapshot, skipping the failed run if it
	// were the latest; here the latest run itself.
	r := ticketguard(t, "baseline", "approve", "acme", "--store", db, "--by", "Jane Doe")
	want := fmt.Sprintf("Approved run %d of acme (started 2026-11-30 06:00 UTC) as its baseline, by Jane Doe; it replaces run %d.\n", fx.acme[3], fx.acme[0])
	if r.code != 0 || !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("want exit 0 and %q:\n%s", want, r)
	}
	r = ticketguard(t, "baseline", "show", "acme", "--store", db)
	if !strings.Contains(r.stdout, fmt.Sprintf("Baseline of acme: run %d,", fx.acme[3])) || !strings.Contains(r.stdout, "The latest run is the baseline.") {
		t.Errorf("after approving the latest run:\n%s", r)
	}
	if r := ticketguard(t, "history", "acme", "--store", db); !strings.Contains(r.stdout, fmt.Sprintf("; baseline: run %d\n", fx.acme[3])) {
		t.Errorf("history does not name the new baseline:\n%s", r.stdout)
	}

	// An earlier run, by id.
	r = ticketguard(t, "baseline", "approve", "acme", "--store", db, "--run", fmt.Sprint(fx.acme[1]), "--by", "ops")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Approved run %d of acme", fx.acme[1])) {
		t.Errorf("approve --run:\n%s", r)
	}
	r = ticketguard(t, "baseline", "show", "acme", "--store", db)
	if !strings.Contains(r.stdout, fmt.Sprintf("Baseline of acme: run %d,", fx.acme[1])) || !strings.Contains(r.stdout, "1 fail") {
		t.Errorf("baseline show after approving run %d:\n%s", fx.acme[1], r)
	}
}

func TestBaselineApproveRefuses(t *testing.T) {
	db, fx := historyStore(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--run", fmt.Sprint(fx.acme[2])}, fmt.Sprintf("run %d of acme (failed) stored no snapshot", fx.acme[2])},
		{[]string{"--run", "9999"}, "no run 9999 in"},
		{[]string{"--run", fmt.Sprint(fx.zeta)}, fmt.Sprintf("run %d is a run of zeta, not of acme", fx.zeta)},
	} {
		args := append([]string{"baseline", "approve", "acme", "--store", db}, tc.args...)
		r := ticketguard(t, args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit 2 and %q:\n%s", tc.args, tc.want, r)
		}
	}
	// Nothing was changed by the refusals.
	if r := ticketguard(t, "baseline", "show", "acme", "--store", db); !strings.Contains(r.stdout, fmt.Sprintf("Baseline of acme: run %d,", fx.acme[0])) {
		t.Errorf("a refused approval changed the baseline:\n%s", r)
	}

	if r := ticketguard(t, "baseline", "approve", "nope", "--store", db); r.code != 2 || !strings.Contains(r.stderr, `unknown tenant "nope"`) {
		t.Errorf("unknown tenant:\n%s", r)
	}
	if r := ticketguard(t, "baseline", "show", "nope", "--store", db); r.code != 2 || !strings.Contains(r.stderr, `unknown tenant "nope"`) {
		t.Errorf("unknown tenant:\n%s", r)
	}
	missing := t.TempDir() + "/none.db"
	for _, sub := range []string{"approve", "show"} {
		if r := ticketguard(t, "baseline", sub, "acme", "--store", missing); r.code != 2 || !strings.Contains(r.stderr, "no history yet") {
			t.Errorf("baseline %s with no store:\n%s", sub, r)
		}
	}
}
