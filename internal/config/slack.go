package config

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// The `slack` section: where `ticketguard serve` sends its alerts.
//
//	slack:
//	  bot_token: {env: SLACK_BOT_TOKEN}   # or webhook_url: {file: /run/secrets/slack-webhook}
//	  default_channel: "#m365-alerts"     # bot token only: channel name or ID
//	  channels:                           # bot token only: per-tenant override
//	    contoso.eu: C0123456789
//	  mask_addresses: false               # s***@acme.com in Slack messages
//	  repeat_interval: 24h                # re-announce unchanged failures; 0s: never
//	  api_url: https://slack.com/api      # tests and proxies only

// Slack defaults.
const (
	DefaultSlackAPIURL    = "https://slack.com/api"
	DefaultRepeatInterval = 24 * time.Hour
)

// Slack configures the Slack notifier. Exactly one of BotToken and
// WebhookURL is set. A bot token posts with chat.postMessage, so messages
// can go to a channel per tenant, follow-ups are threaded under the alert
// they follow up, and messages can be updated; an incoming webhook posts to
// the one channel it was created for, without threads.
type Slack struct {
	BotToken   *Secret
	WebhookURL *Secret // the URL is the secret: it is never logged
	// DefaultChannel is a channel name ("#m365-alerts") or ID
	// ("C0123456789"); empty with a webhook, or when every tenant has its
	// own entry in Channels.
	DefaultChannel string
	// Channels maps tenant names, as written in tenants[].name, to the
	// channel their alerts go to instead of DefaultChannel.
	Channels map[string]string
	// MaskAddresses shortens mailbox addresses in Slack messages to their
	// first letter and domain (s***@acme.com).
	MaskAddresses bool
	// RepeatInterval is how long an unchanged failure waits before it is
	// announced again, as a reply in the tenant's thread; 0 never repeats.
	RepeatInterval time.Duration
	// APIURL is the Slack Web API base, without a trailing slash.
	APIURL string
}

// Channel is where the tenant's alerts go: its entry in Channels, else
// DefaultChannel (empty with a webhook).
func (s *Slack) Channel(tenant string) string {
	if s == nil {
		return ""
	}
	for name, ch := range s.Channels {
		if strings.EqualFold(name, tenant) {
			return ch
		}
	}
	return s.DefaultChannel
}

func (s *Slack) relativeTo(dir string) {
	if s != nil {
		s.BotToken.relativeTo(dir)
		s.WebhookURL.relativeTo(dir)
	}
}

// fileSlack mirrors the `slack` section (see file.go).
type fileSlack struct {
	BotToken       *Secret           `yaml:"bot_token"`
	WebhookURL     *Secret           `yaml:"webhook_url"`
	DefaultChannel string            `yaml:"default_channel"`
	Channels       map[string]string `yaml:"channels"`
	MaskAddresses  *bool             `yaml:"mask_addresses"`
	RepeatInterval *string           `yaml:"repeat_interval"`
	APIURL         *string           `yaml:"api_url"`
}

// channelPattern accepts a channel name, with or without '#' (Slack's rules:
// lower case, digits, '-', '_' and '.', at most 80), or a channel ID.
var channelPattern = regexp.MustCompile(`^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{8,})$`)

// slack builds the section; tenants are the built tenants, for checking the
// names in channels.
func (b *builder) slack(f *fileSlack, tenants []Tenant) *Slack {
	if f == nil {
		return nil
	}
	const path = "$.slack"
	s := &Slack{
		BotToken:       copySecret(f.BotToken),
		WebhookURL:     copySecret(f.WebhookURL),
		DefaultChannel: f.DefaultChannel,
		RepeatInterval: b.duration(path+".repeat_interval", f.RepeatInterval, DefaultRepeatInterval, true),
		APIURL:         b.endpoint(path+".api_url", f.APIURL, DefaultSlackAPIURL),
	}
	if f.MaskAddresses != nil {
		s.MaskAddresses = *f.MaskAddresses
	}

	switch {
	case f.BotToken != nil && f.WebhookURL != nil:
		b.fail(path+".webhook_url", "set either bot_token or webhook_url, not both")
	case f.BotToken == nil && f.WebhookURL == nil:
		b.fail(path, "Slack needs a bot_token ({env: NAME} or {file: PATH}; threads and a channel per tenant) or a webhook_url (one channel, no threads)")
	case f.WebhookURL != nil:
		// A webhook is bound to its channel; a channel here would be
		// silently ignored and alerts would land somewhere unexpected.
		if f.DefaultChannel != "" {
			b.fail(path+".default_channel", "a webhook posts to the channel it was created for: remove default_channel, or use bot_token")
		}
		if len(f.Channels) > 0 {
			b.fail(path+".channels", "a webhook posts to the channel it was created for: per-tenant channels need bot_token")
		}
	}

	if f.DefaultChannel != "" && !channelPattern.MatchString(f.DefaultChannel) {
		b.fail(path+".default_channel", "%q is not a channel name (#m365-alerts) or ID (C0123456789)", f.DefaultChannel)
	}
	if len(f.Channels) > 0 {
		known := map[string]bool{}
		for _, t := range tenants {
			known[strings.ToLower(t.Name)] = true
		}
		names := make([]string, 0, len(f.Channels))
		for name := range f.Channels {
			names = append(names, name)
		}
		sort.Strings(names)
		s.Channels = make(map[string]string, len(names))
		for _, name := range names {
			ch := f.Channels[name]
			p := path + ".channels." + name
			switch {
			case !known[strings.ToLower(name)]:
				b.fail(p, "no tenant named %q in tenants", name)
			case !channelPattern.MatchString(ch):
				b.fail(p, "%q is not a channel name (#m365-alerts) or ID (C0123456789)", ch)
			default:
				s.Channels[name] = ch
			}
		}
	}
	if f.BotToken != nil && f.DefaultChannel == "" {
		for _, t := range tenants {
			if t.Name != "" && s.Channel(t.Name) == "" {
				b.fail(path+".default_channel", "required with bot_token: the channel alerts go to (tenant %q has no entry in channels)", t.Name)
				break
			}
		}
	}
	return s
}
