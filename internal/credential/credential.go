// Package credential signs ticketguard in to a tenant: it builds the
// azidentity client-credential (certificate or secret) from a configured
// tenant, pointed at the configured login endpoint, and the HTTP client that
// trusts the configured CA. It is the only place that reads a tenant's
// sign-in secret, and no error it returns carries a secret or key material.
package credential

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ticketguard/ticketguard/internal/config"
)

// microsoftAuthorities are the Entra authority hosts MSAL knows. Instance
// discovery (a call to Microsoft asking whether the authority is genuine)
// only makes sense for them; for any other host, such as the simulator's, it
// would fail, so it is turned off.
var microsoftAuthorities = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoft.com":              true,
	"login.windows.net":                true,
	"sts.windows.net":                  true,
	"login.microsoftonline.us":         true,
	"login.usgovcloudapi.net":          true,
	"login.chinacloudapi.cn":           true,
	"login.partner.microsoftonline.cn": true,
	"login.microsoftonline.de":         true,
}

func isMicrosoftAuthority(host string) bool {
	return microsoftAuthorities[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// New returns a token credential for the tenant. It reads the secret or the
// certificate now, so a missing variable or an unreadable file is reported
// before any collection starts; tokens are requested (and cached and renewed
// by azidentity) on first use. client carries requests to the login endpoint:
// pass HTTPClient's, which trusts the configured CA. ctx bounds the
// construction only.
func New(ctx context.Context, t config.Tenant, ep config.Endpoints, client *http.Client) (azcore.TokenCredential, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	login := ep.Login
	if login == "" {
		login = config.DefaultLogin
	}
	u, err := url.Parse(login)
	if err != nil || u.Host == "" {
		// Not quoted: an endpoint URL might carry a password.
		return nil, fmt.Errorf("tenant %s: endpoints.login is not a URL", t.Name)
	}
	opts := azcore.ClientOptions{
		// MSAL joins the host and the tenant ID itself: it wants exactly
		// one trailing slash.
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: strings.TrimRight(login, "/") + "/"},
		Telemetry: policy.TelemetryOptions{ApplicationID: "ticketguard"},
		Retry:     policy.RetryOptions{ShouldRetry: retryable},
	}
	if client != nil {
		opts.Transport = client
	}
	disableDiscovery := !isMicrosoftAuthority(u.Hostname())

	var (
		cred azcore.TokenCredential
		kind string
	)
	switch {
	case t.Certificate != nil && t.ClientSecret != nil:
		return nil, fmt.Errorf("tenant %s: both certificate and client_secret are set", t.Name)
	case t.ClientSecret != nil:
		kind = "client secret " + t.ClientSecret.String()
		secret, err := t.ClientSecret.Resolve()
		if err != nil {
			return nil, fmt.Errorf("tenant %s: client secret: %w", t.Name, err)
		}
		c, err := azidentity.NewClientSecretCredential(t.TenantID, t.ClientID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            opts,
			DisableInstanceDiscovery: disableDiscovery,
		})
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		cred = c
	case t.Certificate != nil:
		kind = "certificate " + t.Certificate.String()
		certs, key, err := loadCertificate(t.Certificate, t.CertificatePassword, time.Now())
		if err != nil {
			return nil, fmt.Errorf("tenant %s: certificate %s: %w", t.Name, t.Certificate, err)
		}
		c, err := azidentity.NewClientCertificateCredential(t.TenantID, t.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions:            opts,
			DisableInstanceDiscovery: disableDiscovery,
		})
		if err != nil {
			return nil, fmt.Errorf("tenant %s: certificate %s: %w", t.Name, t.Certificate, err)
		}
		cred = c
	default:
		return nil, fmt.Errorf("tenant %s: neither certificate nor client_secret is set", t.Name)
	}
	return &tokenCredential{inner: cred, tenant: t.Name, tenantID: t.TenantID, clientID: t.ClientID, kind: kind}, nil
}

