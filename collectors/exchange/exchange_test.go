package exchange_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ticketguard/ticketguard/collectors"
	"github.com/ticketguard/ticketguard/collectors/exchange"
	simexchange "github.com/ticketguard/ticketguard/internal/simulator/exchange"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/simulator/identity"
)

const (
	smtpTenant    = "fc886aff-8df2-4fff-bc0e-3eca8529e4b7" // compliant-custom-smtp (tailspintoys)
	mailboxTenant = "e2d419ac-3af9-4da2-831c-750e799ecd60" // compliant-mailbox (contosodental)
)

// world is the simulated Entra ID and Exchange Online, each on its own TLS
// listener with certificates from the simulator CA, as in production.
type world struct {
	t       *testing.T
	tenants *fixture.Set
	auth    *identity.Authority
	exo     *simexchange.Handler
	faults  *fault.Injector
	authURL string
	exoURL  string
	cert    *identity.ClientCertificate

	mu     sync.Mutex
	tokens []string // every bearer token sent to Exchange
}

func newWorld(t *testing.T, idOpts identity.Options, exoOpts simexchange.Options) *world {
	t.Helper()
	var tenants []*fixture.Tenant
	for _, name := range []string{"compliant-custom-smtp", "compliant-mailbox"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tenants", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		tn, err := fixture.FromSnapshot(data)
		if err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, tn)
	}
	cert, err := identity.NewClientCertificate("ticketguard-test")
	if err != nil {
		t.Fatal(err)
	}
	tenants[1].CertificatePEM = cert.CertPEM // contosodental signs in with a certificate
	set, err := fixture.NewSet(tenants...)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, tenants: set, faults: &fault.Injector{}, cert: cert}
	idOpts.Tenants, idOpts.Faults = set, w.faults
	if w.auth, err = identity.New(idOpts); err != nil {
		t.Fatal(err)
	}
	exoOpts.Tenants, exoOpts.Tokens, exoOpts.Faults = set, w.auth, w.faults
	if w.exo, err = simexchange.New(exoOpts); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		h   http.Handler
		url *string
	}{{w.auth, &w.authURL}, {w.exo, &w.exoURL}} {
		srv := httptest.NewUnstartedServer(s.h)
		srv.TLS = w.auth.ServerTLSConfig()
		srv.StartTLS()
		t.Cleanup(srv.Close)
		*s.url = srv.URL
	}
	return w
}

// recordingTransport notes the bearer tokens the client sends.
type recordingTransport struct {
	w    *world
	next http.RoundTripper
}

func (r recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		r.w.mu.Lock()
		r.w.tokens = append(r.w.tokens, tok)
		r.w.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (w *world) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: w.authURL + "/"},
		Transport: w.auth.HTTPClient(),
	}
}

