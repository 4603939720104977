package snapshot

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/ticketguard/ticketguard/internal/suggest"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schema is the published JSON Schema of the snapshot format (draft 2020-12).
//
//go:embed snapshot.schema.json
var Schema []byte

// schemaURL is the schema's $id; it is only a name here, nothing is fetched.
const schemaURL = "https://github.com/ticketguard/ticketguard/blob/main/internal/snapshot/snapshot.schema.json"

// compiled compiles the embedded schema once per process.
var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		return nil, fmt.Errorf("snapshot schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat() // collected_at must really be a date-time
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("snapshot schema: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("snapshot schema: %w", err)
	}
	return sch, nil
})

// SupportedVersion is the snapshot schema_version this build reads.
const SupportedVersion = 1

// checkVersion runs before the schema so that a snapshot from another version
// gets one clear message instead of a list of schema complaints.
func checkVersion(file string, data []byte, doc map[string]any) *Error {
	v, ok := doc["schema_version"]
	path := []string{"schema_version"}
	if !ok {
		return &Error{File: file, Field: "schema_version", Problem: "is missing",
			Hint: fmt.Sprintf(`add "schema_version": %d at the top of the file`, SupportedVersion)}
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return (&Error{File: file, Field: "schema_version", Problem: fmt.Sprintf("must be the number %d, got %s", SupportedVersion, typeName(v)),
			Hint: fmt.Sprintf(`write "schema_version": %d`, SupportedVersion)}).withPosition(data, path)
	}
	if f, err := n.Float64(); err == nil && f == SupportedVersion {
		return nil
	}
	e := &Error{File: file, Field: "schema_version",
		Problem: fmt.Sprintf("version %s is not supported: this ticketguard reads version %d", n, SupportedVersion)}
	if f, err := n.Float64(); err == nil && f > SupportedVersion {
		e.Hint = "the snapshot was written for a newer ticketguard; upgrade ticketguard"
	} else {
		e.Hint = fmt.Sprintf(`write "schema_version": %d`, SupportedVersion)
	}
	return e.withPosition(data, path)
}

// validate checks doc against the schema and translates every violation into
// an Error naming the field and the problem in plain words.
func validate(file string, data []byte, doc any) []*Error {
	sch, err := compiled()
	if err != nil {
		// The schema is embedded and tested; failing here is a build defect.
		return []*Error{{File: file, Problem: "cannot validate: " + err.Error(), Err: err}}
	}
	err = sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []*Error{{File: file, Problem: err.Error(), Err: err}}
	}
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)

	type located struct {
		err *Error
		off int
	}
	var out []located
	seen := map[string]bool{}
	for _, leaf := range leaves {
		for _, t := range translate(file, doc, leaf) {
			key := t.Field + "\x00" + t.Problem
			if seen[key] {
				continue
			}
			seen[key] = true
			off, ok := locate(data, t.path)
			if ok {
				t.Line, t.Column = position(data, off)
			} else {
				off = len(data) + 1
			}
			out = append(out, located{t.Error, off})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].off < out[j].off })
	errs := make([]*Error, len(out))
	for i, l := range out {
		errs[i] = l.err
	}
	return errs
}

// collectLeaves gathers the errors that say what is wrong; the inner nodes
// ($ref, allOf, the root "doesn't validate") only say where to look.
func collectLeaves(ve *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	switch ve.ErrorKind.(type) {
	case *kind.PropertyNames:
		// Its cause is the pattern failure on the key, which says less.
		*out = append(*out, ve)
		return
	}
	if len(ve.Causes) == 0 {
		*out = append(*out, ve)
		return
	}
	for _, c := range ve.Causes {
		collectLeaves(c, out)
	}
}

type translated struct {
	*Error
	path []string // where to point in the file
}

var printer = message.NewPrinter(language.English)

