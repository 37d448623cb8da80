package lab

import (
	"fmt"
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

// progressEvery is how often the plain progress line is written when no
// terminal is attached (a terminal gets session.Progress's bar).
const progressEvery = 10 * time.Second

// runStatus is a run's progress line: its phase, clients bound and time
// left, counted from start.
func runStatus(start time.Time, total time.Duration, clients int, held *holding) func(time.Duration) string {
	return func(time.Duration) string {
		el := time.Since(start).Truncate(time.Second)
		left := max(total-el, 0).Truncate(time.Second)
		return fmt.Sprintf("%-10s t=%s/%s  bound %d/%d  %s left", "running", el, total, held.count(), clients, left)
	}
}
