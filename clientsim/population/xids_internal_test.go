package population

import (
	"math/rand/v2"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/clientsim/client"
)

// The transaction ID table against a Go map: the same answers for any
// sequence of puts, overwrites, deletions and lookups, across growth and
// with keys crowded into few home slots (runs that wrap around the end).
func TestXIDTableMatchesMap(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 11))
		keys := 1 + r.IntN(1<<uint(4+r.IntN(14))) // a key space from 1 to 128k IDs
		tab, ref := newXIDTable(r.IntN(100)), map[uint32]int32{}
		for step := range 30_000 {
			k := uint32(r.IntN(keys)) * uint32(1+r.IntN(3)) & (1<<24 - 1)
			switch op := r.IntN(10); {
			case op < 4:
				c := int32(r.IntN(1 << 20))
				tab.put(k, c)
				ref[k] = c
			case op < 7:
				tab.del(k)
				delete(ref, k)
			default:
				got, ok := tab.get(k)
				want, wok := ref[k]
				if ok != wok || got != want {
					t.Fatalf("seed %d step %d: get(%d) = %d, %v; want %d, %v", seed, step, k, got, ok, want, wok)
				}
			}
			if tab.n != len(ref) {
				t.Fatalf("seed %d step %d: %d keys, want %d", seed, step, tab.n, len(ref))
			}
		}
		for k, want := range ref {
			if got, ok := tab.get(k); !ok || got != want {
				t.Fatalf("seed %d: get(%d) = %d, %v at the end; want %d", seed, k, got, ok, want)
			}
		}
		if 2*tab.n > len(tab.slots) {
			t.Fatalf("seed %d: %d keys in %d slots", seed, tab.n, len(tab.slots))
		}
	}
}

// BenchmarkClaimXID100k, BenchmarkClaimXID1M: one op is a client's claim
// of a new transaction ID (its old one freed), as each Renew makes, drawn
// as the clients draw them. BenchmarkClaimXIDMap*: the same on the Go map
// ClaimXID used before the table.
func BenchmarkClaimXID100k(b *testing.B) { benchClaimXID(b, tableXIDs(100_000)) }
func BenchmarkClaimXID1M(b *testing.B)   { benchClaimXID(b, tableXIDs(1_000_000)) }

func BenchmarkClaimXIDMap100k(b *testing.B) { benchClaimXID(b, newMapXIDs(100_000)) }
func BenchmarkClaimXIDMap1M(b *testing.B)   { benchClaimXID(b, newMapXIDs(1_000_000)) }

func tableXIDs(n int) *Population {
	return &Population{xids: newXIDTable(n), cur: make([]uint32, n)}
}

// mapXIDs is ClaimXID as it was, on a Go map.
type mapXIDs struct {
	xids map[uint32]int32
	cur  []uint32
}

func newMapXIDs(n int) *mapXIDs {
	return &mapXIDs{xids: make(map[uint32]int32, n), cur: make([]uint32, n)}
}

func (p *mapXIDs) ClaimXID(c int, xid dhcpv6.TransactionID) bool {
	k := uint32(xid[0])<<16 | uint32(xid[1])<<8 | uint32(xid[2])
	if owner, ok := p.xids[k]; ok && int(owner) != c {
		return false
	}
	if old := p.cur[c]; old != 0 {
		if k0 := old &^ (1 << 24); k0 != k {
			delete(p.xids, k0)
		}
	}
	p.xids[k] = int32(c)
	p.cur[c] = k | 1<<24
	return true
}

func benchClaimXID(b *testing.B, x client.XIDClaimer) {
	n := 0
	switch x := x.(type) {
	case *Population:
		n = len(x.cur)
	case *mapXIDs:
		n = len(x.cur)
	}
	r := rand.New(rand.NewPCG(1, 2))
	claim := func(c int) {
		for {
			v := r.Uint32()
			if x.ClaimXID(c, dhcpv6.TransactionID{byte(v >> 16), byte(v >> 8), byte(v)}) {
				return
			}
		}
	}
	for c := range n {
		claim(c)
	}
	b.ReportAllocs()
	for b.Loop() {
		claim(r.IntN(n))
	}
}
