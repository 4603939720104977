// Package atera reads recent tickets from the Atera REST API v3 and stores
// them in a snapshot's atera_api section, so a check can tell whether e-mail
// still turns into tickets.
//
// Atera exposes no endpoint for its e-mail settings (ticketing address,
// support address, SMTP); those are declared in ticketguard.yaml. What the
// API does show is the outcome: tickets, with their source and creation date.
//
// Only the fields a check needs are kept (TicketID, TicketTitle, TicketSource,
// TicketStatus, TicketCreatedDate, EndUserEmail, CustomerID, CustomerName).
// Ticket bodies and comments (FirstComment, LastEndUserComment, ...) are
// customer data with no bearing on the audit: they are never decoded, so they
// cannot reach a snapshot, a log or a report.
package atera

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/collectors"
)

// DefaultBaseURL is Atera's public API host.
const DefaultBaseURL = "https://app.atera.com"

// Source is the snapshot section and error source this collector fills.
const Source = "atera_api"

const (
	itemsInPage        = 50 // Atera's maximum page size
	defaultMaxRetries  = 4
	defaultRetryBudget = 2 * time.Minute
	defaultMaxPages    = 400 // 20,000 tickets
	defaultWindowDays  = 7
	maxBackoff         = 30 * time.Second
	maxBodyBytes       = 16 << 20
)

// Options configures a Client.
type Options struct {
	// BaseURL is the API host, e.g. https://app.atera.com (the /api/v3 path
	// is added unless already there). The simulator and tests point it at a
	// local server.
	BaseURL string
	// APIKey is sent as X-API-KEY. A key that is a JWT (Atera's newer
	// credentials) is sent as a Bearer token instead.
	APIKey string
	// BearerToken, when set, is sent as "Authorization: Bearer" and wins
	// over APIKey.
	BearerToken string
	// HTTPClient carries the transport (and its trusted CAs); nil uses a
	// client with a 60 s timeout. It is copied, never modified.
	HTTPClient *http.Client
	// Stats receives request, retry and throttling counts; may be nil.
	Stats *collectors.Stats
	// Logger receives retry warnings and page progress; nil discards. Nothing
	// logged carries a credential or a ticket's content.
	Logger *slog.Logger
	// MaxRetries bounds the retries of one page (default 4).
	MaxRetries int
	// RetryBudget bounds the total time one ListTickets call may spend
	// waiting on Retry-After and backoff. 0: the default (2 minutes);
	// negative: no retries at all, as for the Exchange and Graph collectors.
	RetryBudget time.Duration
	// MaxPages bounds one walk (default 400 pages, 20,000 tickets): an
	// account larger than that is reported as an error, not cut silently.
	MaxPages int
}

// Client talks to the Atera API.
//
// Retries are done here, around the whole page fetch (request, body read and
// JSON decode), rather than in an http.RoundTripper or an azcore pipeline: a
// RoundTripper returns before the body is read, so it cannot retry a page
// whose body was cut mid-stream, and azcore's pipeline brings Azure-specific
// policies (x-ms-* headers, its own retry accounting) to a non-Azure API
// while we need our own counters and budget. Plain net/http keeps the
// client small and the retry rules in one place.
type Client struct {
	base       *url.URL // ends in /api/v3
	hc         *http.Client
	authHeader string
	authValue  string
	stats      *collectors.Stats
	log        *slog.Logger
	maxRetries int
	budget     time.Duration
	maxPages   int

	// Test hooks.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(d time.Duration) time.Duration
}

