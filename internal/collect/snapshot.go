package collect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/snapshot"
)

// document assembles the snapshot (docs/DESIGN.md, "Snapshot sections
// filled by collectors") from what was collected so far; final adds the
// collection statistics. An empty exchange section is left out: "nothing
// was read" must not look like "read, and nothing is configured".
func (tr *tenantRun) document(final bool) map[string]any {
	sections := tr.p.Sections()
	exchangeSection, _ := sections["exchange"].(map[string]any)
	tenant := map[string]any{"name": tr.t.Name, "tenant_id": tr.t.TenantID}
	if d := defaultDomain(exchangeSection); d != "" {
		tenant["default_domain"] = d
	}
	doc := map[string]any{
		"schema_version": snapshot.SupportedVersion,
		"tenant":         tenant,
		"collected_at":   tr.started.UTC().Format(time.RFC3339),
		"atera":          tr.t.AteraSection(),
	}
	for k, v := range sections {
		if k == "exchange" && len(exchangeSection) == 0 {
			continue
		}
		doc[k] = v
	}
	if errs := tr.p.Errors(); len(errs) > 0 {
		list := make([]any, len(errs))
		for i, e := range errs {
			list[i] = map[string]any{"source": e.Source, "message": e.Message}
		}
		doc["errors"] = list
	}
	collection := map[string]any{}
	if len(tr.notFound) > 0 {
		nf := map[string]any{}
		for k, v := range tr.notFound {
			nf[k] = v
		}
		collection["not_found"] = nf
	}
	if final {
		collection["requests"] = tr.stats.Requests.Load()
		collection["retries"] = tr.stats.Retries.Load()
		collection["throttled"] = tr.stats.Throttled.Load()
		collection["duration_ms"] = tr.now().Sub(tr.started).Milliseconds()
		collection["rounds"] = tr.rounds
		collection["collector_version"] = tr.opts.Version
		// Sections left out on purpose, so the checks that read them say
		// "not requested" instead of "could not be told".
		var skipped []any
		if tr.t.Atera.SMTP != nil && !tr.opts.ProbeSMTP {
			skipped = append(skipped, "smtp_probe")
		}
		if tr.ateraKey == "" {
			skipped = append(skipped, "atera_api")
		}
		if len(skipped) > 0 {
			collection["skipped"] = skipped
		}
	}
	if len(collection) > 0 {
		doc["collection"] = collection
	}
	return doc
}

// defaultDomain is the tenant's initial domain (acme.onmicrosoft.com), as
// the schema's tenant.default_domain describes it: the accepted domain
// flagged InitialDomain, else the .onmicrosoft.com one (not
// .mail.onmicrosoft.com, the hybrid routing domain), else the default one.
func defaultDomain(exchange map[string]any) string {
	rows, _ := exchange["Get-AcceptedDomain"].([]any)
	var initial, onmicrosoft, def string
	for _, r := range rows {
		m, _ := r.(map[string]any)
		name, _ := m["DomainName"].(string)
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		switch {
		case isTrue(m["InitialDomain"]) && initial == "":
			initial = name
		case strings.HasSuffix(name, ".onmicrosoft.com") && !strings.HasSuffix(name, ".mail.onmicrosoft.com") && onmicrosoft == "":
			onmicrosoft = name
		case isTrue(m["Default"]) && def == "":
			def = name
		}
	}
	for _, d := range []string{initial, onmicrosoft, def} {
		if d != "" {
			return d
		}
	}
	return ""
}

func isTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// marshal renders a snapshot as indented JSON, leaving <, > and & as they
// are (references such as `"Atera" [SMTP:a@b]` stay readable).
func marshal(doc map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// finish validates the snapshot, writes it when there is Exchange data to
// write, and builds the Outcome.
func (tr *tenantRun) finish() Outcome {
	out := Outcome{
		Tenant: tr.t.Name,
		Stats: Counts{
			Requests:  tr.stats.Requests.Load(),
			Retries:   tr.stats.Retries.Load(),
			Throttled: tr.stats.Throttled.Load(),
		},
		Rounds: tr.rounds,
		Errors: tr.p.Errors(),
	}
	hasExchange := len(tr.p.Exchange()) > 0
	// The name a report shows for the snapshot: its file, or what it is.
	name := tr.t.Name + " (collected, not saved)"
	switch {
	case !hasExchange:
		name = tr.t.Name + " (not collected)"
	case tr.opts.OutDir != "":
		name = filepath.Join(tr.opts.OutDir, tr.t.Name+".json")
	}
	data, err := marshal(tr.document(true))
	if err != nil {
		out.Err = errors.New(tr.red.redact(err.Error()))
		return out
	}
	// Never write what `check` would refuse: validate first.
	doc, err := snapshot.Parse(name, data)
	if err != nil {
		out.Err = fmt.Errorf("the collected snapshot does not validate (a ticketguard bug, please report it): %s", tr.red.redact(err.Error()))
		return out
	}
	// Even without Exchange data the document is kept in memory: an audit
	// then reports the tenant with its checks indeterminate and the reason,
	// rather than leaving it out of the report.
	out.Snapshot = doc
	if !hasExchange {
		// Nothing was read, so nothing was "collected at" a time: the
		// report says "collection time unknown" rather than a time that
		// reads like a successful collection.
		doc.CollectedAt = time.Time{}
		out.Err = tr.failure(out.Errors)
		return out
	}
	if tr.opts.OutDir != "" {
		if err := writeAtomic(name, data); err != nil {
			out.Err = fmt.Errorf("write snapshot: %w", err)
			return out
		}
		out.Path = name
	}
	return out
}

// failure explains why a tenant produced no snapshot: the sign-in error when
// there is one (it explains everything else), else every error recorded.
func (tr *tenantRun) failure(errs []result.SourceError) error {
	for _, e := range errs {
		if e.Source == SourceAuth {
			return errors.New(e.Message)
		}
	}
	if len(errs) == 0 {
		return errors.New("no Exchange Online data was read")
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Source+": "+e.Message)
	}
	return fmt.Errorf("no Exchange Online data was read: %s", strings.Join(msgs, "; "))
}
