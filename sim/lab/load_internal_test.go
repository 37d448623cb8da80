package lab

import (
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
)

var _ = ginkgo.Describe("the server-load meter's seconds", func() {
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 250_000_000, time.UTC) // a run starts anywhere in a second
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type sample struct {
		At     float64 // seconds since t0
		Server string
		Detail string
	}
	samples := func(evs []history.Event) []sample {
		var out []sample
		for _, e := range evs {
			Expect(e.Kind).To(Equal(history.ServerLoad))
			Expect(e.Client).To(Equal(-1))
			out = append(out, sample{At: e.At.Sub(t0).Seconds(), Server: e.Server, Detail: e.Detail})
		}
		return out
	}

	ginkgo.It("counts arrivals in the seconds from the run's start, one event at each second's end, none for an empty second, the last at the run's end", func() {
		p := perSecond{}
		p.add(at(0.5)) // no origin yet: the servers' readiness, before the run
		p.origin = t0
		for _, s := range []float64{-0.001, 0, 0.2, 0.999999, 1, 2.5, 2.6, 4.1, 4.2, 4.3} {
			p.add(at(s))
		}
		Expect(samples(p.events("s1", at(4.5)))).To(Equal([]sample{
			{1, "s1", "3"}, // [0,1): 0, 0.2, 0.999999; -0.001 is before the start
			{2, "s1", "1"},
			{3, "s1", "2"},
			// [3,4) received nothing: no event
			{4.5, "s1", "3"}, // the run ended inside [4,5)
		}))
	})

	ginkgo.It("leaves out the seconds after the end", func() {
		p := perSecond{origin: t0}
		p.add(at(0.5))
		p.add(at(3.5))
		Expect(samples(p.events("s1", at(2)))).To(Equal([]sample{{1, "s1", "1"}}))
	})

	ginkgo.It("counts a server only while it is not killed, and nothing after the end", func() {
		killed := map[string]bool{}
		m := &loadMeter{running: func(name string) bool { return !killed[name] }}
		a, b := &meteredServer{name: "a"}, &meteredServer{name: "b"}
		m.servers = []*meteredServer{a, b}
		m.arrive(a, at(-1)) // before begin
		m.begin(t0)
		m.arrive(a, at(0.1))
		m.arrive(b, at(0.2))
		killed["a"] = true
		m.arrive(a, at(1.1)) // the interface receives, the server does not
		m.arrive(b, at(1.2))
		killed["a"] = false // restarted
		m.arrive(a, at(2.1))
		m.arrive(b, at(2.2))
		m.end = at(2.5)
		m.arrive(b, at(2.6)) // after the end
		evs, warn, err := m.finish(at(2.5))
		Expect(err).NotTo(HaveOccurred())
		Expect(warn).To(BeEmpty())
		Expect(samples(evs)).To(Equal([]sample{
			{1, "a", "1"}, {1, "b", "1"},
			{2, "b", "1"},
			{2.5, "a", "1"}, {2.5, "b", "1"},
		}))
		_, err = m.stop() // a second stop (the session's cleanup) does nothing
		Expect(err).NotTo(HaveOccurred())
	})

	ginkgo.It("merges the load events among the run's events, before the others at the same instant, keeping their order", func() {
		ev := func(s float64, k history.Kind, srv string) history.Event {
			return history.Event{At: at(s), Kind: k, Client: -1, Server: srv}
		}
		run := []history.Event{ev(0, history.RunStarted, ""), ev(1, history.ServerKilled, "a"), ev(0.9, history.Bound, "b"), ev(2.5, history.RunEnded, "")}
		load := []history.Event{ev(1, history.ServerLoad, "a"), ev(2, history.ServerLoad, "b"), ev(2.5, history.ServerLoad, "b")}
		got := mergeLoad(run, load)
		var kinds []history.Kind
		for _, e := range got {
			kinds = append(kinds, e.Kind)
		}
		Expect(kinds).To(Equal([]history.Kind{history.RunStarted, history.ServerLoad, history.ServerKilled, history.Bound,
			history.ServerLoad, history.ServerLoad, history.RunEnded}))
		Expect(mergeLoad(run, nil)).To(Equal(run))
	})
})
