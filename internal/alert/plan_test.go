package alert

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
)

var t0 = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

func res(id string, s result.Status) result.CheckResult {
	return result.CheckResult{Check: result.Check{ID: id, Title: id, Severity: result.SeverityError}, Status: s}
}

func waived(id, expires string) result.CheckResult {
	r := res(id, result.Waived)
	r.Waiver = &result.Waiver{Reason: "accepted", Expires: expires, Status: result.Fail}
	return r
}

func prevState(pairs ...any) map[string]store.AlertState {
	m := map[string]store.AlertState{}
	for i := 0; i < len(pairs); i += 3 {
		id := pairs[i].(string)
		m[id] = store.AlertState{Tenant: "acme", CheckID: id, Status: pairs[i+1].(result.Status), LastNotifiedAt: pairs[i+2].(time.Time)}
	}
	return m
}

func ids(rs []result.CheckResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Check.ID)
	}
	return out
}

func plan(prev map[string]store.AlertState, now time.Time, results ...result.CheckResult) Decision {
	return Plan(Input{Tenant: result.Tenant{Name: "acme", Results: results}, Prev: prev, Now: now, Repeat: 24 * time.Hour})
}

func stateOf(d Decision, id string) store.AlertState {
	for _, s := range d.State {
		if s.CheckID == id {
			return s
		}
	}
	return store.AlertState{}
}

func TestPlanFirstRun(t *testing.T) {
	d := plan(nil, t0, res("a", result.Pass), res("b", result.Fail), res("c", result.Indeterminate), res("d", result.Warn))
	if want := []Reason{ReasonFirstRun, ReasonNewFailures, ReasonNewIndeterminate}; !reflect.DeepEqual(d.Reasons, want) {
		t.Errorf("reasons = %v, want %v", d.Reasons, want)
	}
	if got := ids(d.Digest.NewFailures); !reflect.DeepEqual(got, []string{"b", "d"}) {
		t.Errorf("new failures = %v", got)
	}
	if got := ids(d.Digest.NewIndeterminate); !reflect.DeepEqual(got, []string{"c"}) {
		t.Errorf("new indeterminate = %v", got)
	}
	if len(d.State) != 4 {
		t.Fatalf("state has %d rows, want one per check", len(d.State))
	}
	if s := stateOf(d, "a"); s.Status != result.Pass || !s.LastNotifiedAt.IsZero() || s.Tenant != "acme" || s.ThreadKey != "acme" {
		t.Errorf("state of a passing check = %+v", s)
	}
	if s := stateOf(d, "b"); s.Status != result.Fail || !s.LastNotifiedAt.Equal(t0) {
		t.Errorf("state of an announced failure = %+v", s)
	}
}

func TestPlanFirstRunAllPass(t *testing.T) {
	d := plan(nil, t0, res("a", result.Pass), res("b", result.NotApplicable))
	if d.Send() || d.Why() != "nothing to send" {
		t.Errorf("all pass on the first run: %s, want nothing to send", d.Why())
	}
	if len(d.State) != 2 {
		t.Errorf("state not recorded: %+v", d.State)
	}
}

func TestPlanTransitions(t *testing.T) {
	before := t0.Add(-time.Hour)
	tests := []struct {
		name    string
		prev    result.Status
		now     result.CheckResult
		reasons []Reason
	}{
		{"unchanged failure", result.Fail, res("x", result.Fail), nil},
		{"fail to warn is unchanged", result.Fail, res("x", result.Warn), nil},
		{"unchanged pass", result.Pass, res("x", result.Pass), nil},
		{"pass to not applicable", result.Pass, res("x", result.NotApplicable), nil},
		{"unchanged indeterminate", result.Indeterminate, res("x", result.Indeterminate), nil},
		{"pass to fail", result.Pass, res("x", result.Fail), []Reason{ReasonNewFailures}},
		{"waived to fail (waiver expired)", result.Waived, res("x", result.Fail), []Reason{ReasonNewFailures}},
		{"indeterminate to fail", result.Indeterminate, res("x", result.Fail), []Reason{ReasonNewFailures}},
		{"fail to indeterminate", result.Fail, res("x", result.Indeterminate), []Reason{ReasonNewIndeterminate}},
		{"fail to pass", result.Fail, res("x", result.Pass), []Reason{ReasonResolved}},
		{"warn to not applicable", result.Warn, res("x", result.NotApplicable), []Reason{ReasonResolved}},
		{"fail to waived", result.Fail, waived("x", "2027-06-30"), []Reason{ReasonResolved}},
		{"indeterminate to pass", result.Indeterminate, res("x", result.Pass), []Reason{ReasonResolved}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev := prevState("x", tc.prev, before, "other", result.Pass, time.Time{})
			d := plan(prev, t0, tc.now, res("other", result.Pass))
			if !reflect.DeepEqual(d.Reasons, tc.reasons) {
				t.Fatalf("reasons = %v, want %v", d.Reasons, tc.reasons)
			}
			s := stateOf(d, "x")
			if s.Status != tc.now.Status {
				t.Errorf("state status = %s, want %s", s.Status, tc.now.Status)
			}
			wantNotified := before
			switch {
			case tc.reasons != nil:
				wantNotified = t0
			case classOf(tc.prev) != classOf(tc.now.Status):
				wantNotified = time.Time{}
			}
			if !s.LastNotifiedAt.Equal(wantNotified) {
				t.Errorf("last notified = %v, want %v", s.LastNotifiedAt, wantNotified)
			}
			if slices.Contains(tc.reasons, ReasonResolved) && d.Digest.Resolved[0].Was != tc.prev {
				t.Errorf("resolved was %s, want %s", d.Digest.Resolved[0].Was, tc.prev)
			}
		})
	}
}

