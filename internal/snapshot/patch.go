package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

// Patch is an RFC 6902 JSON Patch read from a --patch file. Its paths refer to
// the snapshot file as written (before normalisation).
type Patch struct {
	File  string
	ops   []patchOp
	patch jsonpatch.Patch
}

type patchOp struct {
	Op, Path, From string
	Line, Column   int
}

func (o patchOp) String() string {
	if o.Op == "move" || o.Op == "copy" {
		return fmt.Sprintf("%s %s to %s", o.Op, o.From, o.Path)
	}
	return o.Op + " " + o.Path
}

// Ops describes the operations for a report header, e.g.
// "replace /exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode".
func (p *Patch) Ops() []string {
	out := make([]string, len(p.ops))
	for i, op := range p.ops {
		out[i] = op.String()
	}
	return out
}

// LoadPatch reads a JSON Patch file and checks that it is one: an array of
// operations, each with a known op, valid JSON Pointers and the members the op
// needs. Errors name the file and the index of the operation.
func LoadPatch(path string) (*Patch, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Problem: readProblem(err), Err: err}
	}
	return ParsePatch(path, data)
}

var opMembers = map[string][]string{
	"add":     {"path", "value"},
	"remove":  {"path"},
	"replace": {"path", "value"},
	"move":    {"from", "path"},
	"copy":    {"from", "path"},
	"test":    {"path", "value"},
}

