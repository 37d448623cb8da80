package check_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// withGaps is the test lab with a profile and its gaps.
func withGaps(gaps ...check.Gap) check.Lab {
	l := lab
	l.Profile = "dhcpcd"
	l.Gaps = gaps
	return l
}

func gapOf(r *check.Report, when string) *check.GapReport {
	for i := range r.Gaps {
		if r.Gaps[i].When == when {
			return &r.Gaps[i]
		}
	}
	return nil
}

func realKind(c int) history.Event {
	return history.Event{At: t0, Kind: history.ClientKind, Client: c, Detail: "dhcpcd"}
}

var _ = Describe("Profile gaps", func() {
	kept := check.Gap{Param: "dad_failure", When: "dad_failed", Real: "adds it again at each Renew", Simulated: "keeps it unusable"}

	It("size kept addresses by how long they stayed unusable, and count those whose holder let go first", func() {
		// client 2 keeps x (held by client 1, who releases it at 50) until
		// its lease ends at 140; client 3 keeps y, held by client 4 all run
		x, y := addr(7), addr(8)
		one, four := 1, 4
		// (client 5 declines z, held by client 6: a conflict, not kept;
		// client 7, a real one, keeps w, held by client 8)
		z, six := addr(9), 6
		w, eight := addr(10), 8
		g7 := tentative(bound(40, 7, w, duidB, 100), 1)
		// client 10 keeps v, held by client 11 until 100: less than T1
		// (50 s) before its lease ends at 140
		v, eleven := addr(11), 11
		g10 := tentative(bound(40, 10, v, duidB, 100), 1)
		g2 := tentative(bound(40, 2, x, duidB, 100), 1)
		g3 := tentative(bound(40, 3, y, duidB, 100), 1)
		g5 := tentative(bound(40, 5, z, duidB, 100), 1)
		r := check.Analyze(run(200, bound(0, 1, x, duidA, 300), bound(0, 4, y, duidA, 300), bound(0, 6, z, duidA, 300),
			g2, dadKept(40.5, 2, g2, &one), g3, dadKept(40.5, 3, g3, &four), g5, dadDeclined(40.5, 5, g5, &six),
			realKind(7), bound(0, 8, w, duidA, 300), g7, dadKept(40.5, 7, g7, &eight),
			ended(history.Released, 50, 1, x, ""),
			bound(0, 11, v, duidA, 300), g10, dadKept(40.5, 10, g10, &eleven), ended(history.Released, 100, 11, v, ""),
		), withGaps(kept))
		g := gapOf(r, "dad_failed")
		Expect(g).NotTo(BeNil(), "the run met the gap: %+v", r.Gaps)
		Expect(g.Gap).To(Equal(kept), "the declaration is copied")
		Expect(r.Lab().Gaps).To(Equal([]check.Gap{kept}), "d6lab report rebuilds it from report.json")
		Expect(g.Count).To(Equal(3), "the three kept, not the declined one, nor the real client's")
		Expect(g.Recoverable).To(Equal(1), "client 1 released x a T1 before client 2's lease ended; client 4 held y all run; client 11 let v go too late for a Renew")
		Expect(g.EstimateS.Max).To(Equal(99.5), "from the DAD failure at 40.5 to the lease's end at 140")
	})

	It("count unanswered Releases and Declines, and refreshes after a client's first answer, simulated clients only", func() {
		gaveUp := func(s float64, c int, what string) history.Event {
			return history.Event{At: at(s), Kind: history.GaveUp, Client: c, Detail: what}
		}
		informed := func(s float64, c int) history.Event {
			return history.Event{At: at(s), Kind: history.Informed, Client: c}
		}
		r := check.Analyze(run(100, realKind(9),
			gaveUp(10, 1, "release"), gaveUp(10, 2, "release"), gaveUp(10, 9, "release"), gaveUp(12, 1, "request"),
			informed(1, 1), informed(20, 1), informed(40, 1), informed(1, 2), informed(1, 9), informed(20, 9),
		), withGaps(
			check.Gap{Param: "mrc", When: "release_gave_up", Real: "6", Simulated: "5"},
			check.Gap{Param: "mrc", When: "decline_gave_up", Real: "6", Simulated: "5"},
			check.Gap{When: "refreshed", Real: "no refresh", Simulated: "refreshes"},
			check.Gap{When: "run", Real: "RT x1.8-2.2", Simulated: "x1.9-2.1"},
		))
		Expect(gapOf(r, "release_gave_up")).To(HaveField("Count", 2), "clients 1 and 2; 9 is real")
		Expect(gapOf(r, "decline_gave_up")).To(BeNil(), "no Decline went unanswered: not met, not listed")
		Expect(*gapOf(r, "refreshed")).To(And(HaveField("Count", 2), HaveField("Clients", 1)), "client 1's two after its first")
		Expect(gapOf(r, "run")).NotTo(BeNil(), "a gap of every run is always listed")
		Expect(r.Gaps).To(HaveLen(3))
	})

	It("size every trigger a profile's gap may name (GapTriggers)", func() {
		// a run that meets them all: a kept address, an unanswered Release
		// and Decline, a refresh
		one := 1
		g2 := tentative(bound(10, 2, addr(2), duidA, 100), 1)
		evs := run(60, tentative(bound(5, 1, addr(1), duidA, 100), 1), g2, dadKept(10.5, 2, g2, &one),
			history.Event{At: at(30), Kind: history.GaveUp, Client: 3, Detail: "release"},
			history.Event{At: at(30), Kind: history.GaveUp, Client: 3, Detail: "decline"},
			history.Event{At: at(1), Kind: history.Informed, Client: 4}, history.Event{At: at(31), Kind: history.Informed, Client: 4})
		var gaps []check.Gap
		for _, tr := range check.GapTriggers {
			gaps = append(gaps, check.Gap{When: tr, Real: "r", Simulated: "s"})
		}
		r := check.Analyze(evs, withGaps(gaps...))
		Expect(r.Gaps).To(HaveLen(len(check.GapTriggers)), "each one met and listed")
		for _, g := range r.Gaps {
			Expect(g.Effect).NotTo(BeEmpty(), g.When)
			if g.When != check.TriggerRun {
				Expect(g.Count).To(BeNumerically(">", 0), g.When)
			}
		}
		r = check.Analyze(run(60), withGaps(check.Gap{When: "dad_flailed", Real: "r", Simulated: "s"}))
		Expect(r.Gaps).To(BeEmpty(), "an unknown trigger never fires: nothing listed")
	})

	It("are none without a profile's gaps", func() {
		r := check.Analyze(run(60, bound(10, 1, addr(1), duidA, 100), history.Event{At: at(30), Kind: history.LinkFlapped, Client: -1}), lab)
		Expect(r.Gaps).To(BeEmpty())
	})
})
