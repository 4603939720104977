package graph

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// query holds the OData system query options of a request. Graph accepts
// them with or without the leading "$".
type query struct {
	selected []string // $select, as sent; nil when absent
	top      int      // $top; 0 when absent
	offset   int      // decoded from $skiptoken
	filter   string   // $filter, raw

	reqID, clientReqID string
}

func parseQuery(r *http.Request) (*query, *apiError) {
	vals := r.URL.Query()
	get := func(name string) (string, bool) {
		for k, v := range vals {
			if strings.EqualFold(strings.TrimPrefix(k, "$"), name) && len(v) > 0 {
				return v[0], true
			}
		}
		return "", false
	}
	q := &query{}
	if s, ok := get("select"); ok {
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				q.selected = append(q.selected, f)
			}
		}
	}
	if s, ok := get("top"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, &apiError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid value '%s' for $top: it must be a positive integer.", s)}
		}
		q.top = n
	}
	if s, ok := get("skiptoken"); ok {
		n, err := decodeSkipToken(s)
		if err != nil {
			return nil, &apiError{http.StatusBadRequest, "Request_BadRequest", "The specified page token value has expired or is not valid."}
		}
		q.offset = n
	}
	q.filter, _ = get("filter")
	return q, nil
}

// A skip token is opaque to clients; here it carries the offset of the page.
func encodeSkipToken(offset int) string {
	b, _ := json.Marshal(map[string]int{"o": offset})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSkipToken(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	var t struct {
		O *int `json:"o"`
	}
	if err := json.Unmarshal(b, &t); err != nil || t.O == nil || *t.O < 0 {
		return 0, fmt.Errorf("bad skip token")
	}
	return *t.O, nil
}

// collection describes one kind of Graph collection for paging and $select.
type collection struct {
	typeName    string   // "microsoft.graph.messageRule", for error texts
	properties  []string // selectable properties, canonical case
	defaultPage int
	maxTop      int
	alwaysKeep  []string // returned whatever $select says (id on Outlook entities, @odata.type on directoryObjects)
}

// selection resolves $select against the collection: canonical property
// names, or an error naming the first unknown one.
func (c *collection) selection(q *query) ([]string, *apiError) {
	if q.selected == nil {
		return nil, nil
	}
	out := make([]string, 0, len(q.selected))
	for _, s := range q.selected {
		found := ""
		for _, p := range c.properties {
			if strings.EqualFold(p, s) {
				found = p
				break
			}
		}
		if found == "" {
			return nil, &apiError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Could not find a property named '%s' on type '%s'.", s, c.typeName)}
		}
		out = append(out, found)
	}
	return out, nil
}

// project keeps the selected properties of one item (and the always-kept ones).
func (c *collection) project(item map[string]any, sel []string) map[string]any {
	if sel == nil {
		return item
	}
	out := make(map[string]any, len(sel)+len(c.alwaysKeep))
	for _, k := range c.alwaysKeep {
		if v, ok := item[k]; ok {
			out[k] = v
		}
	}
	for _, k := range sel {
		if v, ok := item[k]; ok {
			out[k] = v
		}
	}
	return out
}

// page writes one page of items with @odata.context and, when more remain,
// an absolute @odata.nextLink repeating the request's query options.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, q *query, c *collection, contextPath string, items []map[string]any) {
	sel, apiErr := c.selection(q)
	if apiErr != nil {
		h.fail(w, q, apiErr)
		return
	}
	size := c.defaultPage
	if q.top > 0 {
		if q.top > c.maxTop {
			h.fail(w, q, &apiError{http.StatusBadRequest, "Request_BadRequest",
				fmt.Sprintf("Invalid page size specified: '%d'. Must be between 1 and %d inclusive.", q.top, c.maxTop)})
			return
		}
		size = q.top
	}
	// A server may return fewer items than $top; clients follow nextLink.
	if h.pageSize > 0 && size > h.pageSize {
		size = h.pageSize
	}
	start := min(q.offset, len(items))
	end := min(start+size, len(items))
	value := make([]map[string]any, 0, end-start)
	for _, it := range items[start:end] {
		value = append(value, c.project(it, sel))
	}
	ctx := baseURL(r) + "/$metadata#" + contextPath
	if sel != nil {
		ctx += "(" + strings.Join(sel, ",") + ")"
	}
	body := map[string]any{"@odata.context": ctx, "value": value}
	if end < len(items) {
		body["@odata.nextLink"] = nextLink(r, end)
	}
	writeJSON(w, http.StatusOK, body)
}

// baseURL is the service root as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/v1.0"
}

// nextLink repeats the request with $skiptoken set to the next offset. The
// other query options are kept as the client encoded them.
func nextLink(r *http.Request, offset int) string {
	var parts []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if p == "" {
			continue
		}
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err == nil && strings.EqualFold(strings.TrimPrefix(name, "$"), "skiptoken") {
			continue
		}
		parts = append(parts, p)
	}
	parts = append(parts, "$skiptoken="+encodeSkipToken(offset))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}
