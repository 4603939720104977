package exchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// ErrToken is wrapped by every Error caused by a failure to get a token.
var ErrToken = errors.New("token acquisition failed")

// Error is a failed cmdlet call. Message is the service's own text, unwrapped
// from its envelope; it never carries a secret or a token.
type Error struct {
	Cmdlet   string
	Status   int    // HTTP status; 0 when no answer was received
	Code     string // error.code ("BadRequest", "Forbidden"...)
	Type     string // the .NET exception type Exchange named
	Message  string
	Hint     string // what to fix, for 401 and 403
	Attempts int    // HTTP attempts made, retries included
	Err      error  // underlying cause (ErrToken, a context error, a transport error)
}

func (e *Error) Error() string { return e.text(true) }

// text is the error's description, with or without the cmdlet's name.
func (e *Error) text(withCmdlet bool) string {
	var b strings.Builder
	sep := ""
	if withCmdlet {
		b.WriteString(e.Cmdlet)
		sep = ": "
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "%sHTTP %d", sep, e.Status)
		sep = ": "
	}
	if e.Message != "" {
		b.WriteString(sep)
		b.WriteString(e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.Hint != "" {
		b.WriteString(" — ")
		b.WriteString(e.Hint)
	}
	return strings.TrimSpace(b.String())
}

func (e *Error) Unwrap() error { return e.Err }

// recordedError is an Error as collectors.Partial records it: the record's
// source is already the cmdlet, so the message leaves it out. errors.As
// still finds the Error.
type recordedError struct{ err *Error }

func (r recordedError) Error() string {
	if d := r.err.text(false); d != "" {
		return d
	}
	return "failed"
}

func (r recordedError) Unwrap() error { return r.err }

// NotFound reports whether the cmdlet said the named object does not exist.
func (e *Error) NotFound() bool {
	return e.Status == http.StatusNotFound ||
		strings.HasSuffix(e.Type, "ManagementObjectNotFoundException") ||
		strings.Contains(e.Message, "couldn't be found")
}

const (
	hintToken = "check the tenant id, the app (client) id and its certificate or secret in the app registration"
	hint401   = "the app needs the Office 365 Exchange Online application permission Exchange.ManageAsApp with admin consent"
	hint403   = "the app has Exchange.ManageAsApp but no Microsoft Entra role that allows this cmdlet: assign Global Reader (or Exchange Administrator) to the app's service principal"
	hint403IR = "Get-InboxRule is not allowed to Global Reader: assign Exchange Administrator, or rely on the Graph inbox rules (graph.messageRules) instead"
	hintExp   = "the service found the token expired: check this machine's clock"
	hint429   = "throttled: the service asked for a longer wait than the retry settings allow, or the tenant's retry budget is spent"
	hint5xx   = "the service kept failing; retries are exhausted"
)

// parseError builds an Error from a non-200 answer. Exchange's error.message
// is always "Invalid Operation"; the text is in
// error.innererror.internalexception.message, else error.details[0].message
// after a leading "|Type|".
func parseError(cmdlet string, status int, raw []byte) *Error {
	e := &Error{Cmdlet: cmdlet, Status: status}
	decodeError(e, raw)
	e.Hint = hintFor(cmdlet, status, e.Message)
	return e
}

// decodeError fills e's Code, Type and Message from an error body.
func decodeError(e *Error, raw []byte) {
	trimmed := strings.TrimSpace(string(raw))
	switch {
	case len(raw) == 0:
		e.Message = "empty reply body"
		return
	case isNUL(raw):
		e.Message = fmt.Sprintf("the reply body is %d NUL bytes, not JSON", len(raw))
		return
	}
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details []struct {
				Message string `json:"message"`
			} `json:"details"`
			InnerError *struct {
				Message           string `json:"message"`
				Type              string `json:"type"`
				InternalException *struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"internalexception"`
			} `json:"innererror"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Error == nil {
		e.Message = "the reply body is not Exchange's error JSON: " + printable(trimmed, 160)
		return
	}
	x := body.Error
	e.Code = x.Code
	if ie := x.InnerError; ie != nil && ie.InternalException != nil && ie.InternalException.Message != "" {
		e.Message, e.Type = ie.InternalException.Message, ie.InternalException.Type
	}
	if len(x.Details) > 0 && x.Details[0].Message != "" {
		typ, msg := splitTyped(x.Details[0].Message)
		if e.Message == "" {
			e.Message = msg
		}
		if e.Type == "" {
			e.Type = typ
		}
	}
	if e.Message == "" {
		e.Message = x.Message
	}
	e.Message = oneLine(e.Message)
}

// splitTyped splits "|Microsoft.Exchange...Exception|text" into type and text.
func splitTyped(s string) (typ, msg string) {
	if rest, ok := strings.CutPrefix(s, "|"); ok {
		if t, m, ok := strings.Cut(rest, "|"); ok {
			return t, m
		}
	}
	return "", s
}

func hintFor(cmdlet string, status int, msg string) string {
	switch {
	case status == http.StatusUnauthorized && strings.Contains(strings.ToLower(msg), "expired"):
		return hintExp
	case status == http.StatusUnauthorized:
		return hint401
	case status == http.StatusTooManyRequests:
		return hint429
	case status >= 500:
		return hint5xx
	}
	switch status {
	case http.StatusForbidden:
		if strings.EqualFold(cmdlet, "Get-InboxRule") {
			return hint403IR
		}
		return hint403
	}
	return ""
}

// printable keeps at most n printable characters of an unexpected body.
func printable(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("…")
			break
		}
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else if unicode.IsSpace(r) {
			b.WriteByte(' ')
		}
	}
	return oneLine(b.String())
}
