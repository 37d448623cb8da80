package check_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// Specs for the analyzer's reading of the history contract: NotOnLink,
// unknown failover metrics, released and undecided clients, NA+PD
// recovery, renumbering that keeps the old lease, extensions by a faulted
// server once back, and NoBinding.

func tentative(e history.Event, s float64) history.Event { e.Tentative = secs(s); return e }

func withCause(e history.Event, cause string) history.Event { e.Cause = cause; return e }

func notOnLink(s float64, c int, lease history.Event) history.Event {
	return history.Event{At: at(s), Kind: history.Confirmed, Client: c, IA: lease.IA, Lease: lease.Lease, Cause: history.CauseNotOnLink}
}

func noBinding(s float64, c int, lease history.Event, duid string) history.Event {
	return history.Event{At: at(s), Kind: history.NoBinding, Client: c, Server: duid, IA: lease.IA, IAID: 1, Lease: lease.Lease}
}

var _ = Describe("A Confirm answered NotOnLink", func() {
	x := addr(7)

	It("ends the address's binding interval at that instant", func() {
		b1 := bound(0, 1, x, duidA, 100)
		r := check.Analyze(run(200, b1, notOnLink(20, 1, b1), bound(30, 2, x, duidB, 100)), lab)
		Expect(r.Duplicates.Addresses).To(BeZero(), "client 1 stopped holding it at 20, not at 100")
		Expect(r.Life.NotOnLink).To(Equal(1))
	})

	It("is a refused rebind outcome with its outage until the next address", func() {
		b1 := bound(0, 1, x, duidA, 100)
		r := check.Analyze(run(200, b1, labEv(history.ServerKilled, 10, "a"), notOnLink(20, 1, b1),
			bound(26, 1, addr(8), duidB, 100)), lab)
		Expect(r.Rebind).To(Equal(check.Rebind{Refused: 1, FailureRate: f64(1)}))
		Expect(r.OutageS).To(HaveValue(Equal(one(6))))
		Expect(r.ReacquireS).To(HaveValue(Equal(one(16))))
	})

	It("leaves the lease alone when the Confirm succeeded", func() {
		b1 := bound(0, 1, x, duidA, 100)
		ok := notOnLink(20, 1, b1)
		ok.Cause = ""
		r := check.Analyze(run(200, b1, ok, bound(30, 2, x, duidB, 100)), lab)
		Expect(r.Duplicates.Addresses).To(Equal(1))
	})
})

