package smtpprobe

import (
	"errors"
	"fmt"
	"net/smtp"
	"strings"
)

// recordingAuth is an smtp.Auth that remembers the server's final 235
// reply, which net/smtp passes to Next and otherwise drops.
type recordingAuth interface {
	smtp.Auth
	reply() string
}

var errUnsafe = errors.New("refusing to send the password: the connection is not TLS")

// loginAuth is the LOGIN mechanism: the server asks "Username:" then
// "Password:" (base64); the client answers each. Office 365 supports it.
type loginAuth struct {
	username, password string
	final              string
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errUnsafe
	}
	// No initial response: some servers reject one for LOGIN.
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		a.final = "235 " + string(fromServer)
		return nil, nil
	}
	switch prompt := strings.ToLower(strings.TrimSpace(string(fromServer))); {
	case strings.HasPrefix(prompt, "user"):
		return []byte(a.username), nil
	case strings.HasPrefix(prompt, "pass"):
		return []byte(a.password), nil
	default:
		return nil, fmt.Errorf("unexpected LOGIN challenge %q", string(fromServer))
	}
}

func (a *loginAuth) reply() string { return a.final }

// plainAuth is the PLAIN mechanism (RFC 4616) with an empty authorisation
// identity, sent as the initial response.
type plainAuth struct {
	username, password string
	final              string
}

func (a *plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errUnsafe
	}
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a *plainAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected PLAIN challenge")
	}
	a.final = "235 " + string(fromServer)
	return nil, nil
}

func (a *plainAuth) reply() string { return a.final }
