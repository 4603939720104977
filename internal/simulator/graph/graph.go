package graph

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// Audience is the resource every Graph token must be issued for.
const Audience = "https://graph.microsoft.com"

// Endpoint names for fault injection.
const (
	EndpointMessageRules  = "graph:messageRules"
	EndpointContacts      = "graph:contacts"
	EndpointGroupMembers  = "graph:groupMembers"
	EndpointMessageTraces = "graph:messageTraces"
)

// Validator checks a request's Authorization header for an audience and
// returns the tenant the token was issued in. identity.Authority satisfies it.
type Validator interface {
	Validate(authorization, audience string) (tenantID string, err error)
}

// Options configures a Handler.
type Options struct {
	Tenants   *fixture.Set    // required
	Validator Validator       // required
	Faults    *fault.Injector // nil: no faults
	// PageSize, when > 0, is the largest page any collection returns,
	// whatever $top asks (a server may return fewer items than $top; clients
	// follow @odata.nextLink). Tests use a small one to get several pages.
	PageSize int
	// Now is the simulator's clock (message trace windows); nil: time.Now.
	Now func() time.Time
}

// Handler serves Graph v1.0 under /v1.0/.
type Handler struct {
	tenants   *fixture.Set
	validator Validator
	faults    *fault.Injector
	pageSize  int
	now       func() time.Time
}

