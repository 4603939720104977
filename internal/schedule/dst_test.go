package schedule

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestDaylightSavingTime pins what robfig/cron v3.0.1 does on the days a
// CRON_TZ= zone changes its clocks, which the README tells users to expect:
//
//   - Spring forward: a run scheduled in the skipped hour does not happen that
//     day. On 2026-03-08 New York's clocks jump from 02:00 EST to 03:00 EDT,
//     so a 02:30 schedule runs on the 7th and the 9th but not the 8th (it is
//     not moved to 03:00). Same in Berlin on 2026-03-29, 02:00 CET -> 03:00
//     CEST.
//   - Fall back: a run scheduled in the repeated hour happens twice, an hour
//     apart. On 2026-11-01 New York's clocks go back from 02:00 EDT to 01:00
//     EST, so a 01:30 schedule runs at 01:30 EDT (05:30Z) and again at 01:30
//     EST (06:30Z). Berlin repeats 02:00-02:59 on 2026-10-25 (03:00 CEST ->
//     02:00 CET): a 02:30 schedule runs at 00:30Z and 01:30Z.
//
// Schedules outside 01:00-03:00 local time are not affected; so is a zone
// without daylight saving time, such as UTC.
func TestDaylightSavingTime(t *testing.T) {
	z := func(y int, mo time.Month, d, h, mi int) time.Time { return time.Date(y, mo, d, h, mi, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		spec       string
		start, end time.Time // UTC
		want       []time.Time
		nextAt     time.Time // Next is checked at this instant...
		next       time.Time // ...and should return this
	}{
		{
			name:  "New York spring forward skips 02:30",
			spec:  "CRON_TZ=America/New_York 30 2 * * *",
			start: z(2026, 3, 7, 0, 0), end: z(2026, 3, 10, 12, 0),
			want:   []time.Time{z(2026, 3, 7, 7, 30), z(2026, 3, 9, 6, 30), z(2026, 3, 10, 6, 30)},
			nextAt: z(2026, 3, 7, 12, 0), next: z(2026, 3, 9, 6, 30),
		},
		{
			name:  "New York fall back runs 01:30 twice",
			spec:  "CRON_TZ=America/New_York 30 1 * * *",
			start: z(2026, 10, 31, 0, 0), end: z(2026, 11, 2, 12, 0),
			want:   []time.Time{z(2026, 10, 31, 5, 30), z(2026, 11, 1, 5, 30), z(2026, 11, 1, 6, 30), z(2026, 11, 2, 6, 30)},
			nextAt: z(2026, 11, 1, 6, 0), next: z(2026, 11, 1, 6, 30),
		},
		{
			name:  "Berlin spring forward skips 02:30",
			spec:  "CRON_TZ=Europe/Berlin 30 2 * * *",
			start: z(2026, 3, 28, 0, 0), end: z(2026, 3, 31, 0, 0),
			want:   []time.Time{z(2026, 3, 28, 1, 30), z(2026, 3, 30, 0, 30)},
			nextAt: z(2026, 3, 28, 12, 0), next: z(2026, 3, 30, 0, 30),
		},
		{
			name:  "Berlin fall back runs 02:30 twice",
			spec:  "TZ=Europe/Berlin 30 2 * * *",
			start: z(2026, 10, 24, 0, 0), end: z(2026, 10, 26, 12, 0),
			want:   []time.Time{z(2026, 10, 24, 0, 30), z(2026, 10, 25, 0, 30), z(2026, 10, 25, 1, 30), z(2026, 10, 26, 1, 30)},
			nextAt: z(2026, 10, 25, 1, 0), next: z(2026, 10, 25, 1, 30),
		},
		{
			name:  "New York 04:00 is not affected",
			spec:  "CRON_TZ=America/New_York 0 4 * * *",
			start: z(2026, 3, 7, 0, 0), end: z(2026, 3, 10, 0, 0),
			want:   []time.Time{z(2026, 3, 7, 9, 0), z(2026, 3, 8, 8, 0), z(2026, 3, 9, 8, 0)},
			nextAt: z(2026, 3, 8, 0, 0), next: z(2026, 3, 8, 8, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(time.Until(tt.start)) // the bubble starts in 2000
				rec := newRecorder()
				s := newScheduler(t, Options{
					Default: tt.spec,
					Tenants: []string{"acme"},
					// The process's zone must not matter with CRON_TZ=.
					Location: time.FixedZone("Asia/Kolkata-ish", 5*3600+1800),
					Run:      rec.run(nil),
				})
				s.Start()
				sleepUntil(tt.nextAt)
				if got := s.Next("acme"); !got.Equal(tt.next) {
					t.Errorf("Next at %s = %s, want %s", tt.nextAt, got.UTC(), tt.next)
				}
				sleepUntil(tt.end)
				stop(t, s)
				equalTimes(t, "runs (UTC)", rec.startsOf("acme"), tt.want)
			})
		})
	}
}
