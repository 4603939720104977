package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/alert"
	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers"
	"github.com/ticketguard/ticketguard/notifiers/slack"
	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

// The pipeline end to end: Plan → Outbox saved with the run → Deliverer →
// the Slack notifier → a local Slack (fakeslack). Only collection and
// evaluation are replaced, by hand-made results.

const botToken = "xoxb-9999-8888-n0tF0rLogsT0k3n"

var start = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

var (
	contact = result.Check{ID: "ticketing-contact", Title: "Mail contact for the Atera ticketing address", Severity: result.SeverityError,
		Remediation: "Exchange admin centre > Recipients > Contacts > Add a mail contact.\nPowerShell: New-MailContact -Name \"Atera Ticketing\" -ExternalEmailAddress acme@ticketing.atera.com"}
	sendAs = result.Check{ID: "send-as", Title: "The SMTP user may send as the support address", Severity: result.SeverityError,
		Remediation: "Add-RecipientPermission -Identity support@acme.com -Trustee helpdesk@acme.com -AccessRights SendAs"}
	keepCopy = result.Check{ID: "forwarding-keeps-copy", Title: "Forwarding keeps a copy in the support mailbox", Severity: result.SeverityWarning,
		Remediation: "Set-Mailbox support@acme.com -DeliverToMailboxAndForward $true"}
)

func failing(c result.Check, msg, resource string) result.CheckResult {
	st := result.Fail
	if c.Severity == result.SeverityWarning {
		st = result.Warn
	}
	return result.CheckResult{Check: c, Status: st, Message: msg, Findings: []result.Finding{{Status: st, Message: msg, Resource: resource}}}
}

func passing(c result.Check) result.CheckResult {
	return result.CheckResult{Check: c, Status: result.Pass, Message: "ok"}
}

type harness struct {
	t     *testing.T
	path  string
	st    *store.Store
	srv   *fakeslack.Server
	n     *slack.Notifier
	mu    sync.Mutex
	clock time.Time
	logs  *bytes.Buffer
	d     *alert.Deliverer
}

func newHarness(t *testing.T, webhook bool) *harness {
	t.Helper()
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "tg.db"), clock: start, logs: &bytes.Buffer{}}
	h.srv = fakeslack.New()
	t.Cleanup(h.srv.Close)
	h.srv.RequireToken(botToken)
	o := slack.Options{BotToken: botToken, DefaultChannel: "#alerts", APIURL: h.srv.APIURL()}
	if webhook {
		o = slack.Options{WebhookURL: h.srv.WebhookURL()}
	}
	var err error
	if h.n, err = slack.New(o); err != nil {
		t.Fatal(err)
	}
	h.open()
	t.Cleanup(func() { h.st.Close() })
	return h
}

// open (re)opens the store and builds a new deliverer, as a restarted
// process would.
func (h *harness) open() {
	h.t.Helper()
	st, err := store.Open(context.Background(), h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.st = st
	h.d = &alert.Deliverer{
		Store: st, Notifier: h.n, Now: h.now,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Jitter: func(d time.Duration) time.Duration { return d },
	}
}

func (h *harness) now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clock
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clock = h.clock.Add(d)
}

// run plans and saves one run of tenant, as serve does, without flushing.
func (h *harness) run(tenant string, changes []drift.Change, results ...result.CheckResult) alert.Decision {
	h.t.Helper()
	ctx := context.Background()
	prev, err := h.st.AlertStates(ctx, tenant)
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.now()
	dec := alert.Plan(alert.Input{
		Tenant: result.Tenant{Name: tenant, CollectedAt: now, Results: results},
		Drift:  changes, Prev: prev, Now: now, Repeat: 24 * time.Hour,
	})
	rec := store.RunRecord{
		Run:        store.Run{Tenant: tenant, StartedAt: now, FinishedAt: now, Outcome: store.OutcomeOK},
		Results:    results,
		AlertState: dec.State,
	}
	if dec.Send() {
		m, err := alert.Outbox(dec, slack.Renderer{}, "#alerts", now)
		if err != nil {
			h.t.Fatal(err)
		}
		rec.Outbox = append(rec.Outbox, m)
	}
	if _, err := h.st.SaveRun(ctx, rec); err != nil {
		h.t.Fatal(err)
	}
	return dec
}

