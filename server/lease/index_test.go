package lease

import (
	"math/rand/v2"
	"testing"
)

// The key index against a map, with fingerprints crowded into few homes
// at the table's end (so that probe runs are long, wrap round to its
// start, and hold equal fingerprints) and removals from anywhere in a
// run: every entry stays reachable from its home, none is lost or
// duplicated, and growing keeps them all.
func TestKeyIndexProbeRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, homes := range []int{1, 3, 16, 0} { // 0: fingerprints spread over the table
		var x keyIndex
		model := map[int32]uint32{} // slot -> fingerprint
		wrapped := false
		for step := range 20000 {
			if len(model) < 40 && rng.IntN(3) > 0 || len(model) == 0 {
				i := int32(step)
				f := rng.Uint32()
				if homes > 0 {
					// One of the table's last homes (low bits all but set,
					// whatever its size), and one of 8 high halves.
					f = uint32(rng.IntN(8))<<16 | uint32(0xffff-rng.IntN(homes))
				}
				if (x.n+1)*2 > len(x.ents) {
					x.grow()
				}
				x.place(uint64(f)<<32 | uint64(uint32(i+1)))
				x.n++
				model[i] = f
			} else {
				var i int32 = -1
				for s := range model { // any one
					i = s
					break
				}
				p := x.position(model[i], i)
				if p < 0 {
					t.Fatalf("homes %d, step %d: slot %d unreachable before its removal", homes, step, i)
				}
				x.removeAt(p)
				delete(model, i)
			}
			if x.n != len(model) {
				t.Fatalf("homes %d, step %d: %d entries, model %d", homes, step, x.n, len(model))
			}
			used := 0
			for _, e := range x.ents {
				if e != 0 {
					used++
				}
			}
			if used != len(model) {
				t.Fatalf("homes %d, step %d: %d entries in the table, model %d", homes, step, used, len(model))
			}
			wrapped = wrapped || x.ents[0] != 0 && int(x.ents[0]>>32)&(len(x.ents)-1) != 0
			for i, f := range model {
				if x.position(f, i) < 0 {
					t.Fatalf("homes %d, step %d: slot %d (fingerprint %#x) unreachable from its home", homes, step, i, f)
				}
			}
		}
		if homes > 0 && !wrapped {
			t.Errorf("homes %d: no probe run wrapped round the table's end", homes)
		}
	}
}
