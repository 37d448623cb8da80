package leasequery_test

import (
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/server/lease"
	"d6lab/sim/leasequery"
)

var t0 = time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)

var (
	requestor    = []byte{0, 3, 0, 1, 0x02, 0xaa, 0, 0, 0, 5} // DUID-LL
	requestorSrc = netip.MustParseAddrPort("[fd00:d6:53::5]:40000")
)

func clientDUID(n byte) []byte { return []byte{0, 3, 0, 1, 0x02, 0xcc, 0, 0, 0, n} }

// builtin is the builtin server core (no socket): a /64 with a pool and a
// PD pool, Rapid Commit so that one Solicit binds.
func builtin() *server.Server {
	GinkgoHelper()
	pool, err := alloc.ParsePool("2001:db8:1::/64")
	Expect(err).NotTo(HaveOccurred())
	pd, err := alloc.ParsePrefixPool("2001:db8:100::/40/56")
	Expect(err).NotTo(HaveOccurred())
	cfg := server.DefaultConfig()
	cfg.Name, cfg.Prefix, cfg.Pool, cfg.PDPool, cfg.RapidCommit = "s1", netip.MustParsePrefix("2001:db8:1::/64"), pool, pd, true
	cfg.T1, cfg.T2, cfg.Preferred, cfg.Valid = 10*time.Second, 16*time.Second, 20*time.Second, 30*time.Second
	s, err := server.New(cfg, lease.NewMemory())
	Expect(err).NotTo(HaveOccurred())
	return s
}

// bind has client duid Solicit with Rapid Commit for an IA_NA (and an
// IA_PD when pd) and returns the leases of the Reply.
func bind(s *server.Server, now time.Time, duid []byte, pd bool) []netip.Prefix {
	GinkgoHelper()
	m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeSolicit, TransactionID: dhcpv6.TransactionID{1, 2, 3}}
	m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientID, OptionData: duid})
	m.AddOption(dhcpv6.OptElapsedTime(0))
	m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
	m.AddOption(&dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}})
	if pd {
		m.AddOption(&dhcpv6.OptIAPD{IaId: [4]byte{0, 0, 0, 2}})
	}
	b, _, ok := s.Handle(now, m.ToBytes(), netip.MustParseAddrPort("[fe80::1]:546"), true)
	Expect(ok).To(BeTrue(), "the server answers the Solicit")
	r, err := dhcpv6.MessageFromBytes(b)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.MessageType).To(Equal(dhcpv6.MessageTypeReply))
	var out []netip.Prefix
	for _, a := range r.Options.OneIANA().Options.Addresses() {
		out = append(out, netip.PrefixFrom(netip.AddrFrom16([16]byte(a.IPv6Addr.To16())), 128))
	}
	if pd {
		for _, p := range r.Options.OneIAPD().Options.Prefixes() {
			bits, _ := p.Prefix.Mask.Size()
			out = append(out, netip.PrefixFrom(netip.AddrFrom16([16]byte(p.Prefix.IP.To16())), bits))
		}
	}
	Expect(out).NotTo(BeEmpty())
	return out
}

// ask sends a query the way the prober does and decodes the answer.
func ask(s *server.Server, now time.Time, xid dhcpv6.TransactionID, client []byte) ([]leasequery.Lease, error) {
	GinkgoHelper()
	q, err := leasequery.Encode(xid, requestor, client)
	Expect(err).NotTo(HaveOccurred())
	b, dst, ok := s.Handle(now, q, requestorSrc, false)
	Expect(ok).To(BeTrue(), "the server answers the LEASEQUERY (unicast, not dropped)")
	Expect(dst).To(Equal(requestorSrc), "the reply goes back to the requestor's address and port (RFC 5007 §4.4)")
	return leasequery.Decode(b, xid, requestor, client)
}

func prefixes(ls []leasequery.Lease) []netip.Prefix {
	var out []netip.Prefix
	for _, l := range ls {
		out = append(out, l.Prefix)
	}
	return out
}

