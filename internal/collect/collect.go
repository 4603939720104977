// Package collect drives the collectors for every tenant of a configuration
// and writes one snapshot per tenant: sign in, read Exchange Online's
// tenant-wide settings, ask the policies' own plan (data.ticketguard.lib.plan)
// which per-recipient data the checks still need and fetch it (at most
// three rounds), then Microsoft Graph, the Atera API and, when asked, the
// SMTP probe. Tenants are collected concurrently within collect.concurrency;
// one tenant's failure (sign-in, timeout, even a panic in this package)
// never stops the others.
//
// A snapshot is validated against the published schema before it is
// written, and written atomically, so a reader never sees an invalid or
// partial file. Nothing it prints or stores carries a secret: every value
// resolved from the configuration and every bearer token issued is replaced
// by [REDACTED] in errors and progress lines.
package collect

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ticketguard/ticketguard/collectors"
	"github.com/ticketguard/ticketguard/collectors/atera"
	"github.com/ticketguard/ticketguard/collectors/exchange"
	"github.com/ticketguard/ticketguard/collectors/graph"
	"github.com/ticketguard/ticketguard/collectors/smtpprobe"
	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/credential"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/snapshot"
)

// MaxPlanRounds bounds the per-recipient rounds after the tenant-wide one
// (docs/DESIGN.md, "What to collect"): each round follows references the
// previous one revealed (a forwarding target, a member's inbox rules), and
// real delivery paths are shorter than that. Requests per tenant therefore
// stay a small constant whatever the mailbox count.
const MaxPlanRounds = 3

// Error sources this package records itself, besides the collectors' own.
const (
	// SourceCollection: the collection as a whole (the per-tenant timeout,
	// a planning failure, an internal error).
	SourceCollection = "collection"
	// SourceAuth is the collectors' sign-in failure source.
	SourceAuth = "auth"
)

// Options configures Run.
type Options struct {
	// Tenants restricts the run to these tenant names (case-insensitive);
	// empty collects every tenant of the configuration.
	Tenants []string
	// OutDir receives NAME.json per tenant (created if needed); empty keeps
	// the snapshots in memory only (Outcome.Snapshot), as `audit` does by
	// default.
	OutDir string
	// ProbeSMTP runs the SMTP probe for tenants with a custom SMTP server.
	ProbeSMTP bool
	// SMTPAddress, when set, is the host:port every SMTP probe dials instead
	// of the tenant's configured server; the certificate is still verified
	// for the configured server name. It points the probe at the simulator.
	SMTPAddress string
	// Progress receives the one-line progress display when it is a
	// terminal; nil, a pipe or a file: nothing.
	Progress io.Writer
	// Now is the clock for collected_at and the collection windows; nil is
	// time.Now.
	Now func() time.Time
	// HTTPClient carries every HTTP request; nil builds one trusting the
	// system CAs plus endpoints.ca_file.
	HTTPClient *http.Client
	// Engine evaluates the collection plan; nil loads the built-in policies.
	Engine *policy.Engine
	// Version is written to the snapshots' collection.collector_version.
	Version string
}

// Counts are a tenant's request statistics.
type Counts struct {
	Requests  int64 `json:"requests"`
	Retries   int64 `json:"retries"`
	Throttled int64 `json:"throttled"`
}

// Outcome is what collecting one tenant produced.
type Outcome struct {
	Tenant string
	// Path is the snapshot file written; "" when none was (no OutDir, or the
	// tenant failed before any Exchange data was read).
	Path string
	// Snapshot is the collected snapshot, parsed and validated; nil when the
	// tenant failed before any Exchange data was read.
	Snapshot *snapshot.Document
	Stats    Counts
	Rounds   int // fetch rounds, the tenant-wide one included
	// Errors are the sources that could not be read, as the snapshot
	// records them (redacted).
	Errors []result.SourceError
	// Err is set when the tenant produced no snapshot at all (sign-in
	// failed, nothing could be read); its text is redacted.
	Err      error
	Duration time.Duration
}

// OK reports whether the tenant was collected completely.
func (o Outcome) OK() bool { return o.Err == nil && len(o.Errors) == 0 }

