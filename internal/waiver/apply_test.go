package waiver

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

var now = time.Date(2027, 2, 1, 6, 0, 0, 0, time.UTC)

func check(id string, sev result.Severity) result.Check {
	return result.Check{ID: id, Severity: sev, Title: id}
}

func finding(status result.Status, resource, msg string) result.Finding {
	return result.Finding{Status: status, Resource: resource, Message: msg}
}

func set(ws ...Waiver) *Set { return &Set{File: "w.yaml", waivers: ws} }

func TestApply(t *testing.T) {
	scope := check("external-forwarding-scope", result.SeverityWarning)
	sendAs := check("send-as", result.SeverityError)

	tests := []struct {
		name    string
		waivers []Waiver
		tenant  string
		in      result.CheckResult
		want    result.CheckResult
	}{
		{
			name:    "matching waiver waives a warn",
			waivers: []Waiver{{Check: scope.ID, Tenant: "acme", Reason: "ticket #4711", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in: result.CheckResult{Check: scope, Status: result.Warn, Message: "default policy allows forwarding for everyone",
				Findings: []result.Finding{finding(result.Fail, "policy:Default", "default policy allows forwarding for everyone")}},
			want: result.CheckResult{Check: scope, Status: result.Waived, Message: "default policy allows forwarding for everyone",
				Findings: []result.Finding{finding(result.Waived, "policy:Default", "default policy allows forwarding for everyone")},
				Waiver:   &result.Waiver{Reason: "ticket #4711", Expires: "2027-03-31", Status: result.Warn}},
		},
		{
			name:    "wildcard tenant, case-insensitive name",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "*", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "ACME",
			in:      result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "", "m")}},
			want: result.CheckResult{Check: sendAs, Status: result.Waived, Message: "m", Findings: []result.Finding{finding(result.Waived, "", "m")},
				Waiver: &result.Waiver{Reason: "r", Expires: "2027-03-31", Status: result.Fail}},
		},
		{
			name:    "other tenant is not waived",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "globex", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in:      result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "", "m")}},
			want:    result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "", "m")}},
		},
		{
			name:    "other check is not waived",
			waivers: []Waiver{{Check: scope.ID, Tenant: "acme", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in:      result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "", "m")}},
			want:    result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "", "m")}},
		},
		{
			name:    "resource waiver covering every failing finding",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "acme", Resource: "mailbox:support@acme.com", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in: result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{
				finding(result.Fail, "mailbox:Support@acme.com", "no SendAs"),
				finding(result.Pass, "mailbox:helpdesk@acme.com", "ok"),
			}},
			want: result.CheckResult{Check: sendAs, Status: result.Waived, Message: "m", Findings: []result.Finding{
				finding(result.Waived, "mailbox:Support@acme.com", "no SendAs"),
				finding(result.Pass, "mailbox:helpdesk@acme.com", "ok"),
			}, Waiver: &result.Waiver{Reason: "r", Expires: "2027-03-31", Resource: "mailbox:Support@acme.com", Status: result.Fail}},
		},
		{
			name:    "resource waiver with other failures remaining",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "acme", Resource: "mailbox:support@acme.com", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in: result.CheckResult{Check: sendAs, Status: result.Fail, Message: "two problems.", Findings: []result.Finding{
				finding(result.Fail, "mailbox:support@acme.com", "a"),
				finding(result.Fail, "mailbox:sales@acme.com", "b"),
			}},
			want: result.CheckResult{Check: sendAs, Status: result.Fail,
				Message: "two problems; waived through 2027-03-31 for mailbox:support@acme.com (r); other failures remain",
				Findings: []result.Finding{
					finding(result.Waived, "mailbox:support@acme.com", "a"),
					finding(result.Fail, "mailbox:sales@acme.com", "b"),
				}, Waiver: &result.Waiver{Reason: "r", Expires: "2027-03-31", Resource: "mailbox:support@acme.com", Status: result.Fail}},
		},
		{
			name:    "resource waiver for a resource that does not fail changes nothing",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "acme", Resource: "mailbox:other@acme.com", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in:      result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "mailbox:support@acme.com", "m")}},
			want:    result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "mailbox:support@acme.com", "m")}},
		},
		{
			name:    "waived failure with missing data left is indeterminate",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "acme", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in: result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{
				finding(result.Fail, "mailbox:support@acme.com", "no SendAs"),
				finding(result.Indeterminate, "", "Get-RecipientPermission was not collected"),
			}},
			want: result.CheckResult{Check: sendAs, Status: result.Indeterminate,
				Message: "Get-RecipientPermission was not collected; the failure is waived through 2027-03-31 (r), but data is missing",
				Findings: []result.Finding{
					finding(result.Waived, "mailbox:support@acme.com", "no SendAs"),
					finding(result.Indeterminate, "", "Get-RecipientPermission was not collected"),
				}, Waiver: &result.Waiver{Reason: "r", Expires: "2027-03-31", Status: result.Fail}},
		},
		{
			name:    "expired waiver leaves the status and says so",
			waivers: []Waiver{{Check: scope.ID, Tenant: "acme", Reason: "ticket #4711", Expires: date("2027-01-31")}},
			tenant:  "acme",
			in:      result.CheckResult{Check: scope, Status: result.Warn, Message: "default policy.", Findings: []result.Finding{finding(result.Fail, "", "x")}},
			want: result.CheckResult{Check: scope, Status: result.Warn, Message: "default policy; waiver expired on 2027-01-31 (ticket #4711)",
				Findings: []result.Finding{finding(result.Fail, "", "x")},
				Waiver:   &result.Waiver{Reason: "ticket #4711", Expires: "2027-01-31", Expired: true, Status: result.Warn}},
		},
		{
			name:    "expired resource waiver on a failing resource says so",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "acme", Resource: "mailbox:support@acme.com", Reason: "r", Expires: date("2026-12-01")}},
			tenant:  "acme",
			in:      result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "mailbox:support@acme.com", "x")}},
			want: result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m; waiver expired on 2026-12-01 (r)",
				Findings: []result.Finding{finding(result.Fail, "mailbox:support@acme.com", "x")},
				Waiver:   &result.Waiver{Reason: "r", Expires: "2026-12-01", Resource: "mailbox:support@acme.com", Expired: true, Status: result.Fail}},
		},
		{
			name: "an active waiver wins over an expired one",
			waivers: []Waiver{
				{Check: sendAs.ID, Tenant: "acme", Reason: "old", Expires: date("2026-12-01")},
				{Check: sendAs.ID, Tenant: "*", Reason: "new", Expires: date("2027-06-30")},
			},
			tenant: "acme",
			in:     result.CheckResult{Check: sendAs, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, "", "m")}},
			want: result.CheckResult{Check: sendAs, Status: result.Waived, Message: "m", Findings: []result.Finding{finding(result.Waived, "", "m")},
				Waiver: &result.Waiver{Reason: "new", Expires: "2027-06-30", Status: result.Fail}},
		},
		{
			name:    "indeterminate is never waived",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "acme", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in:      result.CheckResult{Check: sendAs, Status: result.Indeterminate, Message: "m", Findings: []result.Finding{finding(result.Indeterminate, "", "m")}},
			want:    result.CheckResult{Check: sendAs, Status: result.Indeterminate, Message: "m", Findings: []result.Finding{finding(result.Indeterminate, "", "m")}},
		},
		{
			name:    "pass is never waived",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "acme", Reason: "r", Expires: date("2027-03-31")}},
			tenant:  "acme",
			in:      result.CheckResult{Check: sendAs, Status: result.Pass, Message: "m", Findings: []result.Finding{finding(result.Pass, "", "m")}},
			want:    result.CheckResult{Check: sendAs, Status: result.Pass, Message: "m", Findings: []result.Finding{finding(result.Pass, "", "m")}},
		},
		{
			name:    "expired waiver on a passing check changes nothing",
			waivers: []Waiver{{Check: sendAs.ID, Tenant: "acme", Reason: "r", Expires: date("2026-01-01")}},
			tenant:  "acme",
			in:      result.CheckResult{Check: sendAs, Status: result.Pass, Message: "m"},
			want:    result.CheckResult{Check: sendAs, Status: result.Pass, Message: "m"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			inFindings := append([]result.Finding(nil), in.Findings...)
			got := set(tt.waivers...).Apply(tt.tenant, []result.CheckResult{in}, now)
			if len(got) != 1 {
				t.Fatalf("got %d results", len(got))
			}
			if !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("got  %+v (waiver %+v)\nwant %+v (waiver %+v)", got[0], got[0].Waiver, tt.want, tt.want.Waiver)
			}
			// The caller's results are not modified.
			if !reflect.DeepEqual(in.Findings, inFindings) {
				t.Errorf("input findings modified: %+v", in.Findings)
			}
		})
	}
}

