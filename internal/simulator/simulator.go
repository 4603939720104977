// Package simulator runs the simulated Microsoft 365 and Atera services the
// collectors are tested and demonstrated against: Microsoft Entra sign-in
// (identity), the Exchange Online admin API (exchange), Microsoft Graph
// (graph), the Atera API (atera), each on its own 127.0.0.1 TLS listener with
// a certificate from the simulator's own CA, and Office 365 SMTP client
// submission (smtp). The real clients (azidentity, msgraph-sdk-go, net/smtp)
// talk to it unchanged once the endpoints point here and the CA is trusted,
// which WriteConfig arranges.
package simulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/ticketguard/ticketguard/internal/simulator/atera"
	"github.com/ticketguard/ticketguard/internal/simulator/exchange"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/simulator/graph"
	"github.com/ticketguard/ticketguard/internal/simulator/identity"
	"github.com/ticketguard/ticketguard/internal/simulator/smtp"
)

// Options configures a simulator.
type Options struct {
	Tenants []*fixture.Tenant
	// Faults injects failures (endpoint names: token, exchange:<cmdlet>,
	// graph:<messageRules|contacts|groupMembers|messageTraces>, atera:tickets,
	// smtp); nil injects none, and Faults() then returns an empty injector
	// tests can add rules to while the simulator runs.
	Faults *fault.Injector
	// Latency is added to every HTTP request, as the distance to Microsoft's
	// and Atera's data centres would (benchmarks use 50 ms).
	Latency time.Duration
	// PageSize caps Exchange and Graph pages (0: each service's default), so
	// small fixtures still exercise paging.
	PageSize int
	// TokenLifetime of issued access tokens; 0 means Entra's 3599 s.
	TokenLifetime time.Duration
	// Logf receives one line per request (service, tenant, method, path,
	// status, duration; never headers or bodies); nil is silent.
	Logf func(format string, args ...any)
}

// URLs are where the services listen. The HTTP ones are base URLs as
// ticketguard.yaml's endpoints take them (no trailing slash, no /v1.0 or
// /api/v3); SMTP is host:port.
type URLs struct {
	Login    string // Microsoft Entra authority host: {Login}/{tenant}/oauth2/v2.0/token
	Exchange string // {Exchange}/adminapi/beta/{tenant}/InvokeCommand
	Graph    string // {Graph}/v1.0/...
	Atera    string // {Atera}/api/v3/tickets
	SMTP     string // 127.0.0.1:port, STARTTLS then AUTH
}

// Service names, as Requests keys them.
const (
	ServiceLogin    = "login"
	ServiceExchange = "exchange"
	ServiceGraph    = "graph"
	ServiceAtera    = "atera"
)

// Simulator is a running set of simulated services. It is safe for
// concurrent use.
type Simulator struct {
	set       *fixture.Set
	faults    *fault.Injector
	authority *identity.Authority
	exchange  *exchange.Handler
	smtp      *smtp.Server
	apiKey    string
	latency   time.Duration
	logf      func(string, ...any)

	servers []*http.Server
	done    []chan struct{}
	urls    URLs

	mu       sync.Mutex
	requests map[string]int

	closeOnce sync.Once
	closeErr  error
}

// Start starts every service on 127.0.0.1 with ephemeral ports. The services
// stop when Close is called (ctx only bounds start-up).
func Start(ctx context.Context, o Options) (*Simulator, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	set, err := fixture.NewSet(o.Tenants...)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	// The Atera API tells tenants apart by customer id only.
	customers := map[int]string{}
	for _, t := range set.All() {
		id := atera.CustomerID(t)
		if other, dup := customers[id]; dup {
			return nil, fmt.Errorf("simulator: tenants %s and %s have the same Atera customer id %d", other, t.Name, id)
		}
		customers[id] = t.Name
	}
	faults := o.Faults
	if faults == nil {
		faults = &fault.Injector{}
	}
	apiKey, err := newAPIKey()
	if err != nil {
		return nil, fmt.Errorf("simulator: Atera API key: %w", err)
	}
	s := &Simulator{
		set: set, faults: faults, apiKey: apiKey, latency: o.Latency, logf: o.Logf,
		requests: map[string]int{},
	}

	s.authority, err = identity.New(identity.Options{Tenants: set, Faults: faults, TokenLifetime: o.TokenLifetime})
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s.exchange, err = exchange.New(exchange.Options{Tenants: set, Tokens: s.authority, Faults: faults, PageSize: o.PageSize})
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	graphHandler, err := graph.New(graph.Options{Tenants: set, Validator: s.authority, Faults: faults, PageSize: o.PageSize})
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	ateraHandler := atera.New(set, atera.Options{APIKey: apiKey, Faults: faults})

	services := []struct {
		name    string
		handler http.Handler
		url     *string
	}{
		{ServiceLogin, s.authority, &s.urls.Login},
		{ServiceExchange, s.exchange, &s.urls.Exchange},
		{ServiceGraph, graphHandler, &s.urls.Graph},
		{ServiceAtera, ateraHandler, &s.urls.Atera},
	}
	for _, svc := range services {
		url, err := s.serve(svc.name, svc.handler)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		*svc.url = url
	}

	// The SMTP certificate also names smtp.office365.com, so a probe that
	// dials the simulator but verifies the server name Atera is configured
	// with (smtp.office365.com) still verifies, against the simulator's CA.
	s.smtp, err = smtp.New(set, smtp.Options{
		TLSConfig: s.authority.ServerTLSConfig("smtp.office365.com"),
		Faults:    faults,
	})
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s.urls.SMTP = s.smtp.Addr()
	return s, nil
}

