package graph

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"strings"
)

// Fixture values arrive as decoded JSON ([]any, map[string]any, json.Number)
// or as Go values built by tests and generators ([]map[string]any, ints);
// these helpers read both without mutating the fixture.

// asSlice returns v as a list: nil for null, the elements of any slice, and a
// single non-list value wrapped (the Exchange shapes allow both).
func asSlice(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	case []map[string]any:
		out := make([]any, len(v))
		for i, m := range v {
			out[i] = m
		}
		return out
	case map[string]any, string, bool, json.Number, float64, int, int64:
		return []any{v}
	}
	var out []any
	if roundTrip(v, &out) == nil {
		return out
	}
	return []any{v}
}

// asMap returns v as an object, or nil.
func asMap(v any) map[string]any {
	switch v := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	}
	var out map[string]any
	if roundTrip(v, &out) == nil {
		return out
	}
	return nil
}

func roundTrip(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(out)
}

// objects returns the list elements that are objects.
func objects(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asSlice(v) {
		if m := asMap(e); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// str returns a scalar as text ("" for null).
func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return fmt.Sprint(v)
}

// strs returns a string list: null -> nil, a bare string -> one element.
func strs(v any) []string {
	var out []string
	for _, e := range asSlice(v) {
		if s := strings.TrimSpace(str(e)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// boolean reads a JSON boolean or its string form ("True").
func boolean(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// number returns a JSON number for an integer-looking value, or nil.
func number(v any) any {
	switch v := v.(type) {
	case json.Number:
		return v
	case int, int32, int64, float64:
		return v
	case string:
		if n := json.Number(strings.TrimSpace(v)); n.String() != "" {
			if _, err := n.Int64(); err == nil {
				return n
			}
		}
	}
	return nil
}

// normAddr lower-cases an address and removes an "smtp:" prefix.
func normAddr(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 5 && strings.EqualFold(s[:5], "smtp:") {
		s = s[5:]
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// stableID derives a GUID-shaped id from a name, for objects the fixture
// gives no id.
func stableID(name string) string {
	h := sha1.Sum([]byte(strings.ToLower(name)))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// lookup finds a key of an address-keyed map, whatever its case or prefix.
func lookup(m map[string]any, addr string) (any, bool) {
	want := normAddr(addr)
	if v, ok := m[want]; ok {
		return v, true
	}
	for k, v := range m {
		if normAddr(k) == want {
			return v, true
		}
	}
	return nil, false
}