// ParsePatch is LoadPatch on bytes already read; name is used in errors.
func ParsePatch(name string, data []byte) (*Patch, error) {
	text, encErr := decodeText(name, data)
	if encErr != nil {
		return nil, encErr
	}
	raw, perr := decodeJSON(name, text)
	if perr != nil {
		return nil, perr
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, (&Error{File: name, Problem: "a JSON Patch must be an array of operations, got " + typeName(raw),
			Hint: `e.g. [{"op": "replace", "path": "/exchange/Get-HostedOutboundSpamFilterPolicy/0/AutoForwardingMode", "value": "Automatic"}]`}).
			withPosition(text, nil)
	}
	if len(list) == 0 {
		return nil, (&Error{File: name, Problem: "the patch has no operations"}).withPosition(text, nil)
	}
	p := &Patch{File: name}
	var errs []*Error
	fail := func(path []string, problem, hint string) {
		e := &Error{File: name, Field: fieldPath(raw, path), Problem: problem, Hint: hint}
		errs = append(errs, e.withPosition(text, path))
	}
	for i, item := range list {
		idx := strconv.Itoa(i)
		m, ok := item.(map[string]any)
		if !ok {
			fail([]string{idx}, "an operation must be an object, got "+typeName(item), "")
			continue
		}
		opName, ok := m["op"].(string)
		need, known := opMembers[opName]
		switch {
		case m["op"] == nil:
			fail([]string{idx}, `"op" is missing`, "use add, remove, replace, move, copy or test")
			continue
		case !ok || !known:
			fail([]string{idx, "op"}, fmt.Sprintf("unknown op %s", compact(m["op"])), "use add, remove, replace, move, copy or test")
			continue
		}
		op := patchOp{Op: opName}
		if off, ok := locate(text, []string{idx}); ok {
			op.Line, op.Column = position(text, off)
		}
		bad := false
		for _, member := range need {
			v, present := m[member]
			if !present {
				fail([]string{idx}, fmt.Sprintf("%q needs %q", opName, member), "")
				bad = true
				continue
			}
			if member == "value" {
				continue
			}
			s, isStr := v.(string)
			if !isStr {
				fail([]string{idx, member}, fmt.Sprintf("%q must be a string (a JSON Pointer), got %s", member, typeName(v)), "")
				bad = true
				continue
			}
			if problem := checkPointer(s); problem != "" {
				fail([]string{idx, member}, fmt.Sprintf("%q is not a JSON Pointer: %s", s, problem),
					`a pointer starts with "/", e.g. /exchange/Get-Mailbox/0/ForwardingSmtpAddress; write ~1 for "/" and ~0 for "~" in a key`)
				bad = true
				continue
			}
			if member == "path" {
				op.Path = s
			} else {
				op.From = s
			}
		}
		if !bad {
			p.ops = append(p.ops, op)
		}
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	jp, err := jsonpatch.DecodePatch(text)
	if err != nil {
		// Everything DecodePatch checks was checked above; keep its word anyway.
		return nil, &Error{File: name, Problem: "not a valid JSON Patch: " + err.Error(), Err: err}
	}
	p.patch = jp
	return p, nil
}

// checkPointer validates an RFC 6901 JSON Pointer.
func checkPointer(s string) string {
	if s == "" {
		return ""
	}
	if s[0] != '/' {
		return `it must start with "/"`
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '~' && (i+1 == len(s) || (s[i+1] != '0' && s[i+1] != '1')) {
			return `"~" must be followed by 0 or 1`
		}
	}
	return ""
}

func applyOptions() *jsonpatch.ApplyOptions {
	o := jsonpatch.NewApplyOptions()
	// A path that does not exist is a mistake in the patch (or a snapshot
	// that is not what the author thought): fail rather than guess.
	o.EnsurePathExistsOnAdd = false
	o.AllowMissingPathOnRemove = false
	o.SupportNegativeIndices = false
	o.EscapeHTML = false
	return o
}

// Apply applies the patch to a snapshot (name is the snapshot's file, for
// errors) and returns the patched document, to be given to Parse. An
// operation that does not apply is an error naming the patch file, the
// operation's index, op and path, and why.
func (p *Patch) Apply(name string, snapshot []byte) ([]byte, error) {
	text, encErr := decodeText(name, snapshot)
	if encErr != nil {
		return nil, encErr
	}
	// Decode first: a broken snapshot is the snapshot's problem, reported as such.
	if _, perr := decodeJSON(name, text); perr != nil {
		return nil, perr
	}
	opts := applyOptions()
	out, err := p.patch.ApplyWithOptions(text, opts)
	if err == nil {
		return out, nil
	}
	// Find the operation that failed by replaying one at a time: only on the
	// error path, so the usual case costs one pass.
	doc := text
	for i, op := range p.patch {
		next, err := jsonpatch.Patch{op}.ApplyWithOptions(doc, opts)
		if err != nil {
			return nil, p.opError(i, name, doc, err)
		}
		doc = next
	}
	// Unreachable unless the library disagrees with itself; still an error.
	return nil, &Error{File: p.File, Problem: fmt.Sprintf("does not apply to %s: %v", name, err), Err: err}
}

func (p *Patch) opError(i int, target string, doc []byte, err error) *Error {
	op := p.ops[i]
	e := &Error{File: p.File, Field: fmt.Sprintf("[%d]", i), Line: op.Line, Column: op.Column, Err: err}
	prefix := fmt.Sprintf("op %d (%s) does not apply to %s: ", i, op, target)
	switch {
	case errors.Is(err, jsonpatch.ErrTestFailed):
		actual := "there is no value at that path"
		if v, perr := decodeJSON(target, doc); perr == nil {
			if got, ok := lookupPointer(v, op.Path); ok {
				actual = "the value there is " + compact(got)
			}
		}
		e.Problem = fmt.Sprintf("op %d (%s) failed on %s: %s", i, op, target, actual)
		e.Hint = "the snapshot is not in the state the patch expects; update the test op or the snapshot"
	case errors.Is(err, jsonpatch.ErrMissing), errors.Is(err, jsonpatch.ErrInvalidIndex):
		e.Problem = prefix + "the path does not exist"
		if v, perr := decodeJSON(target, doc); perr == nil {
			ptr := op.Path
			if op.Op == "move" || op.Op == "copy" {
				if _, ok := lookupPointer(v, op.From); !ok {
					ptr = op.From
				}
			}
			parentOnly := ptr == op.Path && (op.Op == "add" || op.Op == "move" || op.Op == "copy")
			if why := explainMissing(v, ptr, parentOnly); why != "" {
				e.Problem = prefix + why
			}
		}
		e.Hint = "paths refer to the snapshot file as written: key names are case-sensitive, and a cmdlet holding a single object (not an array) has no /0"
	default:
		e.Problem = prefix + err.Error()
	}
	return e
}

// explainMissing says where ptr stops resolving in doc, e.g.
// "/exchange/Get-DistributionGroup is an object, not an array". For add (and
// a move/copy target) only the parent must exist; parentOnly says so.
func explainMissing(doc any, ptr string, parentOnly bool) string {
	if ptr == "" {
		return ""
	}
	toks := strings.Split(ptr[1:], "/")
	cur, at := doc, ""
	for i, tok := range toks {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		last := i == len(toks)-1
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				if last && parentOnly {
					return ""
				}
				msg := fmt.Sprintf("%s has no key %q", orRoot(at), tok)
				for k := range v {
					if strings.EqualFold(k, tok) {
						msg += fmt.Sprintf(" (there is %q)", k)
						break
					}
				}
				if _, err := strconv.Atoi(tok); err == nil || tok == "-" {
					msg = fmt.Sprintf("%s is an object, not an array", orRoot(at))
				}
				return msg
			}
			cur = next
		case []any:
			if last && parentOnly && (tok == "-" || tok == strconv.Itoa(len(v))) {
				return "" // appending is fine
			}
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n >= len(v) {
				return fmt.Sprintf("%s has %d elements; there is no element %q", orRoot(at), len(v), tok)
			}
			cur = v[n]
		default:
			return fmt.Sprintf("%s is %s, not an object or array", orRoot(at), typeName(cur))
		}
		at += "/" + strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
	}
	return ""
}

func orRoot(ptr string) string {
	if ptr == "" {
		return "the document"
	}
	return ptr
}

// lookupPointer resolves an RFC 6901 pointer in a decoded document.
func lookupPointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// compact renders a value for a message, shortened.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
