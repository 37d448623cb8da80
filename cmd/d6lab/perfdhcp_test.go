package main_test

import (
	"bufio"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/netns"
)

const perfdhcpPath = "/usr/sbin/perfdhcp"

// exchangeStats is one "***Statistics for: SOLICIT-ADVERTISE***" (or
// REQUEST-REPLY, ...) block of perfdhcp's final report: its "name: value"
// lines, values as printed.
type exchangeStats map[string]string

func (s exchangeStats) n(key string) int64 {
	v, ok := s[key]
	Expect(ok).To(BeTrue(), "perfdhcp printed no %q line", key)
	n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
	Expect(err).NotTo(HaveOccurred(), "perfdhcp %q: %q", key, v)
	return n
}

var blockHeadRE = regexp.MustCompile(`^\*\*\*(?:Statistics for: )?(.+?)\*\*\*$`)

// parsePerfdhcp splits perfdhcp's final report into its blocks, keyed by
// title: the exchanges ("SOLICIT-ADVERTISE", "REQUEST-REPLY",
// "RENEW-REPLY", "RELEASE-REPLY"), "Malformed Packets", "Rate statistics".
func parsePerfdhcp(out string) map[string]exchangeStats {
	res := map[string]exchangeStats{}
	var cur exchangeStats
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := blockHeadRE.FindStringSubmatch(line); m != nil {
			cur = exchangeStats{}
			res[m[1]] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return res
}

// runPerfdhcp runs perfdhcp -6 in the clients namespace with args after
// "-6 -l IF", waits for it (its -p period bounds the run), copies its report
// to GinkgoWriter and returns the report parsed.
func runPerfdhcp(lab *netns.Lab, args ...string) map[string]exchangeStats {
	log := filepath.Join(GinkgoT().TempDir(), "perfdhcp.log")
	argv := append([]string{perfdhcpPath, "-6", "-l", lab.IfName("clients")}, args...)
	proc, err := lab.Start("clients", argv, log)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(lab.Kill(proc)).To(Succeed()) })
	Eventually(proc.Done()).WithTimeout(60*time.Second).Should(BeClosed(),
		func() string { return "perfdhcp still running after 60s:\n" + readFile(log) })
	out := readFile(log)
	fmt.Fprintf(GinkgoWriter, "--- perfdhcp %s:\n%s", strings.Join(argv[1:], " "), out)

	// Exit 0: every exchange completed; 3: some did not (drops are
	// bounded by the caller); anything else is a failure to run.
	if err := proc.Wait(); err != nil {
		var ee *exec.ExitError
		Expect(errors.As(err, &ee)).To(BeTrue(), "perfdhcp: %v", err)
		Expect(ee.ExitCode()).To(Equal(3), "perfdhcp failed:\n%s", out)
	}
	stats := parsePerfdhcp(out)
	Expect(stats).To(HaveKey("Malformed Packets"), "no report:\n%s", out)
	Expect(stats["Malformed Packets"].n("Malformed packets")).To(BeZero(), "perfdhcp could not parse some answers")
	return stats
}

// checkExchanges asserts, for each named exchange, that perfdhcp sent and
// received, lost at most 1%, rejected no lease and saw no address given to
// two clients; and returns the answers it received in all.
func checkExchanges(stats map[string]exchangeStats, names ...string) (answers int64) {
	for _, name := range names {
		Expect(stats).To(HaveKey(name), "no %s statistics", name)
		s := stats[name]
		sent, recv, drops := s.n("sent packets"), s.n("received packets"), s.n("drops")
		Expect(sent).To(BeNumerically(">", 0), "%s: nothing sent", name)
		Expect(recv).To(BeNumerically(">", 0), "%s: nothing received", name)
		// Lost answers only (perfdhcp's drop-time is 1s; no timing
		// bound on how fast the answers come). 1 % rounded up, and one
		// at least: on two busy cores an answer the server sent (its
		// counters say so) can reach perfdhcp after its 1 s, and a
		// 1 % bound on a few dozen Releases would allow none.
		allowed := max(int64(1), (sent+99)/100)
		Expect(drops).To(BeNumerically("<=", allowed), "%s: %d of %d dropped, more than 1%% (%d allowed)", name, drops, sent, allowed)
		// An Advertise or Reply without the lease asked for (an IA
		// without IAADDR/IAPREFIX, or with a status code instead).
		Expect(s.n("rejected leases")).To(BeZero(), "%s: perfdhcp rejected leases", name)
		// -u: an address handed to two clients at once.
		Expect(s.n("non unique addresses")).To(BeZero(), "%s: one address given to two clients", name)
		answers += recv
	}
	return answers
}

