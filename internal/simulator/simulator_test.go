package simulator_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// logSink collects the simulator's log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logSink) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func start(t *testing.T, o simulator.Options) *simulator.Simulator {
	t.Helper()
	sim, err := simulator.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

func byName(t *testing.T, sim *simulator.Simulator, name string) *fixture.Tenant {
	t.Helper()
	ten, ok := sim.Tenants().ByName(name)
	if !ok {
		t.Fatalf("no tenant %s", name)
	}
	return ten
}

// credential signs in as the tenant's app the way the collectors do:
// azidentity against the simulated authority, trusting only the simulator CA.
func credential(t *testing.T, sim *simulator.Simulator, ten *fixture.Tenant) azcore.TokenCredential {
	t.Helper()
	opts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: sim.URLs().Login + "/"},
		Transport: sim.HTTPClient(),
	}
	if ten.ClientSecret != "" {
		cred, err := azidentity.NewClientSecretCredential(ten.TenantID, ten.ClientID, ten.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}
	certs, key, err := azidentity.ParseCertificates(append(append([]byte(nil), ten.CertificatePEM...), fixture.PrivateKeyPEM(ten)...), nil)
	if err != nil {
		t.Fatalf("ParseCertificates: %v", err)
	}
	cred, err := azidentity.NewClientCertificateCredential(ten.TenantID, ten.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func token(t *testing.T, cred azcore.TokenCredential, resource string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{resource + "/.default"}})
	if err != nil {
		t.Fatalf("GetToken(%s): %v", resource, err)
	}
	return tok.Token
}

// do sends a request through a client trusting only the simulator CA (from
// CAPEM, as a collector reading ca_file would) and decodes the JSON answer.
func do(t *testing.T, sim *simulator.Simulator, req *http.Request) map[string]any {
	t.Helper()
	client := sim.HTTPClient()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return out
}

func TestStartServesEveryServiceToRealClients(t *testing.T) {
	logs := &logSink{}
	sim := start(t, simulator.Options{Tenants: fixture.Demo(), Logf: logs.logf})
	urls := sim.URLs()
	for _, u := range []string{urls.Login, urls.Exchange, urls.Graph, urls.Atera} {
		if !strings.HasPrefix(u, "https://127.0.0.1:") {
			t.Errorf("service URL %s is not https on 127.0.0.1", u)
		}
	}
	northwind, contoso := byName(t, sim, "northwind"), byName(t, sim, "contoso")
	var secrets []string

	// Exchange admin API, as northwind (client secret).
	cred := credential(t, sim, northwind)
	exo := token(t, cred, "https://outlook.office365.com")
	body := strings.NewReader(`{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited"}}}`)
	req, _ := http.NewRequest(http.MethodPost, urls.Exchange+"/adminapi/beta/"+northwind.TenantID+"/InvokeCommand", body)
	req.Header.Set("Authorization", "Bearer "+exo)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-AnchorMailbox", "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+northwind.TenantID)
	got := do(t, sim, req)
	if v, _ := got["value"].([]any); len(v) != 8 {
		t.Errorf("Get-Mailbox returned %d mailboxes, want northwind's 8", len(v))
	}
	secrets = append(secrets, exo, northwind.ClientSecret)

	// Graph, as contoso (certificate).
	gtok := token(t, credential(t, sim, contoso), "https://graph.microsoft.com")
	req, _ = http.NewRequest(http.MethodGet, urls.Graph+"/v1.0/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+gtok)
	got = do(t, sim, req)
	found := false
	for _, c := range got["value"].([]any) {
		if c.(map[string]any)["mail"] == contoso.TicketingAddress {
			found = true
		}
	}
	if !found {
		t.Errorf("Graph /contacts of contoso lacks the Atera contact: %v", got["value"])
	}
	secrets = append(secrets, gtok)

	// Atera, with the generated API key.
	req, _ = http.NewRequest(http.MethodGet, urls.Atera+"/api/v3/tickets?itemsInPage=50&customerId="+fmt.Sprint(contoso.CustomerID), nil)
	req.Header.Set("X-API-KEY", sim.AteraAPIKey())
	got = do(t, sim, req)
	if n, _ := got["totalItemCount"].(float64); int(n) != len(contoso.Tickets) {
		t.Errorf("Atera returned %v tickets for contoso, want %d", got["totalItemCount"], len(contoso.Tickets))
	}
	secrets = append(secrets, sim.AteraAPIKey())

	// SMTP: STARTTLS verified against the CA for smtp.office365.com, AUTH LOGIN.
	c, err := smtp.Dial(urls.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pool := sim.HTTPClient().Transport.(*http.Transport).TLSClientConfig.RootCAs
	if err := c.StartTLS(&tls.Config{ServerName: "smtp.office365.com", RootCAs: pool, MinVersion: tls.VersionTLS12}); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "LOGIN") {
		t.Fatalf("AUTH LOGIN not offered after STARTTLS: %q", mechs)
	}
	if err := c.Auth(loginAuth{contoso.SMTP["username"].(string), contoso.SMTPPassword}); err != nil {
		t.Errorf("SMTP login as contoso's helpdesk: %v", err)
	}
	_ = c.Quit()
	secrets = append(secrets, contoso.SMTPPassword)

	reqs := sim.Requests()
	for _, k := range []string{"login/northwind", "login/contoso", "exchange/northwind", "graph/contoso", "atera/contoso"} {
		if reqs[k] == 0 {
			t.Errorf("Requests()[%q] = 0; all: %v", k, reqs)
		}
	}
	if reqs["exchange/contoso"] != 0 {
		t.Errorf("Requests counted an Exchange call for contoso, which made none: %v", reqs)
	}

	text := logs.text()
	if !strings.Contains(text, "exchange northwind POST /adminapi/beta/") {
		t.Errorf("the log does not show the Exchange request:\n%s", text)
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret in the list")
		}
		if strings.Contains(text, s) {
			t.Errorf("a secret appears in the simulator's log")
		}
	}
}

