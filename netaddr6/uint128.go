package netaddr6

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Uint128 is an IPv6 address as a 128-bit unsigned integer: the minimum of
// 128-bit arithmetic that pools and sub-prefixes need. Operations wrap
// modulo 2^128.
type Uint128 struct{ Hi, Lo uint64 }

// FromAddr returns a's 128 bits (an IPv4 address as its IPv4-mapped form;
// the zone is ignored).
func FromAddr(a netip.Addr) Uint128 {
	b := a.As16()
	return Uint128{Hi: binary.BigEndian.Uint64(b[:8]), Lo: binary.BigEndian.Uint64(b[8:])}
}

// Addr returns the IPv6 address with x's bits.
func (x Uint128) Addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.Hi)
	binary.BigEndian.PutUint64(b[8:], x.Lo)
	return netip.AddrFrom16(b)
}

// Or, And and Not are bitwise.
func (x Uint128) Or(y Uint128) Uint128  { return Uint128{x.Hi | y.Hi, x.Lo | y.Lo} }
func (x Uint128) And(y Uint128) Uint128 { return Uint128{x.Hi & y.Hi, x.Lo & y.Lo} }
func (x Uint128) Not() Uint128          { return Uint128{^x.Hi, ^x.Lo} }

// IsZero reports whether x is 0.
func (x Uint128) IsZero() bool { return x.Hi == 0 && x.Lo == 0 }

// OnesCount is the number of one bits in x.
func (x Uint128) OnesCount() int { return bits.OnesCount64(x.Hi) + bits.OnesCount64(x.Lo) }

// Less reports whether x < y.
func (x Uint128) Less(y Uint128) bool { return x.Hi < y.Hi || (x.Hi == y.Hi && x.Lo < y.Lo) }

// Add64 returns x + n.
func (x Uint128) Add64(n uint64) Uint128 {
	lo, c := bits.Add64(x.Lo, n, 0)
	return Uint128{x.Hi + c, lo}
}

// Add returns x + y.
func (x Uint128) Add(y Uint128) Uint128 {
	lo, c := bits.Add64(x.Lo, y.Lo, 0)
	hi, _ := bits.Add64(x.Hi, y.Hi, c)
	return Uint128{hi, lo}
}

// Sub returns x - y.
func (x Uint128) Sub(y Uint128) Uint128 {
	lo, b := bits.Sub64(x.Lo, y.Lo, 0)
	hi, _ := bits.Sub64(x.Hi, y.Hi, b)
	return Uint128{hi, lo}
}

// Shl returns x << n (0 when n >= 128).
func (x Uint128) Shl(n uint) Uint128 {
	switch {
	case n >= 128:
		return Uint128{}
	case n >= 64:
		return Uint128{Hi: x.Lo << (n - 64)}
	case n == 0:
		return x
	default:
		return Uint128{Hi: x.Hi<<n | x.Lo>>(64-n), Lo: x.Lo << n}
	}
}

// Shr returns x >> n (0 when n >= 128).
func (x Uint128) Shr(n uint) Uint128 {
	switch {
	case n >= 128:
		return Uint128{}
	case n >= 64:
		return Uint128{Lo: x.Hi >> (n - 64)}
	case n == 0:
		return x
	default:
		return Uint128{Hi: x.Hi >> n, Lo: x.Lo>>n | x.Hi<<(64-n)}
	}
}

// HostMask has the low 128-prefixBits bits set: the host part of a prefix
// that long.
func HostMask(prefixBits int) Uint128 {
	all := Uint128{^uint64(0), ^uint64(0)}
	if prefixBits <= 0 {
		return all
	}
	return all.Shl(uint(128 - prefixBits)).Not()
}
