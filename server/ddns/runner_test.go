package ddns

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
)

// zoneServer is an in-memory authoritative server for the test's zones
// that applies RFC 2136 updates (prerequisites §3.2, updates §3.4) signed
// with the test key, on a miekg/dns server on the loopback.
type zoneServer struct {
	mu    sync.Mutex
	zones []string
	rrs   map[string][]dns.RR // by owner name
	srv   *dns.Server
	addr  netip.AddrPort
	bad   int // updates refused for their TSIG
}

func startZoneServer(zones ...string) *zoneServer {
	GinkgoHelper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	z := &zoneServer{zones: zones, rrs: map[string][]dns.RR{}}
	z.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	started := make(chan struct{})
	z.srv = &dns.Server{PacketConn: pc, Handler: z, NotifyStartedFunc: func() { close(started) },
		TsigSecret:    map[string]string{testKey.Name: testKey.Secret},
		MsgAcceptFunc: func(dns.Header) dns.MsgAcceptAction { return dns.MsgAccept }} // UPDATE too
	go func() { _ = z.srv.ActivateAndServe() }()
	<-started
	DeferCleanup(func() { _ = z.srv.Shutdown() })
	return z
}

func (z *zoneServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	r := new(dns.Msg)
	r.SetReply(req)
	if req.Opcode != dns.OpcodeUpdate || len(req.Question) != 1 {
		r.Rcode = dns.RcodeFormatError
	} else if t := req.IsTsig(); t == nil || w.TsigStatus() != nil {
		z.mu.Lock()
		z.bad++
		z.mu.Unlock()
		r.Rcode = dns.RcodeNotAuth // RFC 8945 §5.2: an update must be signed with a known key
	} else {
		z.mu.Lock()
		r.Rcode = z.update(req)
		z.mu.Unlock()
	}
	if t := req.IsTsig(); t != nil && w.TsigStatus() == nil {
		r.SetTsig(t.Hdr.Name, t.Algorithm, Fudge, time.Now().Unix())
	}
	_ = w.WriteMsg(r)
}

func sameRdata(a, b dns.RR) bool {
	a, b = dns.Copy(a), dns.Copy(b)
	a.Header().Class, b.Header().Class = dns.ClassINET, dns.ClassINET
	return dns.IsDuplicate(a, b)
}

func (z *zoneServer) rrset(name string, t uint16) []dns.RR {
	var out []dns.RR
	for _, r := range z.rrs[name] {
		if t == dns.TypeANY || r.Header().Rrtype == t {
			out = append(out, r)
		}
	}
	return out
}

// update applies RFC 2136 §3.2 and §3.4 to the zone of the question.
func (z *zoneServer) update(req *dns.Msg) int {
	zone := strings.ToLower(req.Question[0].Name)
	known := false
	for _, zz := range z.zones {
		known = known || zz == zone
	}
	if !known {
		return dns.RcodeNotAuth
	}
	valueDep := map[[2]string][]dns.RR{}
	for _, p := range req.Answer {
		h := p.Header()
		name := strings.ToLower(h.Name)
		switch h.Class {
		case dns.ClassANY:
			if len(z.rrset(name, h.Rrtype)) == 0 {
				if h.Rrtype == dns.TypeANY {
					return dns.RcodeNameError
				}
				return dns.RcodeNXRrset
			}
		case dns.ClassNONE:
			if len(z.rrset(name, h.Rrtype)) > 0 {
				if h.Rrtype == dns.TypeANY {
					return dns.RcodeYXDomain
				}
				return dns.RcodeYXRrset
			}
		case dns.ClassINET:
			k := [2]string{name, dns.TypeToString[h.Rrtype]}
			valueDep[k] = append(valueDep[k], p)
		}
	}
	for k, want := range valueDep { // §3.2.3: the RRsets must match exactly
		have := z.rrset(k[0], dns.StringToType[k[1]])
		if len(have) != len(want) {
			return dns.RcodeNXRrset
		}
		for _, w := range want {
			found := false
			for _, h := range have {
				found = found || sameRdata(w, h)
			}
			if !found {
				return dns.RcodeNXRrset
			}
		}
	}
	for _, u := range req.Ns {
		h := u.Header()
		name := strings.ToLower(h.Name)
		switch h.Class {
		case dns.ClassINET:
			dup := false
			for _, r := range z.rrs[name] {
				dup = dup || sameRdata(r, u)
			}
			if !dup {
				z.rrs[name] = append(z.rrs[name], dns.Copy(u))
			}
		case dns.ClassANY:
			var keep []dns.RR
			for _, r := range z.rrs[name] {
				if h.Rrtype != dns.TypeANY && r.Header().Rrtype != h.Rrtype {
					keep = append(keep, r)
				}
			}
			z.rrs[name] = keep
		case dns.ClassNONE:
			var keep []dns.RR
			for _, r := range z.rrs[name] {
				if !sameRdata(r, u) {
					keep = append(keep, r)
				}
			}
			z.rrs[name] = keep
		}
		if len(z.rrs[name]) == 0 {
			delete(z.rrs, name)
		}
	}
	return dns.RcodeSuccess
}