// New returns a client. It fails when no credential is given or the base URL
// is not an absolute http(s) URL.
func New(opts Options) (*Client, error) {
	raw := opts.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("atera: base URL %q is not an absolute http(s) URL", raw)
	}
	if !strings.HasSuffix(base.Path, "/api/v3") {
		base.Path += "/api/v3"
	}
	c := &Client{
		base:       base,
		stats:      opts.Stats,
		log:        opts.Logger,
		maxRetries: opts.MaxRetries,
		budget:     opts.RetryBudget,
		maxPages:   opts.MaxPages,
		sleep:      sleepCtx,
		jitter:     func(d time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(d)/5 + 1)) },
	}
	switch {
	case opts.BearerToken != "":
		c.authHeader, c.authValue = "Authorization", "Bearer "+opts.BearerToken
	case looksLikeJWT(opts.APIKey):
		c.authHeader, c.authValue = "Authorization", "Bearer "+opts.APIKey
	case opts.APIKey != "":
		c.authHeader, c.authValue = "X-API-KEY", opts.APIKey
	default:
		return nil, errors.New("atera: an API key or bearer token is required")
	}
	if c.stats == nil {
		c.stats = new(collectors.Stats)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.maxRetries <= 0 {
		c.maxRetries = defaultMaxRetries
	}
	if c.budget == 0 {
		c.budget = defaultRetryBudget
	}
	if c.maxPages <= 0 {
		c.maxPages = defaultMaxPages
	}
	hc := http.Client{Timeout: 60 * time.Second}
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	// Go forwards custom headers such as X-API-KEY on redirects, even to
	// another host: never follow a redirect off the API host.
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, c.base) {
			return fmt.Errorf("%w to another host (%s)", errRedirect, req.URL.Host)
		}
		if len(via) >= 5 {
			return fmt.Errorf("%w: stopped after 5", errRedirect)
		}
		return nil
	}
	c.hc = &hc
	return c, nil
}

var errRedirect = errors.New("refusing redirect")

// looksLikeJWT reports whether s has the shape of a compact JWS: three
// base64url segments, the header starting with `{"` (eyJ).
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	return len(parts) == 3 && strings.HasPrefix(parts[0], "eyJ") && parts[1] != "" && parts[2] != ""
}

// Ticket is what ticketguard keeps of an Atera ticket.
type Ticket struct {
	TicketID          int64  `json:"TicketID"`
	TicketTitle       string `json:"TicketTitle"`
	TicketSource      string `json:"TicketSource"`
	TicketStatus      string `json:"TicketStatus"`
	TicketCreatedDate string `json:"TicketCreatedDate"`
	EndUserEmail      string `json:"EndUserEmail"`
	CustomerID        int64  `json:"CustomerID"`
	CustomerName      string `json:"CustomerName"`
}

// page is Atera's paging envelope. Decoding items into Ticket drops every
// other field, the bodies included.
type page struct {
	Items          []Ticket `json:"items"`
	Page           int      `json:"page"`
	ItemsInPage    int      `json:"itemsInPage"`
	TotalItemCount int      `json:"totalItemCount"`
	TotalPages     int      `json:"totalPages"`
	NextLink       string   `json:"nextLink"`
}

