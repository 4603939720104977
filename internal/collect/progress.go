package collect

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// progress shows, on a terminal only, one line that is rewritten in place:
//
//	[3/10] acme: Get-InboxRule (12.3s)
//
// tenants done out of the total, then the tenant whose step changed last,
// its current step and how long it has been collecting. Written to a pipe or
// a file it stays silent: a log full of carriage returns helps nobody, and
// the summary says everything that matters.
type progress struct {
	w     io.Writer
	width func() int
	total int
	now   func() time.Time

	mu     sync.Mutex
	done   int
	active map[string]*tenantProgress
	last   string // tenant whose step changed last
	shown  bool   // a line is on screen and must be cleared
	stop   chan struct{}
	wg     sync.WaitGroup
}

type tenantProgress struct {
	step  string
	start time.Time
}

// refresh is how often the elapsed time on the line is updated.
const refresh = 200 * time.Millisecond

// newProgress returns a progress display on w, or a silent one when w is nil
// or not a terminal.
func newProgress(w io.Writer, total int) *progress {
	p := &progress{total: total, now: time.Now, active: map[string]*tenantProgress{}}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return p // silent: p.w is nil
	}
	p.w = w
	p.width = func() int {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
		return 80
	}
	p.stop = make(chan struct{})
	p.wg.Add(1)
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer p.wg.Done()
	t := time.NewTicker(refresh)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.draw()
			p.mu.Unlock()
		}
	}
}

// start marks a tenant as being collected.
func (p *progress) start(tenant string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active[tenant] = &tenantProgress{step: "signing in", start: p.now()}
	p.last = tenant
	p.draw()
}

// step records what a tenant is doing now. step must already be redacted.
func (p *progress) step(tenant, step string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tp, ok := p.active[tenant]; ok {
		tp.step = step
		p.last = tenant
	}
}

// finish marks a tenant as done.
func (p *progress) finish(tenant string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.active, tenant)
	p.done++
	if p.last == tenant {
		p.last = ""
		for name := range p.active {
			p.last = name
			break
		}
	}
	p.draw()
}

// close stops the display and clears its line, so what is printed next
// starts on a clean line.
func (p *progress) close() {
	if p.w == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// draw rewrites the line; the caller holds p.mu.
func (p *progress) draw() {
	if p.w == nil {
		return
	}
	line := fmt.Sprintf("[%d/%d]", p.done, p.total)
	if tp, ok := p.active[p.last]; ok {
		line += fmt.Sprintf(" %s: %s (%.1fs)", p.last, tp.step, p.now().Sub(tp.start).Seconds())
		if more := len(p.active) - 1; more > 0 {
			line += fmt.Sprintf(" +%d more", more)
		}
	}
	// A line longer than the terminal wraps, and \r then rewrites only its
	// last part: keep it one column short.
	if max := p.width() - 1; max > 0 && utf8.RuneCountInString(line) > max {
		line = truncateRunes(line, max)
	}
	fmt.Fprint(p.w, "\r\x1b[K"+line)
	p.shown = true
}

func truncateRunes(s string, n int) string {
	if n <= 1 {
		return strings.Repeat(".", n)
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
