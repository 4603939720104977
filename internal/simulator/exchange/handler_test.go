package exchange_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/simulator/exchange"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/simulator/identity"
)

// tokens accepts "Bearer <tenant id>" for the admin API audience, so these
// tests exercise the handler alone; the collector tests use real tokens.
type tokens struct{}

func (tokens) Validate(authorization, audience string) (string, error) {
	if audience != exchange.Audience {
		return "", errors.New("wrong audience")
	}
	tid, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return "", errors.New("no token")
	}
	return tid, nil
}

type sim struct {
	h      *exchange.Handler
	srv    *httptest.Server
	client *http.Client
	faults *fault.Injector
	set    *fixture.Set
}

func load(t *testing.T, names ...string) *fixture.Set {
	t.Helper()
	var tenants []*fixture.Tenant
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "tenants", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		tn, err := fixture.FromSnapshot(data)
		if err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, tn)
	}
	set, err := fixture.NewSet(tenants...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func newSim(t *testing.T, set *fixture.Set, opts exchange.Options) *sim {
	t.Helper()
	auth, err := identity.New(identity.Options{Tenants: set})
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{faults: &fault.Injector{}, set: set}
	opts.Tenants, opts.Tokens, opts.Faults = set, tokens{}, s.faults
	s.h, err = exchange.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewUnstartedServer(s.h)
	s.srv.TLS = auth.ServerTLSConfig()
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	s.client = auth.HTTPClient()
	return s
}

const (
	mailboxTenant = "e2d419ac-3af9-4da2-831c-750e799ecd60" // compliant-mailbox
	smtpTenant    = "fc886aff-8df2-4fff-bc0e-3eca8529e4b7" // compliant-custom-smtp
	legacyTenant  = "85d11f11-e577-4f82-88ef-2c6f86729320" // legacy-identities
)

type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (s *sim) call(t *testing.T, url, tenant, cmdlet string, params map[string]any, hdr map[string]string) reply {
	t.Helper()
	if url == "" {
		url = s.srv.URL + "/adminapi/beta/" + tenant + "/InvokeCommand"
	}
	if params == nil {
		params = map[string]any{}
	}
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tenant)
	req.Header.Set("X-AnchorMailbox", "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+tenant)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func values(t *testing.T, r reply) []map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	arr, ok := r.body["value"].([]any)
	if !ok {
		t.Fatalf("no value array: %s", r.raw)
	}
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		out[i] = v.(map[string]any)
	}
	return out
}

func detailsMessage(t *testing.T, r reply) string {
	t.Helper()
	e, _ := r.body["error"].(map[string]any)
	if e == nil || e["message"] != "Invalid Operation" {
		t.Fatalf("not Exchange's error envelope: %s", r.raw)
	}
	d, _ := e["details"].([]any)
	if len(d) == 0 {
		t.Fatalf("no details: %s", r.raw)
	}
	msg, _ := d[0].(map[string]any)["message"].(string)
	inner, _ := e["innererror"].(map[string]any)["internalexception"].(map[string]any)["message"].(string)
	if !strings.HasSuffix(msg, "|"+inner) {
		t.Errorf("details %q and internalexception %q disagree", msg, inner)
	}
	return msg
}

func TestEnvelopeAndAnnotations(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox"), exchange.Options{})
	r := s.call(t, "", mailboxTenant, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}, nil)
	rows := values(t, r)
	if len(rows) != 5 {
		t.Fatalf("%d mailboxes, want 5", len(rows))
	}
	if r.body["@odata.context"] != s.srv.URL+"/adminapi/beta/"+mailboxTenant+"/$metadata#Collection(Exchange.GenericHashTable)" {
		t.Errorf("@odata.context = %v", r.body["@odata.context"])
	}
	if r.body["adminapi.warnings@odata.type"] != "#Collection(String)" {
		t.Errorf("warnings type = %v", r.body["adminapi.warnings@odata.type"])
	}
	if w, ok := r.body["@adminapi.warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("@adminapi.warnings = %v, want []", r.body["@adminapi.warnings"])
	}
	if _, ok := r.body["@odata.nextLink"]; ok {
		t.Error("a complete answer carries a nextLink")
	}
	for _, row := range rows {
		if row["EmailAddresses@odata.type"] != "#Collection(String)" || row["ObjectClass@odata.type"] != "#Collection(String)" {
			t.Errorf("collection annotation missing on %v", row["Alias"])
		}
	}
	r = s.call(t, "", mailboxTenant, "Get-TransportRule", map[string]any{"ResultSize": "Unlimited"}, nil)
	for _, row := range values(t, r) {
		if row["Priority@data.type"] != "System.Int32" {
			t.Errorf("Priority annotation = %v", row["Priority@data.type"])
		}
	}
}

