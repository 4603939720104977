// Package smtpprobe checks, live, the SMTP account Atera is configured to
// send ticket mail through: that the server answers, offers STARTTLS with a
// certificate that verifies, offers AUTH over TLS, and, when a password is
// given, that the login succeeds. It sends no mail: the only commands are
// EHLO, STARTTLS, AUTH and QUIT (never MAIL, RCPT or DATA).
//
// The client is the standard library's net/smtp, driven step by step so each
// stage's outcome is recorded. LOGIN and PLAIN are implemented here (net/smtp
// ships only PLAIN and CRAM-MD5, and its PLAIN checks the host name in a way
// that does not fit a probe): Office 365 offers "AUTH LOGIN XOAUTH2" and no
// PLAIN, other servers often offer PLAIN only, so LOGIN is preferred and
// PLAIN used when it is the only password mechanism. Neither ever sends the
// password on a connection whose certificate did not verify.
package smtpprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ticketguard/ticketguard/collectors"
)

// Source is the snapshot section and error source of the probe.
const Source = "smtp_probe"

// Login outcomes.
const (
	LoginSucceeded = "succeeded"
	LoginFailed    = "failed"
	LoginSkipped   = "skipped"
)

const (
	defaultPort    = 587
	defaultTimeout = 30 * time.Second
	redacted       = "[REDACTED]"
)

// Target is the SMTP account to probe, as declared in the tenant's Atera
// settings.
type Target struct {
	// Server is the SMTP host, e.g. smtp.office365.com; the certificate
	// must be valid for it.
	Server string
	// Port defaults to 587. 465 (implicit TLS) is reported, not probed:
	// Office 365 does not support it.
	Port int
	// Username is the SMTP account (for Office 365, the mailbox address).
	Username string
	// Password, when empty, skips the login: the probe then checks only the
	// connection, STARTTLS and the AUTH offer.
	Password string
	// RootCAs verifies the server certificate; nil uses the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds the whole probe (default 30 s).
	Timeout time.Duration
	// Address, when set, is the host:port actually dialled instead of
	// Server:Port (the simulator's listener); the certificate is still
	// verified for Server.
	Address string
}

// Result is the smtp_probe section of a snapshot (docs/DESIGN.md).
type Result struct {
	Server   string `json:"server"`
	Port     int    `json:"port"`
	ProbedAt string `json:"probed_at"`
	// Connected: the TCP connection opened and the server greeted (220).
	Connected bool `json:"connected"`
	// StartTLS: the server advertised STARTTLS and accepted the command.
	// Whether the TLS session then came up is TLSVersion != "".
	StartTLS bool `json:"starttls"`
	// TLSVersion of the established session, e.g. "TLS 1.3"; "" when none.
	TLSVersion string `json:"tls_version"`
	// CertificateVerified: the server's chain verified against the trusted
	// roots and is valid for Server. False when no TLS session came up.
	CertificateVerified bool `json:"certificate_verified"`
	// AuthMechanisms advertised after STARTTLS (upper case); empty when TLS
	// failed or AUTH is not offered.
	AuthMechanisms []string `json:"auth_mechanisms"`
	// Login is succeeded, failed or skipped (no password given, or the
	// connection was not safe to send it on).
	Login string `json:"login"`
	// Reply is the server's reply to the login, or to the command that
	// failed: code and text, e.g. "535 5.7.139 Authentication unsuccessful,
	// ...". Never contains the password.
	Reply string `json:"reply"`
	// Error says what went wrong, in words; "" when nothing did.
	Error string `json:"error"`

	// interrupted is set when the caller's context ended the probe: the
	// result then says nothing about the server.
	interrupted bool
	// dropped is set when the connection closed mid-conversation without
	// an SMTP reply (EOF, reset): a network event, not the server's verdict.
	dropped bool
}

// Probe runs the handshake. It never fails as such: every outcome, a
// refused connection included, is described in the Result.
func Probe(ctx context.Context, t Target) Result {
	if t.Port == 0 {
		t.Port = defaultPort
	}
	if t.Timeout <= 0 {
		t.Timeout = defaultTimeout
	}
	r := Result{Server: t.Server, Port: t.Port, ProbedAt: time.Now().UTC().Format(time.RFC3339), Login: LoginSkipped, AuthMechanisms: []string{}}
	p := prober{t: t, r: &r}
	p.run(ctx)
	r.Reply = p.scrub(r.Reply)
	r.Error = p.scrub(r.Error)
	return r
}

