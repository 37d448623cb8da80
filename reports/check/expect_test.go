package check_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

var _ = Describe("Expect evaluation", func() {
	// one extended (reacquire 10 s) and one renumbered (reacquire 30 s) client
	report := func(extra ...history.Event) *check.Report {
		evs := append([]history.Event{
			bound(0, 1, addr(1), duidA, 200), bound(0, 2, addr(2), duidA, 200),
			labEv(history.ServerKilled, 10, "a"),
			rebound(20, 1, addr(1), duidB, 200), renumbered(40, 2, addr(2), addr(3), duidB, 200),
		}, extra...)
		return check.Analyze(run(100, evs...), lab)
	}

	It("records each bound with the value read by its JSON path", func() {
		r := report()
		r.Evaluate([]check.Bound{
			{Path: "rebind.failure_rate", Op: "<=", Value: 0.5, Raw: "<= 0.5"},
			{Path: "reacquire_s.p99", Op: "<", Value: 5},
			{Path: "duplicates.addresses", Op: "==", Value: 0},
			{Path: "affected", Op: ">=", Value: 2},
		})
		Expect(r.Expect).To(Equal([]check.ExpectResult{
			{Name: "rebind.failure_rate", Bound: "<= 0.5", Value: 0.5, OK: true},
			{Name: "reacquire_s.p99", Bound: "< 5", Value: 30, OK: false},
			{Name: "duplicates.addresses", Bound: "== 0", Value: 0, OK: true},
			{Name: "affected", Bound: ">= 2", Value: 2, OK: true},
		}))
		Expect(r.OK()).To(BeFalse(), "the p99 bound is broken")

		r.Evaluate(nil)
		Expect(r.Expect).To(BeEmpty())
		Expect(r.OK()).To(BeTrue())
	})

	It("reads drops as 0 when a run had none, and their times as unknown", func() {
		r := report()
		r.Evaluate([]check.Bound{
			{Path: "life.dropped", Op: "==", Value: 0},
			{Path: "life.unrestored", Op: "==", Value: 0},
			{Path: "life.dropped_s.p50", Op: "<", Value: 4},
		})
		Expect(r.Expect[0]).To(Equal(check.ExpectResult{Name: "life.dropped", Bound: "== 0", Value: 0, OK: true}))
		Expect(r.Expect[1].OK).To(BeTrue())
		Expect(r.Expect[2].Unknown).To(BeTrue())
		Expect(r.Expect[2].Error).To(ContainSubstring("no address a client dropped was usable again"))

		r.Life = check.Life{Dropped: 3, Unrestored: 1, DroppedS: &check.Percentiles{Count: 2, P50: 3.1}}
		r.Evaluate([]check.Bound{{Path: "life.dropped", Op: "==", Value: 3}, {Path: "life.dropped_s.p50", Op: "<", Value: 4}})
		Expect(r.OK()).To(BeTrue(), "%+v", r.Expect)

		By("a kind's drops: 0 for a kind the run has, unknown for one it has not")
		r.ByKind = []check.KindReport{{Kind: check.Simulated, Clients: 3}}
		r.Evaluate([]check.Bound{{Path: "by_kind.simulated.dropped", Op: "==", Value: 0}, {Path: "by_kind.dhcpcd.dropped", Op: "==", Value: 0}})
		Expect(r.Expect[0].OK).To(BeTrue(), "%+v", r.Expect[0])
		Expect(r.Expect[1].OK).To(BeFalse())
	})

	It("fails a bound whose metric does not exist, naming the valid ones", func() {
		r := report()
		r.Evaluate([]check.Bound{
			{Path: "rebind.faliure_rate", Op: "<", Value: 1},
			{Path: "rebind", Op: "<", Value: 1},
			{Path: "continuity", Op: "~", Value: 1},
		})
		Expect(r.Expect).To(HaveLen(3))
		for _, x := range r.Expect {
			Expect(x.OK).To(BeFalse())
		}
		Expect(r.Expect[0].Error).To(ContainSubstring("failure_rate"))
		Expect(r.Expect[1].Error).To(ContainSubstring("rebind.extended"))
		Expect(r.Expect[2].Error).To(ContainSubstring(`unknown operator "~"`))
		Expect(r.OK()).To(BeFalse())
	})

	It("reads into arrays by index", func() {
		r := report(bound(50, 9, addr(3), duidA, 10))
		r.Evaluate([]check.Bound{{Path: "duplicates.evidence.0.overlap_s", Op: "==", Value: 10}})
		Expect(r.Expect[0].OK).To(BeTrue(), r.Expect[0].Error)
	})

	It("fails on duplicates unless a bound speaks for them", func() {
		r := report(bound(50, 9, addr(3), duidA, 10)) // client 9 takes client 2's new address
		Expect(r.Duplicates.Addresses).To(Equal(1))
		r.Evaluate(nil)
		Expect(r.OK()).To(BeFalse())
		r.Evaluate([]check.Bound{{Path: "duplicates.addresses", Op: ">=", Value: 1}})
		Expect(r.OK()).To(BeTrue())
	})
})
