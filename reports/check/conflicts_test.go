package check_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

func dadDeclined(s float64, c int, lease history.Event, peer *int) history.Event {
	return history.Event{At: at(s), Kind: history.Declined, Client: c, Server: lease.Server, IA: lease.IA, IAID: 1,
		Lease: lease.Lease, Cause: history.CauseDAD, Peer: peer}
}

// dadKept is dadDeclined's DADFailed: the client keeps the lease.
func dadKept(s float64, c int, lease history.Event, peer *int) history.Event {
	e := dadDeclined(s, c, lease, peer)
	e.Kind = history.DADFailed
	return e
}

var _ = Describe("Duplicate address detection", func() {
	x := addr(7)
	one1 := 1

	Describe("duplicates", func() {
		It("are not counted for an address declined while tentative: a conflict instead", func() {
			g := tentative(bound(40, 2, x, duidB, 100), 1)
			r := check.Analyze(run(200, bound(0, 1, x, duidA, 100), g, dadDeclined(41, 2, g, &one1)), lab)
			Expect(r.Duplicates.Verdict).To(Equal(check.VerdictOK))
			Expect(r.Duplicates.Addresses).To(BeZero())
			Expect(r.Conflicts.Count).To(Equal(1))
			Expect(r.Life.Declined).To(Equal(1))
		})

		It("count two clients using one address from the end of the later one's tentative time", func() {
			// DAD missed the holder: both use x from 42
			r := check.Analyze(run(200, bound(0, 1, x, duidA, 100), tentative(bound(40, 2, x, duidB, 100), 2)), lab)
			Expect(r.Duplicates.Addresses).To(Equal(1))
			Expect(r.Duplicates.OverlapS).To(Equal(58.0))
			Expect(r.Duplicates.Evidence[0].From).To(Equal(at(42)))
		})

		It("ignore an overlap that lies within a tentative time", func() {
			// client 1's lease ends at 41, client 2's address is usable from 42
			r := check.Analyze(run(200, bound(0, 1, x, duidA, 41), tentative(bound(40, 2, x, duidB, 100), 2)), lab)
			Expect(r.Duplicates.Addresses).To(BeZero())
		})
	})

	Describe("conflicts", func() {
		It("give the address, the client, the holder (null for a foreign host), the time and the granting server", func() {
			g1 := tentative(bound(40, 2, x, duidB, 100), 1)
			g2 := tentative(bound(50, 3, addr(9), duidA, 100), 1)
			g3 := tentative(bound(60, 1, addr(10), duidB, 100), 1)
			two := 2
			r := check.Analyze(run(200, bound(0, 1, x, duidA, 100),
				g1, dadDeclined(41, 2, g1, &one1), tentative(bound(44, 2, addr(8), duidB, 100), 1), // usable at 45
				g2, dadDeclined(51, 3, g2, nil), // a foreign host; 3 gets nothing else
				g3, dadDeclined(61, 1, g3, &two), // the same pair as the first, the other way round
			), lab)
			cf := r.Conflicts
			Expect(cf.Count).To(Equal(3))
			Expect(cf.Addresses).To(Equal(3))
			Expect(cf.Pairs).To(Equal(2), "{1, 2} and {3, foreign}")
			Expect(cf.Evidence).To(Equal([]check.Conflict{
				{Address: "2001:db8::7", Client: 2, Holder: &one1, At: at(41), Server: "b"},
				{Address: "2001:db8::9", Client: 3, At: at(51), Server: "a"},
				{Address: "2001:db8::a", Client: 1, Holder: &two, At: at(61), Server: "b"},
			}))
			// 2: granted at 40, usable again at 45; 1 still held x, usable: 0 s
			// after its Decline at 61, 1 s after the grant; 3: never
			Expect(cf.DelayS).To(Equal(check.Percentiles{Count: 2, P50: 1, P95: 5, P99: 5, Max: 5}))
			Expect(cf.Unrecovered).To(Equal(1))
			Expect(cf.Truncated).To(BeFalse())
		})

		It("count an address kept after its DAD failed (DADFailed) as a conflict, never usable, with no Decline", func() {
			// client 2 keeps x, renews it and still has nothing usable; client 3
			// keeps y, then is granted z, usable at 61
			y, z := addr(8), addr(9)
			g2 := tentative(bound(40, 2, x, duidB, 100), 1)
			g3 := tentative(bound(50, 3, y, duidB, 100), 1)
			r := check.Analyze(run(200, bound(0, 1, x, duidA, 100), bound(0, 4, y, duidA, 100),
				g2, dadKept(40.5, 2, g2, &one1), renewed(90, 2, x, duidB, 100),
				g3, dadKept(50.5, 3, g3, nil), tentative(renumbered(60, 3, y, z, duidB, 100), 1),
			), lab)
			Expect(r.Duplicates.Verdict).To(Equal(check.VerdictOK), "a kept address is never used: no duplicate")
			Expect(r.Duplicates.Addresses).To(BeZero())
			cf := r.Conflicts
			Expect(cf.Count).To(Equal(2))
			Expect(cf.Kept).To(Equal(2))
			Expect(cf.Evidence).To(Equal([]check.Conflict{
				{Address: "2001:db8::7", Client: 2, Holder: &one1, At: at(40.5), Server: "b", Kept: true},
				{Address: "2001:db8::8", Client: 3, At: at(50.5), Server: "b", Kept: true},
			}))
			// 3: granted y at 50, z usable at 61; 2: never (x, kept, does not count)
			Expect(cf.DelayS).To(Equal(check.Percentiles{Count: 1, P50: 11, P95: 11, P99: 11, Max: 11}))
			Expect(cf.Unrecovered).To(Equal(1))
			Expect(r.Life.Declined).To(BeZero(), "nothing was declined")
		})

		It("leave an address usable when DADFailed comes after its tentative time", func() {
			// not what a client emits; the event cannot undo use already made
			g := tentative(bound(40, 2, x, duidB, 100), 1)
			r := check.Analyze(run(200, bound(0, 1, x, duidA, 100), g, dadKept(45, 2, g, &one1)), lab)
			Expect(r.Duplicates.Addresses).To(Equal(1))
		})

		It("cap the evidence but count every conflict", func() {
			var evs []history.Event
			for i := range 150 {
				g := tentative(bound(10, 1000+i, addr(i), duidB, 100), 1)
				evs = append(evs, bound(0, i, addr(i), duidA, 100), g, dadDeclined(11, 1000+i, g, &i))
			}
			cf := check.Analyze(run(200, evs...), lab).Conflicts
			Expect(cf.Count).To(Equal(150))
			Expect(cf.Pairs).To(Equal(150))
			Expect(cf.Evidence).To(HaveLen(check.EvidenceCap))
			Expect(cf.Truncated).To(BeTrue())
			Expect(cf.Unrecovered).To(Equal(150))
		})

		It("are empty, not unknown, without any", func() {
			cf := check.Analyze(run(10, bound(0, 1, x, duidA, 30)), lab).Conflicts
			Expect(cf).To(Equal(check.Conflicts{Evidence: []check.Conflict{}}))
		})
	})

	Describe("in the failover metrics", func() {
		kill := labEv(history.ServerKilled, 10, "a")

		It("count tentative time as outage and re-acquire at the end of it", func() {
			r := check.Analyze(run(200, bound(0, 1, addr(1), duidA, 30), kill,
				ended(history.Expired, 30, 1, addr(1), ""), tentative(bound(34, 1, addr(2), duidB, 100), 1.5)), lab)
			Expect(r.ReacquireS).To(HaveValue(Equal(one(25.5))))
			Expect(r.OutageS).To(HaveValue(Equal(one(5.5))))
			Expect(r.OutageTentativeS).To(HaveValue(Equal(one(1.5))))
		})

		It("do not count a declined address as re-acquired", func() {
			g := tentative(bound(34, 1, x, duidB, 100), 1)
			r := check.Analyze(run(200, bound(0, 1, addr(1), duidA, 30), bound(0, 2, x, duidB, 300), kill,
				ended(history.Expired, 30, 1, addr(1), ""),
				g, dadDeclined(35, 1, g, ptr(2)), tentative(bound(40, 1, addr(3), duidB, 100), 1)), lab)
			Expect(r.ReacquireS).To(HaveValue(Equal(one(31))), "usable at 41")
			Expect(r.OutageS).To(HaveValue(Equal(one(11))), "30..41")
			Expect(r.OutageTentativeS).To(HaveValue(Equal(one(2))), "34..35 and 40..41")
			Expect(r.Conflicts.DelayS).To(Equal(one(7)), "granted at 34, usable again at 41")
		})

		It("keep a client that held a usable address during another's DAD out of the outage", func() {
			// renumbered keeping the old address: it stays usable during the new one's DAD
			r := check.Analyze(run(200, bound(0, 1, addr(1), duidA, 100), kill,
				tentative(withCause(renumbered(20, 1, addr(1), addr(2), duidB, 100), history.CauseOldKept), 1)), lab)
			Expect(r.ReacquireS).To(HaveValue(Equal(one(11))))
			Expect(r.OutageS).To(HaveValue(Equal(one(0))))
			Expect(r.OutageTentativeS).To(HaveValue(Equal(one(0))))
		})
	})
})
