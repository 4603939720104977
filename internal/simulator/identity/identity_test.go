package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/simulator/identity"
)

const (
	secretTenantID = "0b7c6f1e-2a44-4c0e-9d1f-5f3a9a2b7c10"
	certTenantID   = "6d1f0a2e-8b3c-4f5d-a6e7-1c2b3d4e5f60"
	testSecret     = "s3cr3t-value-that-must-never-leak"
)

type env struct {
	auth    *identity.Authority
	srv     *httptest.Server
	faults  *fault.Injector
	cert    *identity.ClientCertificate
	clock   *clock
	tenants *fixture.Set
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newEnv(t *testing.T, opts identity.Options) *env {
	t.Helper()
	cert, err := identity.NewClientCertificate("app-cert")
	if err != nil {
		t.Fatal(err)
	}
	set, err := fixture.NewSet(
		&fixture.Tenant{Name: "secret", TenantID: secretTenantID, Domain: "secret.onmicrosoft.com", ClientID: "app-secret", ClientSecret: testSecret},
		&fixture.Tenant{Name: "cert", TenantID: certTenantID, Domain: "cert.onmicrosoft.com", ClientID: "app-cert", CertificatePEM: cert.CertPEM},
	)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{faults: &fault.Injector{}, cert: cert, tenants: set}
	opts.Tenants = set
	opts.Faults = e.faults
	if opts.Now == nil {
		e.clock = &clock{now: time.Now()}
		opts.Now = e.clock.Now
	}
	e.auth, err = identity.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(e.auth)
	e.srv.TLS = e.auth.ServerTLSConfig()
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL + "/"},
		Transport: e.auth.HTTPClient(),
		Retry:     policy.RetryOptions{MaxRetries: 2, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
	}
}

func (e *env) secretCred(t *testing.T, secret string) azcore.TokenCredential {
	t.Helper()
	c, err := azidentity.NewClientSecretCredential(secretTenantID, "app-secret", secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) certCred(t *testing.T, keyPEM []byte) azcore.TokenCredential {
	t.Helper()
	certs, key, err := azidentity.ParseCertificates(keyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azidentity.NewClientCertificateCredential(certTenantID, "app-cert", certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var exchangeScope = policy.TokenRequestOptions{Scopes: []string{identity.ExchangeAudience + "/.default"}}

func TestSecretCredentialGetsAValidTokenAndCachesIt(t *testing.T) {
	e := newEnv(t, identity.Options{})
	cred := e.secretCred(t, testSecret)
	ctx := context.Background()
	tok, err := cred.GetToken(ctx, exchangeScope)
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Until(tok.ExpiresOn); got < 50*time.Minute {
		t.Errorf("token expires in %s, want about an hour", got)
	}
	tid, err := e.auth.Validate("Bearer "+tok.Token, "https://outlook.office365.com/")
	if err != nil || tid != secretTenantID {
		t.Fatalf("Validate = %q, %v; want %s", tid, err, secretTenantID)
	}
	if _, err := e.auth.Validate("Bearer "+tok.Token, identity.GraphAudience); err == nil {
		t.Error("an Exchange token was accepted for Graph")
	}
	if _, err := e.auth.Validate("Bearer not-a-token", identity.ExchangeAudience); err == nil {
		t.Error("an unknown token was accepted")
	}
	if _, err := e.auth.Validate(tok.Token, identity.ExchangeAudience); err == nil {
		t.Error("a token without the Bearer scheme was accepted")
	}
	if _, err := cred.GetToken(ctx, exchangeScope); err != nil {
		t.Fatal(err)
	}
	if n := e.auth.TokenRequests(secretTenantID); n != 1 {
		t.Errorf("token requests = %d, want 1 (the second call is served from the cache)", n)
	}
}

func TestCertificateCredential(t *testing.T) {
	e := newEnv(t, identity.Options{})
	tok, err := e.certCred(t, e.cert.KeyPEM).GetToken(context.Background(), exchangeScope)
	if err != nil {
		t.Fatal(err)
	}
	if tid, err := e.auth.Validate("Bearer "+tok.Token, identity.ExchangeAudience); err != nil || tid != certTenantID {
		t.Fatalf("Validate = %q, %v", tid, err)
	}
}

func TestCertificateNotRegisteredIsRefused(t *testing.T) {
	e := newEnv(t, identity.Options{})
	other, err := identity.NewClientCertificate("app-cert")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.certCred(t, other.KeyPEM).GetToken(context.Background(), exchangeScope)
	if err == nil {
		t.Fatal("an assertion signed by an unregistered certificate was accepted")
	}
	if !strings.Contains(err.Error(), "AADSTS700027") {
		t.Errorf("error = %v, want AADSTS700027", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Error("the error carries key material")
	}
}

func TestWrongSecretIsRefusedWithoutEchoingIt(t *testing.T) {
	e := newEnv(t, identity.Options{})
	const wrong = "wrong-secret-do-not-echo"
	_, err := e.secretCred(t, wrong).GetToken(context.Background(), exchangeScope)
	if err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		t.Fatalf("error %T is not an AuthenticationFailedError: %v", err, err)
	}
	if afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusUnauthorized {
		t.Errorf("response = %v, want 401", afe.RawResponse)
	}
	for _, want := range []string{"invalid_client", "AADSTS7000215"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	for _, secret := range []string{wrong, testSecret} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error carries a secret: %v", err)
		}
	}
}

// post sends a raw token request, for the cases azidentity never produces.
func (e *env) post(t *testing.T, tenant string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := e.auth.HTTPClient().PostForm(e.srv.URL+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t, identity.Options{})
	ok := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-secret"}, "client_secret": {testSecret}, "scope": {"https://outlook.office365.com/.default"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vals := range ok {
			f[key] = vals
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name, tenant string
		form         url.Values
		status       int
		code         string
		aadsts       float64
	}{
		{"by domain", "secret.onmicrosoft.com", ok, 200, "", 0},
		{"unknown tenant", "nobody.onmicrosoft.com", ok, 400, "invalid_request", 90002},
		{"unknown client", secretTenantID, with("client_id", "someone-else"), 400, "unauthorized_client", 700016},
		{"scope without /.default", secretTenantID, with("scope", "https://outlook.office365.com/Exchange.ManageAsApp"), 400, "invalid_scope", 1002012},
		{"unknown resource", secretTenantID, with("scope", "https://example.com/.default"), 400, "invalid_resource", 500011},
		{"no credential", secretTenantID, with("client_secret", ""), 401, "invalid_client", 7000218},
		{"wrong grant", secretTenantID, with("grant_type", "password"), 400, "unsupported_grant_type", 70003},
		{"garbage assertion", certTenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-cert"}, "scope": {"https://graph.microsoft.com/.default"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"a.b.c"}}, 401, "invalid_client", 50027},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.post(t, c.tenant, c.form)
			if status != c.status {
				t.Fatalf("status = %d, want %d: %v", status, c.status, body)
			}
			if c.status == 200 {
				if body["token_type"] != "Bearer" || body["access_token"] == "" || body["expires_in"] != float64(3599) || body["ext_expires_in"] != float64(3599) {
					t.Errorf("body = %v", body)
				}
				return
			}
			if body["error"] != c.code {
				t.Errorf("error = %v, want %s", body["error"], c.code)
			}
			codes, _ := body["error_codes"].([]any)
			if len(codes) != 1 || codes[0] != c.aadsts {
				t.Errorf("error_codes = %v, want [%v]", body["error_codes"], c.aadsts)
			}
			if d, _ := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS") || !strings.Contains(d, "Trace ID:") {
				t.Errorf("error_description = %q", d)
			}
			if strings.Contains(body["error_description"].(string), testSecret) {
				t.Error("error carries the secret")
			}
		})
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	e := newEnv(t, identity.Options{})
	resp, err := e.auth.HTTPClient().Get(e.srv.URL + "/secret.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"token_endpoint":         e.srv.URL + "/" + secretTenantID + "/oauth2/v2.0/token",
		"issuer":                 e.srv.URL + "/" + secretTenantID + "/v2.0",
		"authorization_endpoint": e.srv.URL + "/" + secretTenantID + "/oauth2/v2.0/authorize",
		"jwks_uri":               e.srv.URL + "/" + secretTenantID + "/discovery/v2.0/keys",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %s", k, doc[k], v)
		}
	}
}

