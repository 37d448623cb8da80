package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"d6lab/sim/netns"
)

// benchPrefix returns a fresh run prefix registered for AfterSuite's
// leftover check.
func benchPrefix() string {
	p := netns.NewPrefix()
	prefixesMu.Lock()
	prefixes = append(prefixes, p)
	prefixesMu.Unlock()
	return p
}

// noNamespaces asserts that no namespace of the run prefix p exists.
func noNamespaces(p string) {
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "ip netns list: %s", out)
	Expect(string(out)).NotTo(ContainSubstring(p+"-"), "namespaces of %s left behind", p)
}

// checkBenchJSON reads DIR/bench.json and checks the fields `d6lab bench`
// promises: present, of the right type, and sane (no speed bound).
func checkBenchJSON(dir, server string) {
	b, err := os.ReadFile(filepath.Join(dir, "bench.json"))
	Expect(err).NotTo(HaveOccurred())
	var rep struct {
		Server    string              `json:"server"`
		Mode      string              `json:"mode"`
		Rate      *float64            `json:"rate"`
		Drops     *float64            `json:"drops"`
		LatencyMs map[string]*float64 `json:"latency_ms"`
		Perfdhcp  map[string]any      `json:"perfdhcp"`
		Steps     []map[string]any    `json:"steps"`
		Machine   map[string]any      `json:"machine"`
		CPU       map[string]any      `json:"cpu"`
		Params    map[string]any      `json:"params"`
	}
	Expect(json.Unmarshal(b, &rep)).To(Succeed(), "bench.json:\n%s", b)
	Expect(rep.Server).To(Equal(server))
	// d6lab's own server runs with its offloads, a third-party one as it is.
	Expect(rep.Params).To(HaveKeyWithValue("offload", server == "builtin"))
	Expect(rep.Mode).To(Equal("rate"))
	Expect(rep.Rate).NotTo(BeNil())
	Expect(*rep.Rate).To(BeNumerically(">", 0))
	Expect(rep.Drops).NotTo(BeNil())
	Expect(*rep.Drops).To(And(BeNumerically(">=", 0), BeNumerically("<=", 1)))
	var prev float64
	for _, k := range []string{"p50", "p90", "p99", "p999", "max"} {
		Expect(rep.LatencyMs).To(HaveKey(k))
		Expect(rep.LatencyMs[k]).NotTo(BeNil())
		v := *rep.LatencyMs[k]
		Expect(v).To(BeNumerically(">=", prev), "latency_ms.%s below the previous percentile", k)
		prev = v
	}
	Expect(prev).To(BeNumerically(">", 0), "no latency recorded")
	Expect(rep.Perfdhcp).To(HaveKey("rate"))
	Expect(rep.Perfdhcp["rate"]).To(BeNumerically(">", 0))
	Expect(rep.Perfdhcp["drops"]).To(And(BeNumerically(">=", 0), BeNumerically("<=", 1)))
	Expect(rep.Perfdhcp["avg_ms"]).To(BeNumerically(">", 0))
	Expect(rep.Steps).To(HaveLen(1), "a fixed-rate run is one step")
	Expect(rep.Machine).To(HaveKey("cpus"))
	Expect(rep.CPU).To(HaveKey("server_max_rss_kib"))
	Expect(rep.CPU["server_max_rss_kib"]).To(BeNumerically(">", 0))
}

var _ = Describe("d6lab bench", Label("bench", "netns", "perfdhcp"), func() {
	BeforeEach(func() {
		requireRoot()
		requireTool(perfdhcpPath, "kea-admin")
	})

	run := func(server string) {
		dir := GinkgoT().TempDir()
		prefix := benchPrefix()
		args := []string{"bench", "--server", server, "--rate", "500", "--duration", "3s",
			"--vs", "perfdhcp", "--out", dir, "--prefix", prefix}
		profile := filepath.Join(dir, "serve.pprof")
		if server == "builtin" {
			args = append(args, "--server-cpuprofile", profile)
		}
		cmd := exec.Command(d6labBin, args...)
		cmd.Env = append(os.Environ(), "CI=true")
		out, err := cmd.CombinedOutput()
		fmt.Fprintf(GinkgoWriter, "--- d6lab bench --server %s:\n%s", server, out)
		Expect(err).NotTo(HaveOccurred(), "d6lab bench:\n%s", out)
		Expect(string(out)).To(ContainSubstring("ratio d6lab/perfdhcp"))
		Expect(string(out)).To(MatchRegexp(`d6lab\s+step\s+1: offered\s+500/s`))
		checkBenchJSON(dir, server)
		noNamespaces(prefix)
		if server == "builtin" {
			// stopped gracefully, the server wrote its profile (gzip: go tool pprof's format)
			b, err := os.ReadFile(profile)
			Expect(err).NotTo(HaveOccurred())
			Expect(len(b)).To(BeNumerically(">", 2))
			Expect(b[:2]).To(Equal([]byte{0x1f, 0x8b}), "a CPU profile (pprof's gzipped protobuf)")
		}
	}

	It("measures the builtin server and perfdhcp against it, and writes bench.json", func() {
		run("builtin")
	})

	It("measures Kea the same way", Label("thirdparty"), func() {
		requireTool("/usr/sbin/kea-dhcp6", "kea-dhcp6-server")
		run("kea")
	})

	It("exits 130 on SIGINT and tears the lab down", func() {
		prefix := benchPrefix()
		cmd := exec.Command(d6labBin, "bench", "--server", "builtin", "--rate", "100", "--duration", "60s", "--prefix", prefix)
		cmd.Env = append(os.Environ(), "CI=true")
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(s.Err).WithTimeout(30 * time.Second).Should(gbytes.Say("listening"))
		Expect(s.Command.Process.Signal(syscall.SIGINT)).To(Succeed())
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(130))
		Expect(string(s.Err.Contents())).To(ContainSubstring("interrupted"))
		noNamespaces(prefix)
	})
})