// retryable retries what may pass on a second try (a dropped connection, a
// throttled or failing token service) and not a server certificate that does
// not verify, which would only make the caller wait for the same refusal.
func retryable(resp *http.Response, err error) bool {
	if err != nil {
		var (
			verify   *tls.CertificateVerificationError
			unknown  x509.UnknownAuthorityError
			hostname x509.HostnameError
			invalid  x509.CertificateInvalidError
		)
		return !errors.As(err, &verify) && !errors.As(err, &unknown) && !errors.As(err, &hostname) && !errors.As(err, &invalid)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// loadCertificate reads a PEM file (certificate and unencrypted key) or a PFX
// file. From an environment variable, PEM text or a base64-encoded PFX is
// accepted, as secret stores hand out binary files that way.
func loadCertificate(ref, password *config.Secret, now time.Time) ([]*x509.Certificate, crypto.PrivateKey, error) {
	data, err := ref.Bytes()
	if err != nil {
		return nil, nil, err
	}
	isPEM := strings.Contains(string(data), "-----BEGIN ")
	if !isPEM && ref.Env != "" {
		decoded, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(data)), ""))
		if err != nil {
			return nil, nil, errors.New("neither PEM nor base64-encoded PFX")
		}
		data = decoded
	}
	if isPEM && strings.Contains(string(data), "ENCRYPTED PRIVATE KEY") {
		return nil, nil, errors.New("encrypted PEM keys are not supported: use a PFX file with certificate_password, or an unencrypted PEM readable only by ticketguard")
	}
	var pw []byte
	if password != nil {
		if isPEM {
			return nil, nil, errors.New("certificate_password is set but the certificate is PEM: the password is for PFX files")
		}
		p, err := password.Resolve()
		if err != nil {
			return nil, nil, fmt.Errorf("certificate_password: %w", err)
		}
		pw = []byte(p)
	}
	certs, key, err := azidentity.ParseCertificates(data, pw)
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "pkcs12: unknown"):
			// Go's PKCS#12 reader knows only the legacy 3DES/RC2 + SHA-1 form.
			return nil, nil, fmt.Errorf("parse: %w (this PFX uses AES encryption, which cannot be read: convert it to PEM with `openssl pkcs12 -in FILE.pfx -out FILE.pem -nodes`, or re-export it with `openssl pkcs12 -export -legacy`)", err)
		case strings.Contains(msg, "password incorrect"):
			return nil, nil, fmt.Errorf("parse: %w (check certificate_password)", err)
		}
		return nil, nil, fmt.Errorf("parse: %w (expected PEM with the certificate and its key, or a PFX file)", err)
	}
	// Entra rejects an expired certificate with an opaque AADSTS code;
	// saying so here, with the date, saves a support call.
	if leaf := signingCert(certs, key); leaf != nil {
		switch {
		case now.After(leaf.NotAfter):
			return nil, nil, fmt.Errorf("expired on %s (subject %s): create a new one and upload it to the app registration", leaf.NotAfter.UTC().Format(time.DateOnly), leaf.Subject)
		case now.Before(leaf.NotBefore):
			return nil, nil, fmt.Errorf("not valid before %s (subject %s)", leaf.NotBefore.UTC().Format(time.RFC3339), leaf.Subject)
		}
	}
	return certs, key, nil
}

// signingCert is the certificate whose public key belongs to key, the one
// MSAL signs assertions for.
func signingCert(certs []*x509.Certificate, key crypto.PrivateKey) *x509.Certificate {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil
	}
	for _, c := range certs {
		if pub.Equal(c.PublicKey) {
			return c
		}
	}
	return nil
}

// tokenCredential puts a readable error on a failed sign-in: azidentity's
// own is a multi-line dump meant for a developer, not an MSP technician.
type tokenCredential struct {
	inner                            azcore.TokenCredential
	tenant, tenantID, clientID, kind string
}

