package lease

import (
	"hash/maphash"
	"iter"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Memory is an in-memory Store. It keeps its bindings in numbered slots,
// indexes them by key and by lease, and keeps their expiry in a queue:
// Expire costs O(1) when nothing is due and O(1) amortised per binding it
// removes, Put O(1) amortised. It is safe for concurrent use (a reporter
// may iterate while the server runs).
//
// The slots sit in chunks of chunkSize that never move once full (only
// the last grows, by append), so a store of a million bindings grows
// without copying them or holding twice their room while a slice doubles.
// A slot is a binding packed without pointers (slot, 88 bytes where a
// Binding takes 232): its DUID in the store's DUID arena, its times as
// nanoseconds, and what few bindings have (an FQDN, relay data, a time
// the slot cannot hold) beside it, in extras. The collector has nothing
// to scan in a million of them. A binding's times come back without
// their monotonic clock reading, as from Bolt's file.
//
// The expiry queue is lazy: each Put of a binding pushes an item naming
// its slot and the slot's generation, which every later Put or removal of
// that slot bumps, so an older item is stale and skipped. A server grants
// every lease for its configured valid lifetime from the time at hand,
// so the expiries it puts come in order: those go to a FIFO (no sifting,
// one append); one that comes earlier than the last pushed (a store
// loaded from a file, a clock set back) goes to a min-heap beside it.
//
// A renewal reads the binding (Get) and puts it back (Put): Get keeps the
// slot it found, and Put of the same key then looks nothing up again.
type Memory struct {
	mu      sync.Mutex
	byKey   slotIndex // by the slot's Key: keyFP, confirmed by holds
	byLease slotIndex // by the slot's Lease: leaseFP, confirmed by the slot's Lease (same seed)
	chunks  [][]slot  // slot i is chunks[i/chunkSize][i%chunkSize]; a slot in use has a type (Validate)
	gens    []uint32  // each slot's generation (len: the slots made): what the queue checks
	free    []int32   // slots not in use
	duids   arena     // the slots' DUIDs
	extras  []extra   // what a slot keeps beside it (slot.extra); extras[0] unused
	freeX   []uint32  // extras not in use

	// loc is the location of the times the slots hold (the first Put's);
	// locSet says it is set.
	loc    *time.Location
	locSet bool

	fifo  []item    // items in order of expiry, from head on (stale ones among them)
	head  int       // fifo's first item not yet popped
	last  time.Time // the expiry of the item pushed last to fifo
	early []early   // min-heap on exp: items that came out of order

	hint int32 // the slot the last Get found, -1 none
}

// item names a slot as it was when pushed: stale once gens[slot] moved on.
type item struct {
	slot int32
	gen  uint32
}

// early is an item pushed out of order, with its expiry (the heap's key).
type early struct {
	exp time.Time
	item
}

var _ Store = (*Memory)(nil)

// chunkSize is how many slots a chunk holds once full (88 KiB of
// bindings): small against a million-binding store, large against the
// few a test or a home server holds (their one chunk grows by append).
const chunkSize = 1 << chunkBits

const chunkBits = 10

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	seed := maphash.MakeSeed()
	return &Memory{byKey: slotIndex{seed: seed}, byLease: slotIndex{seed: seed}, hint: -1}
}

// slot is a binding as a Memory keeps it. typ is 0 in a free slot.
type slot struct {
	lease                    [16]byte
	granted, expires         int64 // nanoseconds since 1970 (in Memory.loc); in extras with sOddTimes
	t1, t2, preferred, valid time.Duration
	duid                     duidRef
	iaid                     uint32
	extra                    uint32 // index in Memory.extras; 0 none
	bits                     uint8  // the lease's prefix length
	typ                      IAType
	flags                    uint8
}

// slot flags
const (
	sNoGranted = 1 << iota // Granted is the zero time
	sOddTimes              // Granted and Expires are in extras
)

