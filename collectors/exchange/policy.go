package exchange

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ticketguard/ticketguard/collectors"
)

// callState follows one logical request through azcore's retries: how many
// attempts it took and when the last one ended, so the wait before the next
// attempt can be charged to the retry budget.
type callState struct {
	mu      sync.Mutex
	tries   int
	lastEnd time.Time
}

type callStateKey struct{}

func withCallState(ctx context.Context, s *callState) context.Context {
	return context.WithValue(ctx, callStateKey{}, s)
}

// countingPolicy runs once per attempt (after the bearer policy): it counts
// requests, retries and 429s into Stats and charges retry waits to the budget.
type countingPolicy struct {
	stats  *collectors.Stats
	budget *budget
}

func (p *countingPolicy) Do(req *policy.Request) (*http.Response, error) {
	state, _ := req.Raw().Context().Value(callStateKey{}).(*callState)
	if state != nil {
		state.mu.Lock()
		state.tries++
		if state.tries > 1 {
			p.stats.Retries.Add(1)
			if !state.lastEnd.IsZero() {
				p.budget.spend(time.Since(state.lastEnd))
			}
		}
		state.mu.Unlock()
	}
	p.stats.Requests.Add(1)
	resp, err := req.Next()
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		p.stats.Throttled.Add(1)
	}
	if state != nil {
		state.mu.Lock()
		state.lastEnd = time.Now()
		state.mu.Unlock()
	}
	return resp, err
}

// budget bounds the total time one client waits between retries. azcore
// bounds each request (MaxRetries, MaxRetryDelay); this bounds the tenant, so
// a throttled tenant gives up in minutes instead of retrying every cmdlet to
// the full count.
type budget struct {
	limit time.Duration // <0: no retries
	spent atomic.Int64  // nanoseconds
}

func (b *budget) spend(d time.Duration) { b.spent.Add(int64(d)) }

// allows reports whether another wait of at least d fits in the budget.
func (b *budget) allows(d time.Duration) bool {
	if b.limit < 0 {
		return false
	}
	return time.Duration(b.spent.Load())+d <= b.limit
}

// retryAfter reads Retry-After in seconds or as an HTTP date (and the
// millisecond variants Azure services send).
func retryAfter(h http.Header) time.Duration {
	if ms := h.Get("retry-after-ms"); ms != "" {
		if n, err := strconv.Atoi(ms); err == nil && n > 0 {
			return time.Duration(n) * time.Millisecond
		}
	}
	if ms := h.Get("x-ms-retry-after-ms"); ms != "" {
		if n, err := strconv.Atoi(ms); err == nil && n > 0 {
			return time.Duration(n) * time.Millisecond
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// tokenErrors wraps the credential so that a failure to get a token is
// recognisable after the pipeline has wrapped it, whatever the credential type.
type tokenErrors struct{ cred azcore.TokenCredential }

func (t tokenErrors) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := t.cred.GetToken(ctx, o)
	if err != nil {
		return tok, &tokenError{err: err}
	}
	return tok, nil
}

type tokenError struct{ err error }

func (e *tokenError) Error() string { return "getting a token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

var aadsts = regexp.MustCompile(`AADSTS\d+: [^"\r\n]*?(?: Trace ID:|["\r\n]|$)`)

// summary condenses azidentity's multi-line error (request URL, response
// dump, troubleshooting link) to the Entra error text. Entra's answers never
// echo the secret or the assertion, so the text is safe to record.
func (e *tokenError) summary() string {
	s := e.err.Error()
	if m := aadsts.FindString(s); m != "" {
		m = strings.TrimSuffix(strings.TrimSuffix(m, " Trace ID:"), `"`)
		return "getting a token failed: " + strings.TrimSpace(m)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return "getting a token failed: " + oneLine(first)
}
