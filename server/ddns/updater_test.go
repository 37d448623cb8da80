package ddns

import (
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
)

var (
	t0      = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	testKey = deploy.TSIG{Name: "d6lab-ddns.", Algorithm: dns.HmacSHA256, Secret: base64.StdEncoding.EncodeToString([]byte("a lab secret of 32 octets, ok.."))}
	addr5   = netip.MustParseAddr("2001:db8:1::5")
	duidA   = mustHex("00030001020000000005")
	duidB   = mustHex("00030001020000000006")
)

const revZone = "0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa." // 2001:db8:1::/64

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func testDNS() deploy.DNS {
	return deploy.DNS{
		Server: netip.MustParseAddrPort("[fd00:d6:53::53]:53"), Zone: "lab.example.",
		ReverseZones: []string{revZone}, TTL: 30 * time.Second, Key: testKey,
	}
}

func newUpdater() *Updater {
	u, err := NewUpdater(testDNS(), Options{FirstID: 100})
	Expect(err).NotTo(HaveOccurred())
	return u
}

// answer is the DNS server's answer to m with rcode.
func answer(m *dns.Msg, rcode int) *dns.Msg {
	r := new(dns.Msg)
	r.SetRcode(m, rcode)
	return r
}

// rr is one RR of a section as (name, type, class, ttl, rdata) for field
// by field checks; rdata is the presentation form ("" for none).
type rr struct {
	Name  string
	Type  uint16
	Class uint16
	TTL   uint32
	Rdata string
}

func rrsOf(s []dns.RR) []rr {
	var out []rr
	for _, r := range s {
		h := r.Header()
		rd := ""
		if h.Rdlength > 0 { // none on the wire: a prerequisite or a deletion
			rd = rdataOf(r)
		}
		out = append(out, rr{h.Name, h.Rrtype, h.Class, h.Ttl, rd})
	}
	return out
}

func rdataOf(r dns.RR) string {
	switch v := r.(type) {
	case *dns.AAAA:
		return v.AAAA.String()
	case *dns.DHCID:
		return v.Digest
	case *dns.PTR:
		return v.Ptr
	}
	return "?" + r.String()
}

// wire packs and unpacks m: what the DNS server would read.
func wire(m *dns.Msg) *dns.Msg {
	b, err := m.Pack()
	Expect(err).NotTo(HaveOccurred())
	out := new(dns.Msg)
	Expect(out.Unpack(b)).To(Succeed())
	return out
}

func expectUpdate(m *dns.Msg, zone string, prereq, update []rr) {
	GinkgoHelper()
	m = wire(m)
	Expect(m.Opcode).To(Equal(dns.OpcodeUpdate), "RFC 2136 §2.2: opcode UPDATE")
	Expect(m.Response).To(BeFalse())
	Expect(m.Question).To(Equal([]dns.Question{{Name: zone, Qtype: dns.TypeSOA, Qclass: dns.ClassINET}}), "RFC 2136 §2.3: the zone section")
	Expect(rrsOf(m.Answer)).To(Equal(prereq), "prerequisite section")
	Expect(rrsOf(m.Ns)).To(Equal(update), "update section")
	Expect(m.Extra).To(BeEmpty(), "unsigned: the runner adds the TSIG")
}

var _ = Describe("DHCID (RFC 4701)", func() {
	It("matches RFC 4701 §3.6's DHCPv6 example (DUID 00:01:00:06:41:2d:f1:66:01:02:03:04:05:06, chi6.example.com)", func() {
		rd, err := DHCID(mustHex("000100064 12df166010203040506"[:0]+"00010006412df166010203040506"), "chi6.example.com.")
		Expect(err).NotTo(HaveOccurred())
		Expect(base64.StdEncoding.EncodeToString(rd)).To(Equal("AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="))
		Expect(rd[:3]).To(Equal([]byte{0x00, 0x02, 0x01}), "identifier type 0x0002 (DUID), digest type 1 (SHA-256)")
	})
	It("is the same for either case of the name (canonical form) and differs per DUID", func() {
		a, _ := DHCID(duidA, "H5.Lab.Example.")
		b, _ := DHCID(duidA, "h5.lab.example.")
		c, _ := DHCID(duidB, "h5.lab.example.")
		Expect(a).To(Equal(b))
		Expect(a).NotTo(Equal(c))
	})
})

