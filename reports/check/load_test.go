package check_test

import (
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

var _ = Describe("server load", func() {
	loadEv := func(s float64, server string, n int) history.Event {
		return history.Event{At: at(s), Kind: history.ServerLoad, Client: -1, Server: server, Detail: strconv.Itoa(n)}
	}
	bound := func(s float64, c int) history.Event {
		return history.Event{At: at(s), Kind: history.Bound, Client: c, Server: duidA, IA: history.IANA, Lease: addr(c)}
	}
	start := history.Event{At: at(0), Kind: history.RunStarted, Client: -1}
	end := history.Event{At: at(20), Kind: history.RunEnded, Client: -1}

	It("is absent (nil) without samples, and a bound on it is unknown", func() {
		r := check.Analyze([]history.Event{start, bound(1, 0), end}, lab)
		Expect(r.Load).To(BeNil())
		r.Evaluate([]check.Bound{{Path: "load.steady_mps", Op: "<", Value: 1}})
		Expect(r.Expect[0].Unknown).To(BeTrue())
		Expect(r.Expect[0].Error).To(ContainSubstring("sampled no server load"))
	})

	It("averages each second's count over the window from the last binding to the fault, and takes the peak from the fault on", func() {
		evs := []history.Event{start, bound(1.5, 0),
			loadEv(1, "a", 100), loadEv(1, "b", 100), // before the last binding: the ramp
			loadEv(2, "a", 10), loadEv(2, "b", 10), // [1,2): half of it after the binding at 1.5
			loadEv(3, "a", 4), loadEv(3, "b", 4),
			loadEv(4, "a", 6), loadEv(4, "b", 6),
			loadEv(5, "a", 8), loadEv(5, "b", 2),
			{At: at(5.5), Kind: history.ServerKilled, Client: -1, Server: "a"},
			loadEv(6, "a", 3), loadEv(6, "b", 7), // holds the fault: a before, b after
			loadEv(7, "b", 50),
			loadEv(8, "b", 20),
			end}
		r := check.Analyze(evs, lab)
		Expect(r.Load).NotTo(BeNil())
		l := r.Load
		Expect(l.FromS).To(Equal(1.5))
		Expect(l.ToS).To(Equal(5.5))
		// a: 10*0.5 + 4 + 6 + 8 + 3*0.5 = 24.5 over 4 s; b: 5 + 4 + 6 + 2 + 3.5 = 20.5
		Expect(*l.Servers["a"].SteadyMPS).To(BeNumerically("~", 24.5/4, 1e-9))
		Expect(*l.Servers["b"].SteadyMPS).To(BeNumerically("~", 20.5/4, 1e-9))
		Expect(*l.SteadyMPS).To(BeNumerically("~", 45.0/4, 1e-9))
		Expect(*l.Servers["a"].PeakMPS).To(Equal(3.0))
		Expect(*l.Servers["b"].PeakMPS).To(Equal(50.0))
		Expect(*l.PeakMPS).To(Equal(50.0))
		r.Evaluate([]check.Bound{{Path: "load.peak_mps", Op: "==", Value: 50}})
		Expect(r.Expect[0].OK).To(BeTrue())
	})

	It("has no peak without a fault, and the window then runs to the end", func() {
		r := check.Analyze([]history.Event{start, bound(0.5, 0), loadEv(10, "a", 20), end}, lab)
		Expect(r.Load.PeakMPS).To(BeNil())
		Expect(r.Load.ToS).To(Equal(20.0))
		Expect(*r.Load.SteadyMPS).To(BeNumerically("~", 20/19.5, 1e-9))
	})
})