func TestPagingFollowsNextLinks(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox"), exchange.Options{PageSize: 2})
	params := map[string]any{"ResultSize": "Unlimited"}
	hdr := map[string]string{"Prefer": "odata.maxpagesize=1000"}
	var got []string
	url, pages := "", 0
	for {
		r := s.call(t, url, mailboxTenant, "Get-Mailbox", params, hdr)
		pages++
		for _, row := range values(t, r) {
			got = append(got, row["Alias"].(string))
		}
		next, _ := r.body["@odata.nextLink"].(string)
		warnings, _ := r.body["@adminapi.warnings"].([]any)
		if next == "" {
			if len(warnings) != 0 {
				t.Errorf("last page warns: %v", warnings)
			}
			break
		}
		if !strings.HasPrefix(next, s.srv.URL+"/adminapi/beta/"+mailboxTenant+"/InvokeCommand?$skiptoken=") {
			t.Fatalf("nextLink %q is not an absolute link to the endpoint", next)
		}
		if len(warnings) != 1 || warnings[0] != exchange.MoreResultsWarning {
			t.Errorf("partial page warnings = %v", warnings)
		}
		url = next
	}
	if pages != 3 || len(got) != 5 {
		t.Fatalf("%d pages, %d mailboxes (%v); want 3 pages, 5 mailboxes", pages, len(got), got)
	}
	seen := map[string]bool{}
	for _, a := range got {
		if seen[a] {
			t.Errorf("%s returned twice", a)
		}
		seen[a] = true
	}
}

func TestNextLinkReplayedWithAnotherBodyIsRefused(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox"), exchange.Options{PageSize: 2})
	r := s.call(t, "", mailboxTenant, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}, nil)
	next, _ := r.body["@odata.nextLink"].(string)
	if next == "" {
		t.Fatal("no nextLink")
	}
	r = s.call(t, next, mailboxTenant, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited", "Filter": "Alias -eq 'support'"}, nil)
	if r.status != 400 || !strings.Contains(detailsMessage(t, r), "Expired or Invalid pagination request") {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
}

func TestExpireNextLinks(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox"), exchange.Options{PageSize: 2, ExpireNextLinks: true})
	params := map[string]any{"ResultSize": "Unlimited"}
	r := s.call(t, "", mailboxTenant, "Get-Mailbox", params, nil)
	r = s.call(t, r.body["@odata.nextLink"].(string), mailboxTenant, "Get-Mailbox", params, nil)
	if r.status != 400 {
		t.Fatalf("status %d, want 400", r.status)
	}
}

func TestResultSizeDefaultTruncatesAtAThousand(t *testing.T) {
	tn := &fixture.Tenant{Name: "big", TenantID: "11111111-2222-3333-4444-555555555555", Exchange: map[string]any{}}
	var boxes []any
	for i := range 1001 {
		boxes = append(boxes, map[string]any{"Alias": fmt.Sprintf("u%d", i), "PrimarySmtpAddress": fmt.Sprintf("u%d@big.example", i)})
	}
	tn.Exchange["Get-Mailbox"] = boxes
	set, err := fixture.NewSet(tn)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, set, exchange.Options{})
	r := s.call(t, "", tn.TenantID, "Get-Mailbox", nil, nil)
	if n := len(values(t, r)); n != 1000 {
		t.Errorf("%d rows without ResultSize, want 1000", n)
	}
	if _, ok := r.body["@odata.nextLink"]; ok {
		t.Error("a ResultSize truncation carries a nextLink")
	}
	if w, _ := r.body["@adminapi.warnings"].([]any); len(w) != 1 || !strings.Contains(w[0].(string), "more results") {
		t.Errorf("warnings = %v", r.body["@adminapi.warnings"])
	}
	r = s.call(t, "", tn.TenantID, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}, nil)
	if n := len(values(t, r)); n != 1000 || r.body["@odata.nextLink"] == nil {
		t.Errorf("Unlimited: first page %d rows, nextLink %v; want 1000 and a link", n, r.body["@odata.nextLink"])
	}
	r = s.call(t, "", tn.TenantID, "Get-Mailbox", map[string]any{"ResultSize": 10}, nil)
	if n := len(values(t, r)); n != 10 {
		t.Errorf("ResultSize 10: %d rows", n)
	}
	r = s.call(t, "", tn.TenantID, "Get-Mailbox", map[string]any{"ResultSize": "lots"}, nil)
	if r.status != 400 || !strings.Contains(detailsMessage(t, r), "ParameterTransformationException") {
		t.Errorf("ResultSize lots: %d %s", r.status, r.raw)
	}
}

