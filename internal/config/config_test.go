package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const goodConfig = `version: 1
endpoints:
  login: https://127.0.0.1:8443/
  exchange: https://127.0.0.1:8444
  graph: http://localhost:8445/
  atera: https://127.0.0.1:8446/base/
  ca_file: /etc/ticketguard/sim-ca.pem
collect:
  concurrency: 3
  per_tenant_requests: 2
  timeout: 90s
  retry_budget: 0s
  message_trace_hours: 48
atera:
  api_key: {env: ATERA_API_KEY}
  ticket_window_days: 14
  defaults:
    ticketing_address: msp@ticketing.atera.com
    smtp: {server: smtp.example.net, port: 25, ssl: false}
    smtp_password: {file: /run/secrets/smtp}
tenants:
  - name: acme
    tenant_id: 7F0C3C8E-2A4B-4C1D-9E5F-0A1B2C3D4E5F
    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90
    certificate: {file: /etc/ticketguard/acme.pfx}
    certificate_password: {env: ACME_PFX_PASSWORD}
    atera:
      support_address: support@acme.com
      customer_id: 42
      smtp: {username: helpdesk@acme.com, port: 587}
  - name: contoso.eu
    tenant_id: 0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9
    client_id: 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
    client_secret:
      file: /run/secrets/contoso
    atera:
      ticketing_address: contoso@ticketing.atera.com
      support_address: helpdesk@contoso.eu
      smtp: null
`

