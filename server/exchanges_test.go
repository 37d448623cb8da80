package server

import (
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/server/lease"
)

func addr128(a string) netip.Prefix { return netip.PrefixFrom(netip.MustParseAddr(a), 128) }

var _ = Describe("Request", func() {
	var s *Server
	BeforeEach(func() { s = newServer(testConfig("s1")) })
	AfterEach(func() { counterInvariant(GinkgoT(), s) })

	It("binds the address and records the binding (§18.3.2)", func() {
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1)))
		a := firstLease(adv)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), naOpt(1, a)))
		Expect(rep.MessageType).To(Equal(dhcpv6.MessageTypeReply))
		Expect(rep.Options.ServerID().ToBytes()).To(Equal(s.DUID()))
		Expect(rep.Options.ClientID().ToBytes()).To(Equal(clientDUID(1).ToBytes()))
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "na", IAID: 1, T1: 10 * time.Second, T2: 16 * time.Second,
			Leases: []lo{{a, 20 * time.Second, 30 * time.Second}}}}))
		b, ok := s.Store().Get(lease.KeyOf(clientDUID(1).ToBytes(), 1, lease.NA))
		Expect(ok).To(BeTrue())
		Expect(b.Lease).To(Equal(addr128(a)))
		Expect(b.T1).To(Equal(10 * time.Second))
		Expect(b.T2).To(Equal(16 * time.Second))
		Expect(b.Preferred).To(Equal(20 * time.Second))
		Expect(b.Valid).To(Equal(30 * time.Second))
		Expect(b.Granted).To(Equal(t0))
		Expect(b.Expires).To(Equal(t0.Add(30 * time.Second)))
	})

	It("returns the existing binding on a repeated Request", func() {
		a := bindClient(s, t0, 1)
		rep := send(s, t0.Add(time.Second), newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), naOpt(1, "2001:db8:1::77")))
		Expect(firstLease(rep)).To(Equal(a))
		Expect(s.Store().Len()).To(Equal(1))
	})

	It("gives different clients different addresses", func() {
		seen := map[string]bool{}
		for n := 0; n < 50; n++ {
			a := bindClient(s, t0, n)
			Expect(a).NotTo(BeEmpty())
			Expect(seen).NotTo(HaveKey(a))
			seen[a] = true
		}
	})

	It("answers NotOnLink in the IA for an address not appropriate to the link", func() {
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), naOpt(1, "2001:db8:9::1"), naOpt(2)))
		ias := viewIAs(rep)
		Expect(ias[0]).To(Equal(iaView{Type: "na", IAID: 1, Status: sc(iana.StatusNotOnLink)}))
		Expect(ias[1].Leases).To(HaveLen(1)) // the other IA is still served
		Expect(topStatus(rep)).To(BeNil())
	})

	It("delegates a prefix for an IA_PD", func() {
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), pdOpt(5)))
		ias := viewIAs(rep)
		Expect(ias).To(HaveLen(1))
		p := netip.MustParsePrefix(ias[0].Leases[0].Lease)
		Expect(p.Bits()).To(Equal(56))
		Expect(netip.MustParsePrefix("2001:db8:100::/40").Contains(p.Addr())).To(BeTrue())
		b, ok := s.Store().GetByLease(p)
		Expect(ok).To(BeTrue())
		Expect(b.Type).To(Equal(lease.PD))
	})

	It("answers NoAddrsAvail in the IA when the pool is exhausted", func() {
		cfg := testConfig("tiny")
		cfg.Pool = mustPool("2001:db8:1::1-2001:db8:1::2")
		s = newServer(cfg)
		Expect(bindClient(s, t0, 1)).NotTo(BeEmpty())
		Expect(bindClient(s, t0, 2)).NotTo(BeEmpty())
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(3), sidOf(s), naOpt(1)))
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "na", IAID: 1, Status: sc(iana.StatusNoAddrsAvail)}}))
	})
})

