// Package waiver reads the waivers file (--waivers) and applies it to check
// results. A waiver accepts a known failure of one check for one tenant (or
// every tenant), optionally for one resource only, for a reason, until a date.
// A waived failure is still evaluated and reported as `waived`; a waiver that
// has expired stops applying and the result says so. A waiver never applies
// to a result that is indeterminate or passing: it must not hide missing data.
package waiver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/ticketguard/ticketguard/internal/suggest"
)

// DateLayout is the format of `expires`.
const DateLayout = "2006-01-02"

// AllTenants in `tenant` makes a waiver apply to every tenant.
const AllTenants = "*"

// Waiver is one entry of the file.
type Waiver struct {
	Check    string
	Tenant   string // a tenant name, or AllTenants
	Resource string // empty: every finding of the check
	Reason   string
	// Expires is the last day the waiver applies (UTC midnight of that day).
	Expires time.Time
	// Line is where the entry starts in the file.
	Line int
}

// ExpiresOn is the expiry date as written, YYYY-MM-DD.
func (w Waiver) ExpiresOn() string { return w.Expires.Format(DateLayout) }

// Active reports whether the waiver still applies at now: through the whole
// expiry day, in UTC.
func (w Waiver) Active(now time.Time) bool {
	return now.Before(w.Expires.AddDate(0, 0, 1))
}

func (w Waiver) matches(check, tenant string) bool {
	return w.Check == check && (w.Tenant == AllTenants || strings.EqualFold(w.Tenant, tenant))
}

// Set is the content of a waivers file. A nil *Set waives nothing. It is
// safe for concurrent use by Apply and Unused.
type Set struct {
	File    string
	waivers []Waiver

	mu   sync.Mutex
	used map[int]bool // index in waivers → it matched a result in some Apply call
}

// Waivers returns the entries in file order.
func (s *Set) Waivers() []Waiver {
	if s == nil {
		return nil
	}
	return slices.Clone(s.waivers)
}

// Error is a problem in a waivers file, e.g.
//
//	waivers.yaml:7: waivers[1].expires: "2027-13-01" is not a date (use YYYY-MM-DD)
type Error struct {
	File    string
	Line    int // 1-based; 0 when unknown
	Field   string
	Problem string
	Hint    string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Problem)
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads a waivers file. known reports whether a check id exists; ids,
// when given, are the catalogue's ids, listed in the error for an unknown
// check (known may then be nil). With neither, check ids are not validated.
func Load(path string, known func(id string) bool, ids ...string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		problem := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			problem = pe.Err.Error()
		}
		return nil, &Error{File: path, Problem: "cannot read the waivers file: " + problem, Err: err}
	}
	return Parse(path, data, known, ids...)
}

// entry is one waiver as written. Every field is a string so that the file's
// text, not YAML's typing, decides what is valid (2027-03-31 stays a date as
// written, 2027-13-01 is reported as such).
type entry struct {
	Check    string `yaml:"check"`
	Tenant   string `yaml:"tenant"`
	Resource string `yaml:"resource"`
	Reason   string `yaml:"reason"`
	Expires  string `yaml:"expires"`
}

type file struct {
	Waivers []entry `yaml:"waivers"`
}

var entryFields = []string{"check", "tenant", "resource", "reason", "expires"}

