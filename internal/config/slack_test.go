package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// twoTenants is minimal with a second tenant, for per-tenant channels.
const twoTenants = minimal + `  - name: Contoso.EU
    tenant_id: 0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9
    client_id: 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
    client_secret: {env: CONTOSO_SECRET}
    atera: {ticketing_address: c@ticketing.atera.com, support_address: help@contoso.eu}
`

func TestSlackAbsent(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack != nil {
		t.Errorf("no slack section: Slack = %+v, want nil", cfg.Slack)
	}
	if ch := cfg.Slack.Channel("acme"); ch != "" {
		t.Errorf("nil Slack: Channel = %q", ch)
	}
}

func TestSlackBotToken(t *testing.T) {
	src := twoTenants + `slack:
  bot_token: {env: SLACK_BOT_TOKEN}
  default_channel: "#m365-alerts"
  channels:
    contoso.eu: C0123456789
  mask_addresses: true
  repeat_interval: 12h
  api_url: http://127.0.0.1:9999/api/
`
	cfg, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &Slack{
		BotToken:       &Secret{Env: "SLACK_BOT_TOKEN"},
		DefaultChannel: "#m365-alerts",
		Channels:       map[string]string{"contoso.eu": "C0123456789"},
		MaskAddresses:  true,
		RepeatInterval: 12 * time.Hour,
		APIURL:         "http://127.0.0.1:9999/api",
	}
	if !reflect.DeepEqual(clearPositions(cfg).Slack, want) {
		t.Fatalf("Slack = %+v\nwant    %+v", cfg.Slack, want)
	}
	// The override is found whatever the case the tenant's name is written in.
	if got := cfg.Slack.Channel("Contoso.EU"); got != "C0123456789" {
		t.Errorf("Channel(Contoso.EU) = %q", got)
	}
	if got := cfg.Slack.Channel("acme"); got != "#m365-alerts" {
		t.Errorf("Channel(acme) = %q, want the default", got)
	}
}

func TestSlackDefaults(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(minimal+"slack:\n  webhook_url: {file: slack-webhook}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Slack{WebhookURL: &Secret{File: "slack-webhook"}, RepeatInterval: DefaultRepeatInterval, APIURL: DefaultSlackAPIURL}
	if !reflect.DeepEqual(clearPositions(cfg).Slack, want) {
		t.Fatalf("Slack = %+v\nwant    %+v", cfg.Slack, want)
	}

	// repeat_interval 0s switches repeats off.
	cfg, err = Parse("t.yaml", []byte(minimal+"slack:\n  webhook_url: {env: W}\n  repeat_interval: 0s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.RepeatInterval != 0 {
		t.Errorf("repeat_interval 0s = %s", cfg.Slack.RepeatInterval)
	}
}

func TestSlackErrors(t *testing.T) {
	tests := []struct {
		name, slack, want string
	}{
		{"neither", "slack:\n  mask_addresses: true\n",
			"t.yaml:8: slack: Slack needs a bot_token ({env: NAME} or {file: PATH}; threads and a channel per tenant) or a webhook_url (one channel, no threads)"},
		{"both", "slack:\n  bot_token: {env: T}\n  webhook_url: {env: W}\n  default_channel: alerts\n",
			"t.yaml:10: slack.webhook_url: set either bot_token or webhook_url, not both"},
		{"inline webhook", "slack:\n  webhook_url: https://hooks.slack.com/services/T000/B000/XXXXXXXX\n",
			"t.yaml:9: slack.webhook_url: secrets are never written inline; use {env: NAME} or {file: PATH}"},
		{"inline token", "slack:\n  bot_token: xoxb-123-456-abcdef\n  default_channel: alerts\n",
			"t.yaml:9: slack.bot_token: secrets are never written inline; use {env: NAME} or {file: PATH}"},
		{"no channel", "slack:\n  bot_token: {env: T}\n",
			`t.yaml:8: slack.default_channel: required with bot_token: the channel alerts go to (tenant "acme" has no entry in channels)`},
		{"bad channel", "slack:\n  bot_token: {env: T}\n  default_channel: 'M365 Alerts'\n",
			`t.yaml:10: slack.default_channel: "M365 Alerts" is not a channel name (#m365-alerts) or ID (C0123456789)`},
		{"webhook with channel", "slack:\n  webhook_url: {env: W}\n  default_channel: alerts\n",
			"t.yaml:10: slack.default_channel: a webhook posts to the channel it was created for: remove default_channel, or use bot_token"},
		{"webhook with channels", "slack:\n  webhook_url: {env: W}\n  channels: {acme: alerts}\n",
			"t.yaml:10: slack.channels: a webhook posts to the channel it was created for: per-tenant channels need bot_token"},
		{"unknown tenant", "slack:\n  bot_token: {env: T}\n  default_channel: alerts\n  channels:\n    acne: acme-alerts\n",
			`t.yaml:12: slack.channels.acne: no tenant named "acne" in tenants`},
		{"bad repeat", "slack:\n  webhook_url: {env: W}\n  repeat_interval: daily\n",
			`t.yaml:10: slack.repeat_interval: "daily" is not a duration: use Go syntax such as 90s, 10m or 1h30m`},
		{"negative repeat", "slack:\n  webhook_url: {env: W}\n  repeat_interval: -1h\n",
			"t.yaml:10: slack.repeat_interval: must be positive, got -1h"},
		{"plain http api", "slack:\n  webhook_url: {env: W}\n  api_url: http://slack.example.com/api\n",
			"t.yaml:10: slack.api_url: http is allowed only for 127.0.0.1 and localhost (test servers); use https"},
		{"unknown key", "slack:\n  webhook_url: {env: W}\n  channel: alerts\n",
			"t.yaml:10: slack.channel: unknown field; expected one of: bot_token, webhook_url, default_channel, channels, mask_addresses, repeat_interval, api_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(minimal+tc.slack))
			if err == nil {
				t.Fatalf("no error; want %s", tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("error:\n  %s\nwant:\n  %s", err, tc.want)
			}
		})
	}
}

// TestSlackErrorsNeverQuoteSecrets: a webhook URL or token pasted inline, or
// on a line YAML cannot parse, is never echoed back.
func TestSlackErrorsNeverQuoteSecrets(t *testing.T) {
	const hook = "https://hooks.slack.com/services/T0SECRET/B0SECRET/s3cr3tS3CR3T"
	const token = "xoxb-1111-2222-s3cr3tT0k3n"
	for _, src := range []string{
		minimal + "slack:\n  webhook_url: " + hook + "\n",
		minimal + "slack:\n  webhook_url: {env: '" + hook + "'}\n",
		minimal + "slack:\n  webhook_url: [" + hook + "]\n",
		minimal + "slack:\n  webhook_url: \"" + hook + "\n",
		minimal + "slack:\n  bot_token: " + token + "\n  default_channel: a\n",
		minimal + "slack:\n  bot_token: *" + token + "\n  default_channel: a\n",
	} {
		_, err := Parse("t.yaml", []byte(src))
		if err == nil {
			t.Fatalf("no error for\n%s", src)
		}
		if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "S3CR3T") {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
}

func TestSlackLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ticketguard.yaml")
	src := minimal + "slack:\n  bot_token: {file: secrets/slack-token}\n  default_channel: alerts\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Slack.BotToken.File, filepath.Join(dir, "secrets", "slack-token"); got != want {
		t.Errorf("bot_token file = %s, want %s", got, want)
	}
}