var _ = Describe("Renew", func() {
	var s *Server
	BeforeEach(func() { s = newServer(testConfig("s1")) })
	AfterEach(func() { counterInvariant(GinkgoT(), s) })

	It("extends a binding it holds (§18.3.4)", func() {
		a := bindClient(s, t0, 1)
		later := t0.Add(12 * time.Second)
		rep := send(s, later, newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), naOpt(1, a)))
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "na", IAID: 1, T1: 10 * time.Second, T2: 16 * time.Second,
			Leases: []lo{{a, 20 * time.Second, 30 * time.Second}}}}))
		b, _ := s.Store().Get(lease.KeyOf(clientDUID(1).ToBytes(), 1, lease.NA))
		Expect(b.Granted).To(Equal(later))
		Expect(b.Expires).To(Equal(later.Add(30 * time.Second)))
	})

	It("answers NoBinding in the IA when it holds no binding", func() {
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), naOpt(1, "2001:db8:1::5")))
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "na", IAID: 1, Status: sc(iana.StatusNoBinding)}}))
		Expect(s.Store().Len()).To(Equal(0))
	})

	It("returns an address not appropriate to the link with lifetimes 0", func() {
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), naOpt(1, "2001:db8:9::5")))
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "na", IAID: 1, Status: sc(iana.StatusNoBinding),
			Leases: []lo{{"2001:db8:9::5", 0, 0}}}}))
	})

	It("extends the bound address and zeroes another one the client lists", func() {
		a := bindClient(s, t0, 1)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), naOpt(1, a, "2001:db8:1::dead")))
		Expect(viewIAs(rep)[0].Leases).To(Equal([]lo{{a, 20 * time.Second, 30 * time.Second}, {"2001:db8:1::dead", 0, 0}}))
	})
})

// rebindServer is a server whose pool is one slice of the link (split
// model), so that an address of the link may lie outside its pool.
func rebindServer(p deploy.RebindPolicy) *Server {
	cfg := testConfig("s2")
	cfg.Pool = mustPool("2001:db8:1:0:8000::/65")
	cfg.Rebind = p
	return newServer(cfg)
}

