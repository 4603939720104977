// Package exchange reads Exchange Online settings through the admin API's
// InvokeCommand endpoint, the REST transport of the ExchangeOnlineManagement
// v3 module:
//
//	POST {endpoint}/adminapi/beta/{tenantId}/InvokeCommand
//	{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited"}}}
//
// Microsoft does not document the endpoint, so the client is small and
// tolerant: it keeps the objects exactly as they arrive (annotations and
// all; the snapshot loader normalises), follows @odata.nextLink, asks for
// ResultSize=Unlimited where the cmdlet takes it, and treats every sign of an
// incomplete answer (a "more results" warning without a link, a body that is
// not JSON, a reply without a value array) as an error, never as data.
//
// Requests go through an azcore pipeline: the bearer-token policy (token for
// https://outlook.office365.com/.default from any azcore.TokenCredential),
// azcore's retry policy (429 honouring Retry-After, backoff on 5xx, bounded by
// MaxRetries, MaxRetryDelay and a per-client RetryBudget) and a policy that
// counts requests, retries and throttling into collectors.Stats.
package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/ticketguard/ticketguard/collectors"
)

const (
	// DefaultEndpoint is the Exchange Online admin API host.
	DefaultEndpoint = "https://outlook.office365.com"
	// Scope is the token scope of the admin API. It stays the same when the
	// endpoint is overridden: the audience is the service, not the host.
	Scope = "https://outlook.office365.com/.default"
	// systemMailbox is the arbitration mailbox app-only calls anchor on.
	systemMailbox = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"

	defaultPageSize      = 1000
	defaultMaxRetries    = 4
	defaultRetryDelay    = 2 * time.Second
	defaultMaxRetryDelay = 60 * time.Second
	defaultRetryBudget   = 2 * time.Minute
	defaultTryTimeout    = 2 * time.Minute
	defaultConcurrency   = 4
	maxPages             = 10000
	maxBodyBytes         = 256 << 20
)

// Options configures a Client for one tenant.
type Options struct {
	Endpoint   string                 // admin API base URL; "" means DefaultEndpoint
	TenantID   string                 // directory id (or the tenant's onmicrosoft.com domain)
	Credential azcore.TokenCredential // azidentity client-certificate or client-secret credential
	// HTTPClient carries the requests; nil means azcore's default transport.
	// Tests and the simulator pass one that trusts the simulator's CA.
	HTTPClient *http.Client

	MaxRetries    int           // retries per request after the first try; 0 means 4, negative none
	RetryDelay    time.Duration // base of the exponential 5xx backoff; 0 means 2s
	MaxRetryDelay time.Duration // longest single wait; a longer Retry-After gives up; 0 means 60s
	// RetryBudget bounds the total time this client spends waiting between
	// retries, across all requests; once spent, failures are final. 0 means
	// 2 minutes; negative means no retries at all, as for the Graph and
	// Atera collectors.
	RetryBudget time.Duration
	TryTimeout  time.Duration // per attempt; 0 means 2 minutes
	Concurrency int           // requests in flight for this tenant; 0 means 4
	PageSize    int           // Prefer: odata.maxpagesize; 0 means 1000

	Stats    *collectors.Stats   // request counters; nil keeps them private
	OnCmdlet func(cmdlet string) // called as each cmdlet starts, for progress displays
}

// Client runs cmdlets against one tenant. It is safe for concurrent use.
type Client struct {
	tenantID string
	invoke   *url.URL
	anchor   string
	pageSize int
	pl       runtime.Pipeline
	sem      chan struct{}
	stats    *collectors.Stats
	onCmdlet func(string)
	budget   *budget

	mu        sync.Mutex
	authNoted map[*collectors.Partial]bool
}

