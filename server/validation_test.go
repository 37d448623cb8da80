package server

import (
	"net"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Message validation (RFC 9915 §16)", func() {
	var s *Server
	BeforeEach(func() { s = newServer(testConfig("s1")) })
	AfterEach(func() { counterInvariant(GinkgoT(), s) })

	expectDrop := func(reason DropReason) {
		c := s.Counters()
		Expect(c.Answered).To(BeZero())
		Expect(c.Dropped).To(Equal(map[DropReason]uint64{reason: 1}))
	}

	DescribeTable("drops and counts",
		func(build func(s *Server) *dhcpv6.Message, reason DropReason) {
			Expect(send(s, t0, build(s))).To(BeNil())
			expectDrop(reason)
		},
		Entry("Solicit without Client ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeSolicit, naOpt(1))
		}, DropNoClientID),
		Entry("Solicit with a Server ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeSolicit, cid(1), sidOf(s), naOpt(1))
		}, DropServerID),
		Entry("Confirm without Client ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeConfirm, naOpt(1, "2001:db8:1::1"))
		}, DropNoClientID),
		Entry("Confirm with a Server ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeConfirm, cid(1), sidOf(s), naOpt(1, "2001:db8:1::1"))
		}, DropServerID),
		Entry("Rebind without Client ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRebind, naOpt(1, "2001:db8:1::1"))
		}, DropNoClientID),
		Entry("Rebind with a Server ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRebind, cid(1), sidOf(s), naOpt(1, "2001:db8:1::1"))
		}, DropServerID),
		Entry("Request without Server ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRequest, cid(1), naOpt(1))
		}, DropNoServerID),
		Entry("Request with another server's ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRequest, cid(1), otherSID(), naOpt(1))
		}, DropOtherServer),
		Entry("Request without Client ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRequest, sidOf(s), naOpt(1))
		}, DropNoClientID),
		Entry("Renew without Server ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRenew, cid(1), naOpt(1))
		}, DropNoServerID),
		Entry("Renew with another server's ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRenew, cid(1), otherSID(), naOpt(1))
		}, DropOtherServer),
		Entry("Renew without Client ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRenew, sidOf(s), naOpt(1))
		}, DropNoClientID),
		Entry("Decline without Server ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeDecline, cid(1), naOpt(1))
		}, DropNoServerID),
		Entry("Decline with another server's ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeDecline, cid(1), otherSID(), naOpt(1))
		}, DropOtherServer),
		Entry("Decline without Client ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeDecline, sidOf(s), naOpt(1))
		}, DropNoClientID),
		Entry("Release without Server ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRelease, cid(1), naOpt(1))
		}, DropNoServerID),
		Entry("Release with another server's ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRelease, cid(1), otherSID(), naOpt(1))
		}, DropOtherServer),
		Entry("Release without Client ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeRelease, sidOf(s), naOpt(1))
		}, DropNoClientID),
		Entry("Information-request with another server's ID", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeInformationRequest, cid(1), otherSID())
		}, DropOtherServer),
		Entry("Information-request with an IA_NA", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeInformationRequest, cid(1), naOpt(1))
		}, DropIAInInformationRequest),
		Entry("Information-request with an IA_PD", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeInformationRequest, cid(1), pdOpt(1))
		}, DropIAInInformationRequest),
		Entry("Advertise", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeAdvertise, cid(1), sidOf(s))
		}, DropNotForServer),
		Entry("Reply", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeReply, cid(1), sidOf(s))
		}, DropNotForServer),
		Entry("Reconfigure", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeReconfigure, cid(1), sidOf(s))
		}, DropNotForServer),
		Entry("an unknown message type", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageType(200), cid(1))
		}, DropUnknownType),
		Entry("Leasequery without an OPTION_LQ_QUERY (RFC 5007 §4.2.1)", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeLeaseQuery, cid(1))
		}, DropLeasequeryNoQuery),
		Entry("Leasequery-reply (RFC 5007 §4.2.2)", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeLeaseQueryReply, cid(1), sidOf(s))
		}, DropNotForServer),
		Entry("Leasequery-data, Bulk Leasequery (RFC 5460) which runs over TCP only", func(s *Server) *dhcpv6.Message {
			return newMsg(dhcpv6.MessageTypeLeaseQueryData, cid(1))
		}, DropUnknownType),
	)

	DescribeTable("drops undecodable datagrams",
		func(pkt []byte) {
			_, _, ok := s.Handle(t0, pkt, clientSrc, true)
			Expect(ok).To(BeFalse())
			expectDrop(DropMalformed)
		},
		Entry("empty", []byte{}),
		Entry("short header", []byte{1, 0}),
		Entry("truncated option", []byte{1, 0, 0, 1, 0, 1, 0, 10, 0, 3}),
		Entry("Client ID too short for a DUID", []byte{1, 0, 0, 1, 0, 1, 0, 1, 0}),
		Entry("short Relay-forward header", []byte{12, 0, 0x20, 0x01}),
		Entry("Relay-forward with a truncated relayed message", append(relayHeader(12, 0), 0, 9, 0, 1, 1)),
	)

	It("drops a Relay-reply sent to it", func() {
		rr := &dhcpv6.RelayMessage{MessageType: dhcpv6.MessageTypeRelayReply, LinkAddr: net.IPv6zero, PeerAddr: net.IPv6zero}
		rr.AddOption(dhcpv6.OptRelayMessage(newMsg(dhcpv6.MessageTypeReply, cid(1), sidOf(s))))
		_, _, ok := roundTrip(s, t0, rr, relaySrc, false)
		Expect(ok).To(BeFalse())
		expectDrop(DropNotForServer)
	})

	It("drops a Relay-forward without a Relay Message option", func() {
		_, _, ok := s.Handle(t0, relayHeader(12, 0), relaySrc, false)
		Expect(ok).To(BeFalse())
		expectDrop(DropRelayNoMessage)
	})

	It("keeps unknown options out of its way (§16: MUST NOT discard)", func() {
		m := newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1), &dhcpv6.OptionGeneric{OptionCode: 65000, OptionData: []byte("x")})
		Expect(send(s, t0, m)).NotTo(BeNil())
	})

	It("never answers through a nil message", func() {
		_, ok := s.HandleMessage(t0, nil, true)
		Expect(ok).To(BeFalse())
		var m *dhcpv6.Message
		_, ok = s.HandleMessage(t0, m, true)
		Expect(ok).To(BeFalse())
		Expect(s.Counters().Dropped).To(Equal(map[DropReason]uint64{DropMalformed: 2}))
	})
})

