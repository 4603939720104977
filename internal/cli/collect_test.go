package cli_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ticketguard/ticketguard/internal/simulator"
	"github.com/ticketguard/ticketguard/internal/simulator/fault"
	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
	"github.com/ticketguard/ticketguard/internal/simulator/smtp"
)

// Black-box tests of collect and audit: the simulator runs in the test
// process, the binary collects from it through the configuration the
// simulator writes, as a user following `ticketguard simulate` would.

func randomSecret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// simulated starts a simulator with the demo tenants (or those given) and
// writes its configuration; it returns the simulator and the configuration
// path.
func simulated(t *testing.T, faults *fault.Injector, tenants ...*fixture.Tenant) (*simulator.Simulator, string) {
	t.Helper()
	if len(tenants) == 0 {
		tenants = fixture.Demo()
	}
	sim, err := simulator.Start(context.Background(), simulator.Options{Tenants: tenants, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	path, err := sim.WriteConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return sim, path
}

func demoTenant(t *testing.T, tenants []*fixture.Tenant, name string) *fixture.Tenant {
	t.Helper()
	for _, ten := range tenants {
		if ten.Name == name {
			return ten
		}
	}
	t.Fatalf("no demo tenant %s", name)
	return nil
}

func TestCollectWritesSnapshotsAndSummary(t *testing.T) {
	_, cfg := simulated(t, nil)
	out := filepath.Join(t.TempDir(), "snaps")
	r := ticketguard(t, "collect", "--config", cfg, "--out", out)
	if r.code != 0 {
		t.Fatalf("collect:\n%s", r)
	}
	for _, name := range []string{"northwind", "contoso", "fabrikam"} {
		path := filepath.Join(out, name+".json")
		if _, err := os.Stat(path); err != nil {
			t.Errorf("no snapshot for %s: %v", name, err)
		}
		if !regexp.MustCompile(`(?m)^` + name + `\s+\d+\s+0\s+0\s+0\s+\S+\s+` + regexp.QuoteMeta(path) + `$`).MatchString(r.stdout) {
			t.Errorf("summary has no line for %s with its counts and %s:\n%s", name, path, r.stdout)
		}
	}
	if !strings.HasPrefix(r.stdout, "TENANT") || r.stderr != "" {
		t.Errorf("a pipe gets the summary only, no progress:\n%s", r)
	}
	// What collect wrote, check reads.
	c := ticketguard(t, "check", "--format", "json", out)
	if rep := parseJSON(t, c); len(rep.Tenants) != 3 || c.code != 1 {
		t.Errorf("check of the collected snapshots: %d tenants, exit %d, want 3 and 1 (fabrikam fails)", len(rep.Tenants), c.code)
	}

	// --tenant restricts the run.
	one := filepath.Join(t.TempDir(), "one")
	r = ticketguard(t, "collect", "--config", cfg, "--tenant", "contoso", "--out", one)
	entries, _ := os.ReadDir(one)
	if r.code != 0 || len(entries) != 1 || entries[0].Name() != "contoso.json" {
		t.Errorf("--tenant contoso wrote %v:\n%s", entries, r)
	}
}

func TestCollectExitCodes(t *testing.T) {
	tenants := fixture.Demo()
	faults := &fault.Injector{}
	faults.Add(fault.Rule{Endpoint: "exchange:Get-TransportRule", Tenant: demoTenant(t, tenants, "northwind").TenantID, Kind: fault.Forbidden})
	_, cfg := simulated(t, faults, tenants...)

	out := t.TempDir()
	r := ticketguard(t, "collect", "--config", cfg, "--out", out)
	if r.code != 1 {
		t.Errorf("a tenant with a collection error must exit 1:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(out, "northwind.json")); err != nil {
		t.Errorf("the tenant with an error must still be written: %v", err)
	}
	if !strings.Contains(r.stdout, "northwind: Get-TransportRule: HTTP 403") {
		t.Errorf("the summary must name the failed source:\n%s", r)
	}

	bad := filepath.Join(t.TempDir(), "ticketguard.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\ntenants:\n  - name: acme\n    tenant_id: nope\n    client_secret: hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no --out":       {"collect", "--config", cfg},
		"unknown tenant": {"collect", "--config", cfg, "--tenant", "umbrella", "--out", t.TempDir()},
		"bad config":     {"collect", "--config", bad, "--out", t.TempDir()},
		"no config":      {"collect", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "--out", t.TempDir()},
		"an argument":    {"collect", "--config", cfg, "--out", t.TempDir(), "extra"},
	} {
		r := ticketguard(t, args...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("%s: want exit 2 and a message:\n%s", name, r)
		}
		if strings.Contains(r.stderr, "hunter2") {
			t.Errorf("%s: the inline secret was quoted back:\n%s", name, r)
		}
	}
	if r := ticketguard(t, "collect", "--config", bad, "--out", t.TempDir()); !strings.Contains(r.stderr, bad+":") || !strings.Contains(r.stderr, ":5") {
		t.Errorf("a config error names the file and the line:\n%s", r)
	}
}

// audit is collect then check: the same report, the same exit codes.
func TestAuditIsCollectThenCheck(t *testing.T) {
	_, cfg := simulated(t, nil)
	out := t.TempDir()
	a := ticketguard(t, "audit", "--config", cfg, "--format", "json", "--now", now, "--out", out)
	c := ticketguard(t, "check", "--format", "json", "--now", now, out)
	if a.code != c.code || a.code != 1 {
		t.Errorf("audit exit %d, check of its snapshots exit %d; want both 1 (fabrikam fails)\n%s", a.code, c.code, a)
	}
	ar, cr := parseJSON(t, a), parseJSON(t, c)
	if len(ar.Tenants) != 3 || len(cr.Tenants) != 3 {
		t.Fatalf("tenants: audit %d, check %d", len(ar.Tenants), len(cr.Tenants))
	}
	for i := range ar.Tenants {
		got, want := ar.statuses(i), cr.statuses(i)
		for id, s := range want {
			if got[id] != s {
				t.Errorf("%s %s: audit %s, check %s", ar.Tenants[i].Name, id, got[id], s)
			}
		}
	}
	if !strings.Contains(a.stderr, "TENANT") {
		t.Errorf("audit prints the collection summary on stderr:\n%s", a.stderr)
	}
}

// A source that could not be read makes its checks indeterminate, never
// pass: with nothing failing, audit exits 3 (0 with --allow-indeterminate).
// A tenant that cannot sign in is reported, not left out.
func TestAuditCollectionErrorsAreIndeterminate(t *testing.T) {
	all := fixture.Demo()
	northwind, contoso := demoTenant(t, all, "northwind"), demoTenant(t, all, "contoso")
	faults := &fault.Injector{}
	faults.Add(fault.Rule{Endpoint: "exchange:Get-HostedOutboundSpamFilterPolicy", Tenant: northwind.TenantID, Kind: fault.Forbidden})
	_, cfg := simulated(t, faults, northwind, contoso)

	r := ticketguard(t, "audit", "--config", cfg, "--format", "json", "--now", now)
	if r.code != 3 {
		t.Fatalf("a compliant tenant with a source missing must exit 3:\n%s", r)
	}
	rep := parseJSON(t, r)
	for i, tn := range rep.Tenants {
		if tn.Name != "northwind" {
			continue
		}
		if s := rep.statuses(i)["external-forwarding"]; s != "indeterminate" {
			t.Errorf("external-forwarding = %s without the outbound policies, want indeterminate", s)
		}
	}
	if r := ticketguard(t, "audit", "--config", cfg, "--allow-indeterminate", "--now", now); r.code != 0 {
		t.Errorf("--allow-indeterminate must exit 0:\n%s", r)
	}
	if r := ticketguard(t, "audit", "--config", cfg, "--format", "yaml"); r.code != 2 || strings.Contains(r.stderr, "TENANT") {
		t.Errorf("a bad flag must exit 2 before collecting anything:\n%s", r)
	}
}

func TestAuditReportsATenantThatCannotSignIn(t *testing.T) {
	all := fixture.Demo()
	northwind := demoTenant(t, all, "northwind")
	sim, cfg := simulated(t, nil, northwind)
	if err := sim.Tenants().Update("northwind", func(ten *fixture.Tenant) { ten.ClientSecret = "rotated" }); err != nil {
		t.Fatal(err)
	}
	r := ticketguard(t, "audit", "--config", cfg, "--format", "json", "--now", now)
	if r.code != 3 {
		t.Fatalf("a tenant that cannot be collected is indeterminate (exit 3):\n%s", r)
	}
	rep := parseJSON(t, r)
	if len(rep.Tenants) != 1 || rep.Tenants[0].Name != "northwind" {
		t.Fatalf("the tenant must be in the report: %+v", rep.Tenants)
	}
	for id, s := range rep.statuses(0) {
		if s == "pass" {
			t.Errorf("%s passed on a tenant that was not collected", id)
		}
	}
	if !strings.Contains(r.stderr, "AADSTS7000215") {
		t.Errorf("the summary must give Entra's reason:\n%s", r.stderr)
	}
}

// No secret, and nothing shaped like a token, in anything collect or audit
// prints or writes, including when a login is refused and a sign-in fails.
func TestCollectAndAuditKeepSecrets(t *testing.T) {
	tenants := fixture.Demo()
	var secrets []string
	for _, ten := range tenants {
		if ten.ClientSecret != "" {
			ten.ClientSecret = randomSecret(t, "client-secret-")
			secrets = append(secrets, ten.ClientSecret)
		}
		ten.SMTPPassword = randomSecret(t, "smtp-password-")
		secrets = append(secrets, ten.SMTPPassword)
		if key := fixture.PrivateKeyPEM(ten); key != nil {
			secrets = append(secrets, strings.Split(string(key), "\n")[1])
		}
	}
	faults := &fault.Injector{}
	faults.Add(fault.Rule{Endpoint: "exchange:Get-RemoteDomain", Tenant: demoTenant(t, tenants, "fabrikam").TenantID, Kind: fault.ExpiredToken})
	sim, cfg := simulated(t, faults, tenants...)
	secrets = append(secrets, sim.AteraAPIKey())
	if err := sim.SMTP().SetAuthMode("contoso", smtp.BasicAuthRetired); err != nil {
		t.Fatal(err)
	}
	if err := sim.Tenants().Update("northwind", func(ten *fixture.Tenant) { ten.ClientSecret = "rotated" }); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	snaps := filepath.Join(dir, "snaps")
	runs := []run{
		ticketguard(t, "collect", "--config", cfg, "--out", snaps, "--probe-smtp", "--smtp-address", sim.URLs().SMTP),
		ticketguard(t, "audit", "--config", cfg, "--probe-smtp", "--smtp-address", sim.URLs().SMTP, "--format", "json", "--output", filepath.Join(dir, "report.json")),
		ticketguard(t, "audit", "--config", cfg, "--probe-smtp", "--smtp-address", sim.URLs().SMTP, "--format", "sarif", "--output", filepath.Join(dir, "report.sarif")),
		ticketguard(t, "audit", "--config", cfg, "--probe-smtp", "--smtp-address", sim.URLs().SMTP),
	}
	var all strings.Builder
	for _, r := range runs {
		all.WriteString(r.stdout + r.stderr)
	}
	if !strings.Contains(all.String(), "AADSTS7000215") || !strings.Contains(all.String(), "535") {
		t.Fatalf("the refused sign-in and SMTP login must show, or the test proves nothing:\n%s", all.String())
	}
	files, _ := filepath.Glob(filepath.Join(snaps, "*"))
	files = append(files, filepath.Join(dir, "report.json"), filepath.Join(dir, "report.sarif"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(data)
	}
	text := all.String()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("a secret (%.14s...) appears in an output", s)
		}
	}
	if m := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}`).FindString(text); m != "" {
		t.Errorf("something shaped like a bearer token appears in an output: %.20s...", m)
	}
	// The probe's result is in the snapshot, without the password.
	data, err := os.ReadFile(filepath.Join(snaps, "contoso.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Probe map[string]any `json:"smtp_probe"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Probe["login"] != "failed" {
		t.Errorf("contoso smtp_probe = %v (%v), want a failed login", doc.Probe, err)
	}
}

// A secret that cannot be read is a configuration error found before any
// tenant is contacted: exit 2 with the line and field, for every command
// that collects.
func TestCollectUnreadableSecretIsConfigError(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ticketguard.yaml")
	yaml := `version: 1
tenants:
  - name: acme
    tenant_id: 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f
    client_id: 1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90
    client_secret: {file: acme-secret-missing}
    atera:
      ticketing_address: acme@ticketing.atera.com
      support_address: support@acme.example
      smtp: null
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"collect", "--config", cfg, "--out", filepath.Join(dir, "snaps")},
		{"audit", "--config", cfg},
		{"run", "--once", "--config", cfg, "--store", filepath.Join(dir, "tg.db")},
	} {
		r := ticketguard(t, args...)
		if r.code != 2 || !strings.Contains(r.stderr, cfg+":6: tenants[0].client_secret:") || !strings.Contains(r.stderr, "acme-secret-missing") {
			t.Errorf("%v: want exit 2 naming line 6 and the field:\n%s", args, r)
		}
		if r.stdout != "" {
			t.Errorf("%v: a configuration error must produce no report:\n%s", args, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "snaps")); err == nil {
		t.Error("collect wrote a snapshot directory for a configuration it rejected")
	}
}
