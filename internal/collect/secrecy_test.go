package collect_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketguard/ticketguard/internal/collect"
	"github.com/ticketguard/ticketguard/internal/report"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/simulator/smtp"
)

// tokenRecorder is a transport that remembers every bearer token sent, so
// the test knows exactly which tokens must not appear anywhere.
type tokenRecorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	tokens map[string]bool
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && tok != "" {
		r.mu.Lock()
		r.tokens[tok] = true
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func randomSecret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// jwtShape matches anything that looks like a compact JWT: no token of any
// origin belongs in an output.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}`)

// No secret and no token reaches an error, a summary, a snapshot or a
// report, including when things go wrong in ways that tempt a client to
// quote its request: a rejected SMTP password, expired tokens, 5xx answers
// and a failed sign-in.
func TestNoSecretInAnyOutput(t *testing.T) {
	tenants := fixture.Demo() // contoso signs in with a certificate, the others with secrets
	var secrets []string
	for _, ten := range tenants {
		if ten.ClientSecret != "" {
			ten.ClientSecret = randomSecret(t, "client-secret-")
			secrets = append(secrets, ten.ClientSecret)
		}
		ten.SMTPPassword = randomSecret(t, "smtp-password-")
		secrets = append(secrets, ten.SMTPPassword)
		if key := fixture.PrivateKeyPEM(ten); key != nil {
			// A line of the key's base64 body: any part of it is too much.
			lines := strings.Split(string(key), "\n")
			secrets = append(secrets, lines[1])
		}
	}
	byName := map[string]*fixture.Tenant{}
	for _, ten := range tenants {
		byName[ten.Name] = ten
	}
	faults := &fault.Injector{}
	faults.Add(fault.Rule{Endpoint: "exchange:Get-TransportRule", Tenant: byName["fabrikam"].TenantID, Kind: fault.ExpiredToken})
	faults.Add(fault.Rule{Endpoint: "graph:contacts", Tenant: byName["contoso"].TenantID, Kind: fault.ServerError, Status: 500})

	sim, cfg, cfgPath := startSim(t, simulator.Options{Tenants: tenants, Faults: faults})
	secrets = append(secrets, sim.AteraAPIKey())
	cfg.Collect.RetryBudget = time.Second
	// contoso's SMTP login is refused, so the probe has a reply to report.
	if err := sim.SMTP().SetAuthMode("contoso", smtp.BasicAuthRetired); err != nil {
		t.Fatal(err)
	}
	// northwind's secret was rotated in Entra: the configured one is refused
	// (and is the one that must not leak).
	if err := sim.Tenants().Update("northwind", func(ten *fixture.Tenant) { ten.ClientSecret = randomSecret(t, "rotated-") }); err != nil {
		t.Fatal(err)
	}

	rec := &tokenRecorder{next: sim.HTTPClient().Transport, tokens: map[string]bool{}}
	out := t.TempDir()
	outcomes, err := collect.Run(context.Background(), cfg, collect.Options{
		OutDir: out, ProbeSMTP: true, SMTPAddress: sim.URLs().SMTP, Engine: engine(t),
		HTTPClient: &http.Client{Transport: rec},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.tokens) == 0 {
		t.Fatal("no bearer token was sent: the test would prove nothing")
	}
	for tok := range rec.tokens {
		secrets = append(secrets, tok)
	}

	// Every output: errors, the summary, the snapshot files, the reports.
	var all bytes.Buffer
	got := byTenant(outcomes)
	if got["northwind"].Err == nil {
		t.Error("northwind signed in with a rotated secret")
	}
	if probe, _ := got["contoso"].Snapshot.Data["smtp_probe"].(map[string]any); probe == nil || probe["login"] != "failed" {
		t.Errorf("contoso's SMTP login should have been refused: smtp_probe = %v", probe)
	}
	if len(got["fabrikam"].Errors) == 0 || len(got["contoso"].Errors) == 0 {
		t.Errorf("the injected failures left no error: fabrikam %v, contoso %v", got["fabrikam"].Errors, got["contoso"].Errors)
	}
	for _, o := range outcomes {
		if o.Err != nil {
			all.WriteString(o.Err.Error() + "\n")
		}
		for _, e := range o.Errors {
			all.WriteString(e.Source + ": " + e.Message + "\n")
		}
	}
	if err := collect.WriteSummary(&all, outcomes); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(files) != 2 {
		t.Errorf("snapshot files = %v, want contoso and fabrikam (northwind could not sign in)", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(data)
	}
	rep := &result.Report{EvaluatedAt: evalTime}
	for _, o := range outcomes {
		res, err := engine(t).Evaluate(context.Background(), o.Snapshot.Data, evalTime)
		if err != nil {
			t.Fatal(err)
		}
		rep.Tenants = append(rep.Tenants, result.Tenant{Name: o.Tenant, Snapshot: o.Snapshot.Path, Results: res, Errors: o.Snapshot.Errors})
	}
	for _, format := range report.Formats() {
		w, err := report.Get(format, report.Options{Catalogue: engine(t).Catalogue(), ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(&all, rep); err != nil {
			t.Fatal(err)
		}
	}

	text := all.String()
	if testing.Verbose() {
		for _, o := range outcomes {
			t.Logf("%s: err=%v errors=%v", o.Tenant, o.Err, o.Errors)
		}
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("a secret (%.14s...) appears in the output", s)
		}
	}
	if m := jwtShape.FindString(text); m != "" {
		t.Errorf("something shaped like a token appears in the output: %.20s...", m)
	}
	// The configuration points at the secrets and may be printed: it must
	// hold references only.
	cfgText, _ := os.ReadFile(cfgPath)
	for _, s := range secrets {
		if strings.Contains(string(cfgText), s) {
			t.Errorf("a secret (%.14s...) appears inline in the configuration", s)
		}
	}
}
