package credential

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ticketguard/ticketguard/internal/config"
)

const (
	tenantID    = "7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f"
	clientID    = "1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90"
	exchangeAPI = "https://outlook.office365.com/.default"
	pfxPassword = "test-pfx-password"
)

// Distinctive values, so a search for them in any output cannot match by accident.
const (
	goodSecret  = "Xq8~goodSecret.3Fv_0b1c2d3e4f5g6h7i8j9k"
	wrongSecret = "Zz9~wrongSecret.7Kp_9a8b7c6d5e4f3g2h1i0j"
)

func newTenant() config.Tenant {
	return config.Tenant{Name: "acme", TenantID: tenantID, ClientID: clientID}
}

// getToken builds the credential against the fake and asks for an Exchange token.
func getToken(t *testing.T, f *fakeEntra, tenant config.Tenant, login string) (azcore.AccessToken, error) {
	t.Helper()
	client, err := HTTPClient(f.caFile(t))
	if err != nil {
		t.Fatalf("HTTPClient: %v", err)
	}
	cred, err := New(context.Background(), tenant, config.Endpoints{Login: login}, client)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{exchangeAPI}})
}

func TestSecretSentOnlyInTokenFormBody(t *testing.T) {
	f := newFakeEntra(t, tenantID, clientID)
	f.secret = goodSecret
	t.Setenv("TG_TEST_CLIENT_SECRET", goodSecret)
	tenant := newTenant()
	tenant.ClientSecret = &config.Secret{Env: "TG_TEST_CLIENT_SECRET"}

	// A trailing slash on the login endpoint must not double up in the authority.
	tok, err := getToken(t, f, tenant, f.srv.URL+"/")
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if tok.Token != fakeToken {
		t.Fatalf("token = %q, want the fake's", tok.Token)
	}
	if f.unexpected != nil {
		t.Fatalf("unexpected requests (instance discovery should be off for a local host): %v", f.unexpected)
	}

	inBody := 0
	for _, r := range f.recorded() {
		if strings.Contains(r.Path, goodSecret) || strings.Contains(r.RawQuery, goodSecret) {
			t.Errorf("%s %s: secret in the URL", r.Method, r.Path)
		}
		for name, values := range r.Header {
			if strings.Contains(strings.Join(values, " "), goodSecret) {
				t.Errorf("%s %s: secret in header %s", r.Method, r.Path, name)
			}
		}
		if strings.Contains(r.Body, goodSecret) {
			if r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/oauth2/v2.0/token") {
				t.Errorf("%s %s: secret in a body that is not the token request's", r.Method, r.Path)
			}
			form, err := parseForm(r.Body)
			if err != nil || form["client_secret"] != goodSecret {
				t.Errorf("token request: secret not in the client_secret form field: %v", err)
			}
			if !slices.Contains(strings.Fields(form["scope"]), exchangeAPI) || form["grant_type"] != "client_credentials" || form["client_id"] != clientID {
				t.Errorf("token request: scope %q, grant_type %q, client_id %q", form["scope"], form["grant_type"], form["client_id"])
			}
			inBody++
		}
	}
	if inBody != 1 {
		t.Errorf("secret sent in %d token requests, want 1", inBody)
	}

	// azidentity caches the token: a second call must not sign in again.
	if _, err := getToken(t, f, tenant, f.srv.URL); err != nil {
		t.Fatal(err)
	}
}

func TestTokenIsCachedAcrossCalls(t *testing.T) {
	f := newFakeEntra(t, tenantID, clientID)
	f.secret = goodSecret
	tenant := newTenant()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(goodSecret+"\n"), 0o600); err != nil { // trailing newline trimmed
		t.Fatal(err)
	}
	tenant.ClientSecret = &config.Secret{File: path}
	client, err := HTTPClient(f.caFile(t))
	if err != nil {
		t.Fatal(err)
	}
	cred, err := New(context.Background(), tenant, config.Endpoints{Login: f.srv.URL}, client)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{exchangeAPI}}); err != nil {
			t.Fatal(err)
		}
	}
	if f.tokens != 1 {
		t.Errorf("token endpoint called %d times for one scope, want 1 (cached)", f.tokens)
	}
}