var _ = Describe("Rebind", func() {
	const (
		inPool    = "2001:db8:1:0:8000::1234" // in s2's pool
		otherPool = "2001:db8:1::1234"        // on the link, in the other server's slice
		offLink   = "2001:db8:9::1234"        // neither
	)
	rebind := func(s *Server, addrs ...string) *dhcpv6.Message {
		return send(s, t0, newMsg(dhcpv6.MessageTypeRebind, cid(1), elapsed(), naOpt(1, addrs...)))
	}

	It("extends a binding it holds (§18.3.5)", func() {
		s := rebindServer(deploy.RebindNoBinding)
		a := bindClient(s, t0, 1)
		rep := rebind(s, a)
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "na", IAID: 1, T1: 10 * time.Second, T2: 16 * time.Second,
			Leases: []lo{{a, 20 * time.Second, 30 * time.Second}}}}))
	})

	DescribeTable("without a binding, answers per policy",
		func(p deploy.RebindPolicy, listed []string, want []iaView, wantBound string) {
			s := rebindServer(p)
			rep := rebind(s, listed...)
			Expect(rep).NotTo(BeNil())
			Expect(rep.MessageType).To(Equal(dhcpv6.MessageTypeReply))
			Expect(topStatus(rep)).To(BeNil())
			ias := viewIAs(rep)
			if wantBound == "new" { // an allocator-chosen address: check the shape, then pin it
				Expect(ias).To(HaveLen(1))
				Expect(ias[0].Leases).NotTo(BeEmpty())
				wantBound = ias[0].Leases[0].Lease
				Expect(s.Config().Pool.Contains(netip.MustParseAddr(wantBound))).To(BeTrue())
				want[0].Leases[0].Lease = wantBound
			}
			Expect(ias).To(Equal(want))
			if wantBound == "" {
				Expect(s.Store().Len()).To(Equal(0))
			} else {
				_, ok := s.Store().GetByLease(addr128(wantBound))
				Expect(ok).To(BeTrue())
			}
			counterInvariant(GinkgoT(), s)
		},
		Entry("create keeps the client's address when it is in the pool and free",
			deploy.RebindCreate, []string{inPool},
			[]iaView{{Type: "na", IAID: 1, T1: 10 * time.Second, T2: 16 * time.Second, Leases: []lo{{inPool, 20 * time.Second, 30 * time.Second}}}},
			inPool),
		Entry("create renumbers an address outside the pool and returns the old one with lifetimes 0",
			deploy.RebindCreate, []string{otherPool},
			[]iaView{{Type: "na", IAID: 1, T1: 10 * time.Second, T2: 16 * time.Second, Leases: []lo{{"", 20 * time.Second, 30 * time.Second}, {otherPool, 0, 0}}}},
			"new"),
		Entry("create renumbers an off-link address too",
			deploy.RebindCreate, []string{offLink},
			[]iaView{{Type: "na", IAID: 1, T1: 10 * time.Second, T2: 16 * time.Second, Leases: []lo{{"", 20 * time.Second, 30 * time.Second}, {offLink, 0, 0}}}},
			"new"),
		Entry("zero returns the addresses with lifetimes 0",
			deploy.RebindZero, []string{otherPool},
			[]iaView{{Type: "na", IAID: 1, Leases: []lo{{otherPool, 0, 0}}}},
			""),
		Entry("nobinding answers NoBinding in the IA",
			deploy.RebindNoBinding, []string{otherPool},
			[]iaView{{Type: "na", IAID: 1, Status: sc(iana.StatusNoBinding)}},
			""),
		Entry("nobinding also zeroes an address not appropriate to the link",
			deploy.RebindNoBinding, []string{offLink},
			[]iaView{{Type: "na", IAID: 1, Status: sc(iana.StatusNoBinding), Leases: []lo{{offLink, 0, 0}}}},
			""),
	)

	It("silent does not answer and counts rebind-silent", func() {
		s := rebindServer(deploy.RebindSilent)
		Expect(rebind(s, otherPool)).To(BeNil())
		Expect(s.Counters().Dropped).To(Equal(map[DropReason]uint64{DropRebindSilent: 1}))
	})

	It("does not answer when no IA would be in the Reply (zero policy, no addresses listed)", func() {
		s := rebindServer(deploy.RebindZero)
		Expect(rebind(s)).To(BeNil())
		Expect(s.Counters().Dropped).To(Equal(map[DropReason]uint64{DropRebindEmpty: 1}))
	})

	It("create answers NoAddrsAvail in the IA when the pool is exhausted", func() {
		cfg := testConfig("tiny")
		cfg.Pool = mustPool("2001:db8:1::1-2001:db8:1::1")
		s := newServer(cfg)
		Expect(bindClient(s, t0, 9)).To(Equal("2001:db8:1::1"))
		rep := rebind(s, offLink)
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "na", IAID: 1, Status: sc(iana.StatusNoAddrsAvail), Leases: []lo{{offLink, 0, 0}}}}))
	})

	It("create does not take an address bound to another client", func() {
		s := rebindServer(deploy.RebindCreate)
		a := bindClient(s, t0, 2)
		rep := rebind(s, a)
		ias := viewIAs(rep)
		Expect(ias[0].Leases).To(HaveLen(2))
		Expect(ias[0].Leases[0].Lease).NotTo(Equal(a))
		Expect(ias[0].Leases[1]).To(Equal(lo{a, 0, 0}))
		b, _ := s.Store().GetByLease(addr128(a))
		Expect(b.DUID).To(Equal(clientDUID(2).ToBytes()))
	})

	It("extends one IA and applies the policy to another in the same Rebind", func() {
		s := rebindServer(deploy.RebindNoBinding)
		a := bindClient(s, t0, 1)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRebind, cid(1), naOpt(1, a), naOpt(2, otherPool)))
		Expect(viewIAs(rep)).To(Equal([]iaView{
			{Type: "na", IAID: 1, T1: 10 * time.Second, T2: 16 * time.Second, Leases: []lo{{a, 20 * time.Second, 30 * time.Second}}},
			{Type: "na", IAID: 2, Status: sc(iana.StatusNoBinding)},
		}))
	})

	It("applies the policy to IA_PD as well", func() {
		s := rebindServer(deploy.RebindZero)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRebind, cid(1), pdOpt(3, "2001:db8:200::/56")))
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "pd", IAID: 3, Leases: []lo{{"2001:db8:200::/56", 0, 0}}}}))
	})
})

