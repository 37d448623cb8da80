package lab

import (
	"fmt"
	"io"
	"sync"
	"time"

	"d6lab/reports/history"
)

// holding tracks, from the client events, how many clients hold a lease
// now: what the progress line shows while a run goes.
type holding struct {
	mu     sync.Mutex
	leases map[int]int // client -> leases held
	now    int         // clients holding at least one lease
}

func (h *holding) observe(e history.Event) {
	delta := 0
	switch e.Kind {
	case history.Bound:
		delta = 1
	case history.Expired, history.Refused, history.Released, history.Declined:
		delta = -1
	default:
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.leases == nil {
		h.leases = map[int]int{}
	}
	before := h.leases[e.Client]
	after := max(before+delta, 0)
	h.leases[e.Client] = after
	switch {
	case before == 0 && after > 0:
		h.now++
	case before > 0 && after == 0:
		h.now--
	}
}

func (h *holding) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// progress reports a run's phase, clients bound and time left: a line
// redrawn in place on a terminal, a plain line every 10 s otherwise.
type progress struct {
	w        io.Writer
	terminal bool
	start    time.Time
	total    time.Duration
	clients  int
	held     *holding
	phase    string
	mu       sync.Mutex
	stop     chan struct{}
	done     chan struct{}
}

func startProgress(w io.Writer, terminal bool, start time.Time, total time.Duration, clients int, held *holding) *progress {
	p := &progress{w: w, terminal: terminal, start: start, total: total, clients: clients, held: held, phase: "running", stop: make(chan struct{}), done: make(chan struct{})}
	every := 10 * time.Second
	if terminal {
		every = 250 * time.Millisecond
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				if p.terminal {
					fmt.Fprint(p.w, "\r\033[K")
				}
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) setPhase(s string) {
	p.mu.Lock()
	p.phase = s
	p.mu.Unlock()
}

func (p *progress) draw() {
	p.mu.Lock()
	phase := p.phase
	p.mu.Unlock()
	el := time.Since(p.start).Truncate(time.Second)
	left := max(p.total-el, 0).Truncate(time.Second)
	line := fmt.Sprintf("%-10s t=%s/%s  bound %d/%d  %s left", phase, el, p.total, p.held.count(), p.clients, left)
	if p.terminal {
		const width = 30
		done := min(int(float64(width)*float64(el)/float64(p.total)), width)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < done {
				bar[i] = '#'
			}
		}
		fmt.Fprintf(p.w, "\r\033[K[%s] %s", bar, line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// end stops the reporter and clears its line.
func (p *progress) end() {
	close(p.stop)
	<-p.done
}
