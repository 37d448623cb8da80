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
	It("is every client Renew in steady state (clients/T1 in the virtual engine), and nothing while a server is killed", func() {
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

		// Each bound client sends one Renew per T1 (RFC 9915 §18.2.4), T1
		// counted from the Reply that granted or extended its lease, to
		// ff02::1:2: every server receives it. In the virtual engine a Reply
		// takes no time, so each server receives clients/T1 a second; the
		// window is cut to whole T1s, so only the per-second samples cut at
		// its ends stray from it (3 %). On the wire each renewal period is
		// T1 plus the Renew's round trip, which a loaded machine stretches
		// (both processes waiting for a core): there the reference is the
		// Renews the clients' own history places in the window (each
		// Reply at r sends the next Renew at r + T1), and the meter must
		// count those (5 %: the samples at the ends and a timer's lateness
		// across them).
		want := float64(sc.Clients.Count) / sc.Lifetimes.T1.Seconds()
		from := rep.Started.Add(time.Duration(rep.Load.FromS * float64(time.Second)))
		to := rep.Started.Add(time.Duration(rep.Load.ToS * float64(time.Second)))
		Expect(to.Sub(from)).To(BeNumerically(">=", sc.Lifetimes.T1),
			"the steady window %.3f-%.3f s is shorter than one T1 (%s)", rep.Load.FromS, rep.Load.ToS, sc.Lifetimes.T1)
		renews, period := renewsIn(evs, from, to)
		sent := float64(renews) / to.Sub(from).Seconds()
		// The clients' renewal period is T1 plus the round trip: never
		// shorter than T1 (a client that renews early breaks §18.2.4).
		Expect(period).To(BeNumerically(">=", sc.Lifetimes.T1),
			"the clients' mean renewal period %s is shorter than T1 %s", period, sc.Lifetimes.T1)
		for _, name := range []string{"s1", "s2"} {
			s := rep.Load.Servers[name]
			Expect(s.SteadyMPS).NotTo(BeNil(), "server %s: no steady load (window %.3f-%.3f s)", name, rep.Load.FromS, rep.Load.ToS)
			got := *s.SteadyMPS
			v := *vrep.Load.Servers[name].SteadyMPS
			GinkgoWriter.Printf("server %s: netns %.2f msg/s, the clients' Renews %.2f/s (mean period %s), virtual %.2f, clients/T1 %.2f; window %.3f-%.3f s\n",
				name, got, sent, period.Round(time.Millisecond), v, want, rep.Load.FromS, rep.Load.ToS)
			off := (got - sent) / sent
			Expect(math.Abs(off)).To(BeNumerically("<=", 0.05),
				"server %s: the meter counted %.2f msg/s, %+.1f %% from the %d Renews the clients' history places in the window, %.2f/s (bound ±5 %%; window %.3f-%.3f s)",
				name, got, 100*off, renews, sent, rep.Load.FromS, rep.Load.ToS)
			voff := (v - want) / want
			Expect(math.Abs(voff)).To(BeNumerically("<=", 0.03),
				"server %s: the virtual engine counted %.2f msg/s, %+.1f %% from clients/T1 = %.2f (bound ±3 %%)", name, v, 100*voff, want)
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

// renewsIn counts the Renews a history places in [from, to): each Reply
// that granted or extended a lease (Bound, Renewed, Rebound) at r sends
// the client's next Renew at r + T1 (RFC 9915 §18.2.4; the scenario has no
// T1 jitter). period is the clients' mean renewal period over the
// Replies before to: from one such Reply to the same client's next.
func renewsIn(evs []history.Event, from, to time.Time) (n int, period time.Duration) {
	last := map[int]time.Time{}
	var sum time.Duration
	var periods int
	for _, e := range evs {
		switch e.Kind {
		case history.Bound, history.Renewed, history.Rebound:
		default:
			continue
		}
		if e.IA != history.IANA || !e.At.Before(to) {
			continue
		}
		if at := e.At.Add(e.T1); !at.Before(from) && at.Before(to) {
			n++
		}
		if prev, ok := last[e.Client]; ok {
			sum += e.At.Sub(prev)
			periods++
		}
		last[e.Client] = e.At
	}
	if periods > 0 {
		period = sum / time.Duration(periods)
	}
	return n, period
}