var _ = Describe("Release", func() {
	It("deletes the binding, answers Success and frees the address (§18.3.7)", func() {
		cfg := testConfig("seq")
		cfg.Allocator = "sequential"
		s := newServer(cfg)
		a := bindClient(s, t0, 1)
		Expect(a).To(Equal("2001:db8:1::1"))
		Expect(bindClient(s, t0, 2)).To(Equal("2001:db8:1::2"))
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRelease, cid(1), sidOf(s), naOpt(1, a)))
		Expect(rep.MessageType).To(Equal(dhcpv6.MessageTypeReply))
		Expect(topStatus(rep)).To(Equal(sc(iana.StatusSuccess)))
		Expect(viewIAs(rep)).To(BeEmpty())
		Expect(s.Store().Len()).To(Equal(1))
		Expect(bindClient(s, t0, 3)).To(Equal(a)) // lowest free again
		counterInvariant(GinkgoT(), s)
	})

	It("answers NoBinding, and nothing else, in an IA it has no binding for", func() {
		s := newServer(testConfig("s1"))
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRelease, cid(1), sidOf(s), naOpt(4, "2001:db8:1::5"), pdOpt(5)))
		Expect(topStatus(rep)).To(Equal(sc(iana.StatusSuccess)))
		Expect(viewIAs(rep)).To(Equal([]iaView{
			{Type: "na", IAID: 4, Status: sc(iana.StatusNoBinding)},
			{Type: "pd", IAID: 5, Status: sc(iana.StatusNoBinding)},
		}))
	})

	It("ignores an address not bound to the IA", func() {
		s := newServer(testConfig("s1"))
		a := bindClient(s, t0, 1)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRelease, cid(1), sidOf(s), naOpt(1, "2001:db8:1::5")))
		Expect(topStatus(rep)).To(Equal(sc(iana.StatusSuccess)))
		_, ok := s.Store().GetByLease(addr128(a))
		Expect(ok).To(BeTrue())
	})
})

var _ = Describe("Decline", func() {
	It("answers Success and keeps the address out of the pool until the hold ends (§18.3.8)", func() {
		cfg := testConfig("seq")
		cfg.Allocator = "sequential"
		cfg.DeclineHold = time.Minute
		s := newServer(cfg)
		a := bindClient(s, t0, 1)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeDecline, cid(1), sidOf(s), naOpt(1, a)))
		Expect(topStatus(rep)).To(Equal(sc(iana.StatusSuccess)))
		Expect(s.Store().Len()).To(Equal(0))
		Expect(bindClient(s, t0.Add(59*time.Second), 2)).NotTo(Equal(a))
		Expect(bindClient(s, t0.Add(61*time.Second), 3)).To(Equal(a))
		counterInvariant(GinkgoT(), s)
	})

	It("answers NoBinding in an IA it has no binding for", func() {
		s := newServer(testConfig("s1"))
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeDecline, cid(1), sidOf(s), naOpt(2, "2001:db8:1::5")))
		Expect(topStatus(rep)).To(Equal(sc(iana.StatusSuccess)))
		Expect(viewIAs(rep)).To(Equal([]iaView{{Type: "na", IAID: 2, Status: sc(iana.StatusNoBinding)}}))
	})

	It("reads the Client Identifier after a Server Identifier: the order of options is the client's (§21)", func() {
		// A Decline is not on the wire fast path: insomniacslk decodes it.
		// Found by FuzzHandle (testdata/fuzz/FuzzHandle/277c51e2b9acba5c):
		// the server took both DUIDs for the client's.
		s := newServer(testConfig("s1"))
		a := bindClient(s, t0, 1)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeDecline, sidOf(s), cid(1), naOpt(1, a)))
		Expect(topStatus(rep)).To(Equal(sc(iana.StatusSuccess)))
		Expect(viewIAs(rep)).To(BeEmpty(), "the binding was found and declined")
		Expect(s.Store().Len()).To(Equal(0))
		Expect(rep.Options.ClientID().ToBytes()).To(Equal(clientDUID(1).ToBytes()), "the Reply echoes the client's DUID alone")
	})

	It("does not let a client Rebind onto a declined address", func() {
		s := rebindServer(deploy.RebindCreate)
		a := bindClient(s, t0, 1)
		send(s, t0, newMsg(dhcpv6.MessageTypeDecline, cid(1), sidOf(s), naOpt(1, a)))
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRebind, cid(2), naOpt(1, a)))
		Expect(viewIAs(rep)[0].Leases[0].Lease).NotTo(Equal(a))
	})
})