func TestApplyTwoResourceWaivers(t *testing.T) {
	c := check("single-redirect", result.SeverityError)
	s := set(
		Waiver{Check: c.ID, Tenant: "acme", Resource: "mailbox:a@acme.com", Reason: "first", Expires: date("2027-05-01")},
		Waiver{Check: c.ID, Tenant: "acme", Resource: "mailbox:b@acme.com", Reason: "second", Expires: date("2027-03-01")},
	)
	in := []result.CheckResult{{Check: c, Status: result.Fail, Message: "m", Findings: []result.Finding{
		finding(result.Fail, "mailbox:a@acme.com", "a"), finding(result.Fail, "mailbox:b@acme.com", "b"),
	}}}
	got := s.Apply("acme", in, now)[0]
	want := &result.Waiver{Reason: "first; second", Expires: "2027-03-01", Resource: "mailbox:a@acme.com, mailbox:b@acme.com", Status: result.Fail}
	if got.Status != result.Waived || !reflect.DeepEqual(got.Waiver, want) {
		t.Errorf("got %s %+v, want waived %+v", got.Status, got.Waiver, want)
	}
	if in[0].Status != result.Fail || in[0].Findings[0].Status != result.Fail {
		t.Error("input modified")
	}
}

func TestApplyNilSet(t *testing.T) {
	var s *Set
	in := []result.CheckResult{{Check: check("send-as", result.SeverityError), Status: result.Fail}}
	if got := s.Apply("acme", in, now); !reflect.DeepEqual(got, in) {
		t.Errorf("nil set changed results: %+v", got)
	}
}

