// Package graph collects what ticketguard reads from Microsoft Graph, through
// msgraph-sdk-go: the inbox rules of the mailboxes on the support path, the
// organisation's contacts, the members of groups and the message trace of
// mail to the Atera ticketing address. It is, with internal/simulator/graph,
// the only package that imports the SDK (its cold build takes minutes).
//
// Every collection uses $select, the SDK's page iterator and the SDK's retry
// handler (429 with Retry-After, 503, 504), bounded by a per-client budget.
// A failure is recorded in the collectors.Partial as "graph:<key>" and
// never stops the other collections; a collection that failed part-way is
// not stored at all, so the checks reading it are indeterminate instead of
// judging an incomplete list.
package graph

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	azauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/ticketguard/ticketguard/collectors"
)

// DefaultBaseURL is Microsoft Graph's global service.
const DefaultBaseURL = "https://graph.microsoft.com"

// Scope is the client-credential scope of every Graph token: the application
// permissions granted to the app registration.
const Scope = "https://graph.microsoft.com/.default"

// Defaults for Options.
const (
	DefaultMaxRetries  = 3
	DefaultRetryDelay  = 3 * time.Second // first backoff without Retry-After; doubles per attempt
	DefaultRetryBudget = 2 * time.Minute
	DefaultConcurrency = 4
	DefaultPageSize    = 999 // directory collections' largest $top
	tracePageSize      = 5000
)

// Options configures a Client. Credential is required.
type Options struct {
	// BaseURL is the Graph service root, e.g. https://graph.microsoft.com or
	// the simulator's https://127.0.0.1:PORT; a trailing /v1.0 is accepted.
	// Empty: DefaultBaseURL.
	BaseURL string
	// Credential signs in as the app (azidentity client secret or certificate).
	Credential azcore.TokenCredential
	// HTTPClient supplies the transport (e.g. one trusting the simulator's
	// CA) and timeout; the client is copied, never modified. Nil: defaults.
	HTTPClient *http.Client
	// Stats counts every HTTP request, retry and 429; nil: not counted.
	Stats *collectors.Stats
	// OnStep reports progress ("graph:messageRules (3 mailboxes)"). It is
	// called from the goroutine that called the Collect method.
	OnStep func(string)
	// MaxRetries per request (1-10); 0: DefaultMaxRetries.
	MaxRetries int
	// RetryDelay is the first backoff when the answer has no Retry-After
	// (whole seconds, at least one); 0: DefaultRetryDelay.
	RetryDelay time.Duration
	// RetryBudget is the total time this client may spend waiting before
	// retries; once spent, a throttled request fails. 0: DefaultRetryBudget;
	// negative: no retries at all.
	RetryBudget time.Duration
	// Concurrency bounds requests in flight for per-recipient collections;
	// 0: DefaultConcurrency.
	Concurrency int
	// PageSize is the $top of directory collections (1-999); 0: DefaultPageSize.
	PageSize int
	// Now is the clock for message trace windows; nil: time.Now.
	Now func() time.Time
}

// Client collects from one tenant's Graph. Safe for concurrent use.
type Client struct {
	client      *msgraphsdk.GraphServiceClient
	adapter     abstractions.RequestAdapter
	onStep      func(string)
	concurrency int
	pageSize    int32
	now         func() time.Time
}

// sdkSetup is the SDK's process-wide state, set once: see setUpSDK.
var sdkSetup sync.Once

