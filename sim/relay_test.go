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
