package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a problem with a snapshot or patch file, worded for the person who
// has to fix the file: which file, where, what is wrong and what to do.
//
//	acme.json:14:3: invalid JSON: unexpected end of input (the file looks truncated; re-export it)
//	acme.json:5:5: exchange.Get-Mailbox: must be an array of objects or a single object, got string (...)
type Error struct {
	File string
	// Field is the path of the offending value, e.g. `exchange.Get-Mailbox` or
	// `errors[0].source`; empty when the problem is the whole file.
	Field string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	Problem      string
	Hint         string
	// Err is the underlying error, if any (e.g. fs.ErrNotExist).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// maxErrors caps how many schema problems one file reports: enough to fix a
// file in one pass, not so many that a wrong file buries the terminal.
const maxErrors = 10

// joinErrors returns nil, the single *Error, or all of them joined (each still
// reachable with errors.As).
func joinErrors(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	list := make([]error, 0, len(errs)+1)
	for i, e := range errs {
		if i == maxErrors {
			list = append(list, fmt.Errorf("%s: ... and %d more problems", e.File, len(errs)-maxErrors))
			break
		}
		list = append(list, e)
	}
	return errors.Join(list...)
}

// position converts a byte offset into a 1-based line and column. Columns count
// characters, not bytes, as editors do.
func position(data []byte, offset int) (line, col int) {
	if offset < 0 {
		offset = 0
	}
	if offset > len(data) {
		offset = len(data)
	}
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col = utf8.RuneCount(before[lineStart:]) + 1
	return line, col
}

// syntaxError turns a decoding error into an Error with a position and, for the
// mistakes people make when editing JSON by hand, a hint.
func syntaxError(file string, data []byte, err error) *Error {
	e := &Error{File: file, Err: err}
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		e.Line, e.Column = position(data, len(data))
		e.Problem = "invalid JSON: unexpected end of input"
		e.Hint = "the file looks truncated; re-export it"
	case errors.As(err, &se):
		off := int(se.Offset)
		// Offset counts the bytes read including the offending one; point at it.
		if off > 0 && off <= len(data) {
			off--
		}
		e.Line, e.Column = position(data, off)
		msg := strings.TrimPrefix(se.Error(), "json: ")
		if off >= len(data)-1 && strings.Contains(msg, "end of JSON input") {
			e.Problem = "invalid JSON: unexpected end of input"
			e.Hint = "the file looks truncated; re-export it"
			e.Line, e.Column = position(data, len(data))
			return e
		}
		e.Problem = "invalid JSON: " + msg
		e.Hint = syntaxHint(data, off)
	default:
		e.Problem = "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	return e
}

func syntaxHint(data []byte, off int) string {
	if off < 0 || off >= len(data) {
		return ""
	}
	c := data[off]
	prev := bytes.TrimRight(data[:off], " \t\r\n")
	switch {
	case (c == '}' || c == ']') && len(prev) > 0 && prev[len(prev)-1] == ',':
		return "remove the trailing comma: JSON does not allow one"
	case c == '\'':
		return "JSON strings use double quotes"
	case c == '/' || c == '#':
		return "JSON does not allow comments"
	case c == '"' && len(prev) > 0 && (prev[len(prev)-1] == '"' || prev[len(prev)-1] == '}' || prev[len(prev)-1] == ']'):
		return "a comma is missing between two values"
	}
	return ""
}

// locate returns the byte offset in data where the value at path starts (for
// an object member: where its key starts, the line a person looks for). The
// walk is a second pass made only when reporting an error, so it favours
// simplicity over speed. ok is false when the path is not found.
func locate(data []byte, path []string) (offset int, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var found = -1
	var walk func(depth int, matching bool) error
	// start is the offset of the next token, skipping separators.
	start := func() int {
		off := int(dec.InputOffset())
		for off < len(data) {
			switch data[off] {
			case ' ', '\t', '\r', '\n', ',', ':':
				off++
				continue
			}
			break
		}
		return off
	}
	walk = func(depth int, matching bool) error {
		at := start()
		if matching && depth == len(path) && found < 0 {
			found = at
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		delim, isDelim := tok.(json.Delim)
		if !isDelim {
			return nil
		}
		deeper := matching && depth < len(path)
		switch delim {
		case '{':
			for dec.More() {
				keyAt := start()
				ktok, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := ktok.(string)
				m := deeper && path[depth] == key
				if m && depth+1 == len(path) && found < 0 {
					found = keyAt
				}
				if err := walk(depth+1, m); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				m := deeper && path[depth] == strconv.Itoa(i)
				if err := walk(depth+1, m); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // closing delimiter
		return err
	}
	_ = walk(0, true)
	return found, found >= 0
}

var simpleKey = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$-]*$`)

// fieldPath renders a JSON location as people write it: exchange.Get-Mailbox,
// errors[0].source, exchange.Get-InboxRule["support@acme.com"]. doc is the
// decoded document, used to tell array indices from object keys.
func fieldPath(doc any, path []string) string {
	var b strings.Builder
	cur := doc
	for _, tok := range path {
		switch v := cur.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(v) {
				cur = v[i]
			} else {
				cur = nil
			}
			continue
		case map[string]any:
			cur = v[tok]
		default:
			cur = nil
		}
		if simpleKey.MatchString(tok) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
		} else {
			b.WriteString("[" + strconv.Quote(tok) + "]")
		}
	}
	return b.String()
}

// withPosition fills Line/Column for the value at path, when it can be found.
func (e *Error) withPosition(data []byte, path []string) *Error {
	if off, ok := locate(data, path); ok {
		e.Line, e.Column = position(data, off)
	}
	return e
}

// typeName names a decoded JSON value's type the way the schema does.
func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil || !strings.ContainsAny(v.String(), ".eE") {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
