package identity

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// assertionError carries the AADSTS code and text Entra answers with.
type assertionError struct {
	code int
	msg  string
}

// clockSkew is how far exp and nbf may be off, as Entra tolerates.
const clockSkew = 5 * time.Minute

// verifyAssertion checks a client assertion as Entra does for a certificate
// credential: signed by the registered certificate's key (PS256 or RS256 for
// RSA, ES256 for ECDSA), thumbprint header matching that certificate when
// present, aud = the token endpoint, iss = sub = the client id, exp in the
// future, nbf not in the future.
func (a *Authority) verifyAssertion(assertion string, certPEM []byte, clientID string, audiences []string) *assertionError {
	cert, err := parseCert(certPEM)
	if err != nil {
		return &assertionError{700027, "Client assertion failed signature validation. No certificate is registered on the application."}
	}
	var methods []string
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		methods = []string{"PS256", "RS256"}
	case *ecdsa.PublicKey:
		methods = []string{"ES256"}
	default:
		return &assertionError{700027, "Client assertion failed signature validation. The registered certificate's key type is not supported."}
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(assertion, claims, func(t *jwt.Token) (any, error) {
		if !thumbprintMatches(t.Header, cert) {
			return nil, errors.New("thumbprint")
		}
		return cert.PublicKey, nil
	},
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(clockSkew),
		jwt.WithTimeFunc(a.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return &assertionError{50027, "JWT token is invalid or malformed."}
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return &assertionError{700027, "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.]"}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return &assertionError{700027, "Client assertion failed signature validation."}
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return &assertionError{700024, "Client assertion is not within its valid time range."}
	case err != nil || !tok.Valid:
		return &assertionError{700027, "Client assertion failed signature validation."}
	}
	if !audienceMatches(claims["aud"], audiences) {
		return &assertionError{700212, fmt.Sprintf("No matching federated identity record found for presented assertion audience '%v'.", claims["aud"])}
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if !strings.EqualFold(iss, clientID) || !strings.EqualFold(sub, clientID) {
		return &assertionError{700021, "Client assertion application identifier doesn't match 'client_id' parameter."}
	}
	return nil
}

func parseCert(certPEM []byte) (*x509.Certificate, error) {
	for rest := certPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no certificate")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

// thumbprintMatches checks x5t#S256 / x5t when the client sent them. MSAL
// encodes them with standard base64, the RFC says base64url: accept both.
func thumbprintMatches(header map[string]any, cert *x509.Certificate) bool {
	s256 := sha256.Sum256(cert.Raw)
	s1 := sha1.Sum(cert.Raw) //nolint:gosec // thumbprint, not a security boundary
	check := func(key string, want []byte) bool {
		v, present := header[key]
		if !present {
			return true
		}
		s, _ := v.(string)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if got, err := enc.DecodeString(s); err == nil && string(got) == string(want) {
				return true
			}
		}
		return false
	}
	return check("x5t#S256", s256[:]) && check("x5t", s1[:])
}

func audienceMatches(aud any, valid []string) bool {
	var auds []string
	switch v := aud.(type) {
	case string:
		auds = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	for _, got := range auds {
		for _, want := range valid {
			if strings.EqualFold(strings.TrimRight(got, "/"), strings.TrimRight(want, "/")) {
				return true
			}
		}
	}
	return false
}
