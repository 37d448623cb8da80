package client

import (
	"math/bits"
	"math/rand/v2"
)

// source is where a client draws its random numbers: Config.Rand when
// given, or else a PCG kept inside the Client, which a population's
// clients use (Config.PCG) so that a draw follows no pointer to another
// cache line. Both give what math/rand/v2's Rand over the same PCG gives,
// draw for draw (a spec holds the methods below to it).
type source struct {
	pcg rand.PCG
	ext *rand.Rand
}

func (s *source) uint64() uint64 {
	if s.ext != nil {
		return s.ext.Uint64()
	}
	return s.pcg.Uint64()
}

// Uint32 is rand.Rand.Uint32.
func (s *source) Uint32() uint32 { return uint32(s.uint64() >> 32) }

// Float64 is rand.Rand.Float64.
func (s *source) Float64() float64 { return float64(s.uint64()<<11>>11) / (1 << 53) }

// Int64N is rand.Rand.Int64N on a 64-bit machine: Lemire's multiply and
// reject, and a mask for a power of two. n must be positive.
func (s *source) Int64N(n int64) int64 {
	if s.ext != nil || bits.UintSize == 32 {
		if s.ext == nil {
			return rand.New(&s.pcg).Int64N(n)
		}
		return s.ext.Int64N(n)
	}
	if n <= 0 {
		panic("client: Int64N of a non-positive bound")
	}
	u := uint64(n)
	if u&(u-1) == 0 {
		return int64(s.uint64() & (u - 1))
	}
	hi, lo := bits.Mul64(s.uint64(), u)
	if lo < u {
		thresh := -u % u
		for lo < thresh {
			hi, lo = bits.Mul64(s.uint64(), u)
		}
	}
	return int64(hi)
}
