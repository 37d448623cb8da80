package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/server/daemon"
	"d6lab/sim/conform"
)

// conformOut is the decoded conform.json (only what the specs read).
type conformOut struct {
	Server  string `json:"server"`
	Version string `json:"version"`
	Checks  []struct {
		ID       string `json:"id"`
		Verdict  string `json:"verdict"`
		Detail   string `json:"detail"`
		Evidence struct {
			Pcap    string   `json:"pcap"`
			Packets []string `json:"packets"`
		} `json:"evidence"`
	} `json:"checks"`
}

// runConform runs d6lab conform with args, bounded by limit, and returns
// its exit code and combined output.
func runConform(limit time.Duration, args ...string) (int, string) {
	cmd := exec.Command(d6labBin, append([]string{"conform"}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	Expect(cmd.Start()).To(Succeed())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String()
		}
		Expect(err).NotTo(HaveOccurred())
		return 0, out.String()
	case <-time.After(limit):
		_ = cmd.Process.Signal(os.Interrupt)
		<-done
		Fail("d6lab conform " + strings.Join(args, " ") + " did not finish within " + limit.String() + ":\n" + out.String())
	}
	return -1, ""
}

func readConform(dir string) conformOut {
	b, err := os.ReadFile(filepath.Join(dir, "conform.json"))
	Expect(err).NotTo(HaveOccurred())
	var c conformOut
	Expect(json.Unmarshal(b, &c)).To(Succeed())
	return c
}

// labNamespaces lists the d6lab namespaces that exist now.
func labNamespaces() []string {
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "d6l") {
			out = append(out, e.Name())
		}
	}
	return out
}

var _ = Describe("d6lab conform", func() {
	DescribeTable("refuses bad input with exit 2 before building anything",
		func(want string, args ...string) {
			code, out := runConform(30*time.Second, args...)
			Expect(code).To(Equal(2), out)
			Expect(out).To(ContainSubstring(want))
		},
		Entry("no --server", "--server is required"),
		Entry("an unknown kind", `unknown server kind "nosuch"`, "--server", "nosuch"),
		Entry("an unknown check", `unknown check "nope"`, "--server", "builtin", "--checks", "ia-na-exchange,nope"),
		Entry("a bad timeout", "--timeout", "--server", "builtin", "--timeout", "0s"),
		Entry("an unknown flag", "unknown flag", "--server", "builtin", "--bogus"),
		Entry("both sides", "--server and --client are mutually exclusive", "--server", "builtin", "--client", "dhclient"),
		Entry("both sides, all", "--server and --client are mutually exclusive", "--server", "all", "--client", "all"),
		Entry("an unknown client kind", `unknown client kind "nosuch"`, "--client", "nosuch"),
		Entry("a server check for a client", `unknown client check "ia-na-exchange"`, "--client", "dhclient", "--checks", "ia-na-exchange"),
		Entry("a client check for a server", `unknown check "renew-t1"`, "--server", "builtin", "--checks", "renew-t1"),
		Entry("a bad client timeout", "--timeout", "--client", "dhclient", "--timeout", "2m"),
		Entry("--long without --client", "--long applies to --client only", "--server", "builtin", "--long"),
	)

	Context("in network namespaces", Label("netns"), func() {
		BeforeEach(requireRoot)

		It("passes every check against the builtin server, with a pcap and packets for each", func() {
			dir := GinkgoT().TempDir()
			code, out := runConform(5*time.Minute, "--server", "builtin", "--out", dir)
			fmt.Fprintln(GinkgoWriter, out)
			Expect(code).To(Equal(0), out)
			c := readConform(dir)
			Expect(c.Server).To(Equal("builtin"))
			Expect(c.Checks).To(HaveLen(len(conform.IDs())))
			for _, ch := range c.Checks {
				Expect(ch.Verdict).To(BeElementOf("pass", "n/a"), "%s: %s", ch.ID, ch.Detail)
				Expect(ch.Evidence.Packets).NotTo(BeEmpty(), ch.ID)
				Expect(filepath.Join(dir, ch.Evidence.Pcap)).To(BeAnExistingFile(), ch.ID)
			}
			Expect(filepath.Join(dir, "junit.xml")).To(BeAnExistingFile())
			Expect(out).To(MatchRegexp(`ia-na-exchange\s+pass`))
			// Only this run's namespaces: other labs may come and go meanwhile.
			m := regexp.MustCompile(`conform builtin \S+: lab (d6l[0-9a-z]+),`).FindStringSubmatch(out)
			Expect(m).To(HaveLen(2), "the lab prefix is in the first progress line:\n%s", out)
			Expect(labNamespaces()).NotTo(ContainElement(HavePrefix(m[1]+"-")), "conform left a namespace of %s behind", m[1])
		})

		It("exits 1 and says which check failed when the server breaks one", Label("thirdparty"), func() {
			// dnsmasq 2.90 hands out the Subnet-Router anycast address
			// (measured here).
			a, err := daemon.Lookup(deploy.Dnsmasq)
			if err != nil {
				Skip(err.Error())
			}
			if err := a.Installed(); err != nil {
				Skip(err.Error())
			}
			dir := GinkgoT().TempDir()
			code, out := runConform(2*time.Minute, "--server", "dnsmasq", "--out", dir, "--checks", "no-reserved-address")
			Expect(code).To(Equal(1), out)
			Expect(out).To(ContainSubstring("dnsmasq no-reserved-address"))
			Expect(readConform(dir).Checks[0].Verdict).To(Equal("fail"))
		})
	})

	Context("against third-party servers", Label("thirdparty", "netns"), func() {
		BeforeEach(requireRoot)

		for _, kind := range []deploy.Kind{deploy.Kea, deploy.Dhcpd, deploy.Dnsmasq, deploy.Wide, deploy.CoreDHCP} {
			It("completes for "+string(kind)+" within 6 minutes and writes conform.json", func() {
				a, err := daemon.Lookup(kind)
				if err != nil {
					Skip(err.Error())
				}
				if err := a.Installed(); err != nil {
					Skip(err.Error()) // names the Debian package (or the build) that is missing
				}
				dir := GinkgoT().TempDir()
				code, out := runConform(6*time.Minute, "--server", string(kind), "--out", dir)
				fmt.Fprintln(GinkgoWriter, out)
				Expect(code).To(BeElementOf(0, 1), out)
				c := readConform(dir)
				Expect(c.Server).To(Equal(string(kind)))
				Expect(c.Version).NotTo(BeEmpty())
				Expect(c.Checks).To(HaveLen(len(conform.IDs())))
				verdict := map[string]string{}
				for _, ch := range c.Checks {
					Expect(ch.Verdict).To(BeElementOf("pass", "fail", "n/a"), ch.ID)
					Expect(ch.Detail).NotTo(BeEmpty(), ch.ID)
					verdict[ch.ID] = ch.Verdict
				}
				if kind == deploy.CoreDHCP {
					// No dynamic IA_NA pool: the exchange fails once, and
					// the checks that need a leased address first judge
					// nothing; its prefix plugin delegates.
					Expect(verdict).To(HaveKeyWithValue("ia-na-exchange", "fail"))
					Expect(verdict).To(HaveKeyWithValue("decline", "n/a"))
					Expect(verdict).To(HaveKeyWithValue("release", "n/a"))
					Expect(verdict).To(HaveKeyWithValue("identical-allocation", "n/a"))
					Expect(verdict).To(HaveKeyWithValue("ia-pd", "pass"))
				} else {
					Expect(verdict).To(HaveKeyWithValue("ia-na-exchange", "pass"))
				}
			})
		}
	})
})