func TestIdentityResolvesEveryForm(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox"), exchange.Options{})
	for _, ref := range []string{
		"support", "support@contosodental.com", "SMTP:Support@ContosoDental.com", "support@contosodental.onmicrosoft.com",
		"5a1fdd1f-4ee9-4128-99e0-d16183cb8c76",
	} {
		rows := values(t, s.call(t, "", mailboxTenant, "Get-Mailbox", map[string]any{"Identity": ref}, nil))
		if len(rows) != 1 || rows[0]["Alias"] != "support" {
			t.Errorf("Identity %q resolved to %v", ref, rows)
		}
		// Every other identity form the object has must resolve to it too.
		if ref == "support" {
			for _, k := range []string{"DistinguishedName", "Guid", "ExchangeObjectId", "LegacyExchangeDN", "DisplayName"} {
				form, _ := rows[0][k].(string)
				again := values(t, s.call(t, "", mailboxTenant, "Get-Mailbox", map[string]any{"Identity": form}, nil))
				if len(again) != 1 || again[0]["Alias"] != "support" {
					t.Errorf("%s %q resolved to %d objects", k, form, len(again))
				}
			}
		}
	}
	r := s.call(t, "", mailboxTenant, "Get-Mailbox", map[string]any{"Identity": "nobody@contosodental.com"}, nil)
	if r.status != 404 || !strings.HasPrefix(detailsMessage(t, r), "|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'nobody@contosodental.com' couldn't be found") {
		t.Errorf("unknown identity: %d %s", r.status, r.raw)
	}
}

func TestForwardingFilter(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox"), exchange.Options{})
	f := "ForwardingAddress -ne $null -or ForwardingSmtpAddress -ne $null -or EmailAddresses -eq 'smtp:frontdesk@contosodental.com'"
	rows := values(t, s.call(t, "", mailboxTenant, "Get-Mailbox", map[string]any{"Filter": f, "ResultSize": "Unlimited"}, nil))
	var got []string
	for _, r := range rows {
		got = append(got, r["Alias"].(string))
	}
	if strings.Join(got, ",") != "frontdesk,support" {
		t.Errorf("filter matched %v, want frontdesk and support", got)
	}
	r := s.call(t, "", mailboxTenant, "Get-Mailbox", map[string]any{"Filter": "ForwardingAddress -gt $null"}, nil)
	if r.status != 400 || !strings.Contains(detailsMessage(t, r), "Invalid filter syntax") {
		t.Errorf("unsupported filter: %d %s", r.status, r.raw)
	}
}