// Parse is Load on bytes already read; name is used in errors.
func Parse(name string, data []byte, known func(id string) bool, ids ...string) (*Set, error) {
	if known == nil && len(ids) > 0 {
		set := map[string]bool{}
		for _, id := range ids {
			set[id] = true
		}
		known = func(id string) bool { return set[id] }
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, data, nil, err)
	}
	s := &Set{File: name}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return s, nil // an empty file (or only comments) waives nothing
	}
	if len(f.Docs) > 1 {
		return nil, &Error{File: name, Line: line(f.Docs[1].Body), Problem: "only one YAML document is allowed",
			Hint: `remove the "---" separator`}
	}
	body := f.Docs[0].Body
	var doc file
	if err := yaml.NodeToValue(body, &doc, yaml.Strict()); err != nil {
		return nil, yamlError(name, data, body, err)
	}

	items := sequenceItems(body)
	var errs []error
	fail := func(i int, field string, problem, hint string) {
		path := fmt.Sprintf("waivers[%d]", i)
		ln := 0
		if i < len(items) {
			ln = line(items[i])
			if field != "" {
				if v := pairValue(items[i], field); v != nil {
					ln = line(v)
				}
			}
		}
		if field != "" {
			path += "." + field
		}
		errs = append(errs, &Error{File: name, Line: ln, Field: path, Problem: problem, Hint: hint})
	}
	type key struct{ check, tenant, resource string }
	seen := map[key]int{}
	for i, e := range doc.Waivers {
		w := Waiver{
			Check:    strings.TrimSpace(e.Check),
			Tenant:   strings.TrimSpace(e.Tenant),
			Resource: strings.TrimSpace(e.Resource),
			Reason:   strings.TrimSpace(e.Reason),
		}
		if i < len(items) {
			w.Line = line(items[i])
		}
		ok := true
		switch {
		case w.Check == "":
			fail(i, "check", "is required", "the id of the check, as `ticketguard policy list` shows it")
			ok = false
		case known != nil && !known(w.Check):
			fail(i, "check", fmt.Sprintf("unknown check %q", w.Check), unknownCheckHint(w.Check, ids))
			ok = false
		}
		if w.Tenant == "" {
			fail(i, "tenant", "is required", `a tenant name as in the snapshot's tenant.name, or "*" for every tenant`)
			ok = false
		}
		if w.Reason == "" {
			fail(i, "reason", "is required", "say why the failure is accepted, e.g. a ticket number; reports show it")
			ok = false
		}
		switch exp := strings.TrimSpace(e.Expires); {
		case exp == "":
			fail(i, "expires", "is required", "a date, YYYY-MM-DD: every waiver expires so that it gets reviewed")
			ok = false
		default:
			t, err := time.Parse(DateLayout, exp)
			if err != nil {
				fail(i, "expires", fmt.Sprintf("%q is not a date", exp), "use YYYY-MM-DD")
				ok = false
			}
			w.Expires = t
		}
		if !ok {
			continue
		}
		k := key{w.Check, strings.ToLower(w.Tenant), strings.ToLower(w.Resource)}
		if prev, dup := seen[k]; dup {
			fail(i, "", fmt.Sprintf("waives the same check, tenant and resource as waivers[%d]", prev),
				"keep one entry, with the reason and date that apply")
			continue
		}
		seen[k] = i
		s.waivers = append(s.waivers, w)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func unknownCheckHint(id string, ids []string) string {
	if len(ids) == 0 {
		return "`ticketguard policy list` shows the known check ids"
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	hint := "known checks: " + strings.Join(sorted, ", ")
	if c := suggest.Closest(id, sorted); c != "" {
		hint = fmt.Sprintf("did you mean %q? %s", c, hint)
	}
	return hint
}

// yamlError turns a go-yaml error into an Error with a line and, when the
// offending token is inside a waiver, the field.
func yamlError(name string, data []byte, body ast.Node, err error) *Error {
	e := &Error{File: name, Err: err, Problem: err.Error()}
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return e
	}
	tk := ye.GetToken()
	if tk != nil {
		e.Line = tk.Position.Line
	}
	e.Problem = ye.GetMessage()
	if body != nil && tk != nil {
		e.Field = fieldAt(body, tk)
	}
	var (
		unknown  *yaml.UnknownFieldError
		typeErr  *yaml.TypeError
		nodeType *yaml.UnexpectedNodeTypeError
		syntax   *yaml.SyntaxError
	)
	itemHint := func() {
		if strings.Count(e.Field, ".") == 0 && strings.HasPrefix(e.Field, "waivers[") {
			e.Hint = "each waiver is a mapping: check, tenant, resource, reason, expires"
		}
	}
	switch {
	case errors.As(err, &unknown):
		e.Problem = "unknown field"
		if e.Field == "" || !strings.Contains(e.Field, ".") {
			// At the top level: the only key is waivers.
			e.Field = tk.Value
			e.Hint = "the file has one key, waivers:, holding a list of waivers"
			break
		}
		e.Hint = "fields: " + strings.Join(entryFields, ", ")
		if c := suggest.Closest(tk.Value, entryFields); c != "" {
			e.Hint = fmt.Sprintf("did you mean %q? %s", c, e.Hint)
		}
	case errors.As(err, &typeErr):
		e.Problem = "must be " + describeType(typeErr.DstType)
		itemHint()
	case errors.As(err, &nodeType):
		switch nodeType.Expected {
		case ast.SequenceType:
			e.Problem = "must be a list of waivers"
		case ast.MappingType:
			e.Problem = "must be a mapping"
		case ast.StringType:
			e.Problem = "must be a string"
		default:
			e.Problem = "must be " + strings.ToLower(nodeType.Expected.String())
		}
		itemHint()
	case errors.As(err, &syntax):
		e.Problem = "invalid YAML: " + ye.GetMessage()
		switch {
		case strings.Contains(ye.GetMessage(), "alias") || bareStar.Match(sourceLine(data, e.Line)):
			e.Hint = `quote a lone *, as in tenant: "*": YAML reads a bare * as an alias`
		case strings.Contains(ye.GetMessage(), "'\t'"):
			e.Hint = "YAML does not allow tabs for indentation; use spaces"
		}
	default:
		e.Problem = "invalid YAML: " + ye.GetMessage()
	}
	return e
}

// bareStar matches a line such as `tenant: *`: YAML reads * as an alias.
var bareStar = regexp.MustCompile(`:\s*\*\s*(#.*)?$`)

func sourceLine(data []byte, n int) []byte {
	if n < 1 {
		return nil
	}
	lines := bytes.Split(data, []byte("\n"))
	if n > len(lines) {
		return nil
	}
	return bytes.TrimRight(lines[n-1], "\r")
}

func describeType(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of waivers"
	case reflect.Struct:
		return "a mapping"
	}
	return "a " + t.String()
}