// rawQuery is a LEASEQUERY built by hand, for what Encode never sends.
func rawQuery(xid dhcpv6.TransactionID, typ byte, link string, client []byte) []byte {
	q := append([]byte{typ}, netip.MustParseAddr(link).AsSlice()...)
	q = append(q, dhcpv6.Options{&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientID, OptionData: client}}.ToBytes()...)
	m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeLeaseQuery, TransactionID: xid}
	m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientID, OptionData: requestor})
	m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery, OptionData: q})
	return m.ToBytes()
}

var _ = Describe("RFC 5007 query by client ID against the builtin server core", func() {
	var s *server.Server
	BeforeEach(func() { s = builtin() })

	It("encodes a LEASEQUERY by client ID: type 14, the requestor's Client ID, OPTION_LQ_QUERY with QUERY_BY_CLIENTID, link-address :: and the client's OPTION_CLIENTID", func() {
		b, err := leasequery.Encode(dhcpv6.TransactionID{9, 8, 7}, requestor, clientDUID(1))
		Expect(err).NotTo(HaveOccurred())
		m, err := dhcpv6.MessageFromBytes(b)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.MessageType).To(Equal(dhcpv6.MessageTypeLeaseQuery))
		Expect(m.TransactionID).To(Equal(dhcpv6.TransactionID{9, 8, 7}))
		Expect(m.Options.GetOne(dhcpv6.OptionClientID).ToBytes()).To(Equal(requestor))
		q := m.Options.GetOne(dhcpv6.OptionLQQuery).ToBytes()
		Expect(q[0]).To(Equal(byte(2)), "QUERY_BY_CLIENTID")
		Expect(q[1:17]).To(Equal(make([]byte, 16)), "link-address 0::0")
		Expect(q[17:]).To(Equal(append([]byte{0, 1, 0, byte(len(clientDUID(1)))}, clientDUID(1)...)))
	})

	It("names every lease of a bound client, address and prefix, with the lifetimes that remain", func() {
		got := bind(s, t0, clientDUID(1), true)
		bind(s, t0, clientDUID(2), false) // another client: not in the answer
		ls, err := ask(s, t0.Add(5*time.Second), dhcpv6.TransactionID{0, 0, 1}, clientDUID(1))
		Expect(err).NotTo(HaveOccurred())
		Expect(prefixes(ls)).To(ConsistOf(got))
		for _, l := range ls {
			Expect(l.Valid).To(Equal(25*time.Second), "30 s valid, 5 s later")
			Expect(l.Preferred).To(Equal(15 * time.Second))
			if l.Prefix.Bits() == 128 {
				Expect(l.Type).To(Equal(lease.NA))
			} else {
				Expect(l.Type).To(Equal(lease.PD))
				Expect(l.Prefix.Bits()).To(Equal(56))
			}
		}
	})

	It("answers no lease for a client the server never bound, and none once its lease has expired", func() {
		ls, err := ask(s, t0, dhcpv6.TransactionID{0, 0, 2}, clientDUID(7))
		Expect(err).NotTo(HaveOccurred())
		Expect(ls).To(BeEmpty())
		bind(s, t0, clientDUID(1), false)
		ls, err = ask(s, t0.Add(31*time.Second), dhcpv6.TransactionID{0, 0, 3}, clientDUID(1))
		Expect(err).NotTo(HaveOccurred())
		Expect(ls).To(BeEmpty())
	})

	It("turns a NotConfigured answer (a link-address the server has no link for) into an error naming the status", func() {
		xid := dhcpv6.TransactionID{0, 0, 4}
		b, _, ok := s.Handle(t0, rawQuery(xid, 2, "2001:db8:ffff::1", clientDUID(1)), requestorSrc, false)
		Expect(ok).To(BeTrue())
		_, err := leasequery.Decode(b, xid, requestor, clientDUID(1))
		var st *leasequery.StatusError
		Expect(err).To(BeAssignableToTypeOf(st))
		Expect(err.(*leasequery.StatusError).Code).To(Equal(iana.StatusNotConfigured))
		Expect(err).To(MatchError(ContainSubstring("NotConfigured (9)")))
	})

	It("turns an UnknownQueryType answer into an error naming the status", func() {
		xid := dhcpv6.TransactionID{0, 0, 5}
		b, _, ok := s.Handle(t0, rawQuery(xid, 99, "::", clientDUID(1)), requestorSrc, false)
		Expect(ok).To(BeTrue())
		_, err := leasequery.Decode(b, xid, requestor, clientDUID(1))
		Expect(err).To(MatchError(ContainSubstring("UnknownQueryType (7)")))
	})

	It("says a reply with another transaction ID, for another requestor or without a Server ID is not the answer (ErrNotOurs, RFC 5007 §4.2.2), so the socket keeps waiting", func() {
		bind(s, t0, clientDUID(1), false)
		xid := dhcpv6.TransactionID{0, 0, 6}
		q, err := leasequery.Encode(xid, requestor, clientDUID(1))
		Expect(err).NotTo(HaveOccurred())
		b, _, ok := s.Handle(t0, q, requestorSrc, false)
		Expect(ok).To(BeTrue())
		_, err = leasequery.Decode(b, dhcpv6.TransactionID{0, 0, 7}, requestor, clientDUID(1))
		Expect(err).To(MatchError(leasequery.ErrNotOurs))
		_, err = leasequery.Decode(b, xid, clientDUID(9), clientDUID(1))
		Expect(err).To(MatchError(leasequery.ErrNotOurs))
		_, err = leasequery.Decode([]byte{1, 2}, xid, requestor, clientDUID(1))
		Expect(err).To(MatchError(leasequery.ErrNotOurs))
		m, err := dhcpv6.MessageFromBytes(b)
		Expect(err).NotTo(HaveOccurred())
		m.Options.Del(dhcpv6.OptionServerID)
		_, err = leasequery.Decode(m.ToBytes(), xid, requestor, clientDUID(1))
		Expect(err).To(MatchError(ContainSubstring("no Server Identifier")))
	})

	It("refuses client data about another client than the one asked about", func() {
		bind(s, t0, clientDUID(1), false)
		xid := dhcpv6.TransactionID{0, 0, 8}
		q, err := leasequery.Encode(xid, requestor, clientDUID(1))
		Expect(err).NotTo(HaveOccurred())
		b, _, _ := s.Handle(t0, q, requestorSrc, false)
		_, err = leasequery.Decode(b, xid, requestor, clientDUID(2))
		Expect(err).To(MatchError(ContainSubstring("OPTION_CLIENT_DATA for client")))
	})

	It("reports a client bound on several links (OPTION_LQ_CLIENT_LINK) as an error listing them", func() {
		xid := dhcpv6.TransactionID{0, 0, 9}
		m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeLeaseQueryReply, TransactionID: xid}
		m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientID, OptionData: requestor})
		m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionServerID, OptionData: []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}})
		links := append(netip.MustParseAddr("2001:db8:1::1").AsSlice(), netip.MustParseAddr("2001:db8:2::1").AsSlice()...)
		m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQClientLink, OptionData: links})
		_, err := leasequery.Decode(m.ToBytes(), xid, requestor, clientDUID(1))
		Expect(err).To(MatchError(ContainSubstring("2001:db8:1::1, 2001:db8:2::1")))
	})

	It("refuses to encode an empty or oversized DUID, naming it", func() {
		_, err := leasequery.Encode(dhcpv6.TransactionID{}, requestor, nil)
		Expect(err).To(MatchError(ContainSubstring("client DUID")))
		_, err = leasequery.Encode(dhcpv6.TransactionID{}, make([]byte, 131), clientDUID(1))
		Expect(err).To(MatchError(ContainSubstring("requestor DUID")))
	})
})

