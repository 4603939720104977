package cli_test

// Black-box tests of `ticketguard notify test` against a local Slack.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

const notifyToken = "xoxb-4242-4242-n0tifyT3stT0k3n"

// notifyConfig writes a configuration with two tenants and the given slack
// section, and returns its path.
func notifyConfig(t *testing.T, slackSection string) string {
	t.Helper()
	src := `version: 1
tenants:
  - name: acme
    tenant_id: 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f
    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90
    client_secret: {env: ACME_SECRET}
    atera: {ticketing_address: acme@ticketing.atera.com, support_address: support@acme.com}
  - name: contoso
    tenant_id: 0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9
    client_id: 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
    client_secret: {env: CONTOSO_SECRET}
    atera: {ticketing_address: c@ticketing.atera.com, support_address: help@contoso.eu}
` + slackSection
	path := filepath.Join(t.TempDir(), "ticketguard.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func botSection(srv *fakeslack.Server) string {
	return "slack:\n  bot_token: {env: TG_TEST_SLACK_TOKEN}\n  default_channel: '#alerts'\n  channels: {contoso: C0CONTOSO1}\n  mask_addresses: true\n  api_url: " + srv.APIURL() + "\n"
}

func TestNotifyTestBotToken(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	srv.RequireToken(notifyToken)
	t.Setenv("TG_TEST_SLACK_TOKEN", notifyToken)
	cfg := notifyConfig(t, botSection(srv))

	r := ticketguard(t, "notify", "test", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "Sent a test message to #alerts") {
		t.Fatalf("want exit 0 and a confirmation:\n%s", r)
	}
	r = ticketguard(t, "notify", "test", "--config", cfg, "--tenant", "CONTOSO")
	if r.code != 0 || !strings.Contains(r.stdout, "Sent a test message to C0CONTOSO1") {
		t.Fatalf("--tenant: want the tenant's channel:\n%s", r)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("Slack received %d messages, want 2", len(msgs))
	}
	if msgs[0].Channel != "#alerts" || msgs[1].Channel != "C0CONTOSO1" {
		t.Errorf("channels = %s, %s", msgs[0].Channel, msgs[1].Channel)
	}
	if !strings.Contains(string(msgs[1].Blocks), "tenant *contoso*") || !strings.Contains(string(msgs[1].Blocks), "Nothing is wrong") {
		t.Errorf("test message blocks: %s", msgs[1].Blocks)
	}
	if strings.Contains(r.stdout+r.stderr, notifyToken) {
		t.Error("the token was printed")
	}
}

func TestNotifyTestWebhook(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	hookFile := filepath.Join(t.TempDir(), "slack-webhook")
	if err := os.WriteFile(hookFile, []byte(srv.WebhookURL()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := notifyConfig(t, "slack:\n  webhook_url: {file: "+hookFile+"}\n")
	r := ticketguard(t, "notify", "test", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "incoming webhook") {
		t.Fatalf("want exit 0:\n%s", r)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].Method != "webhook" {
		t.Fatalf("webhook messages: %+v", m)
	}
	if strings.Contains(r.stdout+r.stderr, "/services/") {
		t.Errorf("the webhook URL was printed:\n%s", r)
	}

	// A removed webhook: exit 1, a hint, and still no URL.
	srv.Fail(fakeslack.Fault{Status: 404, Error: "no_service"})
	r = ticketguard(t, "notify", "test", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "create a new one") || strings.Contains(r.stderr, "/services/") {
		t.Errorf("removed webhook: want exit 1 with a hint and no URL:\n%s", r)
	}
}

func TestNotifyTestFailures(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	srv.RequireToken(notifyToken)
	t.Setenv("TG_TEST_SLACK_TOKEN", notifyToken)
	cfg := notifyConfig(t, botSection(srv))

	srv.RestrictChannels("#elsewhere")
	r := ticketguard(t, "notify", "test", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "channel_not_found") || !strings.Contains(r.stderr, "check slack.default_channel") {
		t.Errorf("unknown channel: want exit 1 with the reason and a hint:\n%s", r)
	}
	srv.RestrictChannels()

	t.Setenv("TG_TEST_SLACK_TOKEN", "xoxb-wrong-t0ken-value")
	r = ticketguard(t, "notify", "test", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "invalid_auth") || strings.Contains(r.stderr, "wrong-t0ken") {
		t.Errorf("wrong token: want exit 1, invalid_auth, and the token not printed:\n%s", r)
	}

	srv.Fail(fakeslack.Fault{Status: 503})
	t.Setenv("TG_TEST_SLACK_TOKEN", notifyToken)
	r = ticketguard(t, "notify", "test", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "try again") {
		t.Errorf("Slack down: want exit 1 and a hint to try again:\n%s", r)
	}

	os.Unsetenv("TG_TEST_SLACK_TOKEN")
	r = ticketguard(t, "notify", "test", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "environment variable TG_TEST_SLACK_TOKEN is not set") {
		t.Errorf("token unset: want exit 2 naming the variable:\n%s", r)
	}

	r = ticketguard(t, "notify", "test", "--config", notifyConfig(t, ""))
	if r.code != 2 || !strings.Contains(r.stderr, "has no slack section") {
		t.Errorf("no slack section: want exit 2:\n%s", r)
	}
	t.Setenv("TG_TEST_SLACK_TOKEN", notifyToken)
	r = ticketguard(t, "notify", "test", "--config", cfg, "--tenant", "globex")
	if r.code != 2 || !strings.Contains(r.stderr, `no tenant "globex"`) {
		t.Errorf("unknown tenant: want exit 2:\n%s", r)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages accepted, want none", n)
	}
}
