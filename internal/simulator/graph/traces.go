package graph

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// Message trace query limits (List messageTraces, Graph v1.0).
const (
	traceMaxInterval = 10 * 24 * time.Hour
	traceMaxAge      = 90 * 24 * time.Hour
	traceDefaultSpan = 48 * time.Hour
	// clockSkew is how far in the future an end date may lie: the documented
	// rule is "not later than the current date"; clients' clocks drift.
	clockSkew = 5 * time.Minute
)

func (h *Handler) listMessageTraces(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query) {
	match, apiErr := traceFilter(q.filter, h.now())
	if apiErr != nil {
		h.fail(w, q, apiErr)
		return
	}
	var all []map[string]any
	h.tenants.Read(t, func(t *fixture.Tenant) { all = messageTraces(t) })
	items := make([]map[string]any, 0, len(all))
	for _, it := range all {
		if match(it) {
			items = append(items, withoutDetails(it))
		}
	}
	// Newest first, as the service lists them.
	sort.SliceStable(items, func(i, j int) bool {
		ti, _ := parseTime(str(items[i]["receivedDateTime"]))
		tj, _ := parseTime(str(items[j]["receivedDateTime"]))
		return ti.After(tj)
	})
	h.page(w, r, q, traceCollection, "admin/exchange/tracing/messageTraces", items)
}

// messageTraces returns the fixture's trace items: graph.messageTraces as a
// list, or the snapshot form {"items": [...]}; none when absent.
func messageTraces(t *fixture.Tenant) []map[string]any {
	v, ok := graphValue(t, "messageTraces")
	if !ok {
		return nil
	}
	if m := asMap(v); m != nil {
		return objects(m["items"])
	}
	return objects(v)
}

// withoutDetails is a trace item as the list serves it: a snapshot's items
// carry their "details" (the collector attaches them), which
// exchangeMessageTrace does not have; getDetailsByRecipient serves them.
// The fixture's map is not changed.
func withoutDetails(it map[string]any) map[string]any {
	if _, ok := it["details"]; !ok {
		return it
	}
	out := make(map[string]any, len(it)-1)
	for k, v := range it {
		if k != "details" {
			out[k] = v
		}
	}
	return out
}

// detailsFunction parses the function segment
// getDetailsByRecipient(recipientAddress='a@b') and returns the address.
func detailsFunction(seg string) (string, bool) {
	const name = "getdetailsbyrecipient("
	if len(seg) <= len(name) || !strings.EqualFold(seg[:len(name)], name) || !strings.HasSuffix(seg, ")") {
		return "", false
	}
	param, value, ok := strings.Cut(seg[len(name):len(seg)-1], "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(param), "recipientAddress") {
		return "", false
	}
	value = strings.TrimSpace(value)
	if len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
		return "", false
	}
	return unquote(value), true
}

// listTraceDetails serves exchangeMessageTrace: getDetailsByRecipient, the
// events of one message for one recipient (where a bounce's reason is).
// Details come from the trace item's own "details" (a snapshot's form),
// else graph.messageTraceDetails[<trace id>]; a trace with neither has none.
func (h *Handler) listTraceDetails(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query, traceID, recipient string) {
	var items []map[string]any
	found := false
	h.tenants.Read(t, func(t *fixture.Tenant) {
		var own any
		for _, it := range messageTraces(t) {
			if strings.EqualFold(str(it["id"]), traceID) && strings.EqualFold(str(it["recipientAddress"]), recipient) {
				found, own = true, it["details"]
				break
			}
		}
		if own != nil {
			items = objects(own)
			return
		}
		if m, ok := graphMap(t, "messageTraceDetails"); ok {
			for k, v := range m {
				if strings.EqualFold(k, traceID) {
					items = objects(v)
				}
			}
		}
	})
	if !found {
		h.fail(w, q, &apiError{http.StatusNotFound, "ResourceNotFound",
			fmt.Sprintf("No message trace '%s' for the recipient '%s'.", traceID, recipient)})
		return
	}
	h.page(w, r, q, traceDetailCollection, "Collection(microsoft.graph.exchangeMessageTraceDetail)", items)
}

