package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// requestError is a failed Graph request, described from the pieces of the
// SDK's error: status, Graph error code and message, request id (which
// Microsoft support asks for). It never carries request headers, so no
// token can leak through it.
type requestError struct {
	what    string // "inbox rules of support@acme.com"
	status  int    // 0 when no HTTP answer was received
	code    string
	message string
	request string // Graph request-id
	err     error  // the underlying error, for errors.Is (context, network)
}

func (e *requestError) Error() string {
	var b strings.Builder
	b.WriteString(e.what)
	b.WriteString(": ")
	switch {
	case e.status != 0:
		fmt.Fprintf(&b, "HTTP %d", e.status)
		if e.code != "" {
			b.WriteString(" " + e.code)
		}
		if e.message != "" {
			b.WriteString(": " + e.message)
		}
		if hint := statusHint(e.status); hint != "" {
			b.WriteString(" (" + hint + ")")
		}
		if e.request != "" {
			b.WriteString(" [request-id " + e.request + "]")
		}
	default:
		b.WriteString(e.message)
	}
	return b.String()
}

func (e *requestError) Unwrap() error { return e.err }

// statusHint says what to do about the statuses an operator can fix.
func statusHint(status int) string {
	switch status {
	case 401:
		return "the token was refused: check the tenant id and the app registration"
	case 403:
		return "the app lacks a Graph application permission, or admin consent was not granted"
	case 429:
		return "throttled, and the retry budget was spent"
	}
	return ""
}

// describe turns an SDK error into a requestError.
func describe(what string, err error) error {
	e := &requestError{what: what, err: err}
	var odata *odataerrors.ODataError
	var api abstractions.ApiErrorable
	var auth *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &odata):
		e.status = odata.GetStatusCode()
		if main := odata.GetErrorEscaped(); main != nil {
			e.code = deref(main.GetCode())
			e.message = deref(main.GetMessage())
			if inner := main.GetInnerError(); inner != nil {
				e.request = deref(inner.GetRequestId())
			}
		}
	case errors.As(err, &api):
		e.status = api.GetStatusCode()
		e.message = "the answer carried no Graph error"
	case errors.As(err, &auth):
		// azidentity's text names the token endpoint and quotes its answer
		// (never the secret or assertion); the partial redacts anyway.
		e.message = "sign-in failed: " + compactAuthError(auth.Error())
	case errors.Is(err, context.DeadlineExceeded):
		e.message = "timed out"
	case errors.Is(err, context.Canceled):
		e.message = "cancelled"
	default:
		// Network failures and unreadable (e.g. cut-off) answers.
		e.message = "request failed: " + oneLine(err.Error())
	}
	return e
}

// compactAuthError folds azidentity's multi-line report (request line,
// response status, the token endpoint's JSON error, a troubleshooting link)
// into one line, dropping its rulers.
func compactAuthError(s string) string {
	var parts []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Trim(line, "-") == "" {
			continue
		}
		parts = append(parts, line)
	}
	return oneLine(strings.Join(parts, " "))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// oneLine folds a multi-line message (azidentity's are) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