func (c *tokenCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.inner.GetToken(ctx, opts)
	if err != nil {
		return tok, c.signInError(err, opts.Scopes)
	}
	return tok, nil
}

// SignInError is a failed token request: which tenant and app, and what
// Entra said (its OAuth error code and the first line of its description),
// with a hint for the common causes. Unwrap gives azidentity's error.
type SignInError struct {
	Tenant      string // the configuration's tenant name
	TenantID    string
	ClientID    string
	Credential  string   // "client secret env:NAME" or "certificate file:PATH": where the secret came from, never its value
	Scopes      []string // what was asked for
	StatusCode  int      // HTTP status of the token endpoint's answer; 0 when there was none
	Code        string   // OAuth error, e.g. invalid_client
	Description string   // e.g. "AADSTS7000215: Invalid client secret provided. ..."
	Hint        string
	err         error
}

func (e *SignInError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sign-in to tenant %s (tenant ID %s, app %s, %s)", e.Tenant, e.TenantID, e.ClientID, e.Credential)
	if len(e.Scopes) > 0 {
		fmt.Fprintf(&b, " for %s", strings.Join(e.Scopes, " "))
	}
	b.WriteString(" failed: ")
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
		if e.Code != "" {
			b.WriteString(" " + e.Code)
		}
		if e.Description != "" {
			b.WriteString(": " + e.Description)
		}
	case e.err != nil:
		// azidentity's text spans lines and ends with a link for developers.
		msg, _, _ := strings.Cut(e.err.Error(), " To troubleshoot, visit")
		b.WriteString(strings.Join(strings.Fields(msg), " "))
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

func (e *SignInError) Unwrap() error { return e.err }

// hints for the AADSTS codes an MSP meets when setting ticketguard up.
var hints = map[string]string{
	"7000215": "wrong client secret: use the secret's Value, not its Secret ID",
	"7000222": "the client secret has expired: add a new one to the app registration",
	"700016":  "the app is not in this tenant: check client_id and tenant_id, and that an administrator consented to the app in this tenant",
	"90002":   "no such tenant: check tenant_id",
	"700027":  "the certificate is not the one uploaded to the app registration, or the assertion was rejected",
	"700024":  "the assertion is outside its validity window: check this machine's clock",
	"500011":  "the resource is not consented in this tenant: grant admin consent to the app's API permissions",
	"7000112": "the app is disabled in this tenant",
}

var aadsts = regexp.MustCompile(`AADSTS(\d+)`)

func (c *tokenCredential) signInError(err error, scopes []string) error {
	e := &SignInError{Tenant: c.tenant, TenantID: c.tenantID, ClientID: c.clientID, Credential: c.kind, Scopes: scopes, err: err}
	// MSAL flattens the transport error to text, so errors.As alone misses it.
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) || strings.Contains(err.Error(), "tls: failed to verify certificate") {
		e.Hint = "the login endpoint's TLS certificate is not trusted; endpoints.ca_file adds a CA for a test server"
	}
	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) && failed.RawResponse != nil {
		e.StatusCode = failed.RawResponse.StatusCode
		if body, readErr := runtime.Payload(failed.RawResponse); readErr == nil {
			var answer struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
				Codes       []int  `json:"error_codes"`
			}
			if json.Unmarshal(body, &answer) != nil {
				// Not Entra's JSON (a proxy's HTML page, a bare 5xx).
				e.Description = truncate(strings.Join(strings.Fields(string(body)), " "), 200)
			} else {
				e.Code = answer.Error
				// The description's later lines are trace and correlation IDs.
				first, _, _ := strings.Cut(answer.Description, "\n")
				e.Description = truncate(strings.TrimSpace(first), 300)
				code := ""
				if m := aadsts.FindStringSubmatch(answer.Description); m != nil {
					code = m[1]
				} else if len(answer.Codes) > 0 {
					code = fmt.Sprint(answer.Codes[0])
				}
				e.Hint = hints[code]
			}
		}
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
