package store

import (
	"encoding/json"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// Outcome is how a run ended.
type Outcome string

const (
	OutcomeOK      Outcome = "ok"      // collected and evaluated
	OutcomeFailed  Outcome = "failed"  // nothing usable was collected (auth, timeout)
	OutcomePartial Outcome = "partial" // evaluated, but some sources failed
)

func (o Outcome) valid() bool {
	return o == OutcomeOK || o == OutcomeFailed || o == OutcomePartial
}

// Run is one collection and evaluation of one tenant.
type Run struct {
	ID         int64
	Tenant     string
	StartedAt  time.Time
	FinishedAt time.Time
	Outcome    Outcome
	// API request counters from the collectors.
	Requests  int
	Retries   int
	Throttled int
	// Error says why the run failed or is partial. The caller redacts it: the
	// store keeps it as given (bounded in length).
	Error string

	// Set by the store when reading.
	Results     int  // number of check results stored with the run
	DriftEvents int  // number of drift events stored with the run
	HasSnapshot bool // a snapshot is stored with the run
}

// Duration is how long the run took.
func (r Run) Duration() time.Duration { return r.FinishedAt.Sub(r.StartedAt) }

// Against names what a drift event compares the run with.
type Against string

const (
	AgainstPrevious Against = "previous" // the tenant's previous run
	AgainstBaseline Against = "baseline" // the approved baseline run
)

// Change is the kind of a drift event.
type Change string

const (
	ChangeAdded   Change = "added"
	ChangeRemoved Change = "removed"
	ChangeChanged Change = "changed"
)

// DriftEvent is one difference between a run's snapshot and an earlier one,
// as the drift package computed it. The store keeps it as given.
type DriftEvent struct {
	Against Against
	// AgainstRunID is the run compared with (0 when unknown). It is not a
	// foreign key: the previous run may be pruned later.
	AgainstRunID int64
	ObjectKind   string // e.g. "mailbox"
	ObjectKey    string // resolved identity, e.g. "mailbox:b044d25e-..."
	ObjectLabel  string // human description
	Property     string // empty when the whole object was added or removed
	// Before and After are JSON values; nil for the side that does not exist.
	Before json.RawMessage
	After  json.RawMessage
	Change Change
}

// AlertState is what was last announced for one check of one tenant.
type AlertState struct {
	Tenant         string // defaults to the run's tenant in SaveRun
	CheckID        string
	Status         result.Status
	LastNotifiedAt time.Time // zero: never notified
	ThreadKey      string    // opaque to the store
}

// Thread is the Slack thread a tenant's messages reply in.
type Thread struct {
	Channel string
	TS      string
}

// OutboxMessage is a message to deliver at least once. The store does not
// look inside Payload.
type OutboxMessage struct {
	ID            int64  // set by the store
	Tenant        string // defaults to the run's tenant in SaveRun
	RunID         int64  // set by SaveRun; 0 for a message outside a run
	Kind          string // e.g. "alert", "resolved", "drift"
	Payload       json.RawMessage
	CreatedAt     time.Time // defaults to now
	Attempts      int
	NextAttemptAt time.Time // defaults to CreatedAt: due at once
	LastError     string
	SentAt        time.Time // zero while unsent
	SlackTS       string
	AbandonedAt   time.Time // zero unless given up on
}

// RunRecord is everything one run writes, saved by SaveRun in one transaction.
type RunRecord struct {
	Run Run
	// Snapshot is the collected snapshot JSON; nil when nothing was collected.
	Snapshot   []byte
	Results    []result.CheckResult
	Drift      []DriftEvent
	Outbox     []OutboxMessage
	AlertState []AlertState
}

// StatusChange is a check whose status differs from the one it had in the
// tenant's previous stored run that evaluated it.
type StatusChange struct {
	RunID   int64
	At      time.Time // the run's start
	CheckID string
	From    result.Status // empty the first time the check was seen
	To      result.Status
}

// CheckStatus is the status of one check in a run.
type CheckStatus struct {
	CheckID  string
	Status   result.Status
	Severity result.Severity
}

// TenantSummary is a tenant's latest run, for the status page.
type TenantSummary struct {
	Tenant  string
	LastRun Run
	Checks  []CheckStatus // in the order the engine returned them
	// BaselineRunID is the approved baseline run, 0 when none.
	BaselineRunID int64
}

// Failing lists the checks of the last run that failed or warned.
func (t TenantSummary) Failing() []string {
	var ids []string
	for _, c := range t.Checks {
		if c.Status == result.Fail || c.Status == result.Warn {
			ids = append(ids, c.CheckID)
		}
	}
	return ids
}

// Counts counts the last run's checks by status.
func (t TenantSummary) Counts() map[result.Status]int {
	m := map[result.Status]int{}
	for _, c := range t.Checks {
		m[c.Status]++
	}
	return m
}
