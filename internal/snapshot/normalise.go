package snapshot

import (
	"fmt"
	"sort"
	"strings"
)

// ListCmdlets are the Exchange cmdlets the built-in checks read as lists.
// Other Get-* keys are accepted and normalised the same way.
var ListCmdlets = []string{
	"Get-MailContact",
	"Get-DistributionGroup",
	"Get-Mailbox",
	"Get-CASMailbox",
	"Get-RecipientPermission",
	"Get-HostedOutboundSpamFilterPolicy",
	"Get-HostedOutboundSpamFilterRule",
	"Get-AntiPhishPolicy",
	"Get-AntiPhishRule",
	"Get-RemoteDomain",
	"Get-TransportRule",
	"Get-TransportConfig",
	"Get-HostedConnectionFilterPolicy",
	"Get-EOPProtectionPolicyRule",
	"Get-AcceptedDomain",
}

// PerRecipientCmdlets are keyed by the recipient's primary SMTP address.
var PerRecipientCmdlets = []string{
	"Get-DistributionGroupMember",
	"Get-InboxRule",
}

// perRecipientGraph are the sections of `graph` keyed by an address.
var perRecipientGraph = []string{"messageRules", "groupMembers"}

func knownCmdlets() []string {
	return append(append([]string(nil), ListCmdlets...), PerRecipientCmdlets...)
}

func isPerRecipient(name string) bool {
	for _, n := range PerRecipientCmdlets {
		if n == name {
			return true
		}
	}
	return false
}

// normaliser turns a schema-valid document into the Rego input's `snapshot`
// (docs/DESIGN.md, "Snapshot normalisation"). Problems the schema cannot
// express are collected as Errors.
type normaliser struct {
	file string
	data []byte
	doc  any
	errs []*Error
}

func (n *normaliser) fail(path []string, problem, hint string) {
	e := &Error{File: n.file, Field: fieldPath(n.doc, path), Problem: problem, Hint: hint}
	n.errs = append(n.errs, e.withPosition(n.data, path))
}

// normalise returns the normalised copy of root; root itself is not modified.
func (n *normaliser) normalise(root map[string]any) map[string]any {
	n.errorSources(root)
	out := stripAnnotations(root).(map[string]any)
	if ex, ok := out["exchange"].(map[string]any); ok {
		n.exchange(ex)
	}
	if g, ok := out["graph"].(map[string]any); ok {
		for _, name := range perRecipientGraph {
			if v, present := g[name]; present {
				if m, isMap := v.(map[string]any); isMap {
					g[name] = n.perRecipient([]string{"graph", name}, m)
				} else if v == nil {
					delete(g, name)
				}
			}
		}
	}
	return out
}

func (n *normaliser) exchange(ex map[string]any) {
	known := map[string]string{} // lower-case → canonical
	for _, c := range knownCmdlets() {
		known[strings.ToLower(c)] = c
	}
	for _, name := range sortedKeys(ex) {
		v := ex[name]
		path := []string{"exchange", name}
		// JSON keys are case-sensitive but PowerShell's are not; a key that
		// differs only in case would silently read as "not collected".
		if canon, ok := known[strings.ToLower(name)]; ok && canon != name {
			n.fail(path, "cmdlet names are case-sensitive here", fmt.Sprintf("write %q", canon))
			continue
		}
		if v == nil {
			delete(ex, name) // null: not collected
			continue
		}
		if isPerRecipient(name) {
			m, _ := v.(map[string]any) // the schema guarantees an object here
			ex[name] = n.perRecipient(path, m)
			continue
		}
		list, ok := n.list(path, v)
		if !ok {
			delete(ex, name)
			continue
		}
		ex[name] = list
	}
}

// list normalises one list cmdlet's output: an array stays, a single object is
// wrapped. An admin-API response envelope pasted whole ({"@odata.context",
// "value": [...]}) is unwrapped; one with @odata.nextLink is incomplete and
// must never be read as the whole list.
func (n *normaliser) list(path []string, v any) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case map[string]any:
		if env, ok := envelope(n.rawAt(path)); ok {
			if env.nextLink {
				n.fail(path, "the result is incomplete: the response has @odata.nextLink (more pages exist)",
					"collect every page (-ResultSize Unlimited) and paste the combined value array")
				return nil, false
			}
			items := make([]any, 0, len(env.value))
			for i, it := range env.value {
				if _, isObj := it.(map[string]any); !isObj {
					n.fail(append(append(append([]string(nil), path...), "value"), fmt.Sprint(i)),
						"must be an object (one result of the cmdlet), got "+typeName(it), "")
					return nil, false
				}
				items = append(items, stripAnnotations(it))
			}
			return items, true
		}
		return []any{v}, true
	}
	return nil, false
}

