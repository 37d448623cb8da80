package main_test

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/netns"
)

const dhclientPath = "/usr/sbin/dhclient"

// dhclient is ISC dhclient -6 running in the clients namespace with a
// client script, config, lease file and PID file of the spec's own: it
// never configures an interface nor touches the host's files.
type dhclient struct {
	proc   *netns.Process
	events string // one line per script call: "$reason $new_ip6_address $new_ip6_prefixlen"
	leases string
	log    string
}

// clientScript records each call and configures nothing.
const clientScript = `#!/bin/sh
# d6lab test client script: record the event, configure nothing.
echo "$reason $new_ip6_address $new_ip6_prefixlen" >> '%s'
exit 0
`

// startDhclient runs `dhclient -6` in the foreground (-d, so that the lab
// tracks its PID and kills it on teardown) on the clients' interface.
// conf is the whole dhclient.conf ("" for dhclient's defaults).
func startDhclient(lab *netns.Lab, conf string) *dhclient {
	dir := GinkgoT().TempDir()
	c := &dhclient{
		events: filepath.Join(dir, "events"),
		leases: filepath.Join(dir, "dhclient6.leases"),
		log:    filepath.Join(dir, "dhclient.log"),
	}
	script := filepath.Join(dir, "script.sh")
	Expect(os.WriteFile(script, []byte(fmt.Sprintf(clientScript, c.events)), 0o755)).To(Succeed())
	confPath := filepath.Join(dir, "dhclient.conf")
	Expect(os.WriteFile(confPath, []byte("# the spec's own: nothing from /etc\n"+conf), 0o644)).To(Succeed())
	argv := []string{dhclientPath, "-6", "-1", "-d", "-v",
		"-cf", confPath,
		"-sf", script,
		"-lf", c.leases,
		"-pf", filepath.Join(dir, "dhclient.pid"),
		lab.IfName("clients"),
	}
	var err error
	c.proc, err = lab.Start("clients", argv, c.log)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(lab.Kill(c.proc)).To(Succeed())
		fmt.Fprintf(GinkgoWriter, "--- dhclient log:\n%s--- script events:\n%s--- lease file:\n%s",
			readFile(c.log), readFile(c.events), readFile(c.leases))
	})
	return c
}

// event is one client script call.
type event struct {
	reason string
	addr   netip.Addr
	plen   string
}

func (c *dhclient) eventsSeen() []event {
	var out []event
	for _, line := range strings.Split(readFile(c.events), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		e := event{reason: f[0]}
		if len(f) > 1 {
			e.addr, _ = netip.ParseAddr(f[1])
		}
		if len(f) > 2 {
			e.plen = f[2]
		}
		out = append(out, e)
	}
	return out
}

// waitFor waits until the script has been called with reason and returns
// the first such call.
func (c *dhclient) waitFor(reason string, timeout time.Duration) event {
	return c.waitUntil(reason, func(e event) bool { return e.reason == reason }, timeout)
}

// waitUntil waits until the script has been called in a way that matches
// (what describes it) and returns the first such call.
func (c *dhclient) waitUntil(what string, match func(event) bool, timeout time.Duration) event {
	var got event
	Eventually(func(g Gomega) {
		g.Expect(c.proc.Exited()).To(BeFalse(), "dhclient exited:\n%s", readFile(c.log))
		var seen []string
		for _, e := range c.eventsSeen() {
			if match(e) {
				got = e
				return
			}
			seen = append(seen, e.reason+" "+e.addr.String())
		}
		g.Expect(seen).To(ContainElement(what))
	}).WithTimeout(timeout).WithPolling(50*time.Millisecond).Should(Succeed(),
		func() string { return "no " + what + "; dhclient log:\n" + readFile(c.log) })
	return got
}

// colonHex is how dhclient writes a binary option in its lease file:
// each byte in lower-case hex without leading zeros, joined by colons.
func colonHex(hexDUID string) string {
	b, err := hex.DecodeString(hexDUID)
	Expect(err).NotTo(HaveOccurred())
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%x", x)
	}
	return strings.Join(parts, ":")
}

