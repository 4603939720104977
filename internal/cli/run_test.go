package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

// Black-box tests of `run --once`: the simulator and a local Slack run in
// the test process, the binary runs rounds against them as a CronJob would.

const runSlackToken = "xoxb-run-once-test-token"

// serviceConfig starts the simulator (demo tenants) and a local Slack, and
// writes a configuration with the service sections: the store in the
// configuration's directory, alerts to the local Slack.
func serviceConfig(t *testing.T, faults *fault.Injector, extra string) (cfgPath, dbPath string, slack *fakeslack.Server) {
	t.Helper()
	_, cfgPath = simulated(t, faults)
	slack = fakeslack.New()
	slack.RequireToken(runSlackToken)
	t.Cleanup(slack.Close)
	dir := filepath.Dir(cfgPath)
	if err := os.WriteFile(filepath.Join(dir, "slack-token"), []byte(runSlackToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "store:\n  path: history.db\nslack:\n  bot_token: {file: slack-token}\n  default_channel: \"#alerts\"\n  api_url: %s\n%s", slack.APIURL(), extra)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return cfgPath, filepath.Join(dir, "history.db"), slack
}

func TestRunOnceStoresAndAlerts(t *testing.T) {
	cfg, db, slack := serviceConfig(t, nil, "")
	r := ticketguard(t, "run", "--once", "--config", cfg)
	// fabrikam fails checks: still exit 0, the alert carries them.
	if r.code != 0 {
		t.Fatalf("run --once: want exit 0:\n%s", r)
	}
	for _, name := range []string{"northwind", "contoso", "fabrikam"} {
		if !regexp.MustCompile(`(?m)^` + name + `\s+\d+\s+ok\s`).MatchString(r.stdout) {
			t.Errorf("summary has no ok line for %s:\n%s", name, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "history in "+db) {
		t.Errorf("summary does not name the store %s:\n%s", db, r.stdout)
	}
	msgs := slack.Messages()
	var fabrikam int
	for _, m := range msgs {
		if strings.Contains(m.Text, "fabrikam") {
			fabrikam++
		}
	}
	if fabrikam != 1 {
		t.Errorf("fabrikam alerts: %d, want 1 (messages: %d)", fabrikam, len(msgs))
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	tenants, err := st.Tenants(context.Background())
	st.Close()
	if err != nil || len(tenants) != 3 {
		t.Fatalf("store holds %d tenants (%v), want 3", len(tenants), err)
	}

	// The same round again: nothing changed, nothing sent; the history
	// command reads what was stored.
	r = ticketguard(t, "run", "--once", "--config", cfg, "--tenant", "fabrikam")
	if r.code != 0 {
		t.Fatalf("second run --once:\n%s", r)
	}
	if !regexp.MustCompile(`(?m)^fabrikam\s+\d+\s+ok\s.*nothing new$`).MatchString(r.stdout) || strings.Contains(r.stdout, "northwind") {
		t.Errorf("second run: want fabrikam only, nothing new:\n%s", r.stdout)
	}
	if n := len(slack.Messages()); n != len(msgs) {
		t.Errorf("second run sent %d more messages", n-len(msgs))
	}
	h := ticketguard(t, "history", "fabrikam", "--store", db)
	if h.code != 0 || !strings.Contains(h.stdout, "fabrikam") {
		t.Errorf("history of the stored runs:\n%s", h)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, runSlackToken) {
			t.Error("the Slack token appears in the output")
		}
	}
}

func TestRunOnceFailedTenantExits1(t *testing.T) {
	faults := &fault.Injector{}
	tenants := fixture.Demo()
	faults.Add(fault.Rule{Endpoint: "token", Tenant: strings.ToLower(demoTenant(t, tenants, "contoso").TenantID), Kind: fault.Forbidden})
	cfg, db, _ := serviceConfig(t, faults, "")
	r := ticketguard(t, "run", "--once", "--config", cfg)
	if r.code != 1 {
		t.Fatalf("a tenant that cannot sign in: want exit 1:\n%s", r)
	}
	if !strings.Contains(r.stderr, "tenant contoso") || !strings.Contains(r.stderr, "collection failed") {
		t.Errorf("stderr does not say contoso's collection failed:\n%s", r.stderr)
	}
	if !regexp.MustCompile(`(?m)^contoso\s+\d+\s+failed`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^northwind\s+\d+\s+ok`).MatchString(r.stdout) {
		t.Errorf("summary: want contoso failed (and recorded), northwind ok:\n%s", r.stdout)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("no store written: %v", err)
	}
}

func TestRunOnceUsageAndConfigErrors(t *testing.T) {
	cfg, _, _ := serviceConfig(t, nil, "")
	badSpec, _, _ := serviceConfig(t, nil, "schedule:\n  default: CRON_TZ=Europe/Berlin\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"without --once", []string{"run", "--config", cfg}, "run needs --once"},
		{"unknown tenant", []string{"run", "--once", "--config", cfg, "--tenant", "nosuch"}, `no tenant "nosuch"`},
		{"missing config", []string{"run", "--once", "--config", filepath.Join(t.TempDir(), "none.yaml")}, "no such file"},
		{"bad schedule", []string{"run", "--once", "--config", badSpec}, "schedule.default: \"CRON_TZ=Europe/Berlin\": CRON_TZ= must be followed by a space"},
		{"bad log level", []string{"run", "--once", "--config", cfg, "--log-level", "loud"}, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ticketguard(t, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("want exit 2 and %q on stderr:\n%s", tt.want, r)
			}
		})
	}
}

// SIGTERM during a round (a CronJob's deadline, a systemd stop): the rounds in
// flight are abandoned, nothing half-collected is stored, exit 1.
func TestRunOnceInterrupted(t *testing.T) {
	faults := &fault.Injector{}
	faults.Add(fault.Rule{Endpoint: "exchange:*", Kind: fault.Slow, Delay: 30 * time.Second})
	cfg, db, slack := serviceConfig(t, faults, "")
	cmd := exec.Command(binary, "run", "--once", "--config", cfg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // signed in, waiting on Exchange
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("run --once did not stop within 20s of SIGTERM\nstderr:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, want 1 and \"interrupted\"\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if len(slack.Messages()) != 0 {
		t.Error("an interrupted round sent a message")
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if tenants, _ := st.Tenants(context.Background()); len(tenants) != 0 {
		t.Errorf("interrupted rounds were stored: %d tenants", len(tenants))
	}
}
