package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/ticketguard/ticketguard/internal/credential"
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
	var signIn *credential.SignInError
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
	case errors.As(err, &signIn):
		// The credential ticketguard builds (internal/credential) already
		// says which tenant and app, what Entra answered and what to do.
		e.message = signIn.Error()
	case errors.As(err, &auth):
		e.message = "sign-in failed: " + authFailure(auth)
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

// authFailure describes a token request Entra refused, for a credential
// that is not internal/credential's (whose SignInError does this with
// hints): the status and, of Entra's JSON answer, only error and the first
// line of error_description (the later lines are trace and correlation
// ids). azidentity's own text dumps the token endpoint and the whole answer.
func authFailure(auth *azidentity.AuthenticationFailedError) string {
	if auth.RawResponse == nil {
		// No answer (a network failure, a bad certificate): azidentity's
		// text is its own message and a link for developers.
		msg, _, _ := strings.Cut(auth.Error(), " To troubleshoot, visit")
		return oneLine(msg)
	}
	out := fmt.Sprintf("HTTP %d", auth.RawResponse.StatusCode)
	body, err := runtime.Payload(auth.RawResponse)
	if err != nil {
		return out
	}
	var answer struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Codes       []int  `json:"error_codes"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return out // not Entra's JSON: a proxy's page says nothing useful
	}
	if answer.Error != "" {
		out += " " + oneLine(answer.Error)
	}
	first, _, _ := strings.Cut(answer.Description, "\n")
	if first = oneLine(first); first != "" {
		out += ": " + first
	} else if len(answer.Codes) > 0 {
		out += fmt.Sprintf(" (AADSTS%d)", answer.Codes[0])
	}
	return out
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
