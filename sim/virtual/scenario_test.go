package virtual_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

// playShipped runs a shipped scenario file on the virtual engine and
// judges it the way `d6lab run --engine virtual` does.
func playShipped(file string) (*scenarios.Scenario, *virtual.Engine, *check.Report) {
	GinkgoHelper()
	sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", file))
	Expect(err).NotTo(HaveOccurred())
	e, err := virtual.RunScenario(sc)
	Expect(err).NotTo(HaveOccurred())
	l := check.Lab{Scenario: sc.Name, Model: string(sc.Model), Engine: "virtual", Timescale: sc.Clients.Timescale}
	for i, s := range sc.Servers {
		l.Servers = append(l.Servers, check.ServerInfo{Name: s.Name, DUID: server.FormatDUID(sim.ServerDUID(i)), PDPool: s.PDPool, PDLen: s.PDLen})
	}
	return sc, e, check.Analyze(e.Events(), l)
}

func count(evs []history.Event, k history.Kind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

var _ = Describe("client actions", func() {
	It("identical + sequential: a wiping restart before a join wave duplicates, a keeping one does not", func() {
		sc, _, wipe := playShipped("identical-sequential-restart-wipe.yaml")
		Expect(wipe.Clients).To(Equal(sc.TotalClients()))
		Expect(wipe.Duplicates.Addresses).To(BeNumerically(">", 0))
		// every overlap begins in the join wave, after the restart
		for _, ev := range wipe.Duplicates.Evidence {
			Expect(ev.From.Sub(wipe.Started)).To(BeNumerically(">=", sc.Timeline[1].At))
			Expect(max(ev.ClientA, ev.ClientB)).To(BeNumerically(">=", sc.Clients.Count), "a joining client is one side")
		}
		_, _, keep := playShipped("identical-sequential-restart-keep.yaml")
		Expect(keep.Clients).To(Equal(wipe.Clients))
		Expect(keep.Duplicates.Addresses).To(BeZero())
		Expect(keep.Conflicts.Count).To(BeZero())
		Expect(keep.Bound).To(Equal(keep.Clients))
	})

	It("identical + sequential with DAD on: the newcomers' DAD catches what would have been duplicates and they Decline (RFC 9915 §18.2.8)", func() {
		sc, _, r := playShipped("identical-sequential-restart-wipe-dad.yaml")
		Expect(sc.Clients.DAD).To(BeNumerically(">", 0))
		Expect(r.Duplicates.Addresses).To(BeZero(), "no two clients use one address")
		Expect(r.Conflicts.Count).To(BeNumerically(">", 0))
		for _, ev := range r.Conflicts.Evidence {
			Expect(ev.Client).To(BeNumerically(">=", sc.Clients.Count), "a newcomer declines")
			Expect(ev.Holder).NotTo(BeNil())
			Expect(*ev.Holder).To(BeNumerically("<", sc.Clients.Count), "an early client holds it")
		}
		Expect(r.Conflicts.Unrecovered).To(BeZero())
		Expect(r.Bound).To(Equal(r.Clients))
	})

	It("leave releases the chosen clients' leases and join adds clients", func() {
		sc, e, r := playShipped("split-churn.yaml")
		Expect(e.Population().Len()).To(Equal(sc.TotalClients()))
		Expect(r.Life.Released).To(Equal(50))
		Expect(e.Population().Stats().States).To(HaveKeyWithValue("stopped", 50))
		Expect(r.Bound).To(Equal(250))
	})

	It("occupy makes the holders Decline, flap makes every client Confirm", func() {
		_, e, r := playShipped("split-occupy.yaml")
		Expect(count(e.Events(), history.Declined)).To(Equal(r.Life.Declined))
		Expect(r.Life.Declined).To(Equal(2))
		for _, ev := range e.Events() {
			if ev.Kind == history.Declined {
				Expect(ev.Lease.Addr().String()).To(BeElementOf("2001:db8:1:1::10", "2001:db8:1:1::60"))
			}
		}
		_, _, r = playShipped("identical-flap.yaml")
		Expect(r.Life.Confirmed).To(Equal(200))
		Expect(r.Bound).To(Equal(200))
	})
})
