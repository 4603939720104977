package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func TestParseSpecValid(t *testing.T) {
	from := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC) // a Monday
	tests := []struct {
		spec string
		from time.Time
		want time.Time
	}{
		{"0 6 * * *", from, time.Date(2026, 6, 16, 6, 0, 0, 0, time.UTC)},
		{"  */15 * * * *  ", from, time.Date(2026, 6, 15, 12, 15, 0, 0, time.UTC)},
		{"0 3 * * mon-fri", time.Date(2026, 6, 19, 12, 0, 0, 0, time.UTC), time.Date(2026, 6, 22, 3, 0, 0, 0, time.UTC)},
		// CEST is UTC+2 in June.
		{"CRON_TZ=Europe/Berlin 30 6 * * 1-5", from, time.Date(2026, 6, 16, 4, 30, 0, 0, time.UTC)},
		{"TZ=America/New_York 0 3 * * *", from, time.Date(2026, 6, 16, 7, 0, 0, 0, time.UTC)},
		{"CRON_TZ=UTC\t0 3 * * *", from, time.Date(2026, 6, 16, 3, 0, 0, 0, time.UTC)},
		{"@daily", from, time.Date(2026, 6, 16, 0, 0, 0, 0, time.UTC)},
		{"@hourly", from, time.Date(2026, 6, 15, 13, 0, 0, 0, time.UTC)},
		{"CRON_TZ=Asia/Tokyo @daily", from, time.Date(2026, 6, 15, 15, 0, 0, 0, time.UTC)},
		{"0 0 29 2 *", from, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := ParseSpec(tt.spec)
			if err != nil {
				t.Fatalf("ParseSpec: %v", err)
			}
			if got := s.Next(tt.from); !got.Equal(tt.want) {
				t.Errorf("Next(%s) = %s, want %s", tt.from, got.UTC(), tt.want)
			}
		})
	}
}

func TestParseSpecInvalid(t *testing.T) {
	tests := []struct {
		spec string
		want string // in the error
	}{
		{"", "empty schedule"},
		{"   ", "empty schedule"},
		// Only a zone: robfig/cron panics on this one (see TestCronPanicsOnBareZone).
		{"CRON_TZ=UTC", "CRON_TZ= must be followed by a space and a 5-field schedule"},
		{"TZ=UTC", "TZ= must be followed by a space"},
		{"CRON_TZ=UTC ", "CRON_TZ= must be followed"}, // trimmed to the bare zone
		{"CRON_TZ= 0 3 * * *", "CRON_TZ= names no time zone"},
		{"CRON_TZ=Mars/Olympus_Mons 0 3 * * *", `unknown time zone "Mars/Olympus_Mons"`},
		{"CRON_TZ=UTC TZ=Europe/Berlin 0 3 * * *", "more than one time zone prefix"},
		{"0 0 3 * * *", "want 5 fields (minute hour day-of-month month day-of-week), found 6"},
		{"CRON_TZ=UTC 0 0 3 * * *", "found 6"},
		{"0 3 * *", "found 4"},
		{"@every 1h", "@every is not supported"},
		{"CRON_TZ=UTC @every 30s", "@every is not supported"},
		{"@fortnightly", "unrecognized descriptor"},
		{"61 * * * *", "above maximum"},
		{"0 25 * * *", "above maximum"},
		{"0 3 * * funday", "failed to parse int"},
		{"0 0 30 2 *", "never fires"},
		{"cron_tz=UTC 0 3 * * *", "found 6"}, // the prefix is case-sensitive, like cron's
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := ParseSpec(tt.spec)
			if err == nil {
				t.Fatalf("ParseSpec(%q) = %v, want an error", tt.spec, s)
			}
			var se *SpecError
			if !errors.As(err, &se) || se.Spec != tt.spec {
				t.Fatalf("error %v is not a *SpecError for %q", err, tt.spec)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "invalid schedule \""+tt.spec+"\"") {
				t.Errorf("error %q does not name the spec", err)
			}
		})
	}
}

// TestCronPanicsOnBareZone documents why ParseSpec splits the zone prefix
// itself: robfig/cron v3.0.1 panics (slice bounds out of range) on a spec that
// is only a zone. If this test fails after an upgrade, the library fixed it.
func TestCronPanicsOnBareZone(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("cron.ParseStandard(\"CRON_TZ=UTC\") no longer panics")
		}
	}()
	_, _ = cron.ParseStandard("CRON_TZ=UTC")
}

func TestJitterFor(t *testing.T) {
	at := time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC)
	if d := jitterFor("acme", at, 0); d != 0 {
		t.Errorf("jitter with max 0 = %s", d)
	}
	const max = 10 * time.Minute
	if a, b := jitterFor("acme", at, max), jitterFor("acme", at, max); a != b {
		t.Errorf("jitter not deterministic: %s != %s", a, b)
	}
	// Spread over [0, max): across 1000 tenants each tenth of the range is hit.
	var buckets [10]int
	for i := range 1000 {
		d := jitterFor("tenant-"+string(rune('a'+i%26))+time.Duration(i).String(), at, max)
		if d < 0 || d >= max {
			t.Fatalf("jitter %s outside [0, %s)", d, max)
		}
		buckets[d*10/max]++
	}
	for i, n := range buckets {
		if n < 50 {
			t.Errorf("bucket %d has %d of 1000 tenants: jitter is not spread (%v)", i, n, buckets)
		}
	}
	// Per run: the same tenant gets a different delay on different runs.
	same := 0
	for h := range 24 {
		if jitterFor("acme", at.Add(time.Duration(h)*time.Hour), max) == jitterFor("acme", at, max) {
			same++
		}
	}
	if same > 1 {
		t.Errorf("the delay repeats across runs (%d of 24 equal)", same)
	}
}
