package population

// xidTable maps a claimed transaction ID (24 bits, RFC 9915 §8) to the
// client holding it: open addressing with linear probing over a table of
// a power of two slots kept at most half full, and deletion by backward
// shift (no tombstones). A lookup is one cache line where a Go map is two
// or more (its control word, then its slot), which shows at a million
// clients, where every lookup misses the caches.
type xidTable struct {
	// slots hold (key | 1<<24) << 32 | client; 0 is an empty slot.
	slots []uint64
	n     int    // keys held
	shift uint32 // 32 - log2(len(slots))
}

func newXIDTable(clients int) *xidTable {
	t := &xidTable{}
	t.resize(max(16, 2*clients))
	return t
}

// resize makes room for at least n slots (rounded up to a power of two)
// and puts the keys held back in.
func (t *xidTable) resize(n int) {
	size, bits := 16, uint32(4)
	for size < n {
		size, bits = size*2, bits+1
	}
	old := t.slots
	t.slots, t.shift, t.n = make([]uint64, size), 32-bits, 0
	for _, s := range old {
		if s != 0 {
			t.put(uint32(s>>32)&^(1<<24), int32(uint32(s)))
		}
	}
}

// home is the slot where key k's probe starts (Fibonacci hashing: the
// IDs are random, but a population's seeds need not be).
func (t *xidTable) home(k uint32) int { return int((k * 0x9e3779b1) >> t.shift) }

// find is the slot holding k, or the empty slot where k's probe ends.
func (t *xidTable) find(k uint32) int {
	want := uint64(k|1<<24) << 32
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 || s&^(1<<32-1) == want {
			return i
		}
	}
}

// get is the client holding k.
func (t *xidTable) get(k uint32) (client int32, ok bool) {
	s := t.slots[t.find(k)]
	return int32(uint32(s)), s != 0
}

// put makes client hold k.
func (t *xidTable) put(k uint32, client int32) {
	i := t.find(k)
	if t.slots[i] == 0 {
		if 2*(t.n+1) > len(t.slots) {
			t.resize(2 * len(t.slots))
			i = t.find(k)
		}
		t.n++
	}
	t.slots[i] = uint64(k|1<<24)<<32 | uint64(uint32(client))
}

// del forgets k: the entries after it in its run move back to fill the
// hole, each no earlier than its home slot.
func (t *xidTable) del(k uint32) {
	i := t.find(k)
	if t.slots[i] == 0 {
		return
	}
	t.n--
	mask := len(t.slots) - 1
	for j := i; ; {
		t.slots[i] = 0
		for {
			j = (j + 1) & mask
			s := t.slots[j]
			if s == 0 {
				return
			}
			// The entry at j may fill the hole at i unless its home
			// slot lies cyclically in (i, j].
			h := t.home(uint32(s>>32) &^ (1 << 24))
			if i <= j && (h <= i || h > j) || i > j && h <= i && h > j {
				t.slots[i] = s
				i = j
				break
			}
		}
	}
}
