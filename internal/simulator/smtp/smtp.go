// Package smtp simulates Office 365's SMTP AUTH client submission endpoint
// (smtp.office365.com:587) for ticketguard's SMTP probe: STARTTLS, then AUTH
// checked against the fixture tenants' Atera SMTP accounts, with the replies
// Exchange Online gives. It never accepts mail: the probe sends nothing, and
// a simulator that relayed would hide a probe that did.
//
// Behaviour copied from Office 365 (sources in comments next to each reply):
//   - AUTH is advertised only after STARTTLS, as "AUTH LOGIN XOAUTH2" (no
//     PLAIN), e.g. "250-AUTH LOGIN XOAUTH2" in Enough-Software/enough_mail#106;
//   - SIZE 157286400 and the other EHLO keywords of a real session
//     (simonrob/email-oauth2-proxy#95);
//   - the 535 5.7.139 and 550 5.7.30 texts below.
package smtp

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/emersion/go-sasl"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// Endpoint is the fault-injection endpoint name.
const Endpoint = "smtp"

// AuthMode is how the server treats a tenant's SMTP AUTH attempts.
type AuthMode int

const (
	// AuthFromFixture (the default) follows the tenant's Exchange data:
	// Get-CASMailbox SmtpClientAuthenticationDisabled of the SMTP user, or,
	// when that is null, Get-TransportConfig's organisation value.
	AuthFromFixture AuthMode = iota
	// AuthEnabled accepts the right password whatever the fixture says.
	AuthEnabled
	// AuthDisabledTenant answers as for an organisation with SMTP AUTH off.
	AuthDisabledTenant
	// AuthDisabledMailbox answers as for a mailbox with SMTP AUTH off.
	AuthDisabledMailbox
	// BasicAuthRetired answers as Exchange Online does once Basic
	// authentication for client submission is switched off (SPEC §1.10).
	BasicAuthRetired
)

// Replies Exchange Online sends. The 5.7.139 texts end with the aka.ms link
// Office 365 appends (simonrob/email-oauth2-proxy#193 quotes the tenant one).
var (
	errBadCredentials = &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 139},
		Message: "Authentication unsuccessful, the user credentials were incorrect."}
	errDisabledTenant = &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 139},
		Message: "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."}
	errDisabledMailbox = &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 139},
		Message: "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."}
	errBasicRetired = &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 7, 30},
		Message: "Basic authentication is not supported for Client Submission."}
	errConditionalAccess = &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 139},
		Message: "Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator."}
	errExpired = &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 3},
		Message: "Authentication unsuccessful"}
	errTemporary = &gosmtp.SMTPError{Code: 454, EnhancedCode: gosmtp.EnhancedCode{4, 7, 0},
		Message: "Temporary authentication failure"}
	errBusy = &gosmtp.SMTPError{Code: 421, EnhancedCode: gosmtp.EnhancedCode{4, 3, 2},
		Message: "Service not available, closing transmission channel"}
	errXOAuth2 = &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 3},
		Message: "Authentication unsuccessful"}
	errNotAuthenticated = &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 57},
		Message: "Client not authenticated to send mail."}
	errNoMail = &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1},
		Message: "ticketguard simulator: this server accepts no mail (the SMTP probe never sends)"}
)

// Options configures a Server.
type Options struct {
	// TLSConfig holds the certificate STARTTLS presents (issued by the
	// simulator's CA). Required. TLS below 1.2 is refused, as Office 365 does.
	TLSConfig *tls.Config
	// Domain is the host name in the greeting; default "smtp.office365.com".
	Domain string
	// Mechanisms are the SASL mechanisms advertised after STARTTLS; default
	// LOGIN and XOAUTH2, as Office 365. Tests add PLAIN to cover clients of
	// other servers. XOAUTH2 always fails (the simulator issues no tokens).
	Mechanisms []string
	// Faults injects failures on Endpoint: at the first EHLO (tenant ""),
	// Throttle or ServerError answer 421 and Truncate drops the connection,
	// Slow delays the reply; at AUTH (tenant = the account's tenant), Slow
	// delays, Throttle/ServerError answer 454, ExpiredToken 535 5.7.3,
	// Forbidden the Conditional Access 535, Truncate drops the connection.
	Faults *fault.Injector
	// ReadTimeout closes idle connections; default 30 s.
	ReadTimeout time.Duration
	// ErrorLog receives go-smtp's internal errors; nil discards them. It
	// never sees credentials.
	ErrorLog *log.Logger
}

