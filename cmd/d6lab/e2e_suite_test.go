package main_test

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/netns"
)

// The end-to-end specs run the d6lab binary inside network namespaces
// against real third-party DHCPv6 software (ISC dhclient, Kea's perfdhcp).
// They need root; each skips with the reason when it cannot run. The
// report specs (report_test.go) run it with the virtual engine as anyone.

func TestD6lab(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "d6lab end to end")
}

var (
	// d6labBin is the binary under test, built once by BeforeSuite. The
	// specs that need root skip before using it when not root; the others
	// (exit codes, reports) run it with the virtual engine.
	d6labBin string

	// prefixes lists the run prefixes of the labs this suite made, so
	// AfterSuite can check that none is left behind.
	prefixesMu sync.Mutex
	prefixes   []string
)

var _ = BeforeSuite(func() {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	d6labBin = filepath.Join(GinkgoT().TempDir(), "d6lab")
	cmd := exec.Command(goBin, "build", "-o", d6labBin, ".")
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build ./cmd/d6lab:\n%s", out)
})

var _ = AfterSuite(func() {
	prefixesMu.Lock()
	defer prefixesMu.Unlock()
	if len(prefixes) == 0 {
		return
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "ip netns list: %s", out)
	for _, line := range strings.Split(string(out), "\n") {
		for _, p := range prefixes {
			Expect(line).NotTo(HavePrefix(p+"-"), "namespace left behind after the suite")
		}
	}
	left, err := netns.Leftovers()
	Expect(err).NotTo(HaveOccurred())
	for _, l := range left {
		for _, p := range prefixes {
			Expect(l).NotTo(ContainSubstring(p+"-"), "left behind after the suite")
		}
	}
})

// requireRoot skips the spec unless it runs as root.
func requireRoot() {
	if os.Geteuid() != 0 {
		Skip("needs root (CAP_NET_ADMIN): network namespaces, veth pairs and a bridge")
	}
	Expect(d6labBin).NotTo(BeEmpty(), "BeforeSuite did not build d6lab")
}

// requireTool skips the spec when path is missing, naming the Debian
// package that provides it (scripts/setup.sh installs it).
func requireTool(path, pkg string) {
	if _, err := os.Stat(path); err != nil {
		Skip(fmt.Sprintf("needs %s (Debian package %s; run scripts/setup.sh)", path, pkg))
	}
}

// linkPrefix is the client link of every lab in this suite; the pools are
// disjoint slices of it.
var linkPrefix = netip.MustParsePrefix("2001:db8:6::/64")

// newLab builds a lab with the clients node and one server node per name,
// the servers numbered 2001:db8:6::1, ::2, ... It registers the teardown.
func newLab(servers ...string) *netns.Lab {
	spec := netns.Spec{
		Prefix:  netns.NewPrefix(),
		Link:    linkPrefix,
		Clients: netns.NodeSpec{Name: "clients"},
	}
	for i, name := range servers {
		a := linkPrefix.Addr().As16()
		a[15] = byte(i + 1)
		spec.Nodes = append(spec.Nodes, netns.NodeSpec{
			Name:  name,
			Addrs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom16(a), 64)},
		})
	}
	prefixesMu.Lock()
	prefixes = append(prefixes, spec.Prefix)
	prefixesMu.Unlock()
	lab, err := netns.Create(spec)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(lab.Teardown()).To(Succeed())
		for _, node := range append([]string{"clients", "link"}, servers...) {
			_, err := os.Stat(filepath.Join("/run/netns", spec.Prefix+"-"+node))
			Expect(os.IsNotExist(err)).To(BeTrue(), "namespace %s-%s left after teardown", spec.Prefix, node)
		}
	})
	return lab
}

// pool is an inclusive address range, as `d6lab serve --pool` takes it.
type pool struct{ first, last netip.Addr }

func (p pool) String() string { return p.first.String() + "-" + p.last.String() }

func (p pool) contains(a netip.Addr) bool {
	return p.first.Compare(a) <= 0 && a.Compare(p.last) <= 0
}

var (
	poolA = pool{netip.MustParseAddr("2001:db8:6::a:0"), netip.MustParseAddr("2001:db8:6::a:ffff")}
	poolB = pool{netip.MustParseAddr("2001:db8:6::b:0"), netip.MustParseAddr("2001:db8:6::b:ffff")}
)

// served is a running `d6lab serve`.
type served struct {
	lab  *netns.Lab
	proc *netns.Process
	node string
	duid string // the server DUID, hex, from its "listening on" line
	log  string

	stopped  bool
	counters map[string]uint64
}

var duidRE = regexp.MustCompile(`DUID ([0-9a-f]+)`)

// serve starts `d6lab serve` on node's link interface with pool p,
// preference pref and extra flags, waits for its "listening on" line, and
// registers its stop (SIGTERM, then the counters go to GinkgoWriter).
func serve(lab *netns.Lab, node string, p pool, pref int, extra ...string) *served {
	log := filepath.Join(GinkgoT().TempDir(), node+"-serve.log")
	argv := append([]string{d6labBin, "serve",
		"--iface", lab.IfName(node),
		"--prefix", linkPrefix.String(),
		"--pool", p.String(),
		"--preference", strconv.Itoa(pref),
	}, extra...)
	proc, err := lab.Start(node, argv, log)
	Expect(err).NotTo(HaveOccurred())
	s := &served{lab: lab, proc: proc, node: node, log: log}
	DeferCleanup(func() { s.stop() })
	Eventually(func(g Gomega) {
		g.Expect(proc.Exited()).To(BeFalse(), "d6lab serve exited:\n%s", readFile(log))
		g.Expect(readFile(log)).To(ContainSubstring("listening on"))
	}).WithTimeout(10 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
	m := duidRE.FindStringSubmatch(readFile(log))
	Expect(m).To(HaveLen(2), "no DUID in the listening line:\n%s", readFile(log))
	s.duid = m[1]
	return s
}

// stop sends SIGTERM, waits for the exit and returns the counters the
// server printed. It is idempotent.
func (s *served) stop() map[string]uint64 {
	if s.stopped {
		return s.counters
	}
	s.stopped = true
	if err := s.proc.Signal(syscall.SIGTERM); err == nil {
		select {
		case <-s.proc.Done():
		case <-time.After(10 * time.Second):
			Fail(fmt.Sprintf("d6lab serve in %s did not exit 10s after SIGTERM", s.node))
		}
		Expect(s.proc.Wait()).To(Succeed(), "d6lab serve in %s exited badly:\n%s", s.node, readFile(s.log))
	}
	out := readFile(s.log)
	fmt.Fprintf(GinkgoWriter, "--- d6lab serve in %s:\n%s", s.node, out)
	s.counters = parseCounters(out)
	return s.counters
}

// kill SIGKILLs the server, as a crash: it prints no counters.
func (s *served) kill() {
	Expect(s.lab.Kill(s.proc)).To(Succeed())
	s.stopped = true
	fmt.Fprintf(GinkgoWriter, "--- d6lab serve in %s (killed):\n%s", s.node, readFile(s.log))
}

// parseCounters reads the "received N", "answered N", "dropped REASON N"
// lines that serve prints on exit.
func parseCounters(out string) map[string]uint64 {
	c := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "received", "answered", "dropped":
			if n, err := strconv.ParseUint(f[len(f)-1], 10, 64); err == nil {
				c[strings.Join(f[:len(f)-1], " ")] = n
			}
		}
	}
	return c
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		Fail(fmt.Sprintf("read %s: %v", path, err))
	}
	return string(b)
}
