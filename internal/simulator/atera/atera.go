// Package atera simulates the part of the Atera REST API v3 that ticketguard
// reads: GET /api/v3/tickets, with Atera's paging envelope, its two ways of
// authenticating and its failure modes. One simulated Atera account serves
// every fixture tenant, each tenant being one Atera customer, as an MSP's
// account does.
//
// Shapes, and where they come from (Atera's own reference at
// https://app.atera.com/apidocs is behind a login):
//   - ticket fields: the AteraAPI.V3 ITicket interface (a public C# client)
//     and a public Swift client's Ticket struct, which agree: TicketID (int),
//     TicketTitle, TicketNumber (string), TicketPriority, TicketImpact,
//     TicketStatus, TicketSource, TicketType, EndUserID (int), EndUserEmail,
//     EndUserFirstName, EndUserLastName, EndUserPhone, TicketResolvedDate,
//     TicketCreatedDate, TechnicianFirstCommentDate, FirstResponseDueDate,
//     ClosedTicketDueDate, FirstComment, LastEndUserComment,
//     LastEndUserCommentTimestamp, LastTechnicianComment, ..., CustomerID (int),
//     CustomerName, CustomerBusinessNumber, TechnicianContactID,
//     TechnicianFullName, TechnicianEmail, ContractID;
//   - envelope {items, totalItemCount, page, itemsInPage, totalPages, prevLink,
//     nextLink} with string links (the same Swift client; SPEC §5);
//   - a 401 for a missing or wrong key has an empty body and no
//     WWW-Authenticate challenge (api-evangelist/atera, errors probed against
//     the live host, 2026-08-06).
//
// The order of GET /tickets is not documented ("newest first is not
// guaranteed", atera-mcp). The simulator answers oldest first (ascending
// TicketID) on purpose, so a client that assumed newest-first and stopped
// paging early would miss the recent tickets in tests.
package atera

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// Endpoint is the fault-injection endpoint name of the tickets list.
const Endpoint = "atera:tickets"

// MaxItemsInPage is Atera's page-size cap; larger itemsInPage values are
// clamped to it.
const MaxItemsInPage = 50

// defaultItemsInPage is what Atera uses when itemsInPage is absent.
const defaultItemsInPage = 20

// Options configures the simulated account.
type Options struct {
	// APIKey is the account's key, accepted in the X-API-KEY header.
	APIKey string
	// BearerToken, when set, is also accepted as "Authorization: Bearer
	// <token>" (Atera's newer JWT credentials).
	BearerToken string
	// Faults injects failures on Endpoint; the tenant a rule is matched
	// against is the customer's tenant name when the request filters by
	// customerId, else "".
	Faults *fault.Injector
}

// Handler serves the simulated Atera API.
type Handler struct {
	set  *fixture.Set
	opts Options
	mux  *http.ServeMux
}

// New returns the API handler for the tenants of set.
func New(set *fixture.Set, opts Options) *Handler {
	h := &Handler{set: set, opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /api/v3/tickets", h.tickets)
	return h
}

// ServeHTTP implements http.Handler. Every route requires a valid credential;
// an unknown route answers 404 with an empty body, as an unauthenticated one
// answers 401 with an empty body.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) authorized(r *http.Request) bool {
	if key := r.Header.Get("X-API-KEY"); key != "" && h.opts.APIKey != "" {
		if subtle.ConstantTimeCompare([]byte(key), []byte(h.opts.APIKey)) == 1 {
			return true
		}
	}
	if h.opts.BearerToken == "" {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(h.opts.BearerToken)) == 1
}

// envelope is Atera's list paging envelope.
type envelope struct {
	Items          []map[string]any `json:"items"`
	TotalItemCount int              `json:"totalItemCount"`
	Page           int              `json:"page"`
	ItemsInPage    int              `json:"itemsInPage"`
	TotalPages     int              `json:"totalPages"`
	PrevLink       string           `json:"prevLink"`
	NextLink       string           `json:"nextLink"`
}

func (h *Handler) tickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := positiveInt(q.Get("page"), 1)
	if err != nil {
		writeError(w, http.StatusBadRequest, "The value '"+q.Get("page")+"' is not valid for page.")
		return
	}
	size, err := positiveInt(q.Get("itemsInPage"), defaultItemsInPage)
	if err != nil {
		writeError(w, http.StatusBadRequest, "The value '"+q.Get("itemsInPage")+"' is not valid for itemsInPage.")
		return
	}
	size = min(size, MaxItemsInPage)
	customerID := 0
	if s := q.Get("customerId"); s != "" {
		if customerID, err = strconv.Atoi(s); err != nil {
			writeError(w, http.StatusBadRequest, "The value '"+s+"' is not valid for customerId.")
			return
		}
	}
	status := q.Get("ticketStatus")

	all, tenant := h.collect(customerID, status)
	if rule := h.opts.Faults.Match(tenant, Endpoint); rule != nil {
		if fault.Apply(w, r, rule, errorBody) {
			return
		}
		if rule.Kind == fault.Truncate {
			tw := fault.Truncating(w)
			defer tw.Flush()
			w = tw
		}
	}

	env := envelope{Items: []map[string]any{}, Page: page, ItemsInPage: size, TotalItemCount: len(all)}
	env.TotalPages = (len(all) + size - 1) / size
	if from := (page - 1) * size; from < len(all) {
		env.Items = all[from:min(from+size, len(all))]
	}
	// itemsInPage echoes the page size asked for (capped), not the count on
	// this page, as Atera's envelope does.
	if page > 1 {
		env.PrevLink = pageLink(r, page-1, size)
	}
	if page < env.TotalPages {
		env.NextLink = pageLink(r, page+1, size)
	}
	body, err := json.Marshal(env)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