// newAPIKey makes an Atera-like API key: 32 random bytes, hex in Atera's
// case, here base64url (what matters is that it is unguessable and unique).
func newAPIKey() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// serve starts one HTTPS service on its own listener.
func (s *Simulator) serve(name string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("simulator: %s listener: %w", name, err)
	}
	srv := &http.Server{
		Handler:           s.wrap(name, h),
		TLSConfig:         s.authority.ServerTLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		// The server's own errors (TLS handshakes a client abandoned, a
		// hang-up during a fault.Truncate answer) go to Logf, never stderr.
		ErrorLog: log.New(logWriter{s}, "simulator: "+name+": ", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log("simulator: %s stopped: %v", name, err)
		}
	}()
	s.servers = append(s.servers, srv)
	s.done = append(s.done, done)
	return "https://" + ln.Addr().String(), nil
}

// statusWriter records the status a handler answered with, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap adds the simulated latency, request counting and logging.
func (s *Simulator) wrap(service string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		tenant := s.tenantOf(service, r)
		s.count(service, tenant)
		if s.latency > 0 {
			t := time.NewTimer(s.latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if s.logf != nil {
			// The path only: query strings can carry addresses ($filter) but
			// never credentials, which travel in headers and bodies only.
			s.log("simulator: %s %s %s %s -> %d (%s)", service, orUnknown(tenant), r.Method, r.URL.Path, sw.status,
				time.Since(start).Round(time.Millisecond))
		}
	})
}

func orUnknown(tenant string) string {
	if tenant == "" {
		return "-"
	}
	return tenant
}

// logWriter forwards a log.Logger's lines to Logf.
type logWriter struct{ s *Simulator }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.log("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (s *Simulator) log(format string, args ...any) {
	if s.logf != nil {
		s.logf(format, args...)
	}
}

// tenantOf names the fixture tenant a request is for, "" when it cannot be
// told: from the path for sign-in and Exchange, from the bearer token for
// Graph, from customerId for Atera.
func (s *Simulator) tenantOf(service string, r *http.Request) string {
	switch service {
	case ServiceLogin:
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		return s.tenantByPathSegment(seg)
	case ServiceExchange:
		// /adminapi/beta/{tenant}/InvokeCommand
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) >= 3 {
			return s.tenantByPathSegment(parts[2])
		}
	case ServiceGraph:
		if id, err := s.authority.Validate(r.Header.Get("Authorization"), graph.Audience); err == nil {
			if t, ok := s.set.ByID(id); ok {
				return t.Name
			}
		}
	case ServiceAtera:
		if cid := r.URL.Query().Get("customerId"); cid != "" {
			for _, t := range s.set.All() {
				if fmt.Sprint(atera.CustomerID(t)) == cid {
					return t.Name
				}
			}
		}
	}
	return ""
}

func (s *Simulator) tenantByPathSegment(seg string) string {
	if t, ok := s.set.ByID(seg); ok {
		return t.Name
	}
	for _, t := range s.set.All() {
		var match bool
		s.set.Read(t, func(t *fixture.Tenant) { match = t.Domain != "" && strings.EqualFold(t.Domain, seg) })
		if match {
			return t.Name
		}
	}
	return ""
}

