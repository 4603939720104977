package exchange

import (
	"encoding/json"
	"strconv"
	"strings"
)

// objects reads a fixture value as a list of objects: an array is itself, a
// single object is wrapped (ConvertTo-Json writes one result unwrapped), null
// or absent is empty. present reports whether the key existed at all.
func objects(v any, present bool) ([]map[string]any, bool) {
	switch x := v.(type) {
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out, present
	case []map[string]any:
		return x, present
	case map[string]any:
		return []map[string]any{x}, present
	}
	return nil, present
}

// normRef is how an identity argument or a property value is compared: trimmed,
// lower-case, without an smtp: prefix.
func normRef(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.TrimPrefix(s, "smtp:")
}

// identityProps are the properties an object can be named by, as Exchange's
// IdParameter types resolve them (Get-Recipient -Identity documentation: name,
// alias, DN, canonical DN, GUID, e-mail address, LegacyExchangeDN, UPN...).
var identityProps = []string{
	"Identity", "Id", "Name", "Alias", "DisplayName", "PrimarySmtpAddress", "WindowsEmailAddress",
	"UserPrincipalName", "MicrosoftOnlineServicesID", "ExternalEmailAddress", "DistinguishedName",
	"Guid", "ExchangeObjectId", "ExternalDirectoryObjectId", "LegacyExchangeDN", "DomainName",
}

// forms returns every lower-cased name the object answers to.
func forms(obj map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, p := range identityProps {
		if s, ok := obj[p].(string); ok && s != "" {
			out[normRef(s)] = true
		}
	}
	for _, a := range strings1(obj["EmailAddresses"]) {
		prefix, addr, ok := strings.Cut(a, ":")
		switch {
		case !ok:
			out[normRef(a)] = true
		case strings.EqualFold(prefix, "smtp"), strings.EqualFold(prefix, "x500"):
			out[normRef(addr)] = true
		}
	}
	return out
}

// resolve returns the objects an identity argument names.
func resolve(objs []map[string]any, ref string) []map[string]any {
	want := normRef(ref)
	var out []map[string]any
	for _, o := range objs {
		if forms(o)[want] {
			out = append(out, o)
		}
	}
	return out
}

// primaryAddress is the object's primary SMTP address, lower-case.
func primaryAddress(obj map[string]any) string {
	if s, ok := obj["PrimarySmtpAddress"].(string); ok && s != "" {
		return normRef(s)
	}
	for _, a := range strings1(obj["EmailAddresses"]) {
		if strings.HasPrefix(a, "SMTP:") {
			return normRef(a)
		}
	}
	if s, ok := obj["WindowsEmailAddress"].(string); ok {
		return normRef(s)
	}
	return ""
}

// strings1 reads a multi-valued property: an array of strings, or one string.
func strings1(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}

// scalarString renders a scalar property for comparison.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}