// Run collects the selected tenants of cfg and returns one Outcome per
// tenant, in configuration order. Its error is for what stops the run as a
// whole before any tenant starts (an unknown --tenant, an output directory
// that cannot be created, an unreadable CA file or Atera API key, policies
// that do not load); a tenant's own failure is in its Outcome. When ctx is
// cancelled, the tenants still running record the interruption and Run
// returns what was collected; the caller checks ctx.Err().
func Run(ctx context.Context, cfg *config.Config, o Options) ([]Outcome, error) {
	tenants, err := selectTenants(cfg, o.Tenants)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, opts: o, now: o.Now, hc: o.HTTPClient, engine: o.Engine}
	if r.now == nil {
		r.now = time.Now
	}
	if o.OutDir != "" {
		if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("output directory: %w", err)
		}
	}
	if r.hc == nil {
		if r.hc, err = credential.HTTPClient(cfg.Endpoints.CAFile); err != nil {
			return nil, fmt.Errorf("endpoints.ca_file: %w", err)
		}
	}
	if o.ProbeSMTP {
		if r.roots, err = certPool(cfg.Endpoints.CAFile); err != nil {
			return nil, fmt.Errorf("endpoints.ca_file: %w", err)
		}
	}
	if cfg.Atera.APIKey != nil {
		// One key for the whole Atera account: unreadable, it would fail
		// every tenant the same way, so say it once, before starting.
		if r.ateraKey, err = cfg.Atera.APIKey.Resolve(); err != nil {
			return nil, fmt.Errorf("atera.api_key: %w", err)
		}
	}
	if r.engine == nil {
		if r.engine, err = policy.Load(ctx, policy.Options{}); err != nil {
			return nil, fmt.Errorf("load the collection plan: %w", err)
		}
	}

	r.prog = newProgress(o.Progress, len(tenants))
	defer r.prog.close()

	limit := cfg.Collect.Concurrency
	if limit <= 0 {
		limit = config.DefaultConcurrency
	}
	// Every tenant's clients are built, one tenant after the other, before
	// any collection starts: msgraph-sdk-go's constructor writes a
	// package-level variable (kiota's BackingStoreFactoryInstance) that
	// every Graph response then reads, so building a client while another
	// tenant's requests are being answered is a data race. Building reads
	// the tenant's secrets but makes no request.
	runs := make([]*tenantRun, len(tenants))
	for i, t := range tenants {
		runs[i] = r.prepare(ctx, t)
	}
	sem := make(chan struct{}, limit)
	outcomes := make([]Outcome, len(tenants))
	var wg sync.WaitGroup
	for i, tr := range runs {
		// Waiting here keeps at most `limit` goroutines alive rather than
		// one per tenant blocked on the semaphore.
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			outcomes[i] = tr.run(ctx)
		}()
	}
	wg.Wait()
	return outcomes, nil
}

// selectTenants applies the --tenant filter, in configuration order.
func selectTenants(cfg *config.Config, names []string) ([]config.Tenant, error) {
	if len(cfg.Tenants) == 0 {
		return nil, errors.New("the configuration lists no tenant")
	}
	if len(names) == 0 {
		return cfg.Tenants, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		if _, err := cfg.Tenant(n); err != nil {
			return nil, err
		}
		want[strings.ToLower(n)] = true
	}
	var out []config.Tenant
	for _, t := range cfg.Tenants {
		if want[strings.ToLower(t.Name)] {
			out = append(out, t)
		}
	}
	return out, nil
}