type odataEnvelope struct {
	value    []any
	nextLink bool
}

// envelope recognises a raw admin API response: an object with an "@odata.*"
// key and a "value" array. Real Exchange objects never carry either.
func envelope(raw any) (odataEnvelope, bool) {
	m, ok := raw.(map[string]any)
	if !ok {
		return odataEnvelope{}, false
	}
	value, ok := m["value"].([]any)
	if !ok {
		return odataEnvelope{}, false
	}
	odata := false
	for k := range m {
		if strings.HasPrefix(k, "@odata.") {
			odata = true
		}
	}
	_, next := m["@odata.nextLink"]
	return odataEnvelope{value: value, nextLink: next}, odata
}

// rawAt returns the un-normalised value at path (annotations still present).
func (n *normaliser) rawAt(path []string) any {
	cur := n.doc
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// perRecipient normalises an object keyed by a recipient address: keys
// lower-cased with any "SMTP:" prefix removed, each value a list.
func (n *normaliser) perRecipient(path []string, m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	origin := map[string]string{}
	for _, key := range sortedKeys(m) {
		v := m[key]
		kp := append(append([]string(nil), path...), key)
		addr := NormaliseAddress(key)
		if !strings.Contains(addr, "@") {
			// Checks look recipients up by address; any other key would
			// silently read as "not collected".
			n.fail(kp, "the key must be the recipient's primary SMTP address", "e.g. support@acme.com, not an alias or display name")
			continue
		}
		if prev, dup := origin[addr]; dup {
			n.fail(kp, fmt.Sprintf("names the same recipient as %q", prev), "merge the two entries into one")
			continue
		}
		origin[addr] = key
		if v == nil {
			continue // this recipient was not collected
		}
		if list, ok := n.list(kp, v); ok {
			out[addr] = list
		}
	}
	return out
}

// NormaliseAddress lower-cases an address and removes an "smtp:" prefix (any
// case): the form used as key of per-recipient data.
func NormaliseAddress(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 5 && strings.EqualFold(s[:5], "smtp:") {
		s = s[5:]
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// stripAnnotations returns a deep copy of v without keys containing "@" (OData
// type annotations such as "Priority@data.type"), except "@odata.type" itself:
// on Graph objects it is the object's own type (user, orgContact, group) and
// the checks need it. Per-recipient maps are keyed by addresses, which contain
// "@"; they are copied by perRecipientCopy instead.
func stripAnnotations(v any) any {
	return strip(v, nil)
}

func strip(v any, path []string) any {
	switch v := v.(type) {
	case map[string]any:
		addressKeyed := isAddressKeyed(path)
		out := make(map[string]any, len(v))
		for k, val := range v {
			if addressKeyed {
				if isAnnotation(k) {
					continue
				}
			} else if strings.Contains(k, "@") && k != "@odata.type" {
				continue
			}
			out[k] = strip(val, append(path, k))
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, val := range v {
			// Indices never make a path address-keyed; a placeholder keeps depth.
			out[i] = strip(val, append(path, "[]"))
		}
		return out
	default:
		return v
	}
}

// isAddressKeyed reports whether the object at path is keyed by addresses.
func isAddressKeyed(path []string) bool {
	if len(path) != 2 {
		return false
	}
	switch path[0] {
	case "exchange":
		return isPerRecipient(path[1])
	case "graph":
		for _, g := range perRecipientGraph {
			if g == path[1] {
				return true
			}
		}
	}
	return false
}

// isAnnotation tells an OData annotation from an address in an address-keyed
// map: annotations start with "@" or end in "@odata.<x>" / "@data.type".
func isAnnotation(k string) bool {
	if strings.HasPrefix(k, "@") {
		return true
	}
	i := strings.LastIndexByte(k, '@')
	if i < 0 {
		return false
	}
	suffix := k[i+1:]
	return strings.HasPrefix(suffix, "odata.") || suffix == "data.type"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
