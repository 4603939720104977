package atera

import (
	"fmt"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

var sampleTitles = []string{
	"Printer on the second floor is offline",
	"Cannot open shared mailbox",
	"New starter needs a laptop",
	"VPN disconnects every few minutes",
	"Password reset for accounting",
	"Outlook keeps asking for credentials",
	"Request: add user to Finance group",
}

var sampleUsers = []string{"emma.clarke", "liam.patel", "mei.tanaka", "gabriel.ortiz", "dana.whitfield"}

// SampleTickets returns n tickets for tenant t in the shape fixtures keep
// (the fields a snapshot stores), created every `every` back from now, the
// last one `every` before now; source is the TicketSource ("Email", "Portal",
// "Agent", ...). They are deterministic, for demos, benchmarks and tests.
func SampleTickets(t *fixture.Tenant, now time.Time, n int, every time.Duration, source string) []map[string]any {
	domain := t.Domain
	if _, d, ok := strings.Cut(t.SupportAddress, "@"); ok {
		domain = d
	}
	out := make([]map[string]any, 0, n)
	for i := range n {
		created := now.Add(-time.Duration(n-i) * every).UTC()
		out = append(out, map[string]any{
			"TicketTitle":       fmt.Sprintf("%s (#%d)", sampleTitles[i%len(sampleTitles)], i+1),
			"TicketSource":      source,
			"TicketStatus":      "Open",
			"TicketCreatedDate": created.Format("2006-01-02T15:04:05Z"),
			"EndUserEmail":      sampleUsers[i%len(sampleUsers)] + "@" + domain,
		})
	}
	return out
}
