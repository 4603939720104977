package suggest

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"Get-Mailbox", "Get-MailContact", "external-forwarding", "send-as"}
	cases := map[string]string{
		"Get-Mailboxes":      "Get-Mailbox",
		"get-mailcontact":    "Get-MailContact",
		"external-forwardng": "external-forwarding",
		"send_as":            "send-as",
		"Get-TransportRule":  "", // nothing close: no wild guess
		"":                   "",
	}
	for in, want := range cases {
		if got := Closest(in, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
