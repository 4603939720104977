// Package slack delivers ticketguard alerts to Slack and renders them as
// Block Kit messages.
//
// Two ways in: a bot token (chat.postMessage, so a channel per tenant,
// follow-ups threaded under the alert, chat.update) or an incoming webhook
// (one channel fixed when the webhook was created; no threads and no
// updates, because a webhook returns no message timestamp to thread under).
//
// The notifier sends one message and classifies the outcome (see
// notifiers.Notifier); it never retries by itself: retries are the outbox's
// job (internal/alert), which survives a restart. A token or webhook URL
// never appears in an error: every error is rebuilt from a redacted text.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/ticketguard/ticketguard/notifiers"
)

// DefaultAPIURL is Slack's Web API base.
const DefaultAPIURL = "https://slack.com/api"

// defaultTimeout bounds one call to Slack. A timed-out post may still have
// been delivered: the outbox then sends it again (at-least-once).
const defaultTimeout = 30 * time.Second

// Options configures a Notifier. Exactly one of BotToken and WebhookURL is set.
type Options struct {
	BotToken   string
	WebhookURL string
	// DefaultChannel is used for messages without a channel (bot token only).
	DefaultChannel string
	// APIURL is the Web API base (DefaultAPIURL when empty); tests point it
	// at a local server.
	APIURL string
	// HTTPClient is used for every call; nil means a client with a 30s timeout.
	HTTPClient *http.Client
}

// Notifier posts messages to Slack. It is safe for concurrent use.
type Notifier struct {
	api            *slack.Client // nil for a webhook
	webhook        string
	defaultChannel string
	http           *http.Client
	redactor       *redactor
}

var _ notifiers.Notifier = (*Notifier)(nil)

// New returns a notifier. Its errors never quote the token or the URL.
func New(o Options) (*Notifier, error) {
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	n := &Notifier{http: hc, defaultChannel: o.DefaultChannel, redactor: newRedactor(o.BotToken, o.WebhookURL)}
	switch {
	case o.BotToken != "" && o.WebhookURL != "":
		return nil, errors.New("slack: set either a bot token or a webhook URL, not both")
	case o.WebhookURL != "":
		if err := checkWebhookURL(o.WebhookURL); err != nil {
			return nil, err
		}
		n.webhook = o.WebhookURL
	case o.BotToken != "":
		if strings.ContainsAny(o.BotToken, " \t\r\n") {
			return nil, errors.New("slack: the bot token contains white space (a stray newline in the secret file?)")
		}
		base := o.APIURL
		if base == "" {
			base = DefaultAPIURL
		}
		// slack-go appends the method name to the base: the trailing
		// slash is required.
		n.api = slack.New(o.BotToken, slack.OptionAPIURL(strings.TrimRight(base, "/")+"/"), slack.OptionHTTPClient(hc))
	default:
		return nil, errors.New("slack: a bot token or a webhook URL is required")
	}
	return n, nil
}

// checkWebhookURL validates the URL without ever quoting it.
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("slack: the webhook URL is not a URL")
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil // a local test server
	default:
		return errors.New("slack: the webhook URL must be an https URL (https://hooks.slack.com/services/...)")
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Webhook reports whether the notifier posts through an incoming webhook
// (no threads, no updates).
func (n *Notifier) Webhook() bool { return n.webhook != "" }

// Notify posts m (or, with m.Update, edits that message). With m.ReplyTo it
// posts in that message's thread.
func (n *Notifier) Notify(ctx context.Context, m notifiers.Message) (notifiers.Receipt, error) {
	var blocks slack.Blocks
	if len(m.Blocks) > 0 {
		if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
			return notifiers.Receipt{}, &notifiers.RejectedError{Err: fmt.Errorf("slack: message blocks: %w", err)}
		}
	}
	if strings.TrimSpace(m.Text) == "" && len(blocks.BlockSet) == 0 {
		return notifiers.Receipt{}, &notifiers.RejectedError{Err: errors.New("slack: empty message")}
	}
	if n.webhook != "" {
		return n.notifyWebhook(ctx, m, blocks)
	}

	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(blocks.BlockSet) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks.BlockSet...))
	}
	if m.Update != nil {
		ch, ts, _, err := n.api.UpdateMessageContext(ctx, m.Update.Channel, m.Update.TS, opts...)
		if err != nil {
			return notifiers.Receipt{}, n.classify(ctx, "chat.update", err)
		}
		return notifiers.Receipt{Channel: ch, TS: ts}, nil
	}

	channel := m.Channel
	if channel == "" {
		channel = n.defaultChannel
	}
	if m.ReplyTo != nil && m.ReplyTo.TS != "" {
		channel = m.ReplyTo.Channel
		opts = append(opts, slack.MsgOptionTS(m.ReplyTo.TS))
	}
	if channel == "" {
		return notifiers.Receipt{}, errors.New("slack: no channel for the message and no default channel")
	}
	// Links in findings (documentation URLs) would otherwise unfurl into
	// large previews under every alert.
	opts = append(opts, slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	ch, ts, err := n.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return notifiers.Receipt{}, n.classify(ctx, "chat.postMessage", err)
	}
	return notifiers.Receipt{Channel: ch, TS: ts}, nil
}