var _ = Describe("A run in which no client was affected", func() {
	// a is killed, but every client is bound to b
	quiet := func() *check.Report {
		return check.Analyze(run(100, bound(0, 1, addr(1), duidB, 100), labEv(history.ServerKilled, 10, "a")), lab)
	}
	bounds := []check.Bound{
		{Path: "rebind.failure_rate", Op: "<=", Value: 0.05},
		{Path: "continuity", Op: ">=", Value: 0.95},
		{Path: "reacquire_s.p99", Op: "<", Value: 30},
		{Path: "outage_s.max", Op: "<", Value: 30},
		{Path: "outage_tentative_s.p50", Op: "<", Value: 30},
		{Path: "per_ia.na.continuity", Op: ">=", Value: 0.95},
		{Path: "per_ia.pd.reacquire_s.max", Op: "<", Value: 30},
	}

	It("reports its failover metrics as unknown (null), not as 0 % failure and 100 % continuity", func() {
		r := quiet()
		Expect(r.Fault).NotTo(BeNil())
		Expect(r.Affected).To(BeZero())
		Expect(r.Rebind.FailureRate).To(BeNil())
		Expect(r.Continuity).To(BeNil())
		Expect(r.ReacquireS).To(BeNil())
		Expect(r.OutageS).To(BeNil())
		Expect(r.OutageTentativeS).To(BeNil())
		Expect(r.PerIA).To(Equal(map[string]check.IAFailover{"na": {}, "pd": {}}))
		b, err := json.Marshal(r)
		Expect(err).NotTo(HaveOccurred())
		for _, s := range []string{`"failure_rate":null`, `"continuity":null`, `"reacquire_s":null`, `"outage_s":null`,
			`"outage_tentative_s":null`, `"per_ia":{"na":{"affected":0,"reacquire_s":null`} {
			Expect(string(b)).To(ContainSubstring(s))
		}
	})

	It("fails every bound on them, saying nothing was affected", func() {
		r := quiet()
		r.Evaluate(bounds)
		Expect(r.Expect).To(HaveLen(len(bounds)))
		for _, x := range r.Expect {
			Expect(x.OK).To(BeFalse(), x.Name)
			Expect(x.Unknown).To(BeTrue(), x.Name)
			Expect(x.Error).To(Equal(x.Name+": unknown: no client was affected by the fault"), x.Name)
		}
		Expect(r.OK()).To(BeFalse())
	})

	It("says the run has no fault when it has none", func() {
		r := check.Analyze(run(100, bound(0, 1, addr(1), duidA, 100)), lab)
		r.Evaluate(bounds[:1])
		Expect(r.Expect[0].Error).To(Equal("rebind.failure_rate: unknown: no client was affected: the run has no fault"))
	})

	It("reads an older report.json with numbers where null is now written", func() {
		var r check.Report
		Expect(json.Unmarshal([]byte(`{"continuity": 1, "rebind": {"failure_rate": 0}, "reacquire_s": {"count": 2, "p99": 3}}`), &r)).To(Succeed())
		Expect(r.Continuity).To(HaveValue(Equal(1.0)))
		Expect(r.Rebind.FailureRate).To(HaveValue(Equal(0.0)))
		Expect(r.ReacquireS.P99).To(Equal(3.0))
	})

	It("keeps the per-IA figures of an IA type nobody held unknown while the other is known", func() {
		r := check.Analyze(run(100, bound(0, 1, addr(1), duidA, 100), labEv(history.ServerKilled, 10, "a"),
			rebound(20, 1, addr(1), duidB, 100)), lab)
		Expect(r.PerIA["na"].Continuity).To(HaveValue(Equal(1.0)))
		Expect(r.PerIA["pd"]).To(Equal(check.IAFailover{}))
		r.Evaluate([]check.Bound{{Path: "per_ia.pd.continuity", Op: ">=", Value: 1}, {Path: "per_ia.na.continuity", Op: ">=", Value: 1}})
		Expect(r.Expect[0].Error).To(Equal("per_ia.pd.continuity: unknown: no pd lease was affected by the fault"))
		Expect(r.Expect[1].OK).To(BeTrue())
	})
})

var _ = Describe("Released and undecided clients", func() {
	kill := labEv(history.ServerKilled, 10, "a")

	It("are no rebind failures: the rate is over the decided clients", func() {
		r := check.Analyze(run(100,
			bound(0, 1, addr(1), duidA, 200), bound(0, 2, addr(2), duidA, 200),
			bound(0, 3, addr(3), duidA, 200), bound(0, 4, addr(4), duidA, 200),
			kill,
			rebound(20, 1, addr(1), duidB, 200), // extended
			renumbered(20, 2, addr(2), addr(12), duidB, 200), // renumbered
			ended(history.Released, 15, 3, addr(3), ""),      // released before any outcome
			ended(history.Released, 30, 1, addr(1), ""),      // after its outcome: still extended
		), lab) // 4: nothing by the end (its lease outlives the run)
		Expect(r.Affected).To(Equal(4))
		Expect(r.Rebind).To(Equal(check.Rebind{Extended: 1, ExtendedSurvivor: 1, Renumbered: 1, Released: 1, Undecided: 1,
			FailureRate: f64(0.5)}))
		Expect(r.Rebind.Decided()).To(Equal(2))
	})

	It("leave the failure rate unknown when no client was decided, with the reason", func() {
		r := check.Analyze(run(100, bound(0, 1, addr(1), duidA, 200), bound(0, 2, addr(2), duidA, 200), kill,
			ended(history.Released, 15, 1, addr(1), "")), lab)
		Expect(r.Rebind).To(Equal(check.Rebind{Released: 1, Undecided: 1}))
		Expect(r.Continuity).To(HaveValue(BeZero()), "continuity is over the affected clients")
		r.Evaluate([]check.Bound{{Path: "rebind.failure_rate", Op: "<", Value: 1}})
		Expect(r.Expect[0].OK).To(BeFalse())
		Expect(r.Expect[0].Error).To(Equal("rebind.failure_rate: unknown: no affected client had a rebind outcome (1 undecided, 1 released)"))
	})
})

