package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers"
)

// OutboxStore is what the deliverer needs from the store (*store.Store).
type OutboxStore interface {
	PendingOutbox(ctx context.Context, now time.Time, limit int) ([]store.OutboxMessage, error)
	MarkSent(ctx context.Context, id int64, ts string, at time.Time) error
	MarkFailed(ctx context.Context, id int64, errText string, next time.Time) error
	MarkAbandoned(ctx context.Context, id int64, errText string, at time.Time) error
	Thread(ctx context.Context, tenant string) (store.Thread, bool, error)
	SetThread(ctx context.Context, tenant string, t store.Thread) error
}

// Delivery defaults.
const (
	DefaultBatch            = 100
	DefaultMinBackoff       = 5 * time.Second
	DefaultMaxBackoff       = 10 * time.Minute
	DefaultPermanentBackoff = time.Hour
	DefaultGiveUpAfter      = 72 * time.Hour
	// markTimeout bounds recording an outcome after the context of the
	// flush is cancelled (shutdown): a message Slack accepted must still
	// be marked, or it is sent again after the restart.
	markTimeout = 10 * time.Second
)

// Deliverer sends the outbox's messages: the retry stage.
//
// Delivery is at least once. A message is in the outbox before it is sent
// (the caller saves it with its run) and is marked sent after the receiver
// accepted it; a sent message is never returned by the outbox again. The
// one window for a duplicate is between the receiver's accepting a message
// and MarkSent committing (a crash, a kill -9, a lost response or a timeout
// after Slack got the message): the message is then sent again, once per
// such crash. Nothing is lost while Slack is down or the process restarts:
// unsent messages stay in the outbox and are retried.
//
// Failures are scheduled by kind:
//   - retryable (429, 5xx, network): after the receiver's Retry-After, else
//     exponential backoff with jitter from MinBackoff to MaxBackoff; until
//     then no message is sent at all, since Slack is refusing or down for
//     everyone;
//   - rejected (the message itself is invalid): abandoned at once;
//   - anything else (a wrong channel, a revoked token): retried every
//     PermanentBackoff, so fixing the configuration delivers it, and
//     abandoned GiveUpAfter after it was written. That tenant's later
//     messages wait behind it, to keep their order.
//
// One Deliverer per store: Flush serialises itself, but two processes
// flushing the same store could each send a message before either marks it.
type Deliverer struct {
	Store    OutboxStore
	Notifier notifiers.Notifier
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives one line per failed attempt (redacted: receivers
	// never put secrets in errors). Nil discards.
	Logger *slog.Logger

	Batch            int           // messages read per query; DefaultBatch when 0
	MinBackoff       time.Duration // DefaultMinBackoff when 0
	MaxBackoff       time.Duration // DefaultMaxBackoff when 0
	PermanentBackoff time.Duration // DefaultPermanentBackoff when 0
	GiveUpAfter      time.Duration // DefaultGiveUpAfter when 0
	// Jitter spreads a backoff; nil picks uniformly in [d/2, d].
	Jitter func(d time.Duration) time.Duration

	// OnAttempt, when set, is told the outcome of every attempt, for
	// metrics (err is nil when sent).
	OnAttempt func(m store.OutboxMessage, r AttemptResult, err error)

	mu sync.Mutex
	// pausedUntil is when Slack may be called again after a retryable
	// failure: a 429 or an outage concerns every message, not only the
	// one that met it (all tenants often share one channel, whose rate
	// limit it is). In memory: after a restart one attempt is made at once.
	pausedUntil time.Time
}

// Flush sends every message that is due, in order, until the outbox has
// none due or a retryable failure says Slack is unavailable. Delivery
// failures are recorded in the outbox, not returned: the error is for the
// store failing or ctx ending.
func (d *Deliverer) Flush(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.now().Before(d.pausedUntil) {
			return nil
		}
		msgs, err := d.Store.PendingOutbox(ctx, d.now(), d.batch())
		if err != nil {
			return fmt.Errorf("alert: flush: %w", err)
		}
		if len(msgs) == 0 {
			return nil
		}
		blocked := map[string]bool{} // tenants with a failed message in this batch
		for _, m := range msgs {
			if blocked[m.Tenant] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			outcome, err := d.deliver(ctx, m)
			if err != nil {
				return err
			}
			switch outcome {
			case stopFlush:
				return nil
			case blockTenant:
				blocked[m.Tenant] = true
			}
		}
		if len(msgs) < d.batch() {
			return nil
		}
	}
}

