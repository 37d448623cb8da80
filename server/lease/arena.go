package lease

// arena keeps the DUIDs of a Memory's slots in chunks of bytes that are
// only ever appended to: a DUID handed out (a Binding's DUID from Get,
// GetByLease, All, Expire) stays as it was for as long as someone holds
// it, whatever the store does after. The chunks hold no pointers, so the
// collector never scans them, and a DUID costs its own length (a
// DUID-LL, 10 bytes), not a string's header and size class. Removing a
// binding leaves its DUID behind as waste until Memory.compactDUIDs
// copies the live ones to new chunks (the old go to the collector once
// no Binding holds them).
type arena struct {
	chunks     [][]byte
	live, used int // bytes of DUIDs in use, and appended since the last compaction
}

// duidRef is where a slot's DUID is in the arena.
type duidRef struct{ chunk, off, n uint32 }

// arenaChunk is the size of a full chunk; a store's first chunks are
// smaller (from 1 KiB, doubling), a DUID longer than a chunk gets one of
// its own.
const arenaChunk = 64 << 10

// add appends a copy of d and returns where it is.
func (a *arena) add(d []byte) duidRef {
	k := len(a.chunks) - 1
	if k < 0 || cap(a.chunks[k])-len(a.chunks[k]) < len(d) {
		size := 1 << 10
		if k >= 0 {
			size = min(arenaChunk, 2*cap(a.chunks[k]))
		}
		a.chunks = append(a.chunks, make([]byte, 0, max(size, len(d))))
		k++
	}
	c := &a.chunks[k]
	off := len(*c)
	*c = append(*c, d...)
	a.live += len(d)
	a.used += len(d)
	return duidRef{chunk: uint32(k), off: uint32(off), n: uint32(len(d))}
}

// get is the DUID at r, its capacity its length (an append copies it).
func (a *arena) get(r duidRef) []byte {
	c := a.chunks[r.chunk]
	return c[r.off : r.off+r.n : r.off+r.n]
}

// drop counts r's bytes as waste.
func (a *arena) drop(r duidRef) { a.live -= int(r.n) }

// wasteful reports whether the bytes no slot uses exceed those in use
// and a full chunk: time to compact.
func (a *arena) wasteful() bool { return a.used-a.live > a.live+arenaChunk }

// compactDUIDs copies every live slot's DUID to a new arena. The old
// chunks are left as they are, for the Bindings that hold them.
func (m *Memory) compactDUIDs() {
	old := m.duids
	m.duids = arena{}
	for i := range int32(len(m.gens)) {
		if m.live(i) {
			s := m.slot(i)
			s.duid = m.duids.add(old.get(s.duid))
		}
	}
}
