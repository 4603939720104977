package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"

	// CRON_TZ= needs the IANA time zone database. Distroless and scratch
	// images do not ship /usr/share/zoneinfo, and a schedule that works on
	// the admin's laptop must not fail with "unknown time zone" in the
	// container; the embedded copy (~450 KB) is used only when the system
	// has none.
	_ "time/tzdata"
)

// SpecError is a schedule that cannot be used, naming the spec as written.
type SpecError struct {
	Spec string
	Err  error
}

func (e *SpecError) Error() string { return fmt.Sprintf("invalid schedule %q: %v", e.Spec, e.Err) }
func (e *SpecError) Unwrap() error { return e.Err }

// The parser accepts exactly five fields and the named descriptors; the time
// zone prefix is split off by ParseSpec before the parser sees the spec.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var tzPrefixes = []string{"CRON_TZ=", "TZ="}

// ParseSpec parses a schedule as written in the configuration:
//
//	[CRON_TZ=Zone ]minute hour day-of-month month day-of-week
//
// e.g. "CRON_TZ=Europe/Berlin 30 6 * * 1-5". TZ= is accepted as a synonym of
// CRON_TZ=. Without a zone prefix the spec is read in the scheduler's
// Options.Location (the process's local zone by default).
//
// The named descriptors @yearly, @annually, @monthly, @weekly, @daily,
// @midnight and @hourly are accepted: each is exactly a 5-field spec ("@daily"
// is "0 0 * * *") and honours CRON_TZ=. @every is rejected: it counts from the
// moment the process started rather than the wall clock, so a restart moves
// every run, it ignores CRON_TZ=, and "@every 1s" would hammer the tenants'
// APIs. Six-field (seconds) specs are rejected for the same last reason.
//
// A spec that can never fire ("0 0 30 2 *") is an error rather than a tenant
// that silently never runs.
//
// robfig/cron panics on a spec that is only "CRON_TZ=UTC" (it slices up to a
// space that is not there); ParseSpec splits the prefix itself so that case is
// a plain error, and recovers any other parser panic as well, since the input
// comes from a configuration file.
func ParseSpec(spec string) (cron.Schedule, error) {
	s, err := parseSpec(spec)
	if err != nil {
		return nil, &SpecError{Spec: spec, Err: err}
	}
	return s, nil
}

func parseSpec(spec string) (cron.Schedule, error) {
	body := strings.TrimSpace(spec)
	if body == "" {
		return nil, errors.New("empty schedule")
	}
	var loc *time.Location
	for _, prefix := range tzPrefixes {
		if !strings.HasPrefix(body, prefix) {
			continue
		}
		rest := body[len(prefix):]
		i := strings.IndexFunc(rest, unicode.IsSpace)
		if i < 0 {
			return nil, fmt.Errorf("%s must be followed by a space and a 5-field schedule, e.g. %q", prefix, prefix+"Europe/Berlin 0 6 * * *")
		}
		zone := rest[:i]
		if zone == "" {
			return nil, fmt.Errorf("%s names no time zone", prefix)
		}
		l, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as Europe/Berlin or UTC)", zone)
		}
		loc = l
		body = strings.TrimSpace(rest[i:])
		break
	}
	for _, prefix := range tzPrefixes {
		if strings.HasPrefix(body, prefix) {
			return nil, errors.New("more than one time zone prefix")
		}
	}
	if strings.HasPrefix(body, "@every") {
		return nil, errors.New(`@every is not supported: it counts from the process start, not the clock; use a 5-field spec such as "*/30 * * * *"`)
	}
	if !strings.HasPrefix(body, "@") {
		if n := len(strings.Fields(body)); n != 5 {
			return nil, fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week), found %d", n)
		}
	}

	sched, err := safeParse(body)
	if err != nil {
		return nil, err
	}
	if loc != nil {
		spec, ok := sched.(*cron.SpecSchedule)
		if !ok {
			return nil, fmt.Errorf("unexpected schedule type %T", sched)
		}
		spec.Location = loc
	}
	// Next searches five years ahead and returns zero when nothing matches.
	if sched.Next(time.Now()).IsZero() {
		return nil, errors.New("never fires: no date matches it")
	}
	return sched, nil
}

// safeParse calls the cron parser, turning a panic into an error.
func safeParse(body string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("cron parser failed: %v", r)
		}
	}()
	return parser.Parse(body)
}
