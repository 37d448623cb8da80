package lab_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
)

// 50 clients renewing every 3 s on two servers: the ramp lasts one T1, so
// the renewals are spread evenly over each T1. s1 is killed after some
// four T1 of steady state and restarted 4 s later.
const loadScenario = `
name: load-meter
description: 50 clients renewing every 3 s on two split servers; s1 killed, then restarted
model: split
link: 2001:db8:1:1::/64
lifetimes: {t1: 3s, t2: 5s, preferred: 6s, valid: 8s}
servers:
  - {name: s1, preference: 255}
  - {name: s2, preference: 0}
clients:
  count: 50
  ramp: 3s
timeline:
  - {at: 15s, action: kill, target: s1}
  - {at: 19s, action: restart, target: s1, state: wipe}
duration: 22s
`

var _ = Describe("the server load of a netns run", Label("netns"), func() {
	It("is clients/T1 per server in steady state, as in the virtual engine, and nothing while a server is killed", func() {
		path := filepath.Join(GinkgoT().TempDir(), "load-meter.yaml")
		Expect(os.WriteFile(path, []byte(loadScenario), 0o644)).To(Succeed())
		sc, err := scenarios.Load(path)
		Expect(err).NotTo(HaveOccurred())

		evs, err := playNetns(sc)
		Expect(err).NotTo(HaveOccurred())
		rep := check.Analyze(evs, sim.CheckLab(sc, "netns"))
		Expect(rep.Load).NotTo(BeNil(), "the netns run recorded no server_load events")
		virt, err := playVirtual(sc)
		Expect(err).NotTo(HaveOccurred())
		vrep := check.Analyze(virt, sim.CheckLab(sc, "virtual"))
		Expect(vrep.Load).NotTo(BeNil())

		// Each bound client sends one Renew per T1 (RFC 9915 §18.2.4) to
		// ff02::1:2, so every server receives it: clients/T1 per server.
		// The window (the last binding to the kill, some 3.8 T1) cuts
		// partial renewal periods at its ends, a few messages out of some
		// 190; and each period is T1 plus the Renew's round trip. 10 %
		// leaves a loaded 2-core machine a 300 ms round trip. Issue 15 asks
		// the engines to agree within 5 %.
		want := float64(sc.Clients.Count) / sc.Lifetimes.T1.Seconds()
		for _, name := range []string{"s1", "s2"} {
			s := rep.Load.Servers[name]
			Expect(s.SteadyMPS).NotTo(BeNil(), "server %s: no steady load (window %.3f-%.3f s)", name, rep.Load.FromS, rep.Load.ToS)
			got := *s.SteadyMPS
			off := (got - want) / want
			Expect(math.Abs(off)).To(BeNumerically("<=", 0.10),
				"server %s: steady load %.2f msg/s is %+.1f %% from clients/T1 = %.2f (bound ±10 %%; window %.3f-%.3f s)",
				name, got, 100*off, want, rep.Load.FromS, rep.Load.ToS)
			v := *vrep.Load.Servers[name].SteadyMPS
			agree := (got - v) / v
			Expect(math.Abs(agree)).To(BeNumerically("<=", 0.05),
				"server %s: steady load %.2f msg/s in netns, %.2f in the virtual engine: %+.1f %% (bound ±5 %%)", name, got, v, 100*agree)
		}

		// s1 counts nothing from its kill to its restart: no second that
		// starts at or after the kill and ends by the restart has an
		// event; s2 keeps counting meanwhile; s1 counts again afterwards.
		var killed, restarted time.Time
		for _, e := range evs {
			switch {
			case e.Kind == history.ServerKilled && e.Server == "s1":
				killed = e.At
			case e.Kind == history.ServerRestarted && e.Server == "s1":
				restarted = e.At
			}
		}
		Expect(killed).NotTo(BeZero())
		Expect(restarted).To(BeTemporally(">", killed))
		rel := func(t time.Time) string { return fmt.Sprintf("+%.3fs", t.Sub(evs[0].At).Seconds()) }
		var s1After, s2While int
		for _, e := range evs {
			if e.Kind != history.ServerLoad {
				continue
			}
			switch {
			case e.Server == "s1" && !e.At.After(restarted):
				Expect(e.At.Add(-time.Second)).To(BeTemporally("<", killed),
					"s1 counted %s messages in the second ending %s, after its kill at %s (restart %s)", e.Detail, rel(e.At), rel(killed), rel(restarted))
			case e.Server == "s1":
				s1After++
			case e.Server == "s2" && e.At.After(killed) && !e.At.After(restarted):
				s2While++
			}
		}
		Expect(s2While).To(BeNumerically(">=", 3), "s2 recorded load in %d of the seconds s1 was killed", s2While)
		Expect(s1After).To(BeNumerically(">=", 1), "s1 recorded no load after its restart")
	})
})
