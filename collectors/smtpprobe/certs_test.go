package smtpprobe

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/ticketguard/ticketguard/internal/simulator/identity"
)

// testCA issues a server certificate for hosts (plus 127.0.0.1 and
// localhost) from a fresh simulator CA, and returns the server config and a
// pool trusting only that CA.
func testCA(t *testing.T, hosts ...string) (*tls.Config, *x509.CertPool) {
	t.Helper()
	ca, err := identity.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca.ServerTLSConfig(hosts...), ca.CertPool()
}