// ListTickets returns every ticket of the account, or of one customer when
// customerID is not 0, following nextLink to the last page.
//
// It walks all pages: Atera does not document the order of GET /tickets
// ("newest first is not guaranteed"), so stopping at the first ticket older
// than the window could miss newer ones on later pages. Call it once per
// Atera account (or customer) and share the result between tenants.
func (c *Client) ListTickets(ctx context.Context, customerID int) ([]Ticket, error) {
	q := url.Values{"page": {"1"}, "itemsInPage": {strconv.Itoa(itemsInPage)}}
	if customerID != 0 {
		q.Set("customerId", strconv.Itoa(customerID))
	}
	next := c.base.JoinPath("tickets")
	next.RawQuery = q.Encode()

	budget := c.budget
	var out []Ticket
	seenPage := map[string]bool{}
	seenTicket := map[int64]bool{}
	for n := 1; next != nil; n++ {
		if n > c.maxPages {
			return nil, fmt.Errorf("atera: more than %d pages of tickets; set atera customer_id to read one customer's tickets", c.maxPages)
		}
		if seenPage[next.String()] {
			return nil, fmt.Errorf("atera: nextLink of page %d points back to a page already read", n-1)
		}
		seenPage[next.String()] = true

		pg, err := c.getPage(ctx, next, n, &budget)
		if err != nil {
			return nil, err
		}
		for _, t := range pg.Items {
			// Tickets created during the walk shift later pages; drop repeats.
			if t.TicketID != 0 && seenTicket[t.TicketID] {
				continue
			}
			seenTicket[t.TicketID] = true
			out = append(out, t)
		}
		c.log.Debug("atera: tickets page read", "page", n, "items", len(pg.Items), "total_pages", pg.TotalPages)
		if next, err = c.nextPage(next, pg); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// nextPage resolves the next page to read: nextLink when given, else, if
// the envelope says more pages exist, the following page number; nil at the
// end. A nextLink to another host is refused, since it would carry the key.
func (c *Client) nextPage(cur *url.URL, pg *page) (*url.URL, error) {
	if pg.NextLink == "" {
		if pg.Page > 0 && pg.Page < pg.TotalPages && len(pg.Items) > 0 {
			u := *cur
			q := u.Query()
			q.Set("page", strconv.Itoa(pg.Page+1))
			u.RawQuery = q.Encode()
			return &u, nil
		}
		return nil, nil
	}
	ref, err := url.Parse(pg.NextLink)
	if err != nil {
		return nil, fmt.Errorf("atera: page %d has an unreadable nextLink: %w", pg.Page, err)
	}
	u := cur.ResolveReference(ref)
	if !sameOrigin(u, c.base) {
		return nil, fmt.Errorf("atera: nextLink points to another host (%s); not sending the API key there", u.Host)
	}
	return u, nil
}

// scrub removes the credential from an error's text, in case a server or a
// proxy echoed it back. The scrubbed error keeps no chain to the original.
func (c *Client) scrub(err error) error {
	secret := strings.TrimPrefix(c.authValue, "Bearer ")
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[REDACTED]"))
}

// sameOrigin compares scheme, host and port, an explicit default port
// (app.atera.com:443) matching an implicit one.
func sameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "http") {
			return "80"
		}
		return "443"
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// getPage fetches and decodes one page, retrying throttling (429, honouring
// Retry-After), 5xx, transport errors and bodies that fail to read or decode
// (a connection cut mid-body), within maxRetries and the remaining budget.
func (c *Client) getPage(ctx context.Context, u *url.URL, n int, budget *time.Duration) (*page, error) {
	for attempt := 0; ; attempt++ {
		pg, wait, retry, err := c.try(ctx, u)
		if err == nil {
			return pg, nil
		}
		err = c.scrub(fmt.Errorf("atera: GET %s (page %d): %w", u.Path, n, err))
		if !retry || ctx.Err() != nil {
			return nil, err
		}
		if c.budget < 0 {
			return nil, fmt.Errorf("%w (not retried: retries are turned off)", err)
		}
		if attempt >= c.maxRetries {
			return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
		}
		if wait == 0 {
			wait = min(time.Second<<attempt, maxBackoff)
			wait += c.jitter(wait)
		}
		if wait > *budget {
			return nil, fmt.Errorf("%w (retry budget exhausted: next wait %s, %s left)", err, wait.Round(time.Millisecond), budget.Round(time.Millisecond))
		}
		*budget -= wait
		c.log.Warn("atera: retrying", "page", n, "attempt", attempt+2, "wait", wait, "error", err.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("atera: GET %s (page %d): %w", u.Path, n, err)
		}
		c.stats.Retries.Add(1)
	}
}

// try makes one attempt. wait is the server's Retry-After (0 = use backoff);
// retry says whether another attempt may succeed.
func (c *Client) try(ctx context.Context, u *url.URL) (pg *page, wait time.Duration, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, false, err
	}
	req.Header.Set(c.authHeader, c.authValue)
	req.Header.Set("Accept", "application/json")
	c.stats.Requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		// Transport errors (reset, timeout, refused) may pass; a refused
		// redirect, an untrusted certificate or a cancelled context (checked
		// by the caller) will not.
		var cve *tls.CertificateVerificationError
		return nil, 0, !errors.Is(err, errRedirect) && !errors.As(err, &cve), err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	_ = resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusOK:
		if rerr != nil {
			return nil, 0, true, fmt.Errorf("reading the response: %w", rerr)
		}
		pg = new(page)
		if err := json.Unmarshal(body, pg); err != nil {
			return nil, 0, true, fmt.Errorf("decoding the response (%d bytes): %w", len(body), err)
		}
		return pg, 0, false, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		c.stats.Throttled.Add(1)
		return nil, retryAfter(resp.Header.Get("Retry-After"), time.Now()), true, statusError(resp, body)
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, 0, false, fmt.Errorf("%s: Atera rejected the credential (check the API key and that it is not expired)", resp.Status)
	case resp.StatusCode == http.StatusForbidden:
		return nil, 0, false, fmt.Errorf("%s: the API key may not read tickets", resp.Status)
	case resp.StatusCode >= 500:
		return nil, retryAfter(resp.Header.Get("Retry-After"), time.Now()), true, statusError(resp, body)
	default:
		return nil, 0, false, statusError(resp, body)
	}
}

func statusError(resp *http.Response, body []byte) error {
	msg := strings.TrimSpace(string(body))
	var e struct{ Message string }
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = e.Message
	}
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		return errors.New(resp.Status)
	}
	return fmt.Errorf("%s: %s", resp.Status, msg)
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); 0 when
// absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
