package alloc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"d6lab/deploy"
)

// bitset is a taken set for tests and benchmarks.
type bitset []uint64

func newBitset(n uint64) bitset           { return make(bitset, (n+63)/64) }
func (b bitset) has(i uint64) bool        { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i uint64)             { b[i/64] |= 1 << (i % 64) }
func (b bitset) clear(i uint64)           { b[i/64] &^= 1 << (i % 64) }
func (b bitset) taken() func(uint64) bool { return b.has }

func key(n int) Key {
	d := make([]byte, 10)
	binary.BigEndian.PutUint16(d, 3) // DUID-LL
	binary.BigEndian.PutUint16(d[2:], 1)
	binary.BigEndian.PutUint32(d[6:], uint32(n))
	return Key{DUID: d, IAID: uint32(n) ^ 0x5a5a}
}

func mustPool(t testing.TB, s string) Pool {
	t.Helper()
	p, err := ParsePool(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewStrategies(t *testing.T) {
	p := mustPool(t, "2001:db8::/120")
	for _, s := range deploy.Allocators {
		a, err := New(s, p, 1, nil)
		if err != nil || a == nil {
			t.Errorf("New(%s): %v", s, err)
		}
		if got, err := deploy.ParseAllocator(string(s)); err != nil || got != s {
			t.Errorf("ParseStrategy(%s) = %v, %v", s, got, err)
		}
	}
	if _, err := New("roundrobin", p, 1, nil); !errors.Is(err, ErrUnknownStrategy) {
		t.Errorf("New(roundrobin) error = %v, want ErrUnknownStrategy", err)
	}
}

// Every strategy hands out each usable index once, never a reserved
// anycast address, and then reports ErrPoolExhausted.
func TestExhaustionNeverReserved(t *testing.T) {
	pools := map[string]uint64{
		"2001:db8:1::/120": 255, // ::0 is the Subnet-Router anycast address
		"2001:db8:1:0:fdff:ffff:ffff:ff00-2001:db8:1:0:fe00::ff": 512 - 128, // RFC 2526 range inside
		"2001:db8:1::1-2001:db8:1::c":                            12,        // a size with small factors
	}
	for ps, usable := range pools {
		for _, s := range deploy.Allocators {
			t.Run(fmt.Sprintf("%s/%s", s, ps), func(t *testing.T) {
				p := mustPool(t, ps)
				used := newBitset(p.Size())
				a, err := New(s, p, 42, used.taken())
				if err != nil {
					t.Fatal(err)
				}
				for n := uint64(0); n < usable; n++ {
					i, err := a.Allocate(key(int(n)))
					if err != nil {
						t.Fatalf("allocation %d of %d: %v", n, usable, err)
					}
					if used.has(i) {
						t.Fatalf("index %d (%s) handed out twice", i, p.Addr(i))
					}
					if ReservedAddr(p.Addr(i)) {
						t.Fatalf("reserved anycast address %s handed out", p.Addr(i))
					}
					used.set(i)
				}
				if _, err := a.Allocate(key(-1)); !errors.Is(err, ErrPoolExhausted) {
					t.Fatalf("full pool: error = %v, want ErrPoolExhausted", err)
				}
			})
		}
	}
	for _, s := range deploy.Allocators {
		a, _ := New(s, Pool{}, 1, nil)
		if _, err := a.Allocate(key(1)); !errors.Is(err, ErrPoolExhausted) {
			t.Errorf("%s on the zero pool: %v, want ErrPoolExhausted", s, err)
		}
	}
}

// A key gets its home index whenever that index is free when it arrives,
// so two hash allocators that share nothing agree on every key that met no
// collision, whatever order the keys arrive in.
func TestHashDeterministicOrderIndependent(t *testing.T) {
	p := mustPool(t, "2001:db8:1::/116") // 4096 addresses
	const n = 1000
	run := func(order []int) (got []uint64, home []bool) {
		used := newBitset(p.Size())
		a := NewHash(p, used.taken())
		got, home = make([]uint64, n), make([]bool, n)
		for _, k := range order {
			h := a.Home(key(k))
			homeFree := !used.has(h) && !p.Reserved(h)
			i, err := a.Allocate(key(k))
			if err != nil {
				t.Fatal(err)
			}
			if homeFree && i != h {
				t.Fatalf("key %d: home %d was free, got %d", k, h, i)
			}
			used.set(i)
			got[k], home[k] = i, homeFree
		}
		return got, home
	}
	fwd, rev := make([]int, n), make([]int, n)
	for k := range fwd {
		fwd[k], rev[n-1-k] = k, k
	}
	a, aHome := run(fwd)
	b, bHome := run(rev)
	same := 0
	for k := 0; k < n; k++ {
		if aHome[k] && bHome[k] {
			if a[k] != b[k] {
				t.Fatalf("key %d: A %d, B %d with no collision on either", k, a[k], b[k])
			}
			same++
		}
	}
	if same < n*7/10 { // about 78% expected at this load
		t.Fatalf("only %d of %d keys met no collision on both servers: hash badly distributed", same, n)
	}
	// With room to spare nothing collides: every key agrees.
	big := mustPool(t, "2001:db8:1::/64")
	x, y := NewHash(big, nil), NewHash(big, nil)
	for k := 0; k < n; k++ {
		i, _ := x.Allocate(key(k))
		j, _ := y.Allocate(key(k))
		if i != j {
			t.Fatalf("key %d: %d vs %d", k, i, j)
		}
	}
}

func TestHashDependsOnDUIDAndIAID(t *testing.T) {
	k := key(7)
	k2 := Key{DUID: k.DUID, IAID: k.IAID + 1}
	k3 := Key{DUID: append([]byte{}, k.DUID...), IAID: k.IAID}
	k3.DUID[len(k3.DUID)-1] ^= 1
	if KeyHash(k) == KeyHash(k2) || KeyHash(k) == KeyHash(k3) {
		t.Fatal("hash ignores the IAID or the DUID")
	}
	// Pinned value: changing KeyHash renumbers every hash deployment.
	if got := KeyHash(Key{DUID: []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}, IAID: 1}); got != pinnedKeyHash {
		t.Fatalf("KeyHash changed: %#x, pinned %#x", got, uint64(pinnedKeyHash))
	}
}

const pinnedKeyHash = 0x32cd257341ed9354

func TestSequentialLowestFree(t *testing.T) {
	p := mustPool(t, "2001:db8:1::/120")
	used := newBitset(p.Size())
	a := NewSequential(p, used.taken())
	for want := uint64(1); want <= 10; want++ { // index 0 is the anycast address
		i, err := a.Allocate(Key{})
		if err != nil || i != want {
			t.Fatalf("allocate: %d, %v; want %d", i, err, want)
		}
		used.set(i)
	}
	for _, i := range []uint64{7, 3} {
		used.clear(i)
		a.Free(i)
	}
	for _, want := range []uint64{3, 7, 11} {
		i, _ := a.Allocate(Key{})
		if i != want {
			t.Fatalf("after frees: got %d, want %d", i, want)
		}
		used.set(i)
	}
	// A release the allocator was not told about is still found.
	used.clear(5)
	for _, want := range []uint64{12, 13} {
		used.set(want)
	}
	for i := a.hwm; i < p.Size(); i++ {
		used.set(i)
	}
	if i, _ := a.Allocate(Key{}); i != 5 {
		t.Fatalf("wrap-around found %d, want 5", i)
	}
}

// RFC 6853 §6: independent sequential servers give the same address to
// different clients.
func TestSequentialTwoServersCollide(t *testing.T) {
	p := mustPool(t, "2001:db8:1::/64")
	a, b := NewSequential(p, nil), NewSequential(p, nil)
	i, _ := a.Allocate(key(1))
	j, _ := b.Allocate(key(2))
	if i != j {
		t.Fatalf("sequential servers gave %s and %s; want the same address", p.Addr(i), p.Addr(j))
	}
}

// The cursor keeps sequential allocation O(1) amortised: 100k allocations
// with interleaved frees ask taken() about twice per allocation, not O(n).
func TestSequentialAmortisedProbes(t *testing.T) {
	p := mustPool(t, "2001:db8::/108")
	used := newBitset(p.Size())
	calls := 0
	a := NewSequential(p, func(i uint64) bool { calls++; return used.has(i) })
	const n = 100_000
	for k := 0; k < n; k++ {
		i, err := a.Allocate(key(k))
		if err != nil {
			t.Fatal(err)
		}
		used.set(i)
		if k%10 == 9 { // release an older one now and then
			old := uint64(k / 2)
			if used.has(old) {
				used.clear(old)
				a.Free(old)
			}
		}
	}
	if calls > 2*n {
		t.Fatalf("%d taken() calls for %d allocations: not amortised O(1)", calls, n)
	}
}

func TestRandomSeeded(t *testing.T) {
	p := mustPool(t, "2001:db8:1::/64")
	seq := func(seed uint64) []uint64 {
		a := NewRandom(p, seed, nil)
		out := make([]uint64, 8)
		for i := range out {
			out[i], _ = a.Allocate(Key{})
		}
		return out
	}
	s1, s2, s3 := seq(1), seq(1), seq(2)
	if fmt.Sprint(s1) != fmt.Sprint(s2) {
		t.Fatal("same seed, different sequences")
	}
	if fmt.Sprint(s1) == fmt.Sprint(s3) {
		t.Fatal("different seeds, same sequence")
	}
	// Uniform over a small pool: every one of 16 buckets is hit.
	q := mustPool(t, "2001:db8:1::1-2001:db8:1::10")
	hits := make([]int, q.Size())
	a := NewRandom(q, 9, nil)
	for k := 0; k < 1600; k++ {
		i, _ := a.Allocate(Key{})
		hits[i]++
	}
	for i, h := range hits {
		if h < 50 || h > 150 {
			t.Fatalf("index %d drawn %d times of 1600 over 16: not uniform (%v)", i, h, hits)
		}
	}
}

func TestPrefixPoolAllocation(t *testing.T) {
	pd, err := ParsePrefixPool("2001:db8:100::/52/56")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range deploy.Allocators {
		used := newBitset(pd.Size())
		a, _ := New(s, pd, 3, used.taken())
		for k := 0; k < 16; k++ {
			i, err := a.Allocate(key(k))
			if err != nil || used.has(i) {
				t.Fatalf("%s: allocation %d: %d %v", s, k, i, err)
			}
			used.set(i)
		}
		if _, err := a.Allocate(key(99)); !errors.Is(err, ErrPoolExhausted) {
			t.Fatalf("%s: 17th /56 of a /52: %v", s, err)
		}
	}
}

// benchAlloc measures one allocation with a pool of 1M addresses of which
// 100k are held: each iteration frees the oldest lease and allocates one
// for a new client (FIFO churn keeps 100k held).
func benchAlloc(b *testing.B, s deploy.Allocator) {
	p := mustPool(b, "2001:db8::/108") // 1,048,576 addresses
	used := newBitset(p.Size())
	a, err := New(s, p, 1, used.taken())
	if err != nil {
		b.Fatal(err)
	}
	const held = 100_000
	ring := make([]uint64, held)
	for k := 0; k < held; k++ {
		i, err := a.Allocate(key(k))
		if err != nil {
			b.Fatal(err)
		}
		used.set(i)
		ring[k] = i
	}
	keys := make([]Key, 4096)
	for k := range keys {
		keys[k] = key(held + k)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		slot := n % held
		used.clear(ring[slot])
		a.Free(ring[slot])
		k := keys[n%len(keys)]
		k.IAID = uint32(n)
		i, err := a.Allocate(k)
		if err != nil {
			b.Fatal(err)
		}
		used.set(i)
		ring[slot] = i
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "allocations/s")
}

func BenchmarkHash(b *testing.B)       { benchAlloc(b, deploy.AllocHash) }
func BenchmarkSequential(b *testing.B) { benchAlloc(b, deploy.AllocSequential) }
func BenchmarkRandom(b *testing.B)     { benchAlloc(b, deploy.AllocRandom) }
