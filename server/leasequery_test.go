package server

import (
	"bytes"
	"encoding/binary"
	"iter"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/server/lease"
)

// requestor is the Leasequery requestor's identity (a relay agent).
var requestorSrc = netip.MustParseAddrPort("[2001:db8:1::fe]:547")

func requestorID() dhcpv6.Option { return cid(9000) }

// lqQueryOpt is an OPTION_LQ_QUERY (RFC 5007 §4.1.2.1): query-type,
// link-address, query-options.
func lqQueryOpt(typ uint8, link string, qopts ...dhcpv6.Option) dhcpv6.Option {
	b := []byte{typ}
	b = append(b, netip.MustParseAddr(link).AsSlice()...)
	b = append(b, dhcpv6.Options(qopts).ToBytes()...)
	return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery, OptionData: b}
}

func byAddress(a string) dhcpv6.Option {
	return lqQueryOpt(queryByAddress, "::", &dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP(a)})
}

func byClientID(n int) dhcpv6.Option { return lqQueryOpt(queryByClientID, "::", cid(n)) }

func leasequeryMsg(opts ...dhcpv6.Option) *dhcpv6.Message {
	return newMsg(dhcpv6.MessageTypeLeaseQuery, append([]dhcpv6.Option{requestorID()}, opts...)...)
}

// ask sends a LEASEQUERY by unicast from the requestor and returns the
// LEASEQUERY-REPLY (nil when dropped).
func ask(s *Server, now time.Time, m *dhcpv6.Message) *dhcpv6.Message {
	out, dst, ok := roundTrip(s, now, m, requestorSrc, false)
	if !ok {
		return nil
	}
	Expect(dst).To(Equal(requestorSrc), "a direct LEASEQUERY-REPLY goes back to the requestor's address and port")
	return out.(*dhcpv6.Message)
}

// clientDataView is one OPTION_CLIENT_DATA as a requestor reads it.
type clientDataView struct {
	DUID     []byte
	Leases   []lo
	CLT      uint32
	HasCLT   bool
	Unparsed bool
}

func clientDatas(m *dhcpv6.Message) []clientDataView {
	var out []clientDataView
	for _, o := range m.Options.Get(dhcpv6.OptionClientData) {
		var v clientDataView
		var opts dhcpv6.Options
		if err := opts.FromBytes(o.ToBytes()); err != nil {
			out = append(out, clientDataView{Unparsed: true})
			continue
		}
		for _, so := range opts {
			switch so := so.(type) {
			case *dhcpv6.OptIAAddress:
				v.Leases = append(v.Leases, lo{so.IPv6Addr.String(), so.PreferredLifetime, so.ValidLifetime})
			case *dhcpv6.OptIAPrefix:
				v.Leases = append(v.Leases, lo{so.Prefix.String(), so.PreferredLifetime, so.ValidLifetime})
			default:
				switch so.Code() {
				case dhcpv6.OptionClientID:
					v.DUID = so.ToBytes()
				case dhcpv6.OptionCLTTime:
					if b := so.ToBytes(); len(b) == 4 {
						v.CLT, v.HasCLT = binary.BigEndian.Uint32(b), true
					}
				}
			}
		}
		out = append(out, v)
	}
	return out
}

func duidBytes(n int) []byte { return clientDUID(n).ToBytes() }

// countingStore counts the writes a server makes to its store.
type countingStore struct {
	lease.Store
	writes int
}

func (c *countingStore) Put(b lease.Binding) error { c.writes++; return c.Store.Put(b) }
func (c *countingStore) Delete(k lease.Key) error  { c.writes++; return c.Store.Delete(k) }
func (c *countingStore) Expire(now time.Time, fn func(lease.Binding)) (int, error) {
	n, err := c.Store.Expire(now, fn)
	if n > 0 {
		c.writes++
	}
	return n, err
}
func (c *countingStore) All() iter.Seq[lease.Binding] { return c.Store.All() }

