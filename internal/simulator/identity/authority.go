// Package identity is the simulated Microsoft Entra ID: the OpenID discovery
// document and the v2.0 token endpoint's client-credential flow, enough for
// azidentity (MSAL) to sign in unchanged, plus the CA every simulated HTTPS
// service presents certificates from. The other simulated services check the
// bearer tokens it issues through Validate.
//
// Wire shapes follow Microsoft's documentation:
//   - https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//     (request parameters, the success answer, the error answer)
//   - https://learn.microsoft.com/entra/identity-platform/certificate-credentials
//     (the client assertion: aud, iss, sub, exp, nbf, jti; x5t / x5t#S256 header)
//   - https://learn.microsoft.com/entra/identity-platform/reference-error-codes
//     (AADSTS codes)
//   - https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration
//     (the discovery document's members)
package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// Resource identifiers (token audiences) the simulated tenants know.
const (
	ExchangeAudience = "https://outlook.office365.com"
	GraphAudience    = "https://graph.microsoft.com"
)

// DefaultTokenLifetime is what Entra answers in expires_in for an app token.
const DefaultTokenLifetime = 3599 * time.Second

// FaultEndpoint is the fault.Injector endpoint name of the token endpoint.
const FaultEndpoint = "token"

// Options configures an Authority.
type Options struct {
	Tenants *fixture.Set
	Faults  *fault.Injector // nil injects nothing
	// TokenLifetime of issued tokens; 0 means DefaultTokenLifetime. Below five
	// minutes azcore and MSAL treat every token as due for refresh, so each
	// request fetches a new one: that is how tests exercise refresh.
	TokenLifetime time.Duration
	// Audiences are the resources tokens may be requested for; nil means
	// ExchangeAudience and GraphAudience.
	Audiences []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Authority is the simulated Entra ID. It is an http.Handler and safe for
// concurrent use.
type Authority struct {
	tenants   *fixture.Set
	faults    *fault.Injector
	audiences map[string]bool
	now       func() time.Time
	ca        *ca
	mux       *http.ServeMux

	mu       sync.Mutex
	lifetime time.Duration
	tokens   map[string]issued
	requests map[string]int // token requests per tenant id (lower-case)
}

type issued struct {
	tenantID string
	clientID string
	audience string
	expires  time.Time
}

// New creates an Authority with a fresh CA.
func New(opts Options) (*Authority, error) {
	if opts.Tenants == nil {
		return nil, errors.New("identity: Options.Tenants is required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	c, err := newCA(now())
	if err != nil {
		return nil, err
	}
	auds := opts.Audiences
	if auds == nil {
		auds = []string{ExchangeAudience, GraphAudience}
	}
	a := &Authority{
		tenants:   opts.Tenants,
		faults:    opts.Faults,
		audiences: map[string]bool{},
		now:       now,
		ca:        c,
		lifetime:  opts.TokenLifetime,
		tokens:    map[string]issued{},
		requests:  map[string]int{},
	}
	if a.lifetime <= 0 {
		a.lifetime = DefaultTokenLifetime
	}
	for _, aud := range auds {
		a.audiences[normAudience(aud)] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", a.openIDConfiguration)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", a.keys)
	mux.HandleFunc("GET /common/discovery/instance", a.instanceDiscovery)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", a.token)
	a.mux = mux
	return a, nil
}

// ServeHTTP serves the discovery document and the token endpoint.
func (a *Authority) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// SetTokenLifetime changes the lifetime of tokens issued from now on.
func (a *Authority) SetTokenLifetime(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d <= 0 {
		d = DefaultTokenLifetime
	}
	a.lifetime = d
}

// TokenRequests reports how many token requests a tenant's path received,
// failed ones included; tests use it to see tokens being cached or refreshed.
func (a *Authority) TokenRequests(tenantID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[strings.ToLower(tenantID)]
}

// TokenError is why Validate refused a bearer token.
type TokenError struct {
	Expired bool   // the token was known but past its lifetime
	Reason  string // for the service's 401 body; never contains the token
}

func (e *TokenError) Error() string { return "invalid bearer token: " + e.Reason }

// Validate checks an Authorization header value for a resource: the token must
// have been issued by this Authority, for that audience, and not be expired.
// It returns the tenant id the token was issued in.
func (a *Authority) Validate(authorization, audience string) (string, error) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", &TokenError{Reason: "no bearer token in the Authorization header"}
	}
	a.mu.Lock()
	t, known := a.tokens[strings.TrimSpace(tok)]
	a.mu.Unlock()
	switch {
	case !known:
		return "", &TokenError{Reason: "the token was not issued by this authority or was revoked"}
	case !a.now().Before(t.expires):
		return "", &TokenError{Expired: true, Reason: "Lifetime validation failed, the token is expired."}
	case normAudience(audience) != t.audience:
		return "", &TokenError{Reason: fmt.Sprintf("the token's audience %s is not %s", t.audience, normAudience(audience))}
	}
	return t.tenantID, nil
}

// ExpireTokens makes every token already issued in a tenant expired, as if
// their lifetime had run out while the client still cached them.
func (a *Authority) ExpireTokens(tenantID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	past := a.now().Add(-time.Second)
	for k, t := range a.tokens {
		if strings.EqualFold(t.tenantID, tenantID) {
			t.expires = past
			a.tokens[k] = t
		}
	}
}

func normAudience(s string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(s), "/"))
}

