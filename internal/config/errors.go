package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Error is one problem in a configuration file. Its text is
// "FILE:LINE: FIELD: MESSAGE", e.g.
//
//	ticketguard.yaml:14: tenants[1].client_secret: secrets are never written inline; use {env: NAME} or {file: PATH}
//
// Messages never quote the value of a secret field.
type Error struct {
	File  string // the name given to Parse or Load
	Line  int    // 1-based; 0 when the problem has no place (an empty file)
	Field string // e.g. "tenants[1].client_secret"; empty for the whole file
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinErrors sorts the problems by line and joins them, one per line of the
// error's text; errors.As finds each *Error.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	if len(errs) == 1 {
		return errs[0]
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

// fieldOf turns a YAML path ("$.tenants[1].client_secret") into the field
// name errors show ("tenants[1].client_secret").
func fieldOf(path string) string {
	if path == "$" || path == "" {
		return ""
	}
	return strings.TrimPrefix(path, "$.")
}

// nodeError is how this package's own YAML unmarshalers report a problem:
// the node gives the line and the field.
func nodeError(node ast.Node, format string, args ...any) *Error {
	e := &Error{Field: fieldOf(node.GetPath()), Msg: fmt.Sprintf(format, args...)}
	if tk := node.GetToken(); tk != nil && tk.Position != nil {
		e.Line = tk.Position.Line
	}
	return e
}

// problems collects what the Secret unmarshaler finds while decoding goes
// on, so one run reports every bad secret reference along with the rest.
type problems struct{ errs []error }

type problemsKey struct{}

func (p *problems) add(err error) { p.errs = append(p.errs, err) }

// document indexes the parsed YAML by path so decoding and validation errors
// can name the line of any field.
type document struct {
	file    string
	data    []byte
	body    ast.Node
	lines   map[string]int // path -> line of its key (or of the node itself for list items)
	nodes   map[string]ast.Node
	byToken map[*token.Token]string
}

func newDocument(file string, data []byte, body ast.Node) *document {
	d := &document{file: file, data: data, body: body, lines: map[string]int{}, nodes: map[string]ast.Node{}, byToken: map[*token.Token]string{}}
	ast.Walk(d, body)
	return d
}

// Visit implements ast.Visitor.
func (d *document) Visit(n ast.Node) ast.Visitor {
	if n == nil {
		return d
	}
	path := n.GetPath()
	if tk := n.GetToken(); tk != nil {
		if _, ok := d.byToken[tk]; !ok {
			d.byToken[tk] = path
		}
	}
	if mv, ok := n.(*ast.MappingValueNode); ok {
		// The key's line, not the value's: a flow or block value may start
		// on another line, and people look for the key.
		if _, seen := d.lines[path]; !seen {
			d.lines[path] = lineOf(mv.Key)
			d.nodes[path] = mv.Value
		}
		return d
	}
	if _, seen := d.lines[path]; !seen && path != "" {
		d.lines[path] = lineOf(n)
		d.nodes[path] = n
	}
	return d
}

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// line is the line of path, or of its closest written ancestor when the
// field itself is absent (a required field reports the block that lacks it).
func (d *document) line(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		parent := parentPath(path)
		if parent == path {
			return 1
		}
		path = parent
	}
}

func parentPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i > 0 {
		return path[:i]
	}
	return path
}

// isNull reports whether path is written with a null value (`smtp: null` or
// `smtp:`), as opposed to absent.
func (d *document) isNull(path string) bool {
	n, ok := d.nodes[path]
	return ok && (n == nil || n.Type() == ast.NullType)
}

func (d *document) present(path string) bool {
	_, ok := d.nodes[path]
	return ok
}

// errorAt builds an *Error for path.
func (d *document) errorAt(path, format string, args ...any) *Error {
	return &Error{File: d.file, Line: d.line(path), Field: fieldOf(path), Msg: fmt.Sprintf(format, args...)}
}

