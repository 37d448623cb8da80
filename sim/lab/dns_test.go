package lab

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/nameserver"
	"d6lab/sim/netns"
)

const dnsScenario = `name: dns-lab
model: split
lifetimes: {t1: 4s, t2: 6s, preferred: 10s, valid: 18s}
clients: {count: 10, ramp: 1s}
duration: 8s
dns: {zone: lab.example., sample: 500ms}
`

func loadDNSScenario(extra string) *scenarios.Scenario {
	ginkgo.GinkgoHelper()
	sc, err := scenarios.Parse("dns-lab.yaml", []byte(dnsScenario+extra))
	Expect(err).NotTo(HaveOccurred())
	return sc
}

var _ = ginkgo.Describe("the lab's DNS server", func() {
	ginkgo.It("goes on the servers' network, and every server node gets its service address after its own", func() {
		sc := loadDNSScenario("servers:\n  - {kind: kea}\n  - {}\n")
		spec := netns.Spec{Nodes: []netns.NodeSpec{
			{Name: "srv1", Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:1:1::1/64")}}, {Name: "srv2"},
		}}
		servers := []*runServer{{node: "srv1"}, {node: "srv2"}}
		serviceSpec(sc, &spec, servers)
		Expect(spec.Nodes).To(HaveLen(3))
		Expect(spec.Nodes[0].Addrs).To(Equal([]netip.Prefix{netip.MustParsePrefix("2001:db8:1:1::1/64"), netip.PrefixFrom(sim.ServiceAddr(0), 64)}))
		Expect(spec.Nodes[1].Addrs).To(Equal([]netip.Prefix{netip.PrefixFrom(sim.ServiceAddr(1), 64)}))
		Expect(spec.Nodes[2]).To(Equal(netns.NodeSpec{Name: dnsNode, Addrs: []netip.Prefix{netip.PrefixFrom(sim.DNSServerAddr(), 64)}}))

		relayed := loadDNSScenario("relay: own\n")
		spec = netns.Spec{Link: relayed.Link, Nodes: []netns.NodeSpec{{Name: "srv1"}, {Name: "srv2"}}}
		relayTopology(relayed, &spec)
		serviceSpec(relayed, &spec, servers)
		Expect(spec.Nodes).To(BeEmpty())
		Expect(spec.Upstream).To(HaveLen(3))
		Expect(spec.Upstream[0].Addrs).To(HaveLen(2))
		Expect(spec.Upstream[0].Addrs[1]).To(Equal(netip.PrefixFrom(sim.ServiceAddr(0), 64)))
		Expect(spec.Upstream[2].Name).To(Equal(dnsNode))

		Expect(servedAddrs(spec.Upstream[0].Addrs)).To(Equal(spec.Upstream[0].Addrs[:1]), "the adapters never see the service address")

		plain, err := scenarios.Parse("p.yaml", []byte("name: p\nmodel: split\nclients: {count: 1}\nduration: 1s\n"))
		Expect(err).NotTo(HaveOccurred())
		spec = netns.Spec{Nodes: []netns.NodeSpec{{Name: "srv1"}, {Name: "srv2"}}}
		serviceSpec(plain, &spec, servers)
		Expect(spec.Nodes).To(Equal([]netns.NodeSpec{{Name: "srv1"}, {Name: "srv2"}}), "no dns:, no leasequery:, nothing added")
	})

	ginkgo.It("maps a name directly in the forward zone to its client, and nothing else", func() {
		for name, want := range map[string]int{"h0.lab.example.": 0, "h42.lab.example.": 42} {
			c, ok := clientOfName(name, "lab.example.")
			Expect(ok).To(BeTrue(), name)
			Expect(c).To(Equal(want), name)
		}
		for _, name := range []string{"ns.lab.example.", "h1.x.lab.example.", "h1.other.example.", "h01.lab.example.", "lab.example."} {
			_, ok := clientOfName(name, "lab.example.")
			Expect(ok).To(BeFalse(), name)
		}
	})

	ginkgo.It("refuses a run when BIND 9 is missing, before anything is built", func() {
		saved := nameserver.NamedBinary
		defer func() { nameserver.NamedBinary = saved }()
		nameserver.NamedBinary = "/nonexistent/named"
		out := filepath.Join(ginkgo.GinkgoT().TempDir(), "out")
		_, err := Run(context.Background(), loadDNSScenario(""), Options{OutDir: out, Prefix: "d6lnone", PcapMax: -1})
		Expect(err).To(MatchError(nameserver.ErrNotInstalled))
		Expect(err).To(MatchError(ContainSubstring("/nonexistent/named missing (install the Debian package bind9)")))
		Expect(out).NotTo(BeAnExistingFile(), "the run made its output directory")
		Expect(filepath.Join("/run/netns", "d6lnone-dns")).NotTo(BeAnExistingFile())
	})
})

var _ = ginkgo.Describe("a run whose DNS server dies", ginkgo.Label("netns"), func() {
	ginkgo.It("records the death once, keeps running with failing transfers, says so in its log, and ends on time", func() {
		if os.Geteuid() != 0 {
			ginkgo.Skip("needs root (CAP_NET_ADMIN)")
		}
		if err := nameserver.Installed(); err != nil {
			ginkgo.Skip(err.Error())
		}
		bin := os.Getenv("D6LAB_BIN")
		if bin == "" {
			bin = filepath.Join(ginkgo.GinkgoT().TempDir(), "d6lab")
			out, err := exec.Command("go", "build", "-o", bin, "d6lab/cmd/d6lab").CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "go build d6lab/cmd/d6lab:\n%s", out)
		}
		sc := loadDNSScenario("")
		dir := ginkgo.GinkgoT().TempDir()
		log := &lockedBuffer{}
		type result struct {
			res *Result
			err error
		}
		done := make(chan result, 1)
		t0 := time.Now()
		go func() {
			defer ginkgo.GinkgoRecover()
			res, err := Run(context.Background(), sc, Options{OutDir: dir, Binary: bin, PcapMax: -1, Log: log})
			done <- result{res, err}
		}()
		conf := filepath.Join(dir, "dns", nameserver.ConfFile)
		var pid int
		Eventually(func() int { pid = pidWith(conf); return pid }).WithTimeout(30*time.Second).WithPolling(50*time.Millisecond).
			ShouldNot(BeZero(), "named never started")
		Eventually(log.String).WithTimeout(30 * time.Second).Should(ContainSubstring("clients starting"))
		time.Sleep(3 * time.Second)
		killedAt := time.Now()
		Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed()) // the named this run started

		var r result
		Eventually(done).WithTimeout(sc.Duration+30*time.Second).Should(Receive(&r), "the run hung after its DNS server died")
		Expect(r.err).NotTo(HaveOccurred())
		Expect(time.Since(t0)).To(BeNumerically("<", sc.Duration+30*time.Second))
		Expect(log.String()).To(ContainSubstring("the DNS server (named) died mid-run"))
		Expect(pidWith(conf)).To(BeZero(), "named left running")

		var died []history.Event
		var ok, failed int
		for i, e := range r.res.Events {
			if i > 0 {
				Expect(e.At).NotTo(BeTemporally("<", r.res.Events[i-1].At), "history out of time order at %d", i)
			}
			switch e.Kind {
			case history.DNSServerDied:
				died = append(died, e)
			case history.DNSTransfer:
				Expect(e.At).To(BeTemporally(">=", r.res.Start))
				Expect(e.At).To(BeTemporally("<=", r.res.End))
				if e.Cause == "" {
					ok++
					Expect(e.At).To(BeTemporally("<", killedAt.Add(time.Second)), "a transfer worked after named died")
				} else {
					failed++
				}
			}
		}
		Expect(died).To(HaveLen(1))
		Expect(died[0].Detail).To(ContainSubstring("killed"))
		Expect(died[0].At).To(BeTemporally("~", killedAt, 2*time.Second))
		Expect(ok).To(BeNumerically(">=", 2), "transfers before the kill")
		Expect(failed).To(BeNumerically(">=", 3), "transfers after the kill, the last one included")
	})
})

// pidWith is the process whose command line names path (0: none).
func pidWith(path string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		// named itself (argv[0]), not named-checkconf, which Prepare runs
		// on the same file just before.
		argv0, _, _ := bytes.Cut(b, []byte{0})
		if err == nil && bytes.Contains(b, []byte(path)) && string(argv0) == nameserver.NamedBinary {
			return pid
		}
	}
	return 0
}

// lockedBuffer is a log writer safe for the run and the spec.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
