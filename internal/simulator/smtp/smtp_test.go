package smtp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// account builds a tenant whose Atera SMTP user is user, with the given
// Get-CASMailbox and Get-TransportConfig SmtpClientAuthenticationDisabled
// values (nil = null).
func account(name, user string, mailbox, org any) *fixture.Tenant {
	return &fixture.Tenant{
		Name: name, TenantID: name + "-id",
		SMTP:         map[string]any{"server": "smtp.office365.com", "port": 587, "ssl": true, "username": user},
		SMTPPassword: "pw-" + name,
		Exchange: map[string]any{
			"Get-CASMailbox": []any{map[string]any{
				"PrimarySmtpAddress":               user,
				"EmailAddresses":                   []any{"SMTP:" + user},
				"SmtpClientAuthenticationDisabled": mailbox,
			}},
			"Get-TransportConfig": []any{map[string]any{"SmtpClientAuthenticationDisabled": org}},
		},
	}
}

type harness struct {
	srv    *Server
	pool   *x509.CertPool
	faults *fault.Injector
}

func start(t *testing.T, mod func(*Options), tenants ...*fixture.Tenant) *harness {
	t.Helper()
	set, err := fixture.NewSet(tenants...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, pool := testCA(t, "smtp.office365.com")
	h := &harness{pool: pool, faults: new(fault.Injector)}
	opts := Options{TLSConfig: cfg, Faults: h.faults}
	if mod != nil {
		mod(&opts)
	}
	if h.srv, err = New(set, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.srv.Close() })
	return h
}

// tlsClient connects, says EHLO and upgrades with STARTTLS, verifying the
// certificate for smtp.office365.com.
func (h *harness) tlsClient(t *testing.T) *gosmtp.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", h.srv.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	c, err := gosmtp.NewClientStartTLS(conn, &tls.Config{ServerName: "smtp.office365.com", RootCAs: h.pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func smtpCode(err error) (int, string) {
	var se *gosmtp.SMTPError
	if errors.As(err, &se) {
		// The reply as it was on the wire.
		return se.Code, fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
	}
	return 0, ""
}

func TestAuthOfferedOnlyAfterSTARTTLS(t *testing.T) {
	h := start(t, nil, account("acme", "helpdesk@acme.com", false, true))
	if !strings.HasPrefix(h.srv.Addr(), "127.0.0.1:") || h.srv.Port() == 0 {
		t.Fatalf("Addr %q", h.srv.Addr())
	}

	c, err := gosmtp.Dial(h.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("probe.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not offered")
	}
	if ok, mechs := c.Extension("AUTH"); ok {
		t.Errorf("AUTH %s offered before STARTTLS", mechs)
	}
	if size, _ := c.MaxMessageSize(); size != 157286400 {
		t.Errorf("SIZE %d, want Office 365's 157286400", size)
	}
	err = c.Auth(sasl.NewLoginClient("helpdesk@acme.com", "pw-acme"))
	if code, _ := smtpCode(err); code < 500 {
		t.Fatalf("AUTH in clear text: %v, want a 5xx refusal", err)
	}
	if h.srv.AuthAttempts() != 0 {
		t.Error("a clear-text AUTH reached the password check")
	}

	tc := h.tlsClient(t)
	if ok, mechs := tc.Extension("AUTH"); !ok || mechs != "LOGIN XOAUTH2" {
		t.Fatalf("AUTH after STARTTLS = %v %q, want Office 365's LOGIN XOAUTH2", ok, mechs)
	}
	if ok, _ := tc.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered again inside TLS")
	}
	if st, _ := tc.TLSConnectionState(); st.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x", st.Version)
	}
}

