package scenarios

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
)

// Pool is an inclusive range of IPv6 addresses [First, Last] that a server
// hands out. A pool written as a prefix ("2001:db8:1:1::/65") and a derived
// pool are ranges too; Prefix tells whether a pool is exactly one prefix.
//
// The pool is the whole range: allocators that want to skip the
// Subnet-Router anycast address (the all-zeros interface identifier,
// RFC 4291 §2.6.1) or the reserved anycast identifiers (RFC 2526) do so
// themselves.
type Pool struct {
	First, Last netip.Addr
}

// PoolOf returns the pool that covers exactly the (masked) prefix p.
func PoolOf(p netip.Prefix) Pool {
	p = p.Masked()
	first := fromAddr(p.Addr())
	return Pool{First: p.Addr(), Last: first.or(hostMask(p.Bits())).addr()}
}

// ParsePool parses a pool written as a prefix ("2001:db8::/65") or as an
// inclusive range "first-last" ("2001:db8::100-2001:db8::1ff"). A prefix
// must have no host bits set; a range must be IPv6 with first <= last.
func ParsePool(s string) (Pool, error) {
	s = strings.TrimSpace(s)
	if first, last, ok := strings.Cut(s, "-"); ok {
		a, err := parseAddr6(strings.TrimSpace(first))
		if err != nil {
			return Pool{}, err
		}
		b, err := parseAddr6(strings.TrimSpace(last))
		if err != nil {
			return Pool{}, err
		}
		if b.Less(a) {
			return Pool{}, fmt.Errorf("range %s-%s ends before it starts", a, b)
		}
		return Pool{First: a, Last: b}, nil
	}
	p, err := parsePrefix6(s)
	if err != nil {
		return Pool{}, fmt.Errorf("%w (or write a range \"first-last\")", err)
	}
	return PoolOf(p), nil
}

// IsValid reports whether the pool is a non-empty IPv6 range.
func (p Pool) IsValid() bool {
	return p.First.Is6() && p.Last.Is6() && !p.First.Is4In6() && !p.Last.Is4In6() &&
		p.First.Zone() == "" && p.Last.Zone() == "" && !p.Last.Less(p.First)
}

// Contains reports whether a lies in the pool.
func (p Pool) Contains(a netip.Addr) bool {
	return p.IsValid() && a.Is6() && !a.Less(p.First) && !p.Last.Less(a)
}

// Overlaps reports whether the two pools share at least one address.
func (p Pool) Overlaps(q Pool) bool {
	return p.IsValid() && q.IsValid() && !p.Last.Less(q.First) && !q.Last.Less(p.First)
}

// Within reports whether the whole pool lies inside prefix pfx.
func (p Pool) Within(pfx netip.Prefix) bool {
	return p.IsValid() && pfx.IsValid() && pfx.Contains(p.First) && pfx.Contains(p.Last)
}

// Prefix returns the prefix the pool covers exactly, if it is one.
func (p Pool) Prefix() (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	first := fromAddr(p.First)
	span := fromAddr(p.Last).sub(first) // size - 1
	if !span.and(span.add1()).isZero() || !first.and(span).isZero() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(p.First, 128-span.ones()), true
}

// Size returns the number of addresses in the pool, saturated at 2^64-1.
func (p Pool) Size() uint64 {
	if !p.IsValid() {
		return 0
	}
	span := fromAddr(p.Last).sub(fromAddr(p.First))
	if span.hi != 0 || span.lo == ^uint64(0) {
		return ^uint64(0)
	}
	return span.lo + 1
}

// String writes the pool as a prefix when it is exactly one, else as
// "first-last".
func (p Pool) String() string {
	if !p.IsValid() {
		return "invalid pool"
	}
	if pfx, ok := p.Prefix(); ok {
		return pfx.String()
	}
	return p.First.String() + "-" + p.Last.String()
}

// MarshalText writes String's form, so pools read well in JSON reports.
func (p Pool) MarshalText() ([]byte, error) {
	if !p.IsValid() {
		return []byte{}, nil
	}
	return []byte(p.String()), nil
}

// UnmarshalText parses ParsePool's forms; empty text is the zero Pool.
func (p *Pool) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = Pool{}
		return nil
	}
	q, err := ParsePool(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// slice returns the i-th of 2^k equal, disjoint sub-prefixes of p
// (p.Bits()+k long). It is how the split model cuts the link /64.
func slice(p netip.Prefix, k, i int) netip.Prefix {
	bitsLen := p.Bits() + k
	base := fromAddr(p.Masked().Addr())
	off := u128{lo: uint64(i)}.shl(uint(128 - bitsLen))
	return netip.PrefixFrom(base.or(off).addr(), bitsLen)
}

// sliceBits is the number of extra prefix bits needed to cut a prefix into at
// least n equal slices: the smallest k with 2^k >= n.
func sliceBits(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

func parseAddr6(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv6 address", short(s))
	}
	if !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not a plain IPv6 address", short(s))
	}
	return a, nil
}

func parsePrefix6(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv6 prefix like 2001:db8:1:1::/64", short(s))
	}
	if !p.Addr().Is6() || p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv6 prefix", short(s))
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set (did you mean %s?)", short(s), p.Masked())
	}
	return p, nil
}

// u128 is the minimum of 128-bit arithmetic the pools need.
type u128 struct{ hi, lo uint64 }

func fromAddr(a netip.Addr) u128 {
	b := a.As16()
	return u128{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
}

func (x u128) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return netip.AddrFrom16(b)
}

func (x u128) or(y u128) u128  { return u128{x.hi | y.hi, x.lo | y.lo} }
func (x u128) and(y u128) u128 { return u128{x.hi & y.hi, x.lo & y.lo} }
func (x u128) isZero() bool    { return x.hi == 0 && x.lo == 0 }
func (x u128) ones() int       { return bits.OnesCount64(x.hi) + bits.OnesCount64(x.lo) }

func (x u128) add1() u128 {
	lo, c := bits.Add64(x.lo, 1, 0)
	return u128{x.hi + c, lo}
}

func (x u128) sub(y u128) u128 {
	lo, b := bits.Sub64(x.lo, y.lo, 0)
	hi, _ := bits.Sub64(x.hi, y.hi, b)
	return u128{hi, lo}
}

func (x u128) shl(n uint) u128 {
	switch {
	case n >= 128:
		return u128{}
	case n >= 64:
		return u128{hi: x.lo << (n - 64)}
	case n == 0:
		return x
	default:
		return u128{hi: x.hi<<n | x.lo>>(64-n), lo: x.lo << n}
	}
}

// hostMask has the low 128-prefixBits bits set: the host part of a prefix.
func hostMask(prefixBits int) u128 {
	all := u128{^uint64(0), ^uint64(0)}
	if prefixBits <= 0 {
		return all
	}
	return all.shl(uint(128 - prefixBits)).not()
}

func (x u128) not() u128 { return u128{^x.hi, ^x.lo} }
