package netaddr6

import (
	"fmt"
	"net/netip"
	"strings"
)

// The ip6.arpa names of RFC 3596 §2.5: an address is 32 nibbles, least
// significant first, each a label, under "ip6.arpa.".

const hexDigits = "0123456789abcdef"

// ReverseName returns the PTR owner name of a: 32 nibble labels and
// "ip6.arpa.", lower case ("1.0.0.0. ... .8.b.d.0.1.0.0.2.ip6.arpa.").
func ReverseName(a netip.Addr) string {
	b := a.As16()
	var sb strings.Builder
	sb.Grow(64 + len("ip6.arpa."))
	for i := 15; i >= 0; i-- {
		sb.WriteByte(hexDigits[b[i]&0xf])
		sb.WriteByte('.')
		sb.WriteByte(hexDigits[b[i]>>4])
		sb.WriteByte('.')
	}
	sb.WriteString("ip6.arpa.")
	return sb.String()
}

// ReverseZone returns the ip6.arpa zone of prefix p: one label per nibble
// of its network part. p's length must be a multiple of 4 (a /64 gives
// 16 labels) and p must have no host bits set.
func ReverseZone(p netip.Prefix) (string, error) {
	if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() {
		return "", fmt.Errorf("netaddr6: reverse zone of %s: not an IPv6 prefix", p)
	}
	if p.Bits()%4 != 0 {
		return "", fmt.Errorf("netaddr6: reverse zone of %s: the length is not a multiple of 4 (a nibble)", p)
	}
	if p != p.Masked() {
		return "", fmt.Errorf("netaddr6: reverse zone of %s: host bits set (%s)", p, p.Masked())
	}
	full := ReverseName(p.Addr())
	return full[2*(32-p.Bits()/4):], nil
}

// AddrOfReverse returns the address a full ip6.arpa name spells (either
// case, with or without the final dot); ok is false for any other name.
func AddrOfReverse(name string) (netip.Addr, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	rest, ok := strings.CutSuffix(name, ".ip6.arpa")
	if !ok || len(rest) != 63 {
		return netip.Addr{}, false
	}
	var b [16]byte
	for i := range 32 {
		c := rest[2*i]
		if i < 31 && rest[2*i+1] != '.' {
			return netip.Addr{}, false
		}
		v := strings.IndexByte(hexDigits, c)
		if v < 0 {
			return netip.Addr{}, false
		}
		// label i is nibble 31-i, counting from the most significant.
		n := 31 - i
		if n%2 == 0 {
			b[n/2] |= byte(v) << 4
		} else {
			b[n/2] |= byte(v)
		}
	}
	return netip.AddrFrom16(b), true
}
