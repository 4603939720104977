package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckSecretsNamesLineAndField(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "acme-secret")
	if err := os.WriteFile(present, []byte("s3cr3t-value-acme\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TG_TEST_PRESENT", "s3cr3t-value-env")
	yaml := `version: 1
atera:
  api_key: {env: TG_TEST_PRESENT}
tenants:
  - name: acme
    tenant_id: 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f
    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90
    client_secret: {file: acme-secret}
    atera:
      ticketing_address: acme@ticketing.atera.com
      support_address: support@acme.example
      smtp: null
  - name: contoso
    tenant_id: 0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9
    client_id: 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
    client_secret: {file: contoso-secret-missing}
    atera:
      ticketing_address: contoso@ticketing.atera.com
      support_address: support@contoso.example
      smtp: {username: helpdesk@contoso.example}
      smtp_password: {env: TG_TEST_UNSET_SMTP_PASSWORD}
`
	path := filepath.Join(dir, "ticketguard.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckSecrets(path, "acme"); err != nil {
		t.Errorf("acme's secrets are all readable, got %v", err)
	}
	err = cfg.CheckSecrets(path, "CONTOSO")
	if err == nil {
		t.Fatal("contoso's missing secret file and unset variable must be errors")
	}
	msg := err.Error()
	for _, want := range []string{
		path + ":16: tenants[1].client_secret:",
		"contoso-secret-missing",
		path + ":21: tenants[1].atera.smtp_password:",
		"TG_TEST_UNSET_SMTP_PASSWORD",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"s3cr3t-value-acme", "s3cr3t-value-env"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks a secret value:\n%s", msg)
		}
	}
	if err := cfg.CheckSecrets(path); err == nil {
		t.Error("checking every tenant must include contoso")
	}
}

// clearPositions forgets where each secret reference is written, so tests
// can compare a parsed Config with a literal one.
func clearPositions(c *Config) *Config {
	clear := func(s *Secret) {
		if s != nil {
			s.line, s.field = 0, ""
		}
	}
	clear(c.Atera.APIKey)
	if c.Slack != nil {
		clear(c.Slack.BotToken)
		clear(c.Slack.WebhookURL)
	}
	for i := range c.Tenants {
		t := &c.Tenants[i]
		clear(t.Certificate)
		clear(t.CertificatePassword)
		clear(t.ClientSecret)
		clear(t.Atera.SMTPPassword)
	}
	return c
}
