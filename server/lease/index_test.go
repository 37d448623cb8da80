package lease

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// The slot index against a map, with fingerprints crowded into few homes
// at the table's end (so that probe runs are long, wrap round to its
// start, and hold equal fingerprints) and removals from anywhere in a
// run: every entry stays reachable from its home, none is lost or
// duplicated, and growing keeps them all.
func TestSlotIndexProbeRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, homes := range []int{1, 3, 16, 0} { // 0: fingerprints spread over the table
		var x slotIndex
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

// Two leases whose fingerprints are equal (found by trying addresses in
// turn: a 32-bit fingerprint repeats within some 10^5 of them) are told
// apart by the slot's lease: each is found as its own, the first bound
// does not make the second a conflict, and removing one keeps the other.
func TestLeaseIndexEqualFingerprints(t *testing.T) {
	m := NewMemory()
	seen := map[uint32]netip.Prefix{}
	var a, b netip.Prefix
	for n := uint64(1); ; n++ {
		p := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 10: byte(n >> 40), byte(n >> 32), byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), 128)
		f := m.byLease.leaseFP(p)
		if q, ok := seen[f]; ok {
			a, b = q, p
			break
		}
		seen[f] = p
		if n > 1<<24 {
			t.Fatal("no two fingerprints equal in 2^24 addresses")
		}
	}
	ba := bind("client-a", 1, NA, a.String(), time.Hour)
	bb := bind("client-b", 1, NA, b.String(), time.Hour)
	for _, x := range []Binding{ba, bb} {
		if err := m.Put(x); err != nil {
			t.Fatalf("Put %v beside a lease of the same fingerprint: %v", x.Lease, err)
		}
	}
	for _, x := range []Binding{ba, bb} {
		if got, ok := m.GetByLease(x.Lease); !ok || string(got.DUID) != string(x.DUID) {
			t.Fatalf("GetByLease(%v) = %s, %v; want %s's", x.Lease, got.DUID, ok, x.DUID)
		}
	}
	m.check(t)
	if err := m.Delete(ba.Key()); err != nil {
		t.Fatal(err)
	}
	if got, ok := m.GetByLease(b); !ok || string(got.DUID) != "client-b" {
		t.Fatalf("after client-a's removal, GetByLease(%v) = %s, %v", b, got.DUID, ok)
	}
	if _, ok := m.GetByLease(a); ok {
		t.Fatalf("GetByLease(%v) finds a removed lease", a)
	}
	m.check(t)
}