// Run flushes at once and then every interval until ctx ends. On shutdown,
// call Flush once more with a fresh context bounded by the shutdown timeout,
// to deliver what the last runs queued (what it cannot deliver stays in the
// outbox for the next start).
func (d *Deliverer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := d.Flush(ctx); err != nil && ctx.Err() == nil {
			d.logger().Error("slack outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// AttemptResult is what became of one delivery attempt.
type AttemptResult string

const (
	Sent      AttemptResult = "sent"
	Retrying  AttemptResult = "retrying"  // failed; the outbox tries again later
	Abandoned AttemptResult = "abandoned" // failed for good; the message is given up
)

type outcome int

const (
	carryOn outcome = iota
	blockTenant
	stopFlush
)

// deliver sends one message and records the outcome.
func (d *Deliverer) deliver(ctx context.Context, om store.OutboxMessage) (outcome, error) {
	log := d.logger().With("tenant", om.Tenant, "outbox_id", om.ID, "kind", om.Kind, "attempt", om.Attempts+1)
	var m notifiers.Message
	if err := json.Unmarshal(om.Payload, &m); err != nil {
		err = fmt.Errorf("unreadable outbox payload: %w", err)
		if d.OnAttempt != nil {
			d.OnAttempt(om, Abandoned, err)
		}
		return carryOn, d.abandon(ctx, om, log, err)
	}
	if m.Tenant == "" {
		m.Tenant = om.Tenant
	}
	if m.Thread == notifiers.ThreadReply && m.ThreadKey != "" && m.Update == nil {
		th, ok, err := d.Store.Thread(ctx, m.ThreadKey)
		if err != nil {
			return carryOn, fmt.Errorf("alert: flush: %w", err)
		}
		if ok {
			m.ReplyTo = &notifiers.Ref{Channel: th.Channel, TS: th.TS}
		}
	}

	receipt, sendErr := d.Notifier.Notify(ctx, m)
	// From here on the outcome is recorded even if ctx is cancelled: a
	// message Slack accepted and that is not marked is sent again.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	now := d.now()
	observe := func(r AttemptResult) {
		if d.OnAttempt != nil {
			d.OnAttempt(om, r, sendErr)
		}
	}

	if sendErr == nil {
		startsThread := m.Thread == notifiers.ThreadStart || (m.Thread == notifiers.ThreadReply && m.ReplyTo == nil)
		if startsThread && m.ThreadKey != "" && receipt.TS != "" && receipt.Channel != "" {
			// Before MarkSent: if the process dies between the two,
			// the message is re-sent and the thread set again to the
			// new copy, rather than replies going under a stale one.
			if err := d.Store.SetThread(mctx, m.ThreadKey, store.Thread{Channel: receipt.Channel, TS: receipt.TS}); err != nil {
				return carryOn, fmt.Errorf("alert: flush: %w", err)
			}
		}
		if err := d.Store.MarkSent(mctx, om.ID, receipt.TS, now); err != nil {
			return carryOn, fmt.Errorf("alert: flush: message %d was sent but could not be marked (it will be sent again): %w", om.ID, err)
		}
		log.Debug("slack message sent", "channel", receipt.Channel, "ts", receipt.TS, "thread", string(m.Thread))
		observe(Sent)
		return carryOn, nil
	}

	switch retry, after := notifiers.Retryable(sendErr); {
	case retry:
		wait := after
		if wait <= 0 {
			wait = d.backoff(om.Attempts)
		}
		next := now.Add(wait)
		d.pausedUntil = next
		log.Warn("slack delivery failed; will retry", "err", sendErr.Error(), "next_attempt", next)
		if err := d.Store.MarkFailed(mctx, om.ID, sendErr.Error(), next); err != nil {
			return carryOn, fmt.Errorf("alert: flush: %w", err)
		}
		observe(Retrying)
		return stopFlush, nil
	case notifiers.Rejected(sendErr):
		observe(Abandoned)
		return carryOn, d.abandon(mctx, om, log, sendErr)
	case now.Sub(om.CreatedAt) >= d.giveUpAfter():
		observe(Abandoned)
		return blockTenant, d.abandon(mctx, om, log, fmt.Errorf("still failing %s after it was queued: %w", d.giveUpAfter(), sendErr))
	default:
		next := now.Add(d.permanentBackoff())
		log.Error("slack delivery failed; fix the configuration (the message is retried until then)", "err", sendErr.Error(), "next_attempt", next)
		if err := d.Store.MarkFailed(mctx, om.ID, sendErr.Error(), next); err != nil {
			return carryOn, fmt.Errorf("alert: flush: %w", err)
		}
		observe(Retrying)
		return blockTenant, nil
	}
}

func (d *Deliverer) abandon(ctx context.Context, om store.OutboxMessage, log *slog.Logger, cause error) error {
	log.Error("slack message abandoned", "err", cause.Error())
	if err := d.Store.MarkAbandoned(ctx, om.ID, cause.Error(), d.now()); err != nil {
		return fmt.Errorf("alert: flush: %w", err)
	}
	return nil
}

// backoff is MinBackoff doubled per earlier attempt, capped at MaxBackoff,
// jittered so that many queued messages do not retry in lockstep.
func (d *Deliverer) backoff(attempts int) time.Duration {
	lo, hi := d.MinBackoff, d.MaxBackoff
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi <= 0 {
		hi = DefaultMaxBackoff
	}
	b := lo
	for i := 0; i < attempts && b < hi; i++ {
		b *= 2
	}
	b = min(b, hi)
	if d.Jitter != nil {
		return d.Jitter(b)
	}
	return b/2 + rand.N(b/2+1)
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) batch() int {
	if d.Batch > 0 {
		return d.Batch
	}
	return DefaultBatch
}

func (d *Deliverer) permanentBackoff() time.Duration {
	if d.PermanentBackoff > 0 {
		return d.PermanentBackoff
	}
	return DefaultPermanentBackoff
}

func (d *Deliverer) giveUpAfter() time.Duration {
	if d.GiveUpAfter > 0 {
		return d.GiveUpAfter
	}
	return DefaultGiveUpAfter
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}
