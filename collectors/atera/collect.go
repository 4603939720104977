package atera

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/collectors"
)

// Query says which tickets a tenant's atera_api section holds.
type Query struct {
	// CustomerID limits the tickets to one Atera customer; 0 reads the whole
	// account.
	CustomerID int
	// WindowDays is how far back tickets are kept (default 7).
	WindowDays int
	// Now is the end of the window (the collection time).
	Now time.Time
}

func (q Query) window() (days int, start, end time.Time) {
	days = q.WindowDays
	if days <= 0 {
		days = defaultWindowDays
	}
	end = q.Now.UTC()
	if q.Now.IsZero() {
		end = time.Now().UTC()
	}
	return days, end.Add(-time.Duration(days) * 24 * time.Hour), end
}

// CollectTickets reads the tickets of q.CustomerID (or of the whole account)
// and stores the atera_api section in p. On failure it records an atera_api
// error in p instead, leaves the section out (so the checks reading it are
// indeterminate) and returns the error, already recorded.
func (c *Client) CollectTickets(ctx context.Context, p *collectors.Partial, q Query) error {
	tickets, err := c.ListTickets(ctx, q.CustomerID)
	if err != nil {
		err = c.scrub(err)
		p.AddError(Source, err)
		return err
	}
	p.SetSection(Source, c.Section(q, tickets))
	return nil
}

// Section builds the atera_api section from tickets already listed: those
// created within the window, newest first, with only the kept fields.
// Tickets whose creation date cannot be read are left out (logged): they
// cannot be placed in the window, and leaving one out can only make
// "tickets are arriving" look worse, never better.
func (c *Client) Section(q Query, tickets []Ticket) map[string]any {
	days, start, end := q.window()
	type dated struct {
		t  Ticket
		at time.Time
	}
	var kept []dated
	unreadable := 0
	for _, t := range tickets {
		at, ok := parseDate(t.TicketCreatedDate)
		if !ok {
			unreadable++
			continue
		}
		// A ticket dated after `end` (clock skew between Atera and us) is
		// recent, so it stays.
		if !at.Before(start) {
			kept = append(kept, dated{t, at})
		}
	}
	if unreadable > 0 {
		c.log.Warn("atera: tickets with an unreadable TicketCreatedDate left out", "count", unreadable)
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].at.After(kept[j].at) })

	items := make([]any, 0, len(kept))
	for _, d := range kept {
		t := d.t
		items = append(items, map[string]any{
			"TicketID":          t.TicketID,
			"TicketTitle":       t.TicketTitle,
			"TicketSource":      t.TicketSource,
			"TicketStatus":      t.TicketStatus,
			"TicketCreatedDate": t.TicketCreatedDate,
			"EndUserEmail":      t.EndUserEmail,
			"CustomerID":        t.CustomerID,
			"CustomerName":      t.CustomerName,
		})
	}
	var customer any // null: every customer of the account
	if q.CustomerID != 0 {
		customer = q.CustomerID
	}
	return map[string]any{
		"window_days": days,
		"start":       start.Format(time.RFC3339),
		"end":         end.Format(time.RFC3339),
		"customer_id": customer,
		"tickets":     items,
	}
}

// parseDate reads Atera's dates: RFC 3339 ("2026-11-20T09:12:33Z", with or
// without fractional seconds) and the zone-less form .NET writes for UTC
// values ("2026-11-20T09:12:33.123"), taken as UTC.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC); err == nil {
		return t, true
	}
	return time.Time{}, false
}
