package slack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/notifiers"
)

// FromConfig builds the notifier and the renderer the configuration's slack
// section describes, reading the token or webhook URL from where it says.
// Errors name the secret's source (env:NAME, file:PATH), never its value.
func FromConfig(c *config.Slack, hc *http.Client) (*Notifier, Renderer, error) {
	if c == nil {
		return nil, Renderer{}, fmt.Errorf("slack: no slack section in the configuration")
	}
	o := Options{DefaultChannel: c.DefaultChannel, APIURL: c.APIURL, HTTPClient: hc}
	switch {
	case c.BotToken != nil:
		tok, err := c.BotToken.Resolve()
		if err != nil {
			return nil, Renderer{}, fmt.Errorf("slack: bot token (%s): %w", c.BotToken, err)
		}
		o.BotToken = tok
	case c.WebhookURL != nil:
		hook, err := c.WebhookURL.Resolve()
		if err != nil {
			return nil, Renderer{}, fmt.Errorf("slack: webhook URL (%s): %w", c.WebhookURL, err)
		}
		o.WebhookURL = hook
	}
	n, err := New(o)
	if err != nil {
		return nil, Renderer{}, err
	}
	return n, Renderer{MaskAddresses: c.MaskAddresses}, nil
}

// TestMessage is what `ticketguard notify test` sends: it says which tenant
// the channel is for and that nothing is wrong, so nobody acts on it.
func (r Renderer) TestMessage(tenant string, at time.Time) (notifiers.Message, error) {
	about := "ticketguard alerts"
	if tenant != "" {
		about = "ticketguard alerts for tenant *" + r.text(tenant) + "*"
	}
	masking := "off"
	if r.MaskAddresses {
		masking = "on (" + MaskAddresses("support@acme.com") + ")"
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "ticketguard test message", false, false)),
		section(":wave: This channel receives " + about + ".\n" +
			"Nothing is wrong: this message was sent by `ticketguard notify test` to check the Slack configuration."),
		contextBlock(fmt.Sprintf("sent %s · address masking %s", at.UTC().Format("2006-01-02 15:04:05 UTC"), masking)),
	}
	raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		return notifiers.Message{}, fmt.Errorf("slack: render test message: %w", err)
	}
	return notifiers.Message{Tenant: tenant, Text: "ticketguard test message: Slack alerts reach this channel", Blocks: raw}, nil
}