func (s *Simulator) count(service, tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[service+"/"+tenant]++
}

// Requests returns how many HTTP requests each service received per tenant,
// keyed "service/tenant" (service one of login, exchange, graph, atera;
// tenant the fixture name, empty when a request named none, e.g. an Atera
// query across customers or a Graph call with an invalid token). Retries and
// failed requests count.
func (s *Simulator) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

// Close stops every service and releases its port. Open connections are
// closed; it is safe to call more than once.
func (s *Simulator) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, srv := range s.servers {
			if err := srv.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		for _, d := range s.done {
			<-d
		}
		if s.smtp != nil {
			if err := s.smtp.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			s.closeErr = fmt.Errorf("simulator: close: %w", errors.Join(errs...))
		}
	})
	return s.closeErr
}

// Tenants is the live tenant set; tests change a tenant while the simulator
// runs with Tenants().Update.
func (s *Simulator) Tenants() *fixture.Set { return s.set }

// Faults is the live fault injector.
func (s *Simulator) Faults() *fault.Injector { return s.faults }

// CAPEM is the simulator CA's certificate in PEM: the only CA a client
// needs to trust to reach every service.
func (s *Simulator) CAPEM() []byte { return s.authority.CAPEM() }

// HTTPClient returns a client that trusts the simulator's CA (and only it).
func (s *Simulator) HTTPClient() *http.Client { return s.authority.HTTPClient() }

// URLs returns where the services listen.
func (s *Simulator) URLs() URLs { return s.urls }

// Identity is the simulated Entra ID, for tests that expire tokens
// (ExpireTokens) or count token requests (TokenRequests).
func (s *Simulator) Identity() *identity.Authority { return s.authority }

// Exchange is the admin API handler, for per-cmdlet call counts (Calls).
func (s *Simulator) Exchange() *exchange.Handler { return s.exchange }

// SMTP is the SMTP server, for tests that change how AUTH answers
// (SetAuthMode).
func (s *Simulator) SMTP() *smtp.Server { return s.smtp }

// AteraAPIKey is the Atera API key the simulator accepts (a secret:
// WriteConfig writes it to a file; tests search outputs for it).
func (s *Simulator) AteraAPIKey() string { return s.apiKey }

// ---------------------------------------------------------------------------
// Configuration for the real clients

// ConfigFile is the name WriteConfig gives the configuration.
const ConfigFile = "ticketguard.yaml"

// The YAML written mirrors internal/config's format (docs/ticketguard.example.yaml).
type yamlSecret struct {
	File string `yaml:"file"`
}

type yamlConfig struct {
	Version   int           `yaml:"version"`
	Endpoints yamlEndpoints `yaml:"endpoints"`
	Atera     yamlAtera     `yaml:"atera"`
	Tenants   []yamlTenant  `yaml:"tenants"`
}

type yamlEndpoints struct {
	Login    string `yaml:"login"`
	Exchange string `yaml:"exchange"`
	Graph    string `yaml:"graph"`
	Atera    string `yaml:"atera"`
	CAFile   string `yaml:"ca_file"`
}

type yamlAtera struct {
	APIKey *yamlSecret `yaml:"api_key,flow"`
}

type yamlTenant struct {
	Name         string          `yaml:"name"`
	TenantID     string          `yaml:"tenant_id"`
	ClientID     string          `yaml:"client_id"`
	Certificate  *yamlSecret     `yaml:"certificate,omitempty,flow"`
	ClientSecret *yamlSecret     `yaml:"client_secret,omitempty,flow"`
	Atera        yamlTenantAtera `yaml:"atera"`
}

type yamlTenantAtera struct {
	TicketingAddress string      `yaml:"ticketing_address"`
	SupportAddress   string      `yaml:"support_address"`
	CustomerID       int         `yaml:"customer_id"`
	SMTP             *yamlSMTP   `yaml:"smtp"` // nil writes `smtp: null`: Atera's default sender
	SMTPPassword     *yamlSecret `yaml:"smtp_password,omitempty,flow"`
}

type yamlSMTP struct {
	Server   string `yaml:"server"`
	Port     int    `yaml:"port"`
	SSL      bool   `yaml:"ssl"`
	Username string `yaml:"username"`
}

const configHeader = `# Written by the ticketguard simulator (%s). Every endpoint points at the
# simulator, whose CA is ca.pem; the secrets are the files beside this one.
# Valid only while the simulator that wrote it runs: its ports and CA are new
# each time it starts.
`

