package lease

import "testing"

// check verifies the invariants of m's slots, indexes and expiry queue.
func (m *Memory) check(t *testing.T) {
	t.Helper()
	live := 0
	slots := len(m.gens)
	for c, ch := range m.chunks {
		if c < len(m.chunks)-1 && len(ch) != chunkSize || c == len(m.chunks)-1 && len(ch) != slots-c*chunkSize {
			t.Fatalf("chunk %d of %d holds %d slots, of %d in all", c, len(m.chunks), len(ch), slots)
		}
	}
	for i := range int32(slots) {
		if !m.live(i) {
			continue
		}
		s := m.binding(i)
		live++
		if p, _ := m.lookup(s.Key()); p < 0 || m.byKey.slotAt(p) != i {
			t.Fatalf("slot %d: key index says position %d", i, p)
		}
		if j := m.leaseSlot(s.Lease); j != i {
			t.Fatalf("slot %d: lease index says %d", i, j)
		}
	}
	withExtra := 0
	for i := range int32(slots) {
		if m.live(i) && m.slot(i).extra != 0 {
			withExtra++
		} else if !m.live(i) && m.slot(i).extra != 0 {
			t.Fatalf("free slot %d keeps extra %d", i, m.slot(i).extra)
		}
	}
	if inUse := max(len(m.extras)-1, 0) - len(m.freeX); inUse != withExtra {
		t.Fatalf("%d extras in use, %d slots have one", inUse, withExtra)
	}
	if m.byKey.n != live || m.byLease.n != live || slots-len(m.free) != live {
		t.Fatalf("sizes: %d live, %d keys, %d leases, %d slots, %d free", live, m.byKey.n, m.byLease.n, slots, len(m.free))
	}
	for _, i := range m.free {
		if m.live(i) {
			t.Fatalf("slot %d is live and free", i)
		}
	}
	// Every live slot has exactly one current item; fifo's current items
	// come in order of expiry; early is a heap.
	items := map[int32]int{}
	prev := -1
	for _, it := range m.fifo[m.head:] {
		if m.stale(it) {
			continue
		}
		items[it.slot]++
		if prev >= 0 && m.expires(it.slot).Before(m.expires(int32(prev))) {
			t.Fatalf("fifo out of order at slot %d", it.slot)
		}
		prev = int(it.slot)
	}
	for j, e := range m.early {
		if j > 0 && e.exp.Before(m.early[(j-1)/2].exp) {
			t.Fatalf("early heap violated at %d", j)
		}
		if !m.stale(e.item) {
			items[e.slot]++
			if !e.exp.Equal(m.expires(e.slot)) {
				t.Fatalf("slot %d: early item at %v, binding expires %v", e.slot, e.exp, m.expires(e.slot))
			}
		}
	}
	for i := range int32(slots) {
		live := m.live(i)
		if live && items[i] != 1 {
			t.Fatalf("slot %d has %d current items", i, items[i])
		}
		if !live && items[i] != 0 {
			t.Fatalf("free slot %d has %d current items", i, items[i])
		}
	}
}
