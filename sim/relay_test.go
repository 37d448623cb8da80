package sim

import (
	"net/netip"
	"testing"

	"d6lab/server/alloc"
)

func TestRelayAddresses(t *testing.T) {
	for _, l := range []string{"2001:db8:1:1::/64", "fd00:d6:5e::/64"} {
		link := netip.MustParsePrefix(l)
		net := ServerNet(link)
		if net == link || net.Bits() != 64 {
			t.Errorf("link %v: server network %v must be another /64", link, net)
		}
		ra := RelayLinkAddr(link)
		if !link.Contains(ra) || !alloc.ReservedAddr(ra) {
			t.Errorf("link %v: relay link-address %v must be in the link and never leased", link, ra)
		}
		seen := map[netip.Addr]bool{RelayServerAddr(link): true}
		for i := range 8 {
			a := ServerAddr(link, i)
			if !net.Contains(a) || seen[a] {
				t.Errorf("link %v: server %d address %v outside %v or taken", link, i, a, net)
			}
			seen[a] = true
		}
	}
}

func TestServiceAddrs(t *testing.T) {
	for i := range 300 {
		a := ServiceAddr(i)
		if !ServicePrefix.Contains(a) || a == DNSServerAddr() || a == ProberAddr() {
			t.Fatalf("ServiceAddr(%d) = %s: outside %s or taken", i, a, ServicePrefix)
		}
		if j, ok := ServerOfServiceAddr(a); !ok || j != i {
			t.Fatalf("ServerOfServiceAddr(%s) = %d, %v; want %d", a, j, ok, i)
		}
	}
	for _, a := range []netip.Addr{DNSServerAddr(), ProberAddr(), netip.MustParseAddr("2001:db8::1:0:1")} {
		if _, ok := ServerOfServiceAddr(a); ok {
			t.Fatalf("ServerOfServiceAddr(%s) names a server", a)
		}
	}
}