// Loading and applying together, as the CLI does.
func TestLoadAndApply(t *testing.T) {
	s, err := Load("testdata/valid.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	res := []result.CheckResult{
		{Check: check("external-forwarding-scope", result.SeverityWarning), Status: result.Warn, Findings: []result.Finding{finding(result.Fail, "", "x")}},
		{Check: check("send-as", result.SeverityError), Status: result.Fail, Findings: []result.Finding{finding(result.Fail, "", "y")}},
	}
	got := s.Apply("acme", res, now)
	if got[0].Status != result.Waived || got[1].Status != result.Fail {
		t.Errorf("acme: %s, %s; want waived, fail", got[0].Status, got[1].Status)
	}
	got = s.Apply("globex", res, now)
	if got[0].Status != result.Warn || got[1].Status != result.Fail || got[1].Waiver == nil || !got[1].Waiver.Expired {
		t.Errorf("globex: %s, %s (%+v); want warn, fail with expired waiver", got[0].Status, got[1].Status, got[1].Waiver)
	}
}

// Unused reports the waivers that found nothing to accept in any Apply call,
// so that the CLI can warn about typos and about failures fixed since.
func TestUnused(t *testing.T) {
	sendAs := check("send-as", result.SeverityError)
	owner := check("group-owner", result.SeverityWarning)
	via := check("via-tag", result.SeverityError)
	route := check("support-route", result.SeverityError)
	until := date("2027-03-31")
	ws := []Waiver{
		{Check: sendAs.ID, Tenant: "acme", Reason: "used: waives the failure", Expires: until, Line: 1},
		{Check: sendAs.ID, Tenant: "acmee", Reason: "unused: tenant misspelt", Expires: until, Line: 2},
		{Check: sendAs.ID, Tenant: "acme", Resource: "mailbox:nobody@acme.com", Reason: "unused: no such failing resource", Expires: until, Line: 3},
		{Check: owner.ID, Tenant: "acme", Reason: "unused: the check passes now", Expires: until, Line: 4},
		{Check: sendAs.ID, Tenant: "globex", Reason: "used: expired, but still matches a failure", Expires: date("2027-01-01"), Line: 5},
		{Check: via.ID, Tenant: "acme", Reason: "used: undecided, so maybe still needed", Expires: until, Line: 6},
		{Check: route.ID, Tenant: "*", Reason: "used: by one tenant of many", Expires: until, Line: 7},
		{Check: sendAs.ID, Tenant: "acme", Resource: "mailbox:Support@acme.com", Reason: "used: resource in another case", Expires: until, Line: 8},
	}
	s := set(ws...)
	if got := s.Unused(); len(got) != len(ws) {
		t.Errorf("before any Apply: Unused = %d waivers, want all %d", len(got), len(ws))
	}

	fail := func(c result.Check, resource string) result.CheckResult {
		return result.CheckResult{Check: c, Status: result.Fail, Message: "m", Findings: []result.Finding{finding(result.Fail, resource, "m")}}
	}
	acme := []result.CheckResult{
		fail(sendAs, "mailbox:support@acme.com"),
		{Check: owner, Status: result.Pass, Message: "ok", Findings: []result.Finding{finding(result.Pass, "group:support@acme.com", "ok")}},
		{Check: via, Status: result.Indeterminate, Message: "Get-AntiPhishPolicy was not collected"},
		{Check: route, Status: result.Pass, Message: "ok"},
	}
	globex := []result.CheckResult{fail(sendAs, ""), fail(route, "")}
	// The CLI applies tenants concurrently.
	var wg sync.WaitGroup
	for _, run := range []struct {
		tenant  string
		results []result.CheckResult
	}{{"acme", acme}, {"globex", globex}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Apply(run.tenant, run.results, now)
		}()
	}
	wg.Wait()

	var got []int
	for _, w := range s.Unused() {
		got = append(got, w.Line)
	}
	if want := []int{2, 3, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unused = lines %v, want %v", got, want)
	}
	var nilSet *Set
	if u := nilSet.Unused(); u != nil {
		t.Errorf("nil Set: Unused = %v", u)
	}
}
