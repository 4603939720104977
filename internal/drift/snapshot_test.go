package drift_test

// End to end: a repository tenant and a copy edited in the test, both read
// through internal/snapshot and viewed by the real policies, then compared.
// This is what `ticketguard diff` and `serve` do.

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/snapshot"
)

var engine = sync.OnceValues(func() (*policy.Engine, error) {
	return policy.Load(context.Background(), policy.Options{})
})

const (
	mailboxTenant = "../../testdata/tenants/compliant-mailbox.json"
	smtpTenant    = "../../testdata/tenants/compliant-custom-smtp.json"

	// compliant-mailbox.json's support mailbox and its ticketing contact
	supportKey   = "mailbox:5a1fdd1f-4ee9-4128-99e0-d16183cb8c76"
	supportLabel = `mailbox "Support" <support@contosodental.com>`
	contactName  = "Atera Ticketing"
)

// view reads the tenant file, lets edit change the raw document (as
// Exchange's JSON, before normalisation), and returns its drift view.
func view(t *testing.T, path string, edit func(doc map[string]any)) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc)
		if raw, err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
	}
	d, err := snapshot.Parse(path, raw)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	e, err := engine()
	if err != nil {
		t.Fatalf("load policies: %v", err)
	}
	v, err := e.View(context.Background(), d.Data)
	if err != nil {
		t.Fatalf("view %s: %v", path, err)
	}
	return v
}

func cmdlet(doc map[string]any, name string) []any {
	list, _ := doc["exchange"].(map[string]any)[name].([]any)
	return list
}

// find returns the raw object of a cmdlet whose field has that value.
func find(t *testing.T, doc map[string]any, name, field, value string) map[string]any {
	t.Helper()
	for _, o := range cmdlet(doc, name) {
		if m := o.(map[string]any); m[field] == value {
			return m
		}
	}
	t.Fatalf("%s has no object with %s %q", name, field, value)
	return nil
}

func support(t *testing.T, doc map[string]any) map[string]any {
	return find(t, doc, "Get-Mailbox", "PrimarySmtpAddress", "support@contosodental.com")
}

func noDrift(t *testing.T, before, after map[string]any) {
	t.Helper()
	if changes := drift.Compare(before, after); len(changes) != 0 {
		for _, c := range changes {
			t.Errorf("unexpected drift: %s", drift.Describe(c))
		}
	}
}

func TestNoDriftForIdentityWrittenAnotherWay(t *testing.T) {
	before := view(t, mailboxTenant, nil)
	forms := map[string]func(contact map[string]any) string{
		"Guid":                      func(c map[string]any) string { return c["Guid"].(string) },
		"ExternalDirectoryObjectId": func(c map[string]any) string { return c["ExternalDirectoryObjectId"].(string) },
		"DistinguishedName":         func(c map[string]any) string { return c["DistinguishedName"].(string) },
		"address":                   func(c map[string]any) string { return "SMTP:" + c["PrimarySmtpAddress"].(string) },
		"inbox-rule form":           func(c map[string]any) string { return `"Atera Ticketing" [EX:` + c["LegacyExchangeDN"].(string) + `]` },
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			after := view(t, mailboxTenant, func(doc map[string]any) {
				contact := find(t, doc, "Get-MailContact", "Name", contactName)
				support(t, doc)["ForwardingAddress"] = form(contact)
			})
			noDrift(t, before, after)
		})
	}
	// Rule conditions name recipients too: the support mailbox by its GUID
	// instead of its address.
	t.Run("rule condition", func(t *testing.T) {
		after := view(t, mailboxTenant, func(doc map[string]any) {
			rule := cmdlet(doc, "Get-HostedOutboundSpamFilterRule")[0].(map[string]any)
			rule["From"] = []any{support(t, doc)["Guid"]}
		})
		noDrift(t, before, after)
	})
}