var _ = Describe("Updater", func() {
	var (
		u     *Updater
		dhcid string
		rev   = "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." + revZone
	)
	BeforeEach(func() {
		u = newUpdater()
		rd, _ := DHCID(duidA, "h5.lab.example.")
		dhcid = base64.StdEncoding.EncodeToString(rd)
	})
	add := Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5}
	remove := Change{Op: Remove, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5}

	addMsg := func(m *dns.Msg) {
		GinkgoHelper()
		expectUpdate(m, "lab.example.",
			[]rr{{"h5.lab.example.", dns.TypeANY, dns.ClassNONE, 0, ""}}, // RFC 2136 §2.4.5 name not in use
			[]rr{{"h5.lab.example.", dns.TypeAAAA, dns.ClassINET, 30, "2001:db8:1::5"},
				{"h5.lab.example.", dns.TypeDHCID, dns.ClassINET, 30, dhcid}})
	}
	ptrMsg := func(m *dns.Msg) {
		GinkgoHelper()
		expectUpdate(m, revZone, nil,
			[]rr{{rev, dns.TypePTR, dns.ClassANY, 0, ""}, // §2.5.2 delete the RRset
				{rev, dns.TypePTR, dns.ClassINET, 30, "h5.lab.example."}})
	}

	It("adds AAAA and DHCID under 'name not in use', then replaces the PTR (NOERROR twice)", func() {
		out := u.Submit(t0, add, nil)
		Expect(out).To(HaveLen(1))
		addMsg(out[0])
		Expect(out[0].Id).To(Equal(uint16(100)))
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil)
		Expect(out).To(HaveLen(1))
		ptrMsg(out[0])
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil)
		Expect(out).To(BeEmpty())
		Expect(u.Jobs()).To(Equal(0))
		Expect(u.Stats()).To(Equal(Stats{Sent: 2, OK: 2}))
		res := u.Results(nil)
		Expect(res).To(HaveLen(2))
		Expect([]Step{res[0].Step, res[1].Step}).To(Equal([]Step{StepAdd, StepPTR}))
		Expect(res[0].String()).To(Equal("add h5.lab.example. 2001:db8:1::5: ok"))
	})

	It("on YXDOMAIN replaces the AAAA RRset under 'the DHCID is mine' (RFC 4703 §5.3.2), then the PTR", func() {
		out := u.Submit(t0, add, nil)
		out = u.Receive(t0, answer(out[0], dns.RcodeYXDomain), nil)
		Expect(out).To(HaveLen(1))
		expectUpdate(out[0], "lab.example.",
			[]rr{{"h5.lab.example.", dns.TypeANY, dns.ClassANY, 0, ""}, // §2.4.4 name in use
				{"h5.lab.example.", dns.TypeDHCID, dns.ClassINET, 0, dhcid}}, // §2.4.2 value-dependent
			[]rr{{"h5.lab.example.", dns.TypeAAAA, dns.ClassANY, 0, ""}, // §2.5.2
				{"h5.lab.example.", dns.TypeAAAA, dns.ClassINET, 30, "2001:db8:1::5"}})
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil)
		Expect(out).To(HaveLen(1))
		ptrMsg(out[0])
		u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil)
		Expect(u.Stats()).To(Equal(Stats{Sent: 3, OK: 2, Skipped: 1}))
	})

	It("on YXDOMAIN then NXRRSET counts a conflict and leaves the name and the PTR alone", func() {
		out := u.Submit(t0, add, nil)
		out = u.Receive(t0, answer(out[0], dns.RcodeYXDomain), nil)
		out = u.Receive(t0, answer(out[0], dns.RcodeNXRrset), nil)
		Expect(out).To(BeEmpty(), "no PTR for a name that is another client's")
		Expect(u.Jobs()).To(Equal(0))
		Expect(u.Stats()).To(Equal(Stats{Sent: 2, Skipped: 1, Conflicts: 1}))
		res := u.Results(nil)
		Expect(res[1].Outcome).To(Equal(Conflict))
		Expect(res[1].Detail).To(Equal("nxrrset"))
	})

	It("retransmits the same update on timeout with a doubling timeout, and gives up after Tries sends", func() {
		out := u.Submit(t0, add, nil)
		first := out[0]
		d, ok := u.NextDeadline()
		Expect(ok).To(BeTrue())
		Expect(d).To(Equal(t0.Add(time.Second)))
		Expect(u.Expire(t0.Add(999*time.Millisecond), nil)).To(BeEmpty(), "not due yet")
		now := t0.Add(time.Second)
		var gaps []time.Duration
		for range 3 {
			out = u.Expire(now, nil)
			Expect(out).To(HaveLen(1))
			Expect(out[0]).To(BeIdenticalTo(first), "the same message and ID")
			d, _ = u.NextDeadline()
			gaps = append(gaps, d.Sub(now))
			now = d
		}
		Expect(gaps).To(Equal([]time.Duration{2 * time.Second, 4 * time.Second, 4 * time.Second}), "doubling up to MaxTimeout")
		Expect(u.Expire(now, nil)).To(BeEmpty())
		Expect(u.Jobs()).To(Equal(0))
		_, ok = u.NextDeadline()
		Expect(ok).To(BeFalse())
		Expect(u.Stats()).To(Equal(Stats{Sent: 1, Retries: 3, Failures: 1}))
		res := u.Results(nil)
		Expect(res).To(HaveLen(1))
		Expect(res[0].Outcome).To(Equal(Timeout))
		Expect(res[0].Tries).To(Equal(4))
		// A late answer is ignored.
		Expect(u.Receive(now, answer(first, dns.RcodeSuccess), nil)).To(BeEmpty())
	})

	It("takes an answer to a retransmission and goes on", func() {
		out := u.Submit(t0, add, nil)
		re := u.Expire(t0.Add(time.Second), nil)
		Expect(re).To(HaveLen(1))
		out = u.Receive(t0.Add(1500*time.Millisecond), answer(out[0], dns.RcodeSuccess), nil)
		Expect(out).To(HaveLen(1))
		ptrMsg(out[0])
	})

	It("removes the AAAA under 'the DHCID is mine', then the DHCID if no A/AAAA is left, then the PTR if it names the client (RFC 4703 §5.5)", func() {
		out := u.Submit(t0, remove, nil)
		Expect(out).To(HaveLen(1))
		expectUpdate(out[0], "lab.example.",
			[]rr{{"h5.lab.example.", dns.TypeDHCID, dns.ClassINET, 0, dhcid}},
			[]rr{{"h5.lab.example.", dns.TypeAAAA, dns.ClassNONE, 0, "2001:db8:1::5"}}) // §2.5.4
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil)
		Expect(out).To(HaveLen(1))
		expectUpdate(out[0], "lab.example.",
			[]rr{{"h5.lab.example.", dns.TypeDHCID, dns.ClassINET, 0, dhcid},
				{"h5.lab.example.", dns.TypeA, dns.ClassNONE, 0, ""}, // §2.4.3
				{"h5.lab.example.", dns.TypeAAAA, dns.ClassNONE, 0, ""}},
			[]rr{{"h5.lab.example.", dns.TypeANY, dns.ClassANY, 0, ""}}) // §2.5.3
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil)
		Expect(out).To(HaveLen(1))
		expectUpdate(out[0], revZone,
			[]rr{{rev, dns.TypePTR, dns.ClassINET, 0, "h5.lab.example."}},
			[]rr{{rev, dns.TypePTR, dns.ClassANY, 0, ""}})
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil)
		Expect(out).To(BeEmpty())
		Expect(u.Stats()).To(Equal(Stats{Sent: 3, OK: 3}))
	})

	It("on removal, a DHCID that is not the client's is a conflict: the name stays, the PTR still goes", func() {
		out := u.Submit(t0, remove, nil)
		out = u.Receive(t0, answer(out[0], dns.RcodeNXRrset), nil)
		Expect(out).To(HaveLen(1))
		Expect(out[0].Question[0].Name).To(Equal(revZone), "straight to the PTR")
		u.Receive(t0, answer(out[0], dns.RcodeNXRrset), nil)
		Expect(u.Stats()).To(Equal(Stats{Sent: 2, Conflicts: 1, Skipped: 1}))
	})

	It("runs the changes of one name in order, one at a time, and of other names side by side", func() {
		out := u.Submit(t0, add, nil)
		Expect(u.Submit(t0, remove, nil)).To(BeEmpty(), "waits for the add")
		other := Change{Op: Add, FQDN: "h6.lab.example.", DUID: duidB, Addr: netip.MustParseAddr("2001:db8:1::6")}
		Expect(u.Submit(t0, other, nil)).To(HaveLen(1), "another name goes at once")
		Expect(u.Jobs()).To(Equal(3))
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil) // add -> PTR
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil) // PTR done -> the removal starts
		Expect(out).To(HaveLen(1))
		Expect(rrsOf(wire(out[0]).Ns)[0].Class).To(Equal(uint16(dns.ClassNONE)), "the removal's first update")
	})

	It("refuses a name outside its zone without sending anything, and skips the PTR outside the reverse zones", func() {
		out := u.Submit(t0, Change{Op: Add, FQDN: "h5.elsewhere.example.", DUID: duidA, Addr: addr5}, nil)
		Expect(out).To(BeEmpty())
		Expect(u.Stats().Failures).To(Equal(uint64(1)))
		out = u.Submit(t0, Change{Op: Add, FQDN: "h7.lab.example.", DUID: duidA, Addr: netip.MustParseAddr("2001:db8:2::7")}, nil)
		out = u.Receive(t0, answer(out[0], dns.RcodeSuccess), nil)
		Expect(out).To(BeEmpty(), "no reverse zone holds 2001:db8:2::7")
		Expect(u.Jobs()).To(Equal(0))
	})

	It("reports Full at MaxJobs", func() {
		u, _ := NewUpdater(testDNS(), Options{MaxJobs: 2})
		u.Submit(t0, add, nil)
		Expect(u.Full()).To(BeFalse())
		u.Submit(t0, remove, nil)
		Expect(u.Full()).To(BeTrue())
	})
})

