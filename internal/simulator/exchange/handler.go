// Package exchange simulates the Exchange Online admin API that the
// ExchangeOnlineManagement v3 module (and ScubaGear, CIPP) call:
// POST /adminapi/beta/{tenantId}/InvokeCommand with a CmdletInput body,
// answering the cmdlets the collectors use from a fixture.Set.
//
// The endpoint is undocumented; the shapes here follow what public clients
// and live captures show (SPEC.md §3): the OData envelope with
// "@adminapi.warnings" always an array, "@odata.nextLink" plus a warning on a
// partial page, errors whose error.message is always "Invalid Operation" with
// the text in error.details[0].message ("|Type|text") and
// error.innererror.internalexception.message, and type annotations beside
// values ("EmailAddresses@odata.type": "#Collection(String)").
// Cmdlet parameters follow the cmdlet reference pages at
// https://learn.microsoft.com/powershell/module/exchangepowershell/.
package exchange

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// Audience is the token audience the admin API accepts.
const Audience = "https://outlook.office365.com"

// SystemMailboxGUID names the arbitration mailbox app-only callers anchor on:
// X-AnchorMailbox: APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@<tenantId>.
const SystemMailboxGUID = "bb558c35-97f1-4cb9-8ff7-d53741dc928c"

// DefaultPageSize is the page size without a Prefer: odata.maxpagesize header,
// and the default ResultSize of the cmdlets that take one.
const DefaultPageSize = 1000

// MoreResultsWarning is the warning Exchange adds when a result is cut short.
const MoreResultsWarning = "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter."

// nulBodySize is the length of the NUL-filled body a 403 can carry.
const nulBodySize = 4096

// TokenValidator checks a bearer token for an audience and returns its tenant;
// identity.Authority satisfies it.
type TokenValidator interface {
	Validate(authorization, audience string) (tenantID string, err error)
}

// Options configures the handler.
type Options struct {
	Tenants *fixture.Set
	Tokens  TokenValidator
	Faults  *fault.Injector // endpoint names "exchange:<cmdlet>"; nil injects nothing

	// PageSize, when above zero, caps every page below what the client's
	// Prefer header asks for, so tests see paging on small fixtures.
	PageSize int
	// ForbiddenNUL makes Forbidden faults answer as Exchange does when the app
	// has Exchange.ManageAsApp but no directory role: 403 with ~4 KiB of NUL
	// bytes instead of a JSON body.
	ForbiddenNUL bool
	// ExpireNextLinks makes every replayed nextLink fail with 400 "Expired or
	// Invalid pagination request", which is what some clients report from the
	// real service.
	ExpireNextLinks bool
	// StrictFixtures makes a cmdlet whose key is absent from the tenant
	// fixture fail with 403 (as for a role that does not grant it), so a
	// snapshot with an uncollected cmdlet replays as uncollected. Otherwise an
	// absent key answers an empty result, as a real tenant with no such
	// objects does, except Get-InboxRule: without it (or with null) the
	// fixture says nothing about inbox rules, and it answers 403 either way.
	StrictFixtures bool
}

// Handler serves InvokeCommand. It is safe for concurrent use.
type Handler struct {
	opts  Options
	mux   *http.ServeMux
	mu    sync.Mutex
	calls map[string]int
}