type prober struct {
	t Target
	r *Result
}

func (p *prober) fail(format string, args ...any) {
	if p.r.Error == "" {
		p.r.Error = fmt.Sprintf(format, args...)
	}
}

// reply records an SMTP error reply ("535 5.7.139 ...") when err carries one.
func (p *prober) reply(err error) {
	var te *textproto.Error
	if errors.As(err, &te) {
		p.r.Reply = wireReply(te)
	}
}

// wireReply is the reply as the server sent it: code, then text (multi-line
// replies joined with spaces).
func wireReply(te *textproto.Error) string {
	return fmt.Sprintf("%03d %s", te.Code, strings.ReplaceAll(te.Msg, "\n", " "))
}

func (p *prober) run(ctx context.Context) {
	t := p.t
	if t.Server == "" {
		p.fail("no SMTP server configured")
		return
	}
	if t.Port == 465 {
		p.fail("port 465 (implicit TLS) is not supported by Office 365 client submission, and the probe does not use it: use port 587 with STARTTLS")
		return
	}
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	defer func() {
		// Distinguish "the server is slow" (our own timeout: a finding)
		// from "the caller gave up" (cancelled, or its deadline passed: no
		// finding at all).
		if ended(outer) {
			p.r.interrupted = true
		}
	}()

	addr := t.Address
	if addr == "" {
		addr = net.JoinHostPort(t.Server, strconv.Itoa(t.Port))
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		p.fail("cannot connect to %s:%d: %s", t.Server, t.Port, dialReason(err))
		return
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Cancelling the context interrupts any read or write in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, t.Server)
	if err != nil {
		p.reply(err)
		p.fail("%s:%d did not greet as an SMTP server: %s", t.Server, t.Port, p.ioReason(ctx, err))
		return
	}
	defer c.Close()
	p.r.Connected = true
	defer func() { _ = c.Quit() }() // QUIT politely; the connection closes either way.

	if err := c.Hello(localName(conn)); err != nil {
		p.reply(err)
		p.fail("EHLO failed: %s", p.ioReason(ctx, err))
		return
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		p.fail("the server does not offer STARTTLS: credentials would travel in clear text")
		return
	}
	err = c.StartTLS(&tls.Config{ServerName: t.Server, RootCAs: t.RootCAs, MinVersion: tls.VersionTLS12})
	state, started := c.TLSConnectionState()
	p.r.StartTLS = started
	if started && state.HandshakeComplete {
		p.r.TLSVersion = tls.VersionName(state.Version)
		p.r.CertificateVerified = len(state.VerifiedChains) > 0
	}
	if err != nil {
		p.reply(err)
		var cve *tls.CertificateVerificationError
		switch {
		case errors.As(err, &cve):
			p.fail("STARTTLS: the server certificate failed verification for %s: %s", t.Server, cve.Err)
		case !started:
			p.fail("STARTTLS refused: %s", p.ioReason(ctx, err))
		case !state.HandshakeComplete:
			p.fail("STARTTLS: TLS handshake failed: %s", p.ioReason(ctx, err))
		default:
			p.fail("EHLO after STARTTLS failed: %s", p.ioReason(ctx, err))
		}
		return
	}
	if !p.r.CertificateVerified {
		// Unreachable with verification on; kept so no future change can
		// send a password over an unverified channel.
		p.fail("STARTTLS: the server certificate was not verified")
		return
	}

	if ok, mechs := c.Extension("AUTH"); ok {
		p.r.AuthMechanisms = strings.Fields(strings.ToUpper(mechs))
	}
	if t.Password == "" {
		return
	}
	if t.Username == "" {
		p.fail("an SMTP password is configured but no user name")
		return
	}
	auth := p.chooseAuth()
	if auth == nil {
		p.r.Login = LoginFailed
		if len(p.r.AuthMechanisms) == 0 {
			p.fail("the server offers no AUTH after STARTTLS, so a password login cannot succeed")
		} else {
			p.fail("the server offers no password login (AUTH %s), so a password login cannot succeed", strings.Join(p.r.AuthMechanisms, " "))
		}
		return
	}
	if err := c.Auth(auth); err != nil {
		p.r.Login = LoginFailed
		p.reply(err)
		var te *textproto.Error
		if errors.As(err, &te) {
			p.fail("login as %s refused: %s", t.Username, explain(te))
		} else {
			p.fail("login as %s failed: %s", t.Username, p.ioReason(ctx, err))
		}
		return
	}
	p.r.Login = LoginSucceeded
	p.r.Reply = auth.reply()
}