var _ = Describe("An NA+PD client", func() {
	na, pd, pd2 := addr(1), pfx("2001:db8:100::/56"), pfx("2001:db8:101::/56")
	kill := labEv(history.ServerKilled, 10, "a")
	refusedPD := func(s float64) history.Event {
		return history.Event{At: at(s), Kind: history.Refused, Client: 1, IA: history.IAPD, Lease: pd, Cause: history.CauseZeroLifetime}
	}

	It("recovers when every affected IA type is held again, at the latest of them", func() {
		r := check.Analyze(run(100, bound(0, 1, na, duidA, 200), bound(0, 1, pd, duidA, 200), kill,
			rebound(20, 1, na, duidB, 200), refusedPD(25), bound(40, 1, pd2, duidB, 200)), lab)
		Expect(r.Affected).To(Equal(1))
		Expect(r.ReacquireS).To(HaveValue(Equal(one(30))), "not 10: the prefix came back at 40")
		Expect(r.OutageS).To(HaveValue(Equal(one(15))), "no usable prefix from 25 to 40, though the address stayed")
		Expect(r.Continuity).To(HaveValue(BeZero()), "the prefix was not kept")
		Expect(r.PerIA["na"]).To(Equal(check.IAFailover{Affected: 1, ReacquireS: ptr(one(10)), OutageS: ptr(one(0)), Continuity: f64(1)}))
		Expect(r.PerIA["pd"]).To(Equal(check.IAFailover{Affected: 1, ReacquireS: ptr(one(30)), OutageS: ptr(one(15)), Continuity: f64(0)}))
	})

	It("is unrecovered while one affected IA type never comes back", func() {
		r := check.Analyze(run(100, bound(0, 1, na, duidA, 200), bound(0, 1, pd, duidA, 200), kill,
			rebound(20, 1, na, duidB, 200), refusedPD(25)), lab)
		Expect(r.Unrecovered).To(Equal(1))
		Expect(r.ReacquireS).To(HaveValue(Equal(check.Percentiles{})))
		Expect(r.PerIA["na"].Unrecovered).To(BeZero())
		Expect(r.PerIA["pd"].Unrecovered).To(Equal(1))
		Expect(r.Rebind.Extended).To(Equal(1), "its first outcome: the address was extended")
	})

	It("counts only its affected IA types", func() {
		// the prefix came from b: only the address was affected
		r := check.Analyze(run(100, bound(0, 1, na, duidA, 200), bound(0, 1, pd, duidB, 200), kill,
			rebound(20, 1, na, duidB, 200)), lab)
		Expect(r.ReacquireS).To(HaveValue(Equal(one(10))))
		Expect(r.PerIA["pd"].Affected).To(BeZero())
		Expect(r.PerIA["pd"].ReacquireS).To(BeNil())
	})
})

var _ = Describe("Renumbered keeping the old lease", func() {
	a1, a2 := addr(1), addr(2)

	It("does not end the old lease's interval", func() {
		r := check.Analyze(run(200, bound(0, 1, a1, duidA, 100),
			withCause(renumbered(20, 1, a1, a2, duidB, 100), history.CauseOldKept),
			bound(50, 2, a1, duidB, 100)), lab)
		Expect(r.Duplicates.Addresses).To(Equal(1), "client 1 still holds a1 until 100")
		Expect(r.Duplicates.Evidence[0].To).To(Equal(at(100)))
	})

	It("ends it without the cause, as before", func() {
		r := check.Analyze(run(200, bound(0, 1, a1, duidA, 100), renumbered(20, 1, a1, a2, duidB, 100),
			bound(50, 2, a1, duidB, 100)), lab)
		Expect(r.Duplicates.Addresses).To(BeZero())
	})

	It("is a renumbered rebind outcome", func() {
		r := check.Analyze(run(200, bound(0, 1, a1, duidA, 100), labEv(history.ServerKilled, 10, "a"),
			withCause(renumbered(20, 1, a1, a2, duidB, 100), history.CauseOldKept)), lab)
		Expect(r.Rebind).To(Equal(check.Rebind{Renumbered: 1, FailureRate: f64(1)}))
		Expect(r.ReacquireS).To(HaveValue(Equal(one(10))))
		Expect(r.Continuity).To(HaveValue(BeZero()), "the kept lease is from the dead server")
	})
})

