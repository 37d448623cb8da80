package population

import (
	"slices"
	"time"
)

// timers holds each client's next timer, at most one per client, and
// gives them back earliest first, ties to the lower index: a total order,
// so the sequence is deterministic.
//
// It is a calendar queue. A timer's key is its time as a Duration since
// the first timer ever set (time.Time.Sub: the monotonic reading when both
// times carry one, as Before uses); its bucket is the key over 2^bucketBits
// ns (about a second). The buckets from the current one on, ringSize of
// them (about 73 minutes), sit in a ring, each an unsorted slice; the
// current bucket is sorted when the queue reaches it and drained from its
// head; a timer set for the current bucket or an earlier one (a join wave
// or a link flap sets many at once) goes into a small heap (near) popped
// beside the head; later timers wait in a heap (far) until the ring
// reaches them. Setting a client's timer again leaves its
// old entry where it is, to be skipped when reached (gen tells): no entry
// moves. With a million clients renewing every half hour that is a few
// hundred entries a bucket, appended and sorted in place, where a binary
// heap took 20 levels of scattered memory per pop and per set.
//
// Two things spare it work a renewal would otherwise do twice. A timer
// set beyond the current bucket is not filed at once: its entry is listed
// (pending) and filed when the queue next moves to another bucket, unless
// the client's timer has changed since. A client that sends a Renew sets
// its retransmission timer, and sets its next T1 a moment later when the
// Reply comes: one entry filed, not two of which one is stale. Such a
// timer cannot be the earliest before the queue leaves the current
// bucket, so the order is the same. And the earliest live entry, once
// found, is kept (top) until a set or a pop could change it: a caller
// asks for it, then pops it.
//
// A burst bucket's array leaves its slot with it (advance) and, once the
// queue is past it, waits among a few spares for the next slot that
// outgrows smallBucket (fileRing): renewal waves reuse the arrays the
// first waves made instead of growing each burst bucket anew.
type timers struct {
	at   []time.Time // per client: its timer, zero when none
	gen  []uint32    // per client: the generation of its live entry
	base time.Time   // the first timer set; zero before
	live int         // clients with a timer

	cur    int64     // the current bucket
	head   []entry   // the current bucket, sorted; drained from hd
	hd     int       // next entry of head
	ring   [][]entry // bucket b in (cur, cur+ringSize) at ring[b&ringMask]
	inRing int       // entries in ring, stale ones included
	near   entryHeap // entries set for the current bucket or before
	far    entryHeap // entries beyond the ring

	pending []entry   // entries beyond the current bucket, not filed yet (stale ones included)
	spare   [][]entry // drained burst arrays (emptied), at most maxSpare, for slots that outgrow smallBucket

	top     entry // first's answer while topOK
	topNear bool
	topOK   bool
}

const (
	bucketBits = 30 // 2^30 ns, about 1.07 s a bucket
	ringSize   = 1 << 12
	ringMask   = ringSize - 1
)

// entry is one timer: its key, its client and the client's generation
// when it was set (stale when the client's generation has moved on).
type entry struct {
	key time.Duration
	i   int32
	gen uint32
}

func (e entry) bucket() int64 { return int64(e.key) >> bucketBits }

// before is the queue's order: key, then client index.
func (e entry) before(f entry) bool {
	if e.key != f.key {
		return e.key < f.key
	}
	return e.i < f.i
}

func compareEntries(e, f entry) int {
	switch {
	case e.before(f):
		return -1
	case f.before(e):
		return 1
	}
	return 0
}

func newTimers(n int) *timers {
	return &timers{at: make([]time.Time, n), gen: make([]uint32, n), ring: make([][]entry, ringSize)}
}

// grow makes room for n more clients, without timers.
func (t *timers) grow(n int) {
	t.at = append(t.at, make([]time.Time, n)...)
	t.gen = append(t.gen, make([]uint32, n)...)
}

// truncate forgets the clients from first on (none of which has a timer).
func (t *timers) truncate(first int) {
	t.at, t.gen = t.at[:first], t.gen[:first]
}

func (t *timers) stale(e entry) bool { return t.gen[e.i] != e.gen }