// loginAuth is SASL LOGIN, which Office 365 offers and net/smtp lacks.
type loginAuth struct{ user, pass string }

func (a loginAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS {
		return "", nil, errors.New("refusing LOGIN without TLS")
	}
	return "LOGIN", nil, nil
}

func (a loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:":
		return []byte(a.user), nil
	case "password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}

func TestLatencyAndFaults(t *testing.T) {
	faults := &fault.Injector{}
	sim := start(t, simulator.Options{Tenants: fixture.Demo(), Faults: faults, Latency: 60 * time.Millisecond})
	if sim.Faults() != faults {
		t.Fatal("Faults() is not the injector given")
	}
	faults.Add(fault.Rule{Endpoint: "atera:tickets", Kind: fault.Throttle, Times: 1})
	req, _ := http.NewRequest(http.MethodGet, sim.URLs().Atera+"/api/v3/tickets", nil)
	req.Header.Set("X-API-KEY", sim.AteraAPIKey())
	began := time.Now()
	resp, err := sim.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want the injected 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if d := time.Since(began); d < 60*time.Millisecond {
		t.Errorf("request took %v, less than the simulated latency", d)
	}
}

func TestWriteConfigIsLoadable(t *testing.T) {
	sim := start(t, simulator.Options{Tenants: fixture.Demo()})
	dir := filepath.Join(t.TempDir(), "sim")
	path, err := sim.WriteConfig(dir)
	if err != nil {
		t.Fatalf("WriteConfig: %v", err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		data, _ := os.ReadFile(path)
		t.Fatalf("config.Load: %v\n%s", err, data)
	}
	urls := sim.URLs()
	if cfg.Endpoints.Login != urls.Login || cfg.Endpoints.Exchange != urls.Exchange ||
		cfg.Endpoints.Graph != urls.Graph || cfg.Endpoints.Atera != urls.Atera {
		t.Errorf("endpoints %+v, want %+v", cfg.Endpoints, urls)
	}
	if ca, err := os.ReadFile(cfg.Endpoints.CAFile); err != nil || !bytes.Equal(ca, sim.CAPEM()) {
		t.Errorf("ca_file %s does not hold the simulator CA (%v)", cfg.Endpoints.CAFile, err)
	}
	if cfg.Atera.APIKey == nil || readSecret(t, cfg.Atera.APIKey.File) != sim.AteraAPIKey() {
		t.Error("atera.api_key does not lead to the simulator's key")
	}
	if len(cfg.Tenants) != 3 {
		t.Fatalf("%d tenants, want 3", len(cfg.Tenants))
	}
	for _, ct := range cfg.Tenants {
		ft := byName(t, sim, ct.Name)
		if ct.TenantID != ft.TenantID || ct.ClientID != ft.ClientID ||
			ct.Atera.TicketingAddress != ft.TicketingAddress || ct.Atera.SupportAddress != ft.SupportAddress {
			t.Errorf("tenant %s: config %+v does not match the fixture", ct.Name, ct)
		}
		if ct.Atera.CustomerID == nil || int(*ct.Atera.CustomerID) != ft.CustomerID {
			t.Errorf("tenant %s: customer_id %v, want %d", ct.Name, ct.Atera.CustomerID, ft.CustomerID)
		}
		switch ct.Name {
		case "contoso":
			if ct.Certificate == nil || ct.ClientSecret != nil {
				t.Fatalf("contoso must sign in with its certificate: %+v", ct)
			}
			pem, err := os.ReadFile(ct.Certificate.File)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tls.X509KeyPair(pem, pem); err != nil {
				t.Errorf("contoso's certificate file is not a certificate with its key: %v", err)
			}
			if s := ct.Atera.SMTP; s == nil || s.Server != "smtp.office365.com" || s.Port != 587 || !s.SSL || s.Username != ft.SMTP["username"] {
				t.Errorf("contoso smtp %+v", ct.Atera.SMTP)
			}
			if ct.Atera.SMTPPassword == nil || readSecret(t, ct.Atera.SMTPPassword.File) != ft.SMTPPassword {
				t.Error("contoso's smtp_password does not lead to the fixture's password")
			}
		default:
			if ct.ClientSecret == nil || readSecret(t, ct.ClientSecret.File) != ft.ClientSecret {
				t.Errorf("%s's client_secret does not lead to the fixture's secret", ct.Name)
			}
			if ct.Atera.SMTP != nil {
				t.Errorf("%s uses Atera's default sender, got smtp %+v", ct.Name, ct.Atera.SMTP)
			}
		}
	}
	// The configuration itself holds no secret.
	text, _ := os.ReadFile(path)
	for _, ten := range sim.Tenants().All() {
		for _, s := range []string{ten.ClientSecret, ten.SMTPPassword} {
			if s != "" && bytes.Contains(text, []byte(s)) {
				t.Errorf("%s's secret is written inline in the configuration", ten.Name)
			}
		}
	}
	if bytes.Contains(text, []byte(sim.AteraAPIKey())) {
		t.Error("the Atera API key is written inline in the configuration")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		if e.Name() != simulator.ConfigFile && e.Name() != "ca.pem" && info.Mode().Perm()&0o077 != 0 {
			t.Errorf("secret file %s has mode %v", e.Name(), info.Mode().Perm())
		}
	}
}

func readSecret(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(data), "\n")
}

func TestCloseReleasesPorts(t *testing.T) {
	sim, err := simulator.Start(context.Background(), simulator.Options{Tenants: fixture.Demo()})
	if err != nil {
		t.Fatal(err)
	}
	urls := sim.URLs()
	addrs := []string{urls.SMTP}
	for _, u := range []string{urls.Login, urls.Exchange, urls.Graph, urls.Atera} {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, p.Host)
	}
	// An idle keep-alive connection must not keep a server alive.
	resp, err := sim.HTTPClient().Get(urls.Atera + "/api/v3/tickets")
	if err == nil {
		resp.Body.Close()
	}
	if err := sim.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := sim.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("port %s still in use after Close: %v", a, err)
			continue
		}
		ln.Close()
	}
}

