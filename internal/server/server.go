// Package server is the HTTP side of `ticketguard serve`: /healthz for
// liveness, /readyz for readiness, /metrics for Prometheus and a read-only
// HTML status page on /.
//
// Nothing here changes state, and the status page is plain server-rendered
// HTML (html/template escapes every value; no JavaScript, no external assets),
// so it can be exposed to an MSP's internal network. It has no
// authentication: bind it to a private address.
package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ticketguard/ticketguard/internal/metrics"
	"github.com/ticketguard/ticketguard/internal/store"
)

// DefaultAddr is the listen address when Options.Addr is empty: loopback
// only, since the status page is unauthenticated.
const DefaultAddr = "127.0.0.1:8080"

// Server timeouts. A slow or idle client must not hold a connection, or a
// goroutine, for long; ReadHeaderTimeout is the Slowloris guard.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// probeTimeout bounds the work one request does: the readiness check
	// and the store query of the status page.
	probeTimeout = 5 * time.Second
)

// TenantLister is what the status page reads from the store.
type TenantLister interface {
	Tenants(ctx context.Context) ([]store.TenantSummary, error)
}

// Options configure a Server.
type Options struct {
	// Addr is the host:port to listen on (DefaultAddr when empty; port 0
	// picks a free port, see Server.Addr).
	Addr string
	// Store is read by the status page. Required.
	Store TenantLister
	// Tenants are the configured tenants, shown on the status page even
	// before their first run. Tenants found only in the store are shown too.
	Tenants []string
	// Next returns when a tenant's next run is due (zero: not scheduled).
	// Optional.
	Next func(tenant string) time.Time
	// Schedule returns the tenant's schedule spec, shown next to its next
	// run. Optional.
	Schedule func(tenant string) string
	// Ready reports why the service cannot work yet (the store is not open,
	// the scheduler has not started), or nil. /readyz answers 503 with the
	// error's text while it returns an error. Required.
	Ready func(ctx context.Context) error
	// Metrics are served on /metrics; without them /metrics is 404.
	Metrics *metrics.Metrics
	// Logger receives request errors; discarded when nil.
	Logger *slog.Logger
	// Location is the time zone of times on the status page (time.Local
	// when nil); each time also carries its RFC 3339 form.
	Location *time.Location
	// Now is the clock of the status page (time.Now when nil).
	Now func() time.Time
}

// Server serves the endpoints. Create it with New.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	tmpl    *template.Template
	srv     *http.Server

	mu   sync.Mutex
	ln   net.Listener
	done chan struct{} // closed when Serve returns
}

// New checks the options and builds the server; Start makes it listen.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("server: no store")
	}
	if opts.Ready == nil {
		return nil, errors.New("server: no readiness check")
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	tmpl, err := parseStatusTemplate(opts.Location)
	if err != nil {
		return nil, fmt.Errorf("server: status page template: %w", err)
	}
	s := &Server{opts: opts, log: opts.Logger, tmpl: tmpl}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", opts.Metrics.Handler())
	}
	mux.HandleFunc("GET /{$}", s.status)
	s.handler = mux

	s.srv = &http.Server{
		Addr:              opts.Addr,
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler is the server's routes, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on the configured address and serves in the background. It
// returns once the address is bound, so a port in use is reported here.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("server: already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
	s.log.Info("http server listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the address the server listens on ("" before Start): with port 0
// in Options.Addr, the port that was picked.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting connections and waits for requests in progress
// until ctx ends, then closes the remaining connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		// Requests still running at the deadline: cut them off.
		_ = s.srv.Close()
		err = fmt.Errorf("server: shutdown: %w", err)
	}
	if done != nil {
		<-done
	}
	return err
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	plain(w, http.StatusOK, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
	defer cancel()
	if err := s.opts.Ready(ctx); err != nil {
		plain(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	plain(w, http.StatusOK, "ready")
}

func plain(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, body)
}
