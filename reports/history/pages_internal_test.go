package history

import "testing"

// pages gives back every item at its index, across the first page's
// growth and the pages after it.
func TestPagesKeepOrder(t *testing.T) {
	var s pages[[2]int]
	const n = 3*pageSize + 17
	for i := range n {
		if got := s.add([2]int{i, -i}); got != i {
			t.Fatalf("add %d gave index %d", i, got)
		}
	}
	if s.len() != n {
		t.Fatalf("len %d, want %d", s.len(), n)
	}
	for i := range n {
		if x := *s.at(i); x != [2]int{i, -i} {
			t.Fatalf("item %d is %v", i, x)
		}
	}
	if len(s.p) != 4 || cap(s.p[1]) != pageSize {
		t.Fatalf("%d pages, the second of %d items; want 4, of %d", len(s.p), cap(s.p[1]), pageSize)
	}
}