// setUpSDK does, once per process, what msgraph-sdk-go's constructor
// (NewGraphServiceClient, through NewGraphBaseServiceClient) does to
// package-level state on every call:
//   - registers the JSON, text, form and multipart factories in kiota's
//     serialization.DefaultSerializationWriterFactoryInstance and
//     DefaultParseNodeFactoryInstance (under the registries' lock, but
//     GetRootParseNode reads the map without it);
//   - wraps those factories in backing-store proxies
//     (EnableBackingStoreFor*Factory) and assigns
//     store.BackingStoreFactoryInstance, unconditionally and without a lock
//     (kiota-http-go NetHttpRequestAdapter.EnableBackingStore). Every model
//     the SDK parses reads that variable (models.NewEntity), so calling the
//     constructor while another client parses a response is a data race.
//
// It also makes the page iterator parse error bodies of next pages as
// ODataError, like the first page's request builders do (another
// process-wide registry). The constructor runs here once, on an adapter
// that never sends anything; New builds its clients without it.
func setUpSDK() {
	sdkSetup.Do(func() {
		adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
			&kauth.AnonymousAuthenticationProvider{}, nil, nil, &http.Client{})
		if err == nil { // it fails only on a nil authentication provider
			_ = msgraphsdk.NewGraphServiceClient(adapter)
		}
		_ = msgraphgocore.RegisterError(msgraphgocore.PageIteratorErrorRegistryKey, errorMapping)
	})
}

// newServiceClient is msgraphsdk.NewGraphServiceClient without the
// package-level writes (setUpSDK has made them): the request builder root
// on the adapter, its base URL as the "baseurl" path parameter.
func newServiceClient(adapter abstractions.RequestAdapter) *msgraphsdk.GraphServiceClient {
	return &msgraphsdk.GraphServiceClient{GraphBaseServiceClient: msgraphsdk.GraphBaseServiceClient{
		BaseRequestBuilder: *abstractions.NewBaseRequestBuilder(adapter, "{+baseurl}", map[string]string{"baseurl": adapter.GetBaseUrl()}),
	}}
}

