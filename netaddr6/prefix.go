package netaddr6

import (
	"math/bits"
	"net/netip"
)

// Subprefix returns the i-th prefix of length bits inside p (counting from
// p's first address; bits >= p.Bits()). It is how a link's /64 is sliced
// between servers and how a delegation pool hands out prefixes. i is taken
// modulo the number of such prefixes.
func Subprefix(p netip.Prefix, bits int, i uint64) netip.Prefix {
	base := FromAddr(p.Masked().Addr())
	off := Uint128{Lo: i}.Shl(uint(128 - bits)).And(HostMask(p.Bits()))
	return netip.PrefixFrom(base.Or(off).Addr(), bits)
}

// SubprefixIndex is Subprefix's inverse: the index of q among the
// prefixes of q's length inside p, if q lies inside p and is at least as
// long. The index is the low 64 bits; ok is false when it does not fit.
func SubprefixIndex(p, q netip.Prefix) (i uint64, ok bool) {
	if !p.IsValid() || !q.IsValid() || q.Bits() < p.Bits() || !p.Contains(q.Addr()) {
		return 0, false
	}
	d := FromAddr(q.Masked().Addr()).Sub(FromAddr(p.Masked().Addr())).Shr(uint(128 - q.Bits()))
	return d.Lo, d.Hi == 0
}

// SliceBits is the number of extra prefix bits needed to cut a prefix into
// at least n equal slices: the smallest k with 2^k >= n.
func SliceBits(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}
