package server

import (
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/server/alloc"
)

var _ = Describe("Solicit", func() {
	var s *Server
	BeforeEach(func() { s = newServer(testConfig("s1")) })
	AfterEach(func() { counterInvariant(GinkgoT(), s) })

	It("answers with an Advertise to the client's port 546 and commits nothing", func() {
		out, dst, ok := roundTrip(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(7)), clientSrc, true)
		Expect(ok).To(BeTrue())
		Expect(dst).To(Equal(netip.AddrPortFrom(clientSrc.Addr(), 546)))
		adv := out.(*dhcpv6.Message)
		Expect(adv.MessageType).To(Equal(dhcpv6.MessageTypeAdvertise))
		Expect(adv.TransactionID).To(Equal(txid))
		Expect(adv.Options.ClientID().ToBytes()).To(Equal(clientDUID(1).ToBytes()))
		Expect(adv.Options.ServerID().ToBytes()).To(Equal(s.DUID()))
		Expect(adv.Options.Preference()).To(Equal(uint8(255)))
		ias := viewIAs(adv)
		Expect(ias).To(HaveLen(1))
		Expect(ias[0].IAID).To(Equal(uint32(7)))
		Expect(ias[0].T1).To(Equal(10 * time.Second))
		Expect(ias[0].T2).To(Equal(16 * time.Second))
		Expect(ias[0].Status).To(BeNil())
		Expect(ias[0].Leases).To(HaveLen(1))
		Expect(ias[0].Leases[0].Preferred).To(Equal(20 * time.Second))
		Expect(ias[0].Leases[0].Valid).To(Equal(30 * time.Second))
		Expect(linkPrefix.Contains(netip.MustParseAddr(ias[0].Leases[0].Lease))).To(BeTrue())
		Expect(s.Store().Len()).To(Equal(0))
	})

	It("sends Preference 0 explicitly", func() {
		cfg := testConfig("s0")
		cfg.Preference = 0
		s = newServer(cfg)
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1)))
		Expect(adv.GetOneOption(dhcpv6.OptionPreference)).NotTo(BeNil())
		Expect(adv.Options.Preference()).To(Equal(uint8(0)))
	})

	It("answers each IA of several, with distinct leases and the same T1/T2, the IA_NAs first", func() {
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1), naOpt(2), pdOpt(3), naOpt(4)))
		ias := viewIAs(adv)
		Expect(ias).To(HaveLen(4))
		seen := map[string]bool{}
		for i, ia := range ias {
			Expect(ia.Status).To(BeNil())
			Expect(ia.Leases).To(HaveLen(1))
			Expect(ia.T1).To(Equal(10 * time.Second))
			Expect(ia.T2).To(Equal(16 * time.Second))
			Expect(seen).NotTo(HaveKey(ia.Leases[0].Lease))
			seen[ia.Leases[0].Lease] = true
			Expect(ia.IAID).To(Equal([]uint32{1, 2, 4, 3}[i]))
		}
		Expect(ias[3].Type).To(Equal("pd"))
		Expect(ias[3].Leases[0].Lease).To(HaveSuffix("/56"))
	})

	It("offers distinct addresses to several IAs of one client even with the sequential allocator", func() {
		cfg := testConfig("seq")
		cfg.Allocator = "sequential"
		s = newServer(cfg)
		ias := viewIAs(send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1), naOpt(2))))
		Expect(ias[0].Leases[0].Lease).To(Equal("2001:db8:1::1"))
		Expect(ias[1].Leases[0].Lease).To(Equal("2001:db8:1::2"))
	})

	It("honours a hint that is in the pool and free, and ignores one that is not", func() {
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1, "2001:db8:1::abcd"), naOpt(2, "2001:db8:9::1")))
		ias := viewIAs(adv)
		Expect(ias[0].Leases[0].Lease).To(Equal("2001:db8:1::abcd"))
		Expect(ias[1].Leases[0].Lease).NotTo(Equal("2001:db8:9::1"))
	})

	It("puts NoAddrsAvail inside the IA_NA, with no address, when the pool is exhausted (§18.3.9)", func() {
		cfg := testConfig("tiny")
		cfg.Pool = mustPool("2001:db8:1::1-2001:db8:1::1")
		s = newServer(cfg)
		Expect(bindClient(s, t0, 1)).To(Equal("2001:db8:1::1"))
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(2), naOpt(1)))
		Expect(adv.MessageType).To(Equal(dhcpv6.MessageTypeAdvertise))
		Expect(topStatus(adv)).To(BeNil())
		Expect(viewIAs(adv)).To(Equal([]iaView{{Type: "na", IAID: 1, Status: sc(iana.StatusNoAddrsAvail)}}))
	})

	It("puts NoPrefixAvail inside the IA_PD when prefix delegation is off", func() {
		cfg := testConfig("nopd")
		cfg.PDPool = alloc.PrefixPool{}
		s = newServer(cfg)
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), pdOpt(1)))
		Expect(viewIAs(adv)).To(Equal([]iaView{{Type: "pd", IAID: 1, Status: sc(iana.StatusNoPrefixAvail)}}))
	})

	It("commits and answers with a Reply carrying Rapid Commit when enabled and asked (§18.3.1)", func() {
		cfg := testConfig("rc")
		cfg.RapidCommit = true
		s = newServer(cfg)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1), &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}))
		Expect(rep.MessageType).To(Equal(dhcpv6.MessageTypeReply))
		Expect(rep.GetOneOption(dhcpv6.OptionRapidCommit)).NotTo(BeNil())
		Expect(rep.GetOneOption(dhcpv6.OptionPreference)).To(BeNil())
		Expect(s.Store().Len()).To(Equal(1))
		b, ok := s.Store().GetByLease(netip.PrefixFrom(netip.MustParseAddr(firstLease(rep)), 128))
		Expect(ok).To(BeTrue())
		Expect(b.IAID).To(Equal(uint32(1)))
	})

	DescribeTable("answers with an Advertise unless both sides want Rapid Commit",
		func(enabled, asked bool) {
			cfg := testConfig("rc")
			cfg.RapidCommit = enabled
			s = newServer(cfg)
			m := newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1))
			if asked {
				m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
			}
			adv := send(s, t0, m)
			Expect(adv.MessageType).To(Equal(dhcpv6.MessageTypeAdvertise))
			Expect(adv.GetOneOption(dhcpv6.OptionRapidCommit)).To(BeNil())
			Expect(s.Store().Len()).To(Equal(0))
		},
		Entry("enabled, not asked", true, false),
		Entry("asked, not enabled", false, true),
	)
})