// extra is what a slot keeps beside it: what most bindings do not have.
type extra struct {
	fqdn              string
	linkAddr          netip.Addr
	relayID, remoteID []byte
	granted, expires  time.Time // with sOddTimes
}

// slot is slot i. It stays valid until the store makes a slot (newSlot),
// which may move the last chunk.
func (m *Memory) slot(i int32) *slot {
	return &m.chunks[i>>chunkBits][i&(chunkSize-1)]
}

// binding is slot i's binding, its DUID the store's copy.
func (m *Memory) binding(i int32) Binding {
	s := m.slot(i)
	b := Binding{
		DUID:      m.duids.get(s.duid),
		IAID:      s.iaid,
		Type:      s.typ,
		Lease:     netip.PrefixFrom(netip.AddrFrom16(s.lease), int(s.bits)),
		T1:        s.t1,
		T2:        s.t2,
		Preferred: s.preferred,
		Valid:     s.valid,
	}
	if s.flags&sOddTimes != 0 {
		x := &m.extras[s.extra]
		b.Granted, b.Expires = x.granted, x.expires
	} else {
		b.Expires = time.Unix(0, s.expires).In(m.loc)
		if s.flags&sNoGranted == 0 {
			b.Granted = time.Unix(0, s.granted).In(m.loc)
		}
	}
	if s.extra != 0 {
		x := &m.extras[s.extra]
		b.FQDN, b.LinkAddr, b.RelayID, b.RemoteID = x.fqdn, x.linkAddr, x.relayID, x.remoteID
	}
	return b
}

// expires is slot i's Expires.
func (m *Memory) expires(i int32) time.Time {
	s := m.slot(i)
	if s.flags&sOddTimes != 0 {
		return m.extras[s.extra].expires
	}
	return time.Unix(0, s.expires).In(m.loc)
}

// set stores *b in slot i, whose DUID is set already. The times lose
// their monotonic clock reading (as in Bolt's file); a time in another
// location than the store's first, or beyond int64 nanoseconds, is kept
// whole in extras.
func (m *Memory) set(i int32, b *Binding) {
	s := m.slot(i)
	s.lease, s.bits, s.typ, s.iaid = b.Lease.Addr().As16(), uint8(b.Lease.Bits()), b.Type, b.IAID
	s.t1, s.t2, s.preferred, s.valid = b.T1, b.T2, b.Preferred, b.Valid
	if !m.locSet {
		m.loc, m.locSet = b.Expires.Location(), true
	}
	s.flags = 0
	odd := !m.fits(b.Expires)
	if b.Granted.IsZero() {
		s.flags |= sNoGranted
	} else if !m.fits(b.Granted) {
		odd = true
	}
	if odd {
		s.flags |= sOddTimes
	}
	s.granted, s.expires = b.Granted.UnixNano(), b.Expires.UnixNano()
	if !odd && b.FQDN == "" && !b.LinkAddr.IsValid() && b.RelayID == nil && b.RemoteID == nil {
		m.dropExtra(s)
		return
	}
	if s.extra == 0 {
		if n := len(m.freeX); n > 0 {
			s.extra, m.freeX = m.freeX[n-1], m.freeX[:n-1]
		} else {
			if len(m.extras) == 0 {
				m.extras = append(m.extras, extra{}) // index 0: none
			}
			s.extra = uint32(len(m.extras))
			m.extras = append(m.extras, extra{})
		}
	}
	x := &m.extras[s.extra]
	*x = extra{fqdn: b.FQDN, linkAddr: b.LinkAddr, relayID: b.RelayID, remoteID: b.RemoteID}
	if odd {
		x.granted, x.expires = b.Granted.Round(0), b.Expires.Round(0) // no monotonic reading
	}
}

// fits reports whether a slot's nanoseconds give t back (but for a
// monotonic reading): t is in the store's location and within int64
// nanoseconds of 1970 (the years 1678 to 2262).
func (m *Memory) fits(t time.Time) bool {
	const lim = math.MaxInt64 / int64(time.Second)
	sec := t.Unix()
	return sec > -lim && sec < lim && t.Location() == m.loc
}

