package drift

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Unit tests on hand-written views: the comparison rules. The end-to-end
// tests (snapshot -> Rego view -> Compare) are in snapshot_test.go.

func obj(kind, label string, sources []string, props map[string]any) map[string]any {
	ss := make([]any, len(sources))
	for i, s := range sources {
		ss[i] = s
	}
	return map[string]any{"kind": kind, "label": label, "sources": ss, "properties": props}
}

func src(collected bool) map[string]any {
	return obj("source", "source", nil, map[string]any{"collected": collected})
}

func ref(key, label string) map[string]any { return map[string]any{"ref": key, "label": label} }

func baseView() map[string]any {
	return map[string]any{
		"source:Get-Mailbox":     src(true),
		"source:Get-MailContact": src(true),
		"mailbox:m": obj("mailbox", `mailbox "Support" <support@acme.com>`, []string{"Get-Mailbox"}, map[string]any{
			"DeliverToMailboxAndForward": true,
			"ForwardingAddress":          []any{ref("contact:c", `contact "Atera Ticketing" <acme@ticketing.atera.com>`)},
			"EmailAddresses":             []any{"help@acme.com", "support@acme.com"},
			"Priority":                   json.Number("0"),
		}),
		"contact:c": obj("contact", `contact "Atera Ticketing" <acme@ticketing.atera.com>`, []string{"Get-MailContact"}, map[string]any{
			"ExternalEmailAddress": "acme@ticketing.atera.com",
		}),
		"atera": obj("atera", "Atera e-mail settings", nil, map[string]any{"smtp": nil}),
	}
}

