package check_test

import (
	"d6lab/reports/check"
	"d6lab/reports/history"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Acquire", func() {
	solicited := func(s float64, c int) history.Event {
		return history.Event{At: at(s), Kind: history.Solicited, Client: c}
	}

	It("measures each client's first Solicit to first binding, and the last first binding", func() {
		r := check.Analyze(run(60,
			solicited(1, 0), bound(2.5, 0, addr(0), duidA, 100),
			solicited(2, 1), solicited(3, 1), bound(6, 1, addr(1), duidA, 100),
			// a later binding of client 0 (a renumbering) does not count
			renumbered(30, 0, addr(0), addr(2), duidA, 100),
			solicited(10, 2),                  // never bound
			bound(12, 3, addr(3), duidA, 100), // no Solicit seen: not counted
		), lab)
		Expect(r.Acquire.BindS.Count).To(Equal(2))
		Expect(r.Acquire.BindS.P50).To(BeNumerically("~", 1.5, 0.01))
		Expect(r.Acquire.BindS.Max).To(BeNumerically("~", 4, 0.001))
		Expect(r.Acquire.LastS).To(BeNumerically("~", 6, 0.001))
		Expect(r.Acquire.Never).To(Equal(1))
	})

	It("counts the first binding from when DAD lets it be used, and skips one DAD caught", func() {
		x := addr(7)
		one := 1
		g := tentative(bound(2, 0, x, duidA, 100), 1.5)
		r := check.Analyze(run(60,
			solicited(1, 0), g, dadDeclined(2.5, 0, g, &one), // caught: not a binding
			tentative(bound(3, 0, addr(8), duidA, 100), 1.5), // usable at 4.5
			solicited(1, 1), tentative(bound(2, 1, addr(9), duidA, 100), 1), // usable at 3
		), lab)
		Expect(r.Acquire.BindS.Count).To(Equal(2))
		Expect(r.Acquire.BindS.Max).To(BeNumerically("~", 3.5, 0.001))
		Expect(r.Acquire.BindS.P50).To(BeNumerically("~", 2, 0.01))
		Expect(r.Acquire.LastS).To(BeNumerically("~", 4.5, 0.001))
		Expect(r.Acquire.Never).To(BeZero())
	})

	It("does not count a first binding whose address the client kept after DAD failed", func() {
		one := 1
		g := tentative(bound(2, 0, addr(7), duidA, 100), 1.5)
		r := check.Analyze(run(60,
			solicited(1, 0), g, dadKept(2.5, 0, g, &one), renewed(50, 0, addr(7), duidA, 100), // kept: never usable
			solicited(1, 1), tentative(bound(2, 1, addr(9), duidA, 100), 1), // usable at 3
		), lab)
		Expect(r.Acquire.BindS.Count).To(Equal(1))
		Expect(r.Acquire.Never).To(Equal(1))
	})

	It("is bounded by expect paths", func() {
		r := check.Analyze(run(60, solicited(1, 0), bound(2, 0, addr(0), duidA, 100)), lab)
		r.Evaluate([]check.Bound{{Path: "acquire.last_s", Op: "<=", Value: 1.5, Raw: "<= 1.5"}})
		Expect(r.Expect).To(HaveLen(1))
		Expect(r.Expect[0].OK).To(BeFalse())
		Expect(r.Expect[0].Value).To(BeNumerically("~", 2, 0.001))
	})
})
