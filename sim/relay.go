package sim

import (
	"encoding/binary"
	"net/netip"

	"d6lab/clientsim/population"
	"d6lab/scenarios"
	"d6lab/transport"
)

// Addresses of a relayed scenario (`relay: own | dhcrelay`), the same in
// every engine:
//
//   - the server network is fd00:d6:5e::/64 (fd00:d6:5f::/64 should the
//     scenario's link be that one);
//   - server i (0-based) is ::101+i on it, the relay ::2;
//   - on the client link the relay has the link's /64 with interface
//     identifier fdff:ffff:ffff:fffe, one of the RFC 2526 reserved anycast
//     identifiers no pool ever leases (alloc.ReservedIID), so it cannot
//     collide with a client's address. It is the Relay-forward's
//     link-address (RFC 9915 §19.1.1).

// ServerNet is the server network's /64 for a scenario whose link is link.
func ServerNet(link netip.Prefix) netip.Prefix {
	p := netip.MustParsePrefix("fd00:d6:5e::/64")
	if p == link.Masked() {
		p = netip.MustParsePrefix("fd00:d6:5f::/64")
	}
	return p
}

// WithIID is p's /64 with interface identifier iid, as a /64 address.
func WithIID(p netip.Prefix, iid uint64) netip.Prefix {
	b := p.Masked().Addr().As16()
	binary.BigEndian.PutUint64(b[8:], iid)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}

// RelayLinkAddr is the relay's address on the client link.
func RelayLinkAddr(link netip.Prefix) netip.Addr { return WithIID(link, 0xfdff_ffff_ffff_fffe).Addr() }

// RelayServerAddr is the relay's address on the server network.
func RelayServerAddr(link netip.Prefix) netip.Addr { return WithIID(ServerNet(link), 2).Addr() }

// ServerAddr is server i's (0-based) address on the server network.
func ServerAddr(link netip.Prefix, i int) netip.Addr {
	return WithIID(ServerNet(link), 0x101+uint64(i)).Addr()
}

// OwnRelay is the population's relay configuration for `relay: own`: every
// server by unicast (RFC 6853 §5.2), the relay's link-address, and iid as
// Interface-ID.
func OwnRelay(sc *scenarios.Scenario, iid string) *population.RelayConfig {
	r := &population.RelayConfig{LinkAddr: RelayLinkAddr(sc.Link), InterfaceID: []byte(iid)}
	for i := range sc.Servers {
		r.Servers = append(r.Servers, netip.AddrPortFrom(ServerAddr(sc.Link, i), transport.ServerPort))
	}
	return r
}
