package population

import (
	"container/heap"
	"time"
)

// timers is a min-heap of client indexes keyed by each client's next
// timer, with one entry per client at most: pos tracks where each client
// sits so a new time moves it (heap.Fix) instead of adding an entry.
// Ties go to the lower index, so the order is deterministic.
type timers struct {
	idx []int32     // the heap: client indexes
	at  []time.Time // per client: its timer
	pos []int32     // per client: its place in idx, -1 when absent
}

func newTimers(n int) *timers {
	t := &timers{at: make([]time.Time, n), pos: make([]int32, n)}
	for i := range t.pos {
		t.pos[i] = -1
	}
	return t
}

// grow makes room for n more clients, without timers.
func (t *timers) grow(n int) {
	for range n {
		t.at = append(t.at, time.Time{})
		t.pos = append(t.pos, -1)
	}
}

func (t *timers) Len() int { return len(t.idx) }

func (t *timers) Less(a, b int) bool {
	ia, ib := t.idx[a], t.idx[b]
	ta, tb := t.at[ia], t.at[ib]
	if ta.Equal(tb) {
		return ia < ib
	}
	return ta.Before(tb)
}

func (t *timers) Swap(a, b int) {
	t.idx[a], t.idx[b] = t.idx[b], t.idx[a]
	t.pos[t.idx[a]] = int32(a)
	t.pos[t.idx[b]] = int32(b)
}

// Push is unused: set appends and fixes, which avoids boxing.
func (t *timers) Push(any) { panic("population: timers.Push") }

// Pop removes the last element (heap.Remove moved it there).
func (t *timers) Pop() any {
	n := len(t.idx) - 1
	t.pos[t.idx[n]] = -1
	t.idx = t.idx[:n]
	return nil
}

// set gives client i the timer at; zero removes its timer.
func (t *timers) set(i int, at time.Time) {
	p := t.pos[i]
	if at.IsZero() {
		if p >= 0 {
			heap.Remove(t, int(p))
		}
		return
	}
	t.at[i] = at
	if p >= 0 {
		heap.Fix(t, int(p))
		return
	}
	t.idx = append(t.idx, int32(i))
	t.pos[i] = int32(len(t.idx) - 1)
	heap.Fix(t, len(t.idx)-1)
}

func (t *timers) min() (time.Time, bool) {
	if len(t.idx) == 0 {
		return time.Time{}, false
	}
	return t.at[t.idx[0]], true
}

func (t *timers) popMin() int {
	i := int(t.idx[0])
	heap.Remove(t, 0)
	return i
}