// Server is a running SMTP simulator on 127.0.0.1.
type Server struct {
	set   *fixture.Set
	opts  Options
	srv   *gosmtp.Server
	ln    net.Listener
	done  chan struct{}
	mu    sync.Mutex
	modes map[string]AuthMode
	auths int
}

// New starts a server on 127.0.0.1 with an ephemeral port.
func New(set *fixture.Set, opts Options) (*Server, error) {
	if opts.TLSConfig == nil || (len(opts.TLSConfig.Certificates) == 0 && opts.TLSConfig.GetCertificate == nil) {
		return nil, errors.New("smtp simulator: a TLS certificate is required for STARTTLS")
	}
	if opts.Domain == "" {
		opts.Domain = "smtp.office365.com"
	}
	if len(opts.Mechanisms) == 0 {
		opts.Mechanisms = []string{sasl.Login, "XOAUTH2"}
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 30 * time.Second
	}
	tlsConfig := opts.TLSConfig.Clone()
	tlsConfig.MinVersion = max(tlsConfig.MinVersion, tls.VersionTLS12)

	s := &Server{set: set, opts: opts, done: make(chan struct{}), modes: map[string]AuthMode{}}
	s.srv = gosmtp.NewServer(gosmtp.BackendFunc(s.newSession))
	s.srv.Domain = opts.Domain
	s.srv.TLSConfig = tlsConfig
	s.srv.MaxMessageBytes = 157286400
	s.srv.EnableSMTPUTF8 = true
	s.srv.EnableDSN = true
	s.srv.EnableBINARYMIME = true
	s.srv.ReadTimeout = opts.ReadTimeout
	s.srv.WriteTimeout = opts.ReadTimeout
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.ErrorLog != nil {
		s.srv.ErrorLog = opts.ErrorLog
	}
	// AllowInsecureAuth stays false: go-smtp then advertises and accepts
	// AUTH only on a TLS connection, as Office 365 does.

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtp simulator: %w", err)
	}
	ln = trackingListener{ln}
	s.ln = ln
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server and drops open connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	// Closing the listener ourselves also covers a Close that runs before
	// Serve has registered it with go-smtp.
	_ = s.ln.Close()
	<-s.done
	if errors.Is(err, gosmtp.ErrServerClosed) {
		return nil
	}
	return err
}

// SetAuthMode sets how AUTH behaves for a tenant (by fixture name).
func (s *Server) SetAuthMode(tenant string, m AuthMode) error {
	if _, ok := s.set.ByName(tenant); !ok {
		return fmt.Errorf("smtp simulator: no tenant named %q", tenant)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes[tenant] = m
	return nil
}

// AuthAttempts is how many AUTH exchanges reached a verdict, for tests.
func (s *Server) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

func (s *Server) mode(tenant string) AuthMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modes[tenant]
}

// newSession runs at every EHLO/HELO. Connection-level faults fire at the
// first one of a connection (go-smtp creates the session then).
func (s *Server) newSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	sess := &session{srv: s, conn: c}
	tc := tracked(c)
	if _, isTLS := c.TLSConnectionState(); isTLS {
		// After STARTTLS go-smtp starts a new session: the connection's
		// faults already fired; one that concerns AUTH carries over.
		if tc != nil {
			sess.pending, tc.pending = tc.pending, nil
		}
		return sess, nil
	}
	if tc != nil && tc.greeted {
		return sess, nil // a second EHLO on the same connection
	}
	if tc != nil {
		tc.greeted = true
	}
	if rule := s.opts.Faults.Match("", Endpoint); rule != nil {
		switch rule.Kind {
		case fault.Slow:
			time.Sleep(rule.Delay)
		case fault.Throttle, fault.ServerError:
			return nil, errBusy
		case fault.Truncate:
			_ = c.Conn().Close()
			return nil, errBusy
		default:
			// ExpiredToken, Forbidden: they concern AUTH, which comes after
			// STARTTLS, in a new session of the same connection.
			sess.pending = rule
			if tc != nil {
				tc.pending = rule
			}
		}
	}
	return sess, nil
}

