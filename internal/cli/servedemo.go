package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

// defaultDemoInterval is how often `serve --demo` changes a simulated
// tenant: shorter than the one-minute schedule plus a margin, so most runs
// have something to notice and some have nothing (and stay quiet).
const defaultDemoInterval = 40 * time.Second

// demoSlackToken is the bot token of the demo's local Slack; not a secret
// anywhere else.
const demoSlackToken = "xoxb-ticketguard-demo"

const demoChannel = "#ticketguard-demo"

// demoFixLines is how many lines of each remediation the demo prints.
const demoFixLines = 4

const serveDemoHeader = `ticketguard serve --demo: the service on simulated tenants, no account, no network.

A simulator of Microsoft Entra ID, Exchange Online, Microsoft Graph, Atera and
Office 365 SMTP serves three sample tenants on 127.0.0.1, and a local Slack
receives the alerts; each message it receives is printed below. Every tenant is
collected and checked now, then every minute; every %s the demo changes a
setting in a simulated tenant, as an admin would, so you can watch the drift,
the alerts and the "resolved" replies arrive. Stop with Ctrl-C.

`

// demoStep is one change the demo makes to a simulated tenant.
type demoStep struct {
	tenant, what string
	apply        func(*fixture.Tenant) bool
}

// demoSteps break and fix the sample tenants in turn: contoso's support
// mailbox stops keeping a copy (drift, a new warning) and keeps it again
// (resolved); fabrikam's forwarding policy is turned On (its external
// forwarding failure resolved) and back to Automatic (failing again).
func demoSteps() []demoStep {
	return []demoStep{
		{"contoso", "support mailbox: DeliverToMailboxAndForward true → false (forwarded mail no longer kept)", setSupportKeepCopy(false)},
		{"fabrikam", `outbound policy "Atera ticket forwarding": AutoForwardingMode Automatic → On (the fix)`, setForwardingMode("On")},
		{"contoso", "support mailbox: DeliverToMailboxAndForward false → true (fixed)", setSupportKeepCopy(true)},
		{"fabrikam", `outbound policy "Atera ticket forwarding": AutoForwardingMode On → Automatic (broken again)`, setForwardingMode("Automatic")},
	}
}

func exchangeRows(t *fixture.Tenant, cmdlet string) []map[string]any {
	list, _ := t.Exchange[cmdlet].([]any)
	var out []map[string]any
	for _, r := range list {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func setSupportKeepCopy(keep bool) func(*fixture.Tenant) bool {
	return func(t *fixture.Tenant) bool {
		for _, m := range exchangeRows(t, "Get-Mailbox") {
			if addr, _ := m["PrimarySmtpAddress"].(string); strings.EqualFold(addr, t.SupportAddress) {
				m["DeliverToMailboxAndForward"] = keep
				return true
			}
		}
		return false
	}
}

func setForwardingMode(mode string) func(*fixture.Tenant) bool {
	return func(t *fixture.Tenant) bool {
		for _, p := range exchangeRows(t, "Get-HostedOutboundSpamFilterPolicy") {
			if p["Name"] == "Atera ticket forwarding" {
				p["AutoForwardingMode"] = mode
				return true
			}
		}
		return false
	}
}

func runServeDemo(cmd *cobra.Command, o *serveOptions) error {
	for _, name := range []string{"config", "store"} {
		if cmd.Flags().Changed(name) {
			return usageErrorf(cmd, "--demo brings its own configuration and store: drop --%s", name)
		}
	}
	if o.demoInterval <= 0 {
		return usageErrorf(cmd, "--demo-interval must be positive, got %s", o.demoInterval)
	}
	ctx := cmd.Context()
	out := &lockedWriter{w: cmd.OutOrStdout()}
	demoFail := func(format string, args ...any) error {
		return &exitError{code: result.ExitUsage, msg: "serve --demo: " + fmt.Sprintf(format, args...)}
	}

	sim, err := simulator.Start(ctx, simulator.Options{Tenants: fixture.Demo()})
	if err != nil {
		return demoFail("start the simulator: %v", err)
	}
	defer sim.Close()
	slackSrv := fakeslack.New()
	defer slackSrv.Close()
	slackSrv.RequireToken(demoSlackToken)
	slackSrv.OnMessage(func(m fakeslack.Message) { printSlackMessage(out, m) })

	dir, err := os.MkdirTemp("", "ticketguard-serve-demo-*")
	if err != nil {
		return demoFail("%v", err)
	}
	defer os.RemoveAll(dir)
	cfg, err := writeDemoConfig(sim, dir, slackSrv.APIURL(), o.addr)
	if err != nil {
		return demoFail("%v", err)
	}
	// The demo shows the whole collection, the SMTP probe included.
	o.probeSMTP, o.smtpAddress = true, sim.URLs().SMTP
	o.config = filepath.Join(dir, simulator.ConfigFile)

	fmt.Fprintf(out, serveDemoHeader, o.demoInterval)
	hooks := &serveHooks{
		firstRound: true,
		started: func(ctx context.Context, url string) {
			fmt.Fprintf(out, "Status page: %s   (metrics: %smetrics)\nConfiguration: %s\nHistory: %s (for example: ticketguard history fabrikam --store %s)\n\n",
				url, url, o.config, cfg.Store.Path, cfg.Store.Path)
			go flipTenants(ctx, sim, o.demoInterval, out)
		},
	}
	return runServe(cmd, o, cfg, hooks)
}

// writeDemoConfig writes the simulator's configuration with the service
// sections added: a run every minute, the store in dir, the local Slack.
func writeDemoConfig(sim *simulator.Simulator, dir, slackURL, addr string) (*config.Config, error) {
	path, err := sim.WriteConfig(dir)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "slack-bot-token"), []byte(demoSlackToken+"\n"), 0o600); err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0" // any free port: the URL is printed
	}
	sections := fmt.Sprintf(`
# Added by ticketguard serve --demo.
schedule:
  default: "* * * * *"
store:
  path: history.db
server:
  addr: %q
slack:
  bot_token: {file: slack-bot-token}
  default_channel: %q
  repeat_interval: 0s
  api_url: %s
`, addr, demoChannel, slackURL)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(sections); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("the demo configuration does not load (a ticketguard bug): %w", err)
	}
	return cfg, nil
}