// collect returns the account's tickets in wire shape, filtered by customer
// and status, oldest first, and the fault-matching tenant name.
func (h *Handler) collect(customerID int, status string) ([]map[string]any, string) {
	var out []map[string]any
	tenant := ""
	for _, t := range h.set.All() {
		h.set.Read(t, func(t *fixture.Tenant) {
			id := CustomerID(t)
			if customerID != 0 && id != customerID {
				return
			}
			if customerID != 0 {
				tenant = t.Name
			}
			for i, raw := range t.Tickets {
				tk := wireTicket(t, id, i, raw)
				if status != "" && !strings.EqualFold(fmt.Sprint(tk["TicketStatus"]), status) {
					continue
				}
				out = append(out, tk)
			}
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return ticketID(out[i]) < ticketID(out[j]) })
	return out, tenant
}

// CustomerID is the Atera customer id the simulator gives a tenant: the
// fixture's CustomerID when set, else a stable number derived from the
// tenant name (so it does not change as tenants are added).
func CustomerID(t *fixture.Tenant) int {
	if t.CustomerID != 0 {
		return t.CustomerID
	}
	return 10000 + int(crc32.ChecksumIEEE([]byte(t.Name))%90000)
}

// wireTicket completes a fixture ticket (which may carry only the fields a
// snapshot keeps) into the full shape the API returns, including the comment
// bodies a collector must not keep. Fixture values win over defaults.
func wireTicket(t *fixture.Tenant, customerID, index int, raw map[string]any) map[string]any {
	id := customerID*1000 + index + 1
	email, _ := raw["EndUserEmail"].(string)
	first, last := namesFrom(email)
	created, _ := raw["TicketCreatedDate"].(string)
	title, _ := raw["TicketTitle"].(string)
	tk := map[string]any{
		"TicketID":                       id,
		"TicketTitle":                    title,
		"TicketNumber":                   strconv.Itoa(20260000000 + id),
		"TicketPriority":                 "Medium",
		"TicketImpact":                   "NoImpact",
		"TicketStatus":                   "Open",
		"TicketSource":                   "Email",
		"TicketType":                     "Problem",
		"EndUserID":                      customerID*100 + index%100,
		"EndUserEmail":                   email,
		"EndUserFirstName":               first,
		"EndUserLastName":                last,
		"EndUserPhone":                   nil,
		"TicketResolvedDate":             nil,
		"TicketCreatedDate":              created,
		"TechnicianFirstCommentDate":     nil,
		"FirstResponseDueDate":           nil,
		"ClosedTicketDueDate":            nil,
		"FirstComment":                   "Hello,\n\n" + title + "\n\nThe details of this request are private to the customer.\n\nThanks",
		"LastEndUserComment":             "Any update on this? (private end-user reply)",
		"LastEndUserCommentTimestamp":    created,
		"LastTechnicianComment":          nil,
		"LastTechnicianCommentTimestamp": nil,
		"OnSiteDurationSeconds":          0,
		"OnSiteDurationMinutes":          0,
		"OffSiteDurationSeconds":         0,
		"OffSiteDurationMinutes":         0,
		"OnSLADurationSeconds":           0,
		"OnSLADurationMinutes":           0,
		"OffSLADurationSeconds":          0,
		"OffSLADurationMinutes":          0,
		"TotalDurationSeconds":           0,
		"TotalDurationMinutes":           0,
		"CustomerID":                     customerID,
		"CustomerName":                   t.Name,
		"CustomerBusinessNumber":         nil,
		"TechnicianContactID":            nil,
		"TechnicianFullName":             nil,
		"TechnicianEmail":                nil,
		"ContractID":                     nil,
	}
	for k, v := range raw {
		tk[k] = v
	}
	return tk
}

func namesFrom(email string) (string, string) {
	local, _, _ := strings.Cut(email, "@")
	first, last, _ := strings.Cut(local, ".")
	title := func(s string) string {
		if s == "" {
			return ""
		}
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return title(first), title(last)
}

func ticketID(t map[string]any) float64 {
	switch v := t["TicketID"].(type) {
	case int:
		return float64(v)
	case float64:
		return v
	case json.Number:
		f, _ := v.Float64()
		return f
	}
	return 0
}

// pageLink is an absolute link to another page of the same query, as Atera's
// nextLink and prevLink are.
func pageLink(r *http.Request, page, size int) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	q.Set("itemsInPage", strconv.Itoa(size))
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

func positiveInt(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("not a positive integer: %q", s)
	}
	return n, nil
}

// errorBody renders an error the way ASP.NET Web API (which serves Atera's
// API) does by default: {"Message": "..."}. Atera publishes no error schema;
// this shape is an assumption, and clients must not depend on it.
func errorBody(_ int, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"Message": msg})
	return b
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(status, msg))
}