// dropExtra frees s's extra, if it has one.
func (m *Memory) dropExtra(s *slot) {
	if s.extra != 0 {
		m.extras[s.extra] = extra{}
		m.freeX = append(m.freeX, s.extra)
		s.extra = 0
	}
}

// sameLease reports whether slot s holds lease p.
func (s *slot) sameLease(p netip.Prefix) bool {
	return s.lease == p.Addr().As16() && int(s.bits) == p.Bits()
}

// leaseOf is s's lease.
func (s *slot) leaseOf() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom16(s.lease), int(s.bits))
}

// newSlot makes one more slot, empty, and returns its number.
func (m *Memory) newSlot() int32 {
	i := int32(len(m.gens))
	if i&(chunkSize-1) == 0 { // the last chunk is full (or there is none)
		size := chunkSize
		if i == 0 {
			size = 16 // the first grows as needed
		}
		m.chunks = append(m.chunks, make([]slot, 0, size))
	}
	c := &m.chunks[len(m.chunks)-1]
	if len(*c) == cap(*c) { // the first chunk, not yet chunkSize
		g := make([]slot, len(*c), min(chunkSize, 2*cap(*c)))
		copy(g, *c)
		*c = g
	}
	*c = (*c)[:len(*c)+1]
	m.gens = append(m.gens, 0)
	return i
}

// leaseSlot is the slot holding lease p, -1 none.
func (m *Memory) leaseSlot(p netip.Prefix) int32 {
	x := &m.byLease
	if x.n == 0 {
		return -1
	}
	f := x.leaseFP(p)
	mask := uint64(len(x.ents) - 1)
	for q := uint64(f) & mask; ; q = (q + 1) & mask {
		e := x.ents[q]
		if e == 0 {
			return -1
		}
		if i := int32(uint32(e)) - 1; uint32(e>>32) == f && m.slot(i).sameLease(p) {
			return i
		}
	}
}

// leaseMoves re-indexes slot i from lease old to lease p.
func (m *Memory) leaseMoves(i int32, old, p netip.Prefix) {
	x := &m.byLease
	x.removeAt(x.position(x.leaseFP(old), i))
	x.insert(x.leaseFP(p), i)
}

// Get implements Store.
func (m *Memory) Get(k Key) (b Binding, ok bool) {
	ok = m.getInto(k, &b)
	return b, ok
}

// getInto is Get writing the binding to *b (untouched when there is
// none): Bolt's Get passes its own result, so that the binding is copied
// once.
func (m *Memory) getInto(k Key, b *Binding) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, _ := m.lookup(k)
	if p < 0 {
		return false
	}
	i := m.byKey.slotAt(p)
	m.hint = i
	*b = m.binding(i)
	return true
}

// GetByLease implements Store.
func (m *Memory) GetByLease(p netip.Prefix) (Binding, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.leaseSlot(p)
	if i < 0 {
		return Binding{}, false
	}
	return m.binding(i), true
}

// Put implements Store. It copies b.DUID (and allocates nothing when the
// key is bound already).
func (m *Memory) Put(b Binding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.putLocked(&b)
}

