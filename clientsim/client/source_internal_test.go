package client

import (
	"math/rand/v2"
	"testing"
)

// The client's inline source against math/rand/v2's Rand over the same
// PCG: the same numbers, draw for draw, whatever the mix of draws and
// bounds (powers of two, bounds that reject, the largest).
func TestSourceMatchesRand(t *testing.T) {
	bounds := []int64{1, 2, 3, 7, 1 << 10, 1000, 1_000_000_001, 1 << 40, 3 << 61, 1<<63 - 1}
	for seed := range uint64(20) {
		pick := rand.New(rand.NewPCG(seed, 1))
		var s source
		s.pcg = *rand.NewPCG(seed, 42)
		ref := rand.New(rand.NewPCG(seed, 42))
		for i := range 50_000 {
			switch pick.IntN(3) {
			case 0:
				if got, want := s.Uint32(), ref.Uint32(); got != want {
					t.Fatalf("seed %d draw %d: Uint32 %d, want %d", seed, i, got, want)
				}
			case 1:
				if got, want := s.Float64(), ref.Float64(); got != want {
					t.Fatalf("seed %d draw %d: Float64 %v, want %v", seed, i, got, want)
				}
			default:
				n := bounds[pick.IntN(len(bounds))]
				if pick.IntN(2) == 0 {
					n = 1 + pick.Int64N(1<<62)
				}
				if got, want := s.Int64N(n), ref.Int64N(n); got != want {
					t.Fatalf("seed %d draw %d: Int64N(%d) %d, want %d", seed, i, n, got, want)
				}
			}
		}
	}
}