var _ = Describe("Leasequery (RFC 5007)", func() {
	var s *Server
	BeforeEach(func() { s = newServer(testConfig("s1")) })
	AfterEach(func() { counterInvariant(GinkgoT(), s) })

	It("answers a query by address with the holder's client data: Client ID, address, lifetimes counted down, CLT time", func() {
		a := bindClient(s, t0, 1)
		Expect(a).NotTo(BeEmpty())
		r := ask(s, t0.Add(5*time.Second), leasequeryMsg(byAddress(a)))
		Expect(r).NotTo(BeNil())
		Expect(r.MessageType).To(Equal(dhcpv6.MessageTypeLeaseQueryReply))
		Expect(r.TransactionID).To(Equal(txid))
		Expect(r.Options.ServerID().ToBytes()).To(Equal(s.DUID()))
		Expect(r.Options.ClientID().ToBytes()).To(Equal(duidBytes(9000)), "the requestor's Client ID")
		Expect(topStatus(r)).To(BeNil())
		Expect(clientDatas(r)).To(Equal([]clientDataView{{
			DUID:   duidBytes(1),
			Leases: []lo{{a, 15 * time.Second, 25 * time.Second}}, // 20 s / 30 s granted 5 s ago
			CLT:    5, HasCLT: true,
		}}))
	})

	It("finds the client that was delegated a prefix containing the address", func() {
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(2), elapsed(), pdOpt(1)))
		p := firstLease(adv)
		Expect(send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(2), sidOf(s), elapsed(), pdOpt(1, p)))).NotTo(BeNil())
		inside := netip.MustParsePrefix(p).Addr().Next().String()
		r := ask(s, t0.Add(time.Second), leasequeryMsg(byAddress(inside)))
		cds := clientDatas(r)
		Expect(cds).To(HaveLen(1))
		Expect(cds[0].DUID).To(Equal(duidBytes(2)))
		Expect(cds[0].Leases).To(Equal([]lo{{p, 19 * time.Second, 29 * time.Second}}))
	})

	It("lists every IA_NA and IA_PD lease of a client queried by client ID, CLT from its latest transaction", func() {
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(3), elapsed(), naOpt(1), naOpt(2), pdOpt(3)))
		ias := viewIAs(adv)
		Expect(ias).To(HaveLen(3))
		req := newMsg(dhcpv6.MessageTypeRequest, cid(3), sidOf(s), elapsed(),
			naOpt(1, ias[0].Leases[0].Lease), naOpt(2, ias[1].Leases[0].Lease), pdOpt(3, ias[2].Leases[0].Lease))
		Expect(send(s, t0, req)).NotTo(BeNil())
		// Renew only IA_NA 1 four seconds later: its lifetimes restart,
		// and the client's last transaction is then.
		ren := newMsg(dhcpv6.MessageTypeRenew, cid(3), sidOf(s), elapsed(), naOpt(1, ias[0].Leases[0].Lease))
		Expect(send(s, t0.Add(4*time.Second), ren)).NotTo(BeNil())
		bindClient(s, t0, 4) // someone else's lease must not show

		r := ask(s, t0.Add(10*time.Second), leasequeryMsg(byClientID(3)))
		cds := clientDatas(r)
		Expect(cds).To(HaveLen(1), "one OPTION_CLIENT_DATA per client and link (§4.1.2.2)")
		Expect(cds[0].DUID).To(Equal(duidBytes(3)))
		Expect(cds[0].CLT).To(BeEquivalentTo(6))
		Expect(cds[0].Leases).To(ConsistOf(
			lo{ias[0].Leases[0].Lease, 14 * time.Second, 24 * time.Second},
			lo{ias[1].Leases[0].Lease, 10 * time.Second, 20 * time.Second},
			lo{ias[2].Leases[0].Lease, 10 * time.Second, 20 * time.Second},
		))
	})

	It("answers an address no one holds, or a lease that has expired, with no client data", func() {
		a := bindClient(s, t0, 1)
		free := "2001:db8:1::ffff"
		Expect(free).NotTo(Equal(a))
		for _, q := range []struct {
			at   time.Time
			addr string
		}{{t0, free}, {t0.Add(30 * time.Second), a}} {
			r := ask(s, q.at, leasequeryMsg(byAddress(q.addr)))
			Expect(r).NotTo(BeNil())
			Expect(clientDatas(r)).To(BeEmpty())
			Expect(topStatus(r)).To(Equal(sc(iana.StatusSuccess)))
		}
		r := ask(s, t0.Add(30*time.Second), leasequeryMsg(byClientID(1)))
		Expect(clientDatas(r)).To(BeEmpty())
	})

	It("answers UnknownQueryType (7) for a query-type it does not support", func() {
		r := ask(s, t0, leasequeryMsg(lqQueryOpt(200, "::", cid(1))))
		Expect(topStatus(r)).To(Equal(sc(iana.StatusUnknownQueryType)))
		Expect(clientDatas(r)).To(BeEmpty())
	})

	DescribeTable("answers NotAllowed (10) for a Bulk Leasequery query-type over UDP (RFC 5460 §4)",
		func(typ uint8) {
			bindClient(s, t0, 1)
			r := ask(s, t0, leasequeryMsg(lqQueryOpt(typ, "2001:db8:1::1", cid(1))))
			Expect(topStatus(r)).To(Equal(sc(iana.StatusNotAllowed)))
			Expect(clientDatas(r)).To(BeEmpty())
		},
		Entry("QUERY_BY_RELAY_ID", uint8(queryByRelayID)),
		Entry("QUERY_BY_LINK_ADDRESS", uint8(queryByLinkAddress)),
		Entry("QUERY_BY_REMOTE_ID", uint8(queryByRemoteID)),
	)

	DescribeTable("answers MalformedQuery (8) for a malformed query",
		func(q dhcpv6.Option) {
			bindClient(s, t0, 1)
			r := ask(s, t0, leasequeryMsg(q))
			Expect(r).NotTo(BeNil())
			Expect(topStatus(r)).To(Equal(sc(iana.StatusMalformedQuery)))
			Expect(clientDatas(r)).To(BeEmpty())
		},
		Entry("truncated before the link-address ends", &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery, OptionData: []byte{1, 0x20, 1}}),
		Entry("empty", &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery}),
		Entry("by address without an IAADDR", lqQueryOpt(queryByAddress, "::", cid(1))),
		Entry("by client ID without a Client ID", lqQueryOpt(queryByClientID, "::", &dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8:1::1")})),
		Entry("query-options cut inside an option", &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery,
			OptionData: append(append([]byte{1}, make([]byte, 16)...), 0, 5, 0, 24, 0x20, 0x01)}),
		Entry("an IAADDR too short for its address and lifetimes", &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery,
			OptionData: append(append([]byte{1}, make([]byte, 16)...), 0, 5, 0, 16, 0x20, 1, 0xd, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)}),
		Entry("by client ID with an empty Client ID", &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery,
			OptionData: append(append([]byte{2}, make([]byte, 16)...), 0, 1, 0, 0)}),
	)

	It("answers NotConfigured (9) for a link-address, or an address, on no link of the server", func() {
		a := bindClient(s, t0, 1)
		r := ask(s, t0, leasequeryMsg(lqQueryOpt(queryByAddress, "2001:db8:99::1", &dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP(a)})))
		Expect(topStatus(r)).To(Equal(sc(iana.StatusNotConfigured)))
		Expect(clientDatas(r)).To(BeEmpty())
		r = ask(s, t0, leasequeryMsg(lqQueryOpt(queryByClientID, "2001:db8:99::1", cid(1))))
		Expect(topStatus(r)).To(Equal(sc(iana.StatusNotConfigured)))
		r = ask(s, t0, leasequeryMsg(byAddress("2001:db8:77::1")))
		Expect(topStatus(r)).To(Equal(sc(iana.StatusNotConfigured)))

		By("a link-address on the server's link is used and the query answered")
		r = ask(s, t0, leasequeryMsg(lqQueryOpt(queryByAddress, "2001:db8:1::1", &dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP(a)})))
		Expect(topStatus(r)).To(BeNil())
		Expect(clientDatas(r)).To(HaveLen(1))
	})

	It("discards a LEASEQUERY without a Client ID, with another server's ID, or without a query (§4.2.1)", func() {
		a := bindClient(s, t0, 1)
		before := s.Counters()
		Expect(ask(s, t0, newMsg(dhcpv6.MessageTypeLeaseQuery, byAddress(a)))).To(BeNil())
		Expect(ask(s, t0, leasequeryMsg(otherSID(), byAddress(a)))).To(BeNil())
		Expect(ask(s, t0, leasequeryMsg())).To(BeNil())
		c := s.Counters()
		Expect(c.Answered).To(Equal(before.Answered))
		Expect(c.Dropped).To(Equal(map[DropReason]uint64{
			DropLeasequeryNoClientID: 1, DropLeasequeryOtherServer: 1, DropLeasequeryNoQuery: 1,
		}))

		By("this server's own Server ID is accepted")
		r := ask(s, t0, leasequeryMsg(sidOf(s), byAddress(a)))
		Expect(clientDatas(r)).To(HaveLen(1))
	})

	It("accepts a LEASEQUERY unicast whatever the unicast policy, or multicast", func() {
		for _, p := range []UnicastPolicy{UnicastDrop, UnicastUseMulticast} {
			cfg := testConfig("s1")
			cfg.Unicast = p
			s = newServer(cfg)
			a := bindClient(s, t0, 1)
			r := ask(s, t0, leasequeryMsg(byAddress(a)))
			Expect(r).NotTo(BeNil(), "policy %s", p)
			Expect(clientDatas(r)).To(HaveLen(1))
			Expect(s.Counters().Dropped).To(BeEmpty())
		}
		r := send(s, t0, leasequeryMsg(byClientID(1)))
		Expect(r.MessageType).To(Equal(dhcpv6.MessageTypeLeaseQueryReply))
	})

	It("answers a relayed LEASEQUERY inside a Relay-reply to the relay", func() {
		a := bindClient(s, t0, 1)
		fw := relayForw(leasequeryMsg(byAddress(a)), 0, "2001:db8:1::1", "2001:db8:1::fe", "eth0")
		out, dst, ok := roundTrip(s, t0, fw, relaySrc, false)
		Expect(ok).To(BeTrue())
		Expect(dst).To(Equal(netip.AddrPortFrom(relaySrc.Addr(), 547)))
		rr, isRelay := out.(*dhcpv6.RelayMessage)
		Expect(isRelay).To(BeTrue())
		Expect(rr.MessageType).To(Equal(dhcpv6.MessageTypeRelayReply))
		inner, err := rr.GetInnerMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(inner.MessageType).To(Equal(dhcpv6.MessageTypeLeaseQueryReply))
		Expect(clientDatas(inner)).To(HaveLen(1))
		Expect(clientDatas(inner)[0].DUID).To(Equal(duidBytes(1)))
	})

	It("never writes the store, even when bindings have expired (its answer needs no Sync)", func() {
		st := &countingStore{Store: lease.NewMemory()}
		var err error
		s, err = New(testConfig("s1"), st)
		Expect(err).NotTo(HaveOccurred())
		a := bindClient(s, t0, 1)
		Expect(a).NotTo(BeEmpty())
		st.writes = 0
		n := st.Len()
		for _, at := range []time.Time{t0, t0.Add(10 * time.Second), t0.Add(time.Hour)} {
			for _, q := range []dhcpv6.Option{byAddress(a), byClientID(1), byAddress("2001:db8:1::ffff"), lqQueryOpt(9, "::")} {
				Expect(ask(s, at, leasequeryMsg(q))).NotTo(BeNil())
			}
		}
		Expect(st.writes).To(BeZero())
		Expect(st.Len()).To(Equal(n))
	})

	It("discards a LEASEQUERY-REPLY (§4.2.2)", func() {
		Expect(ask(s, t0, newMsg(dhcpv6.MessageTypeLeaseQueryReply, requestorID(), sidOf(s)))).To(BeNil())
		Expect(s.Counters().Dropped).To(Equal(map[DropReason]uint64{DropNotForServer: 1}))
	})
})