// putLocked is Put of a valid *b with m.mu held. It stores *b and sets
// b.DUID to the store's copy of the bytes.
func (m *Memory) putLocked(b *Binding) error {
	k := KeyView(b.DUID, b.IAID, b.Type)
	i, f, ok := m.find(k)
	if !ok || !m.slot(i).sameLease(b.Lease) {
		if other := m.leaseSlot(b.Lease); other >= 0 && (!ok || other != i) {
			return ErrConflict
		}
	}
	if ok {
		s := m.slot(i)
		if !s.sameLease(b.Lease) {
			m.leaseMoves(i, s.leaseOf(), b.Lease)
		}
		b.DUID = m.duids.get(s.duid) // same key, same bytes
		m.set(i, b)
		m.gens[i]++
		m.push(i, b.Expires)
		return nil
	}
	if n := len(m.free); n > 0 {
		i = m.free[n-1]
		m.free = m.free[:n-1]
	} else {
		i = m.newSlot()
	}
	m.slot(i).duid = m.duids.add(b.DUID)
	b.DUID = m.duids.get(m.slot(i).duid) // the store's own copy
	m.set(i, b)
	m.gens[i]++
	m.byKey.insert(f, i)
	m.byLease.insert(m.byLease.leaseFP(b.Lease), i)
	m.push(i, b.Expires)
	return nil
}

// find is the slot of k: the one the last Get found when it holds k (a
// Put after a Get of the same key, a renewal), else the index's. When k
// is not bound, f is its fingerprint, for the index's insert.
func (m *Memory) find(k Key) (i int32, f uint32, ok bool) {
	if h := m.hint; h >= 0 && m.holds(h, k) {
		return h, 0, true
	}
	p, f := m.lookup(k)
	if p < 0 {
		return 0, f, false
	}
	return m.byKey.slotAt(p), f, true
}

// lookup is the position of k's entry in the key index (-1 when k is not
// bound) and k's fingerprint.
func (m *Memory) lookup(k Key) (p int, f uint32) {
	x := &m.byKey
	f = x.keyFP(k)
	if x.n == 0 {
		return -1, f
	}
	mask := uint64(len(x.ents) - 1)
	for q := uint64(f) & mask; ; q = (q + 1) & mask {
		e := x.ents[q]
		if e == 0 {
			return -1, f
		}
		if uint32(e>>32) == f && m.holds(int32(uint32(e))-1, k) {
			return int(q), f
		}
	}
}

// holds reports whether slot i holds k's binding.
func (m *Memory) holds(i int32, k Key) bool {
	s := m.slot(i)
	return s.iaid == k.IAID && s.typ == k.Type && s.typ != 0 && string(m.duids.get(s.duid)) == k.DUID
}

// Delete implements Store.
func (m *Memory) Delete(k Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleteLocked(k)
	return nil
}

// deleteLocked is Delete with m.mu held; it reports whether k had a
// binding.
func (m *Memory) deleteLocked(k Key) bool {
	p, _ := m.lookup(k)
	if p < 0 {
		return false
	}
	m.remove(m.byKey.slotAt(p), p)
	return true
}

// Expire implements Store. fn runs with the store unlocked and may call
// the store. Bindings due at the same instant go in the order they were
// put (those put out of order, after the others).
func (m *Memory) Expire(now time.Time, fn func(Binding)) (int, error) {
	var gone []Binding
	m.mu.Lock()
	var keep *[]Binding
	if fn != nil {
		keep = &gone
	}
	n := m.expireLocked(now, keep)
	m.mu.Unlock()
	for _, b := range gone {
		fn(b)
	}
	return n, nil
}

// expireLocked removes the bindings due at now, with m.mu held, and
// returns how many; when gone is not nil, it appends each to *gone first.
func (m *Memory) expireLocked(now time.Time, gone *[]Binding) int {
	n := 0
	for {
		i, ok := m.due(now)
		if !ok {
			return n
		}
		if gone != nil {
			*gone = append(*gone, m.binding(i))
		}
		s := m.slot(i)
		m.remove(i, m.byKey.position(m.byKey.keyFP(KeyView(m.duids.get(s.duid), s.iaid, s.typ)), i))
		n++
	}
}

