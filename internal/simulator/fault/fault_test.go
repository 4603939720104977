package fault

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestMatchHonoursPatternsAndTimes(t *testing.T) {
	var in Injector
	in.Add(Rule{Endpoint: "exchange:Get-InboxRule", Tenant: "acme", Kind: Forbidden, Times: 2})
	in.Add(Rule{Endpoint: "graph:*", Kind: Throttle})

	if r := in.Match("contoso", "exchange:Get-InboxRule"); r != nil {
		t.Errorf("rule for acme fired for contoso: %+v", r)
	}
	for i := 0; i < 2; i++ {
		if r := in.Match("acme", "exchange:Get-InboxRule"); r == nil || r.Kind != Forbidden {
			t.Fatalf("firing %d: got %+v, want forbidden", i+1, r)
		}
	}
	if r := in.Match("acme", "exchange:Get-InboxRule"); r != nil {
		t.Errorf("a rule with Times 2 fired a third time: %+v", r)
	}
	if r := in.Match("anyone", "graph:messageRules"); r == nil || r.Kind != Throttle {
		t.Errorf("glob endpoint did not match: %+v", r)
	}
	if got := in.Hits("exchange:Get-InboxRule"); got != 2 {
		t.Errorf("Hits = %d, want 2", got)
	}
	in.Reset()
	if r := in.Match("anyone", "graph:messageRules"); r != nil {
		t.Errorf("Reset left a rule: %+v", r)
	}
	var nilInjector *Injector
	if nilInjector.Match("a", "b") != nil {
		t.Error("a nil injector must inject nothing")
	}
}

func TestApplyWritesTheServiceFailure(t *testing.T) {
	body := func(status int, msg string) []byte { return []byte(`{"error":"` + msg + `"}`) }
	cases := []struct {
		rule       Rule
		status     int
		retryAfter string
		handled    bool
	}{
		{Rule{Kind: Throttle, RetryAfter: 3 * time.Second}, 429, "3", true},
		{Rule{Kind: Throttle}, 429, "1", true},
		{Rule{Kind: ServerError}, 503, "", true},
		{Rule{Kind: ServerError, Status: 502}, 502, "", true},
		{Rule{Kind: ExpiredToken}, 401, "", true},
		{Rule{Kind: Forbidden}, 403, "", true},
		{Rule{Kind: Slow, Delay: time.Millisecond}, 200, "", false},
		{Rule{Kind: Truncate}, 200, "", false},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		rule := c.rule
		if got := Apply(rec, req, &rule, body); got != c.handled {
			t.Errorf("%s: handled = %v, want %v", c.rule.Kind, got, c.handled)
			continue
		}
		if !c.handled {
			continue
		}
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.rule.Kind, rec.Code, c.status)
		}
		if got := rec.Header().Get("Retry-After"); got != c.retryAfter {
			t.Errorf("%s: Retry-After %q, want %q", c.rule.Kind, got, c.retryAfter)
		}
	}
	if Apply(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), nil, body) {
		t.Error("no rule must leave the request to the handler")
	}
}

func TestTruncatingWriterSendsHalf(t *testing.T) {
	rec := httptest.NewRecorder()
	tw := Truncating(rec)
	_, _ = tw.Write([]byte(`{"value":[1,2,3]}`))
	tw.Flush()
	if got := rec.Body.String(); got != `{"value"` {
		t.Errorf("truncated body = %q", got)
	}
}