func TestCertificatePEM(t *testing.T) {
	f := newFakeEntra(t, tenantID, clientID)
	cert, path := testCert(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	f.cert = cert
	tenant := newTenant()
	tenant.Certificate = &config.Secret{File: path}

	tok, err := getToken(t, f, tenant, f.srv.URL)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if tok.Token != fakeToken || f.assertions != 1 {
		t.Fatalf("token %q, verified assertions %d; want the fake's token after 1 verified assertion", tok.Token, f.assertions)
	}
	for _, r := range f.recorded() {
		if strings.Contains(r.Body, "client_secret=") {
			t.Errorf("certificate sign-in sent a client_secret")
		}
	}
}

func TestCertificatePFX(t *testing.T) {
	pfx, err := os.ReadFile("testdata/legacy.pfx")
	if err != nil {
		t.Fatal(err)
	}
	certs, _, err := azidentity.ParseCertificates(pfx, []byte(pfxPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TG_TEST_PFX_PASSWORD", pfxPassword)
	t.Setenv("TG_TEST_PFX_BASE64", base64.StdEncoding.EncodeToString(pfx))

	for name, ref := range map[string]*config.Secret{
		"file":       {File: "testdata/legacy.pfx"},
		"env base64": {Env: "TG_TEST_PFX_BASE64"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeEntra(t, tenantID, clientID)
			f.cert = certs[0]
			tenant := newTenant()
			tenant.Certificate = ref
			tenant.CertificatePassword = &config.Secret{Env: "TG_TEST_PFX_PASSWORD"}
			if _, err := getToken(t, f, tenant, f.srv.URL); err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if f.assertions != 1 {
				t.Fatalf("verified assertions = %d, want 1", f.assertions)
			}
		})
	}
}

func TestWrongSecretIsClearAndSecretFree(t *testing.T) {
	f := newFakeEntra(t, tenantID, clientID)
	f.secret = goodSecret
	t.Setenv("TG_TEST_CLIENT_SECRET", wrongSecret)
	tenant := newTenant()
	tenant.ClientSecret = &config.Secret{Env: "TG_TEST_CLIENT_SECRET"}

	_, err := getToken(t, f, tenant, f.srv.URL)
	if err == nil {
		t.Fatal("wrong secret: got a token")
	}
	var signIn *SignInError
	if !errors.As(err, &signIn) {
		t.Fatalf("error %T is not a *SignInError: %v", err, err)
	}
	if signIn.StatusCode != http.StatusUnauthorized || signIn.Code != "invalid_client" ||
		!strings.HasPrefix(signIn.Description, "AADSTS7000215: Invalid client secret provided.") {
		t.Errorf("SignInError = %+v", signIn)
	}
	msg := err.Error()
	for _, want := range []string{"acme", tenantID, clientID, "env:TG_TEST_CLIENT_SECRET", "HTTP 401 invalid_client", "AADSTS7000215", "not its Secret ID"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "Trace ID") {
		t.Errorf("error should be one line without Entra's trace lines: %q", msg)
	}
	// Not in our message, nor in anything it wraps.
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if s := e.Error(); strings.Contains(s, wrongSecret) || strings.Contains(s, goodSecret) {
			t.Fatalf("error chain (%T) contains a secret: %s", e, s)
		}
	}
	var azErr *azidentity.AuthenticationFailedError
	if !errors.As(err, &azErr) {
		t.Errorf("azidentity's error is not reachable with errors.As")
	}
}

func TestUnregisteredCertificate(t *testing.T) {
	f := newFakeEntra(t, tenantID, clientID)
	registered, _ := testCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	f.cert = registered
	_, other := testCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	tenant := newTenant()
	tenant.Certificate = &config.Secret{File: other}

	_, err := getToken(t, f, tenant, f.srv.URL)
	var signIn *SignInError
	if !errors.As(err, &signIn) || !strings.Contains(signIn.Description, "AADSTS700027") || signIn.Hint == "" {
		t.Fatalf("err = %v", err)
	}
	if f.assertions != 0 {
		t.Fatal("the fake accepted an assertion signed by another key")
	}
}

func TestUnknownTenant(t *testing.T) {
	f := newFakeEntra(t, tenantID, clientID)
	f.secret = goodSecret
	t.Setenv("TG_TEST_CLIENT_SECRET", goodSecret)
	tenant := newTenant()
	tenant.TenantID = "00000000-0000-4000-8000-000000000000"
	tenant.ClientSecret = &config.Secret{Env: "TG_TEST_CLIENT_SECRET"}
	_, err := getToken(t, f, tenant, f.srv.URL)
	if err == nil {
		t.Fatal("unknown tenant: got a token")
	}
	if !strings.Contains(err.Error(), tenant.TenantID) || !strings.Contains(err.Error(), "no such tenant") || strings.Contains(err.Error(), goodSecret) {
		t.Fatalf("err = %v", err)
	}
}

func TestUntrustedServerIsRefused(t *testing.T) {
	f := newFakeEntra(t, tenantID, clientID)
	f.secret = goodSecret
	t.Setenv("TG_TEST_CLIENT_SECRET", goodSecret)
	tenant := newTenant()
	tenant.ClientSecret = &config.Secret{Env: "TG_TEST_CLIENT_SECRET"}

	client, err := HTTPClient("") // system CAs only: the test server's CA is not among them
	if err != nil {
		t.Fatal(err)
	}
	cred, err := New(context.Background(), tenant, config.Endpoints{Login: f.srv.URL}, client)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{exchangeAPI}})
	if err == nil || !strings.Contains(err.Error(), "x509: certificate signed by unknown authority") || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("err = %v, want a certificate verification failure", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans lines: %q", err)
	}
	if f.tokens != 0 {
		t.Fatal("a token was issued over an unverified connection")
	}
	for _, r := range f.recorded() {
		if strings.Contains(r.Body, goodSecret) {
			t.Fatal("the secret was sent to an unverified server")
		}
	}
}