// New returns the admin API handler.
func New(opts Options) (*Handler, error) {
	if opts.Tenants == nil || opts.Tokens == nil {
		return nil, errors.New("exchange simulator: Options.Tenants and Options.Tokens are required")
	}
	h := &Handler{opts: opts, calls: map[string]int{}}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("POST /adminapi/beta/{tenant}/InvokeCommand", h.invoke)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Calls reports how many InvokeCommand requests named a cmdlet in a tenant
// (every page and retry counts); cmdlet "" counts all of the tenant's.
func (h *Handler) Calls(tenantID, cmdlet string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cmdlet == "" {
		return h.calls[strings.ToLower(tenantID)]
	}
	return h.calls[strings.ToLower(tenantID)+"|"+strings.ToLower(cmdlet)]
}

func (h *Handler) count(tenantID, cmdlet string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[strings.ToLower(tenantID)]++
	h.calls[strings.ToLower(tenantID)+"|"+strings.ToLower(cmdlet)]++
}

// exoErr is a failure rendered in Exchange's error envelope.
type exoErr struct {
	status int
	typ    string // .NET exception type, the "|Type|" of details[0].message
	msg    string
}

func (e *exoErr) Error() string { return e.msg }

const (
	typeODataService  = "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"
	typeNotFound      = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
	typeAmbiguous     = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException"
	typeParamSet      = "Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException"
	typeParamBinding  = "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterBindingException"
	typeTransform     = "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException"
	typeCmdNotFound   = "System.Management.Automation.CommandNotFoundException"
	typeAccessDenied  = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAccessDeniedException"
	typeUnauthorized  = "Microsoft.Exchange.Admin.OData.Core.UnauthorizedAccessException"
	typePagination    = "Microsoft.Exchange.Admin.OData.Core.PaginationException"
	backendServerName = "NAMPR11A006.PROD.OUTLOOK.COM"
)

func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	}
	if status >= 500 {
		return "InternalServerError"
	}
	return http.StatusText(status)
}

// errorBody renders Exchange's error envelope. The shape is pinned on live
// captures: error.message is always "Invalid Operation"; the real text is in
// details[0].message with a leading |Type| and in
// innererror.internalexception.message; the warnings sit inside "error".
func errorBody(status int, typ, msg string) []byte {
	body := map[string]any{
		"error": map[string]any{
			"code":    statusCode(status),
			"message": "Invalid Operation",
			"details": []any{map[string]any{"code": "Client", "target": "", "message": "|" + typ + "|" + msg}},
			"innererror": map[string]any{
				"message":    "Invalid Operation",
				"type":       typeODataService,
				"stacktrace": "",
				"internalexception": map[string]any{
					"message": msg, "type": typ, "stacktrace": "",
				},
			},
			"adminapi.warnings@odata.type": "#Collection(String)",
			"@adminapi.warnings":           []string{},
		},
	}
	b, _ := json.Marshal(body)
	return b
}

func writeExoError(w http.ResponseWriter, e *exoErr) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(errorBody(e.status, e.typ, e.msg))
}

// faultBody renders an injected failure in Exchange's envelope.
func faultBody(status int, msg string) []byte {
	typ := typeODataService
	switch status {
	case http.StatusUnauthorized:
		typ = typeUnauthorized
	case http.StatusForbidden:
		typ = typeAccessDenied
	}
	return errorBody(status, typ, msg)
}

type request struct {
	CmdletInput struct {
		CmdletName string         `json:"CmdletName"`
		Parameters map[string]any `json:"Parameters"`
	} `json:"CmdletInput"`
}

func (h *Handler) invoke(w http.ResponseWriter, r *http.Request) {
	tokenTenant, err := h.opts.Tokens.Validate(r.Header.Get("Authorization"), Audience)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", error="invalid_token"`)
		writeExoError(w, &exoErr{http.StatusUnauthorized, typeUnauthorized, err.Error()})
		return
	}
	t, ok := h.lookupTenant(r.PathValue("tenant"))
	if !ok || !strings.EqualFold(t.TenantID, tokenTenant) {
		writeExoError(w, &exoErr{http.StatusUnauthorized, typeUnauthorized, "The token was not issued for the organization in the request URL."})
		return
	}
	if !h.anchorOK(r.Header.Get("X-AnchorMailbox"), t) {
		writeExoError(w, &exoErr{http.StatusBadRequest, typeODataService,
			"The X-AnchorMailbox header is missing or does not name the organization's system mailbox (APP:SystemMailbox{" + SystemMailboxGUID + "}@<tenant id>)."})
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeExoError(w, &exoErr{http.StatusBadRequest, typeODataService, "The request body could not be read."})
		return
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil || req.CmdletInput.CmdletName == "" {
		writeExoError(w, &exoErr{http.StatusBadRequest, typeODataService, "The request body is not a valid CmdletInput."})
		return
	}
	name := req.CmdletInput.CmdletName
	spec, known := lookupSpec(name)
	if known {
		name = spec.name
	}
	h.count(t.TenantID, name)

	if rule := h.opts.Faults.Match(t.TenantID, "exchange:"+name); rule != nil {
		if rule.Kind == fault.Forbidden && h.opts.ForbiddenNUL {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write(make([]byte, nulBodySize))
			return
		}
		if rule.Kind == fault.Truncate {
			tw := fault.Truncating(w)
			defer tw.Flush()
			w = tw
		}
		if fault.Apply(w, r, rule, faultBody) {
			return
		}
	}
	if !known {
		writeExoError(w, &exoErr{http.StatusBadRequest, typeCmdNotFound, fmt.Sprintf(
			"The term '%s' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", name)})
		return
	}
	params, perr := spec.canonical(req.CmdletInput.Parameters)
	if perr != nil {
		writeExoError(w, perr)
		return
	}

	var (
		page []byte
		xerr *exoErr
	)
	h.opts.Tenants.Read(t, func(t *fixture.Tenant) {
		page, xerr = h.answer(r, t, spec, params)
	})
	if xerr != nil {
		writeExoError(w, xerr)
		return
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page)
}