func TestNoDriftForReorderedMultiValuedProperties(t *testing.T) {
	t.Run("EmailAddresses", func(t *testing.T) {
		before := view(t, mailboxTenant, nil)
		after := view(t, mailboxTenant, func(doc map[string]any) {
			for _, m := range cmdlet(doc, "Get-Mailbox") {
				addrs := m.(map[string]any)["EmailAddresses"].([]any)
				slices.Reverse(addrs)
			}
		})
		noDrift(t, before, after)
	})
	t.Run("IPAllowList", func(t *testing.T) {
		before := view(t, smtpTenant, nil)
		after := view(t, smtpTenant, func(doc map[string]any) {
			p := cmdlet(doc, "Get-HostedConnectionFilterPolicy")[0].(map[string]any)
			list := p["IPAllowList"].([]any)
			slices.Reverse(list)
			// and one /24 written as two /25s
			for i, e := range list {
				if e == "52.157.175.0/24" {
					list[i] = "52.157.175.128/25"
					list = append(list, "52.157.175.0/25")
				}
			}
			p["IPAllowList"] = list
		})
		noDrift(t, before, after)
	})
}

func TestNoDriftForVolatileFields(t *testing.T) {
	before := view(t, mailboxTenant, nil)
	after := view(t, mailboxTenant, func(doc map[string]any) {
		for _, name := range []string{"Get-Mailbox", "Get-MailContact", "Get-HostedOutboundSpamFilterPolicy", "Get-TransportRule"} {
			for _, o := range cmdlet(doc, name) {
				o.(map[string]any)["WhenChanged"] = "2026-11-27T05:59:59.0000000+00:00"
				o.(map[string]any)["WhenChangedUTC"] = "2026-11-27T05:59:59Z"
			}
		}
		doc["collected_at"] = "2026-11-28T06:00:00Z"
	})
	noDrift(t, before, after)
}

func TestNoDriftForAnnotationKeys(t *testing.T) {
	before := view(t, mailboxTenant, nil)
	after := view(t, mailboxTenant, func(doc map[string]any) {
		s := support(t, doc)
		s["DeliverToMailboxAndForward@data.type"] = "System.Boolean"
		s["EmailAddresses@odata.type"] = "#Collection(String)"
		s["ForwardingAddress@odata.type"] = "#String"
	})
	noDrift(t, before, after)
}

func TestNoDriftForPropertiesTheChecksDoNotRead(t *testing.T) {
	before := view(t, mailboxTenant, nil)
	after := view(t, mailboxTenant, func(doc map[string]any) {
		s := support(t, doc)
		s["ProhibitSendQuota"] = "1 GB (1,073,741,824 bytes)"
		s["HiddenFromAddressListsEnabled"] = true
		s["LitigationHoldEnabled"] = true
		for _, o := range cmdlet(doc, "Get-HostedOutboundSpamFilterPolicy") {
			o.(map[string]any)["RecipientLimitPerDay"] = 42
		}
		doc["exchange"].(map[string]any)["Get-AcceptedDomain"] = []any{}
	})
	noDrift(t, before, after)
}

func TestDeliverToMailboxAndForwardFlipped(t *testing.T) {
	before := view(t, mailboxTenant, nil)
	after := view(t, mailboxTenant, func(doc map[string]any) {
		support(t, doc)["DeliverToMailboxAndForward"] = false
	})
	changes := drift.Compare(before, after)
	if len(changes) != 1 {
		t.Fatalf("want exactly one change, got %d: %v", len(changes), changes)
	}
	c := changes[0]
	if c.Key != supportKey || c.Property != "DeliverToMailboxAndForward" || c.Change != drift.Changed {
		t.Errorf("change = %+v", c)
	}
	if got, want := drift.Describe(c), supportLabel+": DeliverToMailboxAndForward true → false"; got != want {
		t.Errorf("Describe = %s\nwant      %s", got, want)
	}
}

func TestForwardingRetargeted(t *testing.T) {
	before := view(t, mailboxTenant, nil)
	after := view(t, mailboxTenant, func(doc map[string]any) {
		support(t, doc)["ForwardingAddress"] = "Front Desk"
	})
	changes := drift.Compare(before, after)
	if len(changes) != 1 {
		t.Fatalf("want one change, got %v", changes)
	}
	want := supportLabel + `: ForwardingAddress contact "Atera Ticketing" <contosodental@ticketing.atera.com> → mailbox "Front Desk" <frontdesk@contosodental.com>`
	if got := drift.Describe(changes[0]); got != want {
		t.Errorf("Describe = %s\nwant      %s", got, want)
	}
}