func TestParseGood(t *testing.T) {
	cfg, err := Parse("ticketguard.yaml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	customer := int64(42)
	want := &Config{
		Version: 1,
		Endpoints: Endpoints{
			Login:    "https://127.0.0.1:8443",
			Exchange: "https://127.0.0.1:8444",
			Graph:    "http://localhost:8445",
			Atera:    "https://127.0.0.1:8446/base",
			CAFile:   "/etc/ticketguard/sim-ca.pem",
		},
		Collect: Collect{Concurrency: 3, PerTenantRequests: 2, Timeout: 90 * time.Second, RetryBudget: 0, MessageTraceHours: 48},
		Atera:   Atera{APIKey: &Secret{Env: "ATERA_API_KEY"}, TicketWindowDays: 14},
		Tenants: []Tenant{
			{
				Name:                "acme",
				TenantID:            "7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f",
				ClientID:            "1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90",
				Certificate:         &Secret{File: "/etc/ticketguard/acme.pfx"},
				CertificatePassword: &Secret{Env: "ACME_PFX_PASSWORD"},
				Atera: TenantAtera{
					TicketingAddress: "msp@ticketing.atera.com", // from atera.defaults
					SupportAddress:   "support@acme.com",
					CustomerID:       &customer,
					// server and ssl from atera.defaults, port and username from the tenant
					SMTP:         &SMTP{Server: "smtp.example.net", Port: 587, SSL: false, Username: "helpdesk@acme.com"},
					SMTPPassword: &Secret{File: "/run/secrets/smtp"},
				},
			},
			{
				Name:         "contoso.eu",
				TenantID:     "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9",
				ClientID:     "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
				ClientSecret: &Secret{File: "/run/secrets/contoso"},
				Atera: TenantAtera{
					TicketingAddress: "contoso@ticketing.atera.com",
					SupportAddress:   "helpdesk@contoso.eu",
					SMTPPassword:     &Secret{File: "/run/secrets/smtp"}, // inherited, unused: no custom SMTP
				},
			},
		},
		// Service sections absent: their defaults; concurrency follows collect.
		Schedule: Schedule{Default: DefaultSchedule, Concurrency: 3},
		Store:    Store{KeepLast: DefaultKeepLast, KeepDailyDays: DefaultKeepDailyDays},
		Server:   Server{Addr: DefaultServerAddr},
	}
	if !reflect.DeepEqual(clearPositions(cfg), want) {
		got, _ := json.MarshalIndent(cfg, "", "  ")
		exp, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("Parse:\n%s\nwant:\n%s", got, exp)
	}
}

// minimal is the smallest valid configuration; line 6 is the secret, line 7
// the atera block.
const minimal = `version: 1
tenants:
  - name: acme
    tenant_id: 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f
    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90
    client_secret: {env: ACME_SECRET}
    atera: {ticketing_address: acme@ticketing.atera.com, support_address: support@acme.com}
`

func TestDefaults(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	wantEndpoints := Endpoints{Login: DefaultLogin, Exchange: DefaultExchange, Graph: DefaultGraph, Atera: DefaultAtera}
	if cfg.Endpoints != wantEndpoints {
		t.Errorf("endpoints = %+v", cfg.Endpoints)
	}
	wantCollect := Collect{Concurrency: 8, PerTenantRequests: 4, Timeout: 10 * time.Minute, RetryBudget: 2 * time.Minute, MessageTraceHours: 24}
	if cfg.Collect != wantCollect {
		t.Errorf("collect = %+v", cfg.Collect)
	}
	if cfg.Atera.APIKey != nil || cfg.Atera.TicketWindowDays != 7 {
		t.Errorf("atera = %+v", cfg.Atera)
	}
	if s := cfg.Tenants[0].Atera.SMTP; s != nil {
		t.Errorf("no smtp anywhere: SMTP = %+v, want nil (Atera's default sender)", s)
	}
}

func TestAteraMerge(t *testing.T) {
	tests := []struct {
		name     string
		defaults string // atera.defaults, a flow mapping; "" for none
		tenant   string // a line added to the tenant's atera block
		want     *SMTP
	}{
		{"no smtp anywhere", "", "", nil},
		{"smtp null on the tenant beats defaults with a user",
			"{smtp: {username: shared@msp.com}}", "smtp: null", nil},
		{"an empty smtp value is null too",
			"{smtp: {username: shared@msp.com}}", "smtp:", nil},
		{"defaults with a user apply to a tenant that says nothing",
			"{smtp: {username: shared@msp.com, port: 25}}", "",
			&SMTP{Server: "smtp.office365.com", Port: 25, SSL: true, Username: "shared@msp.com"}},
		{"defaults without a user are only parameters",
			"{smtp: {server: mail.msp.com, port: 2525, ssl: false}}", "", nil},
		{"tenant user over default parameters",
			"{smtp: {server: mail.msp.com, port: 2525, ssl: false}}", "smtp: {username: help@acme.com}",
			&SMTP{Server: "mail.msp.com", Port: 2525, SSL: false, Username: "help@acme.com"}},
		{"built-in Office 365 settings",
			"", "smtp: {username: help@acme.com}",
			&SMTP{Server: "smtp.office365.com", Port: 587, SSL: true, Username: "help@acme.com"}},
		{"tenant overrides each field",
			"{smtp: {server: mail.msp.com, port: 2525, ssl: false, username: shared@msp.com}}",
			"smtp: {server: smtp.acme.com, port: 465, ssl: true, username: help@acme.com}",
			&SMTP{Server: "smtp.acme.com", Port: 465, SSL: true, Username: "help@acme.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "version: 1\n"
			if tc.defaults != "" {
				src += "atera:\n  defaults: " + tc.defaults + "\n"
			}
			src += `tenants:
  - name: acme
    tenant_id: 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f
    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90
    client_secret: {env: S}
    atera:
      ticketing_address: a@ticketing.atera.com
      support_address: s@acme.com
      ` + tc.tenant + "\n"
			cfg, err := Parse("t.yaml", []byte(src))
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			if got := cfg.Tenants[0].Atera.SMTP; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SMTP = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAddressesFromDefaults(t *testing.T) {
	src := strings.Replace(minimal, "    atera: {ticketing_address: acme@ticketing.atera.com, support_address: support@acme.com}\n",
		"    atera: {support_address: support@acme.com}\n", 1)
	src = strings.Replace(src, "tenants:", "atera:\n  defaults: {ticketing_address: msp@ticketing.atera.com, support_address: other@msp.com}\ntenants:", 1)
	cfg, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Tenants[0].Atera
	if a.TicketingAddress != "msp@ticketing.atera.com" || a.SupportAddress != "support@acme.com" {
		t.Errorf("atera = %+v: want the default ticketing address and the tenant's own support address", a)
	}
}

func TestErrors(t *testing.T) {
	r := func(old, new string) string {
		if !strings.Contains(minimal, old) {
			t.Fatalf("test setup: %q not in minimal", old)
		}
		return strings.Replace(minimal, old, new, 1)
	}
	const secretID = "client_secret: {env: ACME_SECRET}"
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"inline secret", r(secretID, "client_secret: 8Q~s3cr3t.Value_0123456789"),
			"t.yaml:6: tenants[0].client_secret: secrets are never written inline; use {env: NAME} or {file: PATH}"},
		{"inline number secret", r(secretID, "client_secret: 12345"),
			"t.yaml:6: tenants[0].client_secret: secrets are never written inline; use {env: NAME} or {file: PATH}"},
		{"secret with both keys", r(secretID, "client_secret: {env: A, file: /b}"),
			"t.yaml:6: tenants[0].client_secret: use either env or file, not both"},
		{"secret with neither key", r(secretID, "client_secret: {}"),
			"t.yaml:6: tenants[0].client_secret: expected {env: NAME} or {file: PATH}"},
		{"secret with another key", r(secretID, "client_secret: {value: x}"),
			"t.yaml:6: tenants[0].client_secret.value: unknown field; expected one of: env, file"},
		{"secret env not a name", r(secretID, "client_secret:\n      env: $ACME"),
			"t.yaml:6: tenants[0].client_secret: env: not an environment variable name (letters, digits and _, not starting with a digit)"},
		{"certificate and secret", r(secretID, secretID+"\n    certificate: {file: a.pem}"),
			"t.yaml:6: tenants[0].client_secret: set either certificate or client_secret, not both"},
		{"no credential", r("    "+secretID+"\n", ""),
			"t.yaml:3: tenants[0]: sign-in needs a certificate ({file: PATH} to a PEM or PFX file) or a client_secret ({env: NAME} or {file: PATH})"},
		{"password without certificate", r(secretID, secretID+"\n    certificate_password: {env: P}"),
			"t.yaml:7: tenants[0].certificate_password: only meaningful with certificate (the PFX file's password)"},
		{"unknown tenant key", r(secretID, secretID+"\n    clientsecret: {env: X}"),
			"t.yaml:7: tenants[0].clientsecret: unknown field; expected one of: name, tenant_id, client_id, certificate, certificate_password, client_secret, atera, schedule"},
		{"unknown top-level section", minimal + "alerts: {cron: '@daily'}\n",
			"t.yaml:8: alerts: unknown field; expected one of: version, endpoints, collect, atera, tenants, slack, schedule, store, server"},
		{"missing version", strings.TrimPrefix(minimal, "version: 1\n"),
			"t.yaml:1: version: required: write `version: 1` at the top"},
		{"wrong version", r("version: 1", "version: 2"),
			"t.yaml:1: version: unsupported version 2: this ticketguard reads version 1"},
		{"version not a number", r("version: 1", "version: one"),
			"t.yaml:1: version: expected an integer, got a string"},
		{"tenant id not a GUID", r("tenant_id: 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f", "tenant_id: acme.onmicrosoft.com"),
			`t.yaml:4: tenants[0].tenant_id: "acme.onmicrosoft.com" is not a GUID: expected the Directory (tenant) ID shown in Microsoft Entra admin centre > Overview, like 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f`},
		{"client id missing", r("    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90\n", ""),
			"t.yaml:3: tenants[0].client_id: required: the Application (client) ID of the app registration"},
		{"client id is the tenant id", r("client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90", "client_id: 7F0C3C8E-2a4b-4c1d-9e5f-0a1b2c3d4e5f"),
			"t.yaml:5: tenants[0].client_id: equals tenant_id: copy the Application (client) ID from the app registration's Overview"},
		{"name with a slash", r("name: acme", "name: acme/prod"),
			`t.yaml:3: tenants[0].name: "acme/prod" cannot be a file name: use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)`},
		{"name reserved on Windows", r("name: acme", "name: con.tenant"),
			`t.yaml:3: tenants[0].name: "con.tenant" is a reserved device name on Windows`},
		{"no tenants", "version: 1\ntenants: []\n",
			"t.yaml:2: tenants: at least one tenant is required"},
		{"tenants not a list", "version: 1\ntenants: {acme: 1}\n",
			"t.yaml:2: tenants: expected a list, got a mapping"},
		{"endpoint over http", "endpoints:\n  graph: http://graph.example.com\n" + minimal,
			"t.yaml:2: endpoints.graph: http is allowed only for 127.0.0.1 and localhost (test servers); use https"},
		{"endpoint relative", "endpoints:\n  login: login.microsoftonline.com\n" + minimal,
			"t.yaml:2: endpoints.login: must be an absolute URL such as https://login.microsoftonline.com"},
		{"endpoint with credentials", "endpoints:\n  atera: https://user:pa55@app.atera.com\n" + minimal,
			"t.yaml:2: endpoints.atera: must not carry a user name or password"},
		{"endpoint ftp", "endpoints:\n  exchange: ftp://outlook.office365.com\n" + minimal,
			"t.yaml:2: endpoints.exchange: scheme must be https"},
		{"concurrency zero", "collect:\n  concurrency: 0\n" + minimal,
			"t.yaml:2: collect.concurrency: must be between 1 and 256, got 0"},
		{"per-tenant negative", "collect:\n  per_tenant_requests: -1\n" + minimal,
			"t.yaml:2: collect.per_tenant_requests: must be between 1 and 32, got -1"},
		{"timeout without unit", "collect:\n  timeout: 600\n" + minimal,
			`t.yaml:2: collect.timeout: "600" is not a duration: use Go syntax such as 90s, 10m or 1h30m`},
		{"timeout zero", "collect:\n  timeout: 0s\n" + minimal,
			"t.yaml:2: collect.timeout: must be positive, got 0s"},
		{"retry budget negative", "collect:\n  retry_budget: -1m\n" + minimal,
			"t.yaml:2: collect.retry_budget: must be positive, got -1m"},
		{"message trace beyond Graph's window", "collect:\n  message_trace_hours: 241\n" + minimal,
			"t.yaml:2: collect.message_trace_hours: must be between 1 and 240, got 241"},
		{"api key inline", "atera:\n  api_key: abc123\n" + minimal,
			"t.yaml:2: atera.api_key: secrets are never written inline; use {env: NAME} or {file: PATH}"},
		{"customer id in defaults", "atera:\n  defaults:\n    customer_id: 3\n" + minimal,
			"t.yaml:3: atera.defaults.customer_id: customer_id is per tenant: set it in the tenant's atera block"},
		{"bad default address", "atera:\n  defaults:\n    ticketing_address: atera\n" + minimal,
			`t.yaml:3: atera.defaults.ticketing_address: "atera" is not an e-mail address such as support@acme.com`},
		{"address with display name", r("support_address: support@acme.com", "support_address: Support <support@acme.com>"),
			`t.yaml:7: tenants[0].atera.support_address: "Support <support@acme.com>" is not an e-mail address such as support@acme.com`},
		{"support is the ticketing address", r("support_address: support@acme.com", "support_address: ACME@ticketing.atera.com"),
			"t.yaml:7: tenants[0].atera.support_address: is the ticketing address itself: it must be the organisation's own support address that forwards to it"},
		{"ticketing address missing", r("ticketing_address: acme@ticketing.atera.com, ", ""),
			"t.yaml:7: tenants[0].atera.ticketing_address: required: Atera's ticketing address (Atera: Admin > Email settings), here or in atera.defaults"},
		{"no atera block", r("    atera: {ticketing_address: acme@ticketing.atera.com, support_address: support@acme.com}\n", ""),
			"t.yaml:3: tenants[0].atera.ticketing_address: required: Atera's ticketing address (Atera: Admin > Email settings), here or in atera.defaults\n" +
				"t.yaml:3: tenants[0].atera.support_address: required: the Primary Customer Support Address (Atera: Admin > Email settings), here or in atera.defaults"},
		{"smtp without user", r("support_address: support@acme.com}", "support_address: support@acme.com, smtp: {port: 587}}"),
			"t.yaml:7: tenants[0].atera.smtp.username: required for custom SMTP: the user name Atera signs in with; write `smtp: null` for Atera's default sender"},
		{"smtp port out of range", r("support_address: support@acme.com}", "support_address: support@acme.com, smtp: {username: u@acme.com, port: 70000}}"),
			"t.yaml:7: tenants[0].atera.smtp.port: must be a TCP port (1-65535), got 70000"},
		{"smtp server with port", r("support_address: support@acme.com}", "support_address: support@acme.com, smtp: {username: u@acme.com, server: 'smtp.office365.com:587'}}"),
			`t.yaml:7: tenants[0].atera.smtp.server: "smtp.office365.com:587" is not a host name such as smtp.office365.com (no scheme; the port has its own field)`},
		{"smtp password without smtp", r("support_address: support@acme.com}", "support_address: support@acme.com, smtp: null, smtp_password: {env: P}}"),
			"t.yaml:7: tenants[0].atera.smtp_password: set, but the tenant has no custom SMTP (smtp is null or has no username)"},
		{"duplicate tenant names ignoring case", minimal + strings.Replace(strings.TrimPrefix(minimal, "version: 1\ntenants:\n"), "name: acme", "name: ACME", 1),
			"t.yaml:8: tenants[1].name: duplicate tenant name: tenants[0] (line 3) has it already; names must differ, ignoring case"},
		{"duplicate key", r("version: 1\n", "version: 1\nversion: 1\n"),
			`t.yaml:2: mapping key "version" already defined at line 1`},
		{"syntax error", r("name: acme", "name: acme: x"),
			"t.yaml:3: mapping value is not allowed in this context"},
		{"unknown alias", r("name: acme", "name: *x"),
			`t.yaml:3: tenants[0].name: could not find alias "x"`},
		{"empty file", "# nothing yet\n",
			"t.yaml: empty configuration: expected at least `version: 1` and `tenants:`"},
		{"two documents", minimal + "---\n" + minimal,
			"t.yaml:9: more than one YAML document: put everything in one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error; want %s\n%s", tc.want, tc.src)
			}
			if err.Error() != tc.want {
				t.Fatalf("error:\n  %s\nwant:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "), strings.ReplaceAll(tc.want, "\n", "\n  "))
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "t.yaml" {
				t.Errorf("errors.As(*Error) = %+v", e)
			}
		})
	}
}

