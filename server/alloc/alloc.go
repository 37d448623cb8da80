package alloc

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"

	"d6lab/deploy"
)

// ErrPoolExhausted is returned by Allocate when every index of the Space
// is reserved or taken.
var ErrPoolExhausted = errors.New("alloc: pool exhausted")

// ErrUnknownStrategy is returned by New for an allocator name that is not
// one of deploy.Allocators.
var ErrUnknownStrategy = errors.New("alloc: unknown strategy")

// Key identifies what is being allocated for: a client's DUID (raw bytes,
// as carried in the Client Identifier option) and the IAID of its IA.
// Allocate does not retain DUID.
type Key struct {
	DUID []byte
	IAID uint32
}

// Allocator picks free indices of a Space.
//
// Allocate returns an index that is neither Reserved by the Space nor
// taken (per the taken function the Allocator was built with), or
// ErrPoolExhausted. It does not mark the index: the caller binds it (in its
// lease store), after which taken reports it.
//
// Free tells the allocator that index i was released, expired or is
// otherwise no longer bound. It is a hint for speed only: correctness rests
// on taken.
//
// Allocators are not safe for concurrent use.
type Allocator interface {
	Allocate(k Key) (uint64, error)
	Free(i uint64)
}

// New returns an allocator of strategy s over sp. taken reports whether an
// index is bound (or otherwise unavailable, e.g. declined); it must not call
// back into the allocator. seed feeds the random strategy and is ignored by
// the others.
func New(s deploy.Allocator, sp Space, seed uint64, taken func(i uint64) bool) (Allocator, error) {
	switch s {
	case deploy.AllocHash:
		return NewHash(sp, taken), nil
	case deploy.AllocSequential:
		return NewSequential(sp, taken), nil
	case deploy.AllocRandom:
		return NewRandom(sp, seed, taken), nil
	}
	return nil, fmt.Errorf("%w %q (valid: hash, sequential, random)", ErrUnknownStrategy, s)
}

func free(sp Space, taken func(uint64) bool, i uint64) bool {
	return !sp.Reserved(i) && (taken == nil || !taken(i))
}

