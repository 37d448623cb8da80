package netaddr6

import "net/netip"

// LinkLocal returns the link-local address of a MAC: fe80::/64 with the
// modified EUI-64 interface identifier (RFC 4291 §2.5.1, Appendix A: the
// universal/local bit inverted, ff:fe inserted in the middle).
func LinkLocal(mac [6]byte) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0xfe, 0x80
	b[8] = mac[0] ^ 0x02
	b[9], b[10] = mac[1], mac[2]
	b[11], b[12] = 0xff, 0xfe
	b[13], b[14], b[15] = mac[3], mac[4], mac[5]
	return netip.AddrFrom16(b)
}
