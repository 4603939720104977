package smtpprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/ticketguard/ticketguard/collectors"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	smtpsim "github.com/ticketguard/ticketguard/internal/simulator/smtp"
)

const host = "smtp.office365.com"

// loadTenant reads a testdata snapshot as a simulator fixture.
func loadTenant(t *testing.T, name string) *fixture.Tenant {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tenants", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	ten, err := fixture.FromSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	return ten
}

type sim struct {
	srv  *smtpsim.Server
	pool *x509.CertPool
}

func startSim(t *testing.T, mod func(*smtpsim.Options), tenants ...*fixture.Tenant) *sim {
	t.Helper()
	set, err := fixture.NewSet(tenants...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, pool := testCA(t, host)
	opts := smtpsim.Options{TLSConfig: cfg}
	if mod != nil {
		mod(&opts)
	}
	srv, err := smtpsim.New(set, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &sim{srv: srv, pool: pool}
}

// target points the probe at the simulator for the tenant's declared SMTP
// account, as the demo does: the declared server name, the simulator's
// address.
func (s *sim) target(ten *fixture.Tenant, password string) Target {
	user, _ := ten.SMTP["username"].(string)
	return Target{Server: host, Port: 587, Username: user, Password: password, RootCAs: s.pool, Timeout: 5 * time.Second, Address: s.srv.Addr()}
}

// noSecret fails when the password shows in any form in the result.
func noSecret(t *testing.T, r Result, password string) {
	t.Helper()
	if password == "" {
		return
	}
	raw, _ := json.Marshal(r.Map())
	for _, form := range []string{password, base64.StdEncoding.EncodeToString([]byte(password))} {
		if strings.Contains(string(raw), form) {
			t.Fatalf("the password appears in the result: %s", raw)
		}
	}
}

func TestLoginSucceeds(t *testing.T) {
	ten := loadTenant(t, "compliant-custom-smtp")
	s := startSim(t, nil, ten)
	r := Probe(context.Background(), s.target(ten, ten.SMTPPassword))
	noSecret(t, r, ten.SMTPPassword)

	if !r.Connected || !r.StartTLS || !r.CertificateVerified || r.TLSVersion != "TLS 1.3" {
		t.Fatalf("handshake: %+v", r)
	}
	if strings.Join(r.AuthMechanisms, " ") != "LOGIN XOAUTH2" {
		t.Errorf("auth_mechanisms %v", r.AuthMechanisms)
	}
	if r.Login != LoginSucceeded || !strings.HasPrefix(r.Reply, "235 ") || r.Error != "" {
		t.Fatalf("login=%s reply=%q error=%q", r.Login, r.Reply, r.Error)
	}
	if r.Server != host || r.Port != 587 {
		t.Errorf("server/port %s:%d", r.Server, r.Port)
	}
	if _, err := time.Parse(time.RFC3339, r.ProbedAt); err != nil {
		t.Errorf("probed_at %q", r.ProbedAt)
	}

	p := collectors.NewPartial(nil)
	Store(p, r)
	sec, ok := p.Sections()[Source].(map[string]any)
	if !ok || sec["login"] != LoginSucceeded || sec["tls_version"] != "TLS 1.3" || len(p.Errors()) != 0 {
		t.Fatalf("stored %v, errors %v", sec, p.Errors())
	}
}

func TestWithoutPasswordLoginIsSkipped(t *testing.T) {
	ten := loadTenant(t, "compliant-custom-smtp")
	s := startSim(t, nil, ten)
	r := Probe(context.Background(), s.target(ten, ""))
	if !r.CertificateVerified || r.Login != LoginSkipped || len(r.AuthMechanisms) == 0 || r.Error != "" {
		t.Fatalf("%+v", r)
	}
	if s.srv.AuthAttempts() != 0 {
		t.Error("AUTH was attempted without a password")
	}
}

func TestLoginRefused(t *testing.T) {
	good := loadTenant(t, "compliant-custom-smtp")
	// broken-smtp-settings: Get-CASMailbox null, Get-TransportConfig true,
	// so SMTP AUTH is off for the organisation.
	disabled := loadTenant(t, "broken-smtp-settings")
	legacy := loadTenant(t, "legacy-identities")

	cases := []struct {
		name     string
		ten      *fixture.Tenant
		password string
		mode     *smtpsim.AuthMode
		reply    string
		errText  string
	}{
		{"wrong password", good, "not-the-password", nil,
			"535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.", "refused"},
		{"SMTP AUTH disabled for the tenant", disabled, disabled.SMTPPassword, nil,
			"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", "Set-CASMailbox"},
		{"basic auth retired", legacy, legacy.SMTPPassword, ptr(smtpsim.BasicAuthRetired),
			"550 5.7.30 Basic authentication is not supported for Client Submission", "Basic authentication for SMTP AUTH is switched off"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, nil, tc.ten)
			if tc.mode != nil {
				if err := s.srv.SetAuthMode(tc.ten.Name, *tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			r := Probe(context.Background(), s.target(tc.ten, tc.password))
			noSecret(t, r, tc.password)
			if !r.CertificateVerified || r.Login != LoginFailed {
				t.Fatalf("%+v", r)
			}
			if !strings.HasPrefix(r.Reply, tc.reply) || !strings.Contains(r.Error, tc.errText) {
				t.Fatalf("reply %q\nerror %q", r.Reply, r.Error)
			}
		})
	}
}

func TestUntrustedCertificate(t *testing.T) {
	ten := loadTenant(t, "compliant-custom-smtp")
	s := startSim(t, nil, ten)

	_, otherCA := testCA(t, host) // a CA that did not issue the server's certificate
	untrusted := s.target(ten, ten.SMTPPassword)
	untrusted.RootCAs = otherCA
	wrongName := s.target(ten, ten.SMTPPassword)
	wrongName.Server = "mail.tailspintoys.com" // the certificate is for smtp.office365.com

	for name, tg := range map[string]Target{"unknown authority": untrusted, "name mismatch": wrongName} {
		t.Run(name, func(t *testing.T) {
			r := Probe(context.Background(), tg)
			noSecret(t, r, tg.Password)
			if !r.Connected || !r.StartTLS || r.CertificateVerified || r.TLSVersion != "" {
				t.Fatalf("%+v", r)
			}
			if r.Login != LoginSkipped || !strings.Contains(r.Error, "certificate failed verification") {
				t.Fatalf("login=%s error=%q", r.Login, r.Error)
			}
		})
	}
	if s.srv.AuthAttempts() != 0 {
		t.Error("the password was offered over an unverified connection")
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	start := time.Now()
	r := Probe(context.Background(), Target{Server: host, Port: 587, Password: "pw-unreachable", Address: addr, Timeout: 5 * time.Second})
	if time.Since(start) > time.Second {
		t.Errorf("a refused connection took %v", time.Since(start))
	}
	if r.Connected || r.Login != LoginSkipped || !strings.Contains(r.Error, "cannot connect") {
		t.Fatalf("%+v", r)
	}
	noSecret(t, r, "pw-unreachable")
}

// silent accepts connections and never says anything, as an implicit-TLS
// port does to a client waiting for the SMTP greeting.
func silent(t *testing.T) (string, chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), accepted
}

func TestPort465IsReportedNotProbed(t *testing.T) {
	addr, accepted := silent(t)
	start := time.Now()
	r := Probe(context.Background(), Target{Server: host, Port: 465, Username: "u@x", Password: "pw", Address: addr, Timeout: 5 * time.Second})
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("took %v", time.Since(start))
	}
	if r.Connected || r.Port != 465 || !strings.Contains(r.Error, "port 465") || !strings.Contains(r.Error, "not supported by Office 365") {
		t.Fatalf("%+v", r)
	}
	select {
	case <-accepted:
		t.Error("the probe connected to port 465")
	default:
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	addr, _ := silent(t)
	start := time.Now()
	r := Probe(context.Background(), Target{Server: host, Port: 587, Address: addr, Timeout: 300 * time.Millisecond})
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v with a 300ms timeout", el)
	}
	if r.Connected || !strings.Contains(r.Error, "timed out") {
		t.Fatalf("%+v", r)
	}
	// Our own timeout is a finding about the server: stored as data.
	p := collectors.NewPartial(nil)
	Store(p, r)
	if _, ok := p.Sections()[Source]; !ok || len(p.Errors()) != 0 {
		t.Fatalf("sections %v errors %v", p.Sections(), p.Errors())
	}
}

func TestCallerCancellationIsNotAFinding(t *testing.T) {
	addr, _ := silent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := Probe(ctx, Target{Server: host, Port: 587, Address: addr, Timeout: 10 * time.Second})
	p := collectors.NewPartial(nil)
	Store(p, r)
	if _, ok := p.Sections()[Source]; ok {
		t.Fatal("an interrupted probe was stored as a result")
	}
	if errs := p.Errors(); len(errs) != 1 || errs[0].Source != Source || !strings.Contains(errs[0].Message, "interrupted") {
		t.Fatalf("errors %+v", errs)
	}
}

func TestMechanismChoice(t *testing.T) {
	ten := loadTenant(t, "compliant-custom-smtp")

	s := startSim(t, func(o *smtpsim.Options) { o.Mechanisms = []string{"PLAIN"} }, ten)
	if r := Probe(context.Background(), s.target(ten, ten.SMTPPassword)); r.Login != LoginSucceeded {
		t.Errorf("PLAIN-only server: %+v", r)
	}

	s = startSim(t, func(o *smtpsim.Options) { o.Mechanisms = []string{"XOAUTH2"} }, ten)
	r := Probe(context.Background(), s.target(ten, ten.SMTPPassword))
	if r.Login != LoginFailed || !strings.Contains(r.Error, "no password login") || s.srv.AuthAttempts() != 0 {
		t.Errorf("XOAUTH2-only server: %+v", r)
	}
}

// echoBackend is a hostile server that puts what the client sent, password
// included, in its rejection.
type echoBackend struct{}

func (echoBackend) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return echoSession{}, nil }

