package check

import (
	"bytes"
	"cmp"
	"net/netip"
)

// packedPrefix is a netip.Prefix in 18 bytes without the pointer its Addr
// carries (the zone's handle, which a prefix never uses): an interval
// holds one, and duplicates sorts them. prefix gives the same prefix
// back; two are equal when their prefixes are; compare orders them as
// netip orders addresses (Addr.Compare: none, IPv4, IPv6), then by
// length.
type packedPrefix struct {
	addr [16]byte // as As16 gives it
	fam  uint8    // 0: the zero Addr, 1: IPv4, 2: IPv6
	bits uint8    // Bits + 1: 0 when invalid
}

func packPrefix(p netip.Prefix) packedPrefix {
	pp := packedPrefix{bits: uint8(p.Bits() + 1)}
	switch a := p.Addr(); {
	case a.Is4():
		pp.addr, pp.fam = a.As16(), 1
	case a.Is6():
		pp.addr, pp.fam = a.As16(), 2
	}
	return pp
}

func (pp *packedPrefix) prefix() netip.Prefix {
	var a netip.Addr
	switch pp.fam {
	case 1:
		a = netip.AddrFrom4([4]byte(pp.addr[12:]))
	case 2:
		a = netip.AddrFrom16(pp.addr)
	}
	return netip.PrefixFrom(a, pp.nbits())
}

// nbits is the prefix's Bits.
func (pp *packedPrefix) nbits() int { return int(pp.bits) - 1 }

// compare orders pp and q: netip.Addr.Compare's order of their
// addresses, then their lengths.
func (pp *packedPrefix) compare(q *packedPrefix) int {
	if c := cmp.Compare(pp.fam, q.fam); c != 0 {
		return c
	}
	if c := bytes.Compare(pp.addr[:], q.addr[:]); c != 0 {
		return c
	}
	return int(pp.bits) - int(q.bits)
}
