package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server/daemon"
)

// mixedKinds is a short run with one server of each Debian kind beside
// the builtin one, FIRST (Preference 255) granting nearly every binding.
const mixedKinds = `name: mixed-kinds
description: every kind on one split link, no fault
model: split
link: 2001:db8:1:2::/64
lifetimes: {t1: 10s, t2: 16s, preferred: 20s, valid: 30s}
servers:
  - {name: s1, kind: FIRST, preference: 255}
  - {name: s2, kind: OTHER1, preference: 0}
  - {name: s3, kind: OTHER2, preference: 0}
  - {name: s4, kind: OTHER3, preference: 0}
  - {name: s5, kind: OTHER4, preference: 0}
clients:
  count: 30
  ramp: 1s
duration: 4s
`

// Servers of every installed kind run in one lab through their adapters;
// the Result names each one's kind and version, and holds the bindings
// read back from its lease file after the run.
var _ = ginkgo.Describe("a run with third-party servers", ginkgo.Label("thirdparty", "netns"), func() {
	var bin string
	ginkgo.BeforeEach(func() {
		if os.Geteuid() != 0 {
			ginkgo.Skip("needs root (CAP_NET_ADMIN)")
		}
		for _, k := range []deploy.Kind{deploy.Kea, deploy.Dhcpd, deploy.Dnsmasq, deploy.Wide} {
			a, err := daemon.Lookup(k)
			Expect(err).NotTo(HaveOccurred())
			if err := a.Installed(); err != nil {
				ginkgo.Skip(err.Error())
			}
		}
		if bin = os.Getenv("D6LAB_BIN"); bin == "" { // a d6lab binary already built, or:
			bin = filepath.Join(ginkgo.GinkgoT().TempDir(), "d6lab")
			out, err := exec.Command("go", "build", "-o", bin, "d6lab/cmd/d6lab").CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "go build d6lab/cmd/d6lab:\n%s", out)
		}
	})

	for _, first := range []deploy.Kind{deploy.Kea, deploy.Dhcpd, deploy.Dnsmasq} {
		ginkgo.It(fmt.Sprintf("starts each kind, %s preferred, and reads the bindings back after the run", first), func() {
			others := []string{"builtin"}
			for _, k := range []deploy.Kind{deploy.Kea, deploy.Dhcpd, deploy.Dnsmasq, deploy.Wide} {
				if k != first {
					others = append(others, string(k))
				}
			}
			yaml := strings.NewReplacer("FIRST", string(first), "OTHER1", others[0], "OTHER2", others[1],
				"OTHER3", others[2], "OTHER4", others[3]).Replace(mixedKinds)
			path := filepath.Join(ginkgo.GinkgoT().TempDir(), "mixed-kinds.yaml")
			Expect(os.WriteFile(path, []byte(yaml), 0o644)).To(Succeed())
			sc, err := scenarios.Load(path)
			Expect(err).NotTo(HaveOccurred())

			res, err := Run(context.Background(), sc, Options{OutDir: ginkgo.GinkgoT().TempDir(), Binary: bin, PcapMax: -1})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Servers).To(HaveLen(len(sc.Servers)))
			held := 0
			for i, s := range res.Servers {
				ginkgo.GinkgoWriter.Printf("%s (%s %s): %d bindings %s\n", s.Name, s.Kind, s.Version, len(s.Bindings), s.LeasesError)
				Expect(s.Kind).To(Equal(string(sc.Servers[i].Kind)))
				Expect(s.Version).NotTo(BeEmpty(), "%s", s.Name)
				if s.Kind == string(deploy.Wide) {
					Expect(s.LeasesError).To(ContainSubstring("no lease file"))
				} else {
					Expect(s.LeasesError).To(BeEmpty(), "%s", s.Name)
				}
				if s.Kind != string(deploy.Builtin) {
					Expect(s.Notes).NotTo(BeEmpty(), "%s", s.Name)
				}
				for _, b := range s.Bindings {
					Expect(sc.Servers[i].Pool.Contains(b.Lease.Addr())).To(BeTrue(), "%s: %s outside its pool", s.Name, b.Lease)
				}
				held += len(s.Bindings)
			}
			// Every client bound in the history holds a binding in some
			// server's lease file (wide's excepted: it keeps none).
			bound := map[int]bool{}
			for _, e := range res.Events {
				if e.Kind == history.Bound {
					bound[e.Client] = true
				}
			}
			Expect(len(bound)).To(BeNumerically(">=", sc.Clients.Count/2))
			Expect(res.Servers[0].Bindings).NotTo(BeEmpty(), "s1 (%s) has Preference 255", first)
			Expect(held).To(BeNumerically(">=", len(bound)-len(bound)/10))
		})
	}
})
