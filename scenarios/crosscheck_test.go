package scenarios_test

import (
	"fmt"
	"math"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

// The virtual engine is how d6lab sweeps and scales (millions of clients in
// virtual time); its numbers are only worth quoting if they are the netns
// engine's, where real `d6lab serve` processes answer over real sockets.
// Each compare variant runs at 300 clients in both engines with one seed:
// re-acquisition p50 must agree within 5 % and each rebind outcome count
// within 1 % of the affected clients.
//
// The netns runs start together once the ordinary shipped scenarios have
// ended, so that the arrival bursts of twenty other labs do not change
// who binds where in these four (the virtual engine has no load to
// compare with).
const crossClients = 300

var (
	crossOnce sync.Once
	crossRuns = map[string]*labRun{}
)

func startCrossRuns() {
	crossOnce.Do(func() {
		labs.startSmall(shippedScenarios())
		labs.waitAll()
		for i, v := range scenarios.CompareVariants {
			if i > 0 {
				time.Sleep(stagger)
			}
			sc := scenarios.Compare(v, crossClients)
			crossRuns[v.Name()] = labs.start("crosscheck-"+v.Name(), sc)
		}
	})
}

var _ = Describe("the virtual engine against the netns engine on the compare scenario", Label("netns"), func() {
	for _, v := range scenarios.CompareVariants {
		It(fmt.Sprintf("%s at %d clients: re-acquisition p50 within 5 %%, rebind outcomes within 1 %%", v.Name(), crossClients), func() {
			requireRoot()
			sc := scenarios.Compare(v, crossClients)
			Expect(sc.Validate()).To(Succeed())
			startCrossRuns()
			r := crossRuns[v.Name()]
			Expect(r).NotTo(BeNil(), "the netns run of %s was not launched (see the first failure)", v.Name())

			e, err := virtual.RunScenario(sc)
			Expect(err).NotTo(HaveOccurred())
			virt := check.Analyze(e.Events(), sim.CheckLab(sc, "virtual"))

			r.wait()
			Expect(r.err).NotTo(HaveOccurred(), "netns run of %s failed; progress:\n%s", sc.Name, r.log.String())
			real := r.rep
			AddReportEntry("virtual vs netns", crossMeasured(virt, real))

			Expect(real.Affected).To(BeNumerically(">", 0), "netns: nobody was affected")
			Expect(virt.Affected).To(BeNumerically(">", 0), "virtual: nobody was affected")
			Expect(virt.ReacquireS).NotTo(BeNil())
			Expect(real.ReacquireS).NotTo(BeNil())
			vp, np := virt.ReacquireS.P50, real.ReacquireS.P50
			Expect(math.Abs(vp-np)/np).To(BeNumerically("<=", 0.05),
				"re-acquisition p50: virtual %.3fs, netns %.3fs: %.1f %% apart, the bound is 5 %%", vp, np, 100*math.Abs(vp-np)/np)

			tol := math.Max(1, 0.01*float64(real.Affected))
			for _, o := range []struct {
				name       string
				virt, real int
			}{
				{"affected", virt.Affected, real.Affected},
				{"extended", virt.Rebind.Extended, real.Rebind.Extended},
				{"renumbered", virt.Rebind.Renumbered, real.Rebind.Renumbered},
				{"refused", virt.Rebind.Refused, real.Rebind.Refused},
				{"silent", virt.Rebind.Silent, real.Rebind.Silent},
				{"undecided", virt.Rebind.Undecided, real.Rebind.Undecided},
			} {
				Expect(math.Abs(float64(o.virt-o.real))).To(BeNumerically("<=", tol),
					"rebind %s: virtual %d, netns %d: %d apart, the bound is 1 %% of %d affected (%.0f)",
					o.name, o.virt, o.real, o.virt-o.real, real.Affected, tol)
			}
		})
	}
})

func crossMeasured(virt, real *check.Report) string {
	p50 := func(p *check.Percentiles) float64 {
		if p == nil {
			return math.NaN()
		}
		return p.P50
	}
	return fmt.Sprintf("%s: affected %d/%d, extended %d/%d, renumbered %d/%d, refused %d/%d, silent %d/%d, undecided %d/%d, reacquire p50 %.3fs/%.3fs, conflicts %d/%d (virtual/netns)",
		real.Scenario, virt.Affected, real.Affected, virt.Rebind.Extended, real.Rebind.Extended,
		virt.Rebind.Renumbered, real.Rebind.Renumbered, virt.Rebind.Refused, real.Rebind.Refused,
		virt.Rebind.Silent, real.Rebind.Silent, virt.Rebind.Undecided, real.Rebind.Undecided,
		p50(virt.ReacquireS), p50(real.ReacquireS), virt.Conflicts.Count, real.Conflicts.Count)
}
