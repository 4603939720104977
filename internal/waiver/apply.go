package waiver

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// Apply returns the results of one tenant with the waivers applied; results
// itself is not modified.
//
//   - Only fail and warn results are waived. Indeterminate, pass and
//     not-applicable results are returned unchanged: a waiver must not hide
//     missing data.
//   - A matching waiver without resource waives the whole check: the status
//     becomes waived, Waiver records the reason and the original status.
//   - A waiver with resource waives only the failing findings about that
//     resource. If other failing findings remain, the status stays and the
//     message says which part is waived.
//   - If what remains after waiving is indeterminate data, the result is
//     indeterminate, not waived.
//   - A waiver applies through its expiry day (UTC). An expired waiver that
//     would have matched leaves the status as it is, sets Waiver.Expired and
//     says "waiver expired on DATE" in the message.
func (s *Set) Apply(tenant string, results []result.CheckResult, now time.Time) []result.CheckResult {
	if s == nil || len(s.waivers) == 0 {
		return results
	}
	out := make([]result.CheckResult, len(results))
	for i, r := range results {
		s.markUsed(tenant, r)
		out[i] = s.apply(tenant, r, now)
	}
	return out
}

// Unused returns, in file order, the waivers that matched no result in any
// Apply call so far: a misspelt tenant, check or resource, or a failure that
// has been fixed. They are warnings for the person maintaining the file
// ("waiver for send-as/acme (waivers.yaml:12) matched nothing"), never
// errors: the run's outcome does not depend on them.
//
// A waiver matches a result of its check and tenant that fails or warns on
// what it covers (any failing finding; for a resource waiver, a failing
// finding about that resource), whether the waiver is active or expired (an
// expired one is reported in the result already). It also matches an
// indeterminate result, or an undecided finding about its resource: the data
// to tell whether it is still needed is missing, and a warning to remove it
// would be premature.
func (s *Set) Unused() []Waiver {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Waiver
	for i, w := range s.waivers {
		if !s.used[i] {
			out = append(out, w)
		}
	}
	return out
}

// markUsed records which waivers match r (see Unused).
func (s *Set) markUsed(tenant string, r result.CheckResult) {
	if r.Status != result.Fail && r.Status != result.Warn && r.Status != result.Indeterminate {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.waivers {
		w := &s.waivers[i]
		if s.used[i] || !w.matches(r.Check.ID, tenant) || !w.covers(r) {
			continue
		}
		if s.used == nil {
			s.used = make(map[int]bool, len(s.waivers))
		}
		s.used[i] = true
	}
}

// covers reports whether r has something w would accept, or cannot tell.
func (w *Waiver) covers(r result.CheckResult) bool {
	if r.Status == result.Indeterminate || w.Resource == "" {
		return true
	}
	for _, f := range r.Findings {
		if (failing(f) || f.Status == result.Indeterminate) && strings.EqualFold(f.Resource, w.Resource) {
			return true
		}
	}
	return false
}

func failing(f result.Finding) bool { return f.Status == result.Fail || f.Status == result.Warn }

func (s *Set) apply(tenant string, r result.CheckResult, now time.Time) result.CheckResult {
	if r.Status != result.Fail && r.Status != result.Warn {
		return r
	}
	var whole, wholeExpired *Waiver
	byResource := map[string]*Waiver{} // lower-cased resource → active waiver
	expiredByResource := map[string]*Waiver{}
	for i := range s.waivers {
		w := &s.waivers[i]
		if !w.matches(r.Check.ID, tenant) {
			continue
		}
		active := w.Active(now)
		switch {
		case w.Resource == "" && active:
			whole = later(whole, w)
		case w.Resource == "":
			wholeExpired = later(wholeExpired, w)
		case active:
			byResource[strings.ToLower(w.Resource)] = later(byResource[strings.ToLower(w.Resource)], w)
		default:
			expiredByResource[strings.ToLower(w.Resource)] = later(expiredByResource[strings.ToLower(w.Resource)], w)
		}
	}

	original := r.Status
	findings := slices.Clone(r.Findings)
	var applied []*Waiver
	waivedResources := []string{}
	remaining := 0
	for i, f := range findings {
		if !failing(f) {
			continue
		}
		if whole != nil {
			findings[i].Status = result.Waived
			continue
		}
		if w := byResource[strings.ToLower(f.Resource)]; f.Resource != "" && w != nil {
			findings[i].Status = result.Waived
			if !slices.Contains(applied, w) {
				applied = append(applied, w)
			}
			if !slices.Contains(waivedResources, f.Resource) {
				waivedResources = append(waivedResources, f.Resource)
			}
			continue
		}
		remaining++
	}
	if whole != nil {
		applied = []*Waiver{whole}
	}

	if len(applied) == 0 {
		// Nothing applies now; say so if a waiver that would have has expired.
		exp := wholeExpired
		for _, f := range findings {
			if w := expiredByResource[strings.ToLower(f.Resource)]; failing(f) && f.Resource != "" && w != nil {
				exp = later(exp, w)
			}
		}
		if exp == nil {
			return r
		}
		r.Waiver = &result.Waiver{Reason: exp.Reason, Expires: exp.ExpiresOn(), Resource: exp.Resource, Expired: true, Status: original}
		r.Message = appendNote(r.Message, fmt.Sprintf("waiver expired on %s (%s)", exp.ExpiresOn(), exp.Reason))
		return r
	}

	r.Findings = findings
	r.Waiver = summarise(applied, waivedResources, original)
	switch {
	case remaining > 0:
		// Part of the failure is accepted, the rest still fails.
		r.Message = appendNote(r.Message, fmt.Sprintf("waived through %s for %s (%s); other failures remain",
			r.Waiver.Expires, strings.Join(waivedResources, ", "), r.Waiver.Reason))
	case hasIndeterminate(findings):
		r.Status = result.Indeterminate
		r.Message = appendNote(indeterminateMessage(findings),
			fmt.Sprintf("the failure is waived through %s (%s), but data is missing", r.Waiver.Expires, r.Waiver.Reason))
	default:
		r.Status = result.Waived
	}
	return r
}

// later keeps the waiver that runs longer, so that the reported expiry is the
// one that decides.
func later(cur, w *Waiver) *Waiver {
	if cur == nil || w.Expires.After(cur.Expires) {
		return w
	}
	return cur
}

// summarise fills result.Waiver for the waivers that applied: the earliest
// expiry (when the result changes back), every distinct reason.
func summarise(applied []*Waiver, resources []string, original result.Status) *result.Waiver {
	first := applied[0]
	var reasons []string
	for _, w := range applied {
		if w.Expires.Before(first.Expires) {
			first = w
		}
		if !slices.Contains(reasons, w.Reason) {
			reasons = append(reasons, w.Reason)
		}
	}
	return &result.Waiver{
		Reason:   strings.Join(reasons, "; "),
		Expires:  first.ExpiresOn(),
		Resource: strings.Join(resources, ", "),
		Status:   original,
	}
}

func hasIndeterminate(findings []result.Finding) bool {
	for _, f := range findings {
		if f.Status == result.Indeterminate {
			return true
		}
	}
	return false
}

func indeterminateMessage(findings []result.Finding) string {
	var msgs []string
	for _, f := range findings {
		if f.Status == result.Indeterminate {
			msgs = append(msgs, f.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

func appendNote(msg, note string) string {
	if msg == "" {
		return note
	}
	return strings.TrimRight(msg, ". ") + "; " + note
}