// traceFilter checks a $filter against the documented rules and returns the
// matcher. receivedDateTime needs both bounds (ge and le) or neither (the
// last 48 hours).
func traceFilter(filter string, now time.Time) (func(map[string]any) bool, *apiError) {
	bad := func(msg string) (func(map[string]any) bool, *apiError) {
		return nil, &apiError{http.StatusBadRequest, "BadRequest", msg}
	}
	clauses, err := parseFilter(filter)
	if err != nil {
		return bad("Invalid filter clause: " + err.Error())
	}
	var start, end *time.Time
	var tests []func(map[string]any) bool
	for _, c := range clauses {
		switch {
		case c.prop == "receivedDateTime" && (c.op == "ge" || c.op == "le"):
			ts, err := parseTime(c.value)
			if err != nil {
				return bad(fmt.Sprintf("The receivedDateTime value '%s' is not an ISO 8601 date and time.", c.value))
			}
			if c.op == "ge" {
				start = &ts
			} else {
				end = &ts
			}
		case c.op == "eq" && isOneOf(c.prop, "id", "messageId", "status", "recipientAddress", "senderAddress", "fromIP", "toIP"):
			c := c
			tests = append(tests, func(m map[string]any) bool { return strings.EqualFold(str(m[c.prop]), c.value) })
		case c.prop == "subject" && isOneOf(c.op, "contains", "startswith", "endswith"):
			c := c
			tests = append(tests, func(m map[string]any) bool {
				s, v := strings.ToLower(str(m["subject"])), strings.ToLower(c.value)
				switch c.op {
				case "contains":
					return strings.Contains(s, v)
				case "startswith":
					return strings.HasPrefix(s, v)
				}
				return strings.HasSuffix(s, v)
			})
		default:
			return bad(fmt.Sprintf("The filter operator '%s' is not supported on property '%s'.", c.op, c.prop))
		}
	}
	switch {
	case start == nil && end == nil:
		e, s := now, now.Add(-traceDefaultSpan)
		start, end = &s, &e
	case start == nil || end == nil:
		return bad("A receivedDateTime range must be specified with both the ge and le operators.")
	}
	switch {
	case end.Before(*start):
		return bad("The receivedDateTime start must not be later than its end.")
	case end.Sub(*start) > traceMaxInterval:
		return bad("The time interval must not exceed 10 days.")
	case start.Before(now.Add(-traceMaxAge)):
		return bad("The start date cannot be older than 90 days from today.")
	case end.After(now.Add(clockSkew)):
		return bad("The end date must not be later than the current date.")
	}
	s, e := *start, *end
	return func(m map[string]any) bool {
		ts, err := parseTime(str(m["receivedDateTime"]))
		if err != nil || ts.Before(s) || ts.After(e) {
			return false
		}
		for _, test := range tests {
			if !test(m) {
				return false
			}
		}
		return true
	}, nil
}

func isOneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

func parseTime(s string) (time.Time, error) {
	s = strings.Trim(strings.TrimSpace(s), "'")
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// clause is one comparison of an OData $filter joined by "and":
// `prop op value` or `fn(prop, 'value')` (op is then the function name).
type clause struct {
	prop, op, value string
}

// parseFilter reads the small OData subset the simulated APIs accept:
// comparisons and contains/startswith/endswith, joined by "and". Property
// names keep their case; operators are lower-cased.
func parseFilter(filter string) ([]clause, error) {
	toks, err := tokenize(filter)
	if err != nil {
		return nil, err
	}
	var out []clause
	for i := 0; i < len(toks); {
		if len(out) > 0 {
			if !strings.EqualFold(toks[i], "and") {
				return nil, fmt.Errorf("expected 'and', found %q", toks[i])
			}
			i++
		}
		switch {
		case i+5 < len(toks) && toks[i+1] == "(" && toks[i+3] == "," && toks[i+5] == ")":
			out = append(out, clause{prop: toks[i+2], op: strings.ToLower(toks[i]), value: unquote(toks[i+4])})
			i += 6
		case i+2 < len(toks):
			out = append(out, clause{prop: toks[i], op: strings.ToLower(toks[i+1]), value: unquote(toks[i+2])})
			i += 3
		default:
			return nil, errors.New("incomplete clause")
		}
	}
	return out, nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			for {
				if j >= len(s) {
					return nil, errors.New("unterminated string")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func unquote(tok string) string {
	if len(tok) >= 2 && tok[0] == '\'' && tok[len(tok)-1] == '\'' {
		return strings.ReplaceAll(tok[1:len(tok)-1], "''", "'")
	}
	return tok
}
