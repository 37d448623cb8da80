package server

import (
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/server/ddns"
	"d6lab/server/lease"
)

// testDNS is a DNS configuration for the FQDN specs.
func testDNS() *deploy.DNS {
	return &deploy.DNS{
		Server: netip.MustParseAddrPort("[fd00:d6:53::53]:53"), Zone: "Lab.Example.",
		ReverseZones: []string{"0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."}, TTL: 30 * time.Second,
		Key: deploy.TSIG{Name: "d6lab-ddns.", Algorithm: "hmac-sha256.", Secret: "c2VjcmV0IGtleSBvZiB0aGUgbGFi"},
	}
}

func dnsServer() *Server {
	cfg := testConfig("dns")
	cfg.DNS = testDNS()
	return newServer(cfg)
}

// fqdnOpt is a Client FQDN option (RFC 4704 §4): flags, then the name's
// wire form as given.
func fqdnOpt(flags byte, wire ...byte) dhcpv6.Option {
	return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionFQDN, OptionData: append([]byte{flags}, wire...)}
}

// partial is h5 as a partial name (no root label, RFC 4704 §4.2).
var partial = []byte{2, 'h', '5'}

// answerFQDN is the Client FQDN option of an answer: its flags and name
// (decoded by hand: fully qualified wire form), ok false without one.
func answerFQDN(m *dhcpv6.Message) (flags byte, name string, ok bool) {
	o := m.GetOneOption(dhcpv6.OptionFQDN)
	if o == nil {
		return 0, "", false
	}
	p := o.ToBytes()
	flags, p = p[0], p[1:]
	for len(p) > 0 && p[0] != 0 {
		name += string(p[1:1+p[0]]) + "."
		p = p[1+p[0]:]
	}
	if name != "" {
		Expect(p).To(Equal([]byte{0}), "the answer's name is fully qualified")
	}
	return flags, name, true
}

// oroFQDN asks for the Client FQDN option back (RFC 4704 §6).
var oroFQDN = dhcpv6.OptRequestedOption(dhcpv6.OptionFQDN)

func changes(s *Server) []ddns.Change { return s.TakeDNSChanges(nil) }

func addOf(n int, fqdn, addr string) ddns.Change {
	return ddns.Change{Op: ddns.Add, FQDN: fqdn, DUID: clientDUID(n).ToBytes(), Addr: netip.MustParseAddr(addr)}
}

func removeOf(n int, fqdn, addr string) ddns.Change {
	c := addOf(n, fqdn, addr)
	c.Op = ddns.Remove
	return c
}

