package lease

import "testing"

// check verifies the heap and index invariants of m.
func (m *Memory) check(t *testing.T) {
	for i, e := range m.heap {
		if e.idx != i {
			t.Fatalf("idx %d != %d", e.idx, i)
		}
		if i > 0 && m.less(i, (i-1)/2) {
			t.Fatalf("heap violated at %d", i)
		}
	}
	for k, e := range m.byKey {
		if e.idx >= len(m.heap) || m.heap[e.idx] != e {
			t.Fatalf("key %v not in heap", k)
		}
	}
	if len(m.byKey) != len(m.heap) || len(m.byLease) != len(m.heap) {
		t.Fatalf("sizes %d %d %d", len(m.byKey), len(m.byLease), len(m.heap))
	}
}
