package nameserver_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/miekg/dns"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/netaddr6"
	"d6lab/reports/history"
	"d6lab/sim"
	"d6lab/sim/nameserver"
	"d6lab/sim/netns"
)

var linkPrefix = netip.MustParsePrefix("2001:db8:53::/64")

// dhcid is the DHCID RDATA of RFC 4701 §3.3 for a DUID (identifier type
// 2, digest type 1: SHA-256 of the DUID and the name in wire format).
func dhcid(duid []byte, fqdn string) []byte {
	wire := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(fqdn), wire, 0, nil, false)
	Expect(err).NotTo(HaveOccurred())
	sum := sha256.Sum256(append(append([]byte(nil), duid...), wire[:n]...))
	return append([]byte{0, 2, 1}, sum[:]...)
}

func dhcidRR(name string, rdata []byte) dns.RR {
	return &dns.DHCID{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeDHCID, Class: dns.ClassINET, Ttl: 30},
		Digest: base64.StdEncoding.EncodeToString(rdata)}
}

// send sends one update from node over network ("tcp" or "udp") and
// returns the response's RCODE, or its TSIG error when BIND refused the
// signature (RFC 8945 §5.2: the response is then unsigned).
func send(lab *netns.Lab, node, network string, server netip.AddrPort, m *dns.Msg, key *deploy.TSIG) int {
	var rcode int
	Expect(lab.Do(node, func() error {
		c := &dns.Client{Net: network, Timeout: 2 * time.Second}
		if key != nil {
			c.TsigSecret = map[string]string{key.Name: key.Secret}
			m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
		}
		r, _, err := c.Exchange(m, server.String())
		if r == nil {
			return err
		}
		rcode = r.Rcode
		if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
			rcode = int(t.Error)
		}
		return nil
	})).To(Succeed())
	return rcode
}

func rr(s string) dns.RR {
	r, err := dns.NewRR(s)
	Expect(err).NotTo(HaveOccurred())
	return r
}

func newUpdate(zone string) *dns.Msg {
	m := new(dns.Msg)
	m.SetUpdate(zone)
	return m
}

// hostFiles is every file under dir with its content, to show the host's
// BIND configuration untouched.
func hostFiles(dir string) map[string]string {
	files := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			files[p] = string(b)
		}
		return nil
	})
	return files
}

