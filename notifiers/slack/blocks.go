package slack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/notifiers"
)

// Block Kit limits (https://api.slack.com/reference/block-kit/blocks). Text
// is measured in bytes, which is never less than Slack's count of
// characters, so a message within these limits is within Slack's.
const (
	MaxBlocks      = 50
	MaxSectionText = 3000
	maxHeaderText  = 150
	maxContextText = 2000 // a context element allows 3000; its line stays short
	maxFallback    = 3000 // the notification text; Slack truncates at 40,000
)

// Renderer turns a digest into a Block Kit message.
type Renderer struct {
	// MaskAddresses shortens every mailbox address in the message to its
	// first letter and domain (s***@acme.com).
	MaskAddresses bool
}

// Render builds the message for one tenant and run: a header saying what
// happened, a section per new failure with its findings (the objects and
// actual values) and how to fix it, then new indeterminate results with the
// collection errors behind them, drift, resolved checks, waivers ending soon
// and the repeat reminder. It stays within MaxBlocks and MaxSectionText:
// what does not fit is summarised ("… and 3 more"), and the footer points
// to the full report.
//
// Channel and thread are left to the caller.
func (r Renderer) Render(d notifiers.Digest) (notifiers.Message, error) {
	b := &blockBuilder{r: r}
	b.add(slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		truncate(r.plain(d.Tenant+": "+headline(d)), maxHeaderText), false, false)))
	if c := r.context(d); c != "" {
		b.add(contextBlock(c)) // Slack refuses an empty text
	}

	// The short sections first, so that the detailed failures get what is
	// left of the block budget.
	var tail []slack.Block
	if s := r.indeterminateSection(d); s != "" {
		tail = append(tail, slack.NewDividerBlock(), section(s))
	}
	if s := r.driftSection(d.Drift); s != "" {
		tail = append(tail, slack.NewDividerBlock(), section(s))
	}
	if s := r.resolvedSection(d.Resolved); s != "" {
		tail = append(tail, slack.NewDividerBlock(), section(s))
	}
	if s := r.expiringSection(d); s != "" {
		tail = append(tail, slack.NewDividerBlock(), section(s))
	}
	if s := r.stillFailingSection(d.StillFailing); s != "" {
		tail = append(tail, slack.NewDividerBlock(), section(s))
	}
	footer := contextBlock(r.footer(d))

	if len(d.NewFailures) > 0 {
		budget := MaxBlocks - len(b.blocks) - len(tail) - 1 // the footer
		b.blocks = append(b.blocks, r.failureBlocks(d.NewFailures, budget)...)
	}
	b.blocks = append(b.blocks, tail...)
	b.add(footer)

	raw, err := json.Marshal(slack.Blocks{BlockSet: b.blocks})
	if err != nil {
		return notifiers.Message{}, fmt.Errorf("slack: render blocks: %w", err)
	}
	return notifiers.Message{
		Tenant: d.Tenant,
		Text:   truncate(r.text("ticketguard: "+d.Tenant+": "+headline(d)), maxFallback),
		Blocks: raw,
	}, nil
}

type blockBuilder struct {
	r      Renderer
	blocks []slack.Block
}

func (b *blockBuilder) add(bl slack.Block) { b.blocks = append(b.blocks, bl) }

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

func contextBlock(text string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, truncate(text, maxContextText), false, false))
}

