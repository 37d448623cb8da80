package population_test

import (
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/population"
	"d6lab/server"
	"d6lab/server/alloc"
)

// relayNet is a population in relay mode wired in memory to real server
// cores (server.New + Handle): each Relay-forward goes to the server its
// destination names, unicast from the relay's address, and each answer
// comes straight back.
type relayNet struct {
	p       *population.Population
	servers map[netip.AddrPort]*server.Server
	now     time.Time
	relay   netip.AddrPort         // the relay's source address, port 547
	forw    map[netip.AddrPort]int // Relay-forwards each server received
	replies []*dhcpv6.RelayMessage
}

func realServer(name string, prefix, pool string, pref uint8, duid byte) *server.Server {
	cfg := server.DefaultConfig()
	cfg.Name = name
	cfg.Prefix = netip.MustParsePrefix(prefix)
	p := netip.MustParsePrefix(pool)
	var err error
	cfg.Pool, err = alloc.NewPool(p.Addr(), lastOf(p))
	Expect(err).NotTo(HaveOccurred())
	cfg.Preference = pref
	cfg.DUID = []byte{0, 3, 0, 1, 2, 0xd6, 0x1a, 0xb0, 0, duid}
	s, err := server.New(cfg, nil)
	Expect(err).NotTo(HaveOccurred())
	return s
}

func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom16(b)
}

var relayLink = netip.MustParseAddr("2001:db8:1:1::fffe")

func newRelayNet(n int, servers map[netip.AddrPort]*server.Server, order []netip.AddrPort) *relayNet {
	p, err := population.New(population.Config{
		Count: n, Seed: 7, IANA: true, Ramp: time.Second,
		Relay: &population.RelayConfig{Servers: order, LinkAddr: relayLink, InterfaceID: []byte("clients0")},
	})
	Expect(err).NotTo(HaveOccurred())
	return &relayNet{
		p: p, servers: servers, now: t0,
		relay: netip.MustParseAddrPort("[2001:db8:ffff::2]:547"),
		forw:  map[netip.AddrPort]int{},
	}
}

// run steps until done or the population has no timer left.
func (r *relayNet) run(done func() bool) bool {
	r.p.Start(r.now)
	var out []population.Outgoing
	for range 100_000 {
		for {
			out = r.p.Outbox(out[:0])
			if len(out) == 0 {
				break
			}
			for _, o := range out {
				s, ok := r.servers[o.Dst]
				Expect(ok).To(BeTrue(), "sent to %v, not a server", o.Dst)
				m, err := dhcpv6.FromBytes(o.Payload)
				Expect(err).NotTo(HaveOccurred())
				fw, ok := m.(*dhcpv6.RelayMessage)
				Expect(ok).To(BeTrue(), "relay mode sent a %T", m)
				Expect(fw.MessageType).To(Equal(dhcpv6.MessageTypeRelayForward))
				r.forw[o.Dst]++
				reply, dst, ok := s.Handle(r.now, o.Payload, r.relay, false)
				if !ok {
					continue
				}
				Expect(dst).To(Equal(r.relay), "Relay-reply goes to the relay's port 547 (RFC 9915 §7.2)")
				rm, err := dhcpv6.FromBytes(reply)
				Expect(err).NotTo(HaveOccurred())
				r.replies = append(r.replies, rm.(*dhcpv6.RelayMessage))
				r.p.Deliver(r.now, reply, netip.AddrPortFrom(o.Dst.Addr(), 547))
			}
		}
		if done() {
			return true
		}
		nt, ok := r.p.NextTimer()
		if !ok {
			return done()
		}
		r.now = nt
		r.p.Advance(r.now)
	}
	return done()
}

func (r *relayNet) bound() int { return r.p.Stats().States["bound"] }

