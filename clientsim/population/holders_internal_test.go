package population

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The DAD holders index against the map of lists it replaced: the same
// lists, in the same order, for any sequence of appends and prunes.
func TestHolderIndexMatchesMap(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 5))
		x, ref := newHolderIndex(0), map[[16]byte][]int32{}
		addrs := 1 + r.IntN(50)
		for step := range 20_000 {
			a := [16]byte{0x20, 0x01, 15: byte(r.IntN(addrs))}
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
		if len(x.m) != len(ref) {
			t.Fatalf("seed %d: %d addresses, want %d", seed, len(x.m), len(ref))
		}
	}
}
