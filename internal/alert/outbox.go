package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers"
)

// Renderer turns a digest into a message for one receiver
// (notifiers/slack.Renderer).
type Renderer interface {
	Render(d notifiers.Digest) (notifiers.Message, error)
}

// Outbox renders the decision into the outbox message the caller saves with
// the run (store.RunRecord.Outbox), so that the message and the alert state
// it accounts for are committed together. channel is the tenant's channel
// ("" for the receiver's default); now is the run's evaluation time, which
// makes the message due at once.
//
// A message that announces new failures or new indeterminate results starts
// the tenant's thread; one that follows up (resolved checks, with the drift
// that resolved them, or the repeat reminder) is a reply in it; drift and
// waiver notices alone are posted on their own without moving the thread, so
// replies stay under the alert they follow up.
//
// The thread is the tenant's (ThreadKey is the tenant name) and lives in
// the channel its first message went to: after a tenant is moved to another
// channel, follow-ups still reply in the old thread until the next alert
// starts one in the new channel.
func Outbox(d Decision, r Renderer, channel string, now time.Time) (store.OutboxMessage, error) {
	if !d.Send() {
		return store.OutboxMessage{}, errors.New("alert: nothing to send")
	}
	m, err := r.Render(d.Digest)
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("alert: render %s: %w", d.Digest.Tenant, err)
	}
	m.Tenant = d.Digest.Tenant
	m.Channel = channel
	m.ThreadKey = d.Digest.Tenant
	switch {
	case len(d.Digest.NewFailures) > 0 || len(d.Digest.NewIndeterminate) > 0:
		m.Thread = notifiers.ThreadStart
	case d.Digest.OnlyFollowUp(), len(d.Digest.Resolved) > 0:
		// A fix is itself a drift (the setting that failed changed):
		// "resolved" still belongs under the alert it resolves.
		m.Thread = notifiers.ThreadReply
	default:
		m.Thread = notifiers.ThreadNone
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("alert: encode message for %s: %w", d.Digest.Tenant, err)
	}
	return store.OutboxMessage{
		Tenant:        d.Digest.Tenant,
		Kind:          kind(d.Reasons),
		Payload:       payload,
		CreatedAt:     now,
		NextAttemptAt: now,
	}, nil
}

// kind names the message in the outbox by its main reason.
func kind(reasons []Reason) string {
	for _, r := range reasons {
		switch r {
		case ReasonFirstRun:
			continue
		case ReasonNewFailures, ReasonNewIndeterminate:
			return "alert"
		case ReasonDrift:
			return "drift"
		case ReasonResolved:
			return "resolved"
		case ReasonWaiverExpiring:
			return "waiver"
		case ReasonRepeat:
			return "repeat"
		}
	}
	return "alert"
}