var _ = Describe("Unicast policy (RFC 9915 §16)", func() {
	unicast := func(s *Server, m *dhcpv6.Message) *dhcpv6.Message {
		out, _, ok := roundTrip(s, t0, m, clientSrc, false)
		if !ok {
			return nil
		}
		return out.(*dhcpv6.Message)
	}

	It("drops direct unicast client messages by default", func() {
		s := newServer(testConfig("s1"))
		Expect(unicast(s, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1)))).To(BeNil())
		Expect(unicast(s, newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), naOpt(1)))).To(BeNil())
		Expect(s.Counters().Dropped).To(Equal(map[DropReason]uint64{DropUnicast: 2}))
	})

	It("accepts them under accept", func() {
		cfg := testConfig("s1")
		cfg.Unicast = UnicastAccept
		s := newServer(cfg)
		Expect(unicast(s, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1)))).NotTo(BeNil())
	})

	It("answers UseMulticast to a unicast Request under usemulticast (RFC 8415 §18.4) and drops a unicast Solicit", func() {
		cfg := testConfig("s1")
		cfg.Unicast = UnicastUseMulticast
		s := newServer(cfg)
		rep := unicast(s, newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), naOpt(1)))
		Expect(rep.MessageType).To(Equal(dhcpv6.MessageTypeReply))
		Expect(topStatus(rep)).To(Equal(sc(iana.StatusUseMulticast)))
		Expect(rep.Options.Options).To(HaveLen(3)) // Client ID, Server ID, Status Code only
		Expect(s.Store().Len()).To(Equal(0))
		Expect(unicast(s, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1)))).To(BeNil())
		counterInvariant(GinkgoT(), s)
	})
})

// relayHeader is a Relay-forward or Relay-reply header (34 octets) with
// link-address 2001:db8:1::1 and peer-address fe80::1234.
func relayHeader(t byte, hops byte) []byte {
	b := []byte{t, hops}
	b = append(b, net.ParseIP("2001:db8:1::1").To16()...)
	return append(b, net.ParseIP("fe80::1234").To16()...)
}