// fieldAt names the field the token belongs to: waivers[2].expires, or
// waivers[2] when the token is the item itself, or "" outside the list.
func fieldAt(body ast.Node, tk *token.Token) string {
	waivers := pairValue(body, "waivers")
	if waivers == nil {
		return ""
	}
	if same(waivers.GetToken(), tk) {
		return "waivers"
	}
	for i, item := range sequenceItems(body) {
		for _, p := range pairs(item) {
			if same(p.Key.GetToken(), tk) || within(p.Value, tk) {
				return fmt.Sprintf("waivers[%d].%s", i, p.Key.GetToken().Value)
			}
		}
		if within(item, tk) {
			return fmt.Sprintf("waivers[%d]", i)
		}
	}
	return "waivers"
}

func same(a, b *token.Token) bool {
	return a != nil && b != nil && a.Position.Offset == b.Position.Offset && a.Position.Line == b.Position.Line
}

// within reports whether tk is node's token or the token of a node inside it.
func within(node ast.Node, tk *token.Token) bool {
	if node == nil {
		return false
	}
	found := false
	ast.Walk(visitFunc(func(n ast.Node) bool {
		if same(n.GetToken(), tk) {
			found = true
		}
		return !found
	}), node)
	return found
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if f(n) {
		return f
	}
	return nil
}

// pairs returns the key/value pairs of a mapping node.
func pairs(n ast.Node) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	return nil
}

func pairValue(n ast.Node, key string) ast.Node {
	for _, p := range pairs(n) {
		if p.Key.GetToken() != nil && p.Key.GetToken().Value == key {
			return p.Value
		}
	}
	return nil
}

// sequenceItems returns the nodes of the waivers list.
func sequenceItems(body ast.Node) []ast.Node {
	if seq, ok := pairValue(body, "waivers").(*ast.SequenceNode); ok {
		return seq.Values
	}
	return nil
}

func line(n ast.Node) int {
	if n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}
