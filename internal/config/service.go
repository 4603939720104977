package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/internal/schedule"
)

// The sections `ticketguard serve` and `ticketguard run --once` read:
//
//	schedule:
//	  default: "CRON_TZ=Europe/Berlin 0 6 * * *"  # 5-field cron, optional CRON_TZ=
//	  jitter: 10m                                # random delay per tenant and run
//	  concurrency: 4                             # tenant runs in flight at once
//	store:
//	  path: /var/lib/ticketguard/ticketguard.db  # relative: to this file's directory
//	  keep_last: 10                              # snapshots kept per tenant ...
//	  keep_daily_days: 30                        # ... plus the last one of each day
//	server:
//	  addr: 127.0.0.1:8080                       # /healthz, /readyz, /metrics, status page
//	tenants:
//	  - name: acme
//	    schedule: "CRON_TZ=America/New_York 30 5 * * 1-5"   # overrides schedule.default

// Service defaults.
const (
	// DefaultSchedule is every day at 06:00 in the server's local time zone:
	// before the working day, so failures are in Slack when people arrive.
	DefaultSchedule      = "0 6 * * *"
	DefaultKeepLast      = 10
	DefaultKeepDailyDays = 30
	DefaultServerAddr    = "127.0.0.1:8080"
)

// Schedule is when `ticketguard serve` runs each tenant.
type Schedule struct {
	// Default is the schedule of every tenant without its own
	// (Tenant.Schedule), validated with schedule.ParseSpec.
	Default string
	// Jitter is the largest random delay added to a run's start, so that
	// hundreds of tenants on one schedule do not start in the same second.
	// It is shorter than the interval between any schedule's runs.
	Jitter time.Duration
	// Concurrency is the number of tenant runs in flight at once; it
	// defaults to collect.concurrency.
	Concurrency int
}

// Spec is the schedule the tenant runs on: its own, else the default.
func (s Schedule) Spec(t Tenant) string {
	if t.Schedule != "" {
		return t.Schedule
	}
	return s.Default
}

// Store is the history database.
type Store struct {
	// Path is the SQLite file; "" when the configuration names none (the
	// commands then use their --store flag or ticketguard.db in the current
	// directory). A relative path is resolved against the configuration
	// file's directory by Load.
	Path string
	// KeepLast snapshots are kept per tenant, plus the newest of each of the
	// last KeepDailyDays days (see store.Prune).
	KeepLast      int
	KeepDailyDays int
}

// Server is the HTTP endpoint of `ticketguard serve`.
type Server struct {
	// Addr is host:port; the status page has no authentication, so the
	// default listens on loopback only.
	Addr string
}

// fileSchedule, fileStore and fileServer mirror the sections (see file.go).
type fileSchedule struct {
	Default     *string `yaml:"default"`
	Jitter      *string `yaml:"jitter"`
	Concurrency *int    `yaml:"concurrency"`
}

type fileStore struct {
	Path          *string `yaml:"path"`
	KeepLast      *int    `yaml:"keep_last"`
	KeepDailyDays *int    `yaml:"keep_daily_days"`
}

type fileServer struct {
	Addr *string `yaml:"addr"`
}