// TestPlanMissingCheckNotResolved: a failed collection that produced no
// result for a check must not announce it fixed.
func TestPlanMissingCheckNotResolved(t *testing.T) {
	prev := prevState("a", result.Fail, t0.Add(-time.Hour), "b", result.Pass, time.Time{})
	d := plan(prev, t0, res("b", result.Pass))
	if d.Send() {
		t.Fatalf("sent %s for a check with no result", d.Why())
	}
	if s := stateOf(d, "a"); s.CheckID != "" {
		t.Errorf("state of the missing check rewritten: %+v", s)
	}
	// An empty run (collection failed outright) says nothing either.
	if d := plan(prev, t0); d.Send() || len(d.State) != 0 {
		t.Errorf("empty run: %s, state %+v", d.Why(), d.State)
	}
}

func TestPlanIndeterminateNamesSourceErrors(t *testing.T) {
	errs := []result.SourceError{{Source: "Get-Mailbox", Message: "403"}}
	in := Input{Tenant: result.Tenant{Name: "acme", Errors: errs, Results: []result.CheckResult{res("a", result.Indeterminate)}},
		Prev: prevState("a", result.Pass, time.Time{}), Now: t0}
	d := Plan(in)
	if !reflect.DeepEqual(d.Digest.SourceErrors, errs) {
		t.Errorf("source errors = %+v", d.Digest.SourceErrors)
	}
}

func TestPlanRepeat(t *testing.T) {
	announced := t0.Add(-23 * time.Hour)
	prev := prevState("a", result.Fail, announced, "b", result.Indeterminate, t0.Add(-2*time.Hour), "c", result.Pass, time.Time{})
	results := []result.CheckResult{res("a", result.Fail), res("b", result.Indeterminate), res("c", result.Pass)}

	if d := plan(prev, t0, results...); d.Send() {
		t.Fatalf("23h after: %s, want nothing", d.Why())
	}
	d := plan(prev, announced.Add(24*time.Hour), results...)
	if !reflect.DeepEqual(d.Reasons, []Reason{ReasonRepeat}) {
		t.Fatalf("24h after: reasons %v, want repeat", d.Reasons)
	}
	// Everything that still needs attention, not only what is due.
	if got := ids(d.Digest.StillFailing); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("still failing = %v", got)
	}
	for _, id := range []string{"a", "b"} {
		if s := stateOf(d, id); !s.LastNotifiedAt.Equal(announced.Add(24 * time.Hour)) {
			t.Errorf("%s: last notified %v, want the repeat time", id, s.LastNotifiedAt)
		}
	}
	if !d.Digest.OnlyFollowUp() {
		t.Error("a repeat alone is not a follow-up")
	}

	// Repeat 0: never.
	in := Input{Tenant: result.Tenant{Name: "acme", Results: results}, Prev: prev, Now: t0.Add(1000 * time.Hour)}
	if d := Plan(in); d.Send() {
		t.Errorf("repeat 0: %s", d.Why())
	}
}

func TestPlanDrift(t *testing.T) {
	changes := []drift.Change{{Kind: "mailbox", Key: "mailbox:1", Label: "Support", Property: "DeliverToMailboxAndForward", Change: drift.Changed, Before: true, After: false}}
	in := Input{Tenant: result.Tenant{Name: "acme", Results: []result.CheckResult{res("a", result.Pass)}},
		Drift: changes, Prev: prevState("a", result.Pass, time.Time{}), Now: t0}
	d := Plan(in)
	if !reflect.DeepEqual(d.Reasons, []Reason{ReasonDrift}) || len(d.Digest.Drift) != 1 {
		t.Errorf("drift: reasons %v, digest drift %v", d.Reasons, d.Digest.Drift)
	}
}

