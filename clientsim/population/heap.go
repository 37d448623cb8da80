package population

import "time"

// timers is a min-heap of client indexes keyed by each client's next
// timer, with one entry per client at most: pos tracks where each client
// sits so a new time moves it instead of adding an entry. Ties go to the
// lower index, so the order is deterministic (and, the order being total,
// the same whatever the heap's shape).
//
// The heap compares keys, each timer as a Duration since the first timer
// ever set (time.Time.Sub, which uses the monotonic reading when both
// times carry one, as Before does): an integer compare instead of
// time.Time's Equal and Before, the population's hottest comparison, with
// the key beside the index in the heap so that a comparison reads no
// other memory.
type timers struct {
	idx  []entry     // the heap
	at   []time.Time // per client: its timer
	pos  []int32     // per client: its place in idx, -1 when absent
	base time.Time   // the first timer set; zero before
}

// entry is one client in the heap: its index and its timer's key.
type entry struct {
	key time.Duration // at - base
	i   int32
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

// truncate forgets the clients from first on (none of which has a timer).
func (t *timers) truncate(first int) {
	t.at, t.pos = t.at[:first], t.pos[:first]
}

func (t *timers) less(a, b int) bool {
	ea, eb := t.idx[a], t.idx[b]
	if ea.key == eb.key {
		return ea.i < eb.i
	}
	return ea.key < eb.key
}

func (t *timers) swap(a, b int) {
	t.idx[a], t.idx[b] = t.idx[b], t.idx[a]
	t.pos[t.idx[a].i] = int32(a)
	t.pos[t.idx[b].i] = int32(b)
}

func (t *timers) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !t.less(j, i) {
			return
		}
		t.swap(i, j)
		j = i
	}
}

// down sifts element i0 down; it reports whether it moved.
func (t *timers) down(i0 int) bool {
	n := len(t.idx)
	i := i0
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && t.less(r, j) {
			j = r
		}
		if !t.less(j, i) {
			break
		}
		t.swap(i, j)
		i = j
	}
	return i > i0
}

func (t *timers) fix(i int) {
	if !t.down(i) {
		t.up(i)
	}
}

// remove takes the entry at heap place i out.
func (t *timers) remove(i int) {
	n := len(t.idx) - 1
	if n != i {
		t.swap(i, n)
	}
	t.pos[t.idx[n].i] = -1
	t.idx = t.idx[:n]
	if n != i {
		t.fix(i)
	}
}

// set gives client i the timer at; zero removes its timer.
func (t *timers) set(i int, at time.Time) {
	p := t.pos[i]
	if at.IsZero() {
		if p >= 0 {
			t.remove(int(p))
		}
		return
	}
	if t.base.IsZero() {
		t.base = at
	}
	t.at[i] = at
	k := at.Sub(t.base)
	if p >= 0 {
		t.idx[p].key = k
		t.fix(int(p))
		return
	}
	t.idx = append(t.idx, entry{key: k, i: int32(i)})
	t.pos[i] = int32(len(t.idx) - 1)
	t.up(len(t.idx) - 1)
}

func (t *timers) min() (time.Time, bool) {
	if len(t.idx) == 0 {
		return time.Time{}, false
	}
	return t.at[t.idx[0].i], true
}

func (t *timers) popMin() int {
	i := int(t.idx[0].i)
	t.remove(0)
	return i
}
