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
	It("count unanswered Releases and Declines, and refreshes after a client's first answer, simulated clients only", func() {
		gaveUp := func(s float64, c int, what string) history.Event {
			return history.Event{At: at(s), Kind: history.GaveUp, Client: c, Detail: what}
		}
		informed := func(s float64, c int) history.Event {
			return history.Event{At: at(s), Kind: history.Informed, Client: c}
		}
		release := check.Gap{Param: "mrc", When: "release_gave_up", Real: "6", Simulated: "5"}
		r := check.Analyze(run(100, realKind(9),
			gaveUp(10, 1, "release"), gaveUp(10, 2, "release"), gaveUp(10, 9, "release"), gaveUp(12, 1, "request"),
			informed(1, 1), informed(20, 1), informed(40, 1), informed(1, 2), informed(1, 9), informed(20, 9),
		), withGaps(
			release,
			check.Gap{Param: "mrc", When: "decline_gave_up", Real: "6", Simulated: "5"},
			check.Gap{When: "refreshed", Real: "no refresh", Simulated: "refreshes"},
			check.Gap{When: "run", Real: "RT x1.8-2.2", Simulated: "x1.9-2.1"},
		))
		Expect(gapOf(r, "release_gave_up")).To(HaveField("Count", 2), "clients 1 and 2; 9 is real")
		Expect(gapOf(r, "release_gave_up").Gap).To(Equal(release), "the declaration is copied")
		Expect(r.Lab().Gaps).To(HaveLen(3), "d6lab report rebuilds the met ones from report.json")
		Expect(r.Lab().Gaps[0]).To(Equal(release))
		Expect(gapOf(r, "decline_gave_up")).To(BeNil(), "no Decline went unanswered: not met, not listed")
		Expect(*gapOf(r, "refreshed")).To(And(HaveField("Count", 2), HaveField("Clients", 1)), "client 1's two after its first")
		Expect(gapOf(r, "run")).NotTo(BeNil(), "a gap of every run is always listed")
		Expect(r.Gaps).To(HaveLen(3))
	})

	It("size every trigger a profile's gap may name (GapTriggers)", func() {
		// a run that meets them all: an unanswered Release and Decline, a
		// refresh
		evs := run(60,
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
		r = check.Analyze(run(60), withGaps(check.Gap{When: "refreshd", Real: "r", Simulated: "s"}))
		Expect(r.Gaps).To(BeEmpty(), "an unknown trigger never fires: nothing listed")
	})

	It("are none without a profile's gaps", func() {
		r := check.Analyze(run(60, bound(10, 1, addr(1), duidA, 100), history.Event{At: at(30), Kind: history.LinkFlapped, Client: -1}), lab)
		Expect(r.Gaps).To(BeEmpty())
	})
})
