// Package alert decides what a run of `ticketguard serve` tells people, and
// delivers it.
//
// It is Alertmanager's notification pipeline cut to ticketguard's size:
//
//   - Plan is the dedup stage: from what was last announced per check (the
//     store's alert state) and this run's results and drift, it decides
//     whether anything is worth a message, and why (first run, new
//     failures, new indeterminate results, drift, newly resolved, a waiver
//     ending soon, the repeat interval elapsed), or that there is nothing
//     to send. Its now is an input, so tests move time.
//   - Outbox turns the decision into an outbox message, rendered by a
//     receiver (notifiers/slack) and saved by the caller with the run, in
//     the run's transaction: the alert state and the message that accounts
//     for it are committed together or not at all.
//   - Deliverer is the retry stage: it sends what the outbox holds, marks
//     it, and schedules retries (Retry-After, exponential backoff with
//     jitter). Receivers only classify responses.
package alert

import (
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers"
)

// DefaultWaiverWarning is how long before a waiver ends it is announced.
const DefaultWaiverWarning = 7 * 24 * time.Hour

// waiverKeyPrefix marks the alert-state rows that remember an announced
// waiver expiry; check ids cannot contain ':'.
const waiverKeyPrefix = "waiver:"

// heldKeyPrefix keys the alert-state row that remembers a check's failure
// while the check is indeterminate (its data could not be collected).
const heldKeyPrefix = "held:"

// Reason says why a message is sent.
type Reason string

const (
	ReasonFirstRun         Reason = "first run"
	ReasonNewFailures      Reason = "new failures"
	ReasonNewIndeterminate Reason = "new indeterminate results"
	ReasonDrift            Reason = "drift"
	ReasonResolved         Reason = "newly resolved"
	ReasonWaiverExpiring   Reason = "waiver expiring"
	ReasonRepeat           Reason = "repeat interval elapsed"
	// ReasonNothing is the decision not to send: nothing changed that has
	// not been announced.
	ReasonNothing Reason = "nothing to send"
)

// Input is one evaluated run of one tenant, and what was announced before.
type Input struct {
	// Tenant is the run's evaluation: name, results (waivers applied),
	// collection errors.
	Tenant result.Tenant
	// Drift is what changed since the tenant's previous run. Pass the
	// changes against the previous run only: drift against a pinned
	// baseline would repeat on every run.
	Drift []drift.Change
	// Prev is what was last announced, keyed by check id (the store's
	// AlertStates for the tenant). Empty on the tenant's first run.
	Prev map[string]store.AlertState
	// Now is the evaluation time.
	Now time.Time
	// Repeat is how long an unchanged failure waits before it is announced
	// again; 0 never repeats.
	Repeat time.Duration
	// WaiverWarning is how long before a waiver ends it is announced;
	// 0 means DefaultWaiverWarning.
	WaiverWarning time.Duration
}

// Decision is what Plan decided.
type Decision struct {
	// Reasons why a message is sent, most important first; empty when
	// there is nothing to send.
	Reasons []Reason
	// Digest is the message's content; empty when there is nothing to send.
	Digest notifiers.Digest
	// State is the alert state to save with the run (store.RunRecord's
	// AlertState), whether or not a message is sent: it records every
	// check's status, and when each was announced.
	State []store.AlertState
}

// Send reports whether there is a message to send.
func (d Decision) Send() bool { return len(d.Reasons) > 0 }