// A LEASEQUERY-REPLY with client data for IA_NA and IA_PD leases, a status
// and a relay wrapping is the same through Handle and HandleMessage, byte
// for byte.
func TestLeasequeryReplyBothPaths(t *testing.T) {
	s := newServer(testConfig("s1"))
	adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(3), elapsed(), naOpt(1), pdOpt(3)))
	ias := viewIAs(adv)
	if len(ias) != 2 {
		t.Fatalf("Advertise has %d IAs, want 2", len(ias))
	}
	req := newMsg(dhcpv6.MessageTypeRequest, cid(3), sidOf(s), elapsed(), naOpt(1, ias[0].Leases[0].Lease), pdOpt(3, ias[1].Leases[0].Lease))
	if send(s, t0, req) == nil {
		t.Fatal("no Reply to the Request")
	}
	for _, q := range []dhcpv6.DHCPv6{
		leasequeryMsg(byClientID(3)),
		leasequeryMsg(byAddress(ias[0].Leases[0].Lease)),
		leasequeryMsg(byAddress("2001:db8:1::ffff")),
		leasequeryMsg(lqQueryOpt(7, "::")),
		relayForw(leasequeryMsg(byClientID(3)), 0, "2001:db8:1::1", "2001:db8:1::fe", "eth0"),
	} {
		// A LEASEQUERY changes no binding: both paths see the same store.
		now := t0.Add(1500 * time.Millisecond)
		out, ok := s.HandleMessage(now, q, false)
		if !ok {
			t.Fatalf("no answer to %s", q.Summary())
		}
		got, _, ok := s.Handle(now, q.ToBytes(), relaySrc, false)
		if want := out.ToBytes(); !ok || !bytes.Equal(got, want) {
			t.Fatalf("Handle and HandleMessage differ on %s:\n got %x\nwant %x", q.Summary(), got, want)
		}
	}
}
