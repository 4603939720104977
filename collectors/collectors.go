// Package collectors holds what every collector shares: the partial snapshot
// they fill, the per-recipient wants the checks still need, and request
// statistics. Each source has its own sub-package (exchange, graph, atera,
// smtpprobe); internal/collect drives them for many tenants.
package collectors

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ticketguard/ticketguard/internal/result"
)

// Stats counts requests a collector made; safe for concurrent use.
type Stats struct {
	Requests  atomic.Int64 // every HTTP request sent, retries included
	Retries   atomic.Int64 // requests that were retries
	Throttled atomic.Int64 // 429 answers received
}

// Wants lists the per-recipient data the checks still need and the partial
// snapshot lacks, as data.ticketguard.lib.plan.wants computes it. Addresses
// are primary SMTP addresses, lower-case; Mailboxes may hold any identity form.
type Wants struct {
	GroupMembers         []string `json:"group_members"`
	InboxRules           []string `json:"inbox_rules"`
	Mailboxes            []string `json:"mailboxes"`
	RecipientPermissions []string `json:"recipient_permissions"`
	CASMailboxes         []string `json:"cas_mailboxes"`
}

// Empty reports whether nothing more is wanted.
func (w Wants) Empty() bool {
	return len(w.GroupMembers)+len(w.InboxRules)+len(w.Mailboxes)+len(w.RecipientPermissions)+len(w.CASMailboxes) == 0
}

// Partial is a snapshot being filled by several collectors at once. Sections
// follow docs/DESIGN.md; a source that failed records an error and leaves its
// key out, so the checks reading it are indeterminate.
type Partial struct {
	mu       sync.Mutex
	redact   func(string) string
	exchange map[string]any
	graph    map[string]any
	sections map[string]any
	errors   []result.SourceError
}

// NewPartial returns an empty partial snapshot. redact is applied to every
// error message before it is stored (it removes secrets); nil keeps messages.
func NewPartial(redact func(string) string) *Partial {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &Partial{redact: redact, exchange: map[string]any{}, graph: map[string]any{}, sections: map[string]any{}}
}

// SetExchange stores a tenant-wide cmdlet's objects.
func (p *Partial) SetExchange(cmdlet string, objects []map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exchange[cmdlet] = toAny(objects)
}

// SetExchangeFor stores a per-recipient cmdlet's objects under the recipient's
// primary address.
func (p *Partial) SetExchangeFor(cmdlet, address string, objects []map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	setFor(p.exchange, cmdlet, address, toAny(objects))
}

// AppendExchange adds objects to a tenant-wide cmdlet already stored (a later
// round fetching mailboxes the first round's filter left out), skipping none:
// the caller de-duplicates.
func (p *Partial) AppendExchange(cmdlet string, objects []map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur, _ := p.exchange[cmdlet].([]any)
	p.exchange[cmdlet] = append(cur, toAny(objects)...)
}

// SetGraph stores a tenant-wide Graph value (contacts, messageTraces).
func (p *Partial) SetGraph(key string, v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.graph[key] = v
}

// SetGraphFor stores a per-recipient Graph value (messageRules, groupMembers).
func (p *Partial) SetGraphFor(key, address string, v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	setFor(p.graph, key, address, v)
}

// SetSection stores a whole top-level section (atera_api, smtp_probe, collection).
func (p *Partial) SetSection(name string, v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sections[name] = v
}

// AddError records that a source failed. The message is redacted.
func (p *Partial) AddError(source string, err error) {
	if err == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errors = append(p.errors, result.SourceError{Source: source, Message: p.redact(err.Error())})
}

// Errors returns the recorded errors sorted by source.
func (p *Partial) Errors() []result.SourceError {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]result.SourceError(nil), p.errors...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// Sections returns the collected sections as snapshot keys: "exchange",
// "graph" (when anything was read from Graph) and the others by name. The maps
// are copies at the top level; callers must not mutate nested values.
func (p *Partial) Sections() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]any{"exchange": copyMap(p.exchange)}
	if len(p.graph) > 0 {
		out["graph"] = copyMap(p.graph)
	}
	for k, v := range p.sections {
		out[k] = v
	}
	return out
}

// Exchange returns a copy of the exchange section collected so far, for planning.
func (p *Partial) Exchange() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyMap(p.exchange)
}

func setFor(section map[string]any, key, address string, v any) {
	m, _ := section[key].(map[string]any)
	if m == nil {
		m = map[string]any{}
		section[key] = m
	}
	m[NormalizeAddress(address)] = v
}

// NormalizeAddress lower-cases an address and drops an SMTP: prefix, the form
// per-recipient keys take in a snapshot.
func NormalizeAddress(a string) string {
	a = strings.TrimSpace(a)
	if len(a) > 5 && strings.EqualFold(a[:5], "smtp:") {
		a = a[5:]
	}
	return strings.ToLower(a)
}

func toAny(objects []map[string]any) []any {
	out := make([]any, len(objects))
	for i, o := range objects {
		out[i] = o
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if inner, ok := v.(map[string]any); ok {
			v = copyMap(inner)
		}
		out[k] = v
	}
	return out
}