var _ = Describe("a real client (ISC dhclient -6)", Label("realclient", "root", "netns"), func() {
	BeforeEach(func() {
		requireRoot()
		requireTool(dhclientPath, "isc-dhcp-client")
	})

	It("gets an address from d6lab serve's pool, writes it to its lease file and renews it at T1", func() {
		lab := newLab("srv1")
		srv := serve(lab, "srv1", poolA, 255,
			"--t1", "2s", "--t2", "3s", "--preferred", "4s", "--valid", "6s")
		client := startDhclient(lab, "")

		bound := client.waitFor("BOUND6", 30*time.Second)
		Expect(bound.addr.IsValid()).To(BeTrue(), "BOUND6 without new_ip6_address")
		Expect(poolA.contains(bound.addr)).To(BeTrue(), "bound %s outside the pool %s", bound.addr, poolA)
		Expect(bound.plen).To(Equal("128"))

		By("the lease file holding the binding from this server")
		Eventually(func() string { return readFile(client.leases) }).
			WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(And(
			ContainSubstring("lease6 {"),
			ContainSubstring(fmt.Sprintf("interface %q;", lab.IfName("clients"))),
			ContainSubstring("iaaddr "+bound.addr.String()+" {"),
			MatchRegexp(`renew 2;`),
			MatchRegexp(`rebind 3;`),
			MatchRegexp(`preferred-life 4;`),
			MatchRegexp(`max-life 6;`),
			ContainSubstring("option dhcp6.server-id "+colonHex(srv.duid)+";"),
		))

		By("a Renew at T1 (2s) extending the same address")
		renewed := client.waitFor("RENEW6", 15*time.Second)
		Expect(renewed.addr).To(Equal(bound.addr), "renewed to a different address")

		c := srv.stop()
		Expect(c["answered"]).To(BeNumerically(">=", 3), "Advertise, Reply to Request, Reply to Renew")
		Expect(c["dropped total"]).To(BeZero(), "the server dropped some of dhclient's messages")
	})

	It("binds in a Rapid Commit exchange (Solicit-Reply) when both ends allow it", func() {
		lab := newLab("srv1")
		srv := serve(lab, "srv1", poolA, 0, "--rapid-commit")
		client := startDhclient(lab, "send dhcp6.rapid-commit;\n")
		bound := client.waitFor("BOUND6", 30*time.Second)
		Expect(poolA.contains(bound.addr)).To(BeTrue(), "bound %s outside the pool %s", bound.addr, poolA)
		log := readFile(client.log)
		Expect(log).To(ContainSubstring("RCV: Reply message"))
		Expect(log).NotTo(ContainSubstring("Advertise message"), "the server advertised instead of committing")
		Expect(log).NotTo(ContainSubstring("XMT: Request"), "the client had to Request")
		c := srv.stop()
		Expect(c["answered"]).To(BeEquivalentTo(1), "one Reply, to the Solicit")
		Expect(c["dropped total"]).To(BeZero())
	})

	It("renumbers into the other server's pool at Rebind when the granting one dies (split pools, --rebind create)", func() {
		lab := newLab("srva", "srvb")
		times := []string{"--t1", "2s", "--t2", "3s", "--preferred", "5s", "--valid", "8s", "--rebind", "create"}
		a := serve(lab, "srva", poolA, 255, times...)
		b := serve(lab, "srvb", poolB, 0, times...)
		client := startDhclient(lab, "")
		bound := client.waitFor("BOUND6", 30*time.Second)
		Expect(poolA.contains(bound.addr)).To(BeTrue(), "bound %s, want pool A (preference 255)", bound.addr)

		By("killing the granting server: the Renew (to it) goes unanswered, the Rebind (to all) reaches B")
		a.kill()
		rebound := client.waitUntil("REBIND6 into pool B", func(e event) bool {
			return e.reason == "REBIND6" && poolB.contains(e.addr)
		}, 20*time.Second)
		Expect(rebound.plen).To(Equal("128"))

		By("B's Reply: the new address with lifetimes, the old one with lifetimes 0 (RFC 9915 §18.3.5)")
		Eventually(func() string {
			leases := readFile(client.leases) // the last lease6 block
			return leases[max(strings.LastIndex(leases, "lease6 {"), 0):]
		}).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(And(
			MatchRegexp(`iaaddr `+regexp.QuoteMeta(rebound.addr.String())+` \{\s+starts \d+;\s+preferred-life 5;\s+max-life 8;`),
			MatchRegexp(`iaaddr `+regexp.QuoteMeta(bound.addr.String())+` \{\s+starts \d+;\s+preferred-life 0;\s+max-life 0;`),
			ContainSubstring("option dhcp6.server-id "+colonHex(b.duid)+";"),
		))

		c := b.stop()
		// Advertise and the Reply to Rebind (and a Renew's if dhclient got to
		// its new T1); it discarded the Request and the Renew that named A
		// (RFC 9915 §16.4, §16.6), and nothing else.
		Expect(c["answered"]).To(BeNumerically(">=", 2))
		Expect(c["dropped total"]).To(Equal(c["dropped other-server"]))
	})

	DescribeTable("binds to the server whose Advertise carries Preference 255",
		func(order []string, prefs map[string]int, want pool) {
			lab := newLab("srva", "srvb")
			pools := map[string]pool{"srva": poolA, "srvb": poolB}
			servers := map[string]*served{}
			for _, node := range order {
				servers[node] = serve(lab, node, pools[node], prefs[node])
			}
			client := startDhclient(lab, "")
			bound := client.waitFor("BOUND6", 30*time.Second)
			Expect(want.contains(bound.addr)).To(BeTrue(),
				"bound %s, want an address from %s (the preference-255 server)", bound.addr, want)
			var winner string
			for node, p := range prefs {
				if p == 255 {
					winner = node
				}
			}
			Eventually(func() string { return readFile(client.leases) }).
				WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).
				Should(ContainSubstring("option dhcp6.server-id " + colonHex(servers[winner].duid) + ";"))

			// Both servers saw the Solicit (multicast reaches both). The
			// chosen one answered it and the Request; the other one also
			// heard the Request and discarded it, as it names another
			// server (RFC 9915 §16.4), and dropped nothing else.
			for node, s := range servers {
				c := s.stop()
				Expect(c["received"]).To(BeNumerically(">=", 1), "%s never heard the Solicit", node)
				if node == winner {
					Expect(c["answered"]).To(BeNumerically(">=", 2), "%s: Advertise and Reply", node)
					Expect(c["dropped total"]).To(BeZero(), "%s dropped messages", node)
				} else {
					Expect(c["answered"]).To(BeNumerically(">=", 1), "%s: Advertise", node)
					Expect(c["dropped total"]).To(Equal(c["dropped other-server"]),
						"%s dropped messages for reasons other than another server's ID", node)
				}
			}
		},
		Entry("pool A at 255, started first", []string{"srva", "srvb"}, map[string]int{"srva": 255, "srvb": 0}, poolA),
		Entry("pool A at 255, started last", []string{"srvb", "srva"}, map[string]int{"srva": 255, "srvb": 0}, poolA),
		Entry("pool B at 255, started first", []string{"srvb", "srva"}, map[string]int{"srva": 0, "srvb": 255}, poolB),
		Entry("pool B at 255, started last", []string{"srva", "srvb"}, map[string]int{"srva": 0, "srvb": 255}, poolB),
	)
})
