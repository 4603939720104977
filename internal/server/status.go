package server

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
)

//go:embed status.html
var statusHTML string

// parseStatusTemplate parses the page, showing times in loc.
func parseStatusTemplate(loc *time.Location) (*template.Template, error) {
	return template.New("status").Funcs(template.FuncMap{
		"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"when": func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") },
	}).Parse(statusHTML)
}

// maxErrorLen bounds a run's error on the page: enough to recognise the
// cause, short enough to keep the table readable.
const maxErrorLen = 300

// contentSecurityPolicy allows only the page's own inline style: nothing
// can load, run or frame, even if a value slipped past the escaping.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type statusPage struct {
	Generated    time.Time
	Tenants      []tenantRow
	WithFailures int
	RunsFailed   int
	StoreError   string
}

type tenantRow struct {
	Name         string
	HasRun       bool
	RunID        int64
	LastRun      time.Time
	Ago          string
	Duration     string
	Outcome      string
	OutcomeClass string
	Error        string
	Counts       string
	Failing      []checkRow
	Baseline     int64
	Next         time.Time
	In           string
	Schedule     string
}

type checkRow struct {
	ID     string
	Status result.Status
	Class  string
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
	defer cancel()

	now := s.opts.Now()
	page := statusPage{Generated: now}
	code := http.StatusOK
	summaries, err := s.opts.Store.Tenants(ctx)
	if err != nil {
		// The store error names the database path; keep it in the log.
		s.log.Error("status page: reading the store", "error", err)
		page.StoreError = "The run history could not be read; see the service log. Only the schedule is shown."
		code = http.StatusServiceUnavailable
	}
	page.Tenants = s.rows(summaries, now)
	for _, t := range page.Tenants {
		if len(t.Failing) > 0 {
			page.WithFailures++
		}
		if t.HasRun && t.Outcome != string(store.OutcomeOK) {
			page.RunsFailed++
		}
	}

	var buf bytes.Buffer
	if err := s.tmpl.Execute(&buf, page); err != nil {
		s.log.Error("status page: rendering", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// rows merges the configured tenants with those in the store, by name.
func (s *Server) rows(summaries []store.TenantSummary, now time.Time) []tenantRow {
	byName := make(map[string]store.TenantSummary, len(summaries))
	names := slices.Clone(s.opts.Tenants)
	for _, t := range summaries {
		byName[t.Tenant] = t
		names = append(names, t.Tenant)
	}
	slices.Sort(names)
	names = slices.Compact(names)

	rows := make([]tenantRow, 0, len(names))
	for _, name := range names {
		row := tenantRow{Name: name}
		if t, ok := byName[name]; ok {
			run := t.LastRun
			row.HasRun = true
			row.RunID = run.ID
			row.LastRun = run.FinishedAt
			row.Ago = human(now.Sub(run.FinishedAt))
			row.Duration = human(run.Duration())
			row.Outcome = string(run.Outcome)
			row.OutcomeClass = outcomeClass(run.Outcome)
			row.Error = truncate(run.Error, maxErrorLen)
			row.Counts = counts(t.Counts())
			row.Baseline = t.BaselineRunID
			for _, c := range t.Checks {
				if c.Status == result.Fail || c.Status == result.Warn || c.Status == result.Indeterminate {
					row.Failing = append(row.Failing, checkRow{ID: c.CheckID, Status: c.Status, Class: statusClass(c.Status)})
				}
			}
		}
		if s.opts.Next != nil {
			row.Next = s.opts.Next(name)
			if !row.Next.IsZero() {
				row.In = human(row.Next.Sub(now))
			}
		}
		if s.opts.Schedule != nil {
			row.Schedule = s.opts.Schedule(name)
		}
		rows = append(rows, row)
	}
	return rows
}

// statusOrder is the order counts are listed in.
var statusOrder = []result.Status{result.Fail, result.Warn, result.Indeterminate, result.Pass, result.Waived, result.NotApplicable}

func counts(m map[result.Status]int) string {
	var parts []string
	for _, st := range statusOrder {
		if n := m[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(st), "_", " ")))
		}
	}
	return strings.Join(parts, ", ")
}

// CSS classes come from fixed sets, never from data.
func statusClass(st result.Status) string {
	switch st {
	case result.Fail:
		return "fail"
	case result.Warn:
		return "warn"
	case result.Indeterminate:
		return "indeterminate"
	case result.Pass:
		return "pass"
	}
	return "other"
}

func outcomeClass(o store.Outcome) string {
	switch o {
	case store.OutcomeOK:
		return "ok"
	case store.OutcomePartial:
		return "partial"
	case store.OutcomeFailed:
		return "failed"
	}
	return "other"
}

// human renders a duration for people: "45s", "12m", "3h05m", "2d4h".
func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune boundary.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