func TestErrorsNeverQuoteSecrets(t *testing.T) {
	const value = "8Q~s3cr3t.Value_0123456789"
	for _, src := range []string{
		strings.Replace(minimal, "client_secret: {env: ACME_SECRET}", "client_secret: "+value, 1),
		strings.Replace(minimal, "client_secret: {env: ACME_SECRET}", "client_secret: {env: '"+value+"'}", 1),
		strings.Replace(minimal, "client_secret: {env: ACME_SECRET}", "client_secret: ["+value+"]", 1),
		"endpoints: {atera: 'https://key:" + value + "@app.atera.com'}\n" + minimal,
		"atera: {api_key: " + value + "}\n" + minimal,
		strings.Replace(minimal, "client_secret: {env: ACME_SECRET}", "client_secret: *"+value, 1),
		strings.Replace(minimal, "client_secret: {env: ACME_SECRET}", "client_secret: {env: *"+value+"}", 1),
	} {
		_, err := Parse("t.yaml", []byte(src))
		if err == nil {
			t.Fatalf("no error for\n%s", src)
		}
		if strings.Contains(err.Error(), value) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
}

func TestSeveralErrorsAtOnce(t *testing.T) {
	src := "version: 1\ncollect:\n  concurrency: 0\ntenants:\n  - name: a/b\n    tenant_id: x\n    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90\n    client_secret: inline\n    atera: {ticketing_address: a@ticketing.atera.com, support_address: s@a.com}\n"
	_, err := Parse("t.yaml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"t.yaml:3: collect.concurrency", "t.yaml:5: tenants[0].name", "t.yaml:6: tenants[0].tenant_id", "t.yaml:8: tenants[0].client_secret"}
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w+": ") {
			t.Errorf("error %d = %s, want prefix %s", i, lines[i], w)
		}
	}
}