func TestObjectAddedAndRemoved(t *testing.T) {
	before := view(t, mailboxTenant, nil)
	after := view(t, mailboxTenant, func(doc map[string]any) {
		ex := doc["exchange"].(map[string]any)
		// a second contact goes, a transport rule arrives
		var contacts []any
		for _, c := range cmdlet(doc, "Get-MailContact") {
			if c.(map[string]any)["Name"] == contactName {
				contacts = append(contacts, c)
			}
		}
		ex["Get-MailContact"] = contacts
		ex["Get-TransportRule"] = append(cmdlet(doc, "Get-TransportRule"), map[string]any{
			"Name": "Block auto-forwarding", "Identity": "Block auto-forwarding", "Guid": "0b1f6c55-8a53-4b71-9a1c-3c3e2f1d9a10",
			"State": "Enabled", "Mode": "Enforce", "Priority": 1,
			"MessageTypeMatches": "AutoForward", "RejectMessageReasonText": "External forwarding is not allowed",
			"WhenChanged": "2026-11-27T05:00:00Z",
		})
	})
	changes := drift.Compare(before, after)
	var got []string
	for _, c := range changes {
		got = append(got, drift.Describe(c))
	}
	want := []string{
		`contact "Crown & Bridge Lab" <cases@crownbridgelab.example.com>: removed`,
		`transport rule "Block auto-forwarding": added`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%q\nwant\n%q", got, want)
	}
}

func TestCollectionFailureIsNotRemoval(t *testing.T) {
	before := view(t, mailboxTenant, nil)
	after := view(t, mailboxTenant, func(doc map[string]any) {
		delete(doc["exchange"].(map[string]any), "Get-Mailbox")
		doc["errors"] = []any{map[string]any{"source": "Get-Mailbox", "message": "The request was throttled (429)"}}
	})
	changes := drift.Compare(before, after)
	if len(changes) != 1 || changes[0].Key != "source:Get-Mailbox" || changes[0].Before != true || changes[0].After != false {
		for _, c := range changes {
			t.Log(drift.Describe(c))
		}
		t.Fatalf("want only the source Get-Mailbox collected true → false, got %d changes", len(changes))
	}
}

// A change made while a run was partial (Get-Mailbox failed in run B) is not
// visible between B and C, but Uncollected names the source and
// CompareSources against run A reports exactly that change.
func TestPartialRunBridgedByOlderRun(t *testing.T) {
	a := view(t, mailboxTenant, nil)
	b := view(t, mailboxTenant, func(doc map[string]any) {
		doc["errors"] = []any{map[string]any{"source": "Get-Mailbox", "message": "throttled"}}
	})
	c := view(t, mailboxTenant, func(doc map[string]any) {
		support(t, doc)["DeliverToMailboxAndForward"] = false
	})
	for _, ch := range drift.Compare(b, c) {
		if ch.Property == "DeliverToMailboxAndForward" {
			t.Fatalf("B did not collect Get-Mailbox, yet B→C reports %v", ch)
		}
	}
	missing := drift.Uncollected(b, c)
	if !slices.Contains(missing, "Get-Mailbox") {
		t.Fatalf("Uncollected(B, C) = %v, want Get-Mailbox", missing)
	}
	if !drift.Covers(a, missing) || drift.Covers(b, missing) {
		t.Errorf("Covers: A has every missing source, B does not")
	}
	bridged := drift.CompareSources(a, c, missing)
	if len(bridged) != 1 || bridged[0].Property != "DeliverToMailboxAndForward" || bridged[0].Key != supportKey {
		t.Errorf("CompareSources(A, C) = %v, want the one DeliverToMailboxAndForward change", bridged)
	}
	if got := drift.CompareSources(a, a, missing); len(got) != 0 {
		t.Errorf("no change, yet CompareSources reports %v", got)
	}
}
