package lease

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
)

// slotIndex maps a binding's Key (Memory.byKey) or its lease
// (Memory.byLease) to its slot in a Memory: an open-addressed table with
// linear probing, 8 bytes an entry. It replaced a map[Key]int32, whose
// lookup at a million bindings cost two cache misses (the group's control
// word, then the slot's key a few lines further) before the binding's
// own: 16 % of a million-client virtual day (the profile of README's
// "The virtual engine at scale"); and then a map[netip.Prefix]int32,
// 200 MB of a million-client day's live heap where this is 16 MB.
//
// An entry is the key's 32-bit fingerprint (the top half of its hash) in
// its high half and the slot plus one in its low half; 0 is empty. An
// entry's home is its fingerprint modulo the table's size (a power of
// two, up to 2^32 entries), so the table grows and deletes (backward
// shift, no tombstones) from the entries alone, without the keys. A
// fingerprint that matches is confirmed against the slot's binding,
// which the caller reads next anyway. The index holds no key, so one type
// serves both: only the fingerprint (keyFP, leaseFP) and the confirmation
// (Memory.holds, the slot's Lease) differ.
type slotIndex struct {
	ents []uint64
	n    int          // entries in use
	seed maphash.Seed // set by NewMemory
}

const minIndex = 16

// keyFP is k's fingerprint: a hash of its DUID, IAID and type, folded to
// 32 bits with the IAID and type mixed in.
func (x *slotIndex) keyFP(k Key) uint32 {
	h := maphash.String(x.seed, k.DUID)
	h ^= uint64(k.IAID)<<8 | uint64(k.Type)
	h *= 0x9e3779b97f4a7c15 // spread the IAID and type over the top half
	return uint32(h >> 32)
}

// leaseFP is p's fingerprint: a hash of its 16 bytes and its length.
func (x *slotIndex) leaseFP(p netip.Prefix) uint32 {
	a := p.Addr().As16()
	h := maphash.Comparable(x.seed, [3]uint64{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:]), uint64(p.Bits())})
	return uint32(h >> 32)
}

// slotAt is the slot of the entry at position p (from Memory.lookup).
func (x *slotIndex) slotAt(p int) int32 { return int32(uint32(x.ents[p])) - 1 }

// insert adds slot i under fingerprint f (its key's, which must not be
// in the index).
func (x *slotIndex) insert(f uint32, i int32) {
	if (x.n+1)*2 > len(x.ents) { // at most half full: short probe runs
		x.grow()
	}
	x.place(uint64(f)<<32 | uint64(uint32(i+1)))
	x.n++
}

// position is the position of slot i's entry, whose fingerprint is f; -1
// when it is not in the index. It compares no key: the slot tells.
func (x *slotIndex) position(f uint32, i int32) int {
	if len(x.ents) == 0 {
		return -1
	}
	mask := uint64(len(x.ents) - 1)
	for p := uint64(f) & mask; x.ents[p] != 0; p = (p + 1) & mask {
		if x.ents[p] == uint64(f)<<32|uint64(uint32(i+1)) {
			return int(p)
		}
	}
	return -1
}

func (x *slotIndex) place(e uint64) {
	mask := uint64(len(x.ents) - 1)
	p := (e >> 32) & mask
	for x.ents[p] != 0 {
		p = (p + 1) & mask
	}
	x.ents[p] = e
}

func (x *slotIndex) grow() {
	old := x.ents
	size := max(minIndex, 2*len(old))
	x.ents = make([]uint64, size)
	for _, e := range old {
		if e != 0 {
			x.place(e)
		}
	}
}

// removeAt empties position p and shifts back the entries after it that
// would otherwise be cut off from their home.
func (x *slotIndex) removeAt(p int) {
	mask := len(x.ents) - 1
	for j := (p + 1) & mask; x.ents[j] != 0; j = (j + 1) & mask {
		home := int(x.ents[j]>>32) & mask
		// The entry at j may fill the hole at p when p lies on its probe
		// run: cyclically, from home up to j.
		if (j-home)&mask >= (j-p)&mask {
			x.ents[p] = x.ents[j]
			p = j
		}
	}
	x.ents[p] = 0
	x.n--
}