var _ = Describe("Extensions after the fault", func() {
	a1 := addr(1)

	It("tell a surviving server from the faulted one once it is back; neither is a failure", func() {
		r := check.Analyze(run(200,
			bound(0, 1, a1, duidA, 100), bound(0, 2, addr(2), duidA, 100),
			labEv(history.ServerFrozen, 10, "a"), labEv(history.ServerThawed, 15, "a"),
			renewed(16, 1, a1, duidA, 100), rebound(40, 2, addr(2), duidB, 100)), lab)
		Expect(r.Rebind).To(Equal(check.Rebind{Extended: 2, ExtendedSurvivor: 1, ExtendedRecovered: 1, FailureRate: f64(0)}))
		Expect(r.Continuity).To(HaveValue(Equal(1.0)))
	})
})

var _ = Describe("NoBinding", func() {
	a1 := addr(1)
	kill := labEv(history.ServerKilled, 10, "a")

	It("ends nothing and counts the affected clients that got one", func() {
		b1 := bound(0, 1, a1, duidA, 100)
		r := check.Analyze(run(200, b1, bound(0, 2, addr(2), duidA, 100), kill,
			noBinding(20, 1, b1, duidB), noBinding(21, 1, b1, duidB), bound(22, 1, a1, duidB, 100), // Request gives it back
			bound(25, 3, a1, duidB, 100)), lab) // a1 taken while client 1 holds it
		Expect(r.Rebind.NoBinding).To(Equal(1))
		Expect(r.Rebind.Extended).To(Equal(1))
		Expect(r.OutageS.Max).To(BeZero(), "the lease was kept")
		Expect(r.Duplicates.Addresses).To(Equal(1), "client 1's interval went on past the NoBinding")
	})

	It("leaves refused_nobinding to the clients whose lease was then refused", func() {
		b1 := bound(0, 1, a1, duidA, 100)
		r := check.Analyze(run(200, b1, kill, noBinding(20, 1, b1, duidB),
			ended(history.Refused, 21, 1, a1, history.CauseNoBinding)), lab)
		Expect(r.Rebind).To(Equal(check.Rebind{Refused: 1, RefusedNoBinding: 1, NoBinding: 1, FailureRate: f64(1)}))
	})

	It("counts one that names no IA type, not one for an IA type the client lost nothing of", func() {
		b1, b2 := bound(0, 1, a1, duidA, 100), bound(0, 2, addr(2), duidA, 100)
		none := noBinding(20, 1, b1, duidB)
		none.IA = ""
		pd := noBinding(20, 2, b2, duidB)
		pd.IA = history.IAPD
		r := check.Analyze(run(200, b1, b2, kill, none, pd), lab)
		Expect(r.Affected).To(Equal(2))
		Expect(r.Rebind.NoBinding).To(Equal(1), "client 1's (no IA type), not client 2's (IA_PD; it lost an IA_NA)")
	})

	It("before the fault, or to an unaffected client, is not counted", func() {
		b1, b2 := bound(0, 1, a1, duidA, 100), bound(0, 2, addr(2), duidB, 100)
		r := check.Analyze(run(200, b1, b2, noBinding(5, 1, b1, duidA), kill, noBinding(20, 2, b2, duidB)), lab)
		Expect(r.Rebind.NoBinding).To(BeZero())
	})
})

func ptr[T any](v T) *T { return &v }