func (w *world) secretCred(tenantID, secret string) azcore.TokenCredential {
	w.t.Helper()
	tn, _ := w.tenants.ByID(tenantID)
	c, err := azidentity.NewClientSecretCredential(tenantID, tn.ClientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: w.clientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) certCred(tenantID string) azcore.TokenCredential {
	w.t.Helper()
	tn, _ := w.tenants.ByID(tenantID)
	certs, key, err := azidentity.ParseCertificates(w.cert.KeyPEM, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := azidentity.NewClientCertificateCredential(tenantID, tn.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: w.clientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) client(tenantID string, cred azcore.TokenCredential, mod func(*exchange.Options)) (*exchange.Client, *collectors.Stats) {
	w.t.Helper()
	stats := &collectors.Stats{}
	base := w.auth.HTTPClient()
	httpClient := &http.Client{Transport: recordingTransport{w: w, next: base.Transport}}
	opts := exchange.Options{
		Endpoint:      w.exoURL,
		TenantID:      tenantID,
		Credential:    cred,
		HTTPClient:    httpClient,
		RetryDelay:    10 * time.Millisecond,
		MaxRetryDelay: 3 * time.Second,
		Stats:         stats,
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := exchange.New(opts)
	if err != nil {
		w.t.Fatal(err)
	}
	return c, stats
}

func (w *world) smtpClient(mod func(*exchange.Options)) (*exchange.Client, *collectors.Stats) {
	return w.client(smtpTenant, w.secretCred(smtpTenant, "secret-compliant-custom-smtp"), mod)
}

var tailspin = exchange.TenantWide{SupportAddress: "support@tailspintoys.com", SMTPUser: "helpdesk@tailspintoys.com"}

func aliases(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, o := range list {
		if a, ok := o.(map[string]any)["Alias"].(string); ok {
			out = append(out, a)
		} else if p, ok := o.(map[string]any)["PrimarySmtpAddress"].(string); ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func errorSources(p *collectors.Partial) []string {
	var out []string
	for _, e := range p.Errors() {
		out = append(out, e.Source)
	}
	return out
}

func errorFor(p *collectors.Partial, source string) string {
	for _, e := range p.Errors() {
		if e.Source == source {
			return e.Message
		}
	}
	return ""
}

func TestCollectTenantWideWithSecret(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	var progress []string
	var mu sync.Mutex
	c, stats := w.smtpClient(func(o *exchange.Options) {
		o.OnCmdlet = func(s string) { mu.Lock(); progress = append(progress, s); mu.Unlock() }
	})
	p := collectors.NewPartial(nil)
	c.CollectTenantWide(context.Background(), p, tailspin)

	if errs := p.Errors(); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	ex := p.Exchange()
	for _, cmdlet := range append(slices.Clone(exchange.TenantWideCmdlets), "Get-CASMailbox") {
		if _, ok := ex[cmdlet]; !ok {
			t.Errorf("%s not collected", cmdlet)
		}
	}
	// The filter returns the forwarding support mailbox and the SMTP user,
	// not the tenant's other mailboxes.
	if got := aliases(ex["Get-Mailbox"]); !slices.Equal(got, []string{"helpdesk", "support"}) {
		t.Errorf("Get-Mailbox = %v, want helpdesk and support", got)
	}
	if got := aliases(ex["Get-CASMailbox"]); !slices.Equal(got, []string{"helpdesk@tailspintoys.com"}) {
		t.Errorf("Get-CASMailbox = %v", got)
	}
	// Objects are kept raw, annotations included.
	mbx := ex["Get-Mailbox"].([]any)[0].(map[string]any)
	if mbx["EmailAddresses@odata.type"] != "#Collection(String)" {
		t.Error("annotations were stripped")
	}
	if n := stats.Requests.Load(); n != int64(len(exchange.TenantWideCmdlets)+1) {
		t.Errorf("%d requests, want one per cmdlet (%d)", n, len(exchange.TenantWideCmdlets)+1)
	}
	if n := w.auth.TokenRequests(smtpTenant); n != 1 {
		t.Errorf("%d token requests, want 1 (cached)", n)
	}
	if len(progress) != len(exchange.TenantWideCmdlets)+1 {
		t.Errorf("OnCmdlet saw %v", progress)
	}
	// Get-Mailbox asked with ResultSize=Unlimited: the simulator refuses it on
	// cmdlets that lack it, so every call having succeeded shows the table agrees.
	if w.exo.Calls(smtpTenant, "Get-Mailbox") != 1 {
		t.Errorf("Get-Mailbox called %d times", w.exo.Calls(smtpTenant, "Get-Mailbox"))
	}
}

func TestCertificateAuth(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	c, _ := w.client(mailboxTenant, w.certCred(mailboxTenant), nil)
	p := collectors.NewPartial(nil)
	c.CollectTenantWide(context.Background(), p, exchange.TenantWide{SupportAddress: "support@contosodental.com"})
	if errs := p.Errors(); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if got := aliases(p.Exchange()["Get-Mailbox"]); !slices.Equal(got, []string{"support"}) {
		t.Errorf("Get-Mailbox = %v", got)
	}
	if _, ok := p.Exchange()["Get-CASMailbox"]; ok {
		t.Error("Get-CASMailbox collected without an SMTP user")
	}
	if n := w.auth.TokenRequests(mailboxTenant); n != 1 {
		t.Errorf("%d token requests", n)
	}
}

func TestPagingThreePages(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{PageSize: 2})
	c, stats := w.smtpClient(nil)
	objs, err := c.Invoke(context.Background(), "Get-Mailbox", nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range objs {
		seen[o["Alias"].(string)] = true
	}
	if len(objs) != 5 || len(seen) != 5 {
		t.Fatalf("%d objects (%d distinct), want 5", len(objs), len(seen))
	}
	if n := stats.Requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3 pages", n)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-AcceptedDomain", Kind: fault.Throttle, Times: 1, RetryAfter: time.Second})
	c, stats := w.smtpClient(nil)
	start := time.Now()
	objs, err := c.Invoke(context.Background(), "Get-AcceptedDomain", nil)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %s, before Retry-After", el)
	}
	if len(objs) != 3 {
		t.Errorf("%d domains", len(objs))
	}
	if stats.Throttled.Load() != 1 || stats.Retries.Load() != 1 || stats.Requests.Load() != 2 {
		t.Errorf("stats: %d requests, %d retries, %d throttled", stats.Requests.Load(), stats.Retries.Load(), stats.Throttled.Load())
	}
}

func TestServerErrorsBackOffThenSucceed(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-RemoteDomain", Kind: fault.ServerError, Times: 2})
	c, stats := w.smtpClient(nil)
	if _, err := c.Invoke(context.Background(), "Get-RemoteDomain", nil); err != nil {
		t.Fatal(err)
	}
	if stats.Retries.Load() != 2 || stats.Throttled.Load() != 0 {
		t.Errorf("stats: %d retries, %d throttled", stats.Retries.Load(), stats.Throttled.Load())
	}
}

func TestExhaustedRetriesAreRecordedAndOthersSucceed(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-TransportRule", Kind: fault.ServerError})
	c, stats := w.smtpClient(func(o *exchange.Options) { o.MaxRetries = 2 })
	p := collectors.NewPartial(nil)
	c.CollectTenantWide(context.Background(), p, tailspin)
	if got := errorSources(p); !slices.Equal(got, []string{"Get-TransportRule"}) {
		t.Fatalf("errors = %v", p.Errors())
	}
	msg := errorFor(p, "Get-TransportRule")
	for _, want := range []string{"HTTP 503", "simulated server error 503", "after 3 attempts"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if _, ok := p.Exchange()["Get-TransportRule"]; ok {
		t.Error("a failed cmdlet left a key")
	}
	if _, ok := p.Exchange()["Get-RemoteDomain"]; !ok {
		t.Error("the other cmdlets were not collected")
	}
	if w.exo.Calls(smtpTenant, "Get-TransportRule") != 3 || stats.Retries.Load() != 2 {
		t.Errorf("%d calls, %d retries", w.exo.Calls(smtpTenant, "Get-TransportRule"), stats.Retries.Load())
	}
}

func TestRetryBudgetStopsWaiting(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-AcceptedDomain", Kind: fault.Throttle, RetryAfter: time.Second})
	c, stats := w.smtpClient(func(o *exchange.Options) { o.RetryBudget = 500 * time.Millisecond })
	start := time.Now()
	_, err := c.Invoke(context.Background(), "Get-AcceptedDomain", nil)
	var xe *exchange.Error
	if !errors.As(err, &xe) || xe.Status != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want a 429 Error", err)
	}
	if time.Since(start) >= 900*time.Millisecond || stats.Requests.Load() != 1 {
		t.Errorf("waited %s over %d requests with a budget smaller than Retry-After", time.Since(start), stats.Requests.Load())
	}
	if !strings.Contains(err.Error(), "Retry-After: 1") {
		t.Errorf("error %q does not say how long the service asked to wait", err)
	}
}

// A negative budget turns retries off (ticketguard passes one when
// collect.retry_budget is 0), as for the Graph and Atera collectors.
func TestNegativeRetryBudgetMeansNoRetries(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-RemoteDomain", Kind: fault.ServerError, Times: 1})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-AcceptedDomain", Kind: fault.Throttle, Times: 1, RetryAfter: time.Second})
	c, stats := w.smtpClient(func(o *exchange.Options) { o.RetryBudget = -1 })
	for _, cmdlet := range []string{"Get-RemoteDomain", "Get-AcceptedDomain"} {
		if _, err := c.Invoke(context.Background(), cmdlet, nil); err == nil {
			t.Errorf("%s: a failure was retried with retries off", cmdlet)
		}
	}
	if stats.Requests.Load() != 2 || stats.Retries.Load() != 0 {
		t.Errorf("%d requests, %d retries; want 2 and none", stats.Requests.Load(), stats.Retries.Load())
	}
}

func TestTokenRefreshAfterExpiry(t *testing.T) {
	w := newWorld(t, identity.Options{TokenLifetime: time.Second}, simexchange.Options{})
	c, _ := w.smtpClient(nil)
	ctx := context.Background()
	if _, err := c.Invoke(ctx, "Get-AcceptedDomain", nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the first token is now expired server-side
	if _, err := c.Invoke(ctx, "Get-RemoteDomain", nil); err != nil {
		t.Fatal(err)
	}
	if n := w.auth.TokenRequests(smtpTenant); n < 2 {
		t.Errorf("%d token requests; the expired token was not refreshed", n)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.tokens) != 2 || w.tokens[0] == w.tokens[1] {
		t.Errorf("tokens sent: %d, distinct: %v", len(w.tokens), len(w.tokens) == 2 && w.tokens[0] != w.tokens[1])
	}
}

func TestWrongSecretIsOneAuthError(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	const wrong = "not-the-secret-0123456789"
	c, stats := w.client(smtpTenant, w.secretCred(smtpTenant, wrong), nil)
	p := collectors.NewPartial(nil)
	c.CollectTenantWide(context.Background(), p, tailspin)
	if got := errorSources(p); !slices.Equal(got, []string{"auth"}) {
		t.Fatalf("errors = %v, want one auth error", p.Errors())
	}
	msg := errorFor(p, "auth")
	if !strings.Contains(msg, "AADSTS7000215") || strings.Contains(msg, wrong) {
		t.Errorf("auth error = %q", msg)
	}
	if len(p.Exchange()) != 0 || stats.Requests.Load() != 0 {
		t.Errorf("collected %v with %d requests after a token failure", p.Exchange(), stats.Requests.Load())
	}
}

func TestForbiddenNULCmdletIsRecordedWhileOthersSucceed(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{ForbiddenNUL: true})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-HostedConnectionFilterPolicy", Kind: fault.Forbidden})
	c, _ := w.smtpClient(nil)
	p := collectors.NewPartial(nil)
	c.CollectTenantWide(context.Background(), p, tailspin)
	if got := errorSources(p); !slices.Equal(got, []string{"Get-HostedConnectionFilterPolicy"}) {
		t.Fatalf("errors = %v", p.Errors())
	}
	msg := errorFor(p, "Get-HostedConnectionFilterPolicy")
	for _, want := range []string{"HTTP 403", "4096 NUL bytes", "Global Reader"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.ContainsRune(msg, 0) {
		t.Error("the error carries NUL bytes")
	}
	if len(p.Exchange()) != len(exchange.TenantWideCmdlets) { // 13 - 1 + CAS
		t.Errorf("%d cmdlets collected", len(p.Exchange()))
	}
}

func TestTruncatedBodyIsAnError(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-Mailbox", Kind: fault.Truncate})
	c, _ := w.smtpClient(nil)
	objs, err := c.Invoke(context.Background(), "Get-Mailbox", nil)
	if err == nil || objs != nil {
		t.Fatalf("a truncated body gave %d objects, err %v", len(objs), err)
	}
	if !strings.Contains(err.Error(), "not complete JSON") {
		t.Errorf("err = %v", err)
	}
}

func TestIncompleteAnswersAreErrors(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{PageSize: 2, ExpireNextLinks: true})
	c, _ := w.smtpClient(nil)
	ctx := context.Background()
	// A page whose nextLink cannot be replayed.
	if objs, err := c.Invoke(ctx, "Get-Mailbox", nil); err == nil || objs != nil || !strings.Contains(err.Error(), "Expired or Invalid pagination request") {
		t.Errorf("expired nextLink: %d objects, err %v", len(objs), err)
	}
	// A ResultSize cut: "more results" warning and no nextLink.
	if objs, err := c.Invoke(ctx, "Get-Mailbox", map[string]any{"ResultSize": 1}); err == nil || objs != nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("ResultSize cut: %d objects, err %v", len(objs), err)
	}
}