// New builds a client. It does not contact Graph, and it is safe to call
// while other clients collect: the SDK's process-wide setup is done once
// (setUpSDK), never again.
func New(opts Options) (*Client, error) {
	if opts.Credential == nil {
		return nil, errors.New("graph: Options.Credential is required")
	}
	base, host, err := serviceRoot(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	cred := &stickyCredential{cred: opts.Credential}
	// The SDK sends the token only to these hosts; a next link pointing
	// anywhere else is fetched without it. This is what
	// NewGraphServiceClientWithCredentialsAndHosts does, plus our own
	// http.Client (CA, middleware), which that constructor cannot take.
	auth, err := azauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{Scope}, []string{host})
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient(opts))
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	adapter.SetBaseUrl(base)
	setUpSDK()

	c := &Client{
		client:      newServiceClient(adapter),
		adapter:     adapter,
		onStep:      opts.OnStep,
		concurrency: opts.Concurrency,
		pageSize:    int32(opts.PageSize),
		now:         opts.Now,
	}
	if c.onStep == nil {
		c.onStep = func(string) {}
	}
	if c.concurrency <= 0 {
		c.concurrency = DefaultConcurrency
	}
	if c.pageSize <= 0 || c.pageSize > DefaultPageSize {
		c.pageSize = DefaultPageSize
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// errorMapping parses every 4xx/5xx body as Graph's error envelope.
var errorMapping = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// serviceRoot returns the v1.0 service root and the host tokens may go to.
func serviceRoot(raw string) (string, string, error) {
	if strings.TrimSpace(raw) == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("graph: base URL %q is not an absolute URL", raw)
	}
	if u.Scheme != "https" {
		// Tokens never travel in clear text.
		return "", "", fmt.Errorf("graph: base URL %q must use https", raw)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/v1.0") + "/v1.0"
	u.RawQuery, u.Fragment = "", ""
	return u.String(), u.Hostname(), nil
}

// httpClient builds the SDK's middleware pipeline, in a fixed order (the
// kiota default list is built from a map, so its order varies), on top of
// the caller's transport. The stats handler sits innermost so it sees every
// attempt the retry handler makes.
func httpClient(opts Options) *http.Client {
	var parent http.RoundTripper
	client := &http.Client{
		// Redirects go through the SDK's redirect handler, which drops the
		// Authorization header when the host changes.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if opts.HTTPClient != nil {
		parent = opts.HTTPClient.Transport
		client.Timeout = opts.HTTPClient.Timeout
		client.Jar = opts.HTTPClient.Jar
	}
	if parent == nil {
		parent = khttp.GetDefaultTransport()
	}
	clientOptions := msgraphsdk.GetDefaultClientOptions()
	middlewares := []khttp.Middleware{
		msgraphgocore.NewGraphTelemetryHandler(&clientOptions),
		khttp.NewRetryHandlerWithOptions(newRetryPolicy(opts).options()),
		khttp.NewRedirectHandler(),
		khttp.NewCompressionHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		&statsHandler{stats: opts.Stats},
	}
	client.Transport = khttp.NewCustomTransportWithParentTransport(parent, middlewares...)
	return client
}

// retryPolicy decides, for the SDK's retry handler, whether a throttled or
// unavailable answer is worth waiting for: within the retry count and the
// client's total budget, and not past the request's deadline.
type retryPolicy struct {
	maxRetries int
	delay      time.Duration
	budget     time.Duration
	never      bool         // a negative budget: no retries
	spent      atomic.Int64 // nanoseconds reserved for waits so far
}

func newRetryPolicy(opts Options) *retryPolicy {
	p := &retryPolicy{maxRetries: opts.MaxRetries, delay: opts.RetryDelay, budget: opts.RetryBudget, never: opts.RetryBudget < 0}
	if p.maxRetries <= 0 {
		p.maxRetries = DefaultMaxRetries
	}
	if p.delay <= 0 {
		p.delay = DefaultRetryDelay
	}
	if p.delay < time.Second {
		p.delay = time.Second // the handler counts in whole seconds
	}
	if p.budget <= 0 {
		p.budget = DefaultRetryBudget
	}
	return p
}

func (p *retryPolicy) options() khttp.RetryHandlerOptions {
	return khttp.RetryHandlerOptions{
		MaxRetries:   p.maxRetries,
		DelaySeconds: int((p.delay + time.Second - 1) / time.Second),
		ShouldRetry:  p.shouldRetry,
	}
}

// shouldRetry is called by the retry handler before it waits; executions is
// the number of retries already made for this request.
func (p *retryPolicy) shouldRetry(_ time.Duration, executions int, req *http.Request, resp *http.Response) bool {
	if p.never {
		return false
	}
	wait := p.nextWait(resp, executions)
	if deadline, ok := req.Context().Deadline(); ok && time.Until(deadline) < wait {
		return false
	}
	for {
		spent := p.spent.Load()
		if time.Duration(spent)+wait > p.budget {
			return false
		}
		if p.spent.CompareAndSwap(spent, spent+int64(wait)) {
			break
		}
	}
	// The handler drops the failed response without closing it; close it
	// here so its connection can be reused.
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return true
}

// nextWait mirrors the retry handler's delay: Retry-After (seconds or an
// HTTP date), else exponential backoff from the first delay. The handler
// adds up to a second of jitter to the latter.
func (p *retryPolicy) nextWait(resp *http.Response, executions int) time.Duration {
	if resp != nil {
		if ra := strings.TrimSpace(resp.Header.Get("Retry-After")); ra != "" {
			if secs, err := strconv.ParseFloat(ra, 64); err == nil && secs >= 0 {
				return time.Duration(secs) * time.Second
			}
			if t, err := http.ParseTime(ra); err == nil {
				return max(time.Until(t), 0)
			}
		}
	}
	secs := int((p.delay + time.Second - 1) / time.Second)
	return time.Duration(secs<<executions)*time.Second + time.Second
}

// statsHandler counts requests, retries (the retry handler marks them with
// Retry-Attempt) and 429 answers.
type statsHandler struct{ stats *collectors.Stats }

func (s *statsHandler) Intercept(pipeline khttp.Pipeline, index int, req *http.Request) (*http.Response, error) {
	if s.stats == nil {
		return pipeline.Next(req, index)
	}
	s.stats.Requests.Add(1)
	if req.Header.Get("Retry-Attempt") != "" {
		s.stats.Retries.Add(1)
	}
	resp, err := pipeline.Next(req, index)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		s.stats.Throttled.Add(1)
	}
	return resp, err
}