// lookupTenant finds a tenant by the path segment, a directory id or a
// verified domain, as Entra accepts both.
func (a *Authority) lookupTenant(segment string) (*fixture.Tenant, bool) {
	if t, ok := a.tenants.ByID(segment); ok {
		return t, true
	}
	for _, t := range a.tenants.All() {
		var match bool
		a.tenants.Read(t, func(t *fixture.Tenant) { match = t.Domain != "" && strings.EqualFold(t.Domain, segment) })
		if match {
			return t, true
		}
	}
	return nil, false
}

func (a *Authority) baseURL(r *http.Request) string { return "https://" + r.Host }

func (a *Authority) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	t, ok := a.lookupTenant(seg)
	if !ok {
		a.writeError(w, r, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", seg))
		return
	}
	base := a.baseURL(r)
	var tid string
	a.tenants.Read(t, func(t *fixture.Tenant) { tid = t.TenantID })
	doc := map[string]any{
		"token_endpoint":                        base + "/" + tid + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/" + tid + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/" + tid + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
		"authorization_endpoint":                base + "/" + tid + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/" + tid + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/" + tid + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     base + "/" + tid + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	}
	writeJSON(w, http.StatusOK, doc)
}

// keys serves an empty key set: the tokens are opaque, nobody verifies them
// offline; the URL exists because the discovery document names it.
func (a *Authority) keys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{}})
}

// instanceDiscovery answers MSAL's instance discovery for a client that did
// not set DisableInstanceDiscovery, naming this host as its only alias.
func (a *Authority) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	tenant := "common"
	if ae := r.URL.Query().Get("authorization_endpoint"); ae != "" {
		if i := strings.Index(ae, r.Host+"/"); i >= 0 {
			rest := ae[i+len(r.Host)+1:]
			if seg, _, _ := strings.Cut(rest, "/"); seg != "" {
				tenant = seg
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": a.baseURL(r) + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []any{map[string]any{
			"preferred_network": r.Host, "preferred_cache": r.Host, "aliases": []string{r.Host},
		}},
	})
}

