package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/population"
	"d6lab/deploy"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server/daemon"
	"d6lab/sim"
	"d6lab/sim/netns"
	"d6lab/sim/session"
)

const keaDNSScenario = `name: kea-companion
description: one Kea server, for its kea-dhcp-ddns
model: split
link: 2001:db8:1:3::/64
lifetimes: {t1: 10s, t2: 16s, preferred: 20s, valid: 30s}
servers:
  - {name: s1, kind: kea, preference: 255}
clients:
  count: 1
  ramp: 1s
duration: 4s
`

// procState is the state letter of /proc/<pid>/stat (R, S, T, Z, ...), ""
// once the process is gone.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return f[0]
}

// A Kea server with DNS is one host of two processes: kea-dhcp-ddns starts
// first, ready (its NameChangeRequest socket bound), and is killed, frozen,
// thawed and restarted with kea-dhcp6; at the end it stops after it, its
// log in OUT/servers/s1-kea-dhcp-ddns.log and its CPU time in the usage.
// The DNS server it would update is not there: D2 does not need it to run.
var _ = ginkgo.Describe("a server's companions", ginkgo.Label("thirdparty", "netns"), func() {
	ginkgo.It("live and die with the server: start, kill, restart, freeze, thaw, stop", func() {
		if os.Geteuid() != 0 {
			ginkgo.Skip("needs root (CAP_NET_ADMIN)")
		}
		a, err := daemon.Lookup(deploy.Kea)
		Expect(err).NotTo(HaveOccurred())
		if err := a.Installed(); err != nil {
			ginkgo.Skip(err.Error())
		}
		if _, err := os.Stat(daemon.KeaDDNSBinary); err != nil {
			ginkgo.Skip(daemon.KeaDDNSBinary + " missing (install the Debian package kea-dhcp-ddns-server)")
		}

		path := filepath.Join(ginkgo.GinkgoT().TempDir(), "kea.yaml")
		Expect(os.WriteFile(path, []byte(keaDNSScenario), 0o644)).To(Succeed())
		sc, err := scenarios.Load(path)
		Expect(err).NotTo(HaveOccurred())
		cfg, err := sim.ServerConfig(sc, 0)
		Expect(err).NotTo(HaveOccurred())
		cfg.DNS = &deploy.DNS{
			Server: netip.AddrPortFrom(sim.DNSServerAddr(), 53), Zone: "lab.example.",
			ReverseZones: []string{"3.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."}, TTL: 30 * time.Second,
			Key: deploy.TSIG{Name: "d6lab.", Algorithm: "hmac-sha256.", Secret: "c2VjcmV0IGtleSBvZiB0aGUgbGFiIGZvciB0ZXN0aW5n"},
		}

		out := ginkgo.GinkgoT().TempDir()
		ses, err := session.Open(session.Options{Name: "companion"})
		Expect(err).NotTo(HaveOccurred())
		ginkgo.DeferCleanup(ses.Close)
		Expect(ses.Create(netns.Spec{Link: sc.Link, Clients: netns.NodeSpec{Name: "clients"},
			Nodes: []netns.NodeSpec{{Name: "srv1", Addrs: []netip.Prefix{sim.WithIID(sc.Servers[0].Prefix, ServerAddrIID)}}}})).To(Succeed())
		lab := ses.Lab
		srv := &runServer{spec: sc.Servers[0], node: "srv1", cfg: cfg, log: filepath.Join(out, "servers", "s1.log")}
		Expect(prepare(lab, srv, 0, Options{OutDir: out})).To(Succeed())
		Expect(srv.inst.Companions).To(HaveLen(1))
		ctx := context.Background()

		// start: D2 first, bound, then kea-dhcp6 listening.
		Expect(start(ctx, lab, srv)).To(Succeed())
		Expect(srv.comps).To(HaveLen(1))
		d2 := srv.comps[0].proc
		Expect(d2.Node).To(Equal("srv1"))
		Expect(d2.Log).To(Equal(filepath.Join(out, "servers", "s1-kea-dhcp-ddns.log")))
		Expect(session.UDPBound(d2.PID)).To(BeTrue())
		Expect(session.UDPBound(srv.proc.PID)).To(BeTrue(), "kea-dhcp6 holds its port 547 and its socket to D2")

		tl := newTimeline(ctx, lab, []*runServer{srv}, newServerStates(), make(chan population.Command, 1), &recorder{})

		// kill: both go.
		Expect(tl.Kill("s1")).To(Succeed())
		Expect(srv.proc.Exited()).To(BeTrue())
		Expect(d2.Exited()).To(BeTrue(), "the killed host takes its D2 with it")
		Expect(srv.comps).To(BeEmpty())

		// restart: both again, D2 a new process.
		Expect(tl.Restart("s1", true)).To(Succeed())
		Expect(srv.comps).To(HaveLen(1))
		Expect(srv.comps[0].proc.PID).NotTo(Equal(d2.PID))
		d2 = srv.comps[0].proc
		Expect(session.UDPBound(d2.PID)).To(BeTrue())

		// freeze and thaw: both stopped, both running again.
		Expect(tl.Freeze("s1")).To(Succeed())
		Eventually(func() string { return procState(d2.PID) }).Should(Equal("T"))
		Eventually(func() string { return procState(srv.proc.PID) }).Should(Equal("T"))
		Expect(tl.Thaw("s1")).To(Succeed())
		Eventually(func() string { return procState(d2.PID) }).ShouldNot(Equal("T"))
		Eventually(func() string { return procState(srv.proc.PID) }).ShouldNot(Equal("T"))

		// a restart of a running server: the old D2 is replaced.
		old := d2
		Expect(tl.Restart("s1", false)).To(Succeed())
		Expect(old.Exited()).To(BeTrue())
		Expect(srv.comps).To(HaveLen(1))
		d2 = srv.comps[0].proc

		// the end: the server, then D2, stopped; their usage counted.
		var res Server
		collectBindings(lab, srv, &res)
		Expect(res.LeasesError).To(BeEmpty())
		Expect(srv.proc.Exited()).To(BeTrue())
		Expect(d2.Exited()).To(BeTrue())
		Expect(res.Usage.MaxRSSKiB).To(BeNumerically(">", 0))
		log, err := os.ReadFile(filepath.Join(out, "servers", "s1-kea-dhcp-ddns.log"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(log)).To(ContainSubstring("DCTL_STARTING"), "D2's own log lines, three starts")
		Expect(strings.Count(string(log), "DCTL_STARTING")).To(Equal(3))
		for _, e := range tl.rec.snapshot() {
			Expect(e.Kind).To(BeElementOf(history.ServerKilled, history.ServerRestarted, history.ServerFrozen, history.ServerThawed))
		}
	})
})