func TestUnknownCmdletError(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	c, _ := w.smtpClient(nil)
	_, err := c.Invoke(context.Background(), "Get-Nonsense", nil)
	var xe *exchange.Error
	if !errors.As(err, &xe) {
		t.Fatalf("err = %v", err)
	}
	if xe.Status != 400 || xe.Type != "System.Management.Automation.CommandNotFoundException" || !strings.HasPrefix(xe.Message, "The term 'Get-Nonsense' is not recognized") {
		t.Errorf("error = %+v", xe)
	}
}

func TestCollectWants(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-DistributionGroupMember", Kind: fault.Forbidden})
	c, _ := w.smtpClient(nil)
	p := collectors.NewPartial(nil)
	ctx := context.Background()
	c.CollectTenantWide(ctx, p, tailspin)
	c.CollectWants(ctx, p, collectors.Wants{
		GroupMembers:         []string{"everyone@tailspintoys.com"},
		InboxRules:           []string{"support@tailspintoys.com"},
		RecipientPermissions: []string{"support@tailspintoys.com"},
		CASMailboxes:         []string{"helpdesk@tailspintoys.com", "orders@tailspintoys.com", "nobody@tailspintoys.com"},
		Mailboxes:            []string{"gabriel.ortiz@tailspintoys.com", "Support", "e3bf807a-7811-4e33-8c0b-18364c6d15d2"},
	})
	if got := errorSources(p); !slices.Equal(got, []string{"Get-DistributionGroupMember"}) {
		t.Fatalf("errors = %v", p.Errors())
	}
	if msg := errorFor(p, "Get-DistributionGroupMember"); !strings.HasPrefix(msg, "everyone@tailspintoys.com: ") || !strings.Contains(msg, "HTTP 403") {
		t.Errorf("per-recipient error = %q", msg)
	}
	ex := p.Exchange()
	rules, _ := ex["Get-InboxRule"].(map[string]any)["support@tailspintoys.com"].([]any)
	if len(rules) != 1 {
		t.Errorf("inbox rules = %v", ex["Get-InboxRule"])
	} else if id := rules[0].(map[string]any)["RuleIdentity"]; id != json.Number("16554222777665994753") {
		t.Errorf("RuleIdentity = %#v, want the exact uint64", id)
	}
	if perms, _ := ex["Get-RecipientPermission"].([]any); len(perms) != 2 {
		t.Errorf("permissions = %v", ex["Get-RecipientPermission"])
	}
	if got := aliases(ex["Get-CASMailbox"]); !slices.Equal(got, []string{"helpdesk@tailspintoys.com", "orders@tailspintoys.com"}) {
		t.Errorf("CAS mailboxes = %v (helpdesk once, orders added, nobody absent)", got)
	}
	if got := aliases(ex["Get-Mailbox"]); !slices.Equal(got, []string{"gabriel.ortiz", "helpdesk", "support"}) {
		t.Errorf("mailboxes = %v (gabriel added, support not twice, the contact ignored)", got)
	}
}