func TestPerRecipientCmdlets(t *testing.T) {
	s := newSim(t, load(t, "compliant-custom-smtp", "compliant-group", "legacy-identities"), exchange.Options{})
	rules := values(t, s.call(t, "", smtpTenant, "Get-InboxRule", map[string]any{"Mailbox": "dd4a015f-296d-422f-bf75-5a32defc38c0"}, nil))
	if len(rules) != 1 || rules[0]["Name"] != "Carrier tracking updates" {
		t.Errorf("inbox rules = %v", rules)
	}
	if id, _ := rules[0]["RuleIdentity"].(float64); id < 1e19 {
		t.Errorf("RuleIdentity = %v, want the uint64 value", rules[0]["RuleIdentity"])
	}
	if rules := values(t, s.call(t, "", smtpTenant, "Get-InboxRule", map[string]any{"Mailbox": "helpdesk"}, nil)); len(rules) != 0 {
		t.Errorf("a mailbox without rules has %v", rules)
	}
	if r := s.call(t, "", smtpTenant, "Get-InboxRule", map[string]any{"Mailbox": "ghost@tailspintoys.com"}, nil); r.status != 404 {
		t.Errorf("unknown mailbox: %d", r.status)
	}

	const groupTenant = "2b0e398e-1e0f-4146-a103-feab6e8e582b"
	members := values(t, s.call(t, "", groupTenant, "Get-DistributionGroupMember", map[string]any{"Identity": "support@northwindtraders.com", "ResultSize": "Unlimited"}, nil))
	if len(members) != 1 || members[0]["PrimarySmtpAddress"] != "northwind@ticketing.atera.com" {
		t.Errorf("members = %v", members)
	}
	if m := values(t, s.call(t, "", groupTenant, "Get-DistributionGroupMember", map[string]any{"Identity": "All Staff"}, nil)); len(m) != 0 {
		t.Errorf("a group without fixture members has %v", m)
	}

	perms := values(t, s.call(t, "", smtpTenant, "Get-RecipientPermission", map[string]any{"Identity": "support@tailspintoys.com", "AccessRights": "SendAs"}, nil))
	if len(perms) != 2 {
		t.Errorf("support permissions = %v", perms)
	}
	if p := values(t, s.call(t, "", smtpTenant, "Get-RecipientPermission", map[string]any{"Identity": "orders@tailspintoys.com", "AccessRights": "SendAs"}, nil)); len(p) != 0 {
		t.Errorf("orders has the support mailbox's permissions: %v", p)
	}
	// Legacy tenant: rows name the mailbox by alias.
	perms = values(t, s.call(t, "", legacyTenant, "Get-RecipientPermission", map[string]any{"Identity": "support@adventure-works.com", "AccessRights": "SendAs", "Trustee": "servicedesk"}, nil))
	if len(perms) != 1 {
		t.Errorf("legacy permissions = %v", perms)
	}

	cas := values(t, s.call(t, "", smtpTenant, "Get-CASMailbox", map[string]any{"Identity": "helpdesk@tailspintoys.com"}, nil))
	if len(cas) != 1 || cas[0]["SmtpClientAuthenticationDisabled"] != false {
		t.Errorf("fixture CAS row = %v", cas)
	}
	cas = values(t, s.call(t, "", smtpTenant, "Get-CASMailbox", map[string]any{"Identity": "orders@tailspintoys.com"}, nil))
	if len(cas) != 1 || cas[0]["SmtpClientAuthenticationDisabled"] != nil || cas[0]["PrimarySmtpAddress"] != "orders@tailspintoys.com" {
		t.Errorf("derived CAS row = %v", cas)
	}
}

func TestRequestErrors(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox"), exchange.Options{})
	r := s.call(t, "", mailboxTenant, "Get-Nonsense", nil, nil)
	if r.status != 400 || !strings.HasPrefix(detailsMessage(t, r), "|System.Management.Automation.CommandNotFoundException|The term 'Get-Nonsense' is not recognized") {
		t.Errorf("unknown cmdlet: %d %s", r.status, r.raw)
	}
	r = s.call(t, "", mailboxTenant, "Get-AcceptedDomain", map[string]any{"BogusParameter": 1}, nil)
	if r.status != 400 || !strings.Contains(detailsMessage(t, r), "AmbiguousParameterSetException|Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. BogusParameter") {
		t.Errorf("unknown parameter: %d %s", r.status, r.raw)
	}
	r = s.call(t, "", mailboxTenant, "Get-HostedOutboundSpamFilterPolicy", map[string]any{"ResultSize": "Unlimited"}, nil)
	if r.status != 400 {
		t.Errorf("ResultSize on a cmdlet without it: %d", r.status)
	}
	r = s.call(t, "", mailboxTenant, "Get-DistributionGroupMember", nil, nil)
	if r.status != 400 || !strings.Contains(detailsMessage(t, r), "missing mandatory parameters: Identity") {
		t.Errorf("missing Identity: %d %s", r.status, r.raw)
	}
}

