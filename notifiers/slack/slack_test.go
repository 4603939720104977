package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/notifiers"
	"github.com/ticketguard/ticketguard/notifiers/slack"
	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

const token = "xoxb-1234-5678-T0pS3cr3tT0k3nValue"

func botNotifier(t *testing.T, srv *fakeslack.Server) *slack.Notifier {
	t.Helper()
	n, err := slack.New(slack.Options{BotToken: token, DefaultChannel: "#alerts", APIURL: srv.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sample(t *testing.T) notifiers.Message {
	t.Helper()
	m, err := slack.Renderer{}.TestMessage("acme", time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBotPostReplyUpdate(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	srv.RequireToken(token)
	n := botNotifier(t, srv)
	ctx := context.Background()

	m := sample(t)
	first, err := n.Notify(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if first.Channel != "#alerts" || first.TS == "" {
		t.Fatalf("receipt = %+v, want the default channel and a ts", first)
	}

	reply := m
	reply.Channel = "#elsewhere" // the thread's channel wins
	reply.ReplyTo = &notifiers.Ref{Channel: first.Channel, TS: first.TS}
	second, err := n.Notify(ctx, reply)
	if err != nil {
		t.Fatal(err)
	}

	upd := m
	upd.Text = "edited"
	upd.Update = &notifiers.Ref{Channel: first.Channel, TS: first.TS}
	third, err := n.Notify(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if third.TS != first.TS {
		t.Errorf("update receipt ts = %s, want the edited message's %s", third.TS, first.TS)
	}

	got := srv.Messages()
	if len(got) != 3 {
		t.Fatalf("server saw %d messages, want 3", len(got))
	}
	if got[0].Method != "chat.postMessage" || got[0].ThreadTS != "" || len(got[0].Blocks) == 0 || got[0].Text == "" {
		t.Errorf("post = %+v, want a top-level message with blocks and fallback text", got[0])
	}
	if got[1].ThreadTS != first.TS || got[1].Channel != "#alerts" || second.TS == first.TS {
		t.Errorf("reply = %+v, want thread_ts %s in #alerts", got[1], first.TS)
	}
	if got[2].Method != "chat.update" || got[2].TS != first.TS || got[2].Text != "edited" {
		t.Errorf("update = %+v", got[2])
	}
	if got[0].Token != token {
		t.Errorf("the server did not receive the bot token")
	}
}

// TestClassify: every way Slack fails maps to the kind the retry stage
// needs, and Retry-After is carried over.
func TestClassify(t *testing.T) {
	type kind int
	const (
		permanent kind = iota
		retryable
		rejected
	)
	tests := []struct {
		name  string
		fault fakeslack.Fault
		want  kind
		after time.Duration
	}{
		{"429 with Retry-After", fakeslack.Fault{Status: 429, RetryAfter: 7 * time.Second}, retryable, 7 * time.Second},
		{"429 without Retry-After", fakeslack.Fault{Status: 429}, retryable, 0},
		{"500", fakeslack.Fault{Status: 500}, retryable, 0},
		{"503", fakeslack.Fault{Status: 503}, retryable, 0},
		{"ok false ratelimited", fakeslack.Fault{Error: "ratelimited"}, retryable, 0},
		{"ok false internal_error", fakeslack.Fault{Error: "internal_error"}, retryable, 0},
		{"channel_not_found", fakeslack.Fault{Error: "channel_not_found"}, permanent, 0},
		{"invalid_auth", fakeslack.Fault{Error: "invalid_auth"}, permanent, 0},
		{"not_in_channel", fakeslack.Fault{Error: "not_in_channel"}, permanent, 0},
		{"invalid_blocks", fakeslack.Fault{Error: "invalid_blocks"}, rejected, 0},
		{"msg_too_long", fakeslack.Fault{Error: "msg_too_long"}, rejected, 0},
		{"403", fakeslack.Fault{Status: 403}, permanent, 0},
	}
	srv := fakeslack.New()
	defer srv.Close()
	n := botNotifier(t, srv)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Fail(tc.fault)
			_, err := n.Notify(context.Background(), sample(t))
			if err == nil {
				t.Fatal("no error")
			}
			retry, after := notifiers.Retryable(err)
			got := permanent
			switch {
			case retry:
				got = retryable
			case notifiers.Rejected(err):
				got = rejected
			}
			if got != tc.want || after != tc.after {
				t.Errorf("%v: kind %d after %s, want kind %d after %s", err, got, after, tc.want, tc.after)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages accepted, want none", n)
	}
}

func TestClassifyNetworkAndContext(t *testing.T) {
	// A port nothing listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	n, err := slack.New(slack.Options{BotToken: token, DefaultChannel: "#alerts", APIURL: "http://" + addr + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Notify(context.Background(), sample(t))
	if retry, _ := notifiers.Retryable(err); !retry {
		t.Errorf("connection refused: %v, want retryable", err)
	}

	srv := fakeslack.New()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = botNotifier(t, srv).Notify(ctx, sample(t))
	if retry, _ := notifiers.Retryable(err); !retry || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want retryable and context.Canceled", err)
	}
}

func TestRejectsBadMessages(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	n := botNotifier(t, srv)
	for name, m := range map[string]notifiers.Message{
		"empty":      {Tenant: "acme"},
		"bad blocks": {Tenant: "acme", Text: "x", Blocks: json.RawMessage(`{"not":"an array"}`)},
	} {
		if _, err := n.Notify(context.Background(), m); !notifiers.Rejected(err) {
			t.Errorf("%s: %v, want a rejected error", name, err)
		}
	}
	n2, err := slack.New(slack.Options{BotToken: token, APIURL: srv.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n2.Notify(context.Background(), sample(t)); err == nil || !strings.Contains(err.Error(), "no channel") {
		t.Errorf("no channel anywhere: %v", err)
	}
	if len(srv.Calls()) != 0 {
		t.Errorf("bad messages reached Slack: %+v", srv.Calls())
	}
}

func TestWebhook(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	n, err := slack.New(slack.Options{WebhookURL: srv.WebhookURL()})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Webhook() {
		t.Fatal("Webhook() = false")
	}
	ctx := context.Background()
	m := sample(t)
	m.ReplyTo = &notifiers.Ref{Channel: "C1", TS: "1.2"} // cannot thread: posted on its own
	r, err := n.Notify(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if r != (notifiers.Receipt{}) {
		t.Errorf("webhook receipt = %+v, want none (no ts to thread under)", r)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].Method != "webhook" || got[0].ThreadTS != "" || len(got[0].Blocks) == 0 {
		t.Fatalf("webhook messages = %+v", got)
	}

	m.Update = &notifiers.Ref{Channel: "C1", TS: "1.2"}
	if _, err := n.Notify(ctx, m); err == nil || !strings.Contains(err.Error(), "bot token") {
		t.Errorf("update through a webhook: %v, want an error saying it needs a bot token", err)
	}
	m.Update = nil

	srv.Fail(fakeslack.Fault{Status: 429, RetryAfter: 3 * time.Second})
	_, err = n.Notify(ctx, m)
	if retry, after := notifiers.Retryable(err); !retry || after != 3*time.Second {
		t.Errorf("webhook 429: %v (retry %v after %s)", err, retry, after)
	}
	srv.Fail(fakeslack.Fault{Status: 500})
	if _, err = n.Notify(ctx, m); !isRetryable(err) {
		t.Errorf("webhook 500: %v, want retryable", err)
	}
	srv.Fail(fakeslack.Fault{Status: 400, Error: "invalid_payload"})
	if _, err = n.Notify(ctx, m); !notifiers.Rejected(err) {
		t.Errorf("webhook 400: %v, want rejected", err)
	}
	srv.Fail(fakeslack.Fault{Status: 404, Error: "no_service"})
	if _, err = n.Notify(ctx, m); err == nil || isRetryable(err) || notifiers.Rejected(err) {
		t.Errorf("webhook 404: %v, want permanent", err)
	}
}

func isRetryable(err error) bool { ok, _ := notifiers.Retryable(err); return ok }

func TestNewValidates(t *testing.T) {
	for name, o := range map[string]slack.Options{
		"nothing":          {},
		"both":             {BotToken: token, WebhookURL: "https://hooks.slack.com/services/T/B/X"},
		"http webhook":     {WebhookURL: "http://hooks.example.com/services/T/B/S3CR3TPATH"},
		"not a URL":        {WebhookURL: "::S3CR3TPATH"},
		"token with \\n":   {BotToken: token + "\n"},
		"relative webhook": {WebhookURL: "/services/T/B/S3CR3TPATH"},
	} {
		_, err := slack.New(o)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), "S3CR3T") || strings.Contains(err.Error(), "T0pS3cr3t") {
			t.Errorf("%s: error quotes the secret: %v", name, err)
		}
	}
}

// TestSecretsNeverInErrors drives every failure path with a token and a
// webhook URL that are easy to spot, and checks no error text shows them,
// in any of the forms fmt can print.
func TestSecretsNeverInErrors(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	hook := srv.WebhookURL()
	secretPath := hook[strings.Index(hook, "/services/"):]

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()

	faults := []fakeslack.Fault{
		{Status: 429, RetryAfter: time.Second}, {Status: 500}, {Status: 400, Error: "invalid_payload"},
		{Status: 403, Error: "action_prohibited"}, {Error: "invalid_auth"}, {Error: "channel_not_found"},
	}
	var errs []error
	collect := func(n *slack.Notifier, m notifiers.Message) {
		for _, f := range faults {
			srv.Fail(f)
			if _, err := n.Notify(context.Background(), m); err != nil {
				errs = append(errs, err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		time.Sleep(time.Millisecond)
		if _, err := n.Notify(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	bot := botNotifier(t, srv)
	wh, err := slack.New(slack.Options{WebhookURL: hook})
	if err != nil {
		t.Fatal(err)
	}
	collect(bot, sample(t))
	collect(wh, sample(t))
	upd := sample(t)
	upd.Update = &notifiers.Ref{Channel: "C1", TS: "1.1"}
	collect(wh, upd)

	// Unreachable servers: net/http quotes the URL in its error.
	deadHook, err := slack.New(slack.Options{WebhookURL: dead + secretPath})
	if err != nil {
		t.Fatal(err)
	}
	deadBot, err := slack.New(slack.Options{BotToken: token, DefaultChannel: "a", APIURL: dead + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*slack.Notifier{deadHook, deadBot} {
		if _, err := n.Notify(context.Background(), sample(t)); err != nil {
			errs = append(errs, err)
		} else {
			t.Error("unreachable server: no error")
		}
	}
	if len(errs) < 2*len(faults) {
		t.Fatalf("only %d errors collected", len(errs))
	}
	for _, err := range errs {
		AssertNoSecret(t, err, token, hook, secretPath)
	}
}

// AssertNoSecret fails when any printed form of err contains one of the
// secrets, or the tell-tale part of one.
func AssertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, form := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, s := range secrets {
			if strings.Contains(form, s) {
				t.Errorf("error shows a secret %q: %s", s, form)
			}
		}
		if strings.Contains(form, "T0pS3cr3t") {
			t.Errorf("error shows the token: %s", form)
		}
	}
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		for _, s := range secrets {
			if strings.Contains(u.Error(), s) {
				t.Errorf("wrapped error shows a secret: %s", u)
			}
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XXXX": "https://hooks.slack.com/[redacted]",
		"https://user:pw@proxy.example.com/x?y=z":     "https://proxy.example.com/[redacted]",
		"not a url": "[redacted URL]",
	} {
		if got := slack.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHTTPClientUsed(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	var used bool
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	n, err := slack.New(slack.Options{BotToken: token, DefaultChannel: "a", APIURL: srv.APIURL(), HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), sample(t)); err != nil {
		t.Fatal(err)
	}
	if !used {
		t.Error("the given HTTP client was not used")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSlackAcceptsHugeMessage: what the renderer makes of the huge digest
// passes the local Slack's Block Kit validation, and a message beyond the
// limits would not.
func TestSlackAcceptsHugeMessage(t *testing.T) {
	srv := fakeslack.New()
	defer srv.Close()
	n := botNotifier(t, srv)
	m, err := slack.Renderer{MaskAddresses: true}.Render(hugeDigest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), m); err != nil {
		t.Fatalf("huge message refused: %v", err)
	}

	var blocks []json.RawMessage
	for range 51 {
		blocks = append(blocks, json.RawMessage(`{"type":"section","text":{"type":"mrkdwn","text":"x"}}`))
	}
	tooMany, _ := json.Marshal(blocks)
	tooLong, _ := json.Marshal([]map[string]any{{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": strings.Repeat("x", 3001)}}})
	for name, raw := range map[string][]byte{"51 blocks": tooMany, "3001 characters": tooLong} {
		_, err := n.Notify(context.Background(), notifiers.Message{Text: "x", Blocks: raw})
		if !notifiers.Rejected(err) {
			t.Errorf("%s: %v, want rejected (invalid_blocks)", name, err)
		}
	}
}
