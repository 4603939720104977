package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Describe is one line for a change, for logs and chat messages:
//
//	mailbox "Support" <support@acme.com>: DeliverToMailboxAndForward true → false
//	transport rule "Redirect to Atera": added
//	mailbox "Support" <support@acme.com>: EmailAddresses added "help@acme.com"; removed "old@acme.com"
func Describe(c Change) string {
	switch c.Change {
	case Added, Removed:
		return c.Label + ": " + c.Change
	default:
		return c.Label + ": " + describeProperty(c)
	}
}

// describeProperty is the property part of a changed property's line. A set
// with more than one element on either side is shown as what was added and
// removed: the whole of a 9-entry IP allow list twice hides the one entry
// that changed.
func describeProperty(c Change) string {
	bs, bok := c.Before.([]any)
	as, aok := c.After.([]any)
	if bok && aok && (len(bs) > 1 || len(as) > 1) {
		var parts []string
		if added := minus(as, bs); len(added) > 0 {
			parts = append(parts, "added "+FormatValue(added))
		}
		if removed := minus(bs, as); len(removed) > 0 {
			parts = append(parts, "removed "+FormatValue(removed))
		}
		if len(parts) > 0 {
			return c.Property + " " + strings.Join(parts, "; ")
		}
	}
	return fmt.Sprintf("%s %s → %s", c.Property, FormatValue(c.Before), FormatValue(c.After))
}

// minus is the elements of a not in b.
func minus(a, b []any) []any {
	var out []any
	for _, x := range a {
		found := false
		for _, y := range b {
			if Equal(x, y) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

// FormatValue renders a canonical value for people: strings quoted, a
// reference as its label, a set as its elements joined by ", ", null and the
// empty set as "(none)".
func FormatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "(none)"
	case bool:
		return strconv.FormatBool(v)
	case string:
		return strconv.Quote(v)
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		if len(v) == 0 {
			return "(none)"
		}
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = FormatValue(e)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		if _, ok := refKey(v); ok {
			if label, ok := v["label"].(string); ok {
				return label
			}
		}
		return compactJSON(v)
	default:
		return compactJSON(v)
	}
}

func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// WriteText writes the changes grouped by object, in Compare's order: the
// object's label, then one indented line per changed property; an added or
// removed object is followed by its properties that have a value.
func WriteText(w io.Writer, changes []Change) error {
	var b strings.Builder
	for i, c := range changes {
		newObject := i == 0 || changes[i-1].Key != c.Key
		switch c.Change {
		case Added, Removed:
			fmt.Fprintf(&b, "%s (%s)\n", c.Label, c.Change)
			props, _ := c.After.(map[string]any)
			if c.Change == Removed {
				props, _ = c.Before.(map[string]any)
			}
			for _, p := range sortedKeys(props) {
				if v := props[p]; !empty(v) {
					fmt.Fprintf(&b, "  %s %s\n", p, FormatValue(v))
				}
			}
		default:
			if newObject {
				fmt.Fprintf(&b, "%s\n", c.Label)
			}
			fmt.Fprintf(&b, "  %s\n", describeProperty(c))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func empty(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.([]any)
	return ok && len(s) == 0
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteJSON writes the changes as a JSON array (docs/output.md, "diff"):
// [] when there are none, never null.
func WriteJSON(w io.Writer, changes []Change) error {
	if changes == nil {
		changes = []Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(changes); err != nil {
		return fmt.Errorf("encode drift: %w", err)
	}
	return nil
}

// Summary counts the changes for a headline: "2 objects changed, 1 added,
// 0 removed".
func Summary(changes []Change) string {
	changed := map[string]bool{}
	added, removed := 0, 0
	for _, c := range changes {
		switch c.Change {
		case Added:
			added++
		case Removed:
			removed++
		default:
			changed[c.Key] = true
		}
	}
	return fmt.Sprintf("%s changed, %d added, %d removed", plural(len(changed), "object", "objects"), added, removed)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
