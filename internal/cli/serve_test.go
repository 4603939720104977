package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Black-box tests of `serve`: the built binary runs as a service would,
// its HTTP endpoints are probed, and SIGTERM must stop it cleanly.

// serveProcess is a running `ticketguard serve`.
type serveProcess struct {
	cmd    *exec.Cmd
	stdout *serveOutput
	stderr *serveOutput
	done   chan error
}

type serveOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *serveOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *serveOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe starts the binary with args and waits until its status page
// URL is logged; it returns the service and the URL.
func startServe(t *testing.T, args ...string) (*serveProcess, string) {
	t.Helper()
	s := &serveProcess{cmd: exec.Command(binary, args...), stdout: &serveOutput{}, stderr: &serveOutput{}, done: make(chan error, 1)}
	s.cmd.Dir = repoRoot
	s.cmd.Stdout = s.stdout
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.done <- s.cmd.Wait()
		pw.Close()
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
		}
	})
	urls := make(chan string, 1)
	go func() {
		// JSON logs (stderr is not a terminal): find the start-up line.
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.stderr.Write([]byte(line + "\n"))
			var rec map[string]any
			if !sent && json.Unmarshal([]byte(line), &rec) == nil {
				if u, ok := rec["status_page"].(string); ok {
					urls <- u
					sent = true
				}
			}
		}
	}()
	select {
	case u := <-urls:
		return s, u
	case err := <-s.done:
		t.Fatalf("serve exited before listening: %v\nstdout:\n%s\nstderr:\n%s", err, s.stdout, s.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not log its status page within 60s\nstderr:\n%s", s.stderr)
	}
	return nil, ""
}

// stop sends SIGTERM and returns the exit code.
func (s *serveProcess) stop(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop within 60s of SIGTERM\nstderr:\n%s", s.stderr)
	}
	return -1
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitFor polls url until it answers want, or fails the test.
func waitForStatus(t *testing.T, url string, want int, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := httpGet(t, url)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q, want %d within %s", url, code, body, want, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServeAnswersAndStopsOnSIGTERM(t *testing.T) {
	// The default schedule (06:00 daily) runs nothing during the test.
	cfg, _, _ := serviceConfig(t, nil, "")
	s, url := startServe(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0")

	if code, body := httpGet(t, url+"healthz"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	waitForStatus(t, url+"readyz", http.StatusOK, 10*time.Second)
	if code, body := httpGet(t, url+"metrics"); code != http.StatusOK || !strings.Contains(body, "ticketguard_") {
		t.Errorf("/metrics: %d, no ticketguard metric", code)
	}
	code, page := httpGet(t, url)
	if code != http.StatusOK {
		t.Errorf("status page: %d", code)
	}
	for _, name := range []string{"northwind", "contoso", "fabrikam"} {
		if !strings.Contains(page, name) {
			t.Errorf("status page does not list %s", name)
		}
	}

	if code := s.stop(t); code != 0 {
		t.Errorf("after SIGTERM: exit %d, want 0\nstderr:\n%s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the logs:\n%s", s.stderr)
	}
	if strings.Contains(s.stderr.String(), runSlackToken) {
		t.Error("the Slack token appears in the logs")
	}
}

func TestServeBadConfigExits2(t *testing.T) {
	cfg, _, _ := serviceConfig(t, nil, "server:\n  addr: nowhere\n")
	r := ticketguard(t, "serve", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "server.addr") {
		t.Errorf("want exit 2 naming server.addr:\n%s", r)
	}
}

// The demo needs nothing but the binary: it runs a round at once, prints
// what its local Slack receives, serves the status page, and stops on
// SIGTERM.
func TestServeDemo(t *testing.T) {
	s, url := startServe(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--log-format", "json")
	// fabrikam is broken: its alert is printed, readably.
	alert := regexp.MustCompile(`(?m)┌─ Slack #ticketguard-demo \(new message\)\n\s+│ FABRIKAM: \d+ NEW FAILURES`)
	deadline := time.Now().Add(60 * time.Second)
	for !alert.MatchString(s.stdout.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("fabrikam's alert not printed within 60s:\n%s\nstderr:\n%s", s.stdout, s.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out := s.stdout.String(); !strings.Contains(out, "Status page: "+url) {
		t.Errorf("the demo does not print its status page %s:\n%s", url, out)
	}
	waitForStatus(t, url+"readyz", http.StatusOK, 30*time.Second)
	if _, page := httpGet(t, url); !strings.Contains(page, "fabrikam") {
		t.Error("the status page does not list fabrikam")
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("after SIGTERM: exit %d, want 0\nstderr:\n%s", code, s.stderr)
	}
}

// SIGTERM while serve is still starting (compiling the policies, opening the
// store) is a clean stop, not an error: systemd stopping the unit during a
// restart must not record a failure.
func TestServeSIGTERMDuringStartupExits0(t *testing.T) {
	cfg, _, _ := serviceConfig(t, nil, "")
	cmd := exec.Command(binary, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Long enough for the signal handler to be installed (the first lines of
	// main), short enough to land inside start-up (policy compilation).
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Errorf("SIGTERM during start-up: exit %d, want 0\nstderr:\n%s", ee.ExitCode(), stderr.String())
	} else if err != nil {
		t.Fatal(err)
	}
}
