package check_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

var _ = Describe("The breakdown by client kind", func() {
	kindEv := func(c int, kind, version string) history.Event {
		return history.Event{At: t0, Kind: history.ClientKind, Client: c, Detail: kind, Cause: version}
	}
	kill := labEv(history.ServerKilled, 10, "a")

	It("is absent when no real client ran", func() {
		r := check.Analyze(run(100, bound(0, 1, addr(1), duidA, 100), kill), lab)
		Expect(r.ByKind).To(BeNil())
	})

	It("analyses each kind's clients alone, the lab's events shared, simulated first", func() {
		l := lab
		l.Profile = "dhclient"
		evs := run(100,
			kindEv(2, "dhclient", "4.4.3-P1"), kindEv(3, "dhclient", "4.4.3-P1"), kindEv(4, "dhcpcd", ""),
			// simulated client 1: renumbered by b 5 s after the kill
			bound(0, 1, addr(1), duidA, 100),
			// dhclient 2 and 3: silent until expiry, then a new address by Solicit
			bound(0, 2, addr(2), duidA, 30), bound(0, 3, addr(3), duidA, 30),
			kill,
			renumbered(15, 1, addr(1), addr(11), duidB, 100),
			ended(history.Expired, 30, 2, addr(2), ""), bound(32, 2, addr(12), duidB, 100),
			ended(history.Expired, 30, 3, addr(3), ""), bound(34, 3, addr(13), duidB, 100),
			// dhcpcd 4 bound to b, not affected
			bound(1, 4, addr(4), duidB, 100),
		)
		r := check.Analyze(evs, l)
		Expect(r.Clients).To(Equal(4))
		Expect(r.Affected).To(Equal(3))
		Expect(r.ByKind).To(HaveLen(3))

		sim, dhc, dcd := r.ByKind[0], r.ByKind[1], r.ByKind[2]
		Expect(sim.Kind).To(Equal(check.Simulated))
		Expect(sim.Profile).To(Equal("dhclient"))
		Expect(sim.Clients).To(Equal(1))
		Expect(sim.Affected).To(Equal(1))
		Expect(sim.Rebind.Renumbered).To(Equal(1))
		Expect(sim.ReacquireS).To(HaveValue(Equal(one(5))))

		Expect(dhc.Kind).To(Equal("dhclient"))
		Expect(dhc.Version).To(Equal("4.4.3-P1"))
		Expect(dhc.Profile).To(BeEmpty())
		Expect(dhc.Clients).To(Equal(2))
		Expect(dhc.Affected).To(Equal(2))
		Expect(dhc.Rebind.Silent).To(Equal(2))
		Expect(dhc.ReacquireS).NotTo(BeNil())
		Expect(dhc.ReacquireS.Count).To(Equal(2))
		Expect(dhc.ReacquireS.Max).To(Equal(24.0))
		Expect(dhc.OutageS.Max).To(Equal(4.0))

		Expect(sim.FirstBoundBy).To(Equal(map[string]int{"a": 1}))
		Expect(dhc.FirstBoundBy).To(Equal(map[string]int{"a": 2}))
		Expect(dcd.FirstBoundBy).To(Equal(map[string]int{"b": 1}))
		Expect(dcd.Kind).To(Equal("dhcpcd"))
		Expect(dcd.Clients).To(Equal(1))
		Expect(dcd.Affected).To(Equal(0))
		Expect(dcd.ReacquireS).To(BeNil(), "unknown, not zero: no dhcpcd client was affected")
	})

	It("survives the round trip through the report's Lab", func() {
		l := lab
		l.Profile = "dhcpcd"
		r := check.Analyze(run(10, kindEv(2, "dhclient", ""), bound(0, 2, addr(2), duidA, 30)), l)
		Expect(r.Lab().Profile).To(Equal("dhcpcd"))
		Expect(check.Analyze(run(10, kindEv(2, "dhclient", ""), bound(0, 2, addr(2), duidA, 30)), r.Lab()).ByKind).To(Equal(r.ByKind))
	})

	It("lets an expect bound name a kind: by_kind.KIND.METRIC", func() {
		r := check.Analyze(run(100,
			kindEv(2, "dhclient", ""),
			bound(0, 1, addr(1), duidA, 100), bound(0, 2, addr(2), duidA, 30),
			kill,
			renumbered(15, 1, addr(1), addr(11), duidB, 100),
			renumbered(20, 2, addr(2), addr(12), duidB, 100),
		), lab)
		r.Evaluate([]check.Bound{
			{Path: "by_kind.dhclient.reacquire_s.p50", Op: "<=", Value: 10, Raw: "<= 10"},
			{Path: "by_kind.simulated.reacquire_s.p50", Op: "<=", Value: 10, Raw: "<= 10"},
			{Path: "by_kind.dhcpcd.clients", Op: ">=", Value: 1, Raw: ">= 1"},
		})
		Expect(r.Expect).To(HaveLen(3))
		Expect(r.Expect[0].OK).To(BeTrue())
		Expect(r.Expect[0].Value).To(Equal(10.0))
		Expect(r.Expect[1].OK).To(BeTrue())
		Expect(r.Expect[1].Value).To(Equal(5.0))
		Expect(r.Expect[2].OK).To(BeFalse())
		Expect(r.Expect[2].Unknown).To(BeTrue())
		Expect(r.Expect[2].Error).To(ContainSubstring("no dhcpcd client in this run"))
	})
})
