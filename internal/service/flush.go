package service

import (
	"context"
	"time"

	"github.com/ticketguard/ticketguard/internal/alert"
	"github.com/ticketguard/ticketguard/internal/store"
)

// queueScanLimit bounds the outbox scan behind the queued-messages gauge.
const queueScanLimit = 10000

// farFuture makes every unsent message due, and none blocked behind a
// retry, so PendingOutbox lists the whole queue.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Flush sends what the outbox holds that is due (nothing when alerting is
// off) and updates the queued-messages gauge. Delivery failures are
// recorded in the outbox and retried later; the error is for the store
// failing or ctx ending.
func (s *Service) Flush(ctx context.Context) error {
	if s.deliver == nil {
		return nil
	}
	err := s.deliver.Flush(ctx)
	s.updateQueued(ctx)
	return err
}

// flushAfterRound delivers what a round just queued without making every
// round wait its turn on Slack: when a flush is already running (another
// tenant's round, the periodic flusher), it asks that one to go round once
// more and returns. With Slack slow or hanging, one round waits on it, not
// every round holding a concurrency slot.
func (s *Service) flushAfterRound(ctx context.Context) error {
	if s.deliver == nil {
		return nil
	}
	s.flushAgain.Store(true)
	for s.flushing.CompareAndSwap(false, true) {
		var err error
		for s.flushAgain.Swap(false) && err == nil {
			err = s.Flush(ctx)
		}
		s.flushing.Store(false)
		if err != nil {
			return err
		}
		// A request made between the last Swap and the Store above
		// found the flag still taken: serve it.
		if !s.flushAgain.Load() {
			return nil
		}
	}
	return nil
}

// FlushEvery flushes the outbox every interval until ctx ends, so messages
// held back by a Slack outage or a 429 go out without waiting for the next
// round. Call Flush once more after it returns.
func (s *Service) FlushEvery(ctx context.Context, every time.Duration) {
	if s.deliver == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("flush the Slack outbox", "error", s.red.redact(err.Error()))
		}
	}
}

// Queued is the number of messages waiting in the outbox.
func (s *Service) Queued(ctx context.Context) (int, error) {
	msgs, err := s.st.PendingOutbox(ctx, farFuture, queueScanLimit)
	return len(msgs), err
}

func (s *Service) updateQueued(ctx context.Context) {
	if s.metrics == nil {
		return
	}
	// The context may be the one that just ended a flush at shutdown;
	// the gauge is worth a short read anyway.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if n, err := s.Queued(ctx); err == nil {
		s.metrics.SetOutboxQueued(n)
	}
}

// onAttempt counts delivery attempts in the metrics.
func (s *Service) onAttempt(m store.OutboxMessage, r alert.AttemptResult, _ error) {
	switch r {
	case alert.Sent:
		s.metrics.AlertSent(m.Tenant, m.Kind)
	case alert.Abandoned:
		s.metrics.AlertAbandoned(m.Tenant, m.Kind)
	default:
		s.metrics.AlertFailed(m.Tenant, m.Kind)
	}
}