// decodeError turns an error from go-yaml into an *Error with this file's
// name, the line and the field, in words rather than Go types.
func (d *document) decodeError(err error) *Error {
	var own *Error
	if errors.As(err, &own) {
		own.File = d.file
		// The key's line, which the unmarshaler could not see.
		if l, ok := d.lines["$."+own.Field]; ok && own.Field != "" {
			own.Line = l
		}
		return own
	}
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return &Error{File: d.file, Msg: err.Error()}
	}
	e := &Error{File: d.file, Msg: goccyPosition.ReplaceAllString(ye.GetMessage(), "line $1")}
	path := ""
	if tk := ye.GetToken(); tk != nil {
		if tk.Position != nil {
			e.Line = tk.Position.Line
		}
		path = d.pathOfToken(tk)
		e.Field = fieldOf(path)
	}
	var (
		unknown  *yaml.UnknownFieldError
		typ      *yaml.TypeError
		overflow *yaml.OverflowError
		node     *yaml.UnexpectedNodeTypeError
	)
	switch {
	case errors.As(err, &unknown):
		e.Msg = "unknown field"
		if known := knownFields(parentPath(path)); len(known) > 0 {
			e.Msg += "; expected one of: " + strings.Join(known, ", ")
		}
	case errors.As(err, &typ):
		e.Msg = fmt.Sprintf("expected %s, got %s", kindName(typ.DstType), kindName(typ.SrcType))
	case errors.As(err, &overflow):
		e.Msg = fmt.Sprintf("number out of range for %s", kindName(overflow.DstType))
	case errors.As(err, &node):
		e.Msg = fmt.Sprintf("expected %s, got %s", nodeKind(node.Expected), nodeKind(node.Actual))
	default:
		// go-yaml's other messages (syntax, aliases) may quote the text,
		// and on a secret field's line the text may be a pasted secret.
		if holdsSecret(d.data, e.Line) {
			e.Msg = "invalid YAML (details withheld: this line belongs to a secret field)"
		}
	}
	return e
}

var secretKey = regexp.MustCompile(`^\s*(-\s+)?["']?(client_secret|certificate|certificate_password|smtp_password|api_key|bot_token|webhook_url)["']?\s*:`)

// holdsSecret reports whether line (1-based) of data is a secret field's.
func holdsSecret(data []byte, line int) bool {
	lines := strings.Split(string(data), "\n")
	return line >= 1 && line <= len(lines) && secretKey.MatchString(lines[line-1])
}

// goccyPosition is go-yaml's "[line:column]" inside messages such as
// `mapping key "version" already defined at [1:1]`.
var goccyPosition = regexp.MustCompile(`\[(\d+):\d+\]`)

func (d *document) pathOfToken(tk *token.Token) string {
	if p, ok := d.byToken[tk]; ok {
		return p
	}
	// go-yaml sometimes reports a copy of the token: fall back to its position.
	for t, p := range d.byToken {
		if t.Position != nil && tk.Position != nil && t.Position.Line == tk.Position.Line && t.Position.Column == tk.Position.Column {
			return p
		}
	}
	return ""
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "nothing"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return t.String()
}

func nodeKind(t ast.NodeType) string {
	switch t {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.NullType:
		return "null"
	}
	return "a " + strings.ToLower(t.YAMLName())
}

// knownFields lists the keys allowed at a YAML path, read from the file
// types' yaml tags, so an unknown-field error can say what was meant.
func knownFields(path string) []string {
	t := reflect.TypeOf(fileConfig{})
	rest := strings.TrimPrefix(path, "$")
	for rest != "" {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case strings.HasPrefix(rest, "["):
			end := strings.IndexByte(rest, ']')
			if end < 0 || t.Kind() != reflect.Slice {
				return nil
			}
			t, rest = t.Elem(), rest[end+1:]
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			key := rest[:end]
			rest = rest[end:]
			if t.Kind() != reflect.Struct {
				return nil
			}
			f, ok := fieldByTag(t, key)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(Secret{}) {
		return []string{"env", "file"} // decoded by Secret.UnmarshalYAML, not by tags
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if tag := yamlName(t.Field(i)); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}