func TestAuthAndAnchor(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox", "compliant-custom-smtp"), exchange.Options{})
	if r := s.call(t, "", mailboxTenant, "Get-AcceptedDomain", nil, map[string]string{"Authorization": ""}); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d", r.status)
	}
	if r := s.call(t, "", mailboxTenant, "Get-AcceptedDomain", nil, map[string]string{"Authorization": "Bearer " + smtpTenant}); r.status != 401 {
		t.Errorf("another tenant's token: %d", r.status)
	}
	if r := s.call(t, "", mailboxTenant, "Get-AcceptedDomain", nil, map[string]string{"X-AnchorMailbox": ""}); r.status != 400 {
		t.Errorf("no anchor: %d", r.status)
	}
	if r := s.call(t, "", mailboxTenant, "Get-AcceptedDomain", nil, map[string]string{"X-AnchorMailbox": "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + smtpTenant}); r.status != 400 {
		t.Errorf("another tenant's anchor: %d", r.status)
	}
	if r := s.call(t, "", mailboxTenant, "Get-AcceptedDomain", nil, map[string]string{"X-AnchorMailbox": "UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contosodental.onmicrosoft.com"}); r.status != 200 {
		t.Errorf("UPN anchor: %d", r.status)
	}
	// The tenant may be named by its domain in the path.
	if r := s.call(t, s.srv.URL+"/adminapi/beta/contosodental.onmicrosoft.com/InvokeCommand", mailboxTenant, "Get-AcceptedDomain", nil, nil); r.status != 200 {
		t.Errorf("tenant by domain: %d %s", r.status, r.raw)
	}
}

func TestFaults(t *testing.T) {
	s := newSim(t, load(t, "compliant-mailbox"), exchange.Options{ForbiddenNUL: true})
	s.faults.Add(fault.Rule{Endpoint: "exchange:Get-InboxRule", Kind: fault.Forbidden})
	s.faults.Add(fault.Rule{Endpoint: "exchange:Get-Mailbox", Kind: fault.Truncate, Times: 1})
	s.faults.Add(fault.Rule{Endpoint: "exchange:Get-RemoteDomain", Kind: fault.Throttle, Times: 1, RetryAfter: 2 * time.Second})

	r := s.call(t, "", mailboxTenant, "Get-InboxRule", map[string]any{"Mailbox": "support"}, nil)
	if r.status != 403 || len(r.raw) != 4096 || len(bytes.Trim(r.raw, "\x00")) != 0 {
		t.Errorf("forbidden: %d, %d bytes", r.status, len(r.raw))
	}
	r = s.call(t, "", mailboxTenant, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}, nil)
	if r.status != 200 || json.Valid(r.raw) {
		t.Errorf("truncated: %d, valid JSON %v", r.status, json.Valid(r.raw))
	}
	r = s.call(t, "", mailboxTenant, "Get-RemoteDomain", nil, nil)
	if r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Errorf("throttled: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if r = s.call(t, "", mailboxTenant, "Get-RemoteDomain", nil, nil); r.status != 200 {
		t.Errorf("after the fault: %d", r.status)
	}
	if s.h.Calls(mailboxTenant, "Get-RemoteDomain") != 2 || s.h.Calls(mailboxTenant, "") != 4 {
		t.Errorf("calls: %d remote domain, %d total", s.h.Calls(mailboxTenant, "Get-RemoteDomain"), s.h.Calls(mailboxTenant, ""))
	}
}