var _ = Describe("Client FQDN (RFC 4704)", func() {
	solicit := func(s *Server, opts ...dhcpv6.Option) *dhcpv6.Message {
		return send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, append([]dhcpv6.Option{cid(1), elapsed(), naOpt(1), oroFQDN}, opts...)...))
	}
	DescribeTable("the name and flags of the answer",
		func(clientFlags byte, wire []byte, wantFlags byte, wantName string) {
			s := dnsServer()
			adv := solicit(s, fqdnOpt(clientFlags, wire...))
			Expect(adv).NotTo(BeNil())
			flags, name, ok := answerFQDN(adv)
			Expect(ok).To(BeTrue(), "RFC 4704 §6: the answer carries the option")
			Expect(flags).To(Equal(wantFlags))
			Expect(name).To(Equal(wantName))
			Expect(changes(s)).To(BeEmpty(), "RFC 4704 §6.1: no update before the lease is committed (an Advertise)")
			Expect(s.FQDNIgnored()).To(BeZero())
		},
		Entry("a partial name is completed with the zone, in lower case; S=1 as asked", byte(fqdnS), partial, byte(fqdnS), "h5.lab.example."),
		Entry("S=0 from the client: the server does the updates anyway, O=1 (§4.1)", byte(0), partial, byte(fqdnS|fqdnO), "h5.lab.example."),
		Entry("a fully qualified name in the zone is kept, lower-cased",
			byte(fqdnS), []byte{2, 'H', '5', 3, 'L', 'A', 'B', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0}, byte(fqdnS), "h5.lab.example."),
		Entry("a fully qualified name outside the zone: its host label in the zone",
			byte(fqdnS), []byte{2, 'h', '5', 5, 'o', 't', 'h', 'e', 'r', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0}, byte(fqdnS), "h5.lab.example."),
		Entry("a name of several partial labels keeps them all", byte(fqdnS), []byte{2, 'h', '5', 4, 'r', 'a', 'c', 'k'}, byte(fqdnS), "h5.rack.lab.example."),
		Entry("an empty name asks the server for one: none is made up, N=1 S=0 (O=1: the client's S was 1)", byte(fqdnS), []byte{}, byte(fqdnN|fqdnO), ""),
	)

	It("answers without the option when the client sent none, and registers nothing", func() {
		s := dnsServer()
		Expect(bindClient(s, t0, 1)).NotTo(BeEmpty())
		Expect(changes(s)).To(BeEmpty())
		b, ok := s.Store().Get(lease.KeyOf(clientDUID(1).ToBytes(), 1, lease.NA))
		Expect(ok).To(BeTrue())
		Expect(b.FQDN).To(BeEmpty())
	})

	It("registers the name but leaves the option out of the answer when the client did not request it (RFC 4704 §6)", func() {
		s := dnsServer()
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(1), fqdnOpt(fqdnS, partial...)))
		_, _, ok := answerFQDN(adv)
		Expect(ok).To(BeFalse(), "no ORO entry for the Client FQDN option: none in the Advertise")
		a := firstLease(adv)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), elapsed(), naOpt(1, a), fqdnOpt(fqdnS, partial...)))
		_, _, ok = answerFQDN(rep)
		Expect(ok).To(BeFalse(), "nor in the Reply")
		Expect(changes(s)).To(HaveLen(1), "the name is registered all the same")
	})

	It("ignores the option without a DNS configuration (as before)", func() {
		s := newServer(testConfig("nodns"))
		adv := solicit(s, fqdnOpt(fqdnS, partial...))
		_, _, ok := answerFQDN(adv)
		Expect(ok).To(BeFalse())
		a := firstLease(adv)
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), elapsed(), naOpt(1, a), fqdnOpt(fqdnS, partial...)))
		_, _, ok = answerFQDN(rep)
		Expect(ok).To(BeFalse())
		Expect(changes(s)).To(BeEmpty())
		b, _ := s.Store().Get(lease.KeyOf(clientDUID(1).ToBytes(), 1, lease.NA))
		Expect(b.FQDN).To(BeEmpty())
	})

	DescribeTable("a malformed option is ignored and counted: the message is answered as if it had none",
		func(opt dhcpv6.Option) {
			s := dnsServer()
			adv := solicit(s, opt)
			Expect(adv).NotTo(BeNil())
			Expect(adv.MessageType).To(Equal(dhcpv6.MessageTypeAdvertise))
			_, _, ok := answerFQDN(adv)
			Expect(ok).To(BeFalse())
			Expect(s.FQDNIgnored()).To(Equal(uint64(1)))
		},
		Entry("N and S both set (§4.1: if N is 1, S MUST be 0)", fqdnOpt(fqdnN|fqdnS, partial...)),
		Entry("a compression pointer (one the decoder follows)", fqdnOpt(fqdnS, 2, 'h', '5', 0xc0, 0x05, 0)),
		Entry("a label of 64 octets", fqdnOpt(fqdnS, append([]byte{64}, make([]byte, 64)...)...)),
		Entry("a character that is not a letter, digit, '-' or '_'", fqdnOpt(fqdnS, 3, 'h', ' ', '5')),
		Entry("octets after the root label", fqdnOpt(fqdnS, 2, 'h', '5', 0, 1, 'x')),
	)

	DescribeTable("drops a message whose option does not decode (insomniacslk rejects the whole message: malformed)",
		func(opt dhcpv6.Option) {
			s := dnsServer()
			m := newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(1), opt)
			_, _, ok := s.Handle(t0, m.ToBytes(), clientSrc, true)
			Expect(ok).To(BeFalse())
			Expect(s.Counters().Dropped[DropMalformed]).To(Equal(uint64(1)))
		},
		Entry("a label running past the option", fqdnOpt(fqdnS, 5, 'h', '5')),
		Entry("no flags octet", &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionFQDN}),
	)
})