func TestStartRejectsDuplicateTenants(t *testing.T) {
	a := fixture.Generate(fixture.GenerateOptions{Name: "acme", Seed: 1})
	b := fixture.Generate(fixture.GenerateOptions{Name: "acme", Seed: 2})
	if _, err := simulator.Start(context.Background(), simulator.Options{Tenants: []*fixture.Tenant{a, b}}); err == nil {
		t.Fatal("Start accepted two tenants with the same name")
	}
}

// The benchmark's tenants must be servable together: distinct names and
// customer ids.
func TestStartManyGeneratedTenants(t *testing.T) {
	var tenants []*fixture.Tenant
	for i := range 100 {
		tenants = append(tenants, fixture.Generate(fixture.GenerateOptions{Name: fmt.Sprintf("tenant-%03d", i), Mailboxes: 5}))
	}
	sim := start(t, simulator.Options{Tenants: tenants})
	if n := len(sim.Tenants().All()); n != 100 {
		t.Fatalf("%d tenants", n)
	}
	dup := *tenants[0]
	dup.Name, dup.TenantID = "copy", "00000000-0000-4000-8000-000000000001"
	if _, err := simulator.Start(context.Background(), simulator.Options{Tenants: []*fixture.Tenant{tenants[0], &dup}}); err == nil ||
		!strings.Contains(err.Error(), "customer id") {
		t.Errorf("Start with two tenants sharing a customer id: %v", err)
	}
}