func TestStrictFixtures(t *testing.T) {
	set := load(t, "indeterminate-missing-cmdlets")
	tid := "" // read it from the set
	for _, tn := range set.All() {
		tid = tn.TenantID
	}
	lax := newSim(t, set, exchange.Options{})
	if r := lax.call(t, "", tid, "Get-HostedOutboundSpamFilterRule", nil, nil); r.status != 200 || len(values(t, r)) != 0 {
		t.Errorf("lax: %d %s", r.status, r.raw)
	}
	strict := newSim(t, set, exchange.Options{StrictFixtures: true})
	if r := strict.call(t, "", tid, "Get-HostedOutboundSpamFilterRule", nil, nil); r.status != 403 {
		t.Errorf("strict: %d %s", r.status, r.raw)
	}
	if r := strict.call(t, "", tid, "Get-RemoteDomain", map[string]any{"ResultSize": "Unlimited"}, nil); r.status != 200 {
		t.Errorf("strict, present cmdlet: %d", r.status)
	}
}

// inboxTenant is a two-mailbox tenant whose only inbox rule is support's.
// inbox is its Get-InboxRule value: "absent" leaves the key out.
func inboxTenant(name string, inbox any, graph map[string]any) *fixture.Tenant {
	mbx := func(alias string) map[string]any {
		addr := alias + "@fabrikam.example"
		return map[string]any{"Name": alias, "Alias": alias, "DisplayName": alias, "PrimarySmtpAddress": addr,
			"EmailAddresses": []any{"SMTP:" + addr}, "RecipientTypeDetails": "SharedMailbox",
			"ExternalDirectoryObjectId": fixture.NameGUID("mailbox", name+alias)}
	}
	ex := map[string]any{"Get-Mailbox": []any{mbx("support"), mbx("helpdesk")}}
	if inbox != "absent" {
		ex["Get-InboxRule"] = inbox
	}
	return &fixture.Tenant{Name: name, TenantID: fixture.NameGUID("tenant", name), Exchange: ex, Graph: graph}
}

// A mailbox the Get-InboxRule map leaves out has no rules, as in the Graph
// simulator; a fixture with no inbox rules at all (no Get-InboxRule, or
// null, which a snapshot writes for "not collected") answers 403, a
// missing role, even without StrictFixtures: an empty answer would let a
// check pass on rules nobody provided. The Graph simulator answers 500.
func TestInboxRulesMissingFromTheFixture(t *testing.T) {
	rules := map[string]any{"support@fabrikam.example": []any{map[string]any{"Name": "to Atera", "RuleIdentity": 1, "Enabled": true}}}
	graphRules := map[string]any{"messageRules": map[string]any{"support@fabrikam.example": []any{}}}
	set, err := fixture.NewSet(
		inboxTenant("listed", rules, nil),
		inboxTenant("absent", "absent", nil),
		inboxTenant("null", nil, nil),
		inboxTenant("graph-only", "absent", graphRules),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []exchange.Options{{}, {StrictFixtures: true}} {
		s := newSim(t, set, opts)
		id := func(name string) string { tn, _ := set.ByName(name); return tn.TenantID }
		ask := func(tenant, mailbox string) reply {
			return s.call(t, "", id(tenant), "Get-InboxRule", map[string]any{"Mailbox": mailbox}, nil)
		}
		if got := values(t, ask("listed", "support@fabrikam.example")); len(got) != 1 {
			t.Errorf("strict=%v: support's rules = %v", opts.StrictFixtures, got)
		}
		if r := ask("listed", "helpdesk@fabrikam.example"); r.status != 200 || len(values(t, r)) != 0 {
			t.Errorf("strict=%v: a mailbox the map leaves out: %d %s", opts.StrictFixtures, r.status, r.raw)
		}
		for _, tenant := range []string{"absent", "null", "graph-only"} {
			r := ask(tenant, "support@fabrikam.example")
			if r.status != 403 || !strings.Contains(detailsMessage(t, r), "has no Get-InboxRule data") {
				t.Errorf("strict=%v, %s: %d %s", opts.StrictFixtures, tenant, r.status, r.raw)
			}
		}
	}
}
