// Package fakeslack is a local Slack for tests and `ticketguard serve
// --demo`: slack-go's slacktest server with the handlers ticketguard needs
// added or replaced (chat.postMessage recording blocks and threads with
// unique timestamps, chat.update, an incoming webhook), and failures that
// can be injected: a 429 with Retry-After, a 5xx, an {"ok":false} error.
//
// Responses use Slack's JSON envelopes: {"ok":true,"channel":..,"ts":..}
// and {"ok":false,"error":"ratelimited"}. It listens on 127.0.0.1 only.
package fakeslack

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack/slacktest"
)

// Message is one call the server accepted (or refused: see Fault).
type Message struct {
	Method   string // "chat.postMessage", "chat.update" or "webhook"
	Channel  string
	TS       string // the message's timestamp (for chat.update, the one edited)
	ThreadTS string // set for a reply
	Text     string
	Blocks   json.RawMessage
	Token    string // the bot token the call carried (empty for a webhook)
	// Refused is the fault returned instead of accepting the call; such
	// calls are recorded in Calls but not in Messages.
	Refused *Fault
}

// Fault is an injected failure for one call.
type Fault struct {
	// Status is the HTTP status (429, 500, 503, ...); 0 means 200 with an
	// {"ok":false} body when Error is set.
	Status int
	// RetryAfter is sent as the Retry-After header (whole seconds) with a 429.
	RetryAfter time.Duration
	// Error is Slack's error code in the body, e.g. "ratelimited" or
	// "channel_not_found".
	Error string
	// AfterAccept records the message as delivered and then fails the call
	// anyway: what a lost response looks like to the client.
	AfterAccept bool
}

// Server is a local Slack.
type Server struct {
	*slacktest.Server

	mu        sync.Mutex
	token     string
	channels  []string
	onMessage func(Message)
	down      *Fault
	faults    []Fault
	calls     []Message
	messages  []Message
	seq       int64
	epoch     int64
	hookPath  string
}

// New starts a server; Close stops it.
func New() *Server {
	s := &Server{epoch: time.Now().Unix()}
	var secret [12]byte
	_, _ = rand.Read(secret[:])
	s.hookPath = "/services/T0FAKE/B0FAKE/" + hex.EncodeToString(secret[:])
	s.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", s.postMessage)
		c.Handle("/chat.update", s.update)
		c.Handle(s.hookPath, s.webhook)
	})
	s.Server.Start()
	return s
}

// Close stops the server.
func (s *Server) Close() { s.Server.Stop() }

// APIURL is the Web API base, without the trailing slash (the notifier adds it).
func (s *Server) APIURL() string { return strings.TrimRight(s.GetAPIURL(), "/") }

// WebhookURL is the server's incoming webhook, with a random secret path.
func (s *Server) WebhookURL() string { return "http://" + s.ServerAddr + s.hookPath }