// schedule builds the section and checks every tenant's own schedule;
// collectConcurrency is the default concurrency.
func (b *builder) schedule(f fileSchedule, fileTenants []fileTenant, tenants []Tenant, collectConcurrency int) Schedule {
	s := Schedule{
		Default:     DefaultSchedule,
		Jitter:      b.duration("$.schedule.jitter", f.Jitter, 0, true),
		Concurrency: b.intIn("$.schedule.concurrency", f.Concurrency, collectConcurrency, 1, 256),
	}
	if f.Default != nil {
		s.Default = strings.TrimSpace(*f.Default)
	}
	type spec struct{ path, spec string }
	var specs []spec
	if _, err := schedule.ParseSpec(s.Default); err != nil {
		b.fail("$.schedule.default", "%s", specProblem(err))
	} else {
		specs = append(specs, spec{"$.schedule.default", s.Default})
	}
	for i, ft := range fileTenants {
		if ft.Schedule == nil {
			continue
		}
		path := fmt.Sprintf("$.tenants[%d].schedule", i)
		v := strings.TrimSpace(*ft.Schedule)
		if _, err := schedule.ParseSpec(v); err != nil {
			b.fail(path, "%s", specProblem(err))
			continue
		}
		if i < len(tenants) {
			tenants[i].Schedule = v
		}
		specs = append(specs, spec{path, v})
	}
	// A jitter as long as the interval would push a run past the next
	// activation, which is then skipped as an overlap: the tenant would
	// run at half the rate configured, silently.
	if s.Jitter > 0 {
		for _, sp := range specs {
			if gap := shortestGap(sp.spec); gap > 0 && s.Jitter >= gap {
				b.fail("$.schedule.jitter", "%s is not shorter than the %s between two runs of %q (%s): runs would overlap and be skipped",
					s.Jitter, gap, sp.spec, fieldOf(sp.path))
				break
			}
		}
	}
	return s
}

// specProblem is ParseSpec's error without the spec repeated in quotes when
// it is the whole message; the field and line already say where it is.
func specProblem(err error) string {
	var se *schedule.SpecError
	if errors.As(err, &se) {
		return fmt.Sprintf("%q: %v", se.Spec, se.Err)
	}
	return err.Error()
}

// shortestGap is the shortest time between consecutive activations of spec
// over its next few dozen runs (0 if it cannot be parsed). A few dozen
// activations cover every pattern that matters for jitter: "*/20 9-17 * * *"
// shows its 20 minutes within the first day.
func shortestGap(spec string) time.Duration {
	sched, err := schedule.ParseSpec(spec)
	if err != nil {
		return 0
	}
	var shortest time.Duration
	at := sched.Next(time.Now())
	for range 48 {
		next := sched.Next(at)
		if next.IsZero() {
			break
		}
		if gap := next.Sub(at); shortest == 0 || gap < shortest {
			shortest = gap
		}
		at = next
	}
	return shortest
}

func (b *builder) store(f fileStore) Store {
	s := Store{
		KeepLast:      b.intIn("$.store.keep_last", f.KeepLast, DefaultKeepLast, 1, 100000),
		KeepDailyDays: b.intIn("$.store.keep_daily_days", f.KeepDailyDays, DefaultKeepDailyDays, 0, 36500),
	}
	if f.Path != nil {
		p := strings.TrimSpace(*f.Path)
		switch {
		case p == "":
			b.fail("$.store.path", "empty: name the database file, e.g. /var/lib/ticketguard/ticketguard.db, or leave path out")
		case p == ":memory:" || strings.HasPrefix(p, "file:"):
			b.fail("$.store.path", "%q: need the path of a database file (the history must survive a restart)", p)
		case strings.ContainsRune(p, '?'):
			b.fail("$.store.path", "must not contain '?' (SQLite would read the rest as options)")
		case strings.HasSuffix(p, "/") || strings.HasSuffix(p, string(filepath.Separator)):
			b.fail("$.store.path", "%q is a directory: name the database file in it, e.g. %s", p, filepath.Join(p, "ticketguard.db"))
		default:
			s.Path = p
		}
	}
	return s
}

func (b *builder) server(f fileServer) Server {
	s := Server{Addr: DefaultServerAddr}
	if f.Addr == nil {
		return s
	}
	addr := strings.TrimSpace(*f.Addr)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		b.fail("$.server.addr", "%q is not host:port, e.g. 127.0.0.1:8080 or :8080 (every interface)", addr)
		return s
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		b.fail("$.server.addr", "%q: the port must be a number from 0 to 65535", addr)
		return s
	}
	if host != "" && net.ParseIP(host) == nil && !isHost(host) {
		b.fail("$.server.addr", "%q: %q is not an IP address or host name", addr, host)
		return s
	}
	s.Addr = addr
	return s
}
