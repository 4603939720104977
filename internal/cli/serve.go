package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/config"
	"github.com/ticketguard/ticketguard/internal/credential"
	"github.com/ticketguard/ticketguard/internal/metrics"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/schedule"
	"github.com/ticketguard/ticketguard/internal/server"
	"github.com/ticketguard/ticketguard/internal/service"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers/slack"
)

// Defaults of serve.
const (
	defaultFlushInterval   = 30 * time.Second
	defaultShutdownTimeout = 30 * time.Second
	// finalFlushTimeout bounds the outbox flush at the end of `run --once`
	// and of serve's shutdown: enough to wait out one Slack Retry-After,
	// short enough for a CronJob's or systemd's stop timeout.
	finalFlushTimeout = 20 * time.Second
	// runTimeoutMargin is added to collect.timeout for the rest of a round
	// (evaluation, store, Slack): the scheduler's limit is the last resort
	// behind the collection's own.
	runTimeoutMargin = 5 * time.Minute
)

// serviceOptions are the flags shared by serve and run: which
// configuration, store, policies and waivers, and the logs.
type serviceOptions struct {
	config      string
	policies    []string
	waivers     string
	probeSMTP   bool
	smtpAddress string
	logFormat   string
	logLevel    string
}

func addServiceFlags(cmd *cobra.Command, f *pflag.FlagSet, o *serviceOptions) {
	f.StringVarP(&o.config, "config", "c", "ticketguard.yaml", "the configuration `FILE`: tenants, credentials, schedule, store, server, slack")
	addStoreFlag(cmd)
	f.StringArrayVar(&o.policies, "policies", nil, "add the custom Rego checks in `DIR` (repeatable)")
	f.StringVar(&o.waivers, "waivers", "", "apply the waivers in the YAML `FILE`")
	f.BoolVar(&o.probeSMTP, "probe-smtp", false, "also probe each tenant's custom SMTP server (STARTTLS, AUTH, login when smtp_password is set; nothing is sent)")
	f.StringVar(&o.smtpAddress, "smtp-address", "", "with --probe-smtp, dial `HOST:PORT` instead of each tenant's SMTP server (for the simulator)")
	f.StringVar(&o.logFormat, "log-format", "auto", "log format on stderr: text, json, or auto (text on a terminal, else JSON)")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// newLogger builds the slog logger the flags ask for. Nothing ticketguard
// logs carries a secret: errors are redacted before they are logged.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "auto":
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text, json or auto", format)
}

// serviceSetup is what serve and run build before the first round.
type serviceSetup struct {
	cfg       *config.Config
	storePath string
	st        *store.Store
	svc       *service.Service
	metrics   *metrics.Metrics
	log       *slog.Logger
}

func (s *serviceSetup) close() {
	if s.st != nil {
		if err := s.st.Close(); err != nil {
			s.log.Error("close the store", "error", err)
		}
	}
}

