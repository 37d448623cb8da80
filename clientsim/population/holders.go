package population

import "encoding/binary"

// holderIndex lists, per IA_NA address, the clients that were granted it
// (the DAD index, Population.holders), in the order they were added. One
// client, the usual case, is the entry's value itself; more (a duplicate
// grant) go to a list the value points to.
//
// It is an open-addressed table with linear probing, an entry the
// address's 16 bytes and the value (20 bytes, no pointer for the
// collector to scan), at most half full: at a million clients one cache
// line read a lookup, where the map[[16]byte]int32 it replaced read two
// (a group's control word, then its slot); about as much memory (80 MiB
// for a split day at a million, whose renumbered addresses double it).
type holderIndex struct {
	ents  []holderEnt // len a power of two, or 0
	n     int         // entries in use
	lists [][]int32
	free  []int32 // unused slots of lists
	one   [1]int32
}

// holderEnt is an address and what is listed under it: v > 0, the one
// client v-1; v < 0, lists[-1-v]; v == 0, an empty entry.
type holderEnt struct {
	a [16]byte
	v int32
}

func newHolderIndex(n int) *holderIndex {
	x := &holderIndex{}
	if n > 0 {
		size := 16
		for size < 2*n {
			size *= 2
		}
		x.ents = make([]holderEnt, size)
	}
	return x
}

// home is a's first position in a table of mask+1 entries: its two
// halves mixed (an address's low half alone varies in a pool) and spread
// by a multiply.
func home(a *[16]byte, mask uint64) uint64 {
	h := binary.BigEndian.Uint64(a[:8])*0x9e3779b97f4a7c15 ^ binary.BigEndian.Uint64(a[8:])
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return h & mask
}

// find is a's position, or -1.
func (x *holderIndex) find(a *[16]byte) int {
	if x.n == 0 {
		return -1
	}
	mask := uint64(len(x.ents) - 1)
	for p := home(a, mask); ; p = (p + 1) & mask {
		e := &x.ents[p]
		if e.v == 0 {
			return -1
		}
		if e.a == *a {
			return int(p)
		}
	}
}

// get is the clients listed under a, in order; a single client comes as a
// view that the next call on x changes.
func (x *holderIndex) get(a [16]byte) []int32 {
	p := x.find(&a)
	switch {
	case p < 0:
		return nil
	case x.ents[p].v > 0:
		x.one[0] = x.ents[p].v - 1
		return x.one[:]
	}
	return x.lists[-1-x.ents[p].v]
}

// set lists hs under a, in place of what was listed (nothing when empty).
func (x *holderIndex) set(a [16]byte, hs []int32) {
	p := x.find(&a)
	l := int32(-1)
	if p >= 0 && x.ents[p].v < 0 {
		l = -1 - x.ents[p].v
	}
	var v int32
	switch {
	case len(hs) > 1:
		if l < 0 {
			if n := len(x.free); n > 0 {
				l, x.free = x.free[n-1], x.free[:n-1]
			} else {
				l = int32(len(x.lists))
				x.lists = append(x.lists, nil)
			}
		}
		x.lists[l] = hs
		v = -1 - l
	case len(hs) == 1:
		v = hs[0] + 1
	}
	if l >= 0 && v >= 0 { // the list goes
		x.lists[l] = nil
		x.free = append(x.free, l)
	}
	switch {
	case p >= 0 && v != 0:
		x.ents[p].v = v
	case p >= 0:
		x.removeAt(p)
	case v != 0:
		x.insert(a, v)
	}
}

// insert adds a, not in the table, with value v.
func (x *holderIndex) insert(a [16]byte, v int32) {
	if (x.n+1)*2 > len(x.ents) {
		x.grow()
	}
	x.place(holderEnt{a, v})
	x.n++
}

func (x *holderIndex) place(e holderEnt) {
	mask := uint64(len(x.ents) - 1)
	p := home(&e.a, mask)
	for x.ents[p].v != 0 {
		p = (p + 1) & mask
	}
	x.ents[p] = e
}

func (x *holderIndex) grow() {
	old := x.ents
	x.ents = make([]holderEnt, max(16, 2*len(old)))
	for _, e := range old {
		if e.v != 0 {
			x.place(e)
		}
	}
}

// removeAt empties position p and shifts back the entries after it that
// would otherwise be cut off from their home (no tombstones).
func (x *holderIndex) removeAt(p int) {
	mask := len(x.ents) - 1
	for j := (p + 1) & mask; x.ents[j].v != 0; j = (j + 1) & mask {
		h := int(home(&x.ents[j].a, uint64(mask)))
		// The entry at j may fill the hole at p when p lies on its probe
		// run: cyclically, from its home up to j.
		if (j-h)&mask >= (j-p)&mask {
			x.ents[p] = x.ents[j]
			p = j
		}
	}
	x.ents[p] = holderEnt{}
	x.n--
}
