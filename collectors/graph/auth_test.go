package graph

import (
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
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{apps: map[string][2]string{}, issued: map[string][2]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := "https://" + r.Host + "/" + r.PathValue("tenant")
		writeTestJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":         base + "/oauth2/v2.0/token",
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