// New returns a Graph handler.
func New(opts Options) (*Handler, error) {
	if opts.Tenants == nil {
		return nil, errors.New("graph simulator: Options.Tenants is required")
	}
	if opts.Validator == nil {
		return nil, errors.New("graph simulator: Options.Validator is required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Handler{tenants: opts.Tenants, validator: opts.Validator, faults: opts.Faults, pageSize: opts.PageSize, now: now}, nil
}

// maxBody bounds a request body after decompression.
const maxBody = 1 << 20

// route is one matched request.
type route struct {
	endpoint string // fault endpoint name
	serve    func(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newUUID()
	clientReqID := r.Header.Get("client-request-id")
	if clientReqID == "" {
		clientReqID = reqID
	}
	w.Header().Set("request-id", reqID)
	w.Header().Set("client-request-id", clientReqID)
	fail := func(status int, code, msg string) {
		writeError(w, status, code, msg, reqID, clientReqID, h.now())
	}

	rt, apiErr := h.match(r)
	if apiErr != nil {
		fail(apiErr.status, apiErr.code, apiErr.message)
		return
	}

	// Graph checks the token before anything else about the request.
	tenantID, err := h.validator.Validate(r.Header.Get("Authorization"), Audience)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		msg := "Access token validation failure. Invalid audience or signature."
		if strings.TrimSpace(r.Header.Get("Authorization")) == "" {
			msg = "Access token is empty."
		}
		// The validator's own text is not echoed: it may quote the token.
		fail(http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return
	}
	t, ok := h.tenants.ByID(tenantID)
	if !ok {
		fail(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure: the tenant is unknown.")
		return
	}

	// A rule's tenant pattern may name the tenant or its id (the other
	// simulated services differ on which; testdata variants share ids).
	rule := h.faults.Match(t.Name, rt.endpoint)
	if rule == nil {
		rule = h.faults.Match(t.TenantID, rt.endpoint)
	}
	if rule != nil {
		body := func(status int, msg string) []byte {
			code, text := faultError(rt.endpoint, status, msg)
			return errorBody(code, text, reqID, clientReqID, h.now())
		}
		if fault.Apply(w, r, rule, body) {
			return
		}
		if rule.Kind == fault.Truncate {
			tw := fault.Truncating(w)
			defer tw.Flush()
			w = tw
		}
	}

	q, apiErr := parseQuery(r)
	if apiErr != nil {
		fail(apiErr.status, apiErr.code, apiErr.message)
		return
	}
	q.reqID, q.clientReqID = reqID, clientReqID
	rt.serve(w, r, t, q)
}

// match routes a request. Graph path segments are case-insensitive.
func (h *Handler) match(r *http.Request) (*route, *apiError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1.0/")
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "BadRequest", "Invalid version: only v1.0 is served."}
	}
	seg := strings.Split(strings.Trim(rest, "/"), "/")
	is := func(i int, name string) bool { return i < len(seg) && strings.EqualFold(seg[i], name) }
	get := func(endpoint string, f func(http.ResponseWriter, *http.Request, *fixture.Tenant, *query)) (*route, *apiError) {
		if r.Method != http.MethodGet {
			return nil, &apiError{http.StatusMethodNotAllowed, "BadRequest", fmt.Sprintf("The %s method is not supported on this resource.", r.Method)}
		}
		return &route{endpoint: endpoint, serve: f}, nil
	}
	switch {
	case len(seg) == 5 && is(0, "users") && is(2, "mailFolders") && is(4, "messageRules"):
		user, folder := seg[1], seg[3]
		if !strings.EqualFold(folder, "inbox") {
			return nil, &apiError{http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."}
		}
		switch r.Method {
		case http.MethodGet:
			return &route{endpoint: EndpointMessageRules, serve: func(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query) {
				h.listMessageRules(w, r, t, q, user)
			}}, nil
		case http.MethodPost:
			return &route{endpoint: EndpointMessageRules, serve: func(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query) {
				h.createMessageRule(w, r, t, q, user)
			}}, nil
		}
		return nil, &apiError{http.StatusMethodNotAllowed, "BadRequest", fmt.Sprintf("The %s method is not supported on this resource.", r.Method)}
	case len(seg) == 1 && is(0, "contacts"):
		return get(EndpointContacts, h.listContacts)
	case len(seg) == 1 && is(0, "groups"):
		return get(EndpointGroupMembers, h.listGroups)
	case len(seg) == 3 && is(0, "groups") && is(2, "members"):
		group := seg[1]
		return get(EndpointGroupMembers, func(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query) {
			h.listMembers(w, r, t, q, group)
		})
	case len(seg) == 4 && is(0, "admin") && is(1, "exchange") && is(2, "tracing") && is(3, "messageTraces"):
		return get(EndpointMessageTraces, h.listMessageTraces)
	case len(seg) == 6 && is(0, "admin") && is(1, "exchange") && is(2, "tracing") && is(3, "messageTraces"):
		traceID := seg[4]
		recipient, ok := detailsFunction(seg[5])
		if !ok {
			return nil, &apiError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", seg[5])}
		}
		return get(EndpointMessageTraces, func(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query) {
			h.listTraceDetails(w, r, t, q, traceID, recipient)
		})
	}
	return nil, &apiError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", seg[0])}
}

// apiError is an error answer in Graph's envelope.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

// noData is the answer when the fixture holds neither the Graph data nor the
// Exchange cmdlet it would be derived from (see the package comment).
func noData(what, graphKey, cmdlet string) *apiError {
	return &apiError{http.StatusInternalServerError, "generalException",
		fmt.Sprintf("simulator: the fixture has no %s (neither graph.%s nor %s)", what, graphKey, cmdlet)}
}

// faultError picks the code and text the real service uses for an injected
// failure's status.
func faultError(endpoint string, status int, msg string) (string, string) {
	switch status {
	case http.StatusTooManyRequests:
		if endpoint == EndpointMessageRules {
			return "ApplicationThrottled", "Application is over its MailboxConcurrency limit."
		}
		return "TooManyRequests", "Too many requests."
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
	case http.StatusForbidden:
		switch endpoint {
		case EndpointMessageRules:
			return "ErrorAccessDenied", "Access is denied. Check credentials and try again."
		case EndpointMessageTraces:
			return "Forbidden", "Missing role permissions on the request. API requires one of 'ExchangeMessageTrace.Read.All'."
		}
		return "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable", "The service is temporarily unavailable. " + msg
	case http.StatusGatewayTimeout:
		return "GatewayTimeout", "The gateway timed out. " + msg
	}
	return "generalException", msg
}

func errorBody(code, message, reqID, clientReqID string, now time.Time) []byte {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]any{
			"date":              now.UTC().Format("2006-01-02T15:04:05"),
			"request-id":        reqID,
			"client-request-id": clientReqID,
		},
	}})
	return body
}

func writeError(w http.ResponseWriter, status int, code, message, reqID, clientReqID string, now time.Time) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(code, message, reqID, clientReqID, now))
}

func (h *Handler) fail(w http.ResponseWriter, q *query, e *apiError) {
	writeError(w, e.status, e.code, e.message, q.reqID, q.clientReqID, h.now())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readBody returns the request body, inflating it when it is gzip-compressed
// (msgraph-sdk-go compresses request bodies by default).
func readBody(r *http.Request) ([]byte, *apiError) {
	var src io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, &apiError{http.StatusBadRequest, "BadRequest", "The request body is not valid gzip: " + err.Error()}
		}
		defer zr.Close()
		src = zr
	default:
		return nil, &apiError{http.StatusUnsupportedMediaType, "BadRequest", fmt.Sprintf("Content-Encoding %q is not supported.", enc)}
	}
	data, err := io.ReadAll(io.LimitReader(src, maxBody+1))
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "BadRequest", "The request body could not be read: " + err.Error()}
	}
	if len(data) > maxBody {
		return nil, &apiError{http.StatusRequestEntityTooLarge, "BadRequest", "The request body is too large."}
	}
	return data, nil
}

// newUUID returns a random (version 4) UUID, the form of Graph's request ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
