package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/snapshot"
)

// Benchmarks of the real engine (embedded policies, prepared query):
//
//	go test -run '^$' -bench . -benchmem ./internal/policy/

// tenantsGlob: the repository's realistic snapshots.
const tenantsGlob = "../../testdata/tenants/*.json"

var benchNow = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

func benchEngine(b *testing.B) *Engine {
	b.Helper()
	e, err := Load(context.Background(), Options{})
	if err != nil {
		b.Fatalf("load built-in policies: %v", err)
	}
	return e
}

// BenchmarkEvaluateOne: one realistic tenant (group method, custom SMTP),
// every check, through the prepared query.
func BenchmarkEvaluateOne(b *testing.B) {
	e := benchEngine(b)
	snap := realisticSnapshot("acme", 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Evaluate(ctx, snap, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate1000: 1,000 snapshots per iteration, cycling through
// testdata/tenants.
func BenchmarkEvaluate1000(b *testing.B) {
	e := benchEngine(b)
	snaps := benchSnapshots(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for i := range 1000 {
			if _, err := e.Evaluate(ctx, snaps[i%len(snaps)], benchNow); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchSnapshots loads testdata/tenants the way `ticketguard check` does:
// through snapshot.Load, which validates and normalises them (single
// objects wrapped, per-recipient keys lower-cased, annotations removed).
// Feeding the raw files instead would measure the checks on input they never
// see in production. Loading is outside the timed loop: this benchmark
// measures evaluation only.
func benchSnapshots(b *testing.B) []map[string]any {
	b.Helper()
	snaps, err := loadTenants()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("cycling %d normalised snapshots from %s", len(snaps), tenantsGlob)
	return snaps
}

// loadTenants returns the normalised Rego input of every repository tenant.
// No tenant is an error, not a reason to skip: a benchmark or test that
// silently measures nothing would hide a broken checkout.
func loadTenants() ([]map[string]any, error) {
	files, err := filepath.Glob(tenantsGlob)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no snapshot matches %s", tenantsGlob)
	}
	snaps := make([]map[string]any, 0, len(files))
	for _, f := range files {
		doc, err := snapshot.Load(f)
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, doc.Data)
	}
	return snaps, nil
}

// TestBenchSnapshotsAreNormalised guards the benchmark's input: every
// repository tenant loads, and what the engine gets is the normalised form.
// The raw files carry OData annotations (EmailAddresses@odata.type) and would
// decode to float64 numbers; neither reaches Rego in production.
func TestBenchSnapshotsAreNormalised(t *testing.T) {
	snaps, err := loadTenants()
	if err != nil {
		t.Fatal(err)
	}
	annotation := regexp.MustCompile(`.@(odata|data)\.`)
	var walk func(tenant int, path string, v any)
	walk = func(tenant int, path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if annotation.MatchString(k) {
					t.Errorf("tenant %d: %s.%s: annotation left in the Rego input", tenant, path, k)
				}
				walk(tenant, path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(tenant, path+"[]", x)
			}
		case float64:
			t.Errorf("tenant %d: %s is a float64; snapshot.Load keeps numbers as json.Number", tenant, path)
		}
	}
	for i, s := range snaps {
		walk(i, "snapshot", s)
		ex, _ := s["exchange"].(map[string]any)
		if _, ok := ex["Get-MailContact"].([]any); !ok {
			t.Errorf("tenant %d: exchange.Get-MailContact is %T, want an array", i, ex["Get-MailContact"])
		}
	}
}

// realisticSnapshot is a normalised snapshot of a tenant set up with method 1
// (distribution group) and custom SMTP, in Exchange Online's wire shapes.
// variant perturbs a few settings so that different checks fail across
// variants, as they would across a fleet of tenants.
func realisticSnapshot(name string, variant int) map[string]any {
	domain := name + ".com"
	support := "support@" + domain
	ticketing := name + "@ticketing.atera.com"
	helpdesk := "helpdesk@" + domain

	autoForwarding := "On"
	if variant%4 == 1 {
		autoForwarding = "Automatic"
	}
	viaTag := variant%3 == 2
	port := 587
	if variant%5 == 3 {
		port = 465
	}
	requireAuth := variant%6 == 5

	mailbox := func(alias, display, id, guid string, extra map[string]any) map[string]any {
		m := map[string]any{
			"Name": alias, "Alias": alias, "DisplayName": display,
			"Identity":                   id,
			"ExternalDirectoryObjectId":  id,
			"Guid":                       guid,
			"ExchangeObjectId":           guid,
			"PrimarySmtpAddress":         alias + "@" + domain,
			"EmailAddresses":             []any{"SMTP:" + alias + "@" + domain, "smtp:" + alias + "@" + name + ".onmicrosoft.com", "SPO:SPO_" + guid},
			"DistinguishedName":          "CN=" + alias + ",OU=" + name + ".onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=prod,DC=outlook,DC=com",
			"LegacyExchangeDN":           "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + guid + "-" + alias,
			"RecipientTypeDetails":       "UserMailbox",
			"ForwardingAddress":          nil,
			"ForwardingSmtpAddress":      nil,
			"DeliverToMailboxAndForward": false,
			"ProhibitSendQuota":          "99 GB (106,300,440,576 bytes)",
			"WhenCreated":                "2024-03-02T10:11:12.0000000+00:00",
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	return map[string]any{
		"schema_version": json.Number("1"),
		"tenant":         map[string]any{"name": name, "tenant_id": "4f1c2a9e-5b7d-4e0a-9c3f-" + fmt.Sprintf("%012d", variant), "default_domain": name + ".onmicrosoft.com"},
		"collected_at":   "2026-11-27T05:00:00Z",
		"atera": map[string]any{
			"ticketing_address": ticketing,
			"support_address":   support,
			"smtp":              map[string]any{"server": "smtp.office365.com", "port": json.Number(fmt.Sprint(port)), "ssl": true, "username": helpdesk},
		},
		"exchange": map[string]any{
			"Get-MailContact": []any{map[string]any{
				"Name": "Atera Ticketing", "Alias": "AteraTicketing", "DisplayName": "Atera Ticketing",
				"Identity":                  "AteraTicketing",
				"ExternalDirectoryObjectId": "0d2b4c6e-1111-4a2b-8c3d-000000000001",
				"Guid":                      "6a1d0c9e-2222-4f3a-9b1c-000000000001",
				"ExternalEmailAddress":      "SMTP:" + ticketing,
				"PrimarySmtpAddress":        ticketing,
				"EmailAddresses":            []any{"SMTP:" + ticketing},
				"DistinguishedName":         "CN=AteraTicketing,OU=" + name + ".onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=prod,DC=outlook,DC=com",
				"LegacyExchangeDN":          "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=6a1d0c9e-ateraticketing",
			}},
			"Get-DistributionGroup": []any{map[string]any{
				"Name": "Support", "Alias": "support", "DisplayName": "Support",
				"Identity":                               "Support",
				"ExternalDirectoryObjectId":              "3c5e7a9b-3333-4c5d-8e6f-000000000001",
				"Guid":                                   "9f8e7d6c-3333-4b5a-8c9d-000000000001",
				"PrimarySmtpAddress":                     support,
				"EmailAddresses":                         []any{"SMTP:" + support, "smtp:support@" + name + ".onmicrosoft.com"},
				"RequireSenderAuthenticationEnabled":     requireAuth,
				"AcceptMessagesOnlyFrom":                 []any{},
				"AcceptMessagesOnlyFromDLMembers":        []any{},
				"AcceptMessagesOnlyFromSendersOrMembers": []any{},
				"ManagedBy":                              []any{"helpdesk"},
				"RecipientTypeDetails":                   "MailUniversalDistributionGroup",
			}},
			"Get-DistributionGroupMember": map[string]any{
				support: []any{map[string]any{
					"Name": "AteraTicketing", "DisplayName": "Atera Ticketing", "Identity": "AteraTicketing",
					"PrimarySmtpAddress": ticketing, "RecipientType": "MailContact",
					"ExternalDirectoryObjectId": "0d2b4c6e-1111-4a2b-8c3d-000000000001",
				}},
			},
			"Get-Mailbox": []any{
				mailbox("helpdesk", "Helpdesk", "8b7a6c5d-4444-4e3f-9a1b-000000000001", "1a2b3c4d-4444-4e5f-8a9b-000000000001", nil),
				mailbox("alice", "Alice Example", "8b7a6c5d-4444-4e3f-9a1b-000000000002", "1a2b3c4d-4444-4e5f-8a9b-000000000002", nil),
			},
			"Get-CASMailbox": []any{
				map[string]any{"Identity": "8b7a6c5d-4444-4e3f-9a1b-000000000001", "PrimarySmtpAddress": helpdesk, "SmtpClientAuthenticationDisabled": false},
				map[string]any{"Identity": "8b7a6c5d-4444-4e3f-9a1b-000000000002", "PrimarySmtpAddress": "alice@" + domain, "SmtpClientAuthenticationDisabled": nil},
			},
			"Get-RecipientPermission": []any{
				map[string]any{"Identity": "Support", "Trustee": "NT AUTHORITY\\SELF", "AccessRights": []any{"SendAs"}, "AccessControlType": "Allow", "IsInherited": false},
				map[string]any{"Identity": "Support", "Trustee": helpdesk, "AccessRights": []any{"SendAs"}, "AccessControlType": "Allow", "IsInherited": false},
			},
			"Get-HostedOutboundSpamFilterPolicy": []any{
				map[string]any{"Name": "Default", "Identity": "Default", "IsDefault": true, "AutoForwardingMode": "Off"},
				map[string]any{"Name": "Atera forwarding", "Identity": "Atera forwarding", "IsDefault": false, "AutoForwardingMode": autoForwarding},
			},
			"Get-HostedOutboundSpamFilterRule": []any{map[string]any{
				"Name": "Atera forwarding", "Identity": "Atera forwarding", "HostedOutboundSpamFilterPolicy": "Atera forwarding",
				"Priority": json.Number("0"), "State": "Enabled",
				"From": []any{support}, "FromMemberOf": nil, "SenderDomainIs": nil,
				"ExceptIfFrom": nil, "ExceptIfFromMemberOf": nil, "ExceptIfSenderDomainIs": nil,
			}},
			"Get-AntiPhishPolicy": []any{map[string]any{
				"Name": "Office365 AntiPhish Default", "Identity": "Office365 AntiPhish Default",
				"IsDefault": true, "Enabled": true, "EnableViaTag": viaTag,
			}},
			"Get-AntiPhishRule": []any{},
			"Get-RemoteDomain": []any{
				map[string]any{"DomainName": "*", "Name": "Default", "Identity": "Default", "AutoForwardEnabled": false},
				map[string]any{"DomainName": "ticketing.atera.com", "Name": "Atera", "Identity": "Atera", "AutoForwardEnabled": true},
			},
			"Get-TransportRule": []any{map[string]any{
				"Name": "Disclaimer", "Identity": "Disclaimer", "State": "Enabled", "Mode": "Enforce", "Priority": json.Number("0"),
				"SentTo": nil, "RedirectMessageTo": nil, "BlindCopyTo": nil, "AddToRecipients": nil, "CopyTo": nil,
				"MessageTypeMatches": nil, "RejectMessageReasonText": nil, "DeleteMessage": false,
				"ApplyHtmlDisclaimerText": "<p>Confidential</p>",
			}},
			"Get-TransportConfig": []any{map[string]any{"Identity": "Transport Settings", "SmtpClientAuthenticationDisabled": true}},
			"Get-HostedConnectionFilterPolicy": []any{map[string]any{
				"Name": "Default", "Identity": "Default", "IsDefault": true,
				"IPAllowList": []any{
					"52.157.175.0/24", "40.113.216.0/24", "40.113.221.0/24", "40.113.222.0/24",
					"54.240.3.0/24", "51.144.126.0/24", "40.122.130.0/24", "54.240.106.94", "54.240.106.95",
				},
			}},
			"Get-InboxRule": map[string]any{},
		},
		"errors": []any{},
	}
}