var _ = Describe("UDP, the thin wrapper", func() {
	It("sends a batch of queries to a server on a socket and matches each reply to its query", func() {
		s := builtin()
		a1 := bind(s, time.Now(), clientDUID(1), false)
		a3 := bind(s, time.Now(), clientDUID(3), true)
		srv, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		Expect(err).NotTo(HaveOccurred())
		defer srv.Close()
		go func() { // the builtin core on a socket, answering in reverse order
			buf := make([]byte, 4096)
			type pkt struct {
				b   []byte
				dst netip.AddrPort
			}
			var got []pkt
			for len(got) < 3 {
				n, src, err := srv.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				b, dst, ok := s.Handle(time.Now(), buf[:n], src, false)
				if ok {
					got = append(got, pkt{b, dst})
				}
			}
			srv.WriteToUDPAddrPort([]byte("not dhcpv6"), got[0].dst)
			for i := len(got) - 1; i >= 0; i-- {
				srv.WriteToUDPAddrPort(got[i].b, got[i].dst)
			}
		}()
		u, err := leasequery.ListenUDP(requestor, 0)
		Expect(err).NotTo(HaveOccurred())
		defer u.Close()
		dst := srv.LocalAddr().(*net.UDPAddr).AddrPort()
		res := u.Ask(dst, [][]byte{clientDUID(1), clientDUID(2), clientDUID(3)}, 5*time.Second)
		Expect(res).To(HaveLen(3))
		for _, r := range res {
			Expect(r.Err).NotTo(HaveOccurred())
		}
		Expect(prefixes(res[0].Leases)).To(Equal(a1))
		Expect(res[1].Leases).To(BeEmpty(), "client 2 is bound nowhere")
		Expect(prefixes(res[2].Leases)).To(ConsistOf(a3))
	})

	It("gives every unanswered query ErrNoAnswer once the timeout has passed", func() {
		quiet, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		Expect(err).NotTo(HaveOccurred())
		defer quiet.Close()
		u, err := leasequery.ListenUDP(requestor, 0)
		Expect(err).NotTo(HaveOccurred())
		defer u.Close()
		res := u.Ask(quiet.LocalAddr().(*net.UDPAddr).AddrPort(), [][]byte{clientDUID(1), clientDUID(2)}, 20*time.Millisecond)
		for _, r := range res {
			Expect(r.Err).To(MatchError(leasequery.ErrNoAnswer))
			Expect(r.Err).To(MatchError(ContainSubstring("[::1]:")))
		}
	})
})