// certPool is the system roots plus caFile, for the SMTP probe (the HTTP
// client builds its own the same way).
func certPool(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// runner is one Run's shared state.
type runner struct {
	cfg      *config.Config
	opts     Options
	now      func() time.Time
	hc       *http.Client
	roots    *x509.CertPool
	ateraKey string
	engine   *policy.Engine
	prog     *progress
}

// tenantRun is one tenant's collection in progress.
type tenantRun struct {
	*runner
	t       config.Tenant
	red     *redactor
	p       *collectors.Partial
	stats   *collectors.Stats
	started time.Time
	rounds  int

	// Built by prepare; nil when that failed.
	cred azcore.TokenCredential
	ex   *exchange.Client
	gr   *graph.Client

	// asked holds, per want ("inbox_rules", ...), the values already
	// fetched; notFound those the plan still wanted after they were
	// fetched, i.e. lookups that found nothing. The snapshot carries
	// notFound as collection.not_found, which the plan reads as answered.
	asked    map[string]map[string]bool
	notFound map[string][]string
}

// notAskedYet removes from w what an earlier round already fetched, so no
// value is ever asked twice; those still wanted are recorded as not found
// (a failed fetch is recorded as an error instead, which the plan already
// counts as answered).
func (tr *tenantRun) notAskedYet(w collectors.Wants) collectors.Wants {
	if tr.asked == nil {
		tr.asked, tr.notFound = map[string]map[string]bool{}, map[string][]string{}
	}
	filter := func(key string, values []string) []string {
		if tr.asked[key] == nil {
			tr.asked[key] = map[string]bool{}
		}
		var out []string
		for _, v := range values {
			k := strings.ToLower(strings.TrimSpace(v))
			switch {
			case k == "":
			case tr.asked[key][k]:
				if !slices.Contains(tr.notFound[key], v) {
					tr.notFound[key] = append(tr.notFound[key], v)
				}
			default:
				tr.asked[key][k] = true
				out = append(out, v)
			}
		}
		return out
	}
	return collectors.Wants{
		GroupMembers:         filter("group_members", w.GroupMembers),
		InboxRules:           filter("inbox_rules", w.InboxRules),
		Mailboxes:            filter("mailboxes", w.Mailboxes),
		RecipientPermissions: filter("recipient_permissions", w.RecipientPermissions),
		CASMailboxes:         filter("cas_mailboxes", w.CASMailboxes),
	}
}

// prepare builds a tenant's credential and clients; a failure is recorded
// in its partial snapshot, and run then collects nothing.
func (r *runner) prepare(ctx context.Context, t config.Tenant) (tr *tenantRun) {
	tr = &tenantRun{runner: r, t: t, red: r.secretsOf(t), stats: &collectors.Stats{}}
	tr.p = collectors.NewPartial(tr.red.redact)
	defer func() {
		if v := recover(); v != nil {
			tr.cred, tr.ex, tr.gr = nil, nil, nil
			tr.p.AddError(SourceCollection, fmt.Errorf("internal error (a ticketguard bug, please report it): %v", v))
		}
	}()
	cred, err := credential.New(ctx, t, r.cfg.Endpoints, r.hc)
	if err != nil {
		tr.p.AddError(SourceAuth, err)
		return tr
	}
	tr.cred = recordingCredential{inner: cred, red: tr.red}
	limit := r.cfg.Collect.PerTenantRequests
	budget := retryBudget(r.cfg.Collect.RetryBudget)
	tr.ex, err = exchange.New(exchange.Options{
		Endpoint: r.cfg.Endpoints.Exchange, TenantID: t.TenantID, Credential: tr.cred, HTTPClient: r.hc,
		RetryBudget: budget, Concurrency: limit, Stats: tr.stats, OnCmdlet: tr.step,
	})
	if err != nil {
		tr.p.AddError(SourceCollection, err)
		return tr
	}
	tr.gr, err = graph.New(graph.Options{
		BaseURL: r.cfg.Endpoints.Graph, Credential: tr.cred, HTTPClient: r.hc, Stats: tr.stats, OnStep: tr.step,
		RetryBudget: budget, Concurrency: limit, Now: r.now,
	})
	if err != nil {
		for _, src := range []string{graph.SourceMessageRules, graph.SourceContacts, graph.SourceGroupMembers, graph.SourceMessageTraces} {
			tr.p.AddError(src, err)
		}
	}
	return tr
}

// run collects the tenant and never panics: a panic in this package's code
// becomes the tenant's error (goroutines the collectors start are theirs to
// guard).
func (tr *tenantRun) run(ctx context.Context) (out Outcome) {
	tr.started = tr.now()
	began := time.Now()
	tr.prog.start(tr.t.Name)
	defer func() {
		if v := recover(); v != nil {
			out = Outcome{Tenant: tr.t.Name, Err: fmt.Errorf("internal error while collecting (a ticketguard bug, please report it): %s", tr.red.redact(fmt.Sprint(v)))}
		}
		out.Duration = time.Since(began)
		tr.prog.finish(tr.t.Name)
	}()

	timeout := tr.cfg.Collect.Timeout
	if timeout <= 0 {
		timeout = config.DefaultTimeout
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr.collect(tctx)
	if errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		tr.p.AddError(SourceCollection, fmt.Errorf("collection timed out after %s (collect.timeout); what was not read by then is missing", timeout))
	} else if ctx.Err() != nil {
		tr.p.AddError(SourceCollection, fmt.Errorf("collection interrupted: %v", context.Cause(ctx)))
	}
	return tr.finish()
}

// secretsOf resolves every secret of the tenant only to know what to
// redact; the collectors resolve their own. A secret that does not resolve
// cannot leak, and the credential reports the problem.
func (r *runner) secretsOf(t config.Tenant) *redactor {
	red := newRedactor(r.ateraKey)
	for _, s := range []*config.Secret{t.ClientSecret, t.CertificatePassword, t.Atera.SMTPPassword} {
		if s != nil {
			if v, err := s.Resolve(); err == nil {
				red.add(v)
			}
		}
	}
	return red
}

func (tr *tenantRun) step(s string) { tr.prog.step(tr.t.Name, tr.red.redact(s)) }

// collect runs every collector for the tenant. Graph's tenant-wide reads,
// Atera and the SMTP probe do not depend on Exchange, so they run beside it;
// Graph's per-recipient reads wait for the plan.
func (tr *tenantRun) collect(ctx context.Context) {
	if tr.cred == nil || tr.ex == nil {
		return // prepare recorded why
	}
	// Sign in once before anything else: a wrong secret or certificate is
	// then one readable error (credential.SignInError, with a hint) instead
	// of every collector failing the same way at once. azidentity caches the
	// token, so the Exchange collector's first request reuses it.
	if _, err := tr.cred.GetToken(ctx, azpolicy.TokenRequestOptions{Scopes: []string{exchange.Scope}}); err != nil {
		tr.p.AddError(SourceAuth, err)
		return
	}
	ex, gr := tr.ex, tr.gr

	var wg sync.WaitGroup
	goSafe := func(source string, fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tr.recoverAs(source)
			fn()
		}()
	}
	if gr != nil {
		goSafe(graph.SourceContacts, func() { gr.CollectContacts(ctx, tr.p) })
		if addr := tr.t.Atera.TicketingAddress; addr != "" {
			hours := tr.cfg.Collect.MessageTraceHours
			if hours <= 0 {
				hours = config.DefaultMessageTraceHours
			}
			goSafe(graph.SourceMessageTraces, func() { gr.CollectMessageTraces(ctx, tr.p, addr, time.Duration(hours)*time.Hour) })
		}
	}
	if tr.ateraKey != "" {
		goSafe(atera.Source, func() { tr.collectAtera(ctx) })
	}
	if tr.opts.ProbeSMTP && tr.t.Atera.SMTP != nil {
		goSafe(smtpprobe.Source, func() { tr.probeSMTP(ctx) })
	}

	func() {
		defer tr.recoverAs(SourceCollection)
		tr.collectExchange(ctx, ex, gr)
	}()
	wg.Wait()
}