// translate words one schema violation for a person.
func translate(file string, doc any, ve *jsonschema.ValidationError) []translated {
	loc := ve.InstanceLocation
	mk := func(path []string, problem, hint string) translated {
		return translated{&Error{File: file, Field: fieldPath(doc, path), Problem: problem, Hint: hint}, path}
	}
	def := schemaDef(ve.SchemaURL)
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		want, hint := expected(def, k.Want)
		return []translated{mk(loc, fmt.Sprintf("must be %s, got %s", want, k.Got), hint)}
	case *kind.Required:
		var out []translated
		for _, m := range k.Missing {
			p := append(slices.Clone(loc), m)
			t := mk(p, "is required", requiredHint(p))
			t.path = loc // point at the object that lacks it
			out = append(out, t)
		}
		return out
	case *kind.AdditionalProperties:
		var out []translated
		for _, prop := range k.Properties {
			p := append(slices.Clone(loc), prop)
			problem, hint := unknownKey(loc, prop)
			out = append(out, mk(p, problem, hint))
		}
		return out
	case *kind.PropertyNames:
		// jsonschema v6.0.3 stores this error's InstanceLocation without
		// copying it, so it may have been overwritten; the schema location
		// says which object it is.
		parent, ok := propertiesPath(ve.SchemaURL, "propertyNames")
		if !ok {
			parent = loc
		}
		p := append(slices.Clone(parent), k.Property)
		problem, hint := unknownKey(parent, k.Property)
		return []translated{mk(p, problem, hint)}
	case *kind.Format:
		if k.Want == "date-time" {
			return []translated{mk(loc, fmt.Sprintf("%q is not a date-time", fmt.Sprint(k.Got)),
				"use RFC 3339, e.g. 2026-11-27T06:00:00Z")}
		}
		return []translated{mk(loc, fmt.Sprintf("%q is not a valid %s", fmt.Sprint(k.Got), k.Want), "")}
	case *kind.Pattern:
		if hint, ok := addressFields[strings.Join(loc, "/")]; ok {
			return []translated{mk(loc, fmt.Sprintf("%q is not an e-mail address", k.Got), hint)}
		}
	case *kind.Minimum:
		return []translated{mk(loc, fmt.Sprintf("must be at least %s, got %s", k.Want.RatString(), k.Got.RatString()), "")}
	case *kind.Maximum:
		return []translated{mk(loc, fmt.Sprintf("must be at most %s, got %s", k.Want.RatString(), k.Got.RatString()), "")}
	case *kind.MinLength:
		if k.Want == 1 {
			return []translated{mk(loc, "must not be empty", "")}
		}
	case *kind.Const:
		return []translated{mk(loc, fmt.Sprintf("must be %v, got %v", k.Want, k.Got), "")}
	}
	// Anything else: the library's own wording, still with the field.
	return []translated{mk(loc, ve.ErrorKind.LocalizedString(printer), "")}
}

// propertiesPath turns a schema location such as
// ".../schema.json#/properties/exchange/propertyNames" into the instance path
// it applies to (["exchange"]); ok is false for any other shape.
func propertiesPath(url, keyword string) ([]string, bool) {
	_, frag, found := strings.Cut(url, "#")
	if !found {
		return nil, false
	}
	frag, found = strings.CutSuffix(frag, "/"+keyword)
	if !found {
		return nil, false
	}
	var path []string
	segs := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	if frag == "" {
		segs = nil
	}
	for i := 0; i < len(segs); i += 2 {
		if segs[i] != "properties" || i+1 >= len(segs) {
			return nil, false
		}
		path = append(path, strings.ReplaceAll(strings.ReplaceAll(segs[i+1], "~1", "/"), "~0", "~"))
	}
	return path, true
}

// schemaDef returns the $defs name the failing keyword belongs to, if any.
func schemaDef(url string) string {
	_, frag, ok := strings.Cut(url, "#/$defs/")
	if !ok {
		return ""
	}
	name, rest, _ := strings.Cut(frag, "/")
	if strings.HasPrefix(rest, "items") || strings.HasPrefix(rest, "additionalProperties") {
		return name + "/" + strings.SplitN(rest, "/", 2)[0]
	}
	return name
}

