package credential

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeEntra is a Microsoft Entra token service as SPEC "Signing in"
// describes it: the OpenID configuration MSAL reads first, then the
// client-credential token endpoint, which checks the secret or verifies the
// client assertion's signature and thumbprint. Every request is recorded so
// tests can see where a secret travelled.
type fakeEntra struct {
	srv      *httptest.Server
	tenantID string
	clientID string
	secret   string            // the app's registered secret; "" accepts none
	cert     *x509.Certificate // the app's registered certificate; nil accepts none

	mu         sync.Mutex
	requests   []recordedRequest
	unexpected []string
	tokens     int
	assertions int // assertions whose signature and thumbprint verified
}

type recordedRequest struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

const fakeToken = "eyJ0eXAiOiJKV1QifQ.fake-access-token.sig"

func newFakeEntra(t *testing.T, tenantID, clientID string) *fakeEntra {
	t.Helper()
	f := &fakeEntra{tenantID: tenantID, clientID: clientID}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	// Refused handshakes are what some tests are about: keep them out of the output.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// caFile writes the test server's certificate as a PEM CA file.
func (f *fakeEntra) caFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (f *fakeEntra) tokenEndpoint() string {
	return f.srv.URL + "/" + f.tenantID + "/oauth2/v2.0/token"
}

func (f *fakeEntra) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recordedRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
	f.mu.Unlock()

	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/"+f.tenantID+"/v2.0/.well-known/openid-configuration":
		base := f.srv.URL + "/" + f.tenantID
		writeJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"issuer":                                base + "/v2.0",
			"jwks_uri":                              f.srv.URL + "/common/discovery/v2.0/keys",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		})
	case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
		// Entra's answer for a tenant that does not exist.
		entraError(w, http.StatusBadRequest, "invalid_tenant", 90002, "Tenant '"+strings.Split(r.URL.Path, "/")[1]+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
	case r.Method == http.MethodPost && r.URL.Path == "/"+f.tenantID+"/oauth2/v2.0/token":
		f.token(w, r, body)
	default:
		f.mu.Lock()
		f.unexpected = append(f.unexpected, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		http.NotFound(w, r)
	}
}

func (f *fakeEntra) token(w http.ResponseWriter, r *http.Request, body []byte) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		entraError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	form, err := parseForm(string(body))
	if err != nil {
		entraError(w, http.StatusBadRequest, "invalid_request", 900144, "malformed body")
		return
	}
	switch {
	case form["grant_type"] != "client_credentials":
		entraError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	case form["client_id"] != f.clientID:
		entraError(w, http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '"+form["client_id"]+"' was not found in the directory '"+f.tenantID+"'.")
		return
	case !hasDefaultScope(form["scope"]):
		entraError(w, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope is not valid.")
		return
	}
	switch {
	case form["client_secret"] != "":
		if f.secret == "" || form["client_secret"] != f.secret {
			entraError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+f.clientID+"'.")
			return
		}
	case form["client_assertion"] != "":
		if form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			entraError(w, http.StatusBadRequest, "invalid_request", 50027, "Invalid client_assertion_type.")
			return
		}
		if err := f.verifyAssertion(form["client_assertion"]); err != nil {
			entraError(w, http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation. "+err.Error())
			return
		}
		f.mu.Lock()
		f.assertions++
		f.mu.Unlock()
	default:
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	f.mu.Lock()
	f.tokens++
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": fakeToken})
}

// verifyAssertion checks the client assertion as Entra does: the thumbprint
// header names the registered certificate, the signature verifies with its
// key, and the claims are for this app and this token endpoint.
func (f *fakeEntra) verifyAssertion(jwt string) error {
	if f.cert == nil {
		return errors.New("no certificate registered")
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a JWS compact serialisation")
	}
	var header map[string]any
	if err := decodeSegment(parts[0], &header); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	// MSAL sends x5t#S256 (SHA-256) with PS256, or x5t (SHA-1) with RS256 for ADFS.
	var want []byte
	thumb, _ := header["x5t#S256"].(string)
	if thumb != "" {
		sum := sha256.Sum256(f.cert.Raw)
		want = sum[:]
	} else if thumb, _ = header["x5t"].(string); thumb != "" {
		sum := sha1.Sum(f.cert.Raw)
		want = sum[:]
	} else {
		return errors.New("no x5t or x5t#S256 header")
	}
	got, err := base64.StdEncoding.DecodeString(thumb)
	if err != nil {
		if got, err = base64.RawURLEncoding.DecodeString(thumb); err != nil {
			return errors.New("thumbprint is not base64")
		}
	}
	if string(got) != string(want) {
		return errors.New("thumbprint of key used by client does not match the registered certificate")
	}
	pub, ok := f.cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("registered certificate has no RSA key")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header["alg"] {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		return fmt.Errorf("unsupported alg %v", header["alg"])
	}
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if claims["aud"] != f.tokenEndpoint() {
		return fmt.Errorf("aud %v is not the token endpoint", claims["aud"])
	}
	if claims["iss"] != f.clientID || claims["sub"] != f.clientID {
		return errors.New("iss and sub must be the client id")
	}
	if id, _ := claims["jti"].(string); id == "" {
		return errors.New("no jti")
	}
	exp, _ := claims["exp"].(float64)
	if time.Unix(int64(exp), 0).Before(time.Now()) {
		return errors.New("assertion expired")
	}
	return nil
}

// hasDefaultScope: client credentials ask for RESOURCE/.default; MSAL adds
// openid, profile and offline_access beside it.
func hasDefaultScope(scope string) bool {
	for _, s := range strings.Fields(scope) {
		if strings.HasSuffix(s, "/.default") {
			return true
		}
	}
	return false
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// parseForm reads a form body, refusing a parameter given twice (a secret
// sent both ways would hide in the second copy).
func parseForm(body string) (map[string]string, error) {
	values, err := url.ParseQuery(body)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range values {
		if len(v) != 1 {
			return nil, fmt.Errorf("parameter %s given %d times", k, len(v))
		}
		out[k] = v[0]
	}
	return out, nil
}

// entraError writes an error as Entra does: the AADSTS code first in the
// description, trace and correlation IDs on the following lines.
func entraError(w http.ResponseWriter, status int, code string, aadsts int, text string) {
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 0c4a3f3e-8f1d-4b63-9b0e-2f0c5a7d1e00\r\nCorrelation ID: 6d1f7f8a-2c3b-4e5d-8f9a-0b1c2d3e4f50\r\nTimestamp: %s", aadsts, text, ts),
		"error_codes":       []int{aadsts},
		"timestamp":         ts,
		"trace_id":          "0c4a3f3e-8f1d-4b63-9b0e-2f0c5a7d1e00",
		"correlation_id":    "6d1f7f8a-2c3b-4e5d-8f9a-0b1c2d3e4f50",
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeEntra) recorded() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.requests...)
}

// testCert makes a self-signed RSA certificate and its key, valid from
// notBefore to notAfter, and returns them with a PEM file holding both.
func testCert(t *testing.T, notBefore, notAfter time.Time) (*x509.Certificate, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ticketguard test app"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...)
	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, path
}