// openService loads everything a round needs and opens the store. Every
// problem here is exit 2: nothing has run yet. The caller closes the setup.
func openService(cmd *cobra.Command, o *serviceOptions, cfg *config.Config) (*serviceSetup, error) {
	ctx := cmd.Context()
	log, err := newLogger(cmd.ErrOrStderr(), o.logFormat, o.logLevel)
	if err != nil {
		return nil, usageErrorf(cmd, "%v", err)
	}
	if cfg == nil {
		if cfg, err = loadConfigForCollection(o.config, nil); err != nil {
			return nil, err
		}
	}
	engine, waivers, problems, err := loadPolicies(ctx, &reportOptions{policies: o.policies, waivers: o.waivers})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, inputError(problems)
	}

	// One HTTP client for every round: connections are reused across
	// tenants, and an unreadable ca_file is a start-up error rather than
	// every round failing.
	hc, err := credential.HTTPClient(cfg.Endpoints.CAFile)
	if err != nil {
		return nil, &exitError{code: result.ExitUsage, msg: fmt.Sprintf("%s: endpoints.ca_file: %v", o.config, err)}
	}
	s := &serviceSetup{cfg: cfg, log: log, metrics: metrics.New()}
	s.storePath = serviceStorePath(cmd, cfg)
	opts := service.Options{
		Config: cfg, Engine: engine, Waivers: waivers, Metrics: s.metrics, Logger: log,
		Collect: collect.Options{HTTPClient: hc, ProbeSMTP: o.probeSMTP, SMTPAddress: o.smtpAddress, Version: Version()},
	}
	if cfg.Slack != nil {
		n, renderer, err := slack.FromConfig(cfg.Slack, nil)
		if err != nil {
			return nil, &exitError{code: result.ExitUsage, msg: fmt.Sprintf("%s: %v", o.config, err)}
		}
		opts.Notifier, opts.Renderer = n, renderer
	} else {
		log.Warn("no slack section in the configuration: results are stored, nobody is alerted")
	}
	if s.st, err = store.Open(ctx, s.storePath); err != nil {
		if ctx.Err() != nil {
			return nil, interrupted(ctx)
		}
		return nil, &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	opts.Store = s.st
	if s.svc, err = service.New(opts); err != nil {
		s.close()
		return nil, &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	names := make([]string, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		names[i] = t.Name
	}
	s.metrics.InitTenants(names)
	return s, nil
}

// serviceStorePath is the history store of serve and run: --store, else the
// configuration's store.path, else ticketguard.db in the current directory.
func serviceStorePath(cmd *cobra.Command, cfg *config.Config) string {
	if f := cmd.Flags().Lookup("store"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	if cfg.Store.Path != "" {
		return cfg.Store.Path
	}
	return defaultStorePath
}

// newScheduler schedules the given tenants of cfg on the service.
func newScheduler(cfg *config.Config, tenants []string, jitter time.Duration, run func(context.Context, string) error, log *slog.Logger, obs schedule.Observer) (*schedule.Scheduler, error) {
	per := map[string]string{}
	for _, name := range tenants {
		if t, err := cfg.Tenant(name); err == nil && t.Schedule != "" {
			per[name] = t.Schedule
		}
	}
	timeout := cfg.Collect.Timeout
	if timeout <= 0 {
		timeout = config.DefaultTimeout
	}
	return schedule.New(schedule.Options{
		Default:     cfg.Schedule.Default,
		PerTenant:   per,
		Tenants:     tenants,
		Jitter:      jitter,
		Concurrency: cfg.Schedule.Concurrency,
		RunTimeout:  timeout + runTimeoutMargin,
		Run:         run,
		Logger:      log,
		Observer:    obs,
	})
}

type serveOptions struct {
	serviceOptions
	addr            string
	flushInterval   time.Duration
	shutdownTimeout time.Duration
	demo            bool
	demoInterval    time.Duration
}

func newServeCmd() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run every tenant on its schedule, keep the history, alert Slack, serve status and metrics",
		Long: `Run as a service: each tenant is collected and checked on its schedule
(schedule.default, or the tenant's own schedule:), every run is stored with its
snapshot, results and drift in the history store, and Slack is told once, in the
tenant's thread, when something fails, breaks collection, drifts or is fixed.

Messages are written to the store's outbox before they are sent, and the outbox
is flushed after every run and every --flush-interval, so nothing is lost while
Slack is down or the process restarts.

HTTP on server.addr (or --addr):
  /          status page: tenants, last run, failing checks, next run
  /healthz   liveness: 200 while the process serves
  /readyz    readiness: 200 once the store is open and the schedule runs
  /metrics   Prometheus metrics

SIGTERM or SIGINT stops scheduling, waits up to --shutdown-timeout for runs in
flight (then cancels them: nothing of a cancelled run is stored), flushes the
outbox and exits 0.

--demo runs the whole loop on a fresh machine with no network and no account:
the built-in simulator's three sample tenants, a local Slack whose messages are
printed, a temporary store, a run every minute, and a change in one simulated
tenant every --demo-interval so drift and alerts can be watched.

Exit codes: 0 stopped by a signal; 2 bad usage or configuration, or the store or
the address could not be opened.`,
		Example: `  # As a service (see README: systemd unit, Kubernetes)
  ticketguard serve --config /etc/ticketguard/ticketguard.yaml

  # Watch the whole loop on simulated tenants
  ticketguard serve --demo`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.demo {
				return runServeDemo(cmd, o)
			}
			return runServe(cmd, o, nil, nil)
		},
	}
	f := cmd.Flags()
	addServiceFlags(cmd, f, &o.serviceOptions)
	f.StringVar(&o.addr, "addr", "", "listen on `HOST:PORT` instead of server.addr")
	f.DurationVar(&o.flushInterval, "flush-interval", defaultFlushInterval, "how often to retry the Slack messages waiting in the outbox")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "on SIGTERM, how long to wait for runs in flight before cancelling them")
	f.BoolVar(&o.demo, "demo", false, "run against the built-in simulator and a local Slack, printing what Slack receives")
	f.DurationVar(&o.demoInterval, "demo-interval", defaultDemoInterval, "with --demo, how often to change a simulated tenant")
	return cmd
}

// serveHooks let --demo take part in serve's life: started is called once
// the service listens (with its URL), and the round before the schedule
// starts is run when firstRound is set.
type serveHooks struct {
	firstRound bool
	started    func(ctx context.Context, url string)
}