// answer runs the cmdlet and renders the requested page. It runs under the
// fixture's read lock, so the page is encoded before an Update can change it.
func (h *Handler) answer(r *http.Request, t *fixture.Tenant, spec *cmdletSpec, params map[string]any) ([]byte, *exoErr) {
	q := &query{t: t, params: params, strict: h.opts.StrictFixtures}
	rows, xerr := spec.run(q)
	if xerr != nil {
		return nil, xerr
	}
	var warnings []string
	if spec.resultSize {
		limit, err := resultSize(params["ResultSize"])
		if err != nil {
			return nil, err
		}
		if limit >= 0 && len(rows) > limit {
			rows = rows[:limit]
			warnings = append(warnings, MoreResultsWarning)
		}
	}

	offset := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		o, ok := decodeSkipToken(tok, queryHash(t.TenantID, spec.name, params))
		if !ok || h.opts.ExpireNextLinks || o > len(rows) {
			return nil, &exoErr{http.StatusBadRequest, typePagination, "Expired or Invalid pagination request. Default Expiry time is 00:30:00"}
		}
		offset = o
	}
	size := preferredPageSize(r.Header.Values("Prefer"))
	if h.opts.PageSize > 0 && h.opts.PageSize < size {
		size = h.opts.PageSize
	}
	end := min(offset+size, len(rows))
	env := envelope{
		Context:      "https://" + r.Host + "/adminapi/beta/" + t.TenantID + "/$metadata#Collection(Exchange.GenericHashTable)",
		WarningsType: "#Collection(String)",
		Warnings:     []string{},
		Value:        make([]map[string]any, 0, end-offset),
	}
	for _, row := range rows[offset:end] {
		env.Value = append(env.Value, annotate(row))
	}
	if end < len(rows) {
		env.NextLink = "https://" + r.Host + "/adminapi/beta/" + t.TenantID + "/InvokeCommand?$skiptoken=" + encodeSkipToken(end, queryHash(t.TenantID, spec.name, params))
		env.Warnings = append(env.Warnings, MoreResultsWarning)
	} else {
		env.Warnings = append(env.Warnings, warnings...)
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, &exoErr{http.StatusInternalServerError, typeODataService, "serialisation failed: " + err.Error()}
	}
	return b, nil
}

type envelope struct {
	Context      string           `json:"@odata.context"`
	WarningsType string           `json:"adminapi.warnings@odata.type"`
	Warnings     []string         `json:"@adminapi.warnings"`
	NextLink     string           `json:"@odata.nextLink,omitempty"`
	Value        []map[string]any `json:"value"`
}

func (h *Handler) lookupTenant(segment string) (*fixture.Tenant, bool) {
	if t, ok := h.opts.Tenants.ByID(segment); ok {
		return t, true
	}
	for _, t := range h.opts.Tenants.All() {
		var match bool
		h.opts.Tenants.Read(t, func(t *fixture.Tenant) { match = t.Domain != "" && strings.EqualFold(t.Domain, segment) })
		if match {
			return t, true
		}
	}
	return nil, false
}