func TestAuthReplies(t *testing.T) {
	h := start(t, nil,
		account("acme", "helpdesk@acme.com", false, true),        // mailbox on, org off: allowed
		account("globex", "relay@globex.com", nil, true),         // mailbox null, org off: tenant disabled
		account("initech", "desk@initech.com", true, false),      // mailbox off
		account("twin-a", "helpdesk@tailspin.com", false, false), // two tenants, one user name
		account("twin-b", "helpdesk@tailspin.com", false, false),
	)
	if err := h.srv.SetAuthMode("twin-b", BasicAuthRetired); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.SetAuthMode("nobody", AuthEnabled); err == nil {
		t.Error("SetAuthMode accepted an unknown tenant")
	}

	cases := []struct {
		name, user, pass string
		code             int
		text             string
	}{
		{"success", "helpdesk@acme.com", "pw-acme", 0, ""},
		{"user name in another case", "HelpDesk@Acme.com", "pw-acme", 0, ""},
		{"wrong password", "helpdesk@acme.com", "nope", 535, "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect."},
		{"unknown user", "who@acme.com", "pw-acme", 535, "the user credentials were incorrect"},
		{"disabled for the tenant", "relay@globex.com", "pw-globex", 535, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."},
		{"disabled, wrong password", "relay@globex.com", "nope", 535, "the user credentials were incorrect"},
		{"disabled for the mailbox", "desk@initech.com", "pw-initech", 535, "SmtpClientAuthentication is disabled for the Mailbox."},
		{"twin with its password", "helpdesk@tailspin.com", "pw-twin-a", 0, ""},
		{"basic auth retired", "helpdesk@tailspin.com", "pw-twin-b", 550, "550 5.7.30 Basic authentication is not supported for Client Submission"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.tlsClient(t)
			err := c.Auth(sasl.NewLoginClient(tc.user, tc.pass))
			code, text := smtpCode(err)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("login failed: %v", err)
				}
				// Authenticated, yet no mail is accepted.
				if code, _ := smtpCode(c.Mail("helpdesk@acme.com", nil)); code != 550 {
					t.Errorf("MAIL FROM after login: code %d, want 550", code)
				}
				return
			}
			if code != tc.code || !strings.Contains(text, tc.text) {
				t.Fatalf("got %d %q (%v), want %d %q", code, text, err, tc.code, tc.text)
			}
			if strings.Contains(text, tc.pass) {
				t.Error("reply contains the password")
			}
		})
	}
}

func TestMailIsNeverAccepted(t *testing.T) {
	h := start(t, nil, account("acme", "helpdesk@acme.com", false, false))
	c := h.tlsClient(t)
	if code, _ := smtpCode(c.Mail("helpdesk@acme.com", nil)); code != 530 {
		t.Errorf("MAIL FROM without AUTH: code %d, want 530 5.7.57", code)
	}
}

func TestOtherMechanisms(t *testing.T) {
	h := start(t, func(o *Options) { o.Mechanisms = []string{"PLAIN", "LOGIN"} }, account("acme", "helpdesk@acme.com", false, false))
	c := h.tlsClient(t)
	if err := c.Auth(sasl.NewPlainClient("", "helpdesk@acme.com", "pw-acme")); err != nil {
		t.Fatalf("PLAIN: %v", err)
	}
	c = h.tlsClient(t)
	if code, _ := smtpCode(c.Auth(sasl.NewPlainClient("", "helpdesk@acme.com", "bad"))); code != 535 {
		t.Errorf("PLAIN, wrong password: %d", code)
	}

	h = start(t, nil, account("acme", "helpdesk@acme.com", false, false))
	c = h.tlsClient(t)
	if code, _ := smtpCode(c.Auth(sasl.NewPlainClient("", "helpdesk@acme.com", "pw-acme"))); code != 504 {
		t.Errorf("PLAIN on an Office 365-like server: %d, want 504 Unrecognized authentication type", code)
	}
}

func TestFaults(t *testing.T) {
	h := start(t, nil, account("acme", "helpdesk@acme.com", false, false))

	h.faults.Add(fault.Rule{Endpoint: Endpoint, Kind: fault.Throttle, Times: 1})
	c, err := gosmtp.Dial(h.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := smtpCode(c.Hello("probe.test")); code != 421 {
		t.Errorf("throttled EHLO: %v, want 421", err)
	}
	c.Close()

	h.faults.Add(fault.Rule{Endpoint: Endpoint, Tenant: "acme", Kind: fault.Forbidden, Times: 1})
	tc := h.tlsClient(t)
	_, text := smtpCode(tc.Auth(sasl.NewLoginClient("helpdesk@acme.com", "pw-acme")))
	if !strings.Contains(text, "did not meet the criteria") {
		t.Errorf("Forbidden at AUTH: %q, want the Conditional Access reply", text)
	}
	if tc := h.tlsClient(t); tc.Auth(sasl.NewLoginClient("helpdesk@acme.com", "pw-acme")) != nil {
		t.Error("login after the one-time fault failed")
	}

	// A rule for any tenant is matched when the connection opens and still
	// applies to the AUTH that follows STARTTLS.
	h.faults.Add(fault.Rule{Endpoint: Endpoint, Kind: fault.ExpiredToken, Times: 1})
	tc = h.tlsClient(t)
	if code, text := smtpCode(tc.Auth(sasl.NewLoginClient("helpdesk@acme.com", "pw-acme"))); code != 535 || !strings.Contains(text, "5.7.3") {
		t.Errorf("ExpiredToken: %d %q, want 535 5.7.3", code, text)
	}
	if h.faults.Hits(Endpoint) != 3 {
		t.Errorf("fault hits = %d, want 3", h.faults.Hits(Endpoint))
	}
}

func TestNewRequiresCertificate(t *testing.T) {
	set, _ := fixture.NewSet()
	if _, err := New(set, Options{}); err == nil {
		t.Fatal("New without a certificate succeeded")
	}
}
