package main_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/population"
	"d6lab/netaddr6"
	"d6lab/reports/history"
	"d6lab/sim/netns"
	"d6lab/transport"
)

const namedBin = "/usr/sbin/named"

// startNamedIn runs BIND 9 in node, listening on addr port 53,
// authoritative for lab.example. and the reverse zone rz, taking updates
// signed with the HMAC-SHA256 key keyName (secret in base64).
func startNamedIn(lab *netns.Lab, node string, addr netip.Addr, rz, keyName, secret string) {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	conf := fmt.Sprintf(`options {
  directory %q; pid-file "named.pid"; session-keyfile none;
  listen-on { none; }; listen-on-v6 port 53 { %s; };
  recursion no; dnssec-validation no;
};
key %q { algorithm hmac-sha256; secret %q; };
zone "lab.example." { type primary; file "fwd.zone"; allow-update { key %q; }; allow-transfer { any; }; };
zone %q { type primary; file "rev.zone"; allow-update { key %q; }; allow-transfer { any; }; };
`, dir, addr, keyName, secret, keyName, rz, keyName)
	Expect(os.WriteFile(filepath.Join(dir, "named.conf"), []byte(conf), 0o600)).To(Succeed())
	soa := "$TTL 30\n@ IN SOA ns.lab.example. admin.lab.example. 1 30 30 300 30\n@ IN NS ns.lab.example.\n"
	Expect(os.WriteFile(filepath.Join(dir, "fwd.zone"), []byte(soa+"ns IN AAAA "+addr.String()+"\n"), 0o644)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "rev.zone"), []byte(soa), 0o644)).To(Succeed())
	log := filepath.Join(dir, "named.log")
	p, err := lab.Start(node, []string{namedBin, "-g", "-n", "1", "-c", filepath.Join(dir, "named.conf")}, log)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = lab.Kill(p) })
	Eventually(func() error {
		return lab.Do(node, func() error {
			m := new(dns.Msg)
			m.SetQuestion("lab.example.", dns.TypeSOA)
			_, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, netip.AddrPortFrom(addr, 53).String())
			return err
		})
	}).WithTimeout(15*time.Second).WithPolling(200*time.Millisecond).Should(Succeed(), func() string { return readFile(log) })
}

// zoneRecords transfers (AXFR) lab.example. and rz from node and lists
// the AAAA, PTR and DHCID records as "name TYPE rdata", sorted.
func zoneRecords(lab *netns.Lab, node string, server netip.AddrPort, rz string) []string {
	GinkgoHelper()
	var out []string
	Expect(lab.Do(node, func() error {
		for _, z := range []string{"lab.example.", rz} {
			m := new(dns.Msg)
			m.SetAxfr(z)
			ch, err := new(dns.Transfer).In(m, server.String())
			if err != nil {
				return err
			}
			for env := range ch {
				if env.Error != nil {
					return env.Error
				}
				for _, r := range env.RR {
					switch v := r.(type) {
					case *dns.AAAA:
						if v.Hdr.Name != "ns.lab.example." {
							out = append(out, v.Hdr.Name+" AAAA "+v.AAAA.String())
						}
					case *dns.PTR:
						out = append(out, v.Hdr.Name+" PTR "+v.Ptr)
					case *dns.DHCID:
						out = append(out, v.Hdr.Name+" DHCID")
					}
				}
			}
		}
		return nil
	})).To(Succeed())
	sort.Strings(out)
	return out
}

var _ = Describe("d6lab serve --ddns-* against BIND 9 in a lab", Label("root", "netns"), func() {
	It("registers each client's name (AAAA, DHCID, PTR) when it binds and removes it when it releases", func() {
		requireRoot()
		requireTool(namedBin, "bind9")
		lab := newLab("s1", "dns")
		dnsAddr := netip.MustParseAddr("2001:db8:6::2") // the dns node's address (newLab)
		rz, err := netaddr6.ReverseZone(linkPrefix)
		Expect(err).NotTo(HaveOccurred())
		const keyName, secret = "d6lab-ddns.", "c2VjcmV0IGtleSBvZiB0aGUgbGFiIGZvciB0ZXN0aW5n"
		startNamedIn(lab, "dns", dnsAddr, rz, keyName, secret)
		key := filepath.Join(GinkgoT().TempDir(), "ddns.key")
		Expect(os.WriteFile(key, []byte(keyName+" hmac-sha256. "+secret+"\n"), 0o600)).To(Succeed())
		srv := serve(lab, "s1", poolA, 255, "--t1", "10s", "--t2", "16s", "--preferred", "20s", "--valid", "30s",
			"--ddns-server", netip.AddrPortFrom(dnsAddr, 53).String(), "--ddns-zone", "lab.example.",
			"--ddns-reverse", rz, "--ddns-key-file", key, "--ddns-ttl", "30s")

		// Two simulated clients that send their names (h0, h1).
		var mu sync.Mutex
		bound := map[int]netip.Addr{}
		pop, err := population.New(population.Config{Count: 2, Seed: 3, IANA: true, SendFQDN: true, ReleaseOnStop: true,
			Sink: func(e history.Event) {
				if e.Kind == history.Bound {
					mu.Lock()
					bound[e.Client] = e.Lease.Addr()
					mu.Unlock()
				}
			}})
		Expect(err).NotTo(HaveOccurred())
		var conn *transport.UDP
		Expect(lab.Do("clients", func() (err error) {
			conn, err = transport.ListenUDP(lab.IfName("clients"), transport.ClientPort)
			return err
		})).To(Succeed())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- population.Run(ctx, pop, conn, time.Now) }()
		stopClients := sync.OnceValue(func() error { cancel(); return <-done })
		DeferCleanup(func() { _ = stopClients(); conn.Close() })

		Eventually(func() int { mu.Lock(); defer mu.Unlock(); return len(bound) }).WithTimeout(20 * time.Second).Should(Equal(2))
		mu.Lock()
		var want []string
		for i, a := range bound {
			name := history.HostName(i) + ".lab.example."
			want = append(want, name+" AAAA "+a.String(), name+" DHCID", netaddr6.ReverseName(a)+" PTR "+name)
		}
		mu.Unlock()
		sort.Strings(want)
		server := netip.AddrPortFrom(dnsAddr, 53)
		Eventually(func() []string { return zoneRecords(lab, "s1", server, rz) }).WithTimeout(10 * time.Second).Should(Equal(want))

		Expect(stopClients()).To(Succeed()) // the clients release their addresses
		Eventually(func() []string { return zoneRecords(lab, "s1", server, rz) }).WithTimeout(10 * time.Second).Should(BeEmpty())

		srv.stop()
		out := readFile(srv.log)
		Expect(out).To(ContainSubstring("ddns: add h0.lab.example. "))
		Expect(out).To(ContainSubstring("ddns conflicts 0\n"))
		Expect(out).To(ContainSubstring("ddns failures 0\n"))
		Expect(out).To(ContainSubstring("ddns dropped 0\n"))
	})
})
