// Package drift compares two drift views of a tenant and says which audited
// objects were added, removed or changed, property by property.
//
// A drift view is what policy.Engine.View returns for a snapshot: the objects
// and properties the checks read, keyed by resolved identity and already in
// canonical form (policies/lib/drift/drift.rego documents it). All the
// knowledge of what is volatile, how identities are written and which order
// does not matter lives there, in Rego, next to the identity library; this
// package only compares, applying the three rules the view's contract leaves
// to the comparison:
//
//   - a reference {"ref": key, "label": text} equals another with the same
//     "ref": the label is for people, and changes when the referenced object
//     is renamed;
//   - a property present on one side only was not readable on the other
//     (its source was not collected) and is not a change;
//   - an object present on one side only is added or removed only when every
//     source it depends on was collected in both snapshots; otherwise its
//     absence means "not collected", and the source objects' own "collected"
//     change is what is reported. Source objects themselves are never added
//     or removed.
package drift

import (
	"cmp"
	"encoding/json"
	"math/big"
	"slices"
	"sort"
	"strings"
)

// What happened to an object or a property.
const (
	Added   = "added"   // the object is new (Property is "")
	Removed = "removed" // the object is gone (Property is "")
	Changed = "changed" // one property's value changed
)

// sourceKind is the kind of the view's collection-state objects.
const sourceKind = "source"

// Change is one difference between two views. For an object added or
// removed, Property is "" and After (or Before) holds all its properties;
// for a changed property, Before and After are its canonical values.
type Change struct {
	Kind     string `json:"kind"`
	Key      string `json:"key"`
	Label    string `json:"label"`
	Property string `json:"property"`
	Change   string `json:"change"`
	Before   any    `json:"before"`
	After    any    `json:"after"`
}

// object is one view entry, read leniently: a malformed entry compares as an
// object without properties rather than failing the whole comparison.
type object struct {
	kind, label string
	sources     []string
	props       map[string]any
}

func parse(v any) object {
	m, _ := v.(map[string]any)
	o := object{props: map[string]any{}}
	o.kind, _ = m["kind"].(string)
	o.label, _ = m["label"].(string)
	if p, ok := m["properties"].(map[string]any); ok {
		o.props = p
	}
	if ss, ok := m["sources"].([]any); ok {
		for _, s := range ss {
			if s, ok := s.(string); ok {
				o.sources = append(o.sources, s)
			}
		}
	}
	return o
}

// collected reports whether the view's source object for id says collected.
func collected(view map[string]any, id string) bool {
	return parse(view["source:"+id]).props["collected"] == true
}

// Compare returns the changes from the view before to the view after, sorted
// by kind, label, property (then key, so that the order is total).
func Compare(before, after map[string]any) []Change {
	known := func(o object) bool {
		for _, s := range o.sources {
			if !collected(before, s) || !collected(after, s) {
				return false
			}
		}
		return true
	}

	var out []Change
	for _, key := range unionKeys(before, after) {
		bv, inBefore := before[key]
		av, inAfter := after[key]
		b, a := parse(bv), parse(av)
		switch {
		case inBefore && inAfter:
			for _, p := range unionKeys(b.props, a.props) {
				x, okb := b.props[p]
				y, oka := a.props[p]
				if okb && oka && !Equal(x, y) {
					out = append(out, Change{Kind: a.kind, Key: key, Label: a.label, Property: p, Change: Changed, Before: x, After: y})
				}
			}
		case inAfter:
			if a.kind != sourceKind && known(a) {
				out = append(out, Change{Kind: a.kind, Key: key, Label: a.label, Change: Added, After: a.props})
			}
		case inBefore:
			if b.kind != sourceKind && known(b) {
				out = append(out, Change{Kind: b.kind, Key: key, Label: b.label, Change: Removed, Before: b.props})
			}
		}
	}
	slices.SortStableFunc(out, func(x, y Change) int {
		return cmp.Or(
			cmp.Compare(x.Kind, y.Kind),
			cmp.Compare(x.Label, y.Label),
			cmp.Compare(x.Key, y.Key),
			cmp.Compare(x.Property, y.Property),
		)
	})
	return out
}

// Objects counts the audited objects of a view (its source objects aside),
// for "no drift in N objects".
func Objects(view map[string]any) int {
	n := 0
	for _, v := range view {
		if parse(v).kind != sourceKind {
			n++
		}
	}
	return n
}

// Equal compares two canonical values: references by their "ref", numbers
// by value, arrays element by element (the view's arrays are sorted sets),
// objects key by key.
func Equal(x, y any) bool {
	switch x := x.(type) {
	case map[string]any:
		y, ok := y.(map[string]any)
		if !ok {
			return false
		}
		if rx, ok := refKey(x); ok {
			ry, ok := refKey(y)
			return ok && rx == ry
		}
		if len(x) != len(y) {
			return false
		}
		for k, vx := range x {
			vy, ok := y[k]
			if !ok || !Equal(vx, vy) {
				return false
			}
		}
		return true
	case []any:
		y, ok := y.([]any)
		return ok && slices.EqualFunc(x, y, Equal)
	case json.Number, float64, int, int64:
		rx, okx := number(x)
		ry, oky := number(y)
		return okx && oky && rx.Cmp(ry) == 0
	case nil, bool, string:
		return x == y
	default:
		return false
	}
}

// refKey returns the key of a reference value {"ref": key, "label": text}.
func refKey(m map[string]any) (string, bool) {
	if len(m) != 2 {
		return "", false
	}
	if _, ok := m["label"]; !ok {
		return "", false
	}
	k, ok := m["ref"].(string)
	return k, ok
}

func number(v any) (*big.Rat, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case float64:
		r := new(big.Rat).SetFloat64(v) // nil for NaN and infinities
		return r, r != nil
	case int:
		return new(big.Rat).SetInt64(int64(v)), true
	case int64:
		return new(big.Rat).SetInt64(v), true
	default:
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Uncollected lists the sources collected in after but not in before: what a
// comparison with before cannot say anything about (a cmdlet failed in that
// run). The caller compares those against an older view that has them.
func Uncollected(before, after map[string]any) []string {
	var out []string
	for key, v := range after {
		o := parse(v)
		if o.kind != sourceKind || o.props["collected"] != true {
			continue
		}
		id := strings.TrimPrefix(key, "source:")
		if !collected(before, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Covers reports whether every source is collected in view.
func Covers(view map[string]any, sources []string) bool {
	for _, s := range sources {
		if !collected(view, s) {
			return false
		}
	}
	return true
}

// CompareSources is Compare restricted to the objects that depend on one of
// sources; it bridges a run in which those sources failed, so a change made
// around a partial run is still reported once.
func CompareSources(before, after map[string]any, sources []string) []Change {
	want := map[string]bool{}
	for _, s := range sources {
		want[s] = true
	}
	depends := func(key string) bool {
		for _, view := range []map[string]any{before, after} {
			if v, ok := view[key]; ok {
				for _, s := range parse(v).sources {
					if want[s] {
						return true
					}
				}
			}
		}
		return false
	}
	var out []Change
	for _, c := range Compare(before, after) {
		if c.Kind != sourceKind && depends(c.Key) {
			out = append(out, c)
		}
	}
	return out
}