// Fail queues faults: each of the next calls fails with the next fault.
func (s *Server) Fail(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// RequireToken makes token the only bot token accepted (else invalid_auth).
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// RestrictChannels makes channels the only channels accepted (else
// channel_not_found); none lifts the restriction.
func (s *Server) RestrictChannels(channels ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = slices.Clone(channels)
}

// OnMessage sets a function called with each accepted message before the
// response is written: a test can block there to kill the client between
// Slack's accepting a message and the client's hearing of it.
func (s *Server) OnMessage(f func(Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = f
}

// Down makes every call fail with f until Down(nil): an outage. Queued
// faults wait until it is over.
func (s *Server) Down(f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = f
}

// Messages returns the messages accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Calls returns every call, accepted or refused, in order.
func (s *Server) Calls() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// nextFault is the outage's fault, else pops the next queued one.
func (s *Server) nextFault() *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down != nil {
		f := *s.down
		return &f
	}
	if len(s.faults) == 0 {
		return nil
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return &f
}

// writeFault writes f as Slack would.
func writeFault(w http.ResponseWriter, f *Fault, webhook bool) {
	if f.Status == http.StatusTooManyRequests && f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	code := f.Error
	if code == "" {
		code = "internal_error"
		if f.Status == http.StatusTooManyRequests {
			code = "ratelimited"
		}
	}
	if webhook {
		// Webhooks answer in plain text.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(cmpOr(f.Status, http.StatusBadRequest))
		_, _ = w.Write([]byte(code))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(cmpOr(f.Status, http.StatusOK))
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": code})
}

func cmpOr(v, def int) int {
	if v != 0 {
		return v
	}
	return def
}

func writeOK(w http.ResponseWriter, body map[string]any) {
	body["ok"] = true
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) nextTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%d.%06d", s.epoch, s.seq)
}

// record keeps the call (and, unless refused, the message) and runs the
// hook for an accepted message.
func (s *Server) record(m Message, f *Fault) {
	s.mu.Lock()
	if f != nil {
		m.Refused = f
	}
	s.calls = append(s.calls, m)
	if f == nil || f.AfterAccept {
		m.Refused = nil
		s.messages = append(s.messages, m)
	}
	hook := s.onMessage
	s.mu.Unlock()
	if (f == nil || f.AfterAccept) && hook != nil {
		hook(m)
	}
}

// check applies the token and channel rules; ok is false when it answered.
func (s *Server) check(w http.ResponseWriter, token, channel string) bool {
	s.mu.Lock()
	want, channels := s.token, s.channels
	s.mu.Unlock()
	if want != "" && token != want {
		writeFault(w, &Fault{Error: "invalid_auth"}, false)
		return false
	}
	if len(channels) > 0 && !slices.Contains(channels, channel) {
		writeFault(w, &Fault{Error: "channel_not_found"}, false)
		return false
	}
	return true
}

func formMessage(r *http.Request, method string) (Message, error) {
	if err := r.ParseForm(); err != nil {
		return Message{}, err
	}
	token := r.PostForm.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	m := Message{
		Method:   method,
		Channel:  r.PostForm.Get("channel"),
		TS:       r.PostForm.Get("ts"),
		ThreadTS: r.PostForm.Get("thread_ts"),
		Text:     r.PostForm.Get("text"),
		Token:    token,
	}
	if b := r.PostForm.Get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	return m, nil
}

// validBlocks applies the Block Kit limits Slack enforces with
// invalid_blocks: at most 50 blocks, section texts of 1 to 3,000
// characters, header texts of 1 to 150, no empty context text.
func validBlocks(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return true
	}
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Text string `json:"text"`
		} `json:"elements"`
	}
	if json.Unmarshal(raw, &blocks) != nil || len(blocks) > 50 {
		return false
	}
	for _, b := range blocks {
		switch b.Type {
		case "section":
			if b.Text == nil || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > 3000 {
				return false
			}
		case "header":
			if b.Text == nil || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > 150 {
				return false
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return false
			}
			for _, e := range b.Elements {
				if e.Text == "" {
					return false
				}
			}
		}
	}
	return true
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	m, err := formMessage(r, "chat.postMessage")
	if err != nil {
		writeFault(w, &Fault{Error: "invalid_form_data"}, false)
		return
	}
	if !s.check(w, m.Token, m.Channel) {
		return
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		writeFault(w, &Fault{Error: "no_text"}, false)
		return
	}
	if !validBlocks(m.Blocks) {
		writeFault(w, &Fault{Error: "invalid_blocks"}, false)
		return
	}
	f := s.nextFault()
	if f == nil || f.AfterAccept {
		m.TS = s.nextTS()
	}
	s.record(m, f)
	if f != nil {
		writeFault(w, f, false)
		return
	}
	writeOK(w, map[string]any{"channel": m.Channel, "ts": m.TS})
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	m, err := formMessage(r, "chat.update")
	if err != nil {
		writeFault(w, &Fault{Error: "invalid_form_data"}, false)
		return
	}
	if !s.check(w, m.Token, m.Channel) {
		return
	}
	if !validBlocks(m.Blocks) {
		writeFault(w, &Fault{Error: "invalid_blocks"}, false)
		return
	}
	s.mu.Lock()
	found := slices.ContainsFunc(s.messages, func(p Message) bool {
		return p.Method == "chat.postMessage" && p.Channel == m.Channel && p.TS == m.TS
	})
	s.mu.Unlock()
	if !found {
		writeFault(w, &Fault{Error: "message_not_found"}, false)
		return
	}
	f := s.nextFault()
	s.record(m, f)
	if f != nil {
		writeFault(w, f, false)
		return
	}
	writeOK(w, map[string]any{"channel": m.Channel, "ts": m.TS, "text": m.Text})
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text     string          `json:"text"`
		Blocks   json.RawMessage `json:"blocks"`
		ThreadTS string          `json:"thread_ts"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		writeFault(w, &Fault{Status: http.StatusBadRequest, Error: "invalid_payload"}, true)
		return
	}
	if body.Text == "" && len(body.Blocks) == 0 {
		writeFault(w, &Fault{Status: http.StatusBadRequest, Error: "no_text"}, true)
		return
	}
	if !validBlocks(body.Blocks) {
		writeFault(w, &Fault{Status: http.StatusBadRequest, Error: "invalid_blocks"}, true)
		return
	}
	m := Message{Method: "webhook", Text: body.Text, Blocks: body.Blocks, ThreadTS: body.ThreadTS}
	f := s.nextFault()
	s.record(m, f)
	if f != nil {
		writeFault(w, f, true)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok"))
}