// Why is the reasons as one phrase, for logs: "first run, new failures" or
// "nothing to send".
func (d Decision) Why() string {
	if !d.Send() {
		return string(ReasonNothing)
	}
	s := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// class groups statuses by what they ask of people.
type class int

const (
	classNone   class = iota // never seen
	classOK                  // pass, not applicable, waived: nothing to do
	classFail                // fail, warn: fix something
	classUnsure              // indeterminate: collect the data
)

func classOf(s result.Status) class {
	switch s {
	case result.Fail, result.Warn:
		return classFail
	case result.Indeterminate:
		return classUnsure
	case "":
		return classNone
	default:
		return classOK
	}
}

// Plan decides what to announce for one run.
//
//   - A check that fails (or warns) and did not when last announced is a new
//     failure; one that is indeterminate and was not is new indeterminate.
//     On the first run every failing and indeterminate check is new.
//   - A check that was announced failing or indeterminate and now passes,
//     does not apply or is waived is resolved.
//   - A check that is missing from this run's results is left as it was
//     announced: missing data never resolves anything.
//   - Unchanged failing and indeterminate checks are announced again, all
//     together, once the oldest announcement is Repeat old.
//   - A waiver is announced once when it enters the warning window before
//     it ends (again if it is renewed and later nears its new end).
//   - Any drift is announced.
func Plan(in Input) Decision {
	warn := in.WaiverWarning
	if warn <= 0 {
		warn = DefaultWaiverWarning
	}
	t := in.Tenant
	d := notifiers.Digest{
		Tenant:      t.Name,
		TenantID:    t.TenantID,
		CollectedAt: t.CollectedAt,
		At:          in.Now,
		Summary:     t.Summary(),
		Drift:       in.Drift,
	}
	var (
		states    []store.AlertState
		unchanged []int // indexes into states and t.Results of repeat candidates
		repeatDue bool
	)
	resolvedNow := map[string]bool{}
	var held []store.AlertState // failures remembered through an outage
	for i, r := range t.Results {
		id := r.Check.ID
		prev, had := in.Prev[id]
		was := classOf(prev.Status)
		// A failure that went indeterminate (collection broke) is
		// remembered, so that when the data is back the same failure is
		// not announced as new, in a new thread, all over again.
		hk := heldKeyPrefix + id
		heldFailure := in.Prev[hk]
		if classOf(heldFailure.Status) != classFail {
			heldFailure = store.AlertState{}
		}
		st := store.AlertState{Tenant: t.Name, CheckID: id, Status: r.Status, ThreadKey: t.Name}
		if had && classOf(r.Status) == was {
			st.LastNotifiedAt = prev.LastNotifiedAt
		}
		keepHeld := false
		switch now := classOf(r.Status); {
		case now == classFail && was == classUnsure && heldFailure.Status != "":
			// Back from an outage, still failing: nothing new to say.
			st.LastNotifiedAt = heldFailure.LastNotifiedAt
			unchanged = append(unchanged, i)
			if in.Repeat > 0 && !in.Now.Before(st.LastNotifiedAt.Add(in.Repeat)) {
				repeatDue = true
			}
		case now == classFail && was != classFail:
			d.NewFailures = append(d.NewFailures, r)
			st.LastNotifiedAt = in.Now
		case now == classUnsure && was != classUnsure:
			d.NewIndeterminate = append(d.NewIndeterminate, r)
			st.LastNotifiedAt = in.Now
			if was == classFail {
				heldFailure = prev
				keepHeld = true
			}
		case now == classOK && (was == classFail || was == classUnsure):
			from := prev.Status
			if heldFailure.Status != "" {
				from = heldFailure.Status
			}
			d.Resolved = append(d.Resolved, notifiers.Resolved{Result: r, Was: from})
			st.LastNotifiedAt = in.Now
			resolvedNow[id] = true
		case now == classFail || now == classUnsure:
			keepHeld = now == classUnsure
			unchanged = append(unchanged, i)
			if in.Repeat > 0 && (st.LastNotifiedAt.IsZero() || !in.Now.Before(st.LastNotifiedAt.Add(in.Repeat))) {
				repeatDue = true
			}
		}
		if keepHeld && heldFailure.Status != "" {
			held = append(held, store.AlertState{Tenant: t.Name, CheckID: hk, Status: heldFailure.Status, LastNotifiedAt: heldFailure.LastNotifiedAt, ThreadKey: t.Name})
		} else if _, was := in.Prev[hk]; was {
			// Cleared: an empty status is "nothing held".
			held = append(held, store.AlertState{Tenant: t.Name, CheckID: hk, ThreadKey: t.Name})
		}
		states = append(states, st)
	}
	if repeatDue {
		for _, i := range unchanged {
			d.StillFailing = append(d.StillFailing, t.Results[i])
			states[i].LastNotifiedAt = in.Now
		}
	}
	states = append(states, held...)

	for _, r := range t.Results {
		w := r.Waiver
		if w == nil || w.Expired {
			continue
		}
		day, err := time.Parse("2006-01-02", w.Expires)
		if err != nil {
			continue
		}
		end := day.AddDate(0, 0, 1) // a waiver applies through its expiry day
		from := end.Add(-warn)
		if in.Now.Before(from) || !in.Now.Before(end) {
			continue
		}
		key := waiverKeyPrefix + r.Check.ID
		if prev, ok := in.Prev[key]; ok && !prev.LastNotifiedAt.Before(from) {
			continue // announced in this window already
		}
		if !resolvedNow[r.Check.ID] {
			// A check resolved by this very waiver already says how
			// long it lasts.
			d.ExpiringWaivers = append(d.ExpiringWaivers, r)
		}
		states = append(states, store.AlertState{Tenant: t.Name, CheckID: key, Status: result.Waived, LastNotifiedAt: in.Now, ThreadKey: t.Name})
	}

	var reasons []Reason
	add := func(ok bool, r Reason) {
		if ok {
			reasons = append(reasons, r)
		}
	}
	add(len(in.Prev) == 0 && !d.Empty(), ReasonFirstRun)
	add(len(d.NewFailures) > 0, ReasonNewFailures)
	add(len(d.NewIndeterminate) > 0, ReasonNewIndeterminate)
	add(len(d.Drift) > 0, ReasonDrift)
	add(len(d.Resolved) > 0, ReasonResolved)
	add(len(d.ExpiringWaivers) > 0, ReasonWaiverExpiring)
	add(len(d.StillFailing) > 0, ReasonRepeat)

	if len(d.NewIndeterminate) > 0 {
		d.SourceErrors = t.Errors
	}
	if len(reasons) == 0 {
		return Decision{State: states}
	}
	for _, r := range reasons {
		d.Reasons = append(d.Reasons, string(r))
	}
	return Decision{Reasons: reasons, Digest: d, State: states}
}
