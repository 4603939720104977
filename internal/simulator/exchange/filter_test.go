package exchange

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFilter(t *testing.T) {
	support := map[string]any{
		"Alias": "support", "ForwardingAddress": "Atera Ticketing", "ForwardingSmtpAddress": nil,
		"EmailAddresses":             []any{"SMTP:support@contoso.com", "smtp:support@contoso.onmicrosoft.com", "SIP:support@contoso.com"},
		"DeliverToMailboxAndForward": true, "Priority": json.Number("3"),
	}
	smtpFwd := map[string]any{
		"Alias": "dana", "ForwardingAddress": nil, "ForwardingSmtpAddress": "smtp:dana@gmail.com",
		"EmailAddresses": []any{"SMTP:dana@contoso.com"}, "DeliverToMailboxAndForward": false,
	}
	plain := map[string]any{
		"Alias": "helpdesk", "ForwardingAddress": nil, "ForwardingSmtpAddress": "",
		"EmailAddresses": []any{"SMTP:helpdesk@contoso.com", "smtp:helpdesk@contoso.onmicrosoft.com"},
	}
	objs := map[string]map[string]any{"support": support, "dana": smtpFwd, "helpdesk": plain}
	cases := []struct {
		filter string
		want   string // matching aliases, sorted, comma-joined
	}{
		{"ForwardingAddress -ne $null -or ForwardingSmtpAddress -ne $null", "dana,support"},
		{"ForwardingAddress -ne $null -or ForwardingSmtpAddress -ne $null -or EmailAddresses -eq 'smtp:helpdesk@contoso.com'", "dana,helpdesk,support"},
		{"EmailAddresses -eq 'SMTP:HELPDESK@contoso.onmicrosoft.com'", "helpdesk"},
		{"EmailAddresses -eq 'helpdesk@contoso.com'", "helpdesk"},
		{"ForwardingSmtpAddress -eq $null", "helpdesk,support"},
		{"DeliverToMailboxAndForward -eq $true", "support"},
		{"-not (DeliverToMailboxAndForward -eq $true)", "dana,helpdesk"},
		{"(Alias -like 'd*' -or Alias -eq \"helpdesk\") -and ForwardingAddress -eq $null", "dana,helpdesk"},
		{"Alias -notlike '*desk'", "dana,support"},
		{"Alias -eq 'it''s'", ""},
		{"Priority -eq 3", "support"},
	}
	for _, c := range cases {
		node, err := parseFilter(c.filter, knownProps([]map[string]any{support, smtpFwd, plain}))
		if err != nil {
			t.Errorf("%s: %v", c.filter, err)
			continue
		}
		var got []string
		for _, alias := range []string{"dana", "helpdesk", "support"} {
			if node.match(objs[alias]) {
				got = append(got, alias)
			}
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s matched %v, want %s", c.filter, got, c.want)
		}
	}
}

func TestFilterRefusesWhatItCannotParse(t *testing.T) {
	known := knownProps(nil)
	for _, f := range []string{
		"ForwardingAddress -ne",
		"ForwardingAddress -gt 3",
		"NoSuchProperty -eq 'x'",
		"Alias -eq 'unterminated",
		"(Alias -eq 'a'",
		"Alias -eq 'a' Alias -eq 'b'",
		"Alias -like $null",
	} {
		_, err := parseFilter(f, known)
		if err == nil {
			t.Errorf("%q was accepted", f)
			continue
		}
		if !strings.HasPrefix(err.Error(), "Cannot bind parameter 'Filter'") {
			t.Errorf("%q: error %q is not Exchange's", f, err)
		}
	}
}
