package population

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The DAD holders index against a map of lists: the same lists, in the
// same order, for any sequence of appends and prunes; with up to 50
// addresses, and with up to 4,000 (the table grows several times, and
// removals shift long probe runs back).
func TestHolderIndexMatchesMap(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 5))
		x, ref := newHolderIndex(0), map[[16]byte][]int32{}
		addrs := 1 + r.IntN(50)
		if seed >= 20 {
			addrs = 1 + r.IntN(4000)
		}
		for step := range 20_000 {
			n := r.IntN(addrs)
			a := [16]byte{0x20, 0x01, 14: byte(n >> 8), 15: byte(n)}
			hs := x.get(a)
			if !slices.Equal(hs, ref[a]) {
				t.Fatalf("seed %d step %d: %v listed, want %v", seed, step, hs, ref[a])
			}
			if r.IntN(2) == 0 { // a grant: append a client not listed
				i := int32(r.IntN(8))
				if !slices.Contains(hs, i) {
					x.set(a, append(hs, i))
					ref[a] = append(slices.Clone(ref[a]), i)
				}
				continue
			}
			// a probe: keep the clients that still hold it, in order
			k := 0
			for _, j := range hs {
				if r.IntN(3) > 0 {
					hs[k] = j
					k++
				}
			}
			want := slices.Clone(hs[:k])
			x.set(a, hs[:k])
			if k == 0 {
				delete(ref, a)
			} else {
				ref[a] = want
			}
		}
		used, multi := 0, 0
		for _, e := range x.ents {
			if e.v != 0 {
				used++
			}
			if e.v < 0 {
				multi++
			}
		}
		if held := len(x.lists) - len(x.free); held != multi {
			t.Fatalf("seed %d: %d lists held, %d addresses listing several clients", seed, held, multi)
		}
		if x.n != len(ref) || used != len(ref) {
			t.Fatalf("seed %d: %d addresses (%d entries in the table), want %d", seed, x.n, used, len(ref))
		}
		for a, want := range ref {
			if hs := x.get(a); !slices.Equal(hs, want) {
				t.Fatalf("seed %d, at the end: %v listed under %x, want %v", seed, hs, a, want)
			}
		}
	}
}