// TestNoSecretInAnyOutput runs failing and succeeding collections with every
// log event enabled and searches all output for the secrets and tokens.
func TestNoSecretInAnyOutput(t *testing.T) {
	var logMu sync.Mutex
	var logs strings.Builder
	azlog.SetListener(func(ev azlog.Event, msg string) {
		logMu.Lock()
		defer logMu.Unlock()
		logs.WriteString(string(ev) + ": " + msg + "\n")
	})
	defer azlog.SetListener(nil)

	w := newWorld(t, identity.Options{}, simexchange.Options{ForbiddenNUL: true})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-TransportRule", Kind: fault.ServerError})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-AntiPhishRule", Kind: fault.Forbidden})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-RemoteDomain", Kind: fault.ExpiredToken})
	ctx := context.Background()

	var outputs []string
	run := func(c *exchange.Client, tw exchange.TenantWide) {
		p := collectors.NewPartial(nil)
		c.CollectTenantWide(ctx, p, tw)
		c.CollectWants(ctx, p, collectors.Wants{InboxRules: []string{"support@tailspintoys.com"}, Mailboxes: []string{"nobody"}})
		b, _ := json.Marshal(map[string]any{"sections": p.Sections(), "errors": p.Errors()})
		outputs = append(outputs, string(b))
	}
	sc, _ := w.smtpClient(func(o *exchange.Options) { o.MaxRetries = 1 })
	run(sc, tailspin)
	cc, _ := w.client(mailboxTenant, w.certCred(mailboxTenant), func(o *exchange.Options) { o.MaxRetries = 1 })
	run(cc, exchange.TenantWide{SupportAddress: "support@contosodental.com"})
	const wrongSecret = "wrong-secret-9f8e7d6c5b4a"
	bad, _ := w.client(smtpTenant, w.secretCred(smtpTenant, wrongSecret), nil)
	run(bad, tailspin)
	if _, err := bad.Invoke(ctx, "Get-Mailbox", nil); err != nil {
		outputs = append(outputs, err.Error())
	}

	logMu.Lock()
	outputs = append(outputs, logs.String())
	logMu.Unlock()
	all := strings.Join(outputs, "\n")
	if !strings.Contains(all, "AADSTS7000215") || !strings.Contains(all, "HTTP 503") {
		t.Fatal("the failures did not happen; the search below would prove nothing")
	}
	secrets := []string{"secret-compliant-custom-smtp", wrongSecret, "PRIVATE KEY", string(w.cert.KeyPEM[len(w.cert.CertPEM)+30 : len(w.cert.CertPEM)+90])}
	w.mu.Lock()
	if len(w.tokens) == 0 {
		t.Fatal("no tokens recorded")
	}
	secrets = append(secrets, w.tokens...)
	w.mu.Unlock()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("output contains a secret or token (%.12s…)", s)
		}
	}
}