func TestPlanWaiverExpiring(t *testing.T) {
	prev := prevState("a", result.Waived, t0.Add(-30*24*time.Hour))
	// Expires 2026-12-10: warned from 2026-12-04 00:00 (7 days before the end of the 10th).
	r := waived("a", "2026-12-10")

	if d := plan(prev, t0, r); d.Send() {
		t.Fatalf("13 days ahead: %s", d.Why())
	}
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	d := plan(prev, now, r)
	if !reflect.DeepEqual(d.Reasons, []Reason{ReasonWaiverExpiring}) || len(d.Digest.ExpiringWaivers) != 1 {
		t.Fatalf("in the window: reasons %v", d.Reasons)
	}
	row := stateOf(d, "waiver:a")
	if !row.LastNotifiedAt.Equal(now) {
		t.Fatalf("waiver announcement not remembered: %+v", d.State)
	}
	// Next runs in the same window: announced already.
	prev["waiver:a"] = row
	if d := plan(prev, now.Add(48*time.Hour), r); d.Send() {
		t.Errorf("announced twice: %s", d.Why())
	}
	// Renewed to a later date: quiet until its own window, then announced again.
	renewed := waived("a", "2027-01-31")
	if d := plan(prev, now.Add(48*time.Hour), renewed); d.Send() {
		t.Errorf("renewed waiver announced early: %s", d.Why())
	}
	if d := plan(prev, time.Date(2027, 1, 26, 0, 0, 0, 0, time.UTC), renewed); !slices.Contains(d.Reasons, ReasonWaiverExpiring) {
		t.Errorf("renewed waiver not announced in its window: %v", d.Reasons)
	}
	// On the day after the last day it no longer applies: the check fails (not our concern here).
	if d := plan(prev, time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC), r); slices.Contains(d.Reasons, ReasonWaiverExpiring) {
		t.Error("an ended waiver announced as ending")
	}
}

// TestPlanWaiverResolvingIsNotAlsoExpiring: a check waived this run with a
// waiver that ends soon is one "resolved" line, not two announcements.
func TestPlanWaiverResolvingIsNotAlsoExpiring(t *testing.T) {
	prev := prevState("a", result.Fail, t0.Add(-time.Hour))
	d := plan(prev, t0, waived("a", "2026-11-30"))
	if !reflect.DeepEqual(d.Reasons, []Reason{ReasonResolved}) || len(d.Digest.ExpiringWaivers) != 0 {
		t.Errorf("reasons %v, expiring %v", d.Reasons, ids(d.Digest.ExpiringWaivers))
	}
	if row := stateOf(d, "waiver:a"); !row.LastNotifiedAt.Equal(t0) {
		t.Errorf("the expiry shown in the resolved line is not remembered: %+v", row)
	}
}

// stateMap turns a decision's state into the Prev of the next run, as the
// store would hand it back.
func stateMap(d Decision) map[string]store.AlertState {
	m := map[string]store.AlertState{}
	for _, s := range d.State {
		m[s.CheckID] = s
	}
	return m
}

// A collection outage between two runs that both see the same failure must
// not announce that failure again as new (in a new thread), and when the
// check later passes the resolution names the failure, not the outage.
func TestPlanOutageDoesNotReannounceFailures(t *testing.T) {
	first := plan(nil, t0, res("a", result.Fail), res("b", result.Pass))
	if got := ids(first.Digest.NewFailures); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("first run new failures = %v", got)
	}
	outage := plan(stateMap(first), t0.Add(time.Hour), res("a", result.Indeterminate), res("b", result.Indeterminate))
	if got := ids(outage.Digest.NewIndeterminate); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("outage: new indeterminate = %v, want a and b", got)
	}
	still := plan(stateMap(outage), t0.Add(2*time.Hour), res("a", result.Indeterminate), res("b", result.Indeterminate))
	if len(still.Reasons) != 0 {
		t.Errorf("an unchanged outage must send nothing, got %v", still.Reasons)
	}
	back := plan(stateMap(still), t0.Add(3*time.Hour), res("a", result.Fail), res("b", result.Pass))
	if len(back.Digest.NewFailures) != 0 {
		t.Errorf("failure a was announced before the outage; announced again as new: %v", ids(back.Digest.NewFailures))
	}
	if len(back.Digest.Resolved) != 1 || back.Digest.Resolved[0].Result.Check.ID != "b" {
		t.Errorf("b is evaluated again after the outage: resolved = %+v", back.Digest.Resolved)
	}
	fixed := plan(stateMap(outage), t0.Add(3*time.Hour), res("a", result.Pass), res("b", result.Pass))
	var was result.Status
	for _, r := range fixed.Digest.Resolved {
		if r.Result.Check.ID == "a" {
			was = r.Was
		}
	}
	if was != result.Fail {
		t.Errorf("a fixed during the outage resolves from %q, want fail", was)
	}
	if s := stateOf(fixed, heldKeyPrefix+"a"); s.Status != "" {
		t.Errorf("the held failure must be cleared once a passes, got %+v", s)
	}
}
