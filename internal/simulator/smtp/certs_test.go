package smtp

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/simulator/identity"
)

// testCA issues a server certificate for hosts (plus 127.0.0.1 and
// localhost) from a fresh simulator CA, and returns the server config and a
// pool trusting only that CA.
func testCA(t *testing.T, hosts ...string) (*tls.Config, *x509.CertPool) {
	t.Helper()
	set, err := fixture.NewSet()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := identity.New(identity.Options{Tenants: set})
	if err != nil {
		t.Fatal(err)
	}
	return ca.ServerTLSConfig(hosts...), ca.CertPool()
}
