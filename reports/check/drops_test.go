package check_test

import (
	"net/netip"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

var _ = Describe("Dropped addresses", func() {
	dropped := func(s float64, c int, lease netip.Prefix) history.Event {
		return history.Event{At: at(s), Kind: history.Dropped, Client: c, Server: duidA, IA: history.IANA, IAID: 1, Lease: lease}
	}
	restored := func(s float64, c int, lease netip.Prefix, tentative float64) history.Event {
		e := dropped(s, c, lease)
		e.Kind, e.Tentative = history.Restored, secs(tentative)
		return e
	}

	It("are counted, each timed until its address is usable again", func() {
		// client 1 drops at 30, is back at 31 and usable at 32.5, drops
		// again at 40, back at 40.2, usable at 41.2; client 2 drops at 30
		// (and again at 35, while off: one drop) and never comes back;
		// client 3's lease ends at 45 while off, and the address is back
		// only at 50
		r := check.Analyze(run(60,
			bound(10, 1, addr(1), duidA, 100), bound(10, 2, addr(2), duidA, 100), bound(10, 3, addr(3), duidA, 35),
			dropped(30, 1, addr(1)), restored(31, 1, addr(1), 1.5), dropped(40, 1, addr(1)), restored(40.2, 1, addr(1), 1),
			dropped(30, 2, addr(2)), dropped(35, 2, addr(2)),
			dropped(30, 3, addr(3)), restored(50, 3, addr(3), 1),
		), lab)
		Expect(r.Life.Dropped).To(Equal(4))
		Expect(r.Life.Unrestored).To(Equal(2), "client 2's, and client 3's (its lease ended first)")
		Expect(r.Life.DroppedS).NotTo(BeNil())
		Expect(r.Life.DroppedS.Count).To(Equal(2))
		Expect(r.Life.DroppedS.Max).To(Equal(2.5), "client 1's first: 30 to 32.5")
		Expect(r.Bound).To(Equal(2), "a dropped lease is still held: clients 1 and 2")
	})

	It("make a first binding dropped before its DAD ended count from the return's DAD", func() {
		// client 1: Solicit at 9, bound at 10 with DAD until 11.5, off at
		// 11 (a carrier loss while tentative), back at 13, usable at
		// 14.5; client 2 is dropped at 20, after it was usable at 11,
		// which acquire leaves alone; client 3, off at 11 while
		// tentative, never comes back
		solicit := func(s float64, c int) history.Event {
			return history.Event{At: at(s), Kind: history.Solicited, Client: c}
		}
		r := check.Analyze(run(60,
			solicit(9, 1), tentative(bound(10, 1, addr(1), duidA, 100), 1.5), dropped(11, 1, addr(1)), restored(13, 1, addr(1), 1.5),
			solicit(9, 2), tentative(bound(10, 2, addr(2), duidA, 100), 1), dropped(20, 2, addr(2)), restored(21, 2, addr(2), 1),
			solicit(9, 3), tentative(bound(10, 3, addr(3), duidA, 100), 1.5), dropped(11, 3, addr(3)),
		), lab)
		Expect(r.Acquire.BindS.Count).To(Equal(2))
		Expect(r.Acquire.BindS.Max).To(Equal(5.5), "client 1: from its Solicit at 9 to usable at 14.5, not 11.5")
		Expect(r.Acquire.BindS.P50).To(BeNumerically("~", 2, 0.01), "client 2: usable at 11, its later drop no part of acquiring")
		Expect(r.Acquire.LastS).To(BeNumerically("~", 14.5, 0.001))
		Expect(r.Acquire.Never).To(Equal(1), "client 3")
	})

	It("are none, and left out, without a Dropped event", func() {
		r := check.Analyze(run(60, bound(10, 1, addr(1), duidA, 100)), lab)
		Expect(r.Life).To(Equal(check.Life{}))
	})

	It("make a kept address usable once a later DAD of it passes, DAD failing again in between being the same conflict", func() {
		// client 2 is granted x, held by client 1, at 10; DAD fails at 10.5;
		// added again at its Renew at 60, DAD fails again at 60.5; client 1
		// releases x at 80; added again at 110, usable at 111
		one := 1
		x := addr(7)
		g := tentative(bound(10, 2, x, duidB, 200), 1)
		restoredB := restored(110, 2, x, 1)
		restoredB.Server = duidB
		r := check.Analyze(run(150, bound(0, 1, x, duidA, 300), g, dadKept(10.5, 2, g, &one),
			renewed(60, 2, x, duidB, 200), restored(60, 2, x, 1), dadKept(60.5, 2, g, &one),
			ended(history.Released, 80, 1, x, ""),
			renewed(110, 2, x, duidB, 200), restoredB,
		), lab)
		Expect(r.Conflicts.Count).To(Equal(1), "one address caught")
		Expect(r.Conflicts.Kept).To(Equal(1))
		Expect(r.Conflicts.Unrecovered).To(BeZero())
		Expect(r.Conflicts.DelayS.Max).To(Equal(101.0), "from the grant at 10 to usable at 111")
		Expect(r.Duplicates.Addresses).To(BeZero(), "usable only after client 1 let it go")
		Expect(r.Life).To(Equal(check.Life{Released: 1}), "a re-added address is no drop")

		By("a real host's history: one dad_failed, then re-additions whose DAD failed read as never usable, the last one passing")
		r = check.Analyze(run(150, bound(0, 1, x, duidA, 300), history.Event{At: at(9), Kind: history.Solicited, Client: 2},
			g, dadKept(10.5, 2, g, &one), renewed(60, 2, x, duidB, 200), restored(60, 2, x, 200),
			ended(history.Released, 80, 1, x, ""),
			renewed(110, 2, x, duidB, 200), restoredB,
		), lab)
		Expect(r.Conflicts.Unrecovered).To(BeZero())
		Expect(r.Conflicts.DelayS.Max).To(Equal(101.0))
		Expect(r.Acquire.Never).To(BeZero())
		Expect(r.Acquire.BindS.Max).To(Equal(102.0), "from its Solicit at 9 to usable at 111")

		By("the same without the holder leaving: never usable")
		r = check.Analyze(run(150, bound(0, 1, x, duidA, 300), g, dadKept(10.5, 2, g, &one),
			renewed(60, 2, x, duidB, 200), restored(60, 2, x, 1), dadKept(60.5, 2, g, &one),
		), lab)
		Expect(r.Conflicts.Unrecovered).To(Equal(1))
	})

	It("take a dropped address's DAD failing after its return as never usable again, and count it unrestored", func() {
		// client 1 usable from 11; off at 30, back at 31, its new DAD
		// failing at 31.5 (another host took it meanwhile); client 2 off
		// at 30, back at 31 with a DAD that never ends (a real host's
		// re-addition whose DAD failed), added again at 45 and usable at 46
		g1 := tentative(bound(10, 1, addr(1), duidA, 100), 1)
		r := check.Analyze(run(60, g1, bound(10, 2, addr(2), duidA, 100),
			dropped(30, 1, addr(1)), restored(31, 1, addr(1), 1), dadKept(31.5, 1, g1, nil),
			dropped(30, 2, addr(2)), restored(31, 2, addr(2), 100), restored(45, 2, addr(2), 1),
		), lab)
		Expect(r.Life.Dropped).To(Equal(2))
		Expect(r.Life.Unrestored).To(Equal(1), "client 1's")
		Expect(r.Life.DroppedS).NotTo(BeNil())
		Expect(r.Life.DroppedS.Max).To(Equal(16.0), "client 2's: 30 to 46")
		Expect(r.Conflicts.Count).To(Equal(1))
		Expect(r.Conflicts.Unrecovered).To(Equal(1), "never usable again after the conflict")
	})

	It("count in the outage and the recovery after a fault", func() {
		// client 1 bound by a at 5, a killed at 20; the client takes its
		// address off at 25, b rebinds it at 30, when it is back, usable
		// at 31
		r := check.Analyze(run(60,
			bound(5, 1, addr(1), duidA, 100), labEv(history.ServerKilled, 20, "a"),
			dropped(25, 1, addr(1)), rebound(30, 1, addr(1), duidB, 100), restored(30, 1, addr(1), 1),
		), lab)
		Expect(r.Affected).To(Equal(1))
		Expect(r.OutageS).NotTo(BeNil())
		Expect(r.OutageS.Max).To(Equal(6.0), "no usable address from 25 to 31")
		Expect(r.OutageTentativeS.Max).To(Equal(1.0), "of which DAD, 30 to 31")
		Expect(r.ReacquireS.Max).To(Equal(11.0), "usable from an up server at 31, 11 s after the fault")
		Expect(*r.Continuity).To(Equal(1.0), "the same address")

		By("a lease extended while its address is off is not kept: the client recovered with another")
		r = check.Analyze(run(60,
			bound(5, 1, addr(1), duidA, 100), labEv(history.ServerKilled, 20, "a"),
			dropped(25, 1, addr(1)), rebound(28, 1, addr(1), duidB, 100), bound(30, 1, addr(2), duidB, 100),
		), lab)
		Expect(r.ReacquireS.Max).To(Equal(10.0), "usable again at 30, with addr(2)")
		Expect(*r.Continuity).To(Equal(0.0), "addr(1) was still off at 30")
	})
})