var _ = Describe("d6lab bench --server echo", Label("bench", "netns"), func() {
	BeforeEach(requireRoot)

	It("answers every exchange of the generator through the lab, as a process in the server's namespace", func() {
		dir := GinkgoT().TempDir()
		prefix := benchPrefix()
		cmd := exec.Command(d6labBin, "bench", "--server", "echo", "--rate", "500", "--duration", "2s",
			"--pd", "--na", "--renew", "0.5", "--out", dir, "--prefix", prefix)
		cmd.Env = append(os.Environ(), "CI=true")
		out, err := cmd.CombinedOutput()
		fmt.Fprintf(GinkgoWriter, "--- d6lab bench --server echo:\n%s", out)
		Expect(err).NotTo(HaveOccurred(), "d6lab bench:\n%s", out)
		Expect(string(out)).To(ContainSubstring("d6lab serve --echo listening"))
		b, err := os.ReadFile(filepath.Join(dir, "bench.json"))
		Expect(err).NotTo(HaveOccurred())
		var rep struct {
			Server string  `json:"server"`
			Rate   float64 `json:"rate"`
			Steps  []struct {
				Started   int64  `json:"started"`
				Completed int64  `json:"completed"`
				Detail    string `json:"detail"`
			} `json:"steps"`
		}
		Expect(json.Unmarshal(b, &rep)).To(Succeed())
		Expect(rep.Server).To(Equal("echo"))
		Expect(rep.Rate).To(BeNumerically(">", 0))
		Expect(rep.Steps).To(HaveLen(1))
		// Every answer is one the generator takes: none malformed,
		// unexpected or refused (a refusal would leave the exchange
		// uncompleted). A drop under a loaded machine is not the echo's
		// doing, so completed is not required to equal started.
		Expect(rep.Steps[0].Detail).To(BeEmpty())
		Expect(rep.Steps[0].Completed).To(BeNumerically(">", rep.Steps[0].Started*9/10))
		noNamespaces(prefix)
	})
})

var _ = Describe("d6lab bench flags", func() {
	DescribeTable("exit 2 before anything is created",
		func(args ...string) {
			prefix := "d6lbad" // never created: the flags are refused first
			cmd := exec.Command(d6labBin, append([]string{"bench", "--prefix", prefix}, args...)...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			Expect(errors.As(err, &ee)).To(BeTrue(), "d6lab bench %s: %v\n%s", strings.Join(args, " "), err, out)
			Expect(ee.ExitCode()).To(Equal(2), "%s", out)
			Expect(string(out)).To(ContainSubstring("bad input"))
			_, statErr := os.Stat("/run/netns/" + prefix + "-clients")
			Expect(os.IsNotExist(statErr)).To(BeTrue())
		},
		Entry("no server", "--rate", "10"),
		Entry("unknown server", "--server", "nope", "--rate", "10"),
		Entry("neither rate nor search", "--server", "builtin"),
		Entry("a fraction above 1", "--server", "builtin", "--rate", "10", "--renew", "2"),
		Entry("an unknown exchange", "--server", "builtin", "--rate", "10", "--exchange", "dora"),
		Entry("an unknown tool", "--server", "builtin", "--rate", "10", "--vs", "dhcperf"),
		Entry("--duration with --search", "--server", "builtin", "--search", "--duration", "5s"),
		Entry("--max-p99 0", "--server", "builtin", "--search", "--max-p99", "0s"),
		Entry("--max-p99 negative", "--server", "echo", "--search", "--max-p99", "-1ms"),
		Entry("--max-p99 above --timeout", "--server", "builtin", "--search", "--max-p99", "2s"),
		Entry("--max-p99 not a duration", "--server", "builtin", "--search", "--max-p99", "10"),
		Entry("--leases-sync of another kind", "--server", "kea", "--rate", "10", "--leases-sync", "write"),
		Entry("--leases-sync not a durability", "--server", "builtin", "--rate", "10", "--leases-sync", "fsync"),
		Entry("--server-cpuprofile of another kind", "--server", "kea", "--rate", "10", "--server-cpuprofile", "/tmp/x.pprof"),
		Entry("--summary of a directory without reports", "--summary", "/nonexistent-d6lab-bench"),
		Entry("--summary with --server", "--summary", "/tmp", "--server", "builtin"),
	)

	It("names --max-p99 in its message", func() {
		out, _ := exec.Command(d6labBin, "bench", "--server", "builtin", "--search", "--max-p99", "2s").CombinedOutput()
		Expect(string(out)).To(ContainSubstring("--max-p99: 2s: want 100µs..1s"))
	})
})