// anchorOK accepts the app-only anchor the EXO v3 module sends
// (APP:SystemMailbox{GUID}@tenantId) and the UPN form other tools use
// (UPN:SystemMailbox{GUID}@tenant.onmicrosoft.com).
func (h *Handler) anchorOK(anchor string, t *fixture.Tenant) bool {
	kind, rest, ok := strings.Cut(strings.TrimSpace(anchor), ":")
	if !ok || !(strings.EqualFold(kind, "APP") || strings.EqualFold(kind, "UPN")) {
		return false
	}
	local, org, ok := strings.Cut(rest, "@")
	if !ok || !strings.HasPrefix(strings.ToLower(local), "systemmailbox{") || !strings.HasSuffix(local, "}") {
		return false
	}
	var domain string
	h.opts.Tenants.Read(t, func(t *fixture.Tenant) { domain = t.Domain })
	return strings.EqualFold(org, t.TenantID) || (domain != "" && strings.EqualFold(org, domain))
}

// preferredPageSize reads odata.maxpagesize from Prefer headers ("odata.maxpagesize=1000",
// also with spaces around "=", as some clients send it).
func preferredPageSize(values []string) int {
	for _, v := range values {
		for _, pref := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(pref, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
				continue
			}
			if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n > 0 {
				return n
			}
		}
	}
	return DefaultPageSize
}

// resultSize parses ResultSize: "Unlimited" (-1), a number, or absent (1000).
func resultSize(v any) (int, *exoErr) {
	var s string
	switch x := v.(type) {
	case nil:
		return DefaultPageSize, nil
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = x.String()
	default:
		s = fmt.Sprint(x)
	}
	if strings.EqualFold(s, "unlimited") {
		return -1, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, &exoErr{http.StatusBadRequest, typeTransform, fmt.Sprintf(
			"Cannot process argument transformation on parameter 'ResultSize'. Cannot convert value \"%s\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\". Error: \"Specified value is not valid.\"", s)}
	}
	if n > math.MaxInt32 {
		n = math.MaxInt32
	}
	return int(n), nil
}

// queryHash binds a skiptoken to the query that produced it, so a nextLink
// replayed with a different body is refused like an expired one.
func queryHash(tenantID, cmdlet string, params map[string]any) string {
	b, _ := json.Marshal(map[string]any{"t": strings.ToLower(tenantID), "c": cmdlet, "p": params})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func encodeSkipToken(offset int, hash string) string {
	b, _ := json.Marshal(map[string]any{"o": offset, "h": hash})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSkipToken(tok, hash string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	var v struct {
		O int    `json:"o"`
		H string `json:"h"`
	}
	if json.Unmarshal(b, &v) != nil || v.H != hash || v.O < 0 {
		return 0, false
	}
	return v.O, true
}

// annotate returns a copy of a fixture object with the OData type annotations
// Exchange puts beside values: "#Collection(String)" for multi-valued
// properties and a .NET type for integers. Annotations already present in the
// fixture are kept as they are.
func annotate(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj)+8)
	for k, v := range obj {
		out[k] = v
	}
	for k, v := range obj {
		if strings.Contains(k, "@") {
			continue
		}
		switch x := v.(type) {
		case []any:
			if !hasAnnotation(obj, k) {
				out[k+"@odata.type"] = "#Collection(String)"
			}
		case json.Number:
			if typ := intType(x.String()); typ != "" && !hasAnnotation(obj, k) {
				out[k+"@data.type"] = typ
			}
		case float64:
			if x == math.Trunc(x) && !hasAnnotation(obj, k) {
				out[k+"@data.type"] = intType(strconv.FormatFloat(x, 'f', -1, 64))
			}
		}
	}
	return out
}

func hasAnnotation(obj map[string]any, key string) bool {
	_, a := obj[key+"@odata.type"]
	_, b := obj[key+"@data.type"]
	return a || b
}

func intType(s string) string {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n >= math.MinInt32 && n <= math.MaxInt32 {
			return "System.Int32"
		}
		return "System.Int64"
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return "System.UInt64"
	}
	return ""
}