// WriteConfig writes, into dir (created if needed), a ticketguard.yaml whose
// endpoints point at the simulator, its CA as ca.pem, and one file per secret
// (client secret or certificate with key, SMTP password, the Atera API key),
// each referenced as {file: NAME} relative to the configuration, mode 0600.
// Tenants' atera blocks come from the fixtures. It returns the path of the
// configuration file.
//
// The SMTP blocks keep the fixtures' declared server (smtp.office365.com:587),
// since that is what the checks judge; the simulator's SMTP server is at
// URLs().SMTP.
func (s *Simulator) WriteConfig(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("simulator: write config: %w", err)
	}
	write := func(name string, data []byte, mode os.FileMode) error {
		if err := os.WriteFile(filepath.Join(dir, name), data, mode); err != nil {
			return fmt.Errorf("simulator: write config: %w", err)
		}
		return nil
	}
	if err := write("ca.pem", s.CAPEM(), 0o644); err != nil {
		return "", err
	}
	if err := write("atera-api-key", []byte(s.apiKey+"\n"), 0o600); err != nil {
		return "", err
	}
	cfg := yamlConfig{
		Version: 1,
		Endpoints: yamlEndpoints{
			Login: s.urls.Login, Exchange: s.urls.Exchange, Graph: s.urls.Graph, Atera: s.urls.Atera, CAFile: "ca.pem",
		},
		Atera: yamlAtera{APIKey: &yamlSecret{File: "atera-api-key"}},
	}
	used := map[string]bool{}
	for _, t := range s.set.All() {
		var yt yamlTenant
		var files map[string][]byte
		var err error
		s.set.Read(t, func(t *fixture.Tenant) { yt, files, err = tenantConfig(t, used) })
		if err != nil {
			return "", err
		}
		for name, data := range files {
			if err := write(name, data, 0o600); err != nil {
				return "", err
			}
		}
		cfg.Tenants = append(cfg.Tenants, yt)
	}
	body, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("simulator: write config: %w", err)
	}
	path := filepath.Join(dir, ConfigFile)
	data := append([]byte(fmt.Sprintf(configHeader, time.Now().UTC().Format(time.RFC3339))), body...)
	if err := write(ConfigFile, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// tenantConfig is a tenant's block and its secret files.
func tenantConfig(t *fixture.Tenant, used map[string]bool) (yamlTenant, map[string][]byte, error) {
	base := fileBase(t.Name, used)
	files := map[string][]byte{}
	yt := yamlTenant{
		Name: t.Name, TenantID: strings.ToLower(t.TenantID), ClientID: strings.ToLower(t.ClientID),
		Atera: yamlTenantAtera{
			TicketingAddress: t.TicketingAddress, SupportAddress: t.SupportAddress,
			CustomerID: atera.CustomerID(t),
		},
	}
	switch key := fixture.PrivateKeyPEM(t); {
	case len(t.CertificatePEM) > 0 && key != nil:
		name := base + "-certificate.pem"
		files[name] = append(append([]byte(nil), t.CertificatePEM...), key...)
		yt.Certificate = &yamlSecret{File: name}
	case t.ClientSecret != "":
		name := base + "-client-secret"
		files[name] = []byte(t.ClientSecret + "\n")
		yt.ClientSecret = &yamlSecret{File: name}
	default:
		return yt, nil, fmt.Errorf("simulator: write config: tenant %s has no client secret and no certificate whose key this process holds", t.Name)
	}
	if t.SMTP != nil {
		port, err := strconv.Atoi(fmt.Sprint(t.SMTP["port"]))
		if err != nil {
			port = 587
		}
		server, _ := t.SMTP["server"].(string)
		username, _ := t.SMTP["username"].(string)
		ssl, _ := t.SMTP["ssl"].(bool)
		yt.Atera.SMTP = &yamlSMTP{Server: server, Port: port, SSL: ssl, Username: username}
		if t.SMTPPassword != "" {
			name := base + "-smtp-password"
			files[name] = []byte(t.SMTPPassword + "\n")
			yt.Atera.SMTPPassword = &yamlSecret{File: name}
		}
	}
	return yt, files, nil
}

// fileBase is a file-name-safe, unique prefix for a tenant's secret files.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func fileBase(tenant string, used map[string]bool) string {
	base := strings.ToLower(unsafeName.ReplaceAllString(tenant, "_"))
	name := base
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	used[name] = true
	return name
}
