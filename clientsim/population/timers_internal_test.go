package population

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// The calendar queue (heap.go) against the binary heap it replaced
// (refTimers below, as it was): the same sequence of times and clients for
// any sequence of sets, removals and pops, ties and far timers included.
func TestTimersMatchHeap(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 7))
		n := 1 + r.IntN(300)
		q, ref := newTimers(n), newRefTimers(n)
		now := start
		spans := []time.Duration{0, time.Nanosecond, time.Second, 10 * time.Second, 30 * time.Minute, 2 * time.Hour, 48 * time.Hour, 400 * 24 * time.Hour}
		for step := range 20_000 {
			switch op := r.IntN(10); {
			case op < 5: // set a client's timer from now on
				i := r.IntN(n)
				at := now.Add(time.Duration(r.Int64N(int64(spans[r.IntN(len(spans))]) + 1)))
				if r.IntN(20) == 0 {
					at = now.Add(-time.Duration(r.Int64N(int64(time.Hour)))) // in the past
				}
				if r.IntN(10) == 0 {
					at = now // a tie with others at now
				}
				q.set(i, at)
				ref.set(i, at)
			case op < 6: // remove one
				i := r.IntN(n)
				q.set(i, time.Time{})
				ref.set(i, time.Time{})
			default: // pop the earliest
				qa, qok := q.min()
				ra, rok := ref.min()
				if qok != rok || !qa.Equal(ra) {
					t.Fatalf("seed %d step %d: min %v %v, want %v %v", seed, step, qa, qok, ra, rok)
				}
				if !qok {
					continue
				}
				qi, ri := q.popMin(), ref.popMin()
				if qi != ri {
					t.Fatalf("seed %d step %d: popMin %d, want %d (at %v)", seed, step, qi, ri, ra)
				}
				if qa.After(now) {
					now = qa
				}
			}
		}
		for { // drain
			qa, qok := q.min()
			ra, rok := ref.min()
			if qok != rok || !qa.Equal(ra) {
				t.Fatalf("seed %d drain: min %v %v, want %v %v", seed, qa, qok, ra, rok)
			}
			if !qok {
				break
			}
			if qi, ri := q.popMin(), ref.popMin(); qi != ri {
				t.Fatalf("seed %d drain: popMin %d, want %d", seed, qi, ri)
			}
		}
	}
}

// refTimers is the binary heap the calendar queue replaced, kept as the
// reference for TestTimersMatchHeap.
type refTimers struct {
	idx  []refEntry  // the heap
	at   []time.Time // per client: its timer
	pos  []int32     // per client: its place in idx, -1 when absent
	base time.Time   // the first timer set; zero before
}

// entry is one client in the heap: its index and its timer's key.
type refEntry struct {
	key time.Duration // at - base
	i   int32
}

func newRefTimers(n int) *refTimers {
	t := &refTimers{at: make([]time.Time, n), pos: make([]int32, n)}
	for i := range t.pos {
		t.pos[i] = -1
	}
	return t
}

// grow makes room for n more clients, without timers.
func (t *refTimers) grow(n int) {
	for range n {
		t.at = append(t.at, time.Time{})
		t.pos = append(t.pos, -1)
	}
}

// truncate forgets the clients from first on (none of which has a timer).
func (t *refTimers) truncate(first int) {
	t.at, t.pos = t.at[:first], t.pos[:first]
}

func (t *refTimers) less(a, b int) bool {
	ea, eb := t.idx[a], t.idx[b]
	if ea.key == eb.key {
		return ea.i < eb.i
	}
	return ea.key < eb.key
}

func (t *refTimers) swap(a, b int) {
	t.idx[a], t.idx[b] = t.idx[b], t.idx[a]
	t.pos[t.idx[a].i] = int32(a)
	t.pos[t.idx[b].i] = int32(b)
}

