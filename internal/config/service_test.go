package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServiceSections(t *testing.T) {
	src := strings.Replace(twoTenants, "    client_secret: {env: CONTOSO_SECRET}\n",
		"    client_secret: {env: CONTOSO_SECRET}\n    schedule: \"CRON_TZ=America/New_York 30 5 * * 1-5\"\n", 1) + `schedule:
  default: "CRON_TZ=Europe/Berlin 0 6 * * *"
  jitter: 10m
  concurrency: 6
store:
  path: /var/lib/ticketguard/history.db
  keep_last: 5
  keep_daily_days: 0
server:
  addr: ":9090"
`
	cfg, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Schedule{Default: "CRON_TZ=Europe/Berlin 0 6 * * *", Jitter: 10 * time.Minute, Concurrency: 6}); cfg.Schedule != want {
		t.Errorf("Schedule = %+v, want %+v", cfg.Schedule, want)
	}
	if want := (Store{Path: "/var/lib/ticketguard/history.db", KeepLast: 5, KeepDailyDays: 0}); cfg.Store != want {
		t.Errorf("Store = %+v, want %+v", cfg.Store, want)
	}
	if cfg.Server.Addr != ":9090" {
		t.Errorf("Server.Addr = %q", cfg.Server.Addr)
	}
	if got := cfg.Schedule.Spec(cfg.Tenants[0]); got != "CRON_TZ=Europe/Berlin 0 6 * * *" {
		t.Errorf("acme runs on %q, want the default", got)
	}
	if got := cfg.Schedule.Spec(cfg.Tenants[1]); got != "CRON_TZ=America/New_York 30 5 * * 1-5" {
		t.Errorf("contoso runs on %q, want its own", got)
	}
}

func TestServiceDefaults(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Schedule{Default: DefaultSchedule, Concurrency: DefaultConcurrency}); cfg.Schedule != want {
		t.Errorf("Schedule = %+v, want %+v", cfg.Schedule, want)
	}
	if want := (Store{KeepLast: DefaultKeepLast, KeepDailyDays: DefaultKeepDailyDays}); cfg.Store != want {
		t.Errorf("Store = %+v, want %+v", cfg.Store, want)
	}
	if cfg.Server.Addr != DefaultServerAddr {
		t.Errorf("Server.Addr = %q", cfg.Server.Addr)
	}
}

func TestServiceErrors(t *testing.T) {
	tests := []struct {
		name string
		add  string // appended to minimal (8 lines: the section starts on line 8)
		want string
	}{
		{"CRON_TZ alone (panics robfig/cron)", "schedule:\n  default: CRON_TZ=UTC\n",
			`t.yaml:9: schedule.default: "CRON_TZ=UTC": CRON_TZ= must be followed by a space and a 5-field schedule`},
		{"six fields", "schedule:\n  default: \"0 0 6 * * *\"\n",
			`t.yaml:9: schedule.default: "0 0 6 * * *": want 5 fields`},
		{"unknown zone", "schedule:\n  default: \"CRON_TZ=Mars/Olympus 0 6 * * *\"\n",
			`t.yaml:9: schedule.default: "CRON_TZ=Mars/Olympus 0 6 * * *": unknown time zone "Mars/Olympus"`},
		{"every", "schedule:\n  default: \"@every 1m\"\n", `t.yaml:9: schedule.default: "@every 1m": @every is not supported`},
		{"never fires", "schedule:\n  default: \"0 0 30 2 *\"\n", `t.yaml:9: schedule.default: "0 0 30 2 *": never fires`},
		{"jitter not a duration", "schedule:\n  jitter: soon\n", `t.yaml:9: schedule.jitter: "soon" is not a duration`},
		{"jitter as long as the interval", "schedule:\n  default: \"*/5 * * * *\"\n  jitter: 5m\n",
			`t.yaml:10: schedule.jitter: 5m0s is not shorter than the 5m0s between two runs of "*/5 * * * *" (schedule.default)`},
		{"concurrency zero", "schedule:\n  concurrency: 0\n", "t.yaml:9: schedule.concurrency: must be between 1 and 256, got 0"},
		{"unknown schedule key", "schedule:\n  timezone: UTC\n", "t.yaml:9: schedule.timezone: unknown field; expected one of: default, jitter, concurrency"},
		{"store in memory", "store:\n  path: \":memory:\"\n", `t.yaml:9: store.path: ":memory:": need the path of a database file`},
		{"store directory", "store:\n  path: /var/lib/ticketguard/\n", `t.yaml:9: store.path: "/var/lib/ticketguard/" is a directory`},
		{"keep_last zero", "store:\n  keep_last: 0\n", "t.yaml:9: store.keep_last: must be between 1 and 100000, got 0"},
		{"keep_daily_days negative", "store:\n  keep_daily_days: -1\n", "t.yaml:9: store.keep_daily_days: must be between 0 and 36500, got -1"},
		{"addr without port", "server:\n  addr: 127.0.0.1\n", `t.yaml:9: server.addr: "127.0.0.1" is not host:port`},
		{"addr bad port", "server:\n  addr: \"127.0.0.1:http\"\n", `t.yaml:9: server.addr: "127.0.0.1:http": the port must be a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(minimal+tt.add))
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n  %v\nwant it to contain:\n  %s", err, tt.want)
			}
		})
	}
}

func TestTenantScheduleError(t *testing.T) {
	src := strings.Replace(minimal, "    client_secret: {env: ACME_SECRET}\n",
		"    client_secret: {env: ACME_SECRET}\n    schedule: \"CRON_TZ= 0 6 * * *\"\n", 1)
	_, err := Parse("t.yaml", []byte(src))
	want := `t.yaml:7: tenants[0].schedule: "CRON_TZ= 0 6 * * *": CRON_TZ= names no time zone`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestTenantScheduleJitter(t *testing.T) {
	// The default is daily, the tenant's own schedule every 10 minutes: the
	// jitter must fit the tenant's.
	src := strings.Replace(minimal, "    client_secret: {env: ACME_SECRET}\n",
		"    client_secret: {env: ACME_SECRET}\n    schedule: \"*/10 * * * *\"\n", 1) + "schedule:\n  jitter: 15m\n"
	_, err := Parse("t.yaml", []byte(src))
	want := `schedule.jitter: 15m0s is not shorter than the 10m0s between two runs of "*/10 * * * *" (tenants[0].schedule)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestStorePathRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ticketguard.yaml")
	if err := os.WriteFile(path, []byte(minimal+"store:\n  path: data/history.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "data", "history.db"); cfg.Store.Path != want {
		t.Errorf("Store.Path = %q, want %q", cfg.Store.Path, want)
	}
}