type echoSession struct{}

func (echoSession) AuthMechanisms() []string { return []string{"LOGIN"} }
func (echoSession) Auth(string) (sasl.Server, error) {
	return &echoLogin{}, nil
}
func (echoSession) Mail(string, *gosmtp.MailOptions) error { return errors.New("no") }
func (echoSession) Rcpt(string, *gosmtp.RcptOptions) error { return errors.New("no") }
func (echoSession) Data(io.Reader) error                   { return errors.New("no") }
func (echoSession) Reset()                                 {}
func (echoSession) Logout() error                          { return nil }

type echoLogin struct{ user []byte }

func (e *echoLogin) Next(resp []byte) ([]byte, bool, error) {
	switch {
	case resp == nil:
		return []byte("Username:"), false, nil
	case e.user == nil:
		e.user = resp
		return []byte("Password:"), false, nil
	}
	return nil, true, &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8},
		Message: "bad password " + string(resp) + " (base64 " + base64.StdEncoding.EncodeToString(resp) + ")"}
}

func TestPasswordNeverInResult(t *testing.T) {
	cfg, pool := testCA(t, host)
	srv := gosmtp.NewServer(echoBackend{})
	srv.TLSConfig = cfg
	srv.Domain = host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	const password = "S3cret-smtp-Passw0rd!"
	r := Probe(context.Background(), Target{Server: host, Port: 587, Username: "helpdesk@acme.com", Password: password,
		RootCAs: pool, Timeout: 5 * time.Second, Address: ln.Addr().String()})
	if r.Login != LoginFailed || !strings.Contains(r.Reply, "[REDACTED]") {
		t.Fatalf("%+v", r)
	}
	noSecret(t, r, password)
	if strings.Contains(r.Error, password) {
		t.Fatalf("error %q", r.Error)
	}
}