// set gives client i the timer at; zero removes its timer.
func (t *timers) set(i int, at time.Time) {
	had := !t.at[i].IsZero()
	if at.IsZero() {
		if had {
			t.gen[i]++
			t.at[i] = time.Time{}
			t.live--
			if t.topOK && t.top.i == int32(i) {
				t.topOK = false
			}
		}
		return
	}
	if t.base.IsZero() {
		t.base = at
		t.cur = 0
	}
	key := at.Sub(t.base)
	if had && (at == t.at[i] || key == t.at[i].Sub(t.base)) {
		t.at[i] = at // the same key: its entry stands (or waits to be filed)
		return
	}
	if !had {
		t.live++
	}
	t.gen[i]++
	t.at[i] = at
	if t.topOK && t.top.i == int32(i) {
		t.topOK = false // its entry went stale
	}
	e := entry{key: key, i: int32(i), gen: t.gen[i]}
	if e.bucket() > t.cur {
		// Filed when the queue leaves the current bucket (advance),
		// unless a later set has made it stale by then.
		t.pending = append(t.pending, e)
		return
	}
	if t.topOK && e.before(t.top) {
		t.topOK = false
	}
	t.push(e)
}

// filePending files the entries set beyond the current bucket since the
// queue last moved that are still their client's timer.
func (t *timers) filePending() {
	for _, e := range t.pending {
		if !t.stale(e) {
			t.push(e)
		}
	}
	t.pending = t.pending[:0]
}

// push files e by its bucket.
func (t *timers) push(e entry) {
	switch b := e.bucket(); {
	case b <= t.cur:
		t.near.push(e)
	case b < t.cur+ringSize:
		t.fileRing(e)
	default:
		t.far.push(e)
	}
}

// first returns the earliest live entry, moving the queue on to it and
// dropping the stale entries before it, and whether it is near's top
// (else head's); ok is false when there is no timer.
func (t *timers) first() (e entry, fromNear, ok bool) {
	if t.topOK {
		return t.top, t.topNear, true
	}
	if t.live == 0 {
		return entry{}, false, false
	}
	e, fromNear = t.find()
	t.top, t.topNear, t.topOK = e, fromNear, true
	return e, fromNear, true
}

// find is first without the kept answer; there is a live timer.
func (t *timers) find() (e entry, fromNear bool) {
	for {
		for len(t.near) > 0 && t.stale(t.near[0]) {
			t.near.pop()
		}
		for t.hd < len(t.head) {
			if h := t.head[t.hd]; !t.stale(h) {
				if len(t.near) > 0 && t.near[0].before(h) {
					return t.near[0], true
				}
				return h, false
			}
			t.hd++
		}
		if len(t.near) > 0 {
			// near holds the current bucket's and earlier timers: before
			// anything a later bucket holds
			return t.near[0], true
		}
		t.advance()
	}
}

// advance makes the next bucket with entries current.
func (t *timers) advance() {
	t.filePending()
	t.head, t.hd = t.head[:0], 0
	next := t.cur + 1
	if t.inRing == 0 && len(t.far) > 0 {
		next = max(next, t.far[0].bucket()) // nothing in the ring: jump
	}
	if t.inRing > 0 {
		for len(t.ring[next&ringMask]) == 0 {
			next++
		}
	}
	// the ring now covers (next, next+ringSize): bring in what far holds
	// for it, and take bucket next out of the ring
	t.cur = next
	for len(t.far) > 0 && t.far[0].bucket() < t.cur+ringSize {
		e := t.far.pop()
		if e.bucket() <= t.cur {
			t.near.push(e)
		} else {
			t.fileRing(e)
		}
	}
	slot := &t.ring[t.cur&ringMask]
	t.inRing -= len(*slot)
	if cap(*slot) > smallBucket {
		// A burst (a join wave, or the clients it bound renewing
		// together every T1): its array becomes the head and the slot
		// starts afresh. Kept, each slot would hold the largest bucket it
		// ever had, and renewal waves reach most slots in a day: 1.7
		// million entries of capacity for 20,000 clients whose timers
		// are 20,000 entries.
		t.keepSpare(t.head)
		t.head, *slot = *slot, nil
	} else {
		t.head = append(t.head, *slot...)
		*slot = (*slot)[:0]
	}
	slices.SortFunc(t.head, compareEntries)
}