func (h *harness) flush() {
	h.t.Helper()
	if err := h.d.Flush(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) pending() int {
	h.t.Helper()
	ms, err := h.st.PendingOutbox(context.Background(), h.now().Add(1000*time.Hour), 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(ms)
}

func blocksText(m fakeslack.Message) string {
	var v any
	_ = json.Unmarshal(m.Blocks, &v)
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				b.WriteString(s)
				b.WriteString("\n")
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return b.String()
}

func TestLifecycle(t *testing.T) {
	h := newHarness(t, false)

	// 1. First run: two failures → one message that starts the thread.
	dec := h.run("acme", nil,
		failing(contact, "no mail contact for acme@ticketing.atera.com", ""),
		failing(sendAs, "helpdesk@acme.com has no Send As on support@acme.com", "support@acme.com"),
		passing(keepCopy))
	if dec.Why() != "first run, new failures" {
		t.Fatalf("first run: %s", dec.Why())
	}
	h.flush()
	msgs := h.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("first run: %d messages, want 1", len(msgs))
	}
	first := msgs[0]
	body := blocksText(first)
	for _, want := range []string{"Mail contact for the Atera ticketing address", "no mail contact for acme@ticketing.atera.com",
		"helpdesk@acme.com has no Send As on support@acme.com", "Add-RecipientPermission", "New-MailContact"} {
		if !strings.Contains(body, want) {
			t.Errorf("first message lacks %q", want)
		}
	}
	if first.ThreadTS != "" || first.Channel != "#alerts" {
		t.Errorf("first message = %+v, want top-level in #alerts", first)
	}
	if th, ok, _ := h.st.Thread(context.Background(), "acme"); !ok || th.TS != first.TS {
		t.Errorf("thread = %+v %v, want the first message %s", th, ok, first.TS)
	}

	// 2. Nothing changed an hour later: nothing sent.
	h.advance(time.Hour)
	dec = h.run("acme", nil,
		failing(contact, "no mail contact for acme@ticketing.atera.com", ""),
		failing(sendAs, "helpdesk@acme.com has no Send As on support@acme.com", "support@acme.com"),
		passing(keepCopy))
	h.flush()
	if dec.Send() || len(h.srv.Messages()) != 1 {
		t.Fatalf("unchanged rerun: %s, %d messages", dec.Why(), len(h.srv.Messages()))
	}

	// 3. Send As fixed: a "resolved" reply in the thread.
	h.advance(time.Hour)
	dec = h.run("acme", nil,
		failing(contact, "no mail contact for acme@ticketing.atera.com", ""),
		passing(sendAs), passing(keepCopy))
	h.flush()
	msgs = h.srv.Messages()
	if dec.Why() != "newly resolved" || len(msgs) != 2 {
		t.Fatalf("fix: %s, %d messages", dec.Why(), len(msgs))
	}
	if msgs[1].ThreadTS != first.TS || !strings.Contains(blocksText(msgs[1]), "was fail, now pass") {
		t.Errorf("resolved message = thread %q, %s", msgs[1].ThreadTS, blocksText(msgs[1]))
	}

	// 4. DeliverToMailboxAndForward flipped: one drift message (and the
	// check that reads it warns).
	h.advance(time.Hour)
	flip := []drift.Change{{Kind: "mailbox", Key: "mailbox:b044", Label: `mailbox "Support" <support@acme.com>`,
		Property: "DeliverToMailboxAndForward", Change: drift.Changed, Before: true, After: false}}
	dec = h.run("acme", flip,
		failing(contact, "no mail contact for acme@ticketing.atera.com", ""),
		passing(sendAs), failing(keepCopy, "DeliverToMailboxAndForward is false", "support@acme.com"))
	h.flush()
	msgs = h.srv.Messages()
	if dec.Why() != "new failures, drift" || len(msgs) != 3 {
		t.Fatalf("drift: %s, %d messages", dec.Why(), len(msgs))
	}
	if !strings.Contains(blocksText(msgs[2]), `DeliverToMailboxAndForward true → false`) {
		t.Errorf("drift message lacks the change:\n%s", blocksText(msgs[2]))
	}
	// The same drift is not reported again by an unchanged rerun.
	h.advance(time.Hour)
	h.run("acme", nil, failing(contact, "no mail contact for acme@ticketing.atera.com", ""),
		passing(sendAs), failing(keepCopy, "DeliverToMailboxAndForward is false", "support@acme.com"))
	h.flush()
	if n := len(h.srv.Messages()); n != 3 {
		t.Fatalf("unchanged rerun after drift: %d messages", n)
	}

	// 5. A day after the first announcement: a reminder, as a reply in
	// the tenant's current thread (the drift alert started a new one).
	h.advance(21 * time.Hour)
	dec = h.run("acme", nil, failing(contact, "no mail contact for acme@ticketing.atera.com", ""),
		passing(sendAs), failing(keepCopy, "DeliverToMailboxAndForward is false", "support@acme.com"))
	h.flush()
	msgs = h.srv.Messages()
	if dec.Why() != "repeat interval elapsed" || len(msgs) != 4 {
		t.Fatalf("repeat: %s, %d messages", dec.Why(), len(msgs))
	}
	if msgs[3].ThreadTS != msgs[2].TS || !strings.Contains(blocksText(msgs[3]), "Still needs attention (2)") {
		t.Errorf("reminder: thread %q (want %q):\n%s", msgs[3].ThreadTS, msgs[2].TS, blocksText(msgs[3]))
	}
	if h.pending() != 0 {
		t.Errorf("%d messages left in the outbox", h.pending())
	}
}

// TestRetryThenRecover: Slack answers 429 (Retry-After 30s), then 500,
// then recovers. Every message arrives exactly once, in order, and no
// attempt is made before Retry-After.
func TestRetryThenRecover(t *testing.T) {
	h := newHarness(t, false)
	var attempts []alert.AttemptResult
	h.d.OnAttempt = func(_ store.OutboxMessage, r alert.AttemptResult, _ error) { attempts = append(attempts, r) }
	for _, tenant := range []string{"acme", "contoso"} {
		h.run(tenant, nil, failing(contact, "missing", ""))
	}
	h.srv.Fail(fakeslack.Fault{Status: 429, RetryAfter: 30 * time.Second}, fakeslack.Fault{Status: 500})

	h.flush() // 429: the flush stops
	if calls := h.srv.Calls(); len(calls) != 1 || len(h.srv.Messages()) != 0 {
		t.Fatalf("after 429: %d calls, %d delivered", len(calls), len(h.srv.Messages()))
	}
	h.advance(29 * time.Second)
	h.flush()
	if calls := h.srv.Calls(); len(calls) != 1 {
		t.Fatalf("retried before Retry-After: %d calls", len(calls))
	}
	h.advance(time.Second)
	h.flush() // 500: backoff
	if calls := h.srv.Calls(); len(calls) != 2 || len(h.srv.Messages()) != 0 {
		t.Fatalf("after 500: %d calls, %d delivered", len(calls), len(h.srv.Messages()))
	}
	h.advance(alert.DefaultMaxBackoff)
	h.flush()
	msgs := h.srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("after recovery: %d delivered, want 2", len(msgs))
	}
	if !strings.HasPrefix(msgs[0].Text, "ticketguard: acme:") || !strings.HasPrefix(msgs[1].Text, "ticketguard: contoso:") {
		t.Errorf("order: %q, %q", msgs[0].Text, msgs[1].Text)
	}
	h.advance(time.Hour)
	h.flush()
	if n := len(h.srv.Messages()); n != 2 || h.pending() != 0 {
		t.Errorf("sent again: %d messages, %d pending", n, h.pending())
	}
	if want := []alert.AttemptResult{alert.Retrying, alert.Retrying, alert.Sent, alert.Sent}; fmt.Sprint(attempts) != fmt.Sprint(want) {
		t.Errorf("attempts observed = %v, want %v", attempts, want)
	}
}