var _ = Describe("BIND 9 in a lab", Label("netns"), func() {
	It("takes signed updates, refuses the rest, transfers its zones, logs each update, and a dead server fails a transfer in time", func() {
		if os.Geteuid() != 0 {
			Skip("needs root (CAP_NET_ADMIN): network namespaces, veth pairs and a bridge")
		}
		if err := nameserver.Installed(); err != nil {
			Skip(err.Error())
		}
		before := hostFiles("/etc/bind")

		dnsAddr, src1, src2 := sim.DNSServerAddr(), sim.ServiceAddr(0), sim.ServiceAddr(1)
		lab, err := netns.Create(netns.Spec{
			Prefix: netns.NewPrefix(),
			Link:   linkPrefix,
			Clients: netns.NodeSpec{Name: "clients", Addrs: []netip.Prefix{
				netip.PrefixFrom(linkPrefix.Addr().Next(), 64),
			}},
			Nodes: []netns.NodeSpec{
				{Name: "dns", Addrs: []netip.Prefix{netip.PrefixFrom(dnsAddr, 64)}},
				{Name: "srv1", Addrs: []netip.Prefix{netip.PrefixFrom(src1, 64)}},
				{Name: "srv2", Addrs: []netip.Prefix{netip.PrefixFrom(src2, 64)}},
			},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(lab.Teardown()).To(Succeed()) })

		const zone = "lab.example."
		key, err := nameserver.NewKey("ddns.lab.example.")
		Expect(err).NotTo(HaveOccurred())
		rev, err := netaddr6.ReverseZone(linkPrefix)
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		in, err := nameserver.Prepare(nameserver.Config{
			Dir: dir, Listen: dnsAddr, Zones: []string{zone, rev}, TTL: 30 * time.Second, Key: key,
		})
		Expect(err).NotTo(HaveOccurred())
		proc, err := lab.Start("dns", in.Argv, filepath.Join(dir, "named.out"))
		Expect(err).NotTo(HaveOccurred())
		server := netip.AddrPortFrom(dnsAddr, 53)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, z := range []string{zone, rev} {
			Expect(lab.Do("srv1", func() error { return nameserver.Ready(ctx, server, z) })).To(Succeed())
		}

		// h1 through srv1 (RFC 4703 §5.3.1): the name unused, AAAA and
		// DHCID added; its PTR in the reverse zone.
		a1 := netip.MustParseAddr("2001:db8:53::3")
		h1 := history.HostName(1) + "." + zone
		id1 := dhcid([]byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}, h1)
		m := newUpdate(zone)
		m.NameNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: h1}}})
		m.Insert([]dns.RR{rr(h1 + " 30 IN AAAA " + a1.String()), dhcidRR(h1, id1)})
		Expect(send(lab, "srv1", "tcp", server, m, &key)).To(Equal(dns.RcodeSuccess))
		ptr := netaddr6.ReverseName(a1)
		m = newUpdate(rev)
		m.RemoveRRset([]dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: ptr, Rrtype: dns.TypePTR}}})
		m.Insert([]dns.RR{rr(ptr + " 30 IN PTR " + h1)})
		Expect(send(lab, "srv1", "tcp", server, m, &key)).To(Equal(dns.RcodeSuccess))

		// Another client claiming h1 through srv2: the name is in use
		// (YXDOMAIN), then its DHCID does not match (NXRRSET): a conflict
		// (RFC 4703 §5.3.2).
		a2 := netip.MustParseAddr("2001:db8:53::4")
		id2 := dhcid([]byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 2}, h1)
		m = newUpdate(zone)
		m.NameNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: h1}}})
		m.Insert([]dns.RR{rr(h1 + " 30 IN AAAA " + a2.String()), dhcidRR(h1, id2)})
		Expect(send(lab, "srv2", "tcp", server, m, &key)).To(Equal(dns.RcodeYXDomain))
		m = newUpdate(zone)
		m.Used([]dns.RR{dhcidRR(h1, id2)})
		m.RemoveRRset([]dns.RR{&dns.AAAA{Hdr: dns.RR_Header{Name: h1, Rrtype: dns.TypeAAAA}}})
		m.Insert([]dns.RR{rr(h1 + " 30 IN AAAA " + a2.String())})
		Expect(send(lab, "srv2", "tcp", server, m, &key)).To(Equal(dns.RcodeNXRrset))

		// Unsigned; signed with a key BIND does not know; with the right
		// name and a wrong secret: all refused.
		m = newUpdate(zone)
		m.Insert([]dns.RR{rr("h2." + zone + " 30 IN AAAA " + a2.String())})
		Expect(send(lab, "srv2", "tcp", server, m, nil)).To(Equal(dns.RcodeRefused))
		unknown, err := nameserver.NewKey("other.lab.example.")
		Expect(err).NotTo(HaveOccurred())
		m = newUpdate(zone)
		m.Insert([]dns.RR{rr("h3." + zone + " 30 IN AAAA " + a2.String())})
		Expect(send(lab, "srv2", "tcp", server, m, &unknown)).To(Equal(dns.RcodeBadKey))
		forged, err := nameserver.NewKey(key.Name)
		Expect(err).NotTo(HaveOccurred())
		m = newUpdate(zone)
		m.Insert([]dns.RR{rr("h3." + zone + " 30 IN AAAA " + a2.String())})
		Expect(send(lab, "srv2", "tcp", server, m, &forged)).To(Equal(dns.RcodeBadSig))
		// A zone it does not serve.
		m = newUpdate("other.example.")
		m.Insert([]dns.RR{rr("h4.other.example. 30 IN AAAA " + a2.String())})
		Expect(send(lab, "srv1", "tcp", server, m, &key)).To(Equal(dns.RcodeNotAuth))

		// h5 over UDP, then removed (RFC 4703 §5.5: its DHCID matches);
		// removing a name that has nothing changes nothing; h5's DHCID is
		// gone, so a later match fails; a record outside the zone.
		h5 := "h5." + zone
		id5 := dhcid([]byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 5}, h5)
		m = newUpdate(zone)
		m.NameNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: h5}}})
		m.Insert([]dns.RR{rr(h5 + " 30 IN AAAA 2001:db8:53::5"), dhcidRR(h5, id5)})
		Expect(send(lab, "srv1", "udp", server, m, &key)).To(Equal(dns.RcodeSuccess))
		m = newUpdate(zone)
		m.Used([]dns.RR{dhcidRR(h5, id5)})
		m.Remove([]dns.RR{rr(h5 + " 0 IN AAAA 2001:db8:53::5")})
		m.RemoveRRset([]dns.RR{&dns.DHCID{Hdr: dns.RR_Header{Name: h5, Rrtype: dns.TypeDHCID}}})
		Expect(send(lab, "srv1", "tcp", server, m, &key)).To(Equal(dns.RcodeSuccess))
		m = newUpdate(zone)
		m.RemoveName([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: "h6." + zone}}})
		Expect(send(lab, "srv1", "tcp", server, m, &key)).To(Equal(dns.RcodeSuccess))
		m = newUpdate(zone)
		m.Used([]dns.RR{dhcidRR(h5, id5)})
		m.Insert([]dns.RR{rr(h5 + " 30 IN AAAA 2001:db8:53::5")})
		Expect(send(lab, "srv1", "tcp", server, m, &key)).To(Equal(dns.RcodeNXRrset))
		m = newUpdate(zone)
		m.Insert([]dns.RR{rr("h7.other.example. 30 IN AAAA 2001:db8:53::5")})
		Expect(send(lab, "srv1", "tcp", server, m, &key)).To(Equal(dns.RcodeNotZone))

		var fwd, back []nameserver.Record
		Expect(lab.Do("srv1", func() error {
			var err error
			if fwd, err = nameserver.Transfer(server, zone, key, 2*time.Second); err != nil {
				return err
			}
			back, err = nameserver.Transfer(server, rev, key, 2*time.Second)
			return err
		})).To(Succeed())
		Expect(fwd).To(ConsistOf(
			nameserver.Record{Name: h1, Type: history.DNSTypeAAAA, Addr: a1, TTL: 30 * time.Second},
			nameserver.Record{Name: h1, Type: history.DNSTypeDHCID, Data: hex.EncodeToString(id1), TTL: 30 * time.Second},
		))
		Expect(back).To(ConsistOf(
			nameserver.Record{Name: ptr, Type: history.DNSTypePTR, Addr: a1, Data: h1, TTL: 30 * time.Second},
		))

		if *update {
			raw, err := os.ReadFile(in.UpdateLog)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(goldenLog, raw, 0o644)).To(Succeed())
		}
		ups, skipped, err := nameserver.ReadUpdates(in.UpdateLog)
		Expect(err).NotTo(HaveOccurred())
		Expect(skipped).To(BeZero())
		Expect(withoutTimes(ups)).To(Equal(goldenUpdates(src1, src2, rev)))

		// Only the run's key may transfer (after the log is read: BIND logs a TSIG error
		// without saying whether the request was an update).
		Expect(lab.Do("srv2", func() error {
			_, err := nameserver.Transfer(server, zone, forged, 2*time.Second)
			return err
		})).To(MatchError(ContainSubstring("TSIG does not verify with key ddns.lab.example.")))

		// Frozen: the transfer gives up at its timeout. Killed: at once.
		Expect(lab.Freeze(proc)).To(Succeed())
		Expect(lab.Do("srv1", func() error {
			start := time.Now()
			_, err := nameserver.Transfer(server, zone, key, 500*time.Millisecond)
			Expect(err).To(HaveOccurred())
			Expect(time.Since(start)).To(BeNumerically("<", 1500*time.Millisecond))
			GinkgoWriter.Printf("frozen: %v after %s\n", err, time.Since(start))
			return nil
		})).To(Succeed())
		Expect(lab.Kill(proc)).To(Succeed())
		Expect(proc.Wait()).To(MatchError(ContainSubstring(syscall.SIGKILL.String())))
		Expect(lab.Do("srv1", func() error {
			start := time.Now()
			_, err := nameserver.Transfer(server, zone, key, 500*time.Millisecond)
			Expect(err).To(HaveOccurred())
			Expect(time.Since(start)).To(BeNumerically("<", 1500*time.Millisecond))
			GinkgoWriter.Printf("killed: %v after %s\n", err, time.Since(start))
			return nil
		})).To(Succeed())

		Expect(hostFiles("/etc/bind")).To(Equal(before))
	})
})