var _ = Describe("perfdhcp -6 against d6lab serve", Label("perfdhcp", "root", "netns"), func() {
	BeforeEach(func() {
		requireRoot()
		requireTool(perfdhcpPath, "kea-admin")
	})

	It("completes four-message exchanges, Renews and Releases with no rejected leases", func() {
		lab := newLab("srv1")
		srv := serve(lab, "srv1", poolA, 255, "--allocator", "hash")

		// 200 Solicit-Advertise-Request-Reply exchanges a second for 5
		// seconds, plus 40 Renews and 20 Releases a second for leases it
		// got, over the clients' link to ff02::1:2. Each exchange draws its
		// client (DUID) from a million (-R) with a fixed seed (-s), and -u
		// counts any address handed to two clients at once.
		stats := runPerfdhcp(lab, "-r", "200", "-f", "40", "-F", "20", "-R", "1000000", "-u", "-p", "5", "-s", "1")
		answers := checkExchanges(stats, "SOLICIT-ADVERTISE", "REQUEST-REPLY", "RENEW-REPLY", "RELEASE-REPLY")

		// perfdhcp matches each Reply against its Requests first, then its
		// Renews, then its Releases, counting an orphan at every level that
		// does not match. So Request-Reply's orphans are the Replies to
		// Renews and Releases and Renew-Reply's those to Releases; anything
		// beyond that is a stray answer (a wrong transaction ID, a
		// duplicate). Advertises have no such cascade: none may be orphan.
		rr, rn, rl := stats["REQUEST-REPLY"], stats["RENEW-REPLY"], stats["RELEASE-REPLY"]
		tolerance := rr.n("sent packets") / 100
		Expect(stats["SOLICIT-ADVERTISE"].n("orphans")).To(BeNumerically("<=", tolerance), "stray Advertises")
		Expect(rr.n("orphans")-rn.n("received packets")-rl.n("received packets")).To(
			BeNumerically("<=", tolerance), "stray Replies")
		Expect(rn.n("orphans")-rl.n("received packets")).To(BeNumerically("<=", tolerance), "stray Replies")
		Expect(rl.n("orphans")).To(BeNumerically("<=", tolerance), "stray Replies")

		c := srv.stop()
		Expect(c["answered"]).To(BeNumerically(">=", answers), "perfdhcp received more answers than the server sent")
		Expect(c["dropped total"]).To(BeZero(), "the server dropped perfdhcp's messages")
	})

	It("gets an address and a delegated prefix in each exchange (IA_NA and IA_PD)", func() {
		lab := newLab("srv1")
		srv := serve(lab, "srv1", poolA, 255, "--pd-pool", "2001:db8:100::/40", "--pd-len", "56")
		stats := runPerfdhcp(lab, "-e", "address-and-prefix", "-r", "100", "-R", "1000000", "-u", "-p", "3", "-s", "2")
		answers := checkExchanges(stats, "SOLICIT-ADVERTISE", "REQUEST-REPLY")
		c := srv.stop()
		Expect(c["answered"]).To(BeNumerically(">=", answers))
		Expect(c["dropped total"]).To(BeZero(), "the server dropped perfdhcp's messages")
	})
})
