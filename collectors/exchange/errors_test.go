package exchange

import (
	"net/url"
	"strings"
	"testing"
)

// Bodies as the live service sends them (SPEC.md §3; captures published by
// other admin-API clients): the text sits in innererror.internalexception,
// in details[0] behind "|Type|", or both.
const (
	liveInvalidEnum  = `{"error":{"code":"BadRequest","message":"Invalid Operation","innererror":{"message":"Invalid Operation","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException","stacktrace":"","internalexception":{"message":"Cannot process argument transformation on parameter 'QuarantineTypes'.","type":"Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException","stacktrace":""}},"adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[]}}`
	liveUnknownParam = `{"error":{"code":"BadRequest","message":"Invalid Operation","details":[{"code":"Client","target":"","message":"|Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException|Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. BogusParameter"}],"innererror":{"message":"Invalid Operation","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException","stacktrace":"","internalException":{"message":"Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. BogusParameter","type":"Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException","stacktrace":""}}}}`
	detailsOnly      = `{"error":{"code":"NotFound","message":"Invalid Operation","details":[{"code":"Client","target":"","message":"|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found on 'A.PROD.OUTLOOK.COM'."}]}}`
	messageOnly      = `{"error":{"code":"BadRequest","message":"Invalid Operation"}}`
)

func TestParseError(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		typ, msg   string
		hint       string
		notFound   bool
	}{
		{"internalexception only", liveInvalidEnum, 400, "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException", "Cannot process argument transformation on parameter 'QuarantineTypes'.", "", false},
		{"internalexception wins over details", liveUnknownParam, 400, "Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException", "Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. BogusParameter", "", false},
		{"details with |Type| stripped", detailsOnly, 404, "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException", "The operation couldn't be performed because object 'x' couldn't be found on 'A.PROD.OUTLOOK.COM'.", "", true},
		{"message as a last resort", messageOnly, 400, "", "Invalid Operation", "", false},
		{"NUL body", strings.Repeat("\x00", 4096), 403, "", "the reply body is 4096 NUL bytes, not JSON", hint403, false},
		{"HTML page", "<html><body>Bad gateway</body></html>", 502, "", "the reply body is not Exchange's error JSON: <html><body>Bad gateway</body></html>", hint5xx, false},
		{"empty", "", 401, "", "empty reply body", hint401, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := parseError("Get-X", c.status, []byte(c.body))
			if e.Type != c.typ || e.Message != c.msg || e.Hint != c.hint || e.NotFound() != c.notFound {
				t.Errorf("got type %q message %q hint %q notFound %v", e.Type, e.Message, e.Hint, e.NotFound())
			}
			if strings.ContainsRune(e.Error(), 0) || !strings.HasPrefix(e.Error(), "Get-X: HTTP ") {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
	if h := parseError("Get-InboxRule", 403, nil).Hint; h != hint403IR {
		t.Errorf("Get-InboxRule 403 hint = %q", h)
	}
	if h := parseError("Get-X", 401, []byte(`{"error":{"message":"Lifetime validation failed, the token is expired."}}`)).Hint; h != hintExp {
		t.Errorf("expired token hint = %q", h)
	}
}

func TestDecodePage(t *testing.T) {
	ok := []struct {
		name, body string
		n          int
		next       string
		warnings   int
	}{
		{"complete", `{"@odata.context":"x","adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],"value":[{"A":1},{"A":2}]}`, 2, "", 0},
		{"null value", `{"value":null,"@adminapi.warnings":[]}`, 0, "", 0},
		{"unprefixed nextLink", `{"value":[{}],"odata.nextLink":"https://h/p?$skiptoken=1","@adminapi.warnings":["more results"]}`, 1, "https://h/p?$skiptoken=1", 1},
		{"warning as a string", `{"value":[],"@adminapi.warnings":"There are more results available"}`, 0, "", 1},
	}
	for _, c := range ok {
		pg, err := decodePage([]byte(c.body))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(pg.value) != c.n || pg.nextLink != c.next || len(pg.warnings) != c.warnings {
			t.Errorf("%s: %d values, next %q, warnings %v", c.name, len(pg.value), pg.nextLink, pg.warnings)
		}
	}
	bad := map[string]string{
		"truncated":      `{"value":[{"A":1},{"A"`,
		"no value":       `{"@adminapi.warnings":[]}`,
		"value not list": `{"value":{"A":1}}`,
		"trailing data":  `{"value":[]}{"value":[]}`,
		"NUL":            "\x00\x00\x00",
		"empty":          "  ",
		"not JSON":       "<html>",
	}
	for name, body := range bad {
		if pg, err := decodePage([]byte(body)); err == nil {
			t.Errorf("%s: accepted as %+v", name, pg)
		}
	}
	pg, err := decodePage([]byte(`{"value":[{"RuleIdentity":16554222777665994753}]}`))
	if err != nil || pg.value[0]["RuleIdentity"].(interface{ String() string }).String() != "16554222777665994753" {
		t.Errorf("large integer lost precision: %v %v", pg, err)
	}
}

func TestCheckNextLink(t *testing.T) {
	u, _ := url.Parse("https://outlook.office365.com/adminapi/beta/t1/InvokeCommand")
	c := &Client{invoke: u}
	if err := c.checkNextLink("https://outlook.office365.com/adminapi/beta/t1/InvokeCommand?$skiptoken=abc"); err != nil {
		t.Error(err)
	}
	for _, link := range []string{
		"https://evil.example/adminapi/beta/t1/InvokeCommand?$skiptoken=abc",
		"http://outlook.office365.com/adminapi/beta/t1/InvokeCommand?$skiptoken=abc",
		"https://outlook.office365.com/adminapi/beta/t2/InvokeCommand?$skiptoken=abc",
		"/adminapi/beta/t1/InvokeCommand?$skiptoken=abc",
	} {
		if c.checkNextLink(link) == nil {
			t.Errorf("followed %s", link)
		}
	}
}

func TestMailboxFilter(t *testing.T) {
	got := MailboxFilter("SMTP:Support@Contoso.com", "", "o'brien@contoso.com", "support@contoso.com", "not-an-address")
	want := "ForwardingAddress -ne $null -or ForwardingSmtpAddress -ne $null -or EmailAddresses -eq 'smtp:support@contoso.com' -or EmailAddresses -eq 'smtp:o''brien@contoso.com'"
	if got != want {
		t.Errorf("filter = %s", got)
	}
}