// records lists the zone as "name TYPE rdata" lines, sorted by owner.
func (z *zoneServer) records() []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	var out []string
	for _, rs := range z.rrs {
		for _, r := range rs {
			out = append(out, r.Header().Name+" "+dns.TypeToString[r.Header().Rrtype]+" "+rdataOf(r))
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startRunner(cfg deploy.DNS, log *syncBuffer) *Runner {
	GinkgoHelper()
	r, err := NewRunner(cfg, Options{Timeout: 200 * time.Millisecond, Tries: 3}, 16, log)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	DeferCleanup(func() {
		cancel()
		Expect(<-done).To(Succeed())
	})
	return r
}

var _ = Describe("Runner against an in-memory DNS server with TSIG", func() {
	var (
		z   *zoneServer
		cfg deploy.DNS
		log *syncBuffer
	)
	rev5 := "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." + revZone
	BeforeEach(func() {
		z = startZoneServer("lab.example.", revZone)
		cfg = testDNS()
		cfg.Server = z.addr
		log = &syncBuffer{}
	})
	dhcidOf := func(duid []byte) string {
		rd, _ := DHCID(duid, "h5.lab.example.")
		return encodeDigest(rd)
	}

	It("applies signed updates, refuses a second client's name as a conflict, and removes the first client's records", func() {
		r := startRunner(cfg, log)
		Expect(r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5})).To(BeTrue())
		Eventually(z.records).Should(ConsistOf(
			"h5.lab.example. AAAA 2001:db8:1::5",
			"h5.lab.example. DHCID "+dhcidOf(duidA),
			rev5+" PTR h5.lab.example."))
		Eventually(r.Stats).Should(Equal(RunnerStats{Stats: Stats{Sent: 2, OK: 2}}))

		// Another client (another DUID) wants the same name for another
		// address: YXDOMAIN, then NXRRSET on its DHCID: a conflict.
		Expect(r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidB, Addr: netip.MustParseAddr("2001:db8:1::6")})).To(BeTrue())
		Eventually(func() uint64 { return r.Stats().Conflicts }).Should(Equal(uint64(1)))
		Expect(z.records()).To(ConsistOf(
			"h5.lab.example. AAAA 2001:db8:1::5",
			"h5.lab.example. DHCID "+dhcidOf(duidA),
			rev5+" PTR h5.lab.example."), "the first client's records untouched, no PTR for the second")

		// The first client's renumbering: its own DHCID lets it replace.
		Expect(r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: netip.MustParseAddr("2001:db8:1::7")})).To(BeTrue())
		Eventually(z.records).Should(ContainElement("h5.lab.example. AAAA 2001:db8:1::7"))
		Expect(z.records()).NotTo(ContainElement("h5.lab.example. AAAA 2001:db8:1::5"))

		Expect(r.Offer(Change{Op: Remove, FQDN: "h5.lab.example.", DUID: duidA, Addr: netip.MustParseAddr("2001:db8:1::7")})).To(BeTrue())
		Expect(r.Offer(Change{Op: Remove, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5})).To(BeTrue())
		Eventually(z.records).Should(BeEmpty())
		Expect(z.bad).To(BeZero())
		Expect(log.String()).To(ContainSubstring("ddns: replace h5.lab.example. 2001:db8:1::6: conflict (nxrrset)\n"))
		Expect(log.String()).To(ContainSubstring("ddns: add h5.lab.example. 2001:db8:1::5: ok\n"))
	})

	It("finishes the changes queued when it is stopped (a Release just before the server stops), within the drain time", func() {
		r, err := NewRunner(cfg, Options{}, 16, log)
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5})
		Eventually(func() uint64 { return r.Stats().OK }).Should(Equal(uint64(2)))
		r.Offer(Change{Op: Remove, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5})
		cancel()
		Expect(<-done).To(Succeed())
		Expect(z.records()).To(BeEmpty())
		Expect(r.Stats().OK).To(Equal(uint64(5)))
	})

	It("fails an update signed with another key (NOTAUTH, unsigned answer) and changes nothing", func() {
		cfg.Key.Secret = "b3RoZXIgc2VjcmV0"
		r := startRunner(cfg, log)
		r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5})
		Eventually(func() uint64 { return r.Stats().Failures }).Should(Equal(uint64(1)))
		Expect(z.records()).To(BeEmpty())
		Expect(log.String()).To(ContainSubstring("unsigned answer (NOTAUTH)"))
	})

	It("gives up on a DNS server that does not answer, and never blocks Offer: a full queue drops and counts", func() {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0") // a server that reads nothing
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(pc.Close)
		cfg.Server = pc.LocalAddr().(*net.UDPAddr).AddrPort()
		r := startRunner(cfg, log)
		r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5})
		Eventually(r.Stats, 5*time.Second).Should(Equal(RunnerStats{Stats: Stats{Sent: 1, Retries: 2, Failures: 1}}))
		Expect(log.String()).To(ContainSubstring("timeout (no answer from"))

		idle, err := NewRunner(cfg, Options{}, 2, nil) // not running: nobody drains its queue
		Expect(err).NotTo(HaveOccurred())
		c := Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5}
		Expect(idle.Offer(c)).To(BeTrue())
		Expect(idle.Offer(c)).To(BeTrue())
		Expect(idle.Offer(c)).To(BeFalse())
		idle.OfferAll([]Change{c, c})
		Expect(idle.Stats().Dropped).To(Equal(uint64(3)))
	})
})
