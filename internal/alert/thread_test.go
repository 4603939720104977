package alert_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/alert"
	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers"
	"github.com/ticketguard/ticketguard/notifiers/slack"
)

// A fix is a drift too (the failing setting changed): the message that says
// "resolved" is still a reply under the alert it resolves, whereas drift
// alone is posted on its own.
func TestOutboxThreadOfAFix(t *testing.T) {
	now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	chk := result.Check{ID: "external-forwarding", Title: "External forwarding", Severity: result.SeverityError}
	prev := map[string]store.AlertState{"external-forwarding": {Tenant: "acme", CheckID: "external-forwarding", Status: result.Fail, LastNotifiedAt: now.Add(-time.Hour)}}
	change := []drift.Change{{Kind: "policy", Key: "policy:x", Label: "Atera ticket forwarding", Property: "AutoForwardingMode", Change: drift.Changed, Before: "Automatic", After: "On"}}
	thread := func(status result.Status, changes []drift.Change) notifiers.ThreadMode {
		t.Helper()
		dec := alert.Plan(alert.Input{
			Tenant: result.Tenant{Name: "acme", Results: []result.CheckResult{{Check: chk, Status: status}}},
			Drift:  changes, Prev: prev, Now: now,
		})
		om, err := alert.Outbox(dec, slack.Renderer{}, "#alerts", now)
		if err != nil {
			t.Fatal(err)
		}
		var m notifiers.Message
		if err := json.Unmarshal(om.Payload, &m); err != nil {
			t.Fatal(err)
		}
		return m.Thread
	}
	if got := thread(result.Pass, change); got != notifiers.ThreadReply {
		t.Errorf("resolved with the drift that fixed it: thread %q, want reply", got)
	}
	if got := thread(result.Pass, nil); got != notifiers.ThreadReply {
		t.Errorf("resolved alone: thread %q, want reply", got)
	}
	if got := thread(result.Fail, change); got != notifiers.ThreadNone {
		t.Errorf("drift alone: thread %q, want a post of its own", got)
	}
}
