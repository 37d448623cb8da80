package sim

import "net/netip"

// ServicePrefix is the /64 of the lab's own services beside the DHCPv6
// servers (RFC 4193 space, inside fd00::/8): the DNS server of a
// scenario's dns: block, the Leasequery prober, and one address per
// server to reach them from. The lab puts it on the network the servers
// are on (the client link, or the server network of a relayed scenario);
// no client is configured with it, and no pool lies in it.
var ServicePrefix = netip.MustParsePrefix("fd00:d6:53::/64")

// DNSServerAddr is the DNS server's address in ServicePrefix.
func DNSServerAddr() netip.Addr { return netip.MustParseAddr("fd00:d6:53::53") }

// ProberAddr is the Leasequery prober's address in ServicePrefix.
func ProberAddr() netip.Addr { return netip.MustParseAddr("fd00:d6:53::5") }

// ServiceAddr is server i's (0-based) address in ServicePrefix, the source
// of its DNS updates and where the prober asks it: fd00:d6:53::1:0:N with
// N = i+1.
func ServiceAddr(i int) netip.Addr {
	b := ServicePrefix.Addr().As16()
	b[11] = 1
	n := i + 1
	b[14], b[15] = byte(n>>8), byte(n)
	return netip.AddrFrom16(b)
}

// ServerOfServiceAddr maps an address made by ServiceAddr back to the
// server's index; ok is false for any other address.
func ServerOfServiceAddr(a netip.Addr) (int, bool) {
	if !ServicePrefix.Contains(a) {
		return 0, false
	}
	b := a.As16()
	if b[8] != 0 || b[9] != 0 || b[10] != 0 || b[11] != 1 || b[12] != 0 || b[13] != 0 {
		return 0, false
	}
	n := int(b[14])<<8 | int(b[15])
	if n == 0 {
		return 0, false
	}
	return n - 1, true
}
