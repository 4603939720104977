package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/credential"
)

// tokenServer is a minimal Entra ID token endpoint for the client-credential
// flow (OpenID discovery document and token endpoint), enough for MSAL under
// azidentity to sign in against 127.0.0.1. It also validates the tokens it
// issued, as the Graph simulator's Validator.
type tokenServer struct {
	srv *httptest.Server

	mu      sync.Mutex
	apps    map[string][2]string // tenant id -> client id, secret
	issued  map[string][2]string // access token -> tenant id, audience
	minted  []string
	refused int

	// tokenQuery is appended to the token endpoint the discovery document
	// names (Entra adds ?slice= or dc= hints in some clouds).
	tokenQuery string
	// refuseAudience, when set, is an API the apps are not consented to:
	// a token for it is refused as Entra does (AADSTS500011), with the
	// trace and correlation fields Entra adds.
	refuseAudience string
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{apps: map[string][2]string{}, issued: map[string][2]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := "https://" + r.Host + "/" + r.PathValue("tenant")
		ts.mu.Lock()
		query := ts.tokenQuery
		ts.mu.Unlock()
		writeTestJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":         base + "/oauth2/v2.0/token" + query,
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"issuer":                 base + "/v2.0",
		})
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", ts.token)
	ts.srv = httptest.NewTLSServer(mux)
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) register(tenantID, clientID, secret string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.apps[strings.ToLower(tenantID)] = [2]string{clientID, secret}
}

func (ts *tokenServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeTestJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	tenant := strings.ToLower(r.PathValue("tenant"))
	ts.mu.Lock()
	defer ts.mu.Unlock()
	app, ok := ts.apps[tenant]
	if !ok || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != app[0] || r.PostForm.Get("client_secret") != app[1] {
		ts.refused++
		writeTestJSON(w, http.StatusUnauthorized, map[string]any{
			"error":             "invalid_client",
			"error_description": "AADSTS7000215: Invalid client secret provided.",
			"error_codes":       []int{7000215},
		})
		return
	}
	audience := ""
	for _, s := range strings.Fields(r.PostForm.Get("scope")) {
		if strings.HasSuffix(s, "/.default") {
			audience = strings.TrimSuffix(s, "/.default")
		}
	}
	if ts.refuseAudience != "" && audience == ts.refuseAudience {
		writeTestJSON(w, http.StatusBadRequest, map[string]any{
			"error": "invalid_resource",
			"error_description": "AADSTS500011: The resource principal named " + audience + " was not found in the tenant named Acme. " +
				"This can happen if the application has not been installed by the administrator of the tenant.\r\n" +
				"Trace ID: trace-5e1f-DoNotShow\r\nCorrelation ID: corr-77a0-DoNotShow\r\nTimestamp: 2026-11-27 06:00:00Z",
			"error_codes":    []int{500011},
			"timestamp":      "2026-11-27 06:00:00Z",
			"trace_id":       "trace-5e1f-DoNotShow",
			"correlation_id": "corr-77a0-DoNotShow",
			"error_uri":      "https://login.example/error?code=500011",
		})
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "eyJ0-" + hex.EncodeToString(b)
	ts.issued[tok] = [2]string{tenant, audience}
	ts.minted = append(ts.minted, tok)
	writeTestJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": tok})
}

// Validate implements the Graph simulator's Validator.
func (ts *tokenServer) Validate(authorization, audience string) (string, error) {
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return "", errors.New("no bearer token")
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	got, ok := ts.issued[tok]
	if !ok || got[1] != audience {
		return "", errors.New("token not issued for this audience")
	}
	return got[0], nil
}

func (ts *tokenServer) refusals() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.refused
}

func (ts *tokenServer) tokens() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.minted...)
}

// credential returns a real azidentity client-secret credential signing in
// at the token server, trusting the test servers' certificate.
func (ts *tokenServer) credential(t *testing.T, tenantID, clientID, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: ts.srv.URL + "/"},
			Transport: ts.srv.Client(),
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// When the app may sign in (the Exchange token is issued) but not for Graph,
// every Graph collection records the sign-in failure in the readable form
// internal/credential gives it: Entra's error code, the first line of its
// description and a hint; never the token endpoint, its query, or the other
// fields of Entra's answer (trace and correlation ids, timestamps, links).
func TestGraphSignInRefusedIsReadable(t *testing.T) {
	const envSecret = "TICKETGUARD_TEST_GRAPH_SECRET"
	t.Setenv(envSecret, acmeSecret)
	e := newEnv(t, 0, acme())
	e.tokens.mu.Lock()
	e.tokens.refuseAudience = "https://graph.microsoft.com"
	e.tokens.tokenQuery = "?slice=ests-QueryDoNotShow"
	e.tokens.mu.Unlock()

	configured, err := credential.New(context.Background(),
		config.Tenant{Name: "acme", TenantID: acmeTenant, ClientID: acmeClient, ClientSecret: &config.Secret{Env: envSecret}},
		config.Endpoints{Login: e.tokens.srv.URL}, e.tokens.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{"oauth2", "/token", "QueryDoNotShow", "trace-5e1f", "corr-77a0", "Trace ID", "error_uri", "login.example",
		"timestamp", "RESPONSE", "{", "\n", acmeSecret}
	for _, tc := range []struct {
		name string
		cred azcore.TokenCredential
		want []string
	}{
		// As ticketguard runs: the credential is internal/credential's.
		{"configured credential", configured, []string{
			"sign-in to tenant acme (tenant ID " + acmeTenant + ", app " + acmeClient + ", client secret env:" + envSecret + ")",
			"for https://graph.microsoft.com/.default failed: HTTP 400 invalid_resource: AADSTS500011: The resource principal named https://graph.microsoft.com was not found",
			"(the resource is not consented in this tenant: grant admin consent to the app's API permissions)",
		}},
		// A bare azidentity credential: the same facts, no hint.
		{"azidentity credential", e.tokens.credential(t, acmeTenant, acmeClient, acmeSecret), []string{
			"sign-in failed: HTTP 400 invalid_resource: AADSTS500011: The resource principal named https://graph.microsoft.com was not found",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The app itself signs in: only the Graph token is refused.
			if _, err := tc.cred.GetToken(ctx(t), policy.TokenRequestOptions{Scopes: []string{"https://outlook.office365.com/.default"}}); err != nil {
				t.Fatalf("Exchange token: %v", err)
			}
			r := e.client(t, acmeTenant, acmeClient, acmeSecret, func(o *Options) { o.Credential = tc.cred })
			r.c.CollectContacts(ctx(t), r.p)
			r.c.CollectMessageRules(ctx(t), r.p, []string{"support@acme.com"})
			errs := r.p.Errors()
			if len(errs) != 2 {
				t.Fatalf("errors: %v", errs)
			}
			for _, se := range errs {
				for _, w := range tc.want {
					if !strings.Contains(se.Message, w) {
						t.Errorf("%s: %q\nlacks %q", se.Source, se.Message, w)
					}
				}
				for _, f := range forbidden {
					if strings.Contains(se.Message, f) {
						t.Errorf("%s: %q\ncarries %q", se.Source, se.Message, f)
					}
				}
			}
		})
	}
}