// New builds a Client; it performs no I/O.
func New(opts Options) (*Client, error) {
	if opts.TenantID == "" {
		return nil, errors.New("exchange: TenantID is required")
	}
	if opts.Credential == nil {
		return nil, errors.New("exchange: Credential is required")
	}
	endpoint := strings.TrimRight(opts.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint + "/adminapi/beta/" + url.PathEscape(opts.TenantID) + "/InvokeCommand")
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("exchange: invalid endpoint %q", opts.Endpoint)
	}
	if u.Scheme != "https" {
		// The bearer policy refuses to send a token over plain HTTP anyway;
		// saying so here gives a clearer error.
		return nil, fmt.Errorf("exchange: endpoint %q must be https", opts.Endpoint)
	}
	c := &Client{
		tenantID:  opts.TenantID,
		invoke:    u,
		anchor:    "APP:" + systemMailbox + "@" + opts.TenantID,
		pageSize:  orDefault(opts.PageSize, defaultPageSize),
		sem:       make(chan struct{}, orDefault(opts.Concurrency, defaultConcurrency)),
		stats:     opts.Stats,
		onCmdlet:  opts.OnCmdlet,
		authNoted: map[*collectors.Partial]bool{},
	}
	if c.stats == nil {
		c.stats = &collectors.Stats{}
	}
	limit := opts.RetryBudget
	if limit == 0 {
		limit = defaultRetryBudget
	}
	c.budget = &budget{limit: limit}

	maxRetries := opts.MaxRetries
	switch {
	case maxRetries == 0:
		maxRetries = defaultMaxRetries
	case maxRetries < 0:
		maxRetries = -1 // azcore: negative means no retries
	}
	if opts.RetryBudget < 0 {
		maxRetries = -1
	}
	retry := policy.RetryOptions{
		MaxRetries:    int32(maxRetries),
		RetryDelay:    orDefaultDur(opts.RetryDelay, defaultRetryDelay),
		MaxRetryDelay: orDefaultDur(opts.MaxRetryDelay, defaultMaxRetryDelay),
		TryTimeout:    orDefaultDur(opts.TryTimeout, defaultTryTimeout),
		ShouldRetry:   c.shouldRetry,
	}
	copts := &policy.ClientOptions{Retry: retry, Telemetry: policy.TelemetryOptions{ApplicationID: "ticketguard"}}
	if opts.HTTPClient != nil {
		copts.Transport = opts.HTTPClient
	}
	bearer := runtime.NewBearerTokenPolicy(tokenErrors{opts.Credential}, []string{Scope}, nil)
	c.pl = runtime.NewPipeline("ticketguard/exchange", "v1", runtime.PipelineOptions{
		PerRetry: []policy.Policy{bearer, &countingPolicy{stats: c.stats, budget: c.budget}},
	}, copts)
	return c, nil
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func orDefaultDur(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}

// takesResultSize lists the cmdlets with a ResultSize parameter (default
// 1000), from each cmdlet's reference page. Passing it to another cmdlet is
// an error ("Parameter set cannot be resolved").
var takesResultSize = map[string]bool{
	"get-mailbox": true, "get-casmailbox": true, "get-mailcontact": true, "get-distributiongroup": true,
	"get-distributiongroupmember": true, "get-inboxrule": true, "get-recipientpermission": true,
	"get-transportrule": true, "get-remotedomain": true, "get-accepteddomain": true, "get-recipient": true,
	"get-mailuser": true, "get-user": true,
}

// Invoke runs one cmdlet and returns every object it answers, following
// nextLinks. params is not modified; ResultSize=Unlimited is added where the
// cmdlet takes it and the caller did not set it. An incomplete answer is an
// error: Invoke never returns partial data.
func (c *Client) Invoke(ctx context.Context, cmdlet string, params map[string]any) ([]map[string]any, error) {
	if c.onCmdlet != nil {
		c.onCmdlet(cmdlet)
	}
	p := make(map[string]any, len(params)+1)
	for k, v := range params {
		p[k] = v
	}
	if takesResultSize[strings.ToLower(cmdlet)] {
		if _, set := p["ResultSize"]; !set {
			p["ResultSize"] = "Unlimited"
		}
	}
	body, err := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": p}})
	if err != nil {
		return nil, &Error{Cmdlet: cmdlet, Message: "encoding the parameters: " + err.Error()}
	}
	var (
		out  []map[string]any
		next = c.invoke.String()
		seen = map[string]bool{}
	)
	for page := 1; ; page++ {
		env, err := c.post(ctx, cmdlet, next, body)
		if err != nil {
			return nil, err
		}
		out = append(out, env.value...)
		if env.nextLink == "" {
			if w := moreResults(env.warnings); w != "" {
				return nil, &Error{Cmdlet: cmdlet, Status: http.StatusOK, Message: "the answer is incomplete: the service warned \"" + w + "\" without giving a nextLink"}
			}
			if out == nil {
				out = []map[string]any{}
			}
			return out, nil
		}
		if err := c.checkNextLink(env.nextLink); err != nil {
			return nil, &Error{Cmdlet: cmdlet, Status: http.StatusOK, Message: err.Error()}
		}
		if seen[env.nextLink] || page >= maxPages {
			return nil, &Error{Cmdlet: cmdlet, Status: http.StatusOK, Message: "the service keeps answering with nextLinks (a paging loop); the answer is incomplete"}
		}
		seen[env.nextLink] = true
		next = env.nextLink
	}
}

// checkNextLink refuses a nextLink that leaves the endpoint: the bearer token
// goes wherever the link points.
func (c *Client) checkNextLink(link string) error {
	u, err := url.Parse(link)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("the nextLink %q is not an absolute URL; the answer is incomplete", link)
	}
	if !strings.EqualFold(u.Scheme, c.invoke.Scheme) || !strings.EqualFold(u.Host, c.invoke.Host) || !strings.EqualFold(u.Path, c.invoke.Path) {
		return fmt.Errorf("refusing to follow a nextLink to %s://%s%s, which is not the admin API endpoint; the answer is incomplete", u.Scheme, u.Host, u.Path)
	}
	return nil
}