func (t *refTimers) up(j int) {
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
func (t *refTimers) down(i0 int) bool {
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

func (t *refTimers) fix(i int) {
	if !t.down(i) {
		t.up(i)
	}
}

// remove takes the entry at heap place i out.
func (t *refTimers) remove(i int) {
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
func (t *refTimers) set(i int, at time.Time) {
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
	t.idx = append(t.idx, refEntry{key: k, i: int32(i)})
	t.pos[i] = int32(len(t.idx) - 1)
	t.up(len(t.idx) - 1)
}

func (t *refTimers) min() (time.Time, bool) {
	if len(t.idx) == 0 {
		return time.Time{}, false
	}
	return t.at[t.idx[0].i], true
}

func (t *refTimers) popMin() int {
	i := int(t.idx[0].i)
	t.remove(0)
	return i
}

// A timer set beyond the current bucket and set again before the queue
// leaves it is filed once, with its last value (a Renew's retransmission
// timer, then the next T1 when the Reply comes): one entry, not a live
// one and a stale one.
func TestTimersFileOnce(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := newTimers(3)
	q.set(0, start)
	q.set(1, start.Add(time.Second/2)) // the current bucket: filed at once
	q.set(2, start.Add(10*time.Second))
	q.set(2, start.Add(30*time.Minute))
	if q.inRing != 0 || len(q.near) != 2 {
		t.Fatalf("before the queue moves: %d entries in the ring, %d near; want 0 and 2", q.inRing, len(q.near))
	}
	for _, want := range []int{0, 1} {
		if _, ok := q.min(); !ok {
			t.Fatalf("no timer, want client %d", want)
		}
		if got := q.popMin(); got != want {
			t.Fatalf("popped client %d, want %d", got, want)
		}
	}
	q.filePending()
	if q.inRing != 1 || len(q.pending) != 0 {
		t.Fatalf("filed: %d entries in the ring, %d pending; want 1 and 0", q.inRing, len(q.pending))
	}
	if at, ok := q.min(); !ok || !at.Equal(start.Add(30*time.Minute)) {
		t.Fatalf("client 2's timer: %v %v, want %v", at, ok, start.Add(30*time.Minute))
	}
	if got := q.popMin(); got != 2 {
		t.Fatalf("popped client %d, want 2", got)
	}
	if _, ok := q.min(); ok {
		t.Fatal("a timer left after the three")
	}
}

// Renewal waves, as clients bound in a ramp renew together every T1:
// buckets of 400 entries, far past smallBucket, whose arrays go with them
// when drained and come back as spares (heap.go, fileRing). The order is
// the reference heap's, and once the first waves made the arrays a wave
// allocates only each bucket's growth to smallBucket, not to its size.
func TestTimersBurstsReuseArrays(t *testing.T) {
	const n, buckets, t1 = 4000, 10, 30 * time.Minute
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q, ref := newTimers(n), newRefTimers(n)
	for i := range n { // a 10 s ramp: 400 clients a second
		at := start.Add(buckets * time.Second * time.Duration(i) / n)
		q.set(i, at)
		ref.set(i, at)
	}
	wave := func() {
		for range n {
			qa, _ := q.min()
			ra, _ := ref.min()
			qi, ri := q.popMin(), ref.popMin()
			if qi != ri || !qa.Equal(ra) {
				t.Fatalf("popped client %d at %v, want %d at %v", qi, qa, ri, ra)
			}
			q.set(qi, qa.Add(t1))
			ref.set(ri, ra.Add(t1))
		}
	}
	for range 3 {
		wave()
	}
	if len(q.spare) == 0 {
		t.Fatal("no spare array kept after three waves of 400-entry buckets")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	wave()
	runtime.ReadMemStats(&after)
	// Appending up to smallBucket entries allocates under 2 x smallBucket
	// entries (one more for what else runs); growing to 400 by append
	// alone would be about 1,000.
	limit := uint64(buckets * 3 * smallBucket * unsafe.Sizeof(entry{}))
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Fatalf("a wave of %d renewals in %d buckets allocated %d bytes, want at most %d (%d over)", n, buckets, got, limit, got-limit)
	}
}

// The timers' binary heap (entryHeap) gives its entries back in queue
// order, whatever order they came in (equal keys and equal entries
// included), and pushes and pops without allocating once it has grown.
func TestEntryHeap(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 11))
		var h entryHeap
		var want []entry
		for range 1 + r.IntN(500) {
			e := entry{key: time.Duration(r.IntN(40)), i: int32(r.IntN(8)), gen: r.Uint32()}
			h.push(e)
			want = append(want, e)
			if r.IntN(4) == 0 { // pop the least so far
				slices.SortStableFunc(want, compareEntries)
				if got := h.pop(); compareEntries(got, want[0]) != 0 {
					t.Fatalf("seed %d: pop gave %+v, want key %v client %d", seed, got, want[0].key, want[0].i)
				}
				want = want[1:]
			}
		}
		slices.SortStableFunc(want, compareEntries)
		for k, w := range want {
			if got := h.pop(); compareEntries(got, w) != 0 {
				t.Fatalf("seed %d: pop %d of %d gave %+v, want key %v client %d", seed, k, len(want), got, w.key, w.i)
			}
		}
		if len(h) != 0 {
			t.Fatalf("seed %d: %d entries left after popping every one", seed, len(h))
		}
	}
	h := make(entryHeap, 0, 64)
	if a := testing.AllocsPerRun(100, func() {
		for k := range 32 {
			h.push(entry{key: time.Duration(31 - k), i: int32(k)})
		}
		for range 32 {
			h.pop()
		}
	}); a != 0 {
		t.Fatalf("push and pop allocated %v times a run, want 0", a)
	}
}
