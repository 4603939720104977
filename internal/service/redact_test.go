package service

import (
	"strings"
	"testing"

	"github.com/ticketguard/ticketguard/internal/config"
)

func TestRedactorRemovesEveryConfiguredSecret(t *testing.T) {
	t.Setenv("TG_CLIENT_SECRET", "cs~0123456789abcdef")
	t.Setenv("TG_ATERA_KEY", "atera-0123456789")
	t.Setenv("TG_SLACK", "xoxb-9999-8888-secret")
	t.Setenv("TG_SHORT", "ab") // too short to redact safely
	cfg, err := config.Parse("t.yaml", []byte(`version: 1
atera:
  api_key: {env: TG_ATERA_KEY}
tenants:
  - name: acme
    tenant_id: 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f
    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90
    client_secret: {env: TG_CLIENT_SECRET}
    atera: {ticketing_address: acme@ticketing.atera.com, support_address: support@acme.com}
  - name: short
    tenant_id: 0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9
    client_id: 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
    client_secret: {env: TG_SHORT}
    atera: {ticketing_address: s@ticketing.atera.com, support_address: support@short.com}
slack:
  bot_token: {env: TG_SLACK}
  default_channel: "#alerts"
`))
	if err != nil {
		t.Fatal(err)
	}
	r := secretsOf(cfg)
	in := "sign-in with cs~0123456789abcdef failed; atera-0123456789 refused; token xoxb-9999-8888-secret; a lab tenant"
	got := r.redact(in)
	for _, s := range []string{"cs~0123456789abcdef", "atera-0123456789", "xoxb-9999-8888-secret"} {
		if strings.Contains(got, s) {
			t.Errorf("%q survived redaction: %s", s, got)
		}
	}
	if strings.Count(got, redacted) != 3 || !strings.Contains(got, "a lab tenant") {
		t.Errorf("redacted text %q: want three replacements and the rest intact", got)
	}
}