// expected words a type constraint, using what the schema location means.
func expected(def string, want []string) (phrase, hint string) {
	switch def {
	case "listCmdlet":
		return "an array of objects or a single object",
			"paste the cmdlet's output as JSON (Get-X | ConvertTo-Json -Depth 10), or remove the key if it was not collected"
	case "listCmdlet/items":
		return "an object (one result of the cmdlet)",
			"each element is one object as the cmdlet returns it"
	case "perRecipient":
		return "an object keyed by the recipient's primary SMTP address",
			`e.g. "Get-InboxRule": {"support@acme.com": [ ...rules... ]}`
	}
	words := make([]string, 0, len(want))
	for _, w := range want {
		switch w {
		case "null":
			words = append(words, "null")
		case "array":
			words = append(words, "an array")
		case "object":
			words = append(words, "an object")
		case "integer":
			words = append(words, "an integer")
		case "boolean":
			words = append(words, "true or false")
		default:
			words = append(words, "a "+w)
		}
	}
	switch len(words) {
	case 0:
		return "something else", ""
	case 1:
		return words[0], ""
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1], ""
}

// addressFields are the schema's address patterns, with what to write instead.
var addressFields = map[string]string{
	"atera/ticketing_address": "write Atera's ticketing address in full, e.g. acme@ticketing.atera.com, as Atera shows it under Admin > Email settings",
	"atera/support_address":   "write the support address in full, e.g. support@acme.com",
}

func requiredHint(path []string) string {
	switch strings.Join(path, "/") {
	case "tenant":
		return `add "tenant": {"name": "acme"}`
	case "tenant/name":
		return `name the tenant, e.g. "name": "acme"; waivers and reports refer to it`
	case "atera/smtp/server", "atera/smtp/port", "atera/smtp/ssl", "atera/smtp/username":
		return `a custom SMTP server needs server, port, ssl and username, as in Atera's email settings; write "smtp": null when Atera sends from its default address`
	}
	if len(path) == 3 && path[0] == "errors" {
		return `each error is {"source": "Get-X", "message": "..."}`
	}
	return ""
}

var knownTop = []string{"$schema", "schema_version", "tenant", "collected_at", "atera", "exchange", "errors", "graph", "atera_api", "smtp_probe", "collection"}

// unknownKey words an unexpected key under parent and suggests the closest
// known one, because the usual cause is a typo or wrong case.
func unknownKey(parent []string, key string) (problem, hint string) {
	where := strings.Join(parent, "/")
	var known []string
	switch where {
	case "":
		known = knownTop
	case "tenant":
		known = []string{"name", "tenant_id", "default_domain"}
	case "atera":
		known = []string{"ticketing_address", "support_address", "customer_id", "smtp"}
	case "atera/smtp":
		if strings.Contains(strings.ToLower(key), "password") || strings.Contains(strings.ToLower(key), "secret") {
			return "a password does not belong in a snapshot",
				"remove it: ticketguard audits the settings without it, and snapshots are shared and stored"
		}
		known = []string{"server", "port", "ssl", "username"}
	case "exchange":
		s := suggest.Closest(key, knownCmdlets())
		if s == "" {
			s = cmdletIn(key) // "MailContact", "Get-Mailbox -ResultSize Unlimited"
		}
		if s != "" {
			return "unknown key", fmt.Sprintf("did you mean %q? keys under exchange are cmdlet names", s)
		}
		return "unknown key", "keys under exchange are Exchange cmdlet names such as Get-Mailbox"
	}
	if s := suggest.Closest(key, known); s != "" {
		return "unknown key", fmt.Sprintf("did you mean %q?", s)
	}
	if len(known) > 0 {
		return "unknown key", "known keys: " + strings.Join(known, ", ")
	}
	return "unknown key", ""
}
