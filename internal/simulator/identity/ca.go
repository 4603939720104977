package identity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// ca is the simulator's own certificate authority. Every simulated HTTPS
// service presents a leaf it issued, and clients trust it through an injected
// transport: MSAL refuses authorities that are not https, and disabling
// verification would hide exactly the mistakes a test should catch.
type ca struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	pool    *x509.CertPool
}

func newCA(now time.Time) (*ca, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "ticketguard simulator CA", Organization: []string{"ticketguard simulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("identity: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("identity: CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &ca{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pool:    pool,
	}, nil
}

// leaf issues a server certificate for 127.0.0.1, ::1, localhost and hosts
// (IP addresses or DNS names).
func (c *ca) leaf(now time.Time, hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: leaf key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"ticketguard simulator"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: leaf certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: leaf certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics
		// itself rather than returning an error).
		panic(err)
	}
	return n
}

// CAPEM returns the simulator CA certificate in PEM, for a client's ca_file.
func (a *Authority) CAPEM() []byte { return append([]byte(nil), a.ca.certPEM...) }

// CertPool returns a pool holding only the simulator CA.
func (a *Authority) CertPool() *x509.CertPool { return a.ca.pool.Clone() }

// ServerTLSConfig returns a TLS configuration with a certificate issued by
// the simulator CA for 127.0.0.1, ::1, localhost and the given extra hosts.
// Every simulated HTTPS service uses one, so a single CA is all clients trust.
// It panics only if the certificate cannot be created, which happens on a
// broken crypto/rand and nowhere else.
func (a *Authority) ServerTLSConfig(hosts ...string) *tls.Config {
	cert, err := a.ca.leaf(a.now(), hosts...)
	if err != nil {
		panic(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// HTTPClient returns a client that trusts the simulator CA (and only it), for
// azcore's ClientOptions.Transport and other test clients.
func (a *Authority) HTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: a.ca.pool.Clone(), MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
		Timeout: 5 * time.Minute,
	}
}

// ClientCertificate is an app registration's certificate credential: the
// public certificate the tenant registers and the PEM (certificate plus
// PKCS#8 key) the client signs its assertions with.
type ClientCertificate struct {
	CertPEM []byte // register as fixture.Tenant.CertificatePEM
	KeyPEM  []byte // certificate and private key, as azidentity.ParseCertificates reads it
}

// NewClientCertificate makes a self-signed RSA certificate for an app
// registration. RSA because MSAL signs client assertions with PS256 (RS256 for
// ADFS) and rejects other key types.
func NewClientCertificate(commonName string) (*ClientCertificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("identity: client key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("identity: client certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(crypto.Signer(key))
	if err != nil {
		return nil, fmt.Errorf("identity: client key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := append(append([]byte(nil), certPEM...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...)
	return &ClientCertificate{CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// NewCA returns an Authority that serves no tenant, for tests and tools that
// need only the simulator's certificate authority (TLS for an SMTP server).
func NewCA() (*Authority, error) {
	set, err := fixture.NewSet()
	if err != nil {
		return nil, err
	}
	return New(Options{Tenants: set})
}
