package service_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/metrics"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/service"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers/slack"
	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

// The bot token the fake Slack accepts; a secret the tests look for in
// every output.
const botToken = "xoxb-1111-2222-e2etesttoken"

// engine is loaded once: compiling the policies is the slow part of a
// test's setup.
var engine = sync.OnceValues(func() (*policy.Engine, error) {
	return policy.Load(context.Background(), policy.Options{})
})

// Tenants of the end-to-end tests, small so a round takes milliseconds.
func alphaTenant(now time.Time) *fixture.Tenant {
	// Distribution-group method; the outbound policy for the support
	// group is left at Automatic: external-forwarding fails.
	return fixture.Generate(fixture.GenerateOptions{
		Name: "alpha", Seed: 0xa1, Mailboxes: 4, Method: fixture.MethodGroup, Now: now,
		Breaks: []string{fixture.BreakAutoForwardingAutomatic},
	})
}

func betaTenant(now time.Time) *fixture.Tenant {
	// Mailbox forwarding, compliant.
	return fixture.Generate(fixture.GenerateOptions{
		Name: "beta", Seed: 0xb2, Mailboxes: 4, Method: fixture.MethodMailbox, Now: now,
	})
}

// env is a simulator, a fake Slack, a store and a service over them.
type env struct {
	t     *testing.T
	sim   *simulator.Simulator
	slack *fakeslack.Server
	cfg   *config.Config
	dir   string
	db    string
	st    *store.Store
	svc   *service.Service
	logs  *syncBuffer
	met   *metrics.Metrics
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, tenants ...*fixture.Tenant) *env {
	t.Helper()
	ctx := context.Background()
	sim, err := simulator.Start(ctx, simulator.Options{Tenants: tenants})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	fs := fakeslack.New()
	fs.RequireToken(botToken)
	t.Cleanup(fs.Close)

	dir := t.TempDir()
	path, err := sim.WriteConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "slack-token"), []byte(botToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "slack:\n  bot_token: {file: slack-token}\n  default_channel: \"#m365-alerts\"\n  repeat_interval: 0s\n  api_url: %s\nstore:\n  path: history.db\n  keep_last: 3\n", fs.APIURL())
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sim: sim, slack: fs, cfg: cfg, dir: dir, db: cfg.Store.Path, logs: &syncBuffer{}, met: metrics.New()}
	e.open()
	return e
}

// open opens the store and builds a service on it: what a process start does.
func (e *env) open() {
	e.t.Helper()
	eng, err := engine()
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := store.Open(context.Background(), e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	notifier, renderer, err := slack.FromConfig(e.cfg.Slack, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	svc, err := service.New(service.Options{
		Config: e.cfg, Store: st, Engine: eng, Notifier: notifier, Renderer: renderer,
		Collect: collect.Options{HTTPClient: e.sim.HTTPClient(), Version: "test"},
		Metrics: e.met,
		Logger:  slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	// Retries within the test's patience: Retry-After is honoured as sent
	// (whole seconds), backoff after a 5xx is short and not jittered.
	d := svc.Deliverer()
	d.MinBackoff, d.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	d.Jitter = func(d time.Duration) time.Duration { return d }
	e.st, e.svc = st, svc
}

// round runs one tenant's round and fails the test on an error.
func (e *env) round(tenant string) service.Outcome {
	e.t.Helper()
	out, err := e.svc.Round(context.Background(), tenant)
	if err != nil {
		e.t.Fatalf("round %s: %v\nlogs:\n%s", tenant, err, e.logs.String())
	}
	return out
}

// messages returns what Slack accepted since index from.
func (e *env) messages(from int) []fakeslack.Message {
	all := e.slack.Messages()
	if from > len(all) {
		return nil
	}
	return all[from:]
}

// drain flushes the outbox until it is empty or the deadline passes.
func (e *env) drain(within time.Duration) {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	for {
		if err := e.svc.Flush(ctx); err != nil {
			e.t.Fatal(err)
		}
		n, err := e.svc.Queued(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("outbox still holds %d messages after %s", n, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// update changes a simulated tenant while the simulator runs.
func (e *env) update(tenant string, fn func(*fixture.Tenant)) {
	e.t.Helper()
	if err := e.sim.Tenants().Update(tenant, fn); err != nil {
		e.t.Fatal(err)
	}
}

// rows returns the Exchange rows of a cmdlet of a simulated tenant.
func rows(t *fixture.Tenant, cmdlet string) []map[string]any {
	list, _ := t.Exchange[cmdlet].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, r := range list {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// setForwardingPolicy sets AutoForwardingMode of the support sender's
// outbound policy ("Atera ticket forwarding").
func setForwardingPolicy(t *testing.T, mode string) func(*fixture.Tenant) {
	return func(ft *fixture.Tenant) {
		for _, p := range rows(ft, "Get-HostedOutboundSpamFilterPolicy") {
			if p["Name"] == "Atera ticket forwarding" {
				p["AutoForwardingMode"] = mode
				return
			}
		}
		t.Fatalf("%s has no Atera ticket forwarding policy", ft.Name)
	}
}

// setKeepCopy sets DeliverToMailboxAndForward on the support mailbox.
func setKeepCopy(t *testing.T, keep bool) func(*fixture.Tenant) {
	return func(ft *fixture.Tenant) {
		for _, m := range rows(ft, "Get-Mailbox") {
			if addr, _ := m["PrimarySmtpAddress"].(string); strings.EqualFold(addr, ft.SupportAddress) {
				m["DeliverToMailboxAndForward"] = keep
				return
			}
		}
		t.Fatalf("%s has no support mailbox %s", ft.Name, ft.SupportAddress)
	}
}

// text is a message's fallback text and blocks, for assertions.
func text(m fakeslack.Message) string { return m.Text + "\n" + string(m.Blocks) }
