package collect

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ticketguard/ticketguard/collectors"
	"github.com/ticketguard/ticketguard/internal/config"
)

func TestRedactor(t *testing.T) {
	r := newRedactor("hunter2", "", "   ")
	r.add("hunter2-long") // contains the other: replaced whole, not as "[REDACTED]-long"
	got := r.redact("password hunter2-long then hunter2, twice hunter2")
	want := "password [REDACTED] then [REDACTED], twice [REDACTED]"
	if got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
	if got := r.redact("nothing secret here"); got != "nothing secret here" {
		t.Errorf("blank secrets must not match: %q", got)
	}
}

type fakeCred struct {
	token string
	err   error
}

func (f fakeCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: f.token, ExpiresOn: time.Now().Add(time.Hour)}, f.err
}

func TestRecordingCredentialRedactsIssuedTokens(t *testing.T) {
	r := newRedactor()
	c := recordingCredential{inner: fakeCred{token: "eyJhbGciOi.eyJzdWIi.sig"}, red: r}
	if _, err := c.GetToken(context.Background(), policy.TokenRequestOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := r.redact("Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig"); got != "Authorization: Bearer [REDACTED]" {
		t.Errorf("token not redacted: %q", got)
	}
	failing := recordingCredential{inner: fakeCred{token: "partial", err: errors.New("no")}, red: r}
	_, _ = failing.GetToken(context.Background(), policy.TokenRequestOptions{})
	if got := r.redact("partial"); got != "partial" {
		t.Error("a failed token request registered its (empty or partial) token")
	}
}

func TestSupportGroup(t *testing.T) {
	ex := map[string]any{"Get-DistributionGroup": []any{
		map[string]any{"PrimarySmtpAddress": "all@acme.com", "EmailAddresses": []any{"SMTP:all@acme.com"}},
		map[string]any{"PrimarySmtpAddress": "Helpdesk@acme.com", "EmailAddresses": []any{"SMTP:Helpdesk@acme.com", "smtp:support@acme.com", "X500:/o=x"}},
	}}
	for support, want := range map[string]string{
		"helpdesk@acme.com":      "helpdesk@acme.com",
		"SMTP:Support@Acme.com":  "helpdesk@acme.com", // a secondary address of the group: its primary is asked
		"support-mbx@acme.com":   "",                  // not a group: Graph has no members for it
		"":                       "",
		"x500:/o=x@nowhere.test": "",
	} {
		if got := supportGroup(ex, support); got != want {
			t.Errorf("supportGroup(%q) = %q, want %q", support, got, want)
		}
	}
	if got := supportGroup(map[string]any{}, "support@acme.com"); got != "" {
		t.Errorf("no groups collected: %q", got)
	}
}

func TestDefaultDomain(t *testing.T) {
	rows := func(r ...map[string]any) map[string]any {
		list := make([]any, len(r))
		for i, m := range r {
			list[i] = m
		}
		return map[string]any{"Get-AcceptedDomain": list}
	}
	cases := []struct {
		name string
		ex   map[string]any
		want string
	}{
		{"initial wins", rows(
			map[string]any{"DomainName": "acme.com", "Default": true},
			map[string]any{"DomainName": "acme.mail.onmicrosoft.com"},
			map[string]any{"DomainName": "Acme.onmicrosoft.com", "InitialDomain": true},
		), "acme.onmicrosoft.com"},
		{"onmicrosoft without the flag", rows(
			map[string]any{"DomainName": "acme.com", "Default": "True"},
			map[string]any{"DomainName": "acme.mail.onmicrosoft.com"},
			map[string]any{"DomainName": "acme.onmicrosoft.com"},
		), "acme.onmicrosoft.com"},
		{"default as the last resort", rows(map[string]any{"DomainName": "acme.com", "Default": true}), "acme.com"},
		{"not collected", map[string]any{}, ""},
	}
	for _, c := range cases {
		if got := defaultDomain(c.ex); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSelectTenants(t *testing.T) {
	cfg := &config.Config{Tenants: []config.Tenant{{Name: "acme"}, {Name: "globex"}, {Name: "initech"}}}
	got, err := selectTenants(cfg, []string{"Initech", "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "acme" || got[1].Name != "initech" {
		t.Errorf("got %v, want acme and initech in configuration order", got)
	}
	if _, err := selectTenants(cfg, []string{"umbrella"}); err == nil || !strings.Contains(err.Error(), "umbrella") {
		t.Errorf("unknown tenant: err = %v", err)
	}
	if all, _ := selectTenants(cfg, nil); len(all) != 3 {
		t.Errorf("no filter: %d tenants, want 3", len(all))
	}
	if _, err := selectTenants(&config.Config{}, nil); err == nil {
		t.Error("an empty configuration must be an error, not a run that collects nothing")
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	p := &progress{w: &buf, width: func() int { return 60 }, total: 10, now: func() time.Time { return clock },
		active: map[string]*tenantProgress{}}
	p.start("acme")
	p.step("acme", "Get-InboxRule")
	clock = clock.Add(12300 * time.Millisecond)
	buf.Reset()
	p.draw()
	if got := buf.String(); got != "\r\x1b[K[0/10] acme: Get-InboxRule (12.3s)" {
		t.Errorf("line = %q", got)
	}
	p.start("a-tenant-with-a-very-long-name-indeed")
	p.step("a-tenant-with-a-very-long-name-indeed", "graph:messageRules (12 mailboxes)")
	buf.Reset()
	p.draw()
	line := strings.TrimPrefix(buf.String(), "\r\x1b[K")
	if n := len([]rune(line)); n > 59 || !strings.HasSuffix(line, "…") {
		t.Errorf("long line not cut to the terminal: %d runes %q", n, line)
	}
	p.finish("acme")
	p.finish("a-tenant-with-a-very-long-name-indeed")
	buf.Reset()
	p.draw()
	if got := buf.String(); got != "\r\x1b[K[2/10]" {
		t.Errorf("line after both finished = %q", got)
	}

	// Not a terminal: silent, whatever happens.
	var pipe bytes.Buffer
	q := newProgress(&pipe, 3)
	q.start("acme")
	q.step("acme", "Get-Mailbox")
	q.finish("acme")
	q.close()
	if pipe.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", pipe.String())
	}
}

func TestNotAskedYet(t *testing.T) {
	tr := &tenantRun{}
	first := tr.notAskedYet(collectors.Wants{InboxRules: []string{"a@x.com", "b@x.com"}, Mailboxes: []string{"Gone User"}})
	if len(first.InboxRules) != 2 || len(first.Mailboxes) != 1 {
		t.Fatalf("first round: %+v", first)
	}
	// The next plan still wants the mailbox (the lookup found nothing) and
	// b's rules (A@X.COM differs only in case), and now c's.
	second := tr.notAskedYet(collectors.Wants{InboxRules: []string{"B@x.com", "c@x.com"}, Mailboxes: []string{"Gone User"}})
	if !reflect.DeepEqual(second, collectors.Wants{InboxRules: []string{"c@x.com"}}) {
		t.Errorf("second round = %+v, want c's inbox rules only", second)
	}
	want := map[string][]string{"inbox_rules": {"B@x.com"}, "mailboxes": {"Gone User"}}
	if !reflect.DeepEqual(tr.notFound, want) {
		t.Errorf("not found = %v, want %v", tr.notFound, want)
	}
	if third := tr.notAskedYet(second); !third.Empty() {
		t.Errorf("a value was asked twice: %+v", third)
	}
}
