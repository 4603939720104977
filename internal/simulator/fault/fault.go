// Package fault injects the failures real Microsoft, Atera and Slack endpoints
// produce (throttling, 5xx, slow or truncated replies, expired tokens, missing
// permissions) into the simulator's handlers, so collectors are tested against
// the misbehaviour they will meet, not only the happy path.
package fault

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"
)

// Kind names one failure mode.
type Kind string

const (
	Throttle     Kind = "throttle"      // 429 with Retry-After
	ServerError  Kind = "server_error"  // 503 (or Status) with a JSON error body
	Slow         Kind = "slow"          // wait Delay, then answer normally
	Truncate     Kind = "truncate"      // answer normally but cut the body in half
	ExpiredToken Kind = "expired_token" // 401 as for a token past its lifetime
	Forbidden    Kind = "forbidden"     // 403 as for a missing permission or role
)

// Rule says which requests fail and how. Endpoint and Tenant are path.Match
// patterns ("exchange:Get-InboxRule", "graph:*", "atera:tickets", "token");
// an empty pattern matches everything.
type Rule struct {
	Endpoint   string        `json:"endpoint" yaml:"endpoint"`
	Tenant     string        `json:"tenant,omitempty" yaml:"tenant,omitempty"`
	Kind       Kind          `json:"kind" yaml:"kind"`
	Times      int           `json:"times,omitempty" yaml:"times,omitempty"` // 0: every matching request
	Status     int           `json:"status,omitempty" yaml:"status,omitempty"`
	RetryAfter time.Duration `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	Delay      time.Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
}

// Injector holds the active rules. The zero value injects nothing; it is safe
// for concurrent use.
type Injector struct {
	mu    sync.Mutex
	rules []*active
	hits  map[string]int
}

type active struct {
	Rule
	left int // remaining firings when Times > 0
}

// Add activates a rule.
func (i *Injector) Add(r Rule) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = append(i.rules, &active{Rule: r, left: r.Times})
}

// Reset removes every rule and counter.
func (i *Injector) Reset() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules, i.hits = nil, nil
}

// Hits reports how many times faults fired for an endpoint (all tenants).
func (i *Injector) Hits(endpoint string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.hits[endpoint]
}

// Match returns the first rule that fires for this request, or nil. A rule with
// Times > 0 fires that many times, then stops matching.
func (i *Injector) Match(tenant, endpoint string) *Rule {
	if i == nil {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, r := range i.rules {
		if !matches(r.Endpoint, endpoint) || !matches(r.Tenant, tenant) {
			continue
		}
		if r.Times > 0 {
			if r.left == 0 {
				continue
			}
			r.left--
		}
		if i.hits == nil {
			i.hits = map[string]int{}
		}
		i.hits[endpoint]++
		rule := r.Rule
		return &rule
	}
	return nil
}

func matches(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// Apply writes the failure for a matched rule and reports whether the request
// is finished. Slow sleeps (honouring the request's context) and returns false
// so the handler answers normally; Truncate also returns false: wrap the
// response writer with Truncating to cut the body. errorBody renders the
// service's own error envelope for a status and message.
func Apply(w http.ResponseWriter, r *http.Request, rule *Rule, errorBody func(status int, msg string) []byte) bool {
	if rule == nil {
		return false
	}
	write := func(status int, msg string) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(errorBody(status, msg))
		return true
	}
	switch rule.Kind {
	case Throttle:
		secs := int(rule.RetryAfter / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return write(http.StatusTooManyRequests, "Too many requests (simulated throttling)")
	case ServerError:
		status := rule.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		return write(status, fmt.Sprintf("simulated server error %d", status))
	case ExpiredToken:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The token is expired"`)
		return write(http.StatusUnauthorized, "Lifetime validation failed, the token is expired.")
	case Forbidden:
		return write(http.StatusForbidden, "simulated missing permission")
	case Slow:
		select {
		case <-time.After(rule.Delay):
		case <-r.Context().Done():
		}
	}
	return false
}

// Truncating wraps w so that only the first half of what the handler writes
// reaches the client, as a dropped connection would leave it.
func Truncating(w http.ResponseWriter) *TruncatingWriter {
	return &TruncatingWriter{ResponseWriter: w}
}

// TruncatingWriter buffers the body; Flush sends half of it.
type TruncatingWriter struct {
	http.ResponseWriter
	buf []byte
}

func (t *TruncatingWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	return len(p), nil
}

// Flush writes the first half of the buffered body.
func (t *TruncatingWriter) Flush() {
	_, _ = t.ResponseWriter.Write(t.buf[:len(t.buf)/2])
}
