package lease

import "testing"

// check verifies the invariants of m's slots, indexes and expiry queue.
func (m *Memory) check(t *testing.T) {
	t.Helper()
	live := 0
	for i, s := range m.slots {
		if !m.live(int32(i)) {
			continue
		}
		live++
		if p, _ := m.lookup(s.Key()); p < 0 || m.byKey.slotAt(p) != int32(i) {
			t.Fatalf("slot %d: key index says position %d", i, p)
		}
		if j, ok := m.byLease[s.Lease]; !ok || j != int32(i) {
			t.Fatalf("slot %d: lease index says %d, %v", i, j, ok)
		}
	}
	if m.byKey.n != live || len(m.byLease) != live || len(m.slots)-len(m.free) != live {
		t.Fatalf("sizes: %d live, %d keys, %d leases, %d slots, %d free", live, m.byKey.n, len(m.byLease), len(m.slots), len(m.free))
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
		if prev >= 0 && m.slots[it.slot].Expires.Before(m.slots[prev].Expires) {
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
			if !e.exp.Equal(m.slots[e.slot].Expires) {
				t.Fatalf("slot %d: early item at %v, binding expires %v", e.slot, e.exp, m.slots[e.slot].Expires)
			}
		}
	}
	for i := range m.slots {
		live := m.live(int32(i))
		if live && items[int32(i)] != 1 {
			t.Fatalf("slot %d has %d current items", i, items[int32(i)])
		}
		if !live && items[int32(i)] != 0 {
			t.Fatalf("free slot %d has %d current items", i, items[int32(i)])
		}
	}
}