var _ = Describe("DNS changes", func() {
	var s *Server
	const name = "h1.lab.example."
	BeforeEach(func() { s = dnsServer() })
	request := func(n int, a string, opts ...dhcpv6.Option) *dhcpv6.Message {
		return send(s, t0, newMsg(dhcpv6.MessageTypeRequest, append([]dhcpv6.Option{cid(n), sidOf(s), elapsed(), naOpt(1, a)}, opts...)...))
	}
	bind := func() string {
		GinkgoHelper()
		adv := send(s, t0, newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(1), fqdnOpt(fqdnS, 2, 'h', '1')))
		a := firstLease(adv)
		rep := request(1, a, fqdnOpt(fqdnS, 2, 'h', '1'), oroFQDN)
		Expect(firstLease(rep)).To(Equal(a))
		_, n, ok := answerFQDN(rep)
		Expect(ok).To(BeTrue())
		Expect(n).To(Equal(name))
		return a
	}

	It("adds the name when a binding is made, keeps it in the binding, and does nothing on an extension", func() {
		a := bind()
		Expect(changes(s)).To(Equal([]ddns.Change{addOf(1, name, a)}))
		b, _ := s.Store().Get(lease.KeyOf(clientDUID(1).ToBytes(), 1, lease.NA))
		Expect(b.FQDN).To(Equal(name))
		rep := send(s, t0.Add(5*time.Second), newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), elapsed(), naOpt(1, a), fqdnOpt(fqdnS, 2, 'h', '1')))
		Expect(firstLease(rep)).To(Equal(a))
		Expect(changes(s)).To(BeEmpty(), "extended with the same address and name")
		rep = send(s, t0.Add(6*time.Second), newMsg(dhcpv6.MessageTypeRebind, cid(1), elapsed(), naOpt(1, a)))
		Expect(firstLease(rep)).To(Equal(a))
		Expect(changes(s)).To(BeEmpty(), "a Rebind without the option keeps the name")
		b, _ = s.Store().Get(lease.KeyOf(clientDUID(1).ToBytes(), 1, lease.NA))
		Expect(b.FQDN).To(Equal(name))
	})

	It("moves the records when the client renames itself on a Renew", func() {
		a := bind()
		changes(s)
		send(s, t0, newMsg(dhcpv6.MessageTypeRenew, cid(1), sidOf(s), elapsed(), naOpt(1, a), fqdnOpt(fqdnS, 3, 'n', 'e', 'w')))
		Expect(changes(s)).To(Equal([]ddns.Change{removeOf(1, name, a), addOf(1, "new.lab.example.", a)}))
	})

	It("removes the name on Release", func() {
		a := bind()
		changes(s)
		send(s, t0, newMsg(dhcpv6.MessageTypeRelease, cid(1), sidOf(s), elapsed(), naOpt(1, a)))
		Expect(changes(s)).To(Equal([]ddns.Change{removeOf(1, name, a)}))
	})

	It("removes the name on Decline", func() {
		a := bind()
		changes(s)
		send(s, t0, newMsg(dhcpv6.MessageTypeDecline, cid(1), sidOf(s), elapsed(), naOpt(1, a)))
		Expect(changes(s)).To(Equal([]ddns.Change{removeOf(1, name, a)}))
	})

	It("removes the name when the binding expires (the store's Expire, swept by the next message)", func() {
		a := bind()
		changes(s)
		later := t0.Add(testConfig("x").Valid)
		send(s, later, newMsg(dhcpv6.MessageTypeSolicit, cid(2), elapsed(), naOpt(1)))
		Expect(changes(s)).To(Equal([]ddns.Change{removeOf(1, name, a)}))
	})

	It("moves the records when the client is renumbered (its address left the pool)", func() {
		store := lease.NewMemory()
		old := netip.MustParsePrefix("2001:db8:9::1/128")
		Expect(store.Put(lease.Binding{DUID: clientDUID(1).ToBytes(), IAID: 1, Type: lease.NA, Lease: old,
			T1: time.Second, T2: time.Second, Preferred: time.Second, Valid: time.Hour,
			Granted: t0, Expires: t0.Add(time.Hour), FQDN: name})).To(Succeed())
		cfg := testConfig("dns")
		cfg.DNS = testDNS()
		s, err := New(cfg, store)
		Expect(err).NotTo(HaveOccurred())
		Expect(changes(s)).To(BeEmpty(), "a restart that keeps the leases changes nothing in DNS")
		rep := send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), elapsed(), naOpt(1)))
		a := firstLease(rep)
		Expect(a).NotTo(BeEmpty())
		Expect(changes(s)).To(Equal([]ddns.Change{removeOf(1, name, "2001:db8:9::1"), addOf(1, name, a)}),
			"the name the binding kept, without the option in the Request")
	})

	It("makes no change for a delegated prefix (no AAAA or PTR for a prefix)", func() {
		send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(3), sidOf(s), elapsed(), pdOpt(2), fqdnOpt(fqdnS, 2, 'h', '3')))
		Expect(changes(s)).To(BeEmpty())
	})

	It("hands each exchange's changes to the sink instead, when one is set", func() {
		var got []ddns.Change
		s.SetDNSSink(func(cs []ddns.Change) { got = append(got, cs...) })
		a := bind()
		Expect(got).To(Equal([]ddns.Change{addOf(1, name, a)}))
		Expect(changes(s)).To(BeEmpty())
	})

	It("refuses a bad DNS configuration naming the field", func() {
		cfg := testConfig("dns")
		cfg.DNS = testDNS()
		cfg.DNS.Zone = "lab.example"
		_, err := New(cfg, nil)
		Expect(err).To(MatchError(ContainSubstring("config: DNS: ddns: zone")))
	})
})

// BenchmarkRequestReplyDNS is BenchmarkRequestReply with DNS on and every
// Request carrying a Client FQDN option (the changes taken after each).
func BenchmarkRequestReplyDNS(b *testing.B) {
	s := dnsServer()
	sid := sidOf(s)
	pkts := benchPackets(func(n int) *dhcpv6.Message {
		return newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, elapsed(), naOpt(1), fqdnOpt(fqdnS, 2, 'h', byte('0'+n%10)))
	})
	var cs []ddns.Change
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok := s.Handle(t0.Add(time.Duration(i)*time.Microsecond), pkts[i%benchClients], clientSrc, true); !ok {
			b.Fatal("dropped")
		}
		cs = s.TakeDNSChanges(cs[:0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
