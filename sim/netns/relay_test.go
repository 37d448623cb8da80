package netns_test

import (
	"net"
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/netns"
)

var (
	serverNet = netip.MustParsePrefix("fd00:d6:ff::/64")
	relayDown = netip.MustParsePrefix("2001:db8:1::fffe/64")
	relayUp   = netip.MustParsePrefix("fd00:d6:ff::2/64")
	up1       = netip.MustParsePrefix("fd00:d6:ff::11/64")
	up2       = netip.MustParsePrefix("fd00:d6:ff::12/64")
)

// relaySpec is a client link with the clients and a relay, and a server
// network with the relay and two servers.
func relaySpec(prefix string) netns.Spec {
	return netns.Spec{
		Prefix:    prefix,
		Link:      netip.MustParsePrefix("2001:db8:1::/64"),
		Clients:   netns.NodeSpec{Name: "clients"},
		ServerNet: serverNet,
		Upstream: []netns.NodeSpec{
			{Name: "srv1", Addrs: []netip.Prefix{up1}},
			{Name: "srv2", Addrs: []netip.Prefix{up2}},
		},
		Relay: &netns.RelaySpec{Name: "relay", Down: []netip.Prefix{relayDown}, Up: []netip.Prefix{relayUp}},
	}
}

var _ = Describe("Spec with a server network and a relay", func() {
	It("is valid", func() {
		Expect(relaySpec("d6ltest").Validate()).To(Succeed())
	})
	DescribeTable("refuses",
		func(mod func(*netns.Spec)) {
			s := relaySpec("d6ltest")
			mod(&s)
			Expect(s.Validate()).To(MatchError(netns.ErrBadSpec))
		},
		Entry("a missing server network", func(s *netns.Spec) { s.ServerNet = netip.Prefix{} }),
		Entry("a server network outside the lab ranges", func(s *netns.Spec) { s.ServerNet = netip.MustParsePrefix("2001:4860::/64") }),
		Entry("a server network that is the client link", func(s *netns.Spec) { s.ServerNet = s.Link }),
		Entry("a relay address outside the lab ranges", func(s *netns.Spec) {
			s.Relay.Up = []netip.Prefix{netip.MustParsePrefix("2001:4860::2/64")}
		}),
		Entry("a relay named like a server", func(s *netns.Spec) { s.Relay.Name = "srv1" }),
		Entry("an address on the relay and a server", func(s *netns.Spec) { s.Relay.Up = []netip.Prefix{up1} }),
		Entry("a bad upstream node name", func(s *netns.Spec) { s.Upstream[0].Name = "link" }),
	)
})

var _ = Describe("Lab with a relay", Label("netns"), func() {
	BeforeEach(requireRoot)

	It("keeps the client link and the server network apart, the relay on both", func() {
		prefix := netns.NewPrefix()
		lab := newLab(relaySpec(prefix))
		Expect(lab.Nodes()).To(Equal([]string{"clients", "srv1", "srv2", "relay"}))
		Expect(lab.UpIfName("relay")).NotTo(BeEmpty())
		Expect(lab.UpIfName("relay")).NotTo(Equal(lab.IfName("relay")))
		Expect(lab.UpIfName("srv1")).To(BeEmpty())
		Expect(lab.UpAddrs("relay")).To(Equal([]netip.Prefix{relayUp}))
		Expect(lab.Addrs("relay")).To(Equal([]netip.Prefix{relayDown}))
		Expect(hostLinks(prefix)).To(BeEmpty(), "nothing in the host namespace")

		// Client multicast reaches the relay's client-link interface, not
		// the servers behind it.
		relay := listen(lab, "relay", 547)
		s1 := listen(lab, "srv1", 547)
		s2 := listen(lab, "srv2", 547)
		got := multicast(lab, map[string]*net.UDPConn{"relay": relay, "srv1": s1, "srv2": s2})
		Expect(got).To(Equal(map[string]bool{"relay": true, "srv1": false, "srv2": false}))

		// The relay unicasts to each server's global address from its own,
		// and a server answers it.
		for name, c := range map[string]*net.UDPConn{"srv1": s1, "srv2": s2} {
			dst := up1
			if name == "srv2" {
				dst = up2
			}
			tok := token()
			send(lab, "relay", netip.AddrPortFrom(dst.Addr(), 547), tok)
			src, ok := receive(c, tok, time.Second)
			Expect(ok).To(BeTrue(), "%s did not get the relay's unicast", name)
			Expect(src.Addr()).To(Equal(relayUp.Addr()))
			back := token()
			send(lab, name, netip.AddrPortFrom(relayUp.Addr(), 547), back)
			_, ok = receive(relay, back, time.Second)
			Expect(ok).To(BeTrue(), "the relay did not get %s's answer", name)
		}

		// The clients cannot reach the server network directly.
		tok := token()
		Expect(lab.Do("clients", func() error {
			c, err := net.ListenUDP("udp6", nil)
			if err != nil {
				return err
			}
			defer c.Close()
			_, _ = c.WriteToUDPAddrPort([]byte(tok), netip.AddrPortFrom(up1.Addr(), 547))
			return nil
		})).To(Succeed())
		_, ok := receive(s1, tok, 300*time.Millisecond)
		Expect(ok).To(BeFalse())

		// A cut on a server-network node isolates it.
		Expect(lab.Cut("srv1")).To(Succeed())
		tok = token()
		send(lab, "relay", netip.AddrPortFrom(up1.Addr(), 547), tok)
		_, ok = receive(s1, tok, 300*time.Millisecond)
		Expect(ok).To(BeFalse())
		Expect(lab.Heal("srv1")).To(Succeed())
	})

	It("tears down both bridges and every namespace", func() {
		prefix := netns.NewPrefix()
		lab, err := netns.Create(relaySpec(prefix))
		Expect(err).NotTo(HaveOccurred())
		Expect(namespacesWith(prefix)).To(HaveLen(5)) // link, clients, srv1, srv2, relay
		Expect(lab.Teardown()).To(Succeed())
		Expect(namespacesWith(prefix)).To(BeEmpty())
		Expect(hostLinks(prefix)).To(BeEmpty())
	})
})