var _ = Describe("Relay mode (RFC 9915 §19, RFC 6853 §5.2)", func() {
	s1 := netip.MustParseAddrPort("[2001:db8:ffff::11]:547")
	s2 := netip.MustParseAddrPort("[2001:db8:ffff::12]:547")

	It("refuses a relay without servers or with a non-global link-address", func() {
		_, err := population.New(population.Config{Count: 1, Relay: &population.RelayConfig{LinkAddr: relayLink}})
		Expect(err).To(MatchError(population.ErrRelayServers))
		_, err = population.New(population.Config{Count: 1, Relay: &population.RelayConfig{
			Servers: []netip.AddrPort{s1}, LinkAddr: netip.MustParseAddr("fe80::1")}})
		Expect(err).To(MatchError(population.ErrRelayLinkAddr))
	})

	It("derives peer-addresses as EUI-64 link-locals of the clients' MACs", func() {
		a := population.PeerAddr(7, 3)
		Expect(a.IsLinkLocalUnicast()).To(BeTrue())
		m := population.MAC(7, 3)
		b := a.As16()
		Expect(b[8]).To(Equal(m[0] ^ 2))
		Expect(b[11:13]).To(Equal([]byte{0xff, 0xfe}))
		Expect(b[13:]).To(Equal(m[3:]))
		Expect(population.PeerAddr(7, 4)).NotTo(Equal(a))
	})

	It("binds a population through the relay, each Relay-reply echoing the Interface-ID", func() {
		const n = 200
		srv := realServer("s1", "2001:db8:1:1::/64", "2001:db8:1:1::/64", 255, 1)
		r := newRelayNet(n, map[netip.AddrPort]*server.Server{s1: srv}, []netip.AddrPort{s1})
		Expect(r.run(func() bool { return r.bound() == n })).To(BeTrue(), "%d of %d bound", r.bound(), n)
		Expect(r.p.Stats().Dropped).To(BeEmpty())
		Expect(r.replies).To(HaveLen(2 * n)) // Advertise and Reply
		for _, rr := range r.replies {
			Expect(rr.MessageType).To(Equal(dhcpv6.MessageTypeRelayReply))
			Expect(rr.HopCount).To(BeZero())
			Expect(rr.LinkAddr.String()).To(Equal(relayLink.String()))
			Expect(rr.Options.InterfaceID()).To(Equal([]byte("clients0")))
			Expect(netip.MustParseAddr(rr.PeerAddr.String()).IsLinkLocalUnicast()).To(BeTrue())
		}
		seen := map[netip.Prefix]bool{}
		for i := range n {
			ls := r.p.Client(i).Leases()
			Expect(ls).To(HaveLen(1))
			Expect(seen[ls[0].Prefix]).To(BeFalse())
			seen[ls[0].Prefix] = true
		}
	})

	It("sends every Relay-forward to every server, and Preference still decides", func() {
		const n = 100
		// s1 Preference 0, s2 Preference 255 with its own /64 (the unique
		// model): the link-address is in s1's /64, and the builtin server,
		// which serves one link, grants from its own prefix regardless.
		a := realServer("s1", "2001:db8:1:1::/64", "2001:db8:1:1::/64", 0, 1)
		b := realServer("s2", "2001:db8:1:2::/64", "2001:db8:1:2::/64", 255, 2)
		r := newRelayNet(n, map[netip.AddrPort]*server.Server{s1: a, s2: b}, []netip.AddrPort{s1, s2})
		Expect(r.run(func() bool { return r.bound() == n })).To(BeTrue(), "%d of %d bound", r.bound(), n)
		Expect(r.forw[s1]).To(Equal(r.forw[s2]))
		Expect(r.forw[s1]).To(Equal(2 * n)) // each Solicit and each Request, to both
		own := netip.MustParsePrefix("2001:db8:1:2::/64")
		for i := range n {
			ls := r.p.Client(i).Leases()
			Expect(ls).To(HaveLen(1))
			Expect(ls[0].Server).To(Equal(server.FormatDUID([]byte{0, 3, 0, 1, 2, 0xd6, 0x1a, 0xb0, 0, 2})))
			Expect(own.Contains(ls[0].Prefix.Addr())).To(BeTrue())
		}
	})

	It("drops what is not a Relay-reply for its own Interface-ID and clients", func() {
		srv := realServer("s1", "2001:db8:1:1::/64", "2001:db8:1:1::/64", 255, 1)
		r := newRelayNet(1, map[netip.AddrPort]*server.Server{s1: srv}, []netip.AddrPort{s1})
		r.p.Start(t0)
		r.p.Advance(t0.Add(2 * time.Second))
		out := r.p.Outbox(nil)
		Expect(out).NotTo(BeEmpty()) // the Solicit, perhaps retransmitted
		reply, _, ok := srv.Handle(t0, out[0].Payload, r.relay, false)
		Expect(ok).To(BeTrue())
		m, _ := dhcpv6.FromBytes(reply)
		rr := m.(*dhcpv6.RelayMessage)
		inner := rr.Options.RelayMessage()

		plain := inner.ToBytes()
		r.p.Deliver(t0, plain, s1)
		other := &dhcpv6.RelayMessage{MessageType: dhcpv6.MessageTypeRelayReply, LinkAddr: rr.LinkAddr, PeerAddr: rr.PeerAddr}
		other.AddOption(dhcpv6.OptInterfaceID([]byte("elsewhere")))
		other.AddOption(dhcpv6.OptRelayMessage(inner))
		r.p.Deliver(t0, other.ToBytes(), s1)
		wrongPeer := &dhcpv6.RelayMessage{MessageType: dhcpv6.MessageTypeRelayReply, LinkAddr: rr.LinkAddr, PeerAddr: []byte(netip.MustParseAddr("fe80::dead").AsSlice())}
		wrongPeer.AddOption(dhcpv6.OptInterfaceID([]byte("clients0")))
		wrongPeer.AddOption(dhcpv6.OptRelayMessage(inner))
		r.p.Deliver(t0, wrongPeer.ToBytes(), s1)
		Expect(r.p.Stats().Dropped).To(Equal(map[string]uint64{
			population.DropNotRelayed: 1, population.DropRelayMismatch: 2,
		}))
		r.p.Deliver(t0, reply, s1)
		Expect(r.p.Stats().Dropped).To(HaveLen(2)) // the genuine one reached the client
		Expect(r.p.Client(0).Server()).NotTo(BeEmpty())
	})
})