// runServe runs the service until ctx ends. cfg, when not nil, is used
// instead of loading --config (the demo's).
func runServe(cmd *cobra.Command, o *serveOptions, cfg *config.Config, hooks *serveHooks) error {
	if o.flushInterval <= 0 {
		return usageErrorf(cmd, "--flush-interval must be positive, got %s", o.flushInterval)
	}
	if o.shutdownTimeout <= 0 {
		return usageErrorf(cmd, "--shutdown-timeout must be positive, got %s", o.shutdownTimeout)
	}
	ctx := cmd.Context()
	s, err := openService(cmd, &o.serviceOptions, cfg)
	if err != nil {
		if ctx.Err() != nil {
			// SIGTERM while starting (systemd stopping the unit, a rolling
			// restart): nothing ran, nothing is lost, so it is a clean stop.
			fmt.Fprintf(cmd.ErrOrStderr(), "ticketguard serve: stopped during start-up (%v)\n", context.Cause(ctx))
			return nil
		}
		return err
	}
	defer s.close()
	cfg, log := s.cfg, s.log

	tenants := make([]string, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		tenants[i] = t.Name
	}
	sched, err := newScheduler(cfg, tenants, cfg.Schedule.Jitter, s.svc.Run, log, s.metrics)
	if err != nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf("%s: %v", o.config, err)}
	}
	addr := cfg.Server.Addr
	if o.addr != "" {
		addr = o.addr
	}
	srv, err := server.New(server.Options{
		Addr: addr, Store: s.st, Tenants: tenants, Metrics: s.metrics, Logger: log,
		Next: sched.Next, Schedule: sched.Spec,
		Ready: func(ctx context.Context) error {
			if err := sched.Ready(); err != nil {
				return err
			}
			if _, err := s.st.Size(ctx); err != nil {
				return errors.New("the history store does not answer")
			}
			return nil
		},
	})
	if err != nil {
		return &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	if err := srv.Start(ctx); err != nil {
		return &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	url := "http://" + srv.Addr() + "/"
	log.Info("ticketguard serve", "version", Version(), "tenants", len(tenants), "store", s.storePath,
		"status_page", url, "alerts", alertsTo(cfg))
	if hooks != nil && hooks.started != nil {
		hooks.started(ctx, url)
	}

	// The flusher retries what Slack refused; it outlives the scheduler's
	// stop so the final flush below is the only one after it.
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	flushDone := make(chan struct{})
	go func() {
		defer close(flushDone)
		s.svc.FlushEvery(flushCtx, o.flushInterval)
	}()

	if hooks != nil && hooks.firstRound {
		// The demo's first round runs at once rather than at the next
		// minute; a one-off scheduler keeps its concurrency limit.
		once, err := newScheduler(cfg, tenants, 0, s.svc.Run, log, s.metrics)
		if err == nil {
			_ = once.RunOnce(ctx) // each failure is logged by the round
		}
	}
	if ctx.Err() == nil {
		sched.Start()
		for _, t := range tenants {
			log.Debug("scheduled", "tenant", t, "schedule", sched.Spec(t), "next", sched.Next(t))
		}
	}

	<-ctx.Done()
	log.Info("shutting down: no new runs; waiting for runs in flight", "timeout", o.shutdownTimeout)
	stopCtx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	if err := sched.Stop(stopCtx); err != nil {
		log.Warn("runs in flight were cancelled; nothing of them is stored, the next start runs them again", "error", err)
	}
	cancel()
	stopFlush()
	<-flushDone
	finalFlush(s, log)

	httpCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(httpCtx); err != nil {
		log.Warn("http server shutdown", "error", err)
	}
	log.Info("stopped")
	return nil
}

// finalFlush delivers what the last runs queued, waiting out a short
// Slack rate limit; what is still refused stays in the outbox for the next
// start.
func finalFlush(s *serviceSetup, log *slog.Logger) {
	if !s.svc.Alerting() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalFlushTimeout)
	defer cancel()
	for {
		if err := s.svc.Flush(ctx); err != nil && ctx.Err() == nil {
			log.Error("flush the Slack outbox", "error", err)
			return
		}
		n, err := s.svc.Queued(ctx)
		if err != nil || n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			log.Warn("Slack messages still queued: they are sent by the next run or start", "queued", n)
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// alertsTo says where alerts go, for the start-up log line (never the
// token or webhook URL).
func alertsTo(cfg *config.Config) string {
	switch {
	case cfg.Slack == nil:
		return "off"
	case cfg.Slack.WebhookURL != nil:
		return "slack webhook"
	}
	var chans []string
	if cfg.Slack.DefaultChannel != "" {
		chans = append(chans, cfg.Slack.DefaultChannel)
	}
	if n := len(cfg.Slack.Channels); n > 0 {
		chans = append(chans, fmt.Sprintf("%d per-tenant channels", n))
	}
	return "slack " + strings.Join(chans, ", ")
}
