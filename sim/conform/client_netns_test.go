package conform

import (
	"context"
	"os"
	"path/filepath"
	"time"

	g "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
)

var _ = g.Describe("RunClient against ISC dhclient", g.Label("realclient", "root", "netns"), func() {
	g.BeforeEach(func() {
		if os.Geteuid() != 0 {
			g.Skip("needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): network namespaces, veth pairs, a bridge, packet capture")
		}
		if m := MissingClient(deploy.Dhclient); m != "" {
			g.Skip("dhclient: " + m + " (run scripts/setup.sh)")
		}
	})

	g.It("judges four checks with a pcap each, within a minute", func() {
		dir := g.GinkgoT().TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		rep, err := RunClient(ctx, ClientOptions{
			Kind: deploy.Dhclient, OutDir: dir, Log: g.GinkgoWriter,
			Checks: []string{"preference-255", "preference-wait", "nobinding-request", "release-on-stop"},
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(time.Since(start)).To(BeNumerically("<", time.Minute))
		Expect(rep.Client).To(Equal("dhclient"))
		Expect(rep.Version).To(ContainSubstring("4.4"))
		Expect(rep.Missing).To(BeEmpty())
		verdict := map[string]string{}
		for _, c := range rep.Checks {
			verdict[c.ID] = c.Verdict.Conform() + ": " + c.Detail
			Expect(c.Evidence.Pcap).To(Equal(filepath.Join("pcap", c.ID+".pcap")), c.ID)
			Expect(filepath.Join(dir, c.Evidence.Pcap)).To(BeAnExistingFile(), c.ID)
			Expect(c.Evidence.Packets).NotTo(BeEmpty(), c.ID)
			Expect(filepath.Join(dir, "clients", c.ID, "addrs.jsonl")).To(BeAnExistingFile(), c.ID)
		}
		// Preference 255: a Request at once; below 255: the first RT
		// waited out and the highest taken (client/dhc6.c init_handler).
		Expect(verdict["preference-255"]).To(HavePrefix("pass: Request to s1"))
		Expect(verdict["preference-wait"]).To(HavePrefix("pass: Requested s2 (Preference 200)"))
		// NoBinding to a Renew: dhclient Solicits at once (measured; RFC
		// 9915 §18.2.10.1 asks for a Request).
		Expect(verdict["nobinding-request"]).To(HavePrefix("fail: s1 answered the Renew"))
		Expect(verdict["nobinding-request"]).To(ContainSubstring("next the client sent a SOLICIT"))
		// dhclient -r: a Release to the granting server.
		Expect(verdict["release-on-stop"]).To(HavePrefix("pass: bound"))
		Expect(verdict["release-on-stop"]).To(ContainSubstring("to s1"))

		back, err := ReadJSON(filepath.Join(dir, JSONFile))
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Client).To(Equal("dhclient"))
		Expect(back.Server).To(BeEmpty())
		Expect(back.Checks).To(HaveLen(4))
	})
})
