package ddns

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const namedPath = "/usr/sbin/named"

// startNamed runs BIND 9 on the loopback, authoritative for the test's
// zones and accepting updates signed with the test key, in a temporary
// directory; it is killed (by its PID) when the spec ends.
func startNamed() netip.AddrPort {
	GinkgoHelper()
	if _, err := os.Stat(namedPath); err != nil {
		Skip("BIND 9 not installed (" + namedPath + ": the Debian package bind9)")
	}
	dir := GinkgoT().TempDir()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // a free port
	Expect(err).NotTo(HaveOccurred())
	port := pc.LocalAddr().(*net.UDPAddr).Port
	Expect(pc.Close()).To(Succeed())
	conf := fmt.Sprintf(`options {
  directory %[1]q; pid-file "named.pid"; session-keyfile none;
  listen-on port %[2]d { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; dnssec-validation no;
};
key %[3]q { algorithm hmac-sha256; secret %[4]q; };
zone "lab.example." { type primary; file "fwd.zone"; allow-update { key %[3]q; }; allow-transfer { any; }; };
zone %[5]q { type primary; file "rev.zone"; allow-update { key %[3]q; }; allow-transfer { any; }; };
`, dir, port, testKey.Name, testKey.Secret, revZone)
	Expect(os.WriteFile(filepath.Join(dir, "named.conf"), []byte(conf), 0o600)).To(Succeed())
	soa := "$TTL 30\n@ IN SOA ns.lab.example. admin.lab.example. 1 30 30 300 30\n@ IN NS ns.lab.example.\n"
	Expect(os.WriteFile(filepath.Join(dir, "fwd.zone"), []byte(soa+"ns IN AAAA ::1\n"), 0o644)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "rev.zone"), []byte(soa), 0o644)).To(Succeed())
	log, err := os.Create(filepath.Join(dir, "named.log"))
	Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command(namedPath, "-g", "-n", "1", "-c", filepath.Join(dir, "named.conf"))
	cmd.Stdout, cmd.Stderr, cmd.Dir = log, log, dir
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
	})
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	Eventually(func() error {
		m := new(dns.Msg)
		m.SetQuestion("lab.example.", dns.TypeSOA)
		_, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, addr.String())
		return err
	}, 10*time.Second, 100*time.Millisecond).Should(Succeed(), func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "named.log"))
		return "named did not answer: " + string(b)
	})
	return addr
}

// transfer lists the zone's records but the SOA and NS (AXFR) as "name
// TYPE rdata".
func transfer(server netip.AddrPort, zone string) []string {
	GinkgoHelper()
	m := new(dns.Msg)
	m.SetAxfr(zone)
	ch, err := new(dns.Transfer).In(m, server.String())
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for env := range ch {
		Expect(env.Error).NotTo(HaveOccurred())
		for _, r := range env.RR {
			switch r.(type) {
			case *dns.SOA, *dns.NS:
				continue
			}
			if r.Header().Name == "ns.lab.example." {
				continue
			}
			out = append(out, r.Header().Name+" "+dns.TypeToString[r.Header().Rrtype]+" "+rdataOf(r))
		}
	}
	sort.Strings(out)
	return out
}

var _ = Describe("Runner against BIND 9", func() {
	It("adds, refuses a second client's name (conflict), replaces on renumbering and removes, with TSIG", func() {
		server := startNamed()
		cfg := testDNS()
		cfg.Server = server
		log := &syncBuffer{}
		r := startRunner(cfg, log)
		zone := func() []string { return append(transfer(server, "lab.example."), transfer(server, revZone)...) }
		rev := func(last string) string { return last + ".0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." + revZone }
		dhcidA, _ := DHCID(duidA, "h5.lab.example.")

		r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5})
		Eventually(func() uint64 { return r.Stats().OK }, 5*time.Second).Should(Equal(uint64(2)))
		Expect(zone()).To(ConsistOf(
			"h5.lab.example. AAAA 2001:db8:1::5",
			"h5.lab.example. DHCID "+encodeDigest(dhcidA),
			rev("5")+" PTR h5.lab.example."))

		r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidB, Addr: netip.MustParseAddr("2001:db8:1::6")})
		Eventually(func() uint64 { return r.Stats().Conflicts }, 5*time.Second).Should(Equal(uint64(1)))
		Expect(zone()).NotTo(ContainElement(ContainSubstring("2001:db8:1::6")))

		r.Offer(Change{Op: Remove, FQDN: "h5.lab.example.", DUID: duidA, Addr: addr5})
		r.Offer(Change{Op: Add, FQDN: "h5.lab.example.", DUID: duidA, Addr: netip.MustParseAddr("2001:db8:1::7")})
		Eventually(zone, 5*time.Second).Should(ConsistOf(
			"h5.lab.example. AAAA 2001:db8:1::7",
			"h5.lab.example. DHCID "+encodeDigest(dhcidA),
			rev("7")+" PTR h5.lab.example."))

		r.Offer(Change{Op: Remove, FQDN: "h5.lab.example.", DUID: duidA, Addr: netip.MustParseAddr("2001:db8:1::7")})
		Eventually(zone, 5*time.Second).Should(BeEmpty())
		Expect(r.Stats().Failures).To(BeZero(), log.String())
	})
})
