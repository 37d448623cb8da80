package server

import (
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// relayForw wraps m in a Relay-forward as a relay agent would (RFC 9915
// §19.1), with an Interface-Id option when iid is not empty.
func relayForw(m dhcpv6.DHCPv6, hops uint8, link, peer string, iid string, extra ...dhcpv6.Option) *dhcpv6.RelayMessage {
	r := &dhcpv6.RelayMessage{
		MessageType: dhcpv6.MessageTypeRelayForward,
		HopCount:    hops,
		LinkAddr:    net.ParseIP(link),
		PeerAddr:    net.ParseIP(peer),
	}
	if iid != "" {
		r.AddOption(dhcpv6.OptInterfaceID([]byte(iid)))
	}
	for _, o := range extra {
		r.AddOption(o)
	}
	r.AddOption(dhcpv6.OptRelayMessage(m))
	return r
}

// nest wraps m in n Relay-forward levels, hop-counts 0..n-1 from the inside.
func nest(m dhcpv6.DHCPv6, n int) dhcpv6.DHCPv6 {
	for i := 0; i < n; i++ {
		m = relayForw(m, uint8(i), "::", "fe80::1", "")
	}
	return m
}

var _ = Describe("Relay-forward in, Relay-reply out (RFC 9915 §19.3)", func() {
	var s *Server
	BeforeEach(func() { s = newServer(testConfig("s1")) })
	AfterEach(func() { counterInvariant(GinkgoT(), s) })

	It("answers one level with a Relay-reply to the relay's port 547, echoing the Interface-Id", func() {
		sol := newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1))
		out, dst, ok := roundTrip(s, t0, relayForw(sol, 0, "2001:db8:1::1", "fe80::1234", "eth7"), relaySrc, false)
		Expect(ok).To(BeTrue())
		Expect(dst).To(Equal(netip.AddrPortFrom(relaySrc.Addr(), 547)))
		rr := out.(*dhcpv6.RelayMessage)
		Expect(rr.MessageType).To(Equal(dhcpv6.MessageTypeRelayReply))
		Expect(rr.HopCount).To(Equal(uint8(0)))
		Expect(rr.LinkAddr.String()).To(Equal("2001:db8:1::1"))
		Expect(rr.PeerAddr.String()).To(Equal("fe80::1234"))
		Expect(rr.Options.InterfaceID()).To(Equal([]byte("eth7")))
		inner, err := rr.GetInnerMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(inner.MessageType).To(Equal(dhcpv6.MessageTypeAdvertise))
		Expect(inner.TransactionID).To(Equal(txid))
		Expect(viewIAs(inner)[0].Leases).To(HaveLen(1))
	})

	It("answers two levels, each Relay-reply copying its own level's fields and Interface-Id", func() {
		req := newMsg(dhcpv6.MessageTypeInformationRequest, cid(1))
		a := relayForw(req, 0, "2001:db8:1::1", "fe80::1234", "to-client")
		b := relayForw(a, 1, "::", "2001:db8:ffff::a", "to-relay-a")
		out, dst, ok := roundTrip(s, t0, b, relaySrc, false)
		Expect(ok).To(BeTrue())
		Expect(dst.Port()).To(Equal(uint16(547)))
		outer := out.(*dhcpv6.RelayMessage)
		Expect(outer.HopCount).To(Equal(uint8(1)))
		Expect(outer.LinkAddr.String()).To(Equal("::"))
		Expect(outer.PeerAddr.String()).To(Equal("2001:db8:ffff::a"))
		Expect(outer.Options.InterfaceID()).To(Equal([]byte("to-relay-a")))
		inner := outer.Options.RelayMessage().(*dhcpv6.RelayMessage)
		Expect(inner.MessageType).To(Equal(dhcpv6.MessageTypeRelayReply))
		Expect(inner.HopCount).To(Equal(uint8(0)))
		Expect(inner.LinkAddr.String()).To(Equal("2001:db8:1::1"))
		Expect(inner.PeerAddr.String()).To(Equal("fe80::1234"))
		Expect(inner.Options.InterfaceID()).To(Equal([]byte("to-client")))
		rep := inner.Options.RelayMessage().(*dhcpv6.Message)
		Expect(rep.MessageType).To(Equal(dhcpv6.MessageTypeReply))
	})

	It("omits the Interface-Id at a level that did not send one", func() {
		req := newMsg(dhcpv6.MessageTypeInformationRequest, cid(1))
		out, _, _ := roundTrip(s, t0, relayForw(relayForw(req, 0, "2001:db8:1::1", "fe80::1", ""), 1, "::", "2001:db8::a", "x"), relaySrc, false)
		outer := out.(*dhcpv6.RelayMessage)
		Expect(outer.Options.InterfaceID()).To(Equal([]byte("x")))
		Expect(outer.Options.RelayMessage().(*dhcpv6.RelayMessage).GetOneOption(dhcpv6.OptionInterfaceID)).To(BeNil())
	})

	It("answers a relay with a Relay Source Port option on its source port (RFC 8357)", func() {
		src := netip.MustParseAddrPort("[2001:db8:ffff::1]:10547")
		req := newMsg(dhcpv6.MessageTypeInformationRequest, cid(1))
		_, dst, ok := roundTrip(s, t0, relayForw(req, 0, "2001:db8:1::1", "fe80::1", "", dhcpv6.OptRelayPort(0)), src, false)
		Expect(ok).To(BeTrue())
		Expect(dst).To(Equal(src))
	})

	It("accepts relayed messages that reached it by unicast", func() {
		_, _, ok := roundTrip(s, t0, relayForw(newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1)), 0, "2001:db8:1::1", "fe80::1", ""), relaySrc, false)
		Expect(ok).To(BeTrue())
	})

	It("accepts nine levels (outermost hop-count HOP_COUNT_LIMIT) and drops ten", func() {
		req := newMsg(dhcpv6.MessageTypeInformationRequest, cid(1))
		out, _, ok := roundTrip(s, t0, nest(req, HopCountLimit+1), relaySrc, false)
		Expect(ok).To(BeTrue())
		depth := 0
		for m := out; m.IsRelay(); m = m.(*dhcpv6.RelayMessage).Options.RelayMessage() {
			depth++
		}
		Expect(depth).To(Equal(HopCountLimit + 1))
		_, _, ok = roundTrip(s, t0, nest(req, HopCountLimit+2), relaySrc, false)
		Expect(ok).To(BeFalse())
		Expect(s.Counters().Dropped).To(Equal(map[DropReason]uint64{DropHopLimit: 1}))
	})

	It("drops a Relay-forward whose hop-count exceeds HOP_COUNT_LIMIT", func() {
		req := newMsg(dhcpv6.MessageTypeInformationRequest, cid(1))
		_, _, ok := roundTrip(s, t0, relayForw(req, HopCountLimit+1, "::", "fe80::1", ""), relaySrc, false)
		Expect(ok).To(BeFalse())
		Expect(s.Counters().Dropped).To(Equal(map[DropReason]uint64{DropHopLimit: 1}))
	})

	It("serves a full relayed lease cycle (Solicit, Request, Renew, Release)", func() {
		wrap := func(m *dhcpv6.Message) *dhcpv6.Message {
			out, _, ok := roundTrip(s, t0, relayForw(m, 0, "2001:db8:1::1", "fe80::1234", "eth0"), relaySrc, false)
			Expect(ok).To(BeTrue())
			inner, err := out.(*dhcpv6.RelayMessage).GetInnerMessage()
			Expect(err).NotTo(HaveOccurred())
			return inner
		}
		a := firstLease(wrap(newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1))))
		Expect(firstLease(wrap(newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), naOpt(1, a))))).To(Equal(a))
		Expect(firstLease(wrap(newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), naOpt(1, a))))).To(Equal(a))
		wrap(newMsg(dhcpv6.MessageTypeRelease, cid(1), sidOf(s), naOpt(1, a)))
		Expect(s.Store().Len()).To(Equal(0))
	})
})