var _ = Describe("Confirm", func() {
	var s *Server
	BeforeEach(func() {
		cfg := testConfig("s1")
		cfg.Pool = mustPool("2001:db8:2::/64") // unique model: the pool is outside Prefix
		s = newServer(cfg)
	})

	DescribeTable("answers with a status in the message (§18.3.3)",
		func(addrs []string, want iana.StatusCode) {
			rep := send(s, t0, newMsg(dhcpv6.MessageTypeConfirm, cid(1), naOpt(1, addrs...)))
			Expect(rep.MessageType).To(Equal(dhcpv6.MessageTypeReply))
			Expect(rep.Options.ServerID()).NotTo(BeNil())
			Expect(rep.Options.ClientID()).NotTo(BeNil())
			Expect(topStatus(rep)).To(Equal(&want))
			Expect(viewIAs(rep)).To(BeEmpty())
		},
		Entry("Success when every address is in the prefix", []string{"2001:db8:1::5"}, iana.StatusSuccess),
		Entry("Success for an address of the pool", []string{"2001:db8:2::5"}, iana.StatusSuccess),
		Entry("NotOnLink when one address is elsewhere", []string{"2001:db8:1::5", "2001:db8:9::5"}, iana.StatusNotOnLink),
	)

	It("does not answer when the IAs hold no address", func() {
		Expect(send(s, t0, newMsg(dhcpv6.MessageTypeConfirm, cid(1), naOpt(1)))).To(BeNil())
		Expect(s.Counters().Dropped).To(Equal(map[DropReason]uint64{DropConfirmNoAddresses: 1}))
	})
})

var _ = Describe("Information-request", func() {
	It("answers with the Server and Client Identifiers (§18.3.6)", func() {
		s := newServer(testConfig("s1"))
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeInformationRequest, cid(1), elapsed()))
		Expect(rep.MessageType).To(Equal(dhcpv6.MessageTypeReply))
		Expect(rep.Options.ServerID().ToBytes()).To(Equal(s.DUID()))
		Expect(rep.Options.ClientID().ToBytes()).To(Equal(clientDUID(1).ToBytes()))
	})

	It("answers a client without a Client Identifier, and one that names this server", func() {
		s := newServer(testConfig("s1"))
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeInformationRequest))
		Expect(rep.GetOneOption(dhcpv6.OptionClientID)).To(BeNil())
		rep = send(s, t0, newMsg(dhcpv6.MessageTypeInformationRequest, sidOf(s)))
		Expect(rep).NotTo(BeNil())
	})

	It("sends the configured Information Refresh Time, and none by default (§21.23)", func() {
		s := newServer(testConfig("s1"))
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeInformationRequest, cid(1)))
		Expect(rep.GetOneOption(dhcpv6.OptionInformationRefreshTime)).To(BeNil())
		cfg := testConfig("s2")
		cfg.InfoRefresh = 6 * time.Second
		s = newServer(cfg)
		rep = send(s, t0, newMsg(dhcpv6.MessageTypeInformationRequest, cid(1)))
		Expect(rep.GetOneOption(dhcpv6.OptionInformationRefreshTime)).NotTo(BeNil())
		Expect(rep.Options.InformationRefreshTime(time.Hour)).To(Equal(6 * time.Second))
		// only to Information-request
		rep = send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(2), naOpt(1)))
		Expect(rep.GetOneOption(dhcpv6.OptionInformationRefreshTime)).To(BeNil())
	})

	It("refuses a negative or fractional Information Refresh Time", func() {
		cfg := testConfig("s1")
		cfg.InfoRefresh = 1500 * time.Millisecond
		Expect(cfg.Validate()).To(MatchError(ContainSubstring("InfoRefresh")))
		cfg.InfoRefresh = -time.Second
		Expect(cfg.Validate()).To(MatchError(ContainSubstring("InfoRefresh")))
	})
})

var _ = Describe("Expiry", func() {
	It("reclaims expired bindings lazily, with the time of the next message", func() {
		cfg := testConfig("seq")
		cfg.Allocator = "sequential"
		s := newServer(cfg)
		a := bindClient(s, t0, 1)
		Expect(s.Store().Len()).To(Equal(1))
		// Nothing happens until a message arrives; then the binding is gone.
		send(s, t0.Add(30*time.Second), newMsg(dhcpv6.MessageTypeInformationRequest))
		Expect(s.Store().Len()).To(Equal(0))
		Expect(bindClient(s, t0.Add(31*time.Second), 2)).To(Equal(a))
		rep := send(s, t0.Add(32*time.Second), newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), naOpt(1, a)))
		Expect(viewIAs(rep)[0].Status).To(Equal(sc(iana.StatusNoBinding)))
	})
})