func TestTLSConfigFloor(t *testing.T) {
	// A server limited to TLS 1.1 cannot be used: the probe requires 1.2.
	cfg, pool := testCA(t, host)
	cfg.MaxVersion = tls.VersionTLS11
	srv := gosmtp.NewServer(echoBackend{})
	srv.TLSConfig = cfg
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	r := Probe(context.Background(), Target{Server: host, Port: 587, RootCAs: pool, Timeout: 5 * time.Second, Address: ln.Addr().String()})
	if !r.StartTLS || r.TLSVersion != "" || r.CertificateVerified || !strings.Contains(r.Error, "handshake failed") {
		t.Fatalf("%+v", r)
	}
}

func ptr[T any](v T) *T { return &v }

// A server that greets and then closes the connection without a reply
// (a network drop, an overloaded relay) gives no verdict about the login:
// recorded as an error so smtp-login is indeterminate, never failed.
func TestDroppedConnectionIsNotAFinding(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("220 smtp.office365.com Microsoft ESMTP MAIL Service ready\r\n"))
			buf := make([]byte, 512)
			_, _ = c.Read(buf) // EHLO, then hang up without answering
			c.Close()
		}
	}()
	r := Probe(context.Background(), Target{Server: host, Port: 587, Address: ln.Addr().String(), Timeout: 2 * time.Second})
	if !r.Connected || r.Error == "" {
		t.Fatalf("probe = %+v, want connected with an error", r)
	}
	p := collectors.NewPartial(nil)
	Store(p, r)
	if _, ok := p.Sections()[Source]; ok {
		t.Fatal("a dropped connection was stored as the server's verdict")
	}
	if errs := p.Errors(); len(errs) != 1 || errs[0].Source != Source || !strings.Contains(errs[0].Message, "closed before the server answered") {
		t.Fatalf("errors %+v", errs)
	}
}
