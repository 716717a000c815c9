package prepare

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progress renders a one-line status (records/s, MB/s) to a terminal while
// the pipeline runs. It is inert when out is nil (stderr not a terminal).
type progress struct {
	out     io.Writer
	records atomic.Int64
	bytes   atomic.Int64 // raw input bytes read so far
	users   atomic.Int64
	total   atomic.Int64 // total users to process in the current phase
	phase   atomic.Value
	start   time.Time
	stop    chan struct{}
	done    sync.WaitGroup
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, start: time.Now(), stop: make(chan struct{})}
	p.phase.Store("reading")
	if out == nil {
		return p
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				p.render(true)
				return
			case <-t.C:
				p.render(false)
			}
		}
	}()
	return p
}

func (p *progress) setPhase(s string) { p.phase.Store(s) }

func (p *progress) render(final bool) {
	el := time.Since(p.start).Seconds()
	if el <= 0 {
		el = 1e-9
	}
	rec, b := p.records.Load(), p.bytes.Load()
	line := fmt.Sprintf("\r\033[Kprepare [%s] %s records  %.0f rec/s  %.1f MB/s", p.phase.Load().(string),
		count(rec), float64(rec)/el, float64(b)/el/1e6)
	if tot := p.total.Load(); tot > 0 {
		u := p.users.Load()
		line += fmt.Sprintf("  users %d/%d %s", u, tot, bar(u, tot, 20))
	}
	line += fmt.Sprintf("  %.0fs", el)
	if final {
		line += "\n"
	}
	io.WriteString(p.out, line)
}

func (p *progress) close() {
	if p.out == nil {
		return
	}
	close(p.stop)
	p.done.Wait()
}

func bar(n, tot int64, width int) string {
	f := int(float64(width) * float64(n) / float64(tot))
	f = max(0, min(width, f))
	b := make([]byte, width+2)
	b[0], b[width+1] = '[', ']'
	for i := 0; i < width; i++ {
		b[i+1] = ' '
		if i < f {
			b[i+1] = '='
		}
	}
	return string(b)
}

func count(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
