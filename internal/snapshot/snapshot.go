// Package snapshot reads tenant snapshots: the JSON documents, one per tenant,
// that hold a tenant's Exchange Online settings as Exchange returns them and
// its declared Atera e-mail settings. It validates them against the published
// JSON Schema (snapshot.schema.json), reports problems with file, line and
// field, and normalises them into the Rego input's `snapshot` as
// docs/DESIGN.md specifies. It also applies --patch files (RFC 6902).
package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ticketguard/ticketguard/internal/result"
)

// Document is one parsed, validated and normalised snapshot.
type Document struct {
	Path        string // as given by the user
	Name        string // tenant.name
	TenantID    string
	CollectedAt time.Time // zero when the snapshot does not say
	Errors      []result.SourceError
	// Data is the normalised snapshot: the Rego input's `snapshot`. Numbers are
	// json.Number so that integers beyond int64 (inbox RuleIdentity) survive.
	Data map[string]any
}

// Load reads and parses the snapshot file at path.
func Load(path string) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Problem: readProblem(err), Err: err}
	}
	return Parse(path, data)
}

func readProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse parses a snapshot; name is used in errors and as Document.Path.
// Every error is an *Error, or several joined with errors.Join.
func Parse(name string, data []byte) (*Document, error) {
	text, encErr := decodeText(name, data)
	if encErr != nil {
		return nil, encErr
	}
	if len(bytes.TrimSpace(text)) == 0 {
		return nil, &Error{File: name, Problem: "the file is empty", Hint: "export the snapshot again"}
	}
	raw, perr := decodeJSON(name, text)
	if perr != nil {
		return nil, perr
	}
	root, ok := raw.(map[string]any)
	if !ok {
		return nil, (&Error{File: name, Problem: "a snapshot must be a JSON object, got " + typeName(raw),
			Hint: "one snapshot is one JSON object per tenant, starting with {"}).withPosition(text, nil)
	}
	if verr := checkVersion(name, text, root); verr != nil {
		return nil, verr
	}
	if errs := validate(name, text, raw); len(errs) > 0 {
		return nil, joinErrors(errs)
	}

	n := &normaliser{file: name, data: text, doc: raw}
	norm := n.normalise(root)
	if len(n.errs) > 0 {
		return nil, joinErrors(n.errs)
	}

	doc := &Document{Path: name, Data: norm}
	if t, ok := root["tenant"].(map[string]any); ok {
		doc.Name, _ = t["name"].(string)
		doc.TenantID, _ = t["tenant_id"].(string)
	}
	if s, ok := root["collected_at"].(string); ok {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			e := &Error{File: name, Field: "collected_at", Problem: fmt.Sprintf("%q is not a date-time", s),
				Hint: "use RFC 3339, e.g. 2026-11-27T06:00:00Z", Err: err}
			return nil, e.withPosition(text, []string{"collected_at"})
		}
		doc.CollectedAt = t
	}
	if list, ok := root["errors"].([]any); ok {
		for _, item := range list {
			m, _ := item.(map[string]any)
			src, _ := m["source"].(string)
			msg, _ := m["message"].(string)
			doc.Errors = append(doc.Errors, result.SourceError{Source: src, Message: msg})
		}
	}
	return doc, nil
}

// decodeJSON decodes exactly one JSON value, numbers as json.Number.
func decodeJSON(name string, text []byte) (any, *Error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, syntaxError(name, text, err)
	}
	off := int(dec.InputOffset())
	rest := bytes.TrimLeft(text[off:], " \t\r\n")
	if len(rest) > 0 {
		e := &Error{File: name, Problem: "invalid JSON: unexpected data after the end of the snapshot",
			Hint: "a file holds one snapshot; put each tenant in its own file"}
		e.Line, e.Column = position(text, len(text)-len(rest))
		return nil, e
	}
	return v, nil
}

// decodeText returns data as UTF-8 without a byte-order mark. Windows
// PowerShell writes UTF-16 (Out-File, >) or UTF-8 with a BOM (Set-Content
// -Encoding UTF8) by default, and snapshots are often built there by hand.
func decodeText(name string, data []byte) ([]byte, *Error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		big := data[0] == 0xFE
		body := data[2:]
		if len(body)%2 != 0 {
			return nil, &Error{File: name, Problem: "the file is UTF-16 with an odd number of bytes",
				Hint: "the file looks truncated; re-export it"}
		}
		u := make([]uint16, len(body)/2)
		for i := range u {
			if big {
				u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
			} else {
				u[i] = uint16(body[2*i+1])<<8 | uint16(body[2*i])
			}
		}
		return []byte(string(utf16.Decode(u))), nil
	}
	if !utf8.Valid(data) {
		return nil, &Error{File: name, Problem: "the file is not UTF-8 text",
			Hint: "save it as UTF-8 (PowerShell: ... | Set-Content -Encoding utf8 FILE)"}
	}
	return data, nil
}

// Expand turns the command-line arguments into snapshot files: a file is
// taken as is, a directory contributes its *.json files (sorted, not
// recursive, hidden files skipped). A missing path, or a directory without
// snapshots, is an error: a CI run must not pass because it read nothing.
func Expand(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("no snapshot given: pass snapshot files or directories")
	}
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		key := filepath.Clean(p)
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, &Error{File: p, Problem: readProblem(err), Err: err}
		}
		if !info.IsDir() {
			add(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, &Error{File: p, Problem: "cannot read directory: " + readProblem(err), Err: err}
		}
		var found []string
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || !strings.EqualFold(filepath.Ext(name), ".json") {
				continue
			}
			full := filepath.Join(p, name)
			// Follow symlinks; skip sub-directories that happen to end in .json.
			// A broken link is kept so that Load reports it.
			if fi, err := os.Stat(full); err == nil && fi.IsDir() {
				continue
			}
			found = append(found, full)
		}
		if len(found) == 0 {
			return nil, &Error{File: p, Problem: "the directory holds no snapshot (*.json)"}
		}
		sort.Strings(found)
		for _, f := range found {
			add(f)
		}
	}
	return out, nil
}
