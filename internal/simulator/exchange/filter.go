package exchange

import (
	"fmt"
	"regexp"
	"strings"
)

// The OPATH subset the -Filter parameter accepts here: comparisons
// `Property -eq|-ne|-like|-notlike value` with value $null, $true, $false, a
// quoted string or a bare word, combined with -and, -or, -not and parentheses.
// That covers what the collector sends (Get-Mailbox -Filter "ForwardingAddress
// -ne $null -or ForwardingSmtpAddress -ne $null -or EmailAddresses -eq
// 'smtp:support@contoso.com'"). Anything else is refused the way Exchange
// refuses a filter it cannot parse, so a client relying on more finds out.
// Syntax: https://learn.microsoft.com/powershell/exchange/recipient-filters

type filterNode interface{ match(obj map[string]any) bool }

type orNode struct{ l, r filterNode }
type andNode struct{ l, r filterNode }
type notNode struct{ n filterNode }

func (n orNode) match(o map[string]any) bool  { return n.l.match(o) || n.r.match(o) }
func (n andNode) match(o map[string]any) bool { return n.l.match(o) && n.r.match(o) }
func (n notNode) match(o map[string]any) bool { return !n.n.match(o) }

type valueKind int

const (
	valString valueKind = iota
	valNull
	valTrue
	valFalse
)

type cmpNode struct {
	prop string
	op   string // eq, ne, like, notlike
	kind valueKind
	val  string
	re   *regexp.Regexp // for like / notlike
}

func (n cmpNode) match(o map[string]any) bool {
	v := lookupFold(o, n.prop)
	var hit bool
	switch n.kind {
	case valNull:
		hit = isNullValue(v)
	case valTrue, valFalse:
		want := n.kind == valTrue
		switch x := v.(type) {
		case bool:
			hit = x == want
		case string:
			hit = strings.EqualFold(x, fmt.Sprint(want))
		}
	default:
		for _, s := range valuesOf(v) {
			if n.re != nil {
				hit = n.re.MatchString(s) || (strings.Contains(s, ":") && n.re.MatchString(afterPrefix(s)))
			} else {
				hit = strings.EqualFold(s, n.val) || (!strings.Contains(n.val, ":") && strings.EqualFold(afterPrefix(s), n.val))
			}
			if hit {
				break
			}
		}
	}
	if n.op == "ne" || n.op == "notlike" {
		return !hit
	}
	return hit
}

// afterPrefix drops a proxy prefix ("smtp:a@b" -> "a@b").
func afterPrefix(s string) string {
	if _, rest, ok := strings.Cut(s, ":"); ok {
		return rest
	}
	return s
}

func lookupFold(o map[string]any, prop string) any {
	if v, ok := o[prop]; ok {
		return v
	}
	for k, v := range o {
		if strings.EqualFold(k, prop) {
			return v
		}
	}
	return nil
}

// isNullValue is Exchange's notion of $null: no value, an empty string, or an
// empty multi-valued property.
func isNullValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	}
	return false
}

func valuesOf(v any) []string {
	if arr, ok := v.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			if s, ok := scalarString(e); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if s, ok := scalarString(v); ok {
		return []string{s}
	}
	return nil
}

// filterError is a filter Exchange would refuse; pos is a 1-based position.
type filterError struct {
	filter string
	msg    string
}

func (e *filterError) Error() string {
	return fmt.Sprintf("Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"%s\"", e.msg)
}

type token struct {
	kind string // "(", ")", "op", "var", "str", "word", "eof"
	text string
	pos  int
}

func lexFilter(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{kind: string(c), text: string(c), pos: i + 1})
			i++
		case c == '\'' || c == '"':
			start := i
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == c {
					if i+1 < len(s) && s[i+1] == c { // doubled quote escapes itself
						b.WriteByte(c)
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				if c == '"' && s[i] == '`' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, &filterError{filter: s, msg: fmt.Sprintf("Invalid filter syntax. For a description of the filter parameter syntax see the command help.\n\"%s\" at position %d.", s, start+1)}
			}
			toks = append(toks, token{kind: "str", text: b.String(), pos: start + 1})
		default:
			start := i
			for i < len(s) && !strings.ContainsRune(" \t\r\n()'\"", rune(s[i])) {
				i++
			}
			w := s[start:i]
			kind := "word"
			switch {
			case strings.HasPrefix(w, "-"):
				kind = "op"
				w = strings.ToLower(w[1:])
			case strings.HasPrefix(w, "$"):
				kind = "var"
				w = strings.ToLower(w[1:])
			}
			toks = append(toks, token{kind: kind, text: w, pos: start + 1})
		}
	}
	return append(toks, token{kind: "eof", pos: len(s) + 1}), nil
}

type filterParser struct {
	src   string
	toks  []token
	i     int
	known func(prop string) bool
}

// parseFilter parses an OPATH filter; known says whether a property can be
// filtered on.
func parseFilter(src string, known func(string) bool) (filterNode, error) {
	toks, err := lexFilter(src)
	if err != nil {
		return nil, err
	}
	p := &filterParser{src: src, toks: toks, known: known}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, p.syntax(t)
	}
	return n, nil
}

func (p *filterParser) peek() token { return p.toks[p.i] }
func (p *filterParser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *filterParser) syntax(t token) error {
	return &filterError{filter: p.src, msg: fmt.Sprintf("Invalid filter syntax. For a description of the filter parameter syntax see the command help.\n\"%s\" at position %d.", p.src, t.pos)}
}

func (p *filterParser) or() (filterNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == "op" && t.text == "or"; t = p.peek() {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *filterParser) and() (filterNode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == "op" && t.text == "and"; t = p.peek() {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *filterParser) unary() (filterNode, error) {
	t := p.peek()
	switch {
	case t.kind == "op" && t.text == "not":
		p.next()
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	case t.kind == "(":
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != ")" {
			return nil, p.syntax(c)
		}
		return n, nil
	}
	return p.comparison()
}

func (p *filterParser) comparison() (filterNode, error) {
	prop := p.next()
	if prop.kind != "word" {
		return nil, p.syntax(prop)
	}
	if !p.known(prop.text) {
		return nil, &filterError{filter: p.src, msg: fmt.Sprintf("\"%s\" is not a recognized filterable property. For a description of the filterable properties see the command help.\n\"%s\" at position %d.", prop.text, p.src, prop.pos)}
	}
	op := p.next()
	if op.kind != "op" {
		return nil, p.syntax(op)
	}
	switch op.text {
	case "eq", "ne", "like", "notlike":
	default:
		// -gt, -lt, -ge, -le, -contains... exist in OPATH but nothing here needs
		// them; refusing keeps the simulator from pretending.
		return nil, p.syntax(op)
	}
	val := p.next()
	n := cmpNode{prop: prop.text, op: op.text}
	switch val.kind {
	case "var":
		switch val.text {
		case "null":
			n.kind = valNull
		case "true":
			n.kind = valTrue
		case "false":
			n.kind = valFalse
		default:
			return nil, p.syntax(val)
		}
		if op.text == "like" || op.text == "notlike" {
			return nil, p.syntax(val)
		}
	case "str", "word":
		n.val = val.text
		if op.text == "like" || op.text == "notlike" {
			n.re = regexp.MustCompile("(?i)^" + strings.ReplaceAll(regexp.QuoteMeta(val.text), `\*`, ".*") + "$")
		}
	default:
		return nil, p.syntax(val)
	}
	return n, nil
}