// smallBucket is the capacity a ring slot keeps when drained; a larger
// array goes with its entries (advance).
const smallBucket = 64

// maxSpare bounds the drained burst arrays kept for reuse: a renewal wave
// fills about one slot while the queue drains another, so a few suffice,
// and what they hold stays a few buckets' worth.
const maxSpare = 4

// spareFit bounds how much larger than a full slot the spare it takes may
// be: a small bucket that took a burst's array would hold it until the
// queue reaches it, and the ring holds half an hour of buckets.
const spareFit = 4

// fileRing appends e to its ring slot. A slot full past smallBucket takes
// a larger spare array if one is kept instead of growing by append: a
// burst bucket then costs only its first smallBucket entries' growth once
// the first waves have made the arrays it needs.
func (t *timers) fileRing(e entry) {
	s := &t.ring[e.bucket()&ringMask]
	if n := len(*s); n == cap(*s) && n >= smallBucket {
		j := -1 // the smallest spare that is larger, and not by much
		for k, a := range t.spare {
			if cap(a) > n && cap(a) <= spareFit*n && (j < 0 || cap(a) < cap(t.spare[j])) {
				j = k
			}
		}
		if j >= 0 {
			a, last := t.spare[j], len(t.spare)-1
			t.spare[j] = t.spare[last]
			t.spare[last] = nil
			t.spare = t.spare[:last]
			t.keepSpare(*s)
			*s = append(a, *s...)
		}
	}
	*s = append(*s, e)
	t.inRing++
}

// keepSpare keeps a drained array larger than smallBucket for fileRing,
// in place of the smallest kept one when maxSpare are.
func (t *timers) keepSpare(a []entry) {
	if cap(a) <= smallBucket {
		return
	}
	a = a[:0]
	if len(t.spare) < maxSpare {
		t.spare = append(t.spare, a)
		return
	}
	j := 0
	for k := range t.spare {
		if cap(t.spare[k]) < cap(t.spare[j]) {
			j = k
		}
	}
	if cap(a) > cap(t.spare[j]) {
		t.spare[j] = a
	}
}

func (t *timers) min() (time.Time, bool) {
	e, _, ok := t.first()
	if !ok {
		return time.Time{}, false
	}
	return t.at[e.i], true
}

// popMin removes the earliest timer and returns its client; there must
// be one (min reported it).
func (t *timers) popMin() int {
	e, fromNear, _ := t.first()
	t.topOK = false
	if fromNear {
		t.near.pop()
	} else {
		t.hd++
	}
	t.gen[e.i]++
	t.at[e.i] = time.Time{}
	t.live--
	return int(e.i)
}

// entryHeap is a binary min-heap of entries in queue order (before):
// near and far, the few timers outside the ring. It is container/heap's
// algorithm on the concrete type: through heap.Interface each push and
// pop boxed its entry and compared through an interface call, which a
// join wave, whose timers fall in the current bucket, paid per client.
type entryHeap []entry

// push adds e.
func (h *entryHeap) push(e entry) {
	*h = append(*h, e)
	s := *h
	j := len(s) - 1
	for j > 0 {
		parent := (j - 1) / 2
		if !e.before(s[parent]) {
			break
		}
		s[j] = s[parent]
		j = parent
	}
	s[j] = e
}

// pop removes and returns the earliest entry; there must be one.
func (h *entryHeap) pop() entry {
	s := *h
	top := s[0]
	last := len(s) - 1
	e := s[last]
	s = s[:last]
	*h = s
	j := 0
	for {
		c := 2*j + 1
		if c >= last {
			break
		}
		if r := c + 1; r < last && s[r].before(s[c]) {
			c = r
		}
		if !s[c].before(e) {
			break
		}
		s[j] = s[c]
		j = c
	}
	if last > 0 {
		s[j] = e
	}
	return top
}
