package credential

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// HTTPClient returns the client every collector shares: the system's trusted
// CAs plus those in caFile (PEM; empty for none), TLS 1.2 or later, HTTP/2
// when the server offers it. There is no overall timeout: a large tenant's
// Get-Mailbox legitimately streams for minutes, so callers bound requests
// with their context; the transport bounds each phase that can hang.
func HTTPClient(caFile string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		// No system store (a scratch container): trust only caFile.
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
		}
	}
	transport := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig: &tls.Config{
			RootCAs:    pool,
			MinVersion: tls.VersionTLS12,
		},
		// A custom TLS config turns HTTP/2 off unless asked for.
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 3 * time.Minute, // Exchange may think a long time before answering a big cmdlet
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          256,
		// Many tenants' requests go to the same few hosts; the default of 2
		// idle connections per host would redial constantly.
		MaxIdleConnsPerHost: 64,
	}
	return &http.Client{Transport: transport}, nil
}