// TestSlackDownForAnHour: every call fails for an hour while runs keep
// queueing messages; once Slack is back everything is delivered exactly
// once, in each tenant's order, within the maximum backoff.
func TestSlackDownForAnHour(t *testing.T) {
	h := newHarness(t, false)
	h.srv.Down(&fakeslack.Fault{Status: 503})
	tenants := []string{"acme", "contoso", "fabrikam"}
	states := []result.CheckResult{failing(contact, "missing", ""), passing(contact)}
	runs := 0
	for i := 0; h.now().Before(start.Add(time.Hour)); i++ {
		if i%4 == 0 { // a run every 20 minutes: fail, fixed, fail
			for _, tenant := range tenants {
				h.run(tenant, nil, states[runs%2])
			}
			runs++
		}
		h.flush()
		h.advance(5 * time.Minute)
	}
	refused := len(h.srv.Calls())
	if len(h.srv.Messages()) != 0 || refused == 0 || refused > 12 {
		t.Fatalf("while down: %d delivered, %d attempts (want a few, backing off)", len(h.srv.Messages()), refused)
	}

	h.srv.Down(nil)
	h.advance(alert.DefaultMaxBackoff)
	h.flush()

	got := map[string][]string{}
	for _, m := range h.srv.Messages() {
		tenant := strings.TrimSuffix(strings.Fields(m.Text)[1], ":")
		kind := "failure"
		if strings.Contains(m.Text, "resolved") {
			kind = "resolved"
		}
		got[tenant] = append(got[tenant], kind)
	}
	want := map[string][]string{}
	for _, tenant := range tenants {
		want[tenant] = []string{"failure", "resolved", "failure"}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delivered after the outage:\n got %v\nwant %v", got, want)
	}
	if h.pending() != 0 {
		t.Errorf("%d messages still pending", h.pending())
	}
	// Replies went into the thread of the alert they follow up.
	byTS := map[string]fakeslack.Message{}
	for _, m := range h.srv.Messages() {
		byTS[m.TS] = m
		if strings.Contains(m.Text, "resolved") {
			parent, ok := byTS[m.ThreadTS]
			if !ok || strings.Fields(parent.Text)[1] != strings.Fields(m.Text)[1] {
				t.Errorf("%q is not a reply under its tenant's alert", m.Text)
			}
		}
	}
}