func TestShortLifetimeRefreshesEveryTime(t *testing.T) {
	e := newEnv(t, identity.Options{TokenLifetime: 2 * time.Second, Now: time.Now})
	cred := e.secretCred(t, testSecret)
	var last string
	for i := range 3 {
		tok, err := cred.GetToken(context.Background(), exchangeScope)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Token == last {
			t.Errorf("call %d reused a token inside the refresh window", i)
		}
		last = tok.Token
	}
	if n := e.auth.TokenRequests(secretTenantID); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
}

func TestValidateRefusesExpiredTokens(t *testing.T) {
	e := newEnv(t, identity.Options{TokenLifetime: time.Minute})
	tok, err := e.secretCred(t, testSecret).GetToken(context.Background(), exchangeScope)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Validate("Bearer "+tok.Token, identity.ExchangeAudience); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	_, err = e.auth.Validate("Bearer "+tok.Token, identity.ExchangeAudience)
	var te *identity.TokenError
	if !errors.As(err, &te) || !te.Expired {
		t.Fatalf("err = %v, want an expired TokenError", err)
	}
	if strings.Contains(err.Error(), tok.Token) {
		t.Error("the error carries the token")
	}
}

func TestExpireTokens(t *testing.T) {
	e := newEnv(t, identity.Options{})
	tok, err := e.secretCred(t, testSecret).GetToken(context.Background(), exchangeScope)
	if err != nil {
		t.Fatal(err)
	}
	e.auth.ExpireTokens(secretTenantID)
	if _, err := e.auth.Validate("Bearer "+tok.Token, identity.ExchangeAudience); err == nil {
		t.Fatal("an expired token was accepted")
	}
}

func TestTokenFaultIsRetriedByAzidentity(t *testing.T) {
	e := newEnv(t, identity.Options{})
	e.faults.Add(fault.Rule{Endpoint: identity.FaultEndpoint, Kind: fault.Throttle, Times: 1, RetryAfter: time.Second})
	if _, err := e.secretCred(t, testSecret).GetToken(context.Background(), exchangeScope); err != nil {
		t.Fatal(err)
	}
	if n := e.auth.TokenRequests(secretTenantID); n != 2 {
		t.Errorf("token requests = %d, want 2 (one throttled, one retried)", n)
	}
	if e.faults.Hits(identity.FaultEndpoint) != 1 {
		t.Error("the fault did not fire")
	}
}

func TestCAAndTLS(t *testing.T) {
	e := newEnv(t, identity.Options{})
	if !strings.Contains(string(e.auth.CAPEM()), "BEGIN CERTIFICATE") {
		t.Fatal("CAPEM is not a PEM certificate")
	}
	// A client that does not trust the simulator CA is refused.
	resp, err := http.Get(e.srv.URL + "/" + secretTenantID + "/v2.0/.well-known/openid-configuration")
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Fatal("the system trust store accepted the simulator certificate")
	}
	// A second service with its own leaf from the same CA is trusted.
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	other.TLS = e.auth.ServerTLSConfig("sim.example")
	other.StartTLS()
	defer other.Close()
	resp, err = e.auth.HTTPClient().Get(other.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
