package slack_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goslack "github.com/slack-go/slack"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/notifiers"
	"github.com/ticketguard/ticketguard/notifiers/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var at = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

func check(id, title string, sev result.Severity, remediation string) result.Check {
	return result.Check{ID: id, Title: title, Severity: sev, Remediation: remediation}
}

// digest is a run with something in every section.
func digest() notifiers.Digest {
	fwd := check("external-forwarding", "External forwarding to the ticketing address is allowed", result.SeverityError,
		"1. Outbound anti-spam policy: Microsoft Defender portal > Email & collaboration > Policies & rules.\n"+
			"   PowerShell:\n     Set-HostedOutboundSpamFilterPolicy -Identity \"<policy name>\" -AutoForwardingMode On\n"+
			"2. Remote domain: Exchange admin centre > Mail flow > Remote domains.")
	contact := check("ticketing-contact", "Mail contact for the Atera ticketing address", result.SeverityError,
		"Exchange admin centre > Recipients > Contacts > Add a mail contact.\nPowerShell: New-MailContact -Name \"Atera Ticketing\" -ExternalEmailAddress acme@ticketing.atera.com")
	via := check("via-tag", `No "via" tag on ticket replies`, result.SeverityWarning, "Use custom SMTP.")
	return notifiers.Digest{
		Tenant:      "acme",
		TenantID:    "7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f",
		CollectedAt: at.Add(-2 * time.Minute),
		At:          at,
		Reasons:     []string{"new failures", "new indeterminate results", "drift", "newly resolved", "waiver expiring", "repeat interval elapsed"},
		NewFailures: []result.CheckResult{
			{Check: fwd, Status: result.Fail, Message: "automatic forwarding is blocked", Findings: []result.Finding{
				{Status: result.Fail, Message: `outbound policy "Default" has AutoForwardingMode Off for support@acme.com`, Resource: "Default"},
				{Status: result.Pass, Message: "remote domain allows forwarding"},
			}},
			{Check: contact, Status: result.Fail, Message: "no mail contact for acme@ticketing.atera.com"},
		},
		NewIndeterminate: []result.CheckResult{
			{Check: check("forwarding-keeps-copy", "Forwarding keeps a copy", result.SeverityError, ""), Status: result.Indeterminate,
				Findings: []result.Finding{{Status: result.Indeterminate, Message: "Get-Mailbox was not collected"}}},
		},
		SourceErrors: []result.SourceError{{Source: "Get-Mailbox", Message: "403 Forbidden: the app has no Exchange role"}},
		Drift: []drift.Change{{Kind: "mailbox", Key: "mailbox:b044", Label: `mailbox "Support" <support@acme.com>`,
			Property: "DeliverToMailboxAndForward", Change: drift.Changed, Before: true, After: false}},
		Resolved: []notifiers.Resolved{
			{Result: result.CheckResult{Check: check("send-as", "Send As for the SMTP user", result.SeverityError, ""), Status: result.Pass}, Was: result.Fail},
			{Result: result.CheckResult{Check: check("group-owner", "Group owner", result.SeverityWarning, ""), Status: result.Waived,
				Waiver: &result.Waiver{Reason: "migration in progress", Expires: "2026-12-31", Status: result.Warn}}, Was: result.Warn},
		},
		ExpiringWaivers: []result.CheckResult{
			{Check: via, Status: result.Waived, Waiver: &result.Waiver{Reason: "customer accepted the via tag", Expires: "2026-11-30", Status: result.Warn}},
		},
		StillFailing: []result.CheckResult{
			{Check: check("smtp-settings", "SMTP settings", result.SeverityError, ""), Status: result.Fail, Message: "port 25 is not submission"},
		},
		Summary: map[result.Status]int{result.Pass: 9, result.Fail: 3, result.Indeterminate: 1, result.Waived: 2},
	}
}

// rendered is a message as the golden file shows it.
type rendered struct {
	Text   string          `json:"text"`
	Blocks json.RawMessage `json:"blocks"`
}

func TestRenderGolden(t *testing.T) {
	m, err := slack.Renderer{}.Render(digest())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rendered{Text: m.Text, Blocks: m.Blocks}); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "render.golden.json")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("Render differs from %s (go test -update to accept):\n%s", golden, b.String())
	}
}

