// Package notifiers is what every receiver of ticketguard alerts shares: the
// message a receiver delivers, the receipt it gives back, the one-method
// Notifier interface, the classification of delivery errors, and the Digest a
// receiver renders into a message.
//
// As in Alertmanager, a receiver only delivers one message and classifies the
// response; deciding what to send (internal/alert's Plan) and retrying
// (internal/alert's Deliverer, through the store's outbox) are stages outside
// it. Receivers live in sub-packages (notifiers/slack) that import this one,
// never the reverse.
package notifiers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
)

// Notifier delivers one message. The error, if any, is classified: a
// *RetryableError is worth trying again (after RetryableError.After when it
// is set), a *RejectedError will never be accepted, and anything else is
// permanent until the configuration changes (a wrong channel, a revoked
// token). Errors never contain a token or a webhook URL.
type Notifier interface {
	Notify(ctx context.Context, m Message) (Receipt, error)
}

// ThreadMode says how a message relates to its tenant's thread.
type ThreadMode string

const (
	// ThreadNone posts the message on its own and leaves the thread as it is.
	ThreadNone ThreadMode = ""
	// ThreadStart posts the message on its own; later replies go under it.
	ThreadStart ThreadMode = "start"
	// ThreadReply posts the message in the thread ThreadKey's last
	// ThreadStart message began; when there is none (or it is in another
	// channel) the message is posted on its own and starts the thread.
	ThreadReply ThreadMode = "reply"
)

// Message is one message to deliver, as stored in the outbox: everything in
// it is plain data, so a message written before a restart is sent the same
// after it.
type Message struct {
	Tenant string `json:"tenant"`
	// Channel is where to post: a channel ID or name. Empty means the
	// receiver's default (for a webhook, always the webhook's own channel).
	Channel string `json:"channel,omitempty"`
	// ThreadKey names the conversation the message belongs to (the tenant);
	// Thread says how it joins it.
	ThreadKey string     `json:"thread_key,omitempty"`
	Thread    ThreadMode `json:"thread,omitempty"`
	// Text is the plain-text fallback: what notifications and clients
	// without Block Kit show.
	Text string `json:"text"`
	// Blocks is the Block Kit "blocks" array, kept as JSON so that this
	// package and the outbox stay free of any Slack library.
	Blocks json.RawMessage `json:"blocks,omitempty"`

	// ReplyTo is the message to reply under, filled in by the deliverer
	// from the tenant's thread just before sending. Not stored.
	ReplyTo *Ref `json:"-"`
	// Update, when set, edits that message instead of posting a new one.
	Update *Ref `json:"update,omitempty"`
}

// Ref identifies a posted message.
type Ref struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// Receipt is what the receiver got back. A webhook returns no channel and no
// TS: its messages cannot be threaded under or updated.
type Receipt struct {
	Channel string
	TS      string
}

// RetryableError is a failure worth retrying: a rate limit (After is the
// receiver's Retry-After), a server error or a network error (After is 0:
// the caller picks the backoff).
type RetryableError struct {
	Err   error
	After time.Duration
}

func (e *RetryableError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
	}
	return e.Err.Error()
}

func (e *RetryableError) Unwrap() error { return e.Err }

// RejectedError is a message the receiver will never accept as it is (too
// long, malformed blocks): retrying it is pointless, whatever the
// configuration.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// Retryable reports whether err is worth retrying and after how long the
// receiver asked to wait (0: no preference).
func Retryable(err error) (bool, time.Duration) {
	var re *RetryableError
	if errors.As(err, &re) {
		return true, re.After
	}
	return false, 0
}

// Rejected reports whether the receiver will never accept the message.
func Rejected(err error) bool {
	var re *RejectedError
	return errors.As(err, &re)
}

// Digest is what one run of one tenant has to tell people, decided by
// internal/alert and rendered by a receiver. Every list is in the order the
// engine returned the checks (drift: in drift.Compare's order).
type Digest struct {
	Tenant      string    `json:"tenant"`
	TenantID    string    `json:"tenant_id,omitempty"`
	CollectedAt time.Time `json:"collected_at"`
	// At is when the run was evaluated: "expires in N days" counts from it.
	At time.Time `json:"at"`
	// Reasons are why the message is sent, most important first.
	Reasons []string `json:"reasons"`

	// NewFailures failed or warned, and did not the last time they were
	// announced (or were never announced).
	NewFailures []result.CheckResult `json:"new_failures,omitempty"`
	// NewIndeterminate could not be evaluated this time (their data was not
	// collected); SourceErrors says which collection failed.
	NewIndeterminate []result.CheckResult `json:"new_indeterminate,omitempty"`
	SourceErrors     []result.SourceError `json:"source_errors,omitempty"`
	// Resolved failed, warned or were indeterminate when last announced,
	// and no longer are.
	Resolved []Resolved `json:"resolved,omitempty"`
	// Drift is what changed in the audited objects since the previous run.
	Drift []drift.Change `json:"drift,omitempty"`
	// ExpiringWaivers are results whose waiver ends within the warning
	// window; ExpiringBy is the end of that window.
	ExpiringWaivers []result.CheckResult `json:"expiring_waivers,omitempty"`
	// StillFailing is the reminder after the repeat interval: every check
	// that still fails or is still indeterminate.
	StillFailing []result.CheckResult `json:"still_failing,omitempty"`
	// Summary counts this run's results by status.
	Summary map[result.Status]int `json:"summary,omitempty"`
}

// Resolved is a check that no longer needs attention.
type Resolved struct {
	Result result.CheckResult `json:"result"`
	// Was is the status last announced.
	Was result.Status `json:"was"`
}

// Empty reports whether the digest has nothing to say.
func (d Digest) Empty() bool {
	return len(d.NewFailures) == 0 && len(d.NewIndeterminate) == 0 && len(d.Resolved) == 0 &&
		len(d.Drift) == 0 && len(d.ExpiringWaivers) == 0 && len(d.StillFailing) == 0
}

// OnlyFollowUp reports whether the digest only follows up on what was
// announced before (resolved checks, the repeat reminder): such a message is
// a reply in the tenant's thread rather than a new post.
func (d Digest) OnlyFollowUp() bool {
	return !d.Empty() && len(d.NewFailures) == 0 && len(d.NewIndeterminate) == 0 &&
		len(d.Drift) == 0 && len(d.ExpiringWaivers) == 0
}