func TestSecretResolve(t *testing.T) {
	const value = "Zx9~resolve-me.0123"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("TG_SET", value)
	t.Setenv("TG_EMPTY", "")
	os.Unsetenv("TG_UNSET")

	lf := write("lf", value+"\n")
	crlf := write("crlf", value+"\r\n")
	newlines := write("newlines", "\n\n")
	empty := write("empty", "")
	huge := write("huge", strings.Repeat(value, maxSecretSize/len(value)+1))
	missing := filepath.Join(dir, "missing")

	for _, tc := range []struct {
		secret  Secret
		want    string
		wantErr string
	}{
		{Secret{Env: "TG_SET"}, value, ""},
		{Secret{File: lf}, value, ""},
		{Secret{File: crlf}, value, ""},
		{Secret{Env: "TG_UNSET"}, "", "environment variable TG_UNSET is not set"},
		{Secret{Env: "TG_EMPTY"}, "", "environment variable TG_EMPTY is empty"},
		{Secret{File: newlines}, "", "secret file " + newlines + " is empty"},
		{Secret{File: empty}, "", "secret file " + empty + " is empty"},
		{Secret{File: missing}, "", missing + ": no such file or directory"},
		{Secret{File: huge}, "", "secret file " + huge + " is larger than"},
		{Secret{}, "", "no secret reference"},
	} {
		got, err := tc.secret.Resolve()
		switch {
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("%s: Resolve() = %q, %v; want the value", tc.secret, got, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: Resolve() error = %v, want %q", tc.secret, err, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), value) {
			t.Errorf("%s: error contains the value: %v", tc.secret, err)
		}
		if strings.Contains(tc.secret.String(), value) {
			t.Errorf("String() contains the value")
		}
	}

	// Bytes keeps the file as stored: a PFX must not lose a trailing byte.
	b, err := Secret{File: lf}.Bytes()
	if err != nil || string(b) != value+"\n" {
		t.Errorf("Bytes() = %q, %v", b, err)
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	src := "endpoints: {ca_file: sim/ca.pem}\natera: {api_key: {file: atera.key}}\n" +
		strings.Replace(minimal, "client_secret: {env: ACME_SECRET}", "certificate: {file: certs/acme.pem}\n    certificate_password: {file: /abs/pw}", 1)
	path := filepath.Join(dir, "ticketguard.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tn := cfg.Tenants[0]
	for got, want := range map[string]string{
		cfg.Endpoints.CAFile:        filepath.Join(dir, "sim/ca.pem"),
		cfg.Atera.APIKey.File:       filepath.Join(dir, "atera.key"),
		tn.Certificate.File:         filepath.Join(dir, "certs/acme.pem"),
		tn.CertificatePassword.File: "/abs/pw",
	} {
		if got != want {
			t.Errorf("path %s, want %s", got, want)
		}
	}

	if _, err := Load(filepath.Join(dir, "absent.yaml")); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("Load(absent) error = %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":1: version: ") {
		t.Errorf("Load(bad) error = %v, want it to name the file and line", err)
	}
}

func TestAteraSection(t *testing.T) {
	cfg, err := Parse("ticketguard.yaml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(cfg.Tenants[0].AteraSection())
	want := `{"customer_id":42,"smtp":{"port":587,"server":"smtp.example.net","ssl":false,"username":"helpdesk@acme.com"},"support_address":"support@acme.com","ticketing_address":"msp@ticketing.atera.com"}`
	if string(got) != want {
		t.Errorf("acme: %s\nwant   %s", got, want)
	}
	got, _ = json.Marshal(cfg.Tenants[1].AteraSection())
	want = `{"smtp":null,"support_address":"helpdesk@contoso.eu","ticketing_address":"contoso@ticketing.atera.com"}`
	if string(got) != want {
		t.Errorf("contoso: %s\nwant      %s", got, want)
	}
}

func TestExampleIsValid(t *testing.T) {
	cfg, err := Load("../../docs/ticketguard.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Tenants) < 2 {
		t.Fatalf("the example should show a certificate tenant and a secret tenant, has %d tenants", len(cfg.Tenants))
	}
	var cert, secret bool
	for _, tn := range cfg.Tenants {
		cert = cert || tn.Certificate != nil
		secret = secret || tn.ClientSecret != nil
	}
	if !cert || !secret {
		t.Errorf("example: certificate tenant %v, secret tenant %v; want both", cert, secret)
	}
}
