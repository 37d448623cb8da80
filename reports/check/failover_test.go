package check_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// one is a Percentiles of a single value.
func one(v float64) check.Percentiles {
	return check.Percentiles{Count: 1, P50: v, P95: v, P99: v, Max: v}
}

// f64 is a known share (a non-nil *float64).
func f64(v float64) *float64 { return &v }

var _ = Describe("Failover metrics", func() {
	a1, a2, a3 := addr(1), addr(2), addr(3)
	kill := labEv(history.ServerKilled, 10, "a")

	type want struct {
		rebind     check.Rebind
		reacquire  check.Percentiles
		outage     check.Percentiles
		continuity float64 // known: one client is affected
		unrecov    int
		bound      int // besides the unaffected client
	}

	DescribeTable("one affected client, one outcome",
		func(evs []history.Event, w want) {
			// client 2 is bound to b, which the fault does not touch
			evs = append([]history.Event{bound(1, 2, addr(50), duidB, 1000)}, evs...)
			r := check.Analyze(run(100, evs...), lab)
			Expect(r.Clients).To(Equal(2))
			Expect(r.Affected).To(Equal(1))
			Expect(r.Rebind).To(Equal(w.rebind))
			Expect(r.ReacquireS).To(HaveValue(Equal(w.reacquire)))
			Expect(r.OutageS).To(HaveValue(Equal(w.outage)))
			Expect(r.Continuity).To(HaveValue(Equal(w.continuity)))
			Expect(r.Unrecovered).To(Equal(w.unrecov))
			Expect(r.Bound).To(Equal(w.bound + 1))
		},
		Entry("extended: Rebound of the same lease by a live server",
			[]history.Event{bound(0, 1, a1, duidA, 100), kill, rebound(20, 1, a1, duidB, 100)},
			want{rebind: check.Rebind{Extended: 1, ExtendedSurvivor: 1, FailureRate: f64(0)}, reacquire: one(10), outage: one(0), continuity: 1, bound: 1}),
		Entry("renumbered: a new address in the Rebind's Reply",
			[]history.Event{bound(0, 1, a1, duidA, 100), kill, renumbered(20, 1, a1, a2, duidB, 100)},
			want{rebind: check.Rebind{Renumbered: 1, FailureRate: f64(1)}, reacquire: one(10), outage: one(0), bound: 1}),
		Entry("refused with NoBinding, then a new address by Solicit",
			[]history.Event{bound(0, 1, a1, duidA, 100), kill,
				ended(history.Refused, 20, 1, a1, history.CauseNoBinding), bound(25, 1, a2, duidB, 100)},
			want{rebind: check.Rebind{Refused: 1, RefusedNoBinding: 1, FailureRate: f64(1)}, reacquire: one(15), outage: one(5), bound: 1}),
		Entry("refused with zero lifetimes, then a new address by Solicit",
			[]history.Event{bound(0, 1, a1, duidA, 100), kill,
				ended(history.Refused, 20, 1, a1, history.CauseZeroLifetime), bound(30, 1, a3, duidB, 100)},
			want{rebind: check.Rebind{Refused: 1, RefusedZero: 1, FailureRate: f64(1)}, reacquire: one(20), outage: one(10), bound: 1}),
		Entry("silent: Expired, then the same address again by Solicit (kept)",
			[]history.Event{bound(0, 1, a1, duidA, 30), kill,
				ended(history.Expired, 30, 1, a1, ""), bound(34, 1, a1, duidB, 100)},
			want{rebind: check.Rebind{Silent: 1, FailureRate: f64(1)}, reacquire: one(24), outage: one(4), continuity: 1, bound: 1}),
		Entry("silent without an Expired event: the lifetime is computed",
			[]history.Event{bound(0, 1, a1, duidA, 30), kill, bound(34, 1, a1, duidB, 100)},
			want{rebind: check.Rebind{Silent: 1, FailureRate: f64(1)}, reacquire: one(24), outage: one(4), continuity: 1, bound: 1}),
		Entry("never recovered",
			[]history.Event{bound(0, 1, a1, duidA, 30), kill, ended(history.Expired, 30, 1, a1, "")},
			want{rebind: check.Rebind{Silent: 1, FailureRate: f64(1)}, unrecov: 1}),
		Entry("renewals before the fault extend the binding that Rebind then keeps",
			[]history.Event{bound(0, 1, a1, duidA, 12), renewed(6, 1, a1, duidA, 12), kill,
				rebound(17, 1, a1, duidB, 100)},
			want{rebind: check.Rebind{Extended: 1, ExtendedSurvivor: 1, FailureRate: f64(0)}, reacquire: one(7), outage: one(0), continuity: 1, bound: 1}),
	)

	It("counts a frozen server that thaws before any rebind as recovered at the thaw", func() {
		r := check.Analyze(run(100, bound(0, 1, a1, duidA, 200),
			labEv(history.ServerFrozen, 10, "a"), labEv(history.ServerThawed, 15, "a")), lab)
		Expect(r.Fault).To(Equal(&check.Fault{At: at(10), Kind: "server_frozen", Servers: []string{"a"}}))
		Expect(r.Affected).To(Equal(1))
		Expect(r.Rebind).To(Equal(check.Rebind{Undecided: 1}), "undecided is no failure: the rate is unknown")
		Expect(r.ReacquireS).To(HaveValue(Equal(one(5))))
		Expect(r.Continuity).To(HaveValue(Equal(1.0)))
	})

	It("cuts every server off with a nameless LinkCut and recovers when the link heals", func() {
		r := check.Analyze(run(100, bound(0, 1, a1, duidA, 200), bound(0, 2, a2, duidB, 200),
			labEv(history.LinkCut, 10, ""), labEv(history.LinkHealed, 30, ""),
			renewed(50, 1, a1, duidA, 100)), lab)
		Expect(r.Fault.Servers).To(Equal([]string{"a", "b"}))
		Expect(r.Affected).To(Equal(2))
		Expect(r.Rebind).To(Equal(check.Rebind{Extended: 1, ExtendedRecovered: 1, Undecided: 1, FailureRate: f64(0)}))
		Expect(r.ReacquireS.Count).To(Equal(2))
		Expect(r.ReacquireS.Max).To(Equal(20.0))
		Expect(r.Continuity).To(HaveValue(Equal(1.0)))
	})

	It("does not count clients renewed by another server, bound after the fault, or unbound", func() {
		r := check.Analyze(run(100,
			bound(0, 1, a1, duidA, 100), renewed(5, 1, a1, duidB, 100), // last extended by b
			bound(0, 2, a2, duidA, 100), ended(history.Released, 8, 2, a2, ""), // released before
			labEv(history.ServerKilled, 10, "a"),
			bound(11, 3, a3, duidA, 100), // granted after the fault (a restarted? still not affected)
		), lab)
		Expect(r.Fault).NotTo(BeNil())
		Expect(r.Clients).To(Equal(3))
		Expect(r.Affected).To(Equal(0))
		Expect(r.Rebind.FailureRate).To(BeNil(), "unknown: nobody was affected")
		Expect(r.Continuity).To(BeNil(), "unknown, not vacuously 1")
		Expect(r.ReacquireS).To(BeNil())
		Expect(r.OutageS).To(BeNil())
	})

	It("takes the first fault and the servers faulted at that instant", func() {
		r := check.Analyze(run(100,
			bound(0, 1, a1, duidA, 100), bound(0, 2, a2, duidB, 100),
			labEv(history.ServerKilled, 10, "a"), labEv(history.ServerKilled, 40, "b"),
		), lab)
		Expect(r.Fault).To(Equal(&check.Fault{At: at(10), Kind: "server_killed", Servers: []string{"a"}}))
		Expect(r.Affected).To(Equal(1))
		Expect(r.Unrecovered).To(Equal(1))
	})

	It("reports no failover metrics without a fault", func() {
		r := check.Analyze(run(100, bound(0, 1, a1, duidA, 100), bound(0, 2, a2, duidA, 101)), lab)
		Expect(r.Fault).To(BeNil())
		Expect(r.Affected).To(BeZero())
		Expect(r.Bound).To(Equal(1), "a lease expiring exactly at End is not bound")
		Expect(r.Continuity).To(BeNil())
		Expect(r.Rebind.FailureRate).To(BeNil())
	})

	It("matches DUIDs whatever their spelling", func() {
		r := check.Analyze(run(100, bound(0, 1, a1, "00:01:00:01:00:00:00:0A", 100), kill), lab)
		Expect(r.Affected).To(Equal(1))
	})

	It("ignores events after End and counts bindings valid at End", func() {
		l := lab
		l.End = at(50)
		r := check.Analyze(run(100,
			bound(0, 1, a1, duidA, 40),  // expired at 40
			bound(0, 2, a2, duidA, 60),  // valid at 50
			bound(60, 3, a3, duidA, 60), // after End
		), l)
		Expect(r.Clients).To(Equal(2))
		Expect(r.Bound).To(Equal(1))
		Expect(r.DurationS).To(Equal(50.0))
	})

	Describe("percentiles", func() {
		// n clients bound to a; a is killed at 10; client i is rebound by b
		// at 10 + f(i) seconds.
		spread := func(n int, f func(i int) float64) *check.Report {
			var evs []history.Event
			for i := 1; i <= n; i++ {
				evs = append(evs, bound(0, i, addr(i), duidA, 5000))
			}
			evs = append(evs, kill)
			for i := 1; i <= n; i++ {
				evs = append(evs, rebound(10+f(i), i, addr(i), duidB, 5000))
			}
			return check.Analyze(run(3000, evs...), lab)
		}

		It("gives exact p50/p95/p99/max for 1..100 s", func() {
			r := spread(100, func(i int) float64 { return float64(101 - i) })
			Expect(r.ReacquireS).To(HaveValue(Equal(check.Percentiles{Count: 100, P50: 50, P95: 95, P99: 99, Max: 100})))
			Expect(r.OutageS).To(HaveValue(Equal(check.Percentiles{Count: 100})))
		})

		It("stays within 0.01% for long times and keeps Max exact", func() {
			r := spread(100, func(i int) float64 { return float64(i)*10 + 0.123 })
			Expect(r.ReacquireS.P50).To(BeNumerically("~", 500.123, 0.05))
			Expect(r.ReacquireS.P95).To(BeNumerically("~", 950.123, 0.1))
			Expect(r.ReacquireS.P99).To(BeNumerically("~", 990.123, 0.1))
			Expect(r.ReacquireS.P99).To(BeNumerically("<=", 990.123))
			Expect(r.ReacquireS.Max).To(Equal(1000.123))
		})
	})

	It("does not depend on the order events are given in", func() {
		evs := run(100, bound(0, 1, a1, duidA, 30), bound(1, 2, a2, duidA, 100), kill,
			rebound(20, 2, a2, duidB, 100), bound(34, 1, a3, duidB, 100), bound(35, 3, a1, duidB, 100))
		want := check.Analyze(evs, lab)
		rev := make([]history.Event, len(evs))
		for i, e := range evs {
			rev[len(evs)-1-i] = e
		}
		Expect(check.Analyze(rev, lab)).To(Equal(want))
		Expect(want.Affected).To(Equal(2))
	})
})