// clone deep-copies a view through JSON, numbers kept as json.Number.
func clone(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func props(v map[string]any, key string) map[string]any {
	return v[key].(map[string]any)["properties"].(map[string]any)
}

func TestCompareEqualViews(t *testing.T) {
	v := baseView()
	if got := Compare(v, clone(t, v)); len(got) != 0 {
		t.Errorf("equal views: %v", got)
	}
	if got := Compare(map[string]any{}, nil); len(got) != 0 {
		t.Errorf("empty views: %v", got)
	}
}

func TestCompareReferencesByKey(t *testing.T) {
	before, after := baseView(), baseView()
	// The contact was renamed: the reference's label changes, its key not.
	props(after, "mailbox:m")["ForwardingAddress"] = []any{ref("contact:c", `contact "Atera" <acme@ticketing.atera.com>`)}
	if got := Compare(before, after); len(got) != 0 {
		t.Errorf("relabelled reference reported as drift: %v", got)
	}
	props(after, "mailbox:m")["ForwardingAddress"] = []any{ref("mailbox:x", `mailbox "Alice" <alice@acme.com>`)}
	got := Compare(before, after)
	if len(got) != 1 {
		t.Fatalf("want one change, got %v", got)
	}
	want := `mailbox "Support" <support@acme.com>: ForwardingAddress contact "Atera Ticketing" <acme@ticketing.atera.com> → mailbox "Alice" <alice@acme.com>`
	if d := Describe(got[0]); d != want {
		t.Errorf("Describe =\n%s\nwant\n%s", d, want)
	}
}

func TestCompareOneProperty(t *testing.T) {
	before, after := baseView(), baseView()
	props(after, "mailbox:m")["DeliverToMailboxAndForward"] = false
	props(after, "mailbox:m")["Priority"] = 0.0 // same number, another Go type
	got := Compare(before, after)
	want := []Change{{
		Kind: "mailbox", Key: "mailbox:m", Label: `mailbox "Support" <support@acme.com>`,
		Property: "DeliverToMailboxAndForward", Change: Changed, Before: true, After: false,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	if d := Describe(got[0]); d != `mailbox "Support" <support@acme.com>: DeliverToMailboxAndForward true → false` {
		t.Errorf("Describe = %s", d)
	}
}

func TestCompareSetsShowTheDelta(t *testing.T) {
	before, after := baseView(), baseView()
	props(after, "mailbox:m")["EmailAddresses"] = []any{"help@acme.com", "new@acme.com", "support@acme.com"}
	got := Compare(before, after)
	if len(got) != 1 {
		t.Fatalf("want one change, got %v", got)
	}
	if d := Describe(got[0]); d != `mailbox "Support" <support@acme.com>: EmailAddresses added "new@acme.com"` {
		t.Errorf("Describe = %s", d)
	}
}

func TestComparePropertyMissingOnOneSideIsNotAChange(t *testing.T) {
	before, after := baseView(), baseView()
	delete(props(after, "mailbox:m"), "ForwardingAddress") // could not be resolved this time
	if got := Compare(before, after); len(got) != 0 {
		t.Errorf("unreadable property reported: %v", got)
	}
}

func TestCompareAddedAndRemoved(t *testing.T) {
	before, after := baseView(), baseView()
	delete(after, "contact:c")
	after["mailbox:new"] = obj("mailbox", `mailbox "Alice" <alice@acme.com>`, []string{"Get-Mailbox"}, map[string]any{"DeliverToMailboxAndForward": false})
	got := Compare(before, after)
	if len(got) != 2 {
		t.Fatalf("want two changes, got %v", got)
	}
	// sorted by kind: contact before mailbox
	if got[0].Change != Removed || got[0].Key != "contact:c" || got[0].Before == nil || got[0].After != nil {
		t.Errorf("first change = %#v, want contact:c removed with its properties", got[0])
	}
	if got[1].Change != Added || got[1].Key != "mailbox:new" || got[1].Property != "" {
		t.Errorf("second change = %#v, want mailbox:new added", got[1])
	}
	if d := Describe(got[1]); d != `mailbox "Alice" <alice@acme.com>: added` {
		t.Errorf("Describe = %s", d)
	}
}

func TestCompareUncollectedSourceIsNotRemoval(t *testing.T) {
	before, after := baseView(), baseView()
	after["source:Get-Mailbox"] = src(false)
	delete(after, "mailbox:m")
	got := Compare(before, after)
	want := []Change{{
		Kind: "source", Key: "source:Get-Mailbox", Label: "source", Property: "collected",
		Change: Changed, Before: true, After: false,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant only the source change", got)
	}
	// A per-recipient source (present only when collected) that disappears:
	// its objects are not removed, and the source itself is not reported.
	before["source:Get-InboxRule support@acme.com"] = src(true)
	before["inbox-rule:m/1"] = obj("inbox-rule", "inbox rule", []string{"Get-InboxRule support@acme.com", "Get-Mailbox"}, map[string]any{"Enabled": true})
	after = baseView()
	if got := Compare(before, after); len(got) != 0 {
		t.Errorf("rules of a mailbox whose rules were not collected reported: %v", got)
	}
}

func TestCompareIsSorted(t *testing.T) {
	before := map[string]any{}
	after := map[string]any{
		"transport-rule:b": obj("transport-rule", `transport rule "B"`, nil, map[string]any{}),
		"transport-rule:a": obj("transport-rule", `transport rule "A"`, nil, map[string]any{}),
		"contact:z":        obj("contact", `contact "Z"`, nil, map[string]any{}),
	}
	var keys []string
	for _, c := range Compare(before, after) {
		keys = append(keys, c.Key)
	}
	if want := []string{"contact:z", "transport-rule:a", "transport-rule:b"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("order = %v, want %v", keys, want)
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		x, y any
		want bool
	}{
		{nil, nil, true},
		{nil, []any{}, false}, // the view writes [] for empty sets; null is a single value's "not set"
		{json.Number("1"), json.Number("1.0"), true},
		{json.Number("1"), "1", false},
		{"On", "on", false},
		{[]any{"a", "b"}, []any{"a", "b"}, true},
		{[]any{"a", "b"}, []any{"b", "a"}, false},
		{ref("k", "one"), ref("k", "two"), true},
		{ref("k", "one"), map[string]any{"ref": "k"}, false},
		{map[string]any{"a": true}, map[string]any{"a": true}, true},
		{map[string]any{"a": true}, map[string]any{"a": true, "b": nil}, false},
	}
	for _, tc := range tests {
		if got := Equal(tc.x, tc.y); got != tc.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

func TestWriteText(t *testing.T) {
	before, after := baseView(), baseView()
	props(after, "mailbox:m")["DeliverToMailboxAndForward"] = false
	props(after, "mailbox:m")["EmailAddresses"] = []any{"support@acme.com"}
	after["transport-rule:r"] = obj("transport-rule", `transport rule "Redirect"`, []string{}, map[string]any{
		"State": "Enabled", "SentTo": []any{}, "RedirectMessageTo": []any{ref("contact:c", `contact "Atera Ticketing" <acme@ticketing.atera.com>`)},
		"Priority": json.Number("1"), "RejectMessageReasonText": nil,
	})
	var b bytes.Buffer
	if err := WriteText(&b, Compare(before, after)); err != nil {
		t.Fatal(err)
	}
	want := `mailbox "Support" <support@acme.com>
  DeliverToMailboxAndForward true → false
  EmailAddresses removed "help@acme.com"
transport rule "Redirect" (added)
  Priority 1
  RedirectMessageTo contact "Atera Ticketing" <acme@ticketing.atera.com>
  State "Enabled"
`
	if b.String() != want {
		t.Errorf("text =\n%s\nwant\n%s", b.String(), want)
	}
	if s := Summary(Compare(before, after)); s != "1 object changed, 1 added, 0 removed" {
		t.Errorf("Summary = %s", s)
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("no changes = %s, want []", b.String())
	}
	b.Reset()
	before, after := baseView(), baseView()
	props(after, "mailbox:m")["DeliverToMailboxAndForward"] = false
	if err := WriteJSON(&b, Compare(before, after)); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{
		"kind": "mailbox", "key": "mailbox:m", "label": `mailbox "Support" <support@acme.com>`,
		"property": "DeliverToMailboxAndForward", "change": "changed", "before": true, "after": false,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON = %v\nwant %v", got, want)
	}
	if strings.Contains(b.String(), `\u003c`) {
		t.Errorf("JSON escapes < and >: %s", b.String())
	}
}