// due pops the queue's earliest binding if it expires at or before now.
func (m *Memory) due(now time.Time) (int32, bool) {
	for m.head < len(m.fifo) && m.stale(m.fifo[m.head]) {
		m.head++
	}
	for len(m.early) > 0 && m.stale(m.early[0].item) {
		m.popEarly()
	}
	fromFIFO := m.head < len(m.fifo)
	if len(m.early) > 0 && (!fromFIFO || m.early[0].exp.Before(m.expires(m.fifo[m.head].slot))) {
		if now.Before(m.early[0].exp) {
			return 0, false
		}
		return m.popEarly().slot, true
	}
	if !fromFIFO {
		return 0, false
	}
	i := m.fifo[m.head].slot
	if now.Before(m.expires(i)) {
		return 0, false
	}
	m.head++
	return i, true
}

// Len implements Store.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byKey.n
}

// All implements Store: it iterates over a snapshot taken when iteration
// starts (in slot order), so the loop body may call the store.
func (m *Memory) All() iter.Seq[Binding] {
	return func(yield func(Binding) bool) {
		m.mu.Lock()
		snap := make([]Binding, 0, m.byKey.n)
		for i := range int32(len(m.gens)) {
			if m.live(i) {
				snap = append(snap, m.binding(i))
			}
		}
		m.mu.Unlock()
		for _, b := range snap {
			if !yield(b) {
				return
			}
		}
	}
}

// remove empties slot i, whose key's entry is at position p of the key
// index.
func (m *Memory) remove(i int32, p int) {
	s := m.slot(i)
	m.byKey.removeAt(p)
	m.byLease.removeAt(m.byLease.position(m.byLease.leaseFP(s.leaseOf()), i))
	m.dropExtra(s) // nothing kept alive
	m.duids.drop(s.duid)
	*s = slot{}
	m.gens[i]++
	if m.duids.wasteful() {
		m.compactDUIDs()
	}
	m.free = append(m.free, i)
	if m.hint == i {
		m.hint = -1
	}
}

func (m *Memory) stale(it item) bool { return m.gens[it.slot] != it.gen }

// live reports whether slot i holds a binding.
func (m *Memory) live(i int32) bool { return m.slot(i).typ != 0 }

// push queues slot i's expiry, exp (its current generation).
func (m *Memory) push(i int32, exp time.Time) {
	it := item{i, m.gens[i]}
	if m.head == len(m.fifo) { // empty: start over at the front
		m.fifo, m.head = m.fifo[:0], 0
	} else if exp.Before(m.last) {
		m.pushEarly(early{exp, it})
		return
	}
	m.fifo = append(m.fifo, it)
	m.last = exp
	if live := m.byKey.n; len(m.fifo)-m.head > 4*live+1024 || m.head > 1024 && m.head > len(m.fifo)/2 {
		m.compact()
	}
}

// compact drops the popped and stale items of fifo, keeping the order.
func (m *Memory) compact() {
	q := m.fifo[:0]
	for _, it := range m.fifo[m.head:] {
		if !m.stale(it) {
			q = append(q, it)
		}
	}
	m.fifo, m.head = q, 0
}

func (m *Memory) pushEarly(e early) {
	if len(m.early) > 4*m.byKey.n+1024 { // mostly stale: keep the live ones
		h := m.early[:0]
		for _, x := range m.early {
			if !m.stale(x.item) {
				h = append(h, x)
			}
		}
		m.early = h
		for j := len(h)/2 - 1; j >= 0; j-- {
			m.down(j)
		}
	}
	m.early = append(m.early, e)
	for c := len(m.early) - 1; c > 0; { // sift up
		p := (c - 1) / 2
		if !m.early[c].exp.Before(m.early[p].exp) {
			break
		}
		m.early[p], m.early[c] = m.early[c], m.early[p]
		c = p
	}
}

func (m *Memory) popEarly() early {
	e := m.early[0]
	n := len(m.early) - 1
	m.early[0] = m.early[n]
	m.early = m.early[:n]
	m.down(0)
	return e
}

func (m *Memory) down(i int) {
	h := m.early
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if r := c + 1; r < len(h) && h[r].exp.Before(h[c].exp) {
			c = r
		}
		if !h[c].exp.Before(h[i].exp) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