// TestLostResponse: Slack accepts a message but the response is lost (a
// 500 after accepting): the message is sent again once — the documented
// at-least-once window — and never a third time.
func TestLostResponse(t *testing.T) {
	h := newHarness(t, false)
	h.run("acme", nil, failing(contact, "missing", ""))
	h.srv.Fail(fakeslack.Fault{Status: 500, AfterAccept: true})
	h.flush()
	h.advance(alert.DefaultMaxBackoff)
	h.flush()
	h.advance(time.Hour)
	h.flush()
	if n := len(h.srv.Messages()); n != 2 {
		t.Errorf("lost response: delivered %d times, want 2 (one duplicate)", n)
	}
}

func TestPermanentErrorRetriesHourlyThenGivesUp(t *testing.T) {
	h := newHarness(t, false)
	h.srv.RestrictChannels("#other") // #alerts does not exist
	h.run("acme", nil, failing(contact, "missing", ""))
	h.advance(time.Minute)
	h.run("acme", nil, passing(contact)) // queued behind the first

	h.flush()
	if n := len(h.srv.Calls()); n != 0 {
		t.Fatalf("channel_not_found is answered before recording: calls %d", n)
	}
	if !strings.Contains(h.logs.String(), "channel_not_found") {
		t.Errorf("permanent error not logged:\n%s", h.logs)
	}
	first, err := h.st.OutboxMessage(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if first.Attempts != 1 || !first.NextAttemptAt.Equal(h.now().Add(alert.DefaultPermanentBackoff)) || !strings.Contains(first.LastError, "channel_not_found") {
		t.Fatalf("after a permanent error: attempts %d, next %v, error %q; want a retry in an hour", first.Attempts, first.NextAttemptAt, first.LastError)
	}
	if m, err := h.st.PendingOutbox(context.Background(), h.now().Add(59*time.Minute), 10); err != nil || len(m) != 0 {
		t.Fatalf("pending within the hour: %d (%v); the second message must wait behind the first", len(m), err)
	}
	// Fixed within the hour: both go out, in order.
	h.srv.RestrictChannels()
	h.advance(time.Hour)
	h.flush()
	msgs := h.srv.Messages()
	if len(msgs) != 2 || msgs[1].ThreadTS != msgs[0].TS {
		t.Fatalf("after the fix: %+v", msgs)
	}

	// Never fixed: abandoned after GiveUpAfter, and the tenant's later
	// messages are no longer held back.
	h.srv.RestrictChannels("#other")
	h.run("acme", nil, failing(contact, "missing", ""))
	for range 73 {
		h.advance(time.Hour)
		h.flush()
	}
	if h.pending() != 0 {
		t.Errorf("%d messages pending after giving up", h.pending())
	}
	if !strings.Contains(h.logs.String(), "abandoned") {
		t.Errorf("giving up not logged")
	}
}

func TestRejectedMessageAbandoned(t *testing.T) {
	h := newHarness(t, false)
	h.run("acme", nil, failing(contact, "missing", ""))
	var observed []alert.AttemptResult
	h.d.OnAttempt = func(_ store.OutboxMessage, r alert.AttemptResult, _ error) { observed = append(observed, r) }
	h.srv.Fail(fakeslack.Fault{Error: "invalid_blocks"})
	h.flush()
	if len(observed) != 1 || observed[0] != alert.Abandoned {
		t.Errorf("observed %v, want abandoned", observed)
	}
	if h.pending() != 0 {
		t.Errorf("a rejected message is still pending")
	}
	// An unreadable payload is abandoned too, without reaching Slack.
	if _, err := h.st.Enqueue(context.Background(), store.OutboxMessage{Tenant: "acme", Kind: "alert", Payload: json.RawMessage(`[1,2]`), CreatedAt: h.now()}); err != nil {
		t.Fatal(err)
	}
	calls := len(h.srv.Calls())
	h.flush()
	if h.pending() != 0 || len(h.srv.Calls()) != calls {
		t.Errorf("unreadable payload: pending %d, calls %d → %d", h.pending(), calls, len(h.srv.Calls()))
	}
}

// TestShutdownStillMarks: the flush's context ends just after Slack
// accepted a message; it is still marked, so the restart does not send it
// again.
func TestShutdownStillMarks(t *testing.T) {
	h := newHarness(t, false)
	h.run("acme", nil, failing(contact, "missing", ""))
	ctx, cancel := context.WithCancel(context.Background())
	h.d.Notifier = notifierFunc(func(c context.Context, m notifiers.Message) (notifiers.Receipt, error) {
		r, err := h.n.Notify(c, m)
		cancel() // SIGTERM arrives
		return r, err
	})
	_ = h.d.Flush(ctx)
	if h.pending() != 0 {
		t.Fatal("a message Slack accepted was not marked on shutdown")
	}
}

type notifierFunc func(context.Context, notifiers.Message) (notifiers.Receipt, error)

func (f notifierFunc) Notify(ctx context.Context, m notifiers.Message) (notifiers.Receipt, error) {
	return f(ctx, m)
}

// TestWebhookHasNoThreads: through a webhook, follow-ups are posted on
// their own (there is no ts to thread under) and nothing breaks.
func TestWebhookHasNoThreads(t *testing.T) {
	h := newHarness(t, true)
	h.run("acme", nil, failing(contact, "missing", ""))
	h.flush()
	h.advance(time.Hour)
	h.run("acme", nil, passing(contact))
	h.flush()
	msgs := h.srv.Messages()
	if len(msgs) != 2 || msgs[0].Method != "webhook" || msgs[1].ThreadTS != "" {
		t.Fatalf("webhook messages: %+v", msgs)
	}
	if _, ok, _ := h.st.Thread(context.Background(), "acme"); ok {
		t.Error("a thread was recorded for a webhook")
	}
	if h.pending() != 0 {
		t.Error("messages pending")
	}
}

// TestLogsHaveNoSecrets: what the deliverer logs and stores about failures
// never holds the token or the webhook URL.
func TestLogsHaveNoSecrets(t *testing.T) {
	for _, webhook := range []bool{false, true} {
		h := newHarness(t, webhook)
		h.run("acme", nil, failing(contact, "missing", ""))
		h.srv.Fail(fakeslack.Fault{Status: 429, RetryAfter: time.Second}, fakeslack.Fault{Status: 500},
			fakeslack.Fault{Status: 403, Error: "invalid_auth"}, fakeslack.Fault{Error: "invalid_auth"})
		for range 4 {
			h.flush()
			h.advance(2 * time.Hour)
		}
		// And a Slack that is not there at all: net/http quotes URLs.
		h.srv.Close()
		h.run("acme", nil, passing(contact))
		h.advance(2 * time.Hour)
		h.flush()

		out := h.logs.String()
		if !strings.Contains(out, "slack") {
			t.Fatalf("webhook=%v: nothing logged:\n%s", webhook, out)
		}
		ms, err := h.st.PendingOutbox(context.Background(), h.now().Add(1000*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			out += "\n" + m.LastError
		}
		hook := h.srv.WebhookURL()
		for _, secret := range []string{botToken, "n0tF0rLogs", hook, hook[strings.Index(hook, "/services/"):]} {
			if strings.Contains(out, secret) {
				t.Errorf("webhook=%v: logs or stored errors contain %q:\n%s", webhook, secret, out)
			}
		}
	}
}

// The crash test: a child process delivers, Slack accepts the message, and
// the child is killed before it hears back; the restarted deliverer sends
// the message once more, and never again. That one duplicate per crash is
// the documented at-least-once window.

const childEnv = "TICKETGUARD_ALERT_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(childDeliver())
	}
	os.Exit(m.Run())
}

