package service_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/service"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

func statusOf(out service.Outcome, check string) result.Status {
	for _, r := range out.Results {
		if r.Check.ID == check {
			return r.Status
		}
	}
	return ""
}

// The life of two tenants: the first round announces alpha's failure (beta
// is compliant: nothing to say), an unchanged round says nothing, fixing
// alpha replies "resolved" under its alert, and a drift on beta is one
// message.
func TestLifecycle(t *testing.T) {
	now := time.Now()
	e := newEnv(t, alphaTenant(now), betaTenant(now))

	// First round.
	a1 := e.round("alpha")
	b1 := e.round("beta")
	if a1.Outcome != store.OutcomeOK || b1.Outcome != store.OutcomeOK {
		t.Fatalf("outcomes %s, %s; want ok (logs:\n%s)", a1.Outcome, b1.Outcome, e.logs.String())
	}
	if got := statusOf(a1, "external-forwarding"); got != result.Fail {
		t.Fatalf("alpha external-forwarding = %q, want fail", got)
	}
	for _, r := range b1.Results {
		if r.Status == result.Fail || r.Status == result.Warn || r.Status == result.Indeterminate {
			t.Errorf("beta %s = %s (%s); the fixture should be compliant", r.Check.ID, r.Status, r.Message)
		}
	}
	msgs := e.messages(0)
	if len(msgs) != 1 {
		t.Fatalf("first round: %d Slack messages, want 1 (alpha's alert): %+v", len(msgs), msgs)
	}
	alertMsg := msgs[0]
	if !strings.Contains(alertMsg.Text, "alpha") || !strings.Contains(text(alertMsg), "external-forwarding") && !strings.Contains(text(alertMsg), "xternal forwarding") {
		t.Errorf("alert does not name alpha's failing check:\n%s", text(alertMsg))
	}
	if alertMsg.Channel != "#m365-alerts" || alertMsg.ThreadTS != "" {
		t.Errorf("alert posted to %q in thread %q; want #m365-alerts, top level", alertMsg.Channel, alertMsg.ThreadTS)
	}
	if a1.Drift != nil || b1.Drift != nil {
		t.Errorf("first round drift: %v, %v; want none (nothing to compare with)", a1.Drift, b1.Drift)
	}

	// Nothing changed: nothing to say.
	a2 := e.round("alpha")
	b2 := e.round("beta")
	if len(a2.Drift) != 0 || len(b2.Drift) != 0 {
		t.Errorf("unchanged rerun drifted: alpha %v, beta %v", a2.Drift, b2.Drift)
	}
	if a2.Queued || b2.Queued {
		t.Errorf("unchanged rerun queued a message: alpha %q, beta %q", a2.Alert, b2.Alert)
	}
	if got := e.messages(1); len(got) != 0 {
		t.Fatalf("unchanged rerun sent %d messages: %+v", len(got), got)
	}

	// Fix alpha: a "resolved" reply under the alert.
	e.update("alpha", setForwardingPolicy(t, "On"))
	a3 := e.round("alpha")
	if got := statusOf(a3, "external-forwarding"); got != result.Pass {
		t.Fatalf("after the fix external-forwarding = %q, want pass", got)
	}
	if len(a3.Drift) == 0 {
		t.Errorf("the fix is a change of AutoForwardingMode: want drift, got none")
	}
	got := e.messages(1)
	if len(got) != 1 {
		t.Fatalf("after the fix: %d messages, want 1: %+v", len(got), got)
	}
	resolved := got[0]
	if !strings.Contains(strings.ToLower(text(resolved)), "resolved") {
		t.Errorf("the fix's message does not say resolved:\n%s", text(resolved))
	}
	if resolved.ThreadTS != alertMsg.TS {
		t.Errorf("resolved message in thread %q; want a reply under the alert %q", resolved.ThreadTS, alertMsg.TS)
	}

	// Drift on beta: DeliverToMailboxAndForward flipped off.
	e.update("beta", setKeepCopy(t, false))
	b3 := e.round("beta")
	got = e.messages(2)
	if len(got) != 1 {
		t.Fatalf("after beta's drift: %d messages, want exactly 1: %+v", len(got), got)
	}
	if !strings.Contains(text(got[0]), "DeliverToMailboxAndForward") {
		t.Errorf("drift message does not name the property:\n%s", text(got[0]))
	}
	var props []string
	for _, c := range b3.Drift {
		props = append(props, c.Property)
	}
	if len(b3.Drift) != 1 || b3.Drift[0].Property != "DeliverToMailboxAndForward" {
		t.Errorf("beta drift = %v, want DeliverToMailboxAndForward only", props)
	}

	// And the store says the same.
	ctx := context.Background()
	evs, err := e.st.Drift(ctx, b3.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Against != store.AgainstPrevious || evs[0].AgainstRunID != b2.RunID {
		t.Errorf("stored drift of run %d = %+v; want one event against run %d", b3.RunID, evs, b2.RunID)
	}
	if n, err := e.svc.Queued(ctx); err != nil || n != 0 {
		t.Errorf("outbox holds %d messages (%v); want none", n, err)
	}

	// The metrics saw the same.
	want := map[string]float64{
		`ticketguard_runs_total{outcome="ok",tenant="alpha"}`:                                 3,
		`ticketguard_runs_total{outcome="ok",tenant="beta"}`:                                  3,
		`ticketguard_alerts_sent_total{kind="alert",tenant="alpha"}`:                          1,
		`ticketguard_alerts_sent_total{kind="drift",tenant="alpha"}`:                          1, // the fix: drift, newly resolved
		`ticketguard_check_status{check="external-forwarding",status="pass",tenant="alpha"}`:  1,
		`ticketguard_check_status{check="forwarding-keeps-copy",status="warn",tenant="beta"}`: 1,
		`ticketguard_outbox_queued`:                                                           0,
	}
	series := gather(t, e)
	for name, v := range want {
		if g, ok := series[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
	if series[`ticketguard_api_requests_total{source="all",tenant="alpha"}`] == 0 {
		t.Error("no API requests counted for alpha")
	}
}

// gather flattens the metrics into "name{labels}" -> value.
func gather(t *testing.T, e *env) map[string]float64 {
	t.Helper()
	mfs, err := e.met.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// A baseline pinned on the first run: later runs record drift against it as
// well, but only drift against the previous run is announced.
func TestBaselineDrift(t *testing.T) {
	now := time.Now()
	e := newEnv(t, betaTenant(now))
	ctx := context.Background()
	b1 := e.round("beta")
	if err := e.st.ApproveBaseline(ctx, "beta", b1.RunID, "test"); err != nil {
		t.Fatal(err)
	}
	e.update("beta", setKeepCopy(t, false))
	b2 := e.round("beta")
	b3 := e.round("beta")
	if len(b2.BaselineDrift) != 1 || len(b3.BaselineDrift) != 1 {
		t.Fatalf("baseline drift %v, %v; want the one change in both runs", b2.BaselineDrift, b3.BaselineDrift)
	}
	if len(b3.Drift) != 0 || b3.Queued {
		t.Errorf("third run: drift %v, queued %v; want nothing new", b3.Drift, b3.Queued)
	}
	evs, err := e.st.Drift(ctx, b3.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Against != store.AgainstBaseline || evs[0].AgainstRunID != b1.RunID {
		t.Errorf("stored drift of run 3 = %+v; want one event against the baseline run %d", evs, b1.RunID)
	}
}

// Slack rate-limits, then fails, then recovers: every message arrives once.
func TestSlackOutageLosesAndDuplicatesNothing(t *testing.T) {
	now := time.Now()
	e := newEnv(t, alphaTenant(now), betaTenant(now))
	e.slack.Fail(
		fakeslack.Fault{Status: 429, RetryAfter: time.Second},
		fakeslack.Fault{Status: 500},
		fakeslack.Fault{Status: 503},
	)
	e.round("alpha") // alert queued; the flush meets the 429
	if got := e.messages(0); len(got) != 0 {
		t.Fatalf("Slack refused, yet %d messages arrived", len(got))
	}
	if n, _ := e.svc.Queued(context.Background()); n != 1 {
		t.Fatalf("outbox holds %d messages, want the alert", n)
	}
	// Meanwhile beta drifts: its message queues behind the outage too.
	e.round("beta")
	e.update("beta", setKeepCopy(t, false))
	e.round("beta")

	e.drain(10 * time.Second)
	got := e.messages(0)
	if len(got) != 2 {
		t.Fatalf("after recovery %d messages, want 2 (alpha's alert, beta's drift): %+v", len(got), got)
	}
	calls := e.slack.Calls()
	refused := 0
	for _, c := range calls {
		if c.Refused != nil {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d calls refused, want the 3 faults", refused)
	}
	// Nothing left, nothing repeated.
	e.drain(time.Second)
	e.round("alpha")
	e.round("beta")
	if got := e.messages(2); len(got) != 0 {
		t.Errorf("after recovery and reruns: %d more messages: %+v", len(got), got)
	}
}

// The process dies after Slack accepted a message and before it was marked
// sent: the restarted service sends it once more, and only once (the
// documented at-least-once window), and nothing else is repeated.
func TestRestartBetweenSendAndMark(t *testing.T) {
	now := time.Now()
	e := newEnv(t, alphaTenant(now))
	killed := false
	e.slack.OnMessage(func(fakeslack.Message) {
		if !killed {
			killed = true
			// The "kill": the store goes away under the deliverer, so
			// the send is never marked.
			e.st.Close()
		}
	})
	_, err := e.svc.Round(context.Background(), "alpha")
	// The run itself was committed before the flush.
	if err != nil {
		t.Fatalf("round: %v", err)
	}
	if got := e.messages(0); len(got) != 1 {
		t.Fatalf("%d messages before the crash, want 1", len(got))
	}

	e.open() // restart: a new store handle and service on the same file
	e.drain(5 * time.Second)
	got := e.messages(0)
	if len(got) != 2 {
		t.Fatalf("after restart: %d messages, want 2 (the alert and its one duplicate)", len(got))
	}
	if got[0].Text != got[1].Text {
		t.Errorf("the duplicate differs from the original:\n%s\n%s", got[0].Text, got[1].Text)
	}
	e.drain(time.Second)
	e.round("alpha")
	if got := e.messages(2); len(got) != 0 {
		t.Errorf("after restart and a rerun: %d more messages", len(got))
	}
}

// A tenant that cannot sign in is a failed run, recorded and announced,
// never a crash, and its error carries no secret.
func TestCollectionFailure(t *testing.T) {
	now := time.Now()
	e := newEnv(t, alphaTenant(now), betaTenant(now))
	beta, _ := e.sim.Tenants().ByName("beta")
	e.sim.Faults().Add(fault.Rule{Endpoint: "token", Tenant: strings.ToLower(beta.TenantID), Kind: fault.Forbidden})

	out, err := e.svc.Round(context.Background(), "beta")
	if !errors.Is(err, service.ErrCollectionFailed) {
		t.Fatalf("round error = %v, want ErrCollectionFailed", err)
	}
	if out.Outcome != store.OutcomeFailed || out.RunID == 0 {
		t.Fatalf("outcome %s, run %d; want a recorded failed run", out.Outcome, out.RunID)
	}
	run, err := e.st.Run(context.Background(), out.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Error == "" || run.HasSnapshot {
		t.Errorf("failed run: error %q, snapshot %v; want the reason and no snapshot", run.Error, run.HasSnapshot)
	}
	for _, r := range out.Results {
		if r.Status != result.Indeterminate && r.Status != result.NotApplicable {
			t.Errorf("%s = %s after a failed sign-in; want indeterminate", r.Check.ID, r.Status)
		}
	}
	msgs := e.messages(0)
	if len(msgs) != 1 || !strings.Contains(strings.ToLower(text(msgs[0])), "indeterminate") && !strings.Contains(strings.ToLower(text(msgs[0])), "collect") {
		t.Fatalf("want one message saying collection broke, got %+v", msgs)
	}
	// The other tenant is unaffected.
	if a := e.round("alpha"); a.Outcome != store.OutcomeOK {
		t.Errorf("alpha outcome %s", a.Outcome)
	}

	// Sign-in works again: the next round is ok, and the indeterminate
	// checks are resolved in the thread.
	e.sim.Faults().Reset()
	b := e.round("beta")
	if b.Outcome != store.OutcomeOK {
		t.Fatalf("after recovery outcome %s", b.Outcome)
	}
	if len(b.Drift) != 0 {
		t.Errorf("a failed run in between must not make drift: %v", b.Drift)
	}
	last := e.messages(0)
	if r := last[len(last)-1]; !strings.Contains(strings.ToLower(text(r)), "resolved") || r.ThreadTS != msgs[0].TS {
		t.Errorf("want a resolved reply under the collection alert, got thread %q:\n%s", r.ThreadTS, text(r))
	}
	assertNoSecrets(t, e)
}

// A partial collection (one source failing) is a partial run.
func TestPartialCollection(t *testing.T) {
	e := newEnv(t, betaTenant(time.Now()))
	e.sim.Faults().Add(fault.Rule{Endpoint: "exchange:Get-TransportConfig", Kind: fault.Forbidden})
	out, err := e.svc.Round(context.Background(), "beta")
	if err != nil {
		t.Fatalf("a partial run is not an error: %v", err)
	}
	if out.Outcome != store.OutcomePartial {
		t.Fatalf("outcome %s, want partial", out.Outcome)
	}
	run, err := e.st.Run(context.Background(), out.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(run.Error, "Get-TransportConfig") || !run.HasSnapshot {
		t.Errorf("partial run: error %q, snapshot %v", run.Error, run.HasSnapshot)
	}
}

// An interrupted round (shutdown) records nothing: the next round starts
// clean rather than announcing what the interruption left out.
func TestInterruptedRoundRecordsNothing(t *testing.T) {
	e := newEnv(t, betaTenant(time.Now()))
	e.sim.Faults().Add(fault.Rule{Endpoint: "exchange:*", Kind: fault.Slow, Delay: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	out, err := e.svc.Round(ctx, "beta")
	if err == nil || out.RunID != 0 {
		t.Fatalf("interrupted round: run %d, err %v; want an error and no run", out.RunID, err)
	}
	if _, ok, _ := e.st.LastRun(context.Background(), "beta"); ok {
		t.Error("the interrupted round was recorded")
	}
	if len(e.messages(0)) != 0 {
		t.Error("the interrupted round sent a message")
	}
}

// assertNoSecrets searches the logs and the store file for every secret of
// the configuration.
func assertNoSecrets(t *testing.T, e *env) {
	t.Helper()
	secrets := []string{botToken, e.sim.AteraAPIKey()}
	for _, ft := range e.sim.Tenants().All() {
		if ft.ClientSecret != "" {
			secrets = append(secrets, ft.ClientSecret)
		}
	}
	db, err := os.ReadFile(e.db)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(e.db + "-wal")
	for _, s := range secrets {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("a secret (%d chars) appears in the logs", len(s))
		}
		if strings.Contains(string(db), s) || strings.Contains(string(wal), s) {
			t.Errorf("a secret (%d chars) appears in the store", len(s))
		}
	}
}

// A collection that cannot even start (the Atera API key file was rotated
// away) is a failed run, and it is announced: a silent tenant would look
// healthy.
func TestCollectionCannotStart(t *testing.T) {
	e := newEnv(t, betaTenant(time.Now()))
	if err := os.Remove(e.cfg.Atera.APIKey.File); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.Round(context.Background(), "beta")
	if !errors.Is(err, service.ErrCollectionFailed) || out.Outcome != store.OutcomeFailed || out.RunID == 0 {
		t.Fatalf("round: outcome %s, run %d, err %v; want a recorded failed run", out.Outcome, out.RunID, err)
	}
	if len(out.Results) == 0 || statusOf(out, "ticketing-contact") != result.Indeterminate {
		t.Errorf("want every check indeterminate, got %d results (ticketing-contact %q)", len(out.Results), statusOf(out, "ticketing-contact"))
	}
	msgs := e.messages(0)
	if len(msgs) != 1 || !strings.Contains(text(msgs[0]), "atera.api_key") {
		t.Fatalf("want one message naming atera.api_key, got %+v", msgs)
	}
}

// Slack hangs on one message: only the round that met it waits; another
// tenant's round finishes at once, and its message goes out with the next
// pass of the flush already running.
func TestSlowSlackHoldsOneRoundOnly(t *testing.T) {
	now := time.Now()
	gamma := fixture.Generate(fixture.GenerateOptions{
		Name: "gamma", Seed: 0xc3, Mailboxes: 4, Method: fixture.MethodGroup, Now: now,
		Breaks: []string{fixture.BreakNoOwner},
	})
	e := newEnv(t, alphaTenant(now), gamma)
	blocked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.slack.OnMessage(func(fakeslack.Message) {
		once.Do(func() {
			close(blocked)
			<-release
		})
	})
	alphaDone := make(chan error, 1)
	go func() {
		_, err := e.svc.Round(context.Background(), "alpha")
		alphaDone <- err
	}()
	select {
	case <-blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("alpha's alert never reached Slack")
	}
	gammaDone := make(chan error, 1)
	go func() {
		_, err := e.svc.Round(context.Background(), "gamma")
		gammaDone <- err
	}()
	select {
	case err := <-gammaDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Error("gamma's round waited on Slack holding alpha's message")
	}
	close(release)
	if err := <-alphaDone; err != nil {
		t.Fatal(err)
	}
	if got := e.messages(0); len(got) != 2 {
		t.Fatalf("%d messages delivered, want alpha's and gamma's", len(got))
	}
}