// TestGeneratedShapesServe runs the cmdlets a collector filters server-side
// against a generated tenant, so the generator's shapes and the handlers'
// filters agree.
func TestGeneratedShapesServe(t *testing.T) {
	sim := start(t, simulator.Options{Tenants: fixture.Demo(), PageSize: 3})
	contoso := byName(t, sim, "contoso")
	tok := token(t, credential(t, sim, contoso), "https://outlook.office365.com")
	invoke := func(cmdlet string, params map[string]any) []any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}})
		var all []any
		next := sim.URLs().Exchange + "/adminapi/beta/" + contoso.TenantID + "/InvokeCommand"
		for pages := 0; next != ""; pages++ {
			if pages > 20 {
				t.Fatalf("%s: too many pages", cmdlet)
			}
			req, _ := http.NewRequest(http.MethodPost, next, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-AnchorMailbox", "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+contoso.TenantID)
			got := do(t, sim, req)
			v, _ := got["value"].([]any)
			all = append(all, v...)
			next, _ = got["@odata.nextLink"].(string)
		}
		return all
	}
	if n := len(invoke("Get-Mailbox", map[string]any{"ResultSize": "Unlimited"})); n != 10 {
		t.Errorf("Get-Mailbox over pages of 3: %d mailboxes, want 10", n)
	}
	fwd := invoke("Get-Mailbox", map[string]any{"Filter": "ForwardingAddress -ne $null -or ForwardingSmtpAddress -ne $null", "ResultSize": "Unlimited"})
	if len(fwd) != 1 || fwd[0].(map[string]any)["PrimarySmtpAddress"] != contoso.SupportAddress {
		t.Errorf("forwarding mailboxes: %v, want only %s", fwd, contoso.SupportAddress)
	}
	perms := invoke("Get-RecipientPermission", map[string]any{"Identity": contoso.SupportAddress, "AccessRights": "SendAs"})
	trustees := map[any]bool{}
	for _, p := range perms {
		trustees[p.(map[string]any)["Trustee"]] = true
	}
	if len(perms) != 2 || !trustees[contoso.SMTP["username"]] || !trustees[`NT AUTHORITY\SELF`] {
		t.Errorf("Send As on %s: %v", contoso.SupportAddress, perms)
	}
	cas := invoke("Get-CASMailbox", map[string]any{"Identity": contoso.SMTP["username"]})
	if len(cas) != 1 || cas[0].(map[string]any)["SmtpClientAuthenticationDisabled"] != false {
		t.Errorf("CAS mailbox of the SMTP user: %v", cas)
	}
	rules := invoke("Get-InboxRule", map[string]any{"Mailbox": contoso.SupportAddress})
	if len(rules) == 0 {
		t.Errorf("the support mailbox's inbox rules are missing")
	}
}