var _ = Describe("Validate and the key file", func() {
	It("names the bad field", func() {
		c := testDNS()
		c.Zone = "lab.example"
		Expect(Validate(c)).To(MatchError(ContainSubstring("zone")))
		c = testDNS()
		c.ReverseZones = []string{"1.0.0.2.in-addr.arpa."}
		Expect(Validate(c)).To(MatchError(ContainSubstring("reverse zone")))
		c = testDNS()
		c.Key.Algorithm = "hmac-md4."
		Expect(Validate(c)).To(MatchError(ContainSubstring("algorithm")))
		c = testDNS()
		c.Key.Secret = "not base64!"
		Expect(Validate(c)).To(MatchError(ContainSubstring("base64")))
		c = testDNS()
		c.TTL = 1500 * time.Millisecond
		Expect(Validate(c)).To(MatchError(ContainSubstring("TTL")))
		Expect(Validate(testDNS())).To(Succeed())
	})
	It("reads back what it writes and qualifies names", func() {
		k, err := ParseKey(FormatKey(testKey))
		Expect(err).NotTo(HaveOccurred())
		Expect(k).To(Equal(testKey))
		k, err = ParseKey([]byte("# comment\n\nd6lab-ddns hmac-sha256 " + testKey.Secret + "\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(k).To(Equal(testKey))
		_, err = ParseKey([]byte("key { algorithm hmac-sha256; };"))
		Expect(err).To(MatchError(ContainSubstring("name algorithm secret")))
		_, err = ParseKey([]byte("a. hmac-sha256. " + testKey.Secret + "\nb. hmac-sha256. " + testKey.Secret))
		Expect(err).To(MatchError(ContainSubstring("one key per file")))
		_, err = ParseKey(nil)
		Expect(err).To(MatchError(ContainSubstring("no key line")))
	})
})