// blocksOf decodes rendered blocks with slack-go (what the notifier sends)
// and returns every text in them, by block type.
func blocksOf(t *testing.T, raw json.RawMessage) (goslack.Blocks, []string) {
	t.Helper()
	var bs goslack.Blocks
	if err := json.Unmarshal(raw, &bs); err != nil {
		t.Fatalf("blocks do not decode: %v", err)
	}
	var texts []string
	for _, b := range bs.BlockSet {
		switch b := b.(type) {
		case *goslack.SectionBlock:
			texts = append(texts, b.Text.Text)
		case *goslack.HeaderBlock:
			texts = append(texts, b.Text.Text)
		case *goslack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if tx, ok := e.(*goslack.TextBlockObject); ok {
					texts = append(texts, tx.Text)
				}
			}
		}
	}
	return bs, texts
}

func TestRenderContent(t *testing.T) {
	m, err := slack.Renderer{}.Render(digest())
	if err != nil {
		t.Fatal(err)
	}
	_, texts := blocksOf(t, m.Blocks)
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"acme: 2 new failures", // header
		"*External forwarding to the ticketing address is allowed* `external-forwarding` · error",    // title
		`outbound policy "Default" has AutoForwardingMode Off for support@acme.com — ` + "`Default`", // finding with object and value
		"Set-HostedOutboundSpamFilterPolicy -Identity \"&lt;policy name&gt;\"",                       // remediation, escaped
		"• no mail contact for acme@ticketing.atera.com",                                             // message when no findings
		"`Get-Mailbox`: 403 Forbidden: the app has no Exchange role",                                 // the source error
		`mailbox "Support" &lt;support@acme.com&gt;: DeliverToMailboxAndForward true → false`,        // drift.Describe, escaped
		"*Send As for the SMTP user* (`send-as`): was fail, now pass",
		"was warn, now waived through 2026-12-31 (migration in progress)",
		"waived through 2026-11-30 (4 days left): customer accepted the via tag. Without it the check is warn.",
		"*SMTP settings* (`smtp-settings`): port 25 is not submission",
		"`ticketguard show acme`",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	if strings.Contains(all, "remote domain allows forwarding") {
		t.Error("a passing finding is listed under a failure")
	}
	if strings.Contains(all, "<support@acme.com>") {
		t.Error("angle brackets not escaped: Slack would read them as a link")
	}
	if !strings.HasPrefix(m.Text, "ticketguard: acme: 2 new failures") {
		t.Errorf("fallback text = %q", m.Text)
	}
}

// hugeDigest is far beyond Block Kit's limits in every section.
func hugeDigest() notifiers.Digest {
	long := strings.Repeat("a very long finding message about support@acme.com & <things> ", 200)
	var d notifiers.Digest
	d.Tenant = "acme"
	d.At = at
	for i := range 60 {
		r := result.CheckResult{
			Check:  check(fmt.Sprintf("check-%03d", i), strings.Repeat("Title ", 60), result.SeverityError, strings.Repeat("step `cmd` & more\n", 400)),
			Status: result.Fail,
		}
		for j := range 30 {
			r.Findings = append(r.Findings, result.Finding{Status: result.Fail, Message: fmt.Sprintf("%d: %s", j, long), Resource: "mailbox-" + fmt.Sprint(j)})
		}
		d.NewFailures = append(d.NewFailures, r)
		d.NewIndeterminate = append(d.NewIndeterminate, r)
		d.StillFailing = append(d.StillFailing, r)
		d.Resolved = append(d.Resolved, notifiers.Resolved{Result: r, Was: result.Fail})
		d.ExpiringWaivers = append(d.ExpiringWaivers, result.CheckResult{Check: r.Check, Waiver: &result.Waiver{Expires: "2026-12-01", Reason: long}})
		d.SourceErrors = append(d.SourceErrors, result.SourceError{Source: "Get-Mailbox", Message: long})
	}
	for i := range 5000 {
		d.Drift = append(d.Drift, drift.Change{Kind: "mailbox", Key: fmt.Sprint(i), Label: fmt.Sprintf("mailbox %d <m%d@acme.com>", i, i),
			Property: "EmailAddresses", Change: drift.Changed, Before: "a", After: "b"})
	}
	d.Tenant = strings.Repeat("tenant-", 40)
	return d
}