// trackingListener wraps accepted connections so per-connection state
// survives go-smtp replacing the session at STARTTLS.
type trackingListener struct{ net.Listener }

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &trackedConn{Conn: c}, nil
}

// trackedConn is only touched by the goroutine serving the connection.
type trackedConn struct {
	net.Conn
	greeted bool
	pending *fault.Rule
}

func tracked(c *gosmtp.Conn) *trackedConn {
	nc := c.Conn()
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	tc, _ := nc.(*trackedConn)
	return tc
}

type session struct {
	srv     *Server
	conn    *gosmtp.Conn
	pending *fault.Rule
	tenant  string // set once AUTH succeeded
}

func (s *session) AuthMechanisms() []string { return s.srv.opts.Mechanisms }

func (s *session) Auth(mech string) (sasl.Server, error) {
	switch strings.ToUpper(mech) {
	case sasl.Login:
		if s.offers(sasl.Login) {
			return &loginServer{verify: s.verify}, nil
		}
	case sasl.Plain:
		if s.offers(sasl.Plain) {
			return sasl.NewPlainServer(func(identity, username, password string) error {
				if identity != "" && !strings.EqualFold(identity, username) {
					return errBadCredentials
				}
				return s.verify(username, password)
			}), nil
		}
	case "XOAUTH2":
		if s.offers("XOAUTH2") {
			return failServer{errXOAuth2}, nil
		}
	}
	// Office 365's reply to a mechanism it does not offer.
	return nil, &gosmtp.SMTPError{Code: 504, EnhancedCode: gosmtp.EnhancedCode{5, 7, 4}, Message: "Unrecognized authentication type"}
}