func (a *Authority) token(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	t, known := a.lookupTenant(seg)
	counted := strings.ToLower(seg)
	if known {
		counted = strings.ToLower(t.TenantID)
	}
	a.mu.Lock()
	a.requests[counted]++
	a.mu.Unlock()

	if rule := a.faults.Match(counted, FaultEndpoint); rule != nil {
		if fault.Apply(w, r, rule, func(status int, msg string) []byte {
			code := "server_error"
			if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
				code = "temporarily_unavailable"
			}
			return a.errorBody(r, code, 0, msg)
		}) {
			return
		}
	}
	if !known {
		a.writeError(w, r, http.StatusBadRequest, "invalid_request", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", seg))
		return
	}
	if err := r.ParseForm(); err != nil {
		a.writeError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	form := r.PostForm
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			a.writeError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		} else {
			a.writeError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
		}
		return
	}
	var clientID, secret, certPEM, tenantID, domain, name string
	a.tenants.Read(t, func(t *fixture.Tenant) {
		clientID, secret, certPEM = t.ClientID, t.ClientSecret, string(t.CertificatePEM)
		tenantID, domain, name = t.TenantID, t.Domain, t.Name
	})
	cid := form.Get("client_id")
	switch {
	case cid == "":
		a.writeError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	case !strings.EqualFold(cid, clientID):
		a.writeError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", cid, name))
		return
	}
	audience, ok := a.scopeAudience(w, r, form.Get("scope"))
	if !ok {
		return
	}

	assertion, secretSent := form.Get("client_assertion"), form.Get("client_secret")
	switch {
	case secretSent != "" && assertion != "":
		a.writeError(w, r, http.StatusBadRequest, "invalid_request", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		return
	case secretSent != "":
		if secret == "" || subtle.ConstantTimeCompare([]byte(secretSent), []byte(secret)) != 1 {
			a.writeError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
			return
		}
	case assertion != "":
		if at := form.Get("client_assertion_type"); at != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			a.writeError(w, r, http.StatusBadRequest, "invalid_request", 700010, fmt.Sprintf("The client_assertion_type '%s' is not supported.", at))
			return
		}
		if aerr := a.verifyAssertion(assertion, []byte(certPEM), clientID, a.tokenEndpoints(r, tenantID, domain)); aerr != nil {
			a.writeError(w, r, http.StatusUnauthorized, "invalid_client", aerr.code, aerr.msg)
			return
		}
	default:
		a.writeError(w, r, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}

	tok, err := randomToken()
	if err != nil {
		a.writeError(w, r, http.StatusInternalServerError, "server_error", 0, "token generation failed")
		return
	}
	now := a.now()
	a.mu.Lock()
	lifetime := a.lifetime
	for k, it := range a.tokens { // forget long-expired tokens so the map stays small
		if now.Sub(it.expires) > time.Hour {
			delete(a.tokens, k)
		}
	}
	a.tokens[tok] = issued{tenantID: tenantID, clientID: clientID, audience: audience, expires: now.Add(lifetime)}
	a.mu.Unlock()

	secs := int(lifetime / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

// scopeAudience checks the client-credential scope: one resource's /.default
// (MSAL appends openid, profile and offline_access, which are ignored).
func (a *Authority) scopeAudience(w http.ResponseWriter, r *http.Request, scope string) (string, bool) {
	var resources []string
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		resources = append(resources, s)
	}
	if len(resources) != 1 || !strings.HasSuffix(resources[0], "/.default") {
		a.writeError(w, r, http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return "", false
	}
	aud := normAudience(strings.TrimSuffix(resources[0], "/.default"))
	if !a.audiences[aud] {
		a.writeError(w, r, http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", strings.TrimSuffix(resources[0], "/.default")))
		return "", false
	}
	return aud, true
}

// tokenEndpoints are the audiences a client assertion may carry: this token
// endpoint addressed by tenant id or domain.
func (a *Authority) tokenEndpoints(r *http.Request, tenantID, domain string) []string {
	base := a.baseURL(r)
	out := []string{base + "/" + tenantID + "/oauth2/v2.0/token", base + r.URL.Path}
	if domain != "" {
		out = append(out, base+"/"+domain+"/oauth2/v2.0/token")
	}
	return out
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "sim." + base64.RawURLEncoding.EncodeToString(b), nil
}

// errorBody renders Entra's token-endpoint error document.
func (a *Authority) errorBody(r *http.Request, code string, aadsts int, desc string) []byte {
	trace := newUUID()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newUUID()
	}
	ts := a.now().UTC().Format("2006-01-02 15:04:05Z")
	text := desc
	if aadsts != 0 {
		text = fmt.Sprintf("AADSTS%d: %s", aadsts, desc)
	}
	body := map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s", text, trace, corr, ts),
		"error_codes":       []int{},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
	}
	if aadsts != 0 {
		body["error_codes"] = []int{aadsts}
		body["error_uri"] = fmt.Sprintf("%s/error?code=%d", a.baseURL(r), aadsts)
	}
	b, _ := json.Marshal(body)
	return b
}

func (a *Authority) writeError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(a.errorBody(r, code, aadsts, desc))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