// headline is what happened, in the order of importance: "2 new failures,
// 1 check could not be evaluated, drift in 1 object, 1 resolved".
func headline(d notifiers.Digest) string {
	var parts []string
	if n := len(d.NewFailures); n > 0 {
		parts = append(parts, plural(n, "new failure", "new failures"))
	}
	if n := len(d.NewIndeterminate); n > 0 {
		parts = append(parts, plural(n, "check", "checks")+" could not be evaluated")
	}
	if len(d.Drift) > 0 {
		objects := map[string]bool{}
		for _, c := range d.Drift {
			objects[c.Key] = true
		}
		parts = append(parts, "drift in "+plural(len(objects), "object", "objects"))
	}
	if n := len(d.Resolved); n > 0 {
		parts = append(parts, fmt.Sprintf("%d resolved", n))
	}
	if n := len(d.ExpiringWaivers); n > 0 {
		parts = append(parts, plural(n, "waiver", "waivers")+" ending soon")
	}
	if n := len(d.StillFailing); n > 0 {
		parts = append(parts, fmt.Sprintf("%d still failing", n))
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

func (r Renderer) context(d notifiers.Digest) string {
	var parts []string
	if d.TenantID != "" {
		parts = append(parts, "tenant "+r.text(d.TenantID))
	}
	if !d.CollectedAt.IsZero() {
		parts = append(parts, "collected "+d.CollectedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if s := summaryText(d.Summary); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(parts, " · ")
}

func (r Renderer) footer(d notifiers.Digest) string {
	s := fmt.Sprintf("Full report: `ticketguard show %s`", r.text(d.Tenant))
	if len(d.Reasons) > 0 {
		s += " · sent because: " + r.text(strings.Join(d.Reasons, ", "))
	}
	return s
}

var summaryOrder = []result.Status{result.Fail, result.Warn, result.Indeterminate, result.Waived, result.Pass, result.NotApplicable}

func summaryText(sum map[result.Status]int) string {
	var parts []string
	for _, s := range summaryOrder {
		if n := sum[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(s), "_", " ")))
		}
	}
	return strings.Join(parts, ", ")
}

// failureBlocks renders the new failures within budget blocks: a heading,
// then per failure a section with its findings and one with the
// remediation. When that is too many blocks the remediation moves, shortened,
// into the failure's own section; when even one block per failure is too
// many, the last block lists the failures left out.
func (r Renderer) failureBlocks(fails []result.CheckResult, budget int) []slack.Block {
	out := []slack.Block{section(fmt.Sprintf(":rotating_light: *New failures (%d)*", len(fails)))}
	budget--
	full := 0
	for _, f := range fails {
		full++
		if strings.TrimSpace(f.Check.Remediation) != "" {
			full++
		}
	}
	switch {
	case full <= budget:
		for _, f := range fails {
			out = append(out, section(r.failureText(f, MaxSectionText)))
			if rem := r.remediation(f, MaxSectionText); rem != "" {
				out = append(out, section(rem))
			}
		}
	case len(fails) <= budget:
		for _, f := range fails {
			out = append(out, section(r.failureWithFix(f)))
		}
	default:
		shown := max(budget-1, 0)
		for _, f := range fails[:shown] {
			out = append(out, section(r.failureWithFix(f)))
		}
		rest := fails[shown:]
		lines := make([]string, len(rest))
		for i, f := range rest {
			lines[i] = "• " + r.checkName(f.Check)
		}
		out = append(out, section(fitLines("*… and "+plural(len(rest), "more new failure", "more new failures")+":*",
			lines, MaxSectionText, moreLines)))
	}
	return out
}

// failureText is the failure's title line and findings.
func (r Renderer) failureText(f result.CheckResult, limit int) string {
	icon := ":red_circle:"
	if f.Status == result.Warn {
		icon = ":large_orange_circle:"
	}
	head := truncate(fmt.Sprintf("%s *%s* `%s` · %s", icon, r.text(f.Check.Title), r.text(f.Check.ID), r.text(string(f.Check.Severity))), 500)
	var lines []string
	if w := f.Waiver; w != nil && w.Expired {
		lines = append(lines, "_"+r.text(fmt.Sprintf("Waiver expired on %s (%s)", w.Expires, w.Reason))+"_")
	}
	lines = append(lines, r.findingLines(f, result.Fail, result.Warn)...)
	return fitLines(head, lines, limit, func(n int) string {
		return "… and " + plural(n, "more finding", "more findings") + ": `ticketguard show`"
	})
}

// findingLines are the findings of the given statuses, with the object they
// are about; the result's message when there are none.
func (r Renderer) findingLines(f result.CheckResult, statuses ...result.Status) []string {
	var lines []string
	for _, fd := range f.Findings {
		keep := false
		for _, s := range statuses {
			keep = keep || fd.Status == s
		}
		if !keep {
			continue
		}
		line := "• " + r.text(oneLine(fd.Message))
		if fd.Resource != "" {
			line += " — `" + r.text(oneLine(fd.Resource)) + "`"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 && strings.TrimSpace(f.Message) != "" {
		lines = append(lines, "• "+r.text(oneLine(f.Message)))
	}
	return lines
}

// remediation is the "How to fix" section: the steps as written (they
// indent commands), in a preformatted block.
func (r Renderer) remediation(f result.CheckResult, limit int) string {
	rem := strings.TrimSpace(f.Check.Remediation)
	if rem == "" {
		return ""
	}
	head := "*How to fix* `" + r.text(f.Check.ID) + "`\n```"
	const tail = "```"
	body := r.text(rem)
	room := limit - len(head) - len(tail)
	if len(body) > room {
		more := "\n… (shortened: `ticketguard policy explain " + r.text(f.Check.ID) + "` has all of it)"
		body = truncate(body, room-len(more)) + more
	}
	return head + body + tail
}

// failureWithFix is one section holding both the findings and a shortened
// remediation, for when the block budget is tight.
func (r Renderer) failureWithFix(f result.CheckResult) string {
	rem := r.remediation(f, MaxSectionText/3)
	text := r.failureText(f, MaxSectionText-len(rem)-1)
	if rem == "" {
		return text
	}
	return text + "\n" + rem
}

func (r Renderer) indeterminateSection(d notifiers.Digest) string {
	if len(d.NewIndeterminate) == 0 {
		return ""
	}
	var lines []string
	if len(d.SourceErrors) > 0 {
		lines = append(lines, "Collection failed:")
		for _, e := range d.SourceErrors {
			lines = append(lines, "• `"+r.text(e.Source)+"`: "+r.text(oneLine(e.Message)))
		}
		lines = append(lines, "Checks affected:")
	}
	for _, c := range d.NewIndeterminate {
		line := "• " + r.checkName(c.Check)
		if fl := r.findingLines(c, result.Indeterminate); len(fl) > 0 {
			line += ": " + strings.TrimPrefix(strings.Join(fl, " "), "• ")
		}
		lines = append(lines, line)
	}
	head := fmt.Sprintf(":grey_question: *Could not be evaluated (%d)*: the data they need was not collected, so they are neither pass nor fail", len(d.NewIndeterminate))
	return fitLines(head, lines, MaxSectionText, moreLines)
}

func (r Renderer) driftSection(changes []drift.Change) string {
	if len(changes) == 0 {
		return ""
	}
	lines := make([]string, len(changes))
	for i, c := range changes {
		lines[i] = "• " + r.text(oneLine(drift.Describe(c)))
	}
	head := ":arrows_counterclockwise: *Changed since the previous run* (" + r.text(drift.Summary(changes)) + ")"
	return fitLines(head, lines, MaxSectionText, func(n int) string {
		return "… and " + plural(n, "more change", "more changes") + ": `ticketguard history`"
	})
}

func (r Renderer) resolvedSection(res []notifiers.Resolved) string {
	if len(res) == 0 {
		return ""
	}
	lines := make([]string, len(res))
	for i, x := range res {
		var now string
		switch x.Result.Status {
		case result.Waived:
			now = "now waived"
			if w := x.Result.Waiver; w != nil {
				now += r.text(fmt.Sprintf(" through %s (%s)", w.Expires, oneLine(w.Reason)))
			}
		case result.NotApplicable:
			now = "no longer applies"
		default:
			now = "now " + r.text(string(x.Result.Status))
		}
		lines[i] = fmt.Sprintf("• %s: was %s, %s", r.checkName(x.Result.Check), r.text(string(x.Was)), now)
	}
	return fitLines(fmt.Sprintf(":white_check_mark: *Resolved (%d)*", len(res)), lines, MaxSectionText, moreLines)
}

func (r Renderer) expiringSection(d notifiers.Digest) string {
	if len(d.ExpiringWaivers) == 0 {
		return ""
	}
	var lines []string
	for _, c := range d.ExpiringWaivers {
		w := c.Waiver
		if w == nil {
			continue
		}
		line := fmt.Sprintf("• %s: waived through %s", r.checkName(c.Check), r.text(w.Expires))
		if left := daysLeft(w.Expires, d.At); left >= 0 {
			line += " (" + plural(left, "day", "days") + " left)"
		}
		if w.Resource != "" {
			line += " for `" + r.text(w.Resource) + "`"
		}
		line += ": " + r.text(oneLine(w.Reason)) + ". Without it the check is " + r.text(string(w.Status)) + "."
		lines = append(lines, line)
	}
	head := fmt.Sprintf(":hourglass_flowing_sand: *Waivers ending soon (%d)*: fix the setting or renew the waiver", len(d.ExpiringWaivers))
	return fitLines(head, lines, MaxSectionText, moreLines)
}

func (r Renderer) stillFailingSection(still []result.CheckResult) string {
	if len(still) == 0 {
		return ""
	}
	lines := make([]string, len(still))
	for i, c := range still {
		icon := ":red_circle:"
		switch c.Status {
		case result.Warn:
			icon = ":large_orange_circle:"
		case result.Indeterminate:
			icon = ":grey_question:"
		}
		line := icon + " " + r.checkName(c.Check)
		if c.Message != "" {
			line += ": " + r.text(oneLine(c.Message))
		}
		lines[i] = line
	}
	return fitLines(fmt.Sprintf(":repeat: *Still needs attention (%d)*: unchanged since announced", len(still)), lines, MaxSectionText, moreLines)
}

// checkName is "*Title* (`id`)".
func (r Renderer) checkName(c result.Check) string {
	title := c.Title
	if title == "" {
		return "`" + r.text(c.ID) + "`"
	}
	return "*" + r.text(truncate(title, 200)) + "* (`" + r.text(c.ID) + "`)"
}

func moreLines(n int) string { return fmt.Sprintf("… and %d more", n) }

// daysLeft counts the days a waiver still applies: it applies through its
// expiry day (UTC), so on that day one day is left.
func daysLeft(expires string, at time.Time) int {
	day, err := time.Parse("2006-01-02", expires)
	if err != nil || at.IsZero() {
		return -1
	}
	end := day.AddDate(0, 0, 1)
	return int((end.Sub(at.UTC()) + 24*time.Hour - 1) / (24 * time.Hour))
}

// text prepares untrusted text for a mrkdwn field: addresses masked when
// configured, and Slack's control characters escaped so that an address in
// angle brackets is not read as a link.
func (r Renderer) text(s string) string { return escape(r.plain(s)) }

// plain prepares text for a plain_text field (no escaping there).
func (r Renderer) plain(s string) string {
	if r.MaskAddresses {
		return MaskAddresses(s)
	}
	return s
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return escaper.Replace(s) }

// addressPattern matches mailbox addresses in free text.
var addressPattern = regexp.MustCompile(`[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)*\.\p{L}{2,}`)

// MaskAddresses replaces each mailbox address in s by its first letter and
// its domain: support@acme.com → s***@acme.com. The domain stays: it tells
// which tenant and which side (the organisation's, Atera's) an address is.
// Atera's own sender addresses (noreply@atera.com in remediation text) name
// no person and stay readable; ticketing addresses stay masked, since anyone
// who knows one can open tickets.
func MaskAddresses(s string) string {
	return addressPattern.ReplaceAllStringFunc(s, func(a string) string {
		at := strings.LastIndexByte(a, '@')
		if strings.EqualFold(a[at+1:], "atera.com") {
			return a
		}
		first, _ := utf8.DecodeRuneInString(a)
		return string(first) + "***" + a[at:]
	})
}

// oneLine folds a multi-line text into one line: a list item stays one item.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// fitLines joins head and lines with newlines within limit bytes. Lines
// that do not fit are left out and counted by more(n); a line longer than
// the whole limit is shortened.
func fitLines(head string, lines []string, limit int, more func(int) string) string {
	total := len(head)
	for _, l := range lines {
		total += 1 + len(l)
	}
	if total <= limit {
		return strings.Join(append([]string{head}, lines...), "\n")
	}
	reserve := 1 + len(more(len(lines)))
	var b strings.Builder
	b.WriteString(head)
	room := limit - reserve
	shown := 0
	for _, l := range lines {
		if b.Len()+1+len(l) > room {
			if shown == 0 && b.Len()+1+16 < room {
				// Not even the first line fits: shorten it rather
				// than show nothing.
				b.WriteString("\n")
				b.WriteString(truncate(l, room-b.Len()))
				shown++
			}
			break
		}
		b.WriteString("\n")
		b.WriteString(l)
		shown++
	}
	if shown < len(lines) {
		b.WriteString("\n")
		b.WriteString(more(len(lines) - shown))
	}
	return b.String()
}

// truncate shortens s to at most n bytes, ending with "…", on a rune
// boundary and never inside an HTML entity (&amp;) or a `code` span's
// opening.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := max(n-len(ell), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	s = s[:cut]
	if amp := strings.LastIndexByte(s, '&'); amp >= 0 && !strings.Contains(s[amp:], ";") {
		s = s[:amp]
	}
	// An odd number of backticks would leave a code span open and run
	// into the "…": close it.
	if strings.Count(s, "`")%2 == 1 && len(s)+1+len(ell) <= n {
		s += "`"
	}
	return s + ell
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