func (s *session) offers(mech string) bool {
	for _, m := range s.srv.opts.Mechanisms {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// verify decides an AUTH attempt. Basic authentication retired applies
// whatever the password (the whole protocol path is off) as soon as the
// account's tenant is known; a wrong password is reported before SMTP AUTH
// being disabled, so a probe with the wrong password is never told the
// account would otherwise work.
func (s *session) verify(username, password string) error {
	s.srv.mu.Lock()
	s.srv.auths++
	s.srv.mu.Unlock()

	tenants := s.srv.accounts(username)
	rule := s.pending
	s.pending = nil // a fault fires once per match
	if rule == nil {
		name := ""
		if len(tenants) == 1 {
			name = tenants[0].Name
		}
		rule = s.srv.opts.Faults.Match(name, Endpoint)
	}
	if rule != nil {
		switch rule.Kind {
		case fault.Slow:
			time.Sleep(rule.Delay)
		case fault.Throttle, fault.ServerError:
			return errTemporary
		case fault.ExpiredToken:
			return errExpired
		case fault.Forbidden:
			return errConditionalAccess
		case fault.Truncate:
			_ = s.conn.Conn().Close()
			return errTemporary
		}
	}

	var match *fixture.Tenant
	for _, t := range tenants {
		var ok bool
		s.srv.set.Read(t, func(t *fixture.Tenant) {
			ok = t.SMTPPassword != "" && subtle.ConstantTimeCompare([]byte(password), []byte(t.SMTPPassword)) == 1
		})
		if ok {
			match = t
			break
		}
	}
	if match == nil {
		// Without the password the account is still known when only one
		// tenant (or only retired ones) has this user name.
		retired := len(tenants) > 0
		for _, t := range tenants {
			retired = retired && s.srv.mode(t.Name) == BasicAuthRetired
		}
		if retired {
			return errBasicRetired
		}
		return errBadCredentials
	}
	mode := s.srv.mode(match.Name)
	if mode == BasicAuthRetired {
		return errBasicRetired
	}
	if mode == AuthFromFixture {
		s.srv.set.Read(match, func(t *fixture.Tenant) { mode = modeFromExchange(t, username) })
	}
	switch mode {
	case AuthDisabledTenant:
		return errDisabledTenant
	case AuthDisabledMailbox:
		return errDisabledMailbox
	}
	s.tenant = match.Name
	return nil
}

// accounts returns the tenants whose Atera SMTP user name is username.
// Several fixtures may share one (the testdata tenants are variations of a
// few organisations); the password tells them apart.
func (s *Server) accounts(username string) []*fixture.Tenant {
	var out []*fixture.Tenant
	for _, t := range s.set.All() {
		s.set.Read(t, func(t *fixture.Tenant) {
			if u, _ := t.SMTP["username"].(string); u != "" && strings.EqualFold(strings.TrimSpace(u), strings.TrimSpace(username)) {
				out = append(out, t)
			}
		})
	}
	return out
}

func (s *session) Mail(string, *gosmtp.MailOptions) error {
	if s.tenant == "" {
		return errNotAuthenticated
	}
	return errNoMail
}

func (s *session) Rcpt(string, *gosmtp.RcptOptions) error {
	if s.tenant == "" {
		return errNotAuthenticated
	}
	return errNoMail
}

func (s *session) Data(r io.Reader) error {
	_, _ = io.Copy(io.Discard, r)
	return errNoMail
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism (go-sasl has only
// the client): "Username:" and "Password:" challenges, the user name
// possibly sent as an initial response.
type loginServer struct {
	verify   func(username, password string) error
	username []byte
	step     int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.username = bytes.Clone(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.verify(string(l.username), string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// failServer fails a mechanism on the client's first response.
type failServer struct{ err error }

func (f failServer) Next(response []byte) ([]byte, bool, error) {
	if response == nil {
		return []byte{}, false, nil
	}
	return nil, true, f.err
}

// modeFromExchange reads whether SMTP AUTH is on for username from the
// tenant's Exchange data (SPEC §2): Get-CASMailbox
// SmtpClientAuthenticationDisabled of that mailbox wins when it is true or
// false; when it is null (or the mailbox is absent), Get-TransportConfig's
// organisation value applies.
func modeFromExchange(t *fixture.Tenant, username string) AuthMode {
	want := strings.ToLower(strings.TrimSpace(username))
	var mailbox any
	for _, o := range objects(t.Exchange["Get-CASMailbox"]) {
		if hasAddress(o, want) {
			mailbox = o["SmtpClientAuthenticationDisabled"]
			break
		}
	}
	if v, ok := boolValue(mailbox); ok {
		if v {
			return AuthDisabledMailbox
		}
		return AuthEnabled
	}
	for _, o := range objects(t.Exchange["Get-TransportConfig"]) {
		if v, ok := boolValue(o["SmtpClientAuthenticationDisabled"]); ok && v {
			return AuthDisabledTenant
		}
	}
	return AuthEnabled
}

// objects flattens a cmdlet's fixture value: a list, a single object, or a
// per-recipient map of lists.
func objects(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		// A per-recipient map is keyed by addresses; anything else is one
		// object (ConvertTo-Json writes a single result without the array).
		for k := range v {
			if !strings.Contains(k, "@") {
				return []map[string]any{v}
			}
		}
		var out []map[string]any
		for _, inner := range v {
			out = append(out, objects(inner)...)
		}
		return out
	case []any:
		var out []map[string]any
		for _, o := range v {
			if m, ok := o.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	case []map[string]any:
		return v
	}
	return nil
}

func hasAddress(o map[string]any, addr string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		return strings.TrimPrefix(s, "smtp:")
	}
	for _, k := range []string{"PrimarySmtpAddress", "UserPrincipalName", "WindowsEmailAddress"} {
		if s, ok := o[k].(string); ok && norm(s) == addr {
			return true
		}
	}
	if list, ok := o["EmailAddresses"].([]any); ok {
		for _, a := range list {
			if s, ok := a.(string); ok && norm(s) == addr {
				return true
			}
		}
	}
	return false
}

// boolValue reads a JSON boolean or a "True"/"False" string (other
// serialisers); ok is false for null or anything else.
func boolValue(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}