// recoverAs turns a panic in one part of the collection into an error of
// that source, so the rest of the tenant is still written.
func (tr *tenantRun) recoverAs(source string) {
	if v := recover(); v != nil {
		tr.p.AddError(source, fmt.Errorf("internal error (a ticketguard bug, please report it): %v", v))
	}
}

// collectExchange is the tenant-wide round, the plan rounds, and then the
// Graph reads that follow the plan: the inbox rules of the same mailboxes
// and the members of the support group.
func (tr *tenantRun) collectExchange(ctx context.Context, ex *exchange.Client, gr *graph.Client) {
	tw := exchange.TenantWide{SupportAddress: tr.t.Atera.SupportAddress}
	if s := tr.t.Atera.SMTP; s != nil {
		tw.SMTPUser = s.Username
	}
	ex.CollectTenantWide(ctx, tr.p, tw)
	tr.rounds = 1
	if tr.failed(SourceAuth) {
		return // every other call would fail the same way
	}

	var mailboxes []string // whose inbox rules were wanted, for Graph
	for range MaxPlanRounds {
		if ctx.Err() != nil || tr.failed(SourceAuth) {
			break
		}
		tr.step("planning")
		w, err := tr.plan(ctx)
		if err != nil {
			if ctx.Err() == nil {
				tr.p.AddError(SourceCollection, fmt.Errorf("planning round %d: %w", tr.rounds+1, err))
			}
			break
		}
		w = tr.notAskedYet(w)
		if w.Empty() {
			break
		}
		mailboxes = append(mailboxes, w.InboxRules...)
		ex.CollectWants(ctx, tr.p, w)
		tr.rounds++
	}

	if gr == nil || tr.failed(SourceAuth) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer tr.recoverAs(graph.SourceMessageRules)
		gr.CollectMessageRules(ctx, tr.p, mailboxes)
	}()
	go func() {
		defer wg.Done()
		defer tr.recoverAs(graph.SourceGroupMembers)
		if g := supportGroup(tr.p.Exchange(), tr.t.Atera.SupportAddress); g != "" {
			gr.CollectGroupMembers(ctx, tr.p, []string{g})
		}
	}()
	wg.Wait()
}

