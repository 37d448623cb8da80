package virtual_test

import (
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

var _ = Describe("server load samples", func() {
	It("count every message each server received, once a second, in time order; the steady load is clients / T1 per server", func() {
		// 200 clients, T1 20s, the fault at 2 + 2 T1: between the last
		// binding (about 3 s) and the fault each client renews once or
		// twice; Renews are multicast (no server unicast in RFC 9915), so
		// each of the two servers receives every one: clients / T1 = 10
		// messages/s each, 20 in total.
		sc := scenarios.Compare(scenarios.CompareVariant{Model: scenarios.Split}, 200)
		sc.Lifetimes = scenarios.Lifetimes{T1: 20 * time.Second, T2: 32 * time.Second, Preferred: 40 * time.Second, Valid: 60 * time.Second}
		sc.Timeline = []scenarios.Action{{At: 42 * time.Second, Kind: scenarios.Kill, Target: "s1"}}
		sc.Duration = 42*time.Second + 90*time.Second
		sc.Expect = nil
		Expect(sc.Validate()).To(Succeed())
		e, err := virtual.RunScenario(sc)
		Expect(err).NotTo(HaveOccurred())

		evs := e.Events()
		total := 0
		for i, ev := range evs {
			if i > 0 {
				Expect(ev.At).NotTo(BeTemporally("<", evs[i-1].At), "history in time order")
			}
			if ev.Kind == history.ServerLoad {
				n, err := strconv.Atoi(ev.Detail)
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(BeNumerically(">", 0))
				total += n
			}
		}
		var handled uint64
		for _, s := range e.Servers() {
			handled += s.Core().Counters().Received
		}
		Expect(uint64(total)).To(Equal(handled), "every message a core handled is in one sample")

		r := check.Analyze(evs, sim.CheckLab(sc, "virtual"))
		Expect(r.Load).NotTo(BeNil())
		for _, name := range []string{"s1", "s2"} {
			Expect(*r.Load.Servers[name].SteadyMPS).To(BeNumerically("~", 10, 1), name)
		}
		Expect(*r.Load.SteadyMPS).To(BeNumerically("~", 20, 2))
		// after the kill, s2 alone answers the Rebinds and new Solicits
		Expect(*r.Load.Servers["s1"].PeakMPS).To(BeZero())
		Expect(*r.Load.PeakMPS).To(BeNumerically(">", 10))
	})
})
