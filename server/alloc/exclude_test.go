package alloc

import (
	"net/netip"
	"testing"

	"d6lab/deploy"
)

// A pool with the server's own addresses excluded never hands them out,
// even when it is exhausted, and stays comparable.
func TestExcludeOwnAddresses(t *testing.T) {
	p, err := ParsePool("2001:db8:c0::1:0-2001:db8:c0::1:3")
	if err != nil {
		t.Fatal(err)
	}
	own := netip.MustParseAddr("2001:db8:c0::1:1")
	outside := netip.MustParseAddr("2001:db8:c0::9")
	q := p.Exclude(own, outside, own)
	if got := q.Excluded(); len(got) != 1 || got[0] != own {
		t.Fatalf("Excluded() = %v, want [%v] (outside addresses ignored, duplicates once)", got, own)
	}
	if q == p {
		t.Fatal("a pool with exclusions compares equal to the pool without")
	}
	if q != p.Exclude(own) {
		t.Fatal("two pools with the same exclusions differ")
	}
	if q.String() != p.String() {
		t.Fatalf("String() = %q, want %q", q.String(), p.String())
	}
	for _, s := range deploy.Allocators {
		taken := map[uint64]bool{}
		a, err := New(s, q, 1, func(i uint64) bool { return taken[i] })
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; ; n++ {
			i, err := a.Allocate(Key{DUID: []byte{byte(n)}, IAID: 1})
			if err != nil {
				if n != 3 {
					t.Errorf("%s: exhausted after %d addresses, want 3", s, n)
				}
				break
			}
			if q.Addr(i) == own {
				t.Fatalf("%s: handed out the excluded address %v", s, own)
			}
			taken[i] = true
		}
	}
}
