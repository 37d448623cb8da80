package lab

import (
	"context"
	"os"
	"os/exec"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server/daemon"
)

// Servers of every installed stateful kind run in one lab through their
// adapters; the Result names each one's kind and version, and holds the
// bindings read back from its lease file after the run.
var _ = ginkgo.Describe("a run with third-party servers", ginkgo.Label("thirdparty", "netns"), func() {
	ginkgo.It("starts each kind, and reads its bindings back after the run", func() {
		if os.Geteuid() != 0 {
			ginkgo.Skip("needs root (CAP_NET_ADMIN)")
		}
		sc, err := scenarios.Load("testdata/mixed-kinds.yaml")
		Expect(err).NotTo(HaveOccurred())
		for _, s := range sc.Servers {
			a, err := daemon.Lookup(daemon.Kind(s.Kind))
			Expect(err).NotTo(HaveOccurred())
			if err := a.Installed(); err != nil {
				ginkgo.Skip(err.Error())
			}
		}
		bin := os.Getenv("D6LAB_BIN") // a d6lab binary already built, or:
		if bin == "" {
			bin = ginkgo.GinkgoT().TempDir() + "/d6lab"
			out, err := exec.Command("go", "build", "-o", bin, "d6lab/cmd/d6lab").CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "go build d6lab/cmd/d6lab:\n%s", out)
		}

		res, err := Run(context.Background(), sc, Options{OutDir: ginkgo.GinkgoT().TempDir(), Binary: bin, PcapMax: -1})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Servers).To(HaveLen(4))
		held := 0
		for i, s := range res.Servers {
			Expect(s.Kind).To(Equal(string(sc.Servers[i].Kind)))
			Expect(s.Version).NotTo(BeEmpty(), "%s", s.Name)
			Expect(s.LeasesError).To(BeEmpty(), "%s", s.Name)
			if s.Kind != string(daemon.Builtin) {
				Expect(s.Notes).NotTo(BeEmpty(), "%s", s.Name)
			}
			for _, b := range s.Bindings {
				Expect(sc.Servers[i].Pool.Contains(b.Lease.Addr())).To(BeTrue(), "%s: %s outside its pool", s.Name, b.Lease)
			}
			held += len(s.Bindings)
		}
		// Every client bound in the history holds a binding in some
		// server's lease file (one that moved may leave an old one behind).
		bound := map[int]bool{}
		for _, e := range res.Events {
			if e.Kind == history.Bound {
				bound[e.Client] = true
			}
		}
		for _, s := range res.Servers {
			ginkgo.GinkgoWriter.Printf("%s (%s %s): %d bindings\n", s.Name, s.Kind, s.Version, len(s.Bindings))
		}
		Expect(len(bound)).To(BeNumerically(">=", sc.Clients.Count/2))
		Expect(held).To(BeNumerically(">=", len(bound)))
		Expect(res.Servers[0].Bindings).NotTo(BeEmpty(), "s1 has Preference 255")
	})
})