func (n *Notifier) notifyWebhook(ctx context.Context, m notifiers.Message, blocks slack.Blocks) (notifiers.Receipt, error) {
	if m.Update != nil {
		return notifiers.Receipt{}, errors.New("slack: a webhook cannot update a message (chat.update needs a bot token)")
	}
	// m.ReplyTo is ignored: a webhook returns no timestamp, so there is
	// never a thread to reply in (the deliverer never sets one).
	msg := &slack.WebhookMessage{Text: m.Text}
	if len(blocks.BlockSet) > 0 {
		msg.Blocks = &blocks
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, n.webhook, n.http, msg); err != nil {
		return notifiers.Receipt{}, n.classify(ctx, "webhook", err)
	}
	return notifiers.Receipt{}, nil
}

// Slack's "error" codes (https://api.slack.com/methods/chat.postMessage)
// that say the message itself is wrong, and those that say Slack is busy.
// Every other code (channel_not_found, not_in_channel, invalid_auth,
// token_revoked, missing_scope, ...) is permanent until the configuration
// changes.
var (
	rejectedCodes = map[string]bool{
		"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true, "msg_blocks_too_long": true,
		"no_text": true, "too_many_attachments": true, "invalid_attachments": true, "invalid_arguments": true,
		"invalid_form_data": true, "invalid_json": true, "json_not_object": true, "cant_update_message": true,
		"message_not_found": true, "edit_window_closed": true,
	}
	retryableCodes = map[string]bool{
		"ratelimited": true, "rate_limited": true, "internal_error": true, "fatal_error": true,
		"service_unavailable": true, "request_timeout": true,
	}
)

// classify turns a slack-go error into a redacted error of the notifiers
// kinds. The original error is not kept in the chain: its text (a url.Error
// quotes the URL) is exactly what must not leak.
func (n *Notifier) classify(ctx context.Context, op string, err error) error {
	text := n.redactor.redact(fmt.Sprintf("slack %s: %v", op, err))
	plain := &redactedError{text: text}
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Cancelled or timed out: Slack may or may not have the message.
		plain.cause = ctxErr
		return &notifiers.RetryableError{Err: plain}
	}

	var (
		limited *slack.RateLimitedError
		status  slack.StatusCodeError
		api     slack.SlackErrorResponse
		netErr  net.Error
		urlErr  *url.Error
	)
	switch {
	case errors.As(err, &limited):
		return &notifiers.RetryableError{Err: plain, After: limited.RetryAfter}
	case errors.As(err, &status):
		switch {
		case status.Code == http.StatusTooManyRequests || status.Code >= 500:
			return &notifiers.RetryableError{Err: plain}
		case n.webhook != "" && status.Code == http.StatusBadRequest:
			// A webhook answers 400 for a payload it refuses
			// (invalid_payload, invalid_blocks, no_text).
			return &notifiers.RejectedError{Err: plain}
		}
		return plain
	case errors.As(err, &api):
		switch {
		case retryableCodes[api.Err]:
			return &notifiers.RetryableError{Err: plain}
		case rejectedCodes[api.Err]:
			return &notifiers.RejectedError{Err: plain}
		}
		return plain
	case errors.As(err, &netErr), errors.As(err, &urlErr):
		// Connection refused, reset, DNS, TLS handshake, timeouts.
		return &notifiers.RetryableError{Err: plain}
	}
	return plain
}

// redactedError carries an already redacted text; cause is only ever a
// context error (which holds no secret), so errors.Is(err, context.Canceled)
// keeps working.
type redactedError struct {
	text  string
	cause error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.cause }