func TestNewErrors(t *testing.T) {
	_, expired := testCert(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	_, validPEM := testCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	t.Setenv("TG_TEST_PFX_PASSWORD", pfxPassword)
	t.Setenv("TG_TEST_WRONG_PFX_PASSWORD", "Wr0ng-pfx-pa55word")
	t.Setenv("TG_TEST_NOT_CERT", "certainly not a certificate!")
	os.Unsetenv("TG_TEST_UNSET")

	tests := []struct {
		name   string
		tenant func(*config.Tenant)
		want   []string
		never  []string
	}{
		{"unset variable", func(t *config.Tenant) { t.ClientSecret = &config.Secret{Env: "TG_TEST_UNSET"} },
			[]string{"acme", "TG_TEST_UNSET", "not set"}, nil},
		{"missing file", func(t *config.Tenant) { t.ClientSecret = &config.Secret{File: "/nonexistent/secret"} },
			[]string{"/nonexistent/secret"}, nil},
		{"no credential", func(*config.Tenant) {}, []string{"neither certificate nor client_secret"}, nil},
		{"expired certificate", func(t *config.Tenant) { t.Certificate = &config.Secret{File: expired} },
			[]string{"expired on", "ticketguard test app"}, []string{"PRIVATE KEY"}},
		{"wrong PFX password", func(t *config.Tenant) {
			t.Certificate = &config.Secret{File: "testdata/legacy.pfx"}
			t.CertificatePassword = &config.Secret{Env: "TG_TEST_WRONG_PFX_PASSWORD"}
		}, []string{"testdata/legacy.pfx", "password incorrect", "certificate_password"}, []string{"Wr0ng-pfx-pa55word"}},
		{"AES PFX", func(t *config.Tenant) {
			t.Certificate = &config.Secret{File: "testdata/aes.pfx"}
			t.CertificatePassword = &config.Secret{Env: "TG_TEST_PFX_PASSWORD"}
		}, []string{"AES", "openssl pkcs12"}, []string{pfxPassword}},
		{"password on PEM", func(t *config.Tenant) {
			t.Certificate = &config.Secret{File: validPEM}
			t.CertificatePassword = &config.Secret{Env: "TG_TEST_PFX_PASSWORD"}
		}, []string{"PEM"}, []string{pfxPassword}},
		{"garbage in env", func(t *config.Tenant) { t.Certificate = &config.Secret{Env: "TG_TEST_NOT_CERT"} },
			[]string{"env:TG_TEST_NOT_CERT", "neither PEM nor base64"}, []string{"certainly not"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tenant := newTenant()
			tc.tenant(&tenant)
			_, err := New(context.Background(), tenant, config.Endpoints{}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error contains %q: %v", n, err)
				}
			}
		})
	}
}

func TestHTTPClient(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	client, err := HTTPClient(ca)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("the CA file is not trusted: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "HTTP/2.0" {
		t.Errorf("protocol = %s, want HTTP/2.0", body)
	}

	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{notPEM, filepath.Join(dir, "missing.pem")} {
		if _, err := HTTPClient(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("HTTPClient(%s) error = %v, want one naming the file", path, err)
		}
	}
}

func TestInstanceDiscoveryOnlyForMicrosoft(t *testing.T) {
	for host, want := range map[string]bool{
		"login.microsoftonline.com":              true,
		"LOGIN.microsoftonline.com.":             true,
		"login.microsoftonline.us":               true,
		"127.0.0.1":                              false,
		"localhost":                              false,
		"login.microsoftonline.com.evil.example": false,
	} {
		if got := isMicrosoftAuthority(host); got != want {
			t.Errorf("isMicrosoftAuthority(%q) = %v, want %v", host, got, want)
		}
	}
}