func childDeliver() int {
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv("TG_STORE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n, err := slack.New(slack.Options{BotToken: botToken, DefaultChannel: "#alerts", APIURL: os.Getenv("TG_SLACK")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	d := &alert.Deliverer{Store: st, Notifier: n}
	if err := d.Flush(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestCrashBetweenSendAndMark(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	h := newHarness(t, false)
	h.mu.Lock()
	h.clock = time.Now() // the child uses the real clock
	h.mu.Unlock()
	h.run("acme", nil, failing(contact, "missing", ""))
	h.run("contoso", nil, failing(contact, "missing", ""))
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}

	received := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	h.srv.OnMessage(func(fakeslack.Message) {
		once.Do(func() {
			close(received)
			<-release // never answer: the client is killed meanwhile
		})
	})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "TG_STORE="+h.path, "TG_SLACK="+h.srv.APIURL())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-received:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the child never sent: %s", stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	close(release)

	// Restart.
	h.open()
	h.mu.Lock()
	h.clock = time.Now()
	h.mu.Unlock()
	h.flush()
	h.advance(time.Hour)
	h.flush()

	count := map[string]int{}
	for _, m := range h.srv.Messages() {
		count[strings.Fields(m.Text)[1]]++
	}
	if count["acme:"] != 2 || count["contoso:"] != 1 {
		t.Errorf("deliveries after the crash: %v; want acme twice (the one duplicate of the window) and contoso once", count)
	}
	if h.pending() != 0 {
		t.Errorf("%d messages pending", h.pending())
	}
}

// TestRun: the background loop flushes at once and then on every tick,
// and stops with its context.
func TestRun(t *testing.T) {
	h := newHarness(t, false)
	h.d.Now = nil // real time: the loop's ticker is real
	h.mu.Lock()
	h.clock = time.Now()
	h.mu.Unlock()
	h.run("acme", nil, failing(contact, "missing", ""))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.d.Run(ctx, 10*time.Millisecond)
		close(done)
	}()
	waitFor(t, func() bool { return len(h.srv.Messages()) == 1 })
	h.mu.Lock()
	h.clock = time.Now()
	h.mu.Unlock()
	h.run("acme", nil, passing(contact))
	waitFor(t, func() bool { return len(h.srv.Messages()) == 2 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