// plan evaluates the policies' collection plan on the snapshot so far. The
// partial snapshot goes through the same parsing and normalisation as a
// file, so the plan sees exactly what the checks will.
func (tr *tenantRun) plan(ctx context.Context) (collectors.Wants, error) {
	data, err := marshal(tr.document(false))
	if err != nil {
		return collectors.Wants{}, err
	}
	doc, err := snapshot.Parse(tr.t.Name+" (partial)", data)
	if err != nil {
		return collectors.Wants{}, fmt.Errorf("the partial snapshot is invalid: %w", err)
	}
	return tr.engine.Plan(ctx, doc.Data)
}

// failed reports whether an error of that source is recorded.
func (tr *tenantRun) failed(source string) bool {
	for _, e := range tr.p.Errors() {
		if e.Source == source {
			return true
		}
	}
	return false
}

// retryBudget maps collect.retry_budget to the collectors' option: a
// configured 0 means no retries, which the collectors spell as a negative
// budget (their 0 means "use the default").
func retryBudget(configured time.Duration) time.Duration {
	if configured <= 0 {
		return -1
	}
	return configured
}

func (tr *tenantRun) collectAtera(ctx context.Context) {
	tr.step("Atera tickets")
	c, err := atera.New(atera.Options{
		BaseURL: tr.cfg.Endpoints.Atera, APIKey: tr.ateraKey, HTTPClient: tr.hc, Stats: tr.stats,
		RetryBudget: retryBudget(tr.cfg.Collect.RetryBudget),
	})
	if err != nil {
		tr.p.AddError(atera.Source, err)
		return
	}
	q := atera.Query{WindowDays: tr.cfg.Atera.TicketWindowDays, Now: tr.started}
	if id := tr.t.Atera.CustomerID; id != nil {
		q.CustomerID = int(*id)
	}
	_ = c.CollectTickets(ctx, tr.p, q) // a failure is recorded in the partial snapshot
}

func (tr *tenantRun) probeSMTP(ctx context.Context) {
	s := tr.t.Atera.SMTP
	tr.step("SMTP probe")
	target := smtpprobe.Target{Server: s.Server, Port: s.Port, Username: s.Username, RootCAs: tr.roots, Address: tr.opts.SMTPAddress}
	if ref := tr.t.Atera.SMTPPassword; ref != nil {
		pw, err := ref.Resolve()
		if err != nil {
			tr.p.AddError(smtpprobe.Source, fmt.Errorf("smtp_password: %w", err))
			return
		}
		target.Password = pw
	}
	smtpprobe.Store(tr.p, smtpprobe.Probe(ctx, target))
}

// supportGroup returns the primary address of the distribution group that
// holds the support address, or "" when the support address is not a group
// (a mailbox, or a transport-rule address): Graph has members only for
// groups.
func supportGroup(exchange map[string]any, support string) string {
	support = collectors.NormalizeAddress(support)
	if support == "" {
		return ""
	}
	groups, _ := exchange["Get-DistributionGroup"].([]any)
	for _, g := range groups {
		m, _ := g.(map[string]any)
		primary, _ := m["PrimarySmtpAddress"].(string)
		if collectors.NormalizeAddress(primary) == support {
			return collectors.NormalizeAddress(primary)
		}
		for _, a := range asStrings(m["EmailAddresses"]) {
			if strings.HasPrefix(strings.ToLower(a), "smtp:") && collectors.NormalizeAddress(a) == support && primary != "" {
				return collectors.NormalizeAddress(primary)
			}
		}
	}
	return ""
}

// asStrings reads a multi-valued property: an array, a bare string or null.
func asStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// writeAtomic writes data to a temporary file beside path and renames it
// into place: a reader sees the previous snapshot or the complete new one.
// Snapshots describe a customer's mail set-up, so they are readable by the
// owner only.
func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