// TestRenderLimits: the huge digest renders within the limits, summarised.
func TestRenderLimits(t *testing.T) {
	d := hugeDigest()
	for _, mask := range []bool{false, true} {
		m, err := slack.Renderer{MaskAddresses: mask}.Render(d)
		if err != nil {
			t.Fatal(err)
		}
		bs, texts := blocksOf(t, m.Blocks)
		if n := len(bs.BlockSet); n > slack.MaxBlocks {
			t.Errorf("%d blocks, limit %d", n, slack.MaxBlocks)
		}
		for _, b := range bs.BlockSet {
			switch b := b.(type) {
			case *goslack.SectionBlock:
				if n := len(b.Text.Text); n > slack.MaxSectionText {
					t.Errorf("section text of %d bytes, limit %d", n, slack.MaxSectionText)
				}
			case *goslack.HeaderBlock:
				if n := len([]rune(b.Text.Text)); n > 150 {
					t.Errorf("header of %d characters, limit 150", n)
				}
			}
		}
		all := strings.Join(texts, "\n")
		for _, want := range []string{"… and 4", "more new failures", "more changes", "… (shortened: `ticketguard policy explain"} {
			if !strings.Contains(all, want) {
				t.Errorf("mask=%v: no summary %q past the limits", mask, want)
			}
		}
		// Every section kind is still there, summarised.
		for _, want := range []string{"*Could not be evaluated (60)*", "*Changed since the previous run*", "*Resolved (60)*", "*Waivers ending soon (60)*", "*Still needs attention (60)*"} {
			if !strings.Contains(all, want) {
				t.Errorf("mask=%v: section %q crowded out", mask, want)
			}
		}
		// A cut never splits an escape sequence.
		for _, tx := range texts {
			if i := strings.LastIndex(tx, "&"); i >= 0 && !strings.Contains(tx[i:], ";") {
				t.Errorf("text ends inside an HTML entity: …%s", tx[max(0, len(tx)-40):])
			}
		}
		if len(m.Text) > 3000 {
			t.Errorf("fallback text of %d bytes", len(m.Text))
		}
	}
}

// TestRenderFewBlocksPerFailure: with more failures than fit two blocks
// each, every failure still gets its own section with a shortened fix.
func TestRenderFewBlocksPerFailure(t *testing.T) {
	var d notifiers.Digest
	d.Tenant = "acme"
	for i := range 30 {
		d.NewFailures = append(d.NewFailures, result.CheckResult{
			Check:  check(fmt.Sprintf("check-%02d", i), "Title", result.SeverityError, "Fix it like this."),
			Status: result.Fail, Message: "broken",
		})
	}
	m, err := slack.Renderer{}.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	bs, texts := blocksOf(t, m.Blocks)
	if len(bs.BlockSet) > slack.MaxBlocks {
		t.Fatalf("%d blocks", len(bs.BlockSet))
	}
	all := strings.Join(texts, "\n")
	for i := range 30 {
		if !strings.Contains(all, fmt.Sprintf("`check-%02d` · error", i)) {
			t.Errorf("check-%02d has no section", i)
		}
	}
	if strings.Contains(all, "more new failures") {
		t.Error("summarised although every failure fits one block")
	}
	if n := strings.Count(all, "Fix it like this."); n != 30 {
		t.Errorf("remediation shown %d times, want 30", n)
	}
}

func TestMasking(t *testing.T) {
	d := digest()
	m, err := slack.Renderer{MaskAddresses: true}.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	payload := string(m.Blocks) + m.Text
	for _, addr := range []string{"support@acme.com", "acme@ticketing.atera.com"} {
		if strings.Contains(payload, addr) {
			t.Errorf("masked message shows %s", addr)
		}
	}
	for _, masked := range []string{"s***@acme.com", "a***@ticketing.atera.com"} {
		if !strings.Contains(payload, masked) {
			t.Errorf("masked message lacks %s", masked)
		}
	}
	// Not masked: they are there.
	m, err = slack.Renderer{}.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.Blocks), "support@acme.com") {
		t.Error("unmasked message lacks the address")
	}
}

func TestMaskAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"support@acme.com":                                      "s***@acme.com",
		`"Support" <support@acme.com>`:                          `"Support" <s***@acme.com>`,
		"SMTP:help.desk+x@sub.acme.co.uk, smtp:a@b.io":          "SMTP:h***@sub.acme.co.uk, smtp:a***@b.io",
		"no address @ here, nor foo@bar":                        "no address @ here, nor foo@bar",
		"émile@acme.fr":                                         "é***@acme.fr",
		"sender noreply@atera.com, to acme@ticketing.atera.com": "sender noreply@atera.com, to a***@ticketing.atera.com",
		"user@notatera.com":                                     "u***@notatera.com",
	} {
		if got := slack.MaskAddresses(in); got != want {
			t.Errorf("MaskAddresses(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTestMessage(t *testing.T) {
	m, err := slack.Renderer{MaskAddresses: true}.TestMessage("acme", at)
	if err != nil {
		t.Fatal(err)
	}
	_, texts := blocksOf(t, m.Blocks)
	all := strings.Join(texts, "\n")
	for _, want := range []string{"tenant *acme*", "Nothing is wrong", "address masking on (s***@acme.com)", "2026-11-27 06:00:00 UTC"} {
		if !strings.Contains(all, want) {
			t.Errorf("test message lacks %q:\n%s", want, all)
		}
	}
}