// moreResults returns the warning saying results were left out, if any.
func moreResults(warnings []string) string {
	for _, w := range warnings {
		if strings.Contains(strings.ToLower(w), "more results") {
			return w
		}
	}
	return ""
}

type page struct {
	value    []map[string]any
	nextLink string
	warnings []string
}

// post sends one InvokeCommand request and decodes its envelope.
func (c *Client) post(ctx context.Context, cmdlet, target string, body []byte) (*page, error) {
	state := &callState{}
	req, err := runtime.NewRequest(withCallState(ctx, state), http.MethodPost, target)
	if err != nil {
		return nil, &Error{Cmdlet: cmdlet, Message: "building the request: " + err.Error()}
	}
	h := req.Raw().Header
	h.Set("Accept", "application/json")
	h.Set("Prefer", fmt.Sprintf("odata.maxpagesize=%d", c.pageSize))
	h.Set("X-AnchorMailbox", c.anchor)
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json; charset=utf-8"); err != nil {
		return nil, &Error{Cmdlet: cmdlet, Message: "building the request: " + err.Error()}
	}

	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, &Error{Cmdlet: cmdlet, Message: "not sent: " + ctx.Err().Error(), Err: ctx.Err()}
	}
	resp, err := c.pl.Do(req)
	<-c.sem

	if err != nil {
		var te *tokenError
		switch {
		case errors.As(err, &te):
			return nil, &Error{Cmdlet: cmdlet, Message: te.summary(), Hint: hintToken, Err: ErrToken}
		case ctx.Err() != nil:
			return nil, &Error{Cmdlet: cmdlet, Message: "cancelled: " + ctx.Err().Error(), Attempts: state.tries, Err: ctx.Err()}
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, &Error{Cmdlet: cmdlet, Status: status, Message: "request failed: " + oneLine(err.Error()), Attempts: state.tries, Err: err}
	}
	raw, err := runtime.Payload(resp)
	if err != nil {
		return nil, &Error{Cmdlet: cmdlet, Status: resp.StatusCode, Message: "reading the reply: " + err.Error(), Attempts: state.tries, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		e := parseError(cmdlet, resp.StatusCode, raw)
		e.Attempts = state.tries
		if ra := resp.Header.Get("Retry-After"); ra != "" && resp.StatusCode == http.StatusTooManyRequests {
			e.Message += " (Retry-After: " + ra + ")"
		}
		return nil, e
	}
	pg, perr := decodePage(raw)
	if perr != nil {
		return nil, &Error{Cmdlet: cmdlet, Status: resp.StatusCode, Message: perr.Error(), Attempts: state.tries}
	}
	return pg, nil
}

// decodePage reads the OData envelope. Numbers stay json.Number: some exceed
// int64 (an inbox rule's RuleIdentity) and must survive to the snapshot.
func decodePage(raw []byte) (*page, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("the reply body is empty; the answer is incomplete")
	}
	if isNUL(raw) {
		return nil, fmt.Errorf("the reply body is %d NUL bytes, not JSON; the answer is incomplete", len(raw))
	}
	var env struct {
		Value     json.RawMessage `json:"value"`
		NextLink  string          `json:"@odata.nextLink"`
		NextLink2 string          `json:"odata.nextLink"`
		Warnings  json.RawMessage `json:"@adminapi.warnings"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("the reply is not complete JSON (truncated or corrupted body: %v); the answer is incomplete", err)
	}
	if dec.More() {
		return nil, errors.New("the reply has data after its JSON document; the answer is not trustworthy")
	}
	pg := &page{nextLink: env.NextLink}
	if pg.nextLink == "" {
		pg.nextLink = env.NextLink2
	}
	switch v := bytes.TrimSpace(env.Value); {
	case len(v) == 0:
		return nil, errors.New("the reply has no value array; the answer is incomplete")
	case string(v) == "null":
		pg.value = nil
	default:
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if err := d.Decode(&pg.value); err != nil {
			return nil, fmt.Errorf("the reply's value is not an array of objects: %v", err)
		}
	}
	if w := bytes.TrimSpace(env.Warnings); len(w) > 0 && string(w) != "null" {
		if json.Unmarshal(w, &pg.warnings) != nil {
			var one string
			if json.Unmarshal(w, &one) == nil {
				pg.warnings = []string{one}
			}
		}
	}
	return pg, nil
}

func isNUL(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return len(b) > 0
}

// oneLine collapses whitespace so an error fits one log line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// shouldRetry decides azcore's retries: transport errors and 408/429/5xx,
// while the client's retry budget lasts. azcore then waits Retry-After (or
// its exponential backoff) and gives up on a Retry-After above MaxRetryDelay.
func (c *Client) shouldRetry(resp *http.Response, err error) bool {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return false
		}
		var te *tokenError
		if errors.As(err, &te) {
			return false // azidentity has already retried the token request
		}
		return c.budget.allows(0)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return c.budget.allows(retryAfter(resp.Header))
	}
	return false
}