// chooseAuth picks LOGIN (Office 365's only password mechanism) or PLAIN.
func (p *prober) chooseAuth() recordingAuth {
	for _, m := range p.r.AuthMechanisms {
		if m == "LOGIN" {
			return &loginAuth{username: p.t.Username, password: p.t.Password}
		}
	}
	for _, m := range p.r.AuthMechanisms {
		if m == "PLAIN" {
			return &plainAuth{username: p.t.Username, password: p.t.Password}
		}
	}
	return nil
}

// explain adds what a known Office 365 reply means.
func explain(te *textproto.Error) string {
	msg := strings.ReplaceAll(te.Msg, "\n", " ")
	switch {
	case strings.Contains(msg, "5.7.30"):
		return msg + " (Basic authentication for SMTP AUTH is switched off; see Microsoft's SMTP AUTH retirement)"
	case strings.Contains(msg, "SmtpClientAuthentication is disabled"):
		return msg + " (turn SMTP AUTH on: Set-CASMailbox -SmtpClientAuthenticationDisabled $false, or Set-TransportConfig for the organisation)"
	}
	return msg
}

// scrub removes the password, in clear or in the base64 forms LOGIN and
// PLAIN send it in, from text the server or a library produced.
func (p *prober) scrub(s string) string {
	pw := p.t.Password
	if pw == "" || s == "" {
		return s
	}
	forms := []string{
		pw,
		base64.StdEncoding.EncodeToString([]byte(pw)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + p.t.Username + "\x00" + pw)),
	}
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, redacted)
	}
	return s
}

// localName is the EHLO argument: the address literal of our end, which is
// what RFC 5321 asks for when the client has no meaningful host name.
func localName(conn net.Conn) string {
	if a, ok := conn.LocalAddr().(*net.TCPAddr); ok {
		if a.IP.To4() != nil {
			return "[" + a.IP.String() + "]"
		}
		return "[IPv6:" + a.IP.String() + "]"
	}
	return "localhost"
}

func dialReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return "the host name does not resolve (" + dnsErr.Err + ")"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// ended reports whether ctx is done or past its deadline. The connection's
// deadline is the context's, and it can fire before the context's own timer
// does, so Err alone may still be nil.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// ioReason words an I/O error and notes a dropped connection.
func (p *prober) ioReason(ctx context.Context, err error) string {
	var te *textproto.Error
	if !errors.As(err, &te) && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
		p.r.dropped = true
	}
	return ioReason(ctx, err)
}

func ioReason(ctx context.Context, err error) string {
	if ended(ctx) || errors.Is(err, os.ErrDeadlineExceeded) {
		return "timed out waiting for the server"
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return wireReply(te)
	}
	return err.Error()
}

// Map returns the result as the snapshot's smtp_probe section.
func (r Result) Map() map[string]any {
	mechs := make([]any, len(r.AuthMechanisms))
	for i, m := range r.AuthMechanisms {
		mechs[i] = m
	}
	return map[string]any{
		"server":               r.Server,
		"port":                 r.Port,
		"probed_at":            r.ProbedAt,
		"connected":            r.Connected,
		"starttls":             r.StartTLS,
		"tls_version":          r.TLSVersion,
		"certificate_verified": r.CertificateVerified,
		"auth_mechanisms":      mechs,
		"login":                r.Login,
		"reply":                r.Reply,
		"error":                r.Error,
	}
}

// Store puts the result in the snapshot. A probe that ran, whatever it
// found, is data for the smtp-login check; a probe the caller's context cut
// short found nothing, and is recorded as an smtp_probe error instead so the
// check is indeterminate.
func Store(p *collectors.Partial, r Result) {
	if r.interrupted {
		msg := "the SMTP probe was interrupted before it finished"
		if r.Error != "" {
			msg += ": " + r.Error
		}
		p.AddError(Source, errors.New(msg))
		return
	}
	if r.dropped {
		// A connection that closed without a reply says nothing about
		// whether Atera's login works: no verdict, so the check is
		// indeterminate rather than failed.
		p.AddError(Source, fmt.Errorf("the connection to %s:%d closed before the server answered (%s): the probe could not finish", r.Server, r.Port, r.Error))
		return
	}
	p.SetSection(Source, r.Map())
}