// A recorded error's source is the cmdlet, so its message does not name the
// cmdlet again ("Get-X: Get-X: HTTP 403" in every report): it reads
// "HTTP 403: ...", or "<address>: HTTP 403: ..." for a per-recipient call.
func TestRecordedErrorsNameTheCmdletOnce(t *testing.T) {
	w := newWorld(t, identity.Options{}, simexchange.Options{})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-TransportRule", Kind: fault.Forbidden})
	w.faults.Add(fault.Rule{Endpoint: "exchange:Get-InboxRule", Kind: fault.Forbidden})
	c, _ := w.smtpClient(nil)
	p := collectors.NewPartial(nil)
	ctx := context.Background()
	c.CollectTenantWide(ctx, p, tailspin)
	c.CollectWants(ctx, p, collectors.Wants{InboxRules: []string{"support@tailspintoys.com"}})
	if got := errorSources(p); !slices.Equal(got, []string{"Get-InboxRule", "Get-TransportRule"}) {
		t.Fatalf("errors = %v", p.Errors())
	}
	for source, prefix := range map[string]string{
		"Get-TransportRule": "HTTP 403: ",
		"Get-InboxRule":     "support@tailspintoys.com: HTTP 403: ",
	} {
		msg := errorFor(p, source)
		if !strings.HasPrefix(msg, prefix) || strings.Contains(msg, source+":") {
			t.Errorf("%s: message %q, want it to start %q and not repeat the cmdlet", source, msg, prefix)
		}
	}
	// Invoke's own error still names the cmdlet: it stands alone.
	_, err := c.Invoke(ctx, "Get-TransportRule", nil)
	var xe *exchange.Error
	if !errors.As(err, &xe) || !strings.HasPrefix(err.Error(), "Get-TransportRule: HTTP 403: ") {
		t.Errorf("Invoke error = %v", err)
	}
}