// flipTenants applies the demo steps in turn, one every interval.
func flipTenants(ctx context.Context, sim *simulator.Simulator, every time.Duration, out io.Writer) {
	steps := demoSteps()
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := steps[i%len(steps)]
		applied := false
		err := sim.Tenants().Update(s.tenant, func(t *fixture.Tenant) { applied = s.apply(t) })
		switch {
		case err != nil || !applied:
			fmt.Fprintf(out, "%s  demo: could not change %s (%v)\n\n", time.Now().Format("15:04:05"), s.tenant, err)
		default:
			next := time.Now().Truncate(time.Minute).Add(time.Minute)
			fmt.Fprintf(out, "%s  demo: changed %s: %s; the run at %s will notice.\n\n",
				time.Now().Format("15:04:05"), s.tenant, s.what, next.Format("15:04"))
		}
	}
}

// lockedWriter serialises the demo's writers (Slack messages arrive on the
// fake server's goroutines, changes on the flipper's).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// printSlackMessage prints a message the local Slack accepted, its Block
// Kit rendered as plain text, as one write so messages never interleave.
func printSlackMessage(w io.Writer, m fakeslack.Message) {
	var b strings.Builder
	where := "new message"
	switch {
	case m.Method == "chat.update":
		where = "update of " + m.TS
	case m.ThreadTS != "":
		where = "reply in thread " + m.ThreadTS
	}
	fmt.Fprintf(&b, "%s  ┌─ Slack %s (%s)\n", time.Now().Format("15:04:05"), m.Channel, where)
	lines := blockText(m.Blocks)
	if len(lines) == 0 {
		lines = strings.Split(m.Text, "\n")
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "          │ %s\n", l)
	}
	b.WriteString("          └─\n\n")
	_, _ = io.WriteString(w, b.String())
}

// blockText renders Block Kit blocks as lines of text: headers in capitals,
// sections and their fields, context lines, dividers as a rule.
func blockText(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	type text struct {
		Text string `json:"text"`
	}
	var blocks []struct {
		Type     string `json:"type"`
		Text     *text  `json:"text"`
		Fields   []text `json:"fields"`
		Elements []text `json:"elements"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil
	}
	var out []string
	add := func(s string) {
		// Slack escapes &, < and > in mrkdwn; the terminal does not.
		s = html.UnescapeString(strings.TrimRight(s, "\n"))
		// Code blocks are the remediation steps: the first lines say
		// what to do; the rest is in `ticketguard show` (and in the
		// real Slack).
		inCode, shown, hidden := false, 0, 0
		flush := func() {
			if hidden > 0 {
				out = append(out, fmt.Sprintf("    … (%d more lines: ticketguard show)", hidden))
			}
			shown, hidden = 0, 0
		}
		for _, line := range strings.Split(s, "\n") {
			fences := strings.Count(line, "```")
			line = strings.ReplaceAll(line, "```", "")
			if !inCode && fences == 0 {
				out = append(out, line)
				continue
			}
			if shown < demoFixLines {
				out = append(out, "    "+line)
				shown++
			} else {
				hidden++
			}
			// An odd number of fences opens or closes a block.
			if fences%2 == 1 {
				inCode = !inCode
			}
			if !inCode {
				flush()
			}
		}
		flush()
	}
	for _, bl := range blocks {
		switch bl.Type {
		case "header":
			if bl.Text != nil {
				add(strings.ToUpper(bl.Text.Text))
			}
		case "divider":
			out = append(out, strings.Repeat("─", 40))
		case "context":
			var parts []string
			for _, e := range bl.Elements {
				parts = append(parts, e.Text)
			}
			add(strings.Join(parts, " · "))
		default:
			if bl.Text != nil {
				add(bl.Text.Text)
			}
			for _, f := range bl.Fields {
				add(f.Text)
			}
		}
	}
	return out
}
