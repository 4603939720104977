package collect

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary prints one line per tenant (requests, retries, throttled
// answers, errors, duration, snapshot written) and then every collection
// error, one per line, so a technician sees at a glance which tenant needs
// attention and why. Everything in it is already redacted.
func WriteSummary(w io.Writer, outcomes []Outcome) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tREQUESTS\tRETRIES\tTHROTTLED\tERRORS\tDURATION\tSNAPSHOT")
	for _, o := range outcomes {
		snap := o.Path
		switch {
		case o.Err != nil:
			snap = "not written (failed)"
		case snap == "":
			snap = "-"
		}
		errs := len(o.Errors)
		if o.Err != nil && errs == 0 {
			errs = 1
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", o.Tenant, o.Stats.Requests, o.Stats.Retries, o.Stats.Throttled,
			errs, roundDuration(o.Duration), snap)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var lines []string
	for _, o := range outcomes {
		if o.Err != nil {
			// The reason says it all (the sign-in error, or every source
			// that failed); the other errors are its consequences.
			lines = append(lines, fmt.Sprintf("%s: not collected: %s", o.Tenant, oneLine(o.Err.Error())))
			continue
		}
		for _, e := range o.Errors {
			// Exchange's messages start with the cmdlet, which is the source.
			msg := strings.TrimPrefix(oneLine(e.Message), e.Source+": ")
			lines = append(lines, fmt.Sprintf("%s: %s: %s", o.Tenant, e.Source, msg))
		}
	}
	if len(lines) > 0 {
		if _, err := fmt.Fprintf(w, "\nCollection errors (the checks that need these sources are indeterminate):\n  %s\n", strings.Join(lines, "\n  ")); err != nil {
			return err
		}
	}
	return nil
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
