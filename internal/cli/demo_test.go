package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLiveCommandsHelp(t *testing.T) {
	for _, c := range []string{"collect", "audit", "demo", "simulate"} {
		r := ticketguard(t, c, "--help")
		_, examples, ok := strings.Cut(r.stdout, "Examples:\n")
		if r.code != 0 || !ok || !strings.Contains(examples, "  ticketguard ") {
			t.Errorf("%s --help: want exit 0 and an Examples section:\n%s", c, r)
		}
		if !strings.Contains(r.stdout, "Exit codes:") {
			t.Errorf("%s --help does not document its exit codes", c)
		}
	}
	if r := ticketguard(t, "demo", "--help"); !strings.Contains(r.stdout, "meant to show failures") {
		t.Errorf("demo --help must say its report shows failures on purpose:\n%s", r.stdout)
	}
}

// The README's first command: on a fresh machine, nothing configured.
func TestDemo(t *testing.T) {
	r := ticketguard(t, "demo")
	if r.code != 0 {
		t.Fatalf("the demo ran, so it exits 0 whatever the checks found:\n%s", r)
	}
	out := r.stdout
	for _, want := range []string{
		"simulated tenants, no Microsoft account, no network",
		"northwind", "contoso", "fabrikam",
		// fabrikam's breakage, explained: the outbound policy, the bounces
		// it causes and the second redirect hop.
		"FAIL external-forwarding", "AutoForwardingMode = Automatic",
		"FAIL delivery-failures", "550 5.7.520",
		"FAIL single-redirect", "2 redirect hops",
		"Remediation:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo output lacks %q", want)
		}
	}
	// The compliant tenants pass: their summaries have no fail.
	for _, name := range []string{"northwind", "contoso"} {
		i := strings.Index(out, "\n"+name+" (")
		if i < 0 {
			t.Errorf("no report section for %s", name)
			continue
		}
		heading, _, _ := strings.Cut(out[i+1:], "\n")
		if strings.Contains(heading, "fail") || strings.Contains(heading, "indeterminate") {
			t.Errorf("%s is meant to pass: %s", name, heading)
		}
	}
	if r.stderr != "" {
		t.Errorf("nothing on stderr in a pipe:\n%s", r.stderr)
	}

	// A machine format keeps stdout for the report.
	j := ticketguard(t, "demo", "--format", "json")
	if j.code != 0 || len(parseJSON(t, j).Tenants) != 3 || !strings.Contains(j.stderr, "no network") {
		t.Errorf("demo --format json: want exit 0, a 3-tenant report on stdout, the explanations on stderr:\n%s", j)
	}
	if r := ticketguard(t, "demo", "--format", "yaml"); r.code != 2 {
		t.Errorf("a bad --format must exit 2:\n%s", r)
	}
}

// simulate runs until interrupted and writes a configuration collect uses
// unchanged; its faults file injects failures.
func TestSimulate(t *testing.T) {
	dir := t.TempDir()
	faults := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(faults, []byte("- endpoint: exchange:Get-RemoteDomain\n  tenant: \"*\"\n  kind: forbidden\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgDir := filepath.Join(dir, "sim")
	cmd := exec.Command(binary, "simulate", "--tenants-dir", "testdata/tenants", "--faults", faults, "--config-out", cfgDir, "--page-size", "3")
	cmd.Dir = repoRoot
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	cfg := filepath.Join(cfgDir, "ticketguard.yaml")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(cfg); err == nil && strings.Contains(stdout.String(), "Collect from it") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("simulate wrote no configuration:\n%s\n%s", stdout.String(), stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "ticketguard collect --config "+cfg) {
		t.Errorf("simulate must print the collect command:\n%s", stdout.String())
	}

	out := filepath.Join(dir, "snaps")
	r := ticketguard(t, "collect", "--config", cfg, "--out", out)
	if r.code != 1 || !strings.Contains(r.stdout, "Get-RemoteDomain: HTTP 403") {
		t.Errorf("the injected 403 must show, exit 1:\n%s", r)
	}
	snaps, _ := filepath.Glob(filepath.Join(out, "*.json"))
	tenants, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "tenants", "*.json"))
	if len(snaps) != len(tenants) {
		t.Errorf("%d snapshots for %d tenants (tenants sharing an id must all be served)", len(snaps), len(tenants))
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	stopped = true
	if err != nil || !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("Ctrl-C must stop the simulator cleanly (exit 0): %v\n%s", err, stderr.String())
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("- endpoint: exchange:Get-Mailbox\n  kind: meltdown\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := ticketguard(t, "simulate", "--faults", bad); r.code != 2 || !strings.Contains(r.stderr, "meltdown") {
		t.Errorf("an unknown fault kind must exit 2 naming it:\n%s", r)
	}
	typo := filepath.Join(dir, "typo.yaml")
	if err := os.WriteFile(typo, []byte("- endpiont: exchange:Get-Mailbox\n  kind: forbidden\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := ticketguard(t, "simulate", "--faults", typo); r.code != 2 {
		t.Errorf("a misspelt key must exit 2, not inject nothing:\n%s", r)
	}
}