var _ = Describe("FromBindings, a lease file's answer", func() {
	It("picks the client's leases still valid at now, with the lifetimes that remain", func() {
		d := clientDUID(1)
		bs := []lease.Binding{
			{DUID: d, IAID: 2, Type: lease.PD, Lease: netip.MustParsePrefix("2001:db8:100::/56"), Preferred: 20 * time.Second, Valid: 30 * time.Second, Granted: t0, Expires: t0.Add(30 * time.Second)},
			{DUID: d, IAID: 1, Type: lease.NA, Lease: netip.MustParsePrefix("2001:db8:1::9/128"), Preferred: 4 * time.Second, Valid: 30 * time.Second, Granted: t0, Expires: t0.Add(30 * time.Second)},
			{DUID: d, IAID: 1, Type: lease.NA, Lease: netip.MustParsePrefix("2001:db8:1::3/128"), Valid: 30 * time.Second, Granted: t0.Add(-40 * time.Second), Expires: t0.Add(-10 * time.Second)},
			{DUID: clientDUID(2), IAID: 1, Type: lease.NA, Lease: netip.MustParsePrefix("2001:db8:1::4/128"), Valid: 30 * time.Second, Granted: t0, Expires: t0.Add(30 * time.Second)},
		}
		ls := leasequery.FromBindings(bs, d, t0.Add(10*time.Second))
		Expect(ls).To(Equal([]leasequery.Lease{
			{Type: lease.NA, Prefix: netip.MustParsePrefix("2001:db8:1::9/128"), Preferred: 0, Valid: 20 * time.Second},
			{Type: lease.PD, Prefix: netip.MustParsePrefix("2001:db8:100::/56"), Preferred: 10 * time.Second, Valid: 20 * time.Second},
		}))
		Expect(leasequery.FromBindings(bs, clientDUID(3), t0)).To(BeEmpty())
	})
})