// addMod returns (a+b) mod n for a, b < n without overflow.
func addMod(a, b, n uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 || s >= n {
		s -= n // wraps correctly when the addition carried
	}
	return s
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// HashAllocator is the deterministic strategy: the index for a key depends
// on the Space size and the key alone (FNV-1a over DUID||IAID, then a
// 64-bit finaliser), so independent servers configured with the same pool
// agree without talking. On a collision it probes h1, h1+h2, h1+2·h2, ...
// (mod Size) with h2 coprime to Size (double hashing): the sequence depends
// on the key only and visits every index once, so a free index is found if
// there is one.
type HashAllocator struct {
	sp    Space
	taken func(uint64) bool
}

// NewHash returns a hash allocator over sp.
func NewHash(sp Space, taken func(i uint64) bool) *HashAllocator {
	return &HashAllocator{sp: sp, taken: taken}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// KeyHash is the 64-bit FNV-1a hash of DUID || IAID (big-endian), passed
// through the SplitMix64 finaliser so that its low bits are well mixed.
// It is stable across versions: changing it would change every address a
// hash-allocating deployment hands out.
func KeyHash(k Key) uint64 {
	h := uint64(fnvOffset)
	for _, b := range k.DUID {
		h ^= uint64(b)
		h *= fnvPrime
	}
	for s := 24; s >= 0; s -= 8 {
		h ^= uint64(byte(k.IAID >> s))
		h *= fnvPrime
	}
	return mix64(h)
}

// mix64 is the SplitMix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Home returns the first index of k's probe sequence: the index k gets
// when nothing collides.
func (a *HashAllocator) Home(k Key) uint64 {
	n := a.sp.Size()
	if n == 0 {
		return 0
	}
	return KeyHash(k) % n
}

// Allocate implements Allocator.
func (a *HashAllocator) Allocate(k Key) (uint64, error) {
	n := a.sp.Size()
	if n == 0 {
		return 0, ErrPoolExhausted
	}
	h := KeyHash(k)
	i := h % n
	if free(a.sp, a.taken, i) {
		return i, nil
	}
	if n == 1 {
		return 0, ErrPoolExhausted
	}
	step := 1 + mix64(h^0x9e3779b97f4a7c15)%(n-1) // in [1, n-1]
	for gcd(step, n) != 1 {
		step++
		if step == n {
			step = 1
		}
	}
	for probes := uint64(1); probes < n; probes++ {
		i = addMod(i, step, n)
		if free(a.sp, a.taken, i) {
			return i, nil
		}
	}
	return 0, ErrPoolExhausted
}

// Free implements Allocator; the hash strategy keeps no state.
func (a *HashAllocator) Free(uint64) {}

// SequentialAllocator hands out the lowest free index. It keeps a
// high-water mark below which every index has been handed out at least
// once, and a min-heap of the indices below it that were freed since; an
// allocation pops the heap or advances the mark, O(log f) instead of a scan
// from the start. If an index below the mark was freed without a Free call,
// a wrap-around scan still finds it once the mark reaches the end.
type SequentialAllocator struct {
	sp    Space
	taken func(uint64) bool
	hwm   uint64   // every index below hwm was allocated once (or is reserved)
	freed []uint64 // min-heap of freed indices below hwm (may hold stale entries)
}

// NewSequential returns a sequential allocator over sp.
func NewSequential(sp Space, taken func(i uint64) bool) *SequentialAllocator {
	return &SequentialAllocator{sp: sp, taken: taken}
}

// Allocate implements Allocator.
func (a *SequentialAllocator) Allocate(Key) (uint64, error) {
	for len(a.freed) > 0 {
		i := a.pop()
		if i < a.sp.Size() && free(a.sp, a.taken, i) {
			return i, nil
		}
	}
	n := a.sp.Size()
	for ; a.hwm < n; a.hwm++ {
		if free(a.sp, a.taken, a.hwm) {
			a.hwm++
			return a.hwm - 1, nil
		}
	}
	for i := uint64(0); i < n; i++ { // frees we were not told about
		if free(a.sp, a.taken, i) {
			return i, nil
		}
	}
	return 0, ErrPoolExhausted
}

// Free implements Allocator: i becomes the next candidate if it is the
// lowest freed index.
func (a *SequentialAllocator) Free(i uint64) {
	if i >= a.hwm {
		return
	}
	a.freed = append(a.freed, i)
	for c := len(a.freed) - 1; c > 0; { // sift up
		p := (c - 1) / 2
		if a.freed[p] <= a.freed[c] {
			break
		}
		a.freed[p], a.freed[c] = a.freed[c], a.freed[p]
		c = p
	}
}

func (a *SequentialAllocator) pop() uint64 {
	h := a.freed
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for p := 0; ; { // sift down
		l, m := 2*p+1, p
		if l < len(h) && h[l] < h[m] {
			m = l
		}
		if r := l + 1; r < len(h) && h[r] < h[m] {
			m = r
		}
		if m == p {
			break
		}
		h[p], h[m] = h[m], h[p]
		p = m
	}
	a.freed = h
	return top
}

// RandomAllocator draws indices uniformly from a seeded PCG source. After
// maxDraws collisions it probes linearly from the last draw, so that a
// nearly full pool is still served and a full one reports exhaustion.
type RandomAllocator struct {
	sp    Space
	taken func(uint64) bool
	rng   *rand.Rand
}

const maxDraws = 16

// NewRandom returns a random allocator over sp seeded with seed.
func NewRandom(sp Space, seed uint64, taken func(i uint64) bool) *RandomAllocator {
	return &RandomAllocator{sp: sp, taken: taken, rng: rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))}
}

// Allocate implements Allocator.
func (a *RandomAllocator) Allocate(Key) (uint64, error) {
	n := a.sp.Size()
	if n == 0 {
		return 0, ErrPoolExhausted
	}
	var i uint64
	for d := 0; d < maxDraws; d++ {
		i = a.rng.Uint64N(n)
		if free(a.sp, a.taken, i) {
			return i, nil
		}
	}
	for probes := uint64(1); probes < n; probes++ {
		i = addMod(i, 1, n)
		if free(a.sp, a.taken, i) {
			return i, nil
		}
	}
	return 0, ErrPoolExhausted
}

// Free implements Allocator; the random strategy keeps no per-index state.
func (a *RandomAllocator) Free(uint64) {}
