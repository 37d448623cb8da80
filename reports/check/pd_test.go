package check_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// pdLab is lab with PD pools: split (disjoint /48s) or identical (one /48).
func pdLab(poolA, poolB string) check.Lab {
	l := lab
	l.Servers = []check.ServerInfo{
		{Name: "a", DUID: duidA, PDPool: pfx(poolA), PDLen: 56},
		{Name: "b", DUID: duidB, PDPool: pfx(poolB), PDLen: 56},
	}
	return l
}

var _ = Describe("PD pool use", func() {
	evs := run(100,
		bound(0, 1, pfx("2001:db8:100::/56"), duidA, 30),
		bound(1, 2, pfx("2001:db8:100:100::/56"), duidA, 30),
		bound(2, 3, pfx("2001:db8:100:200::/56"), duidA, 30),
		bound(2, 3, addr(3), duidA, 30), // an address does not count
		// client 1 moves to b's pool: a hand-over, not two at once
		renumbered(20, 1, pfx("2001:db8:100::/56"), pfx("2001:db8:101::/56"), duidB, 30),
	)

	It("counts split pools twice and identical ones once", func() {
		r := check.Analyze(evs, pdLab("2001:db8:100::/48", "2001:db8:101::/48"))
		Expect(r.PD).To(Equal(check.PD{
			Servers: 2, PoolPrefixes: 512, Clients: 3, DelegatedPeak: 3,
			PoolPerClient: 512.0 / 3, SurvivorShare: 256.0 / 3, PoolUse: 3.0 / 512,
		}))
		r = check.Analyze(evs, pdLab("2001:db8:100::/48", "2001:db8:100::/48"))
		Expect(r.PD.PoolPrefixes).To(BeEquivalentTo(256))
		Expect(r.PD.PoolPerClient).To(BeNumerically("~", 256.0/3))
		Expect(r.PD.SurvivorShare).To(BeNumerically("~", 256.0/3))
	})

	It("peaks at the most prefixes valid at one instant", func() {
		more := append(evs[:len(evs)-1:len(evs)-1],
			bound(40, 4, pfx("2001:db8:101:100::/56"), duidB, 30), // 1's old expired at 30
			bound(41, 5, pfx("2001:db8:101:200::/56"), duidB, 30),
			evs[len(evs)-1])
		r := check.Analyze(more, pdLab("2001:db8:100::/48", "2001:db8:101::/48"))
		// at 41: 1 (renumbered at 20, valid to 50), 4, 5; 2 and 3 expired at 31, 32
		Expect(r.PD.DelegatedPeak).To(Equal(3))
		Expect(r.PD.Clients).To(Equal(5))
	})

	It("is all zero without PD pools", func() {
		r := check.Analyze(run(10, bound(0, 1, addr(1), duidA, 30)), lab)
		Expect(r.PD).To(Equal(check.PD{}))
	})

	It("reports overlapping delegated prefixes as duplicates", func() {
		r := check.Analyze(run(100,
			bound(0, 1, pfx("2001:db8:100::/48"), duidA, 30),
			bound(5, 2, pfx("2001:db8:100:100::/56"), duidB, 30),
		), pdLab("2001:db8:100::/48", "2001:db8:100::/48"))
		Expect(r.Duplicates.Verdict).To(Equal(check.VerdictViolated))
		Expect(r.Duplicates.Addresses).To(Equal(1))
		Expect(r.Duplicates.Evidence[0].Within).To(Equal("2001:db8:100::/48"))
	})
})

var _ = Describe("Stateless outage", func() {
	informed := func(s float64, c int, refresh string) history.Event {
		return history.Event{At: at(s), Kind: history.Informed, Client: c, Server: duidA, Detail: "refresh=" + refresh}
	}

	It("counts the refreshes answered late and how long past their due time", func() {
		r := check.Analyze(run(20,
			informed(0, 1, "6s"), informed(6.01, 1, "6s"), informed(12.02, 1, "6s"), informed(18.03, 1, "6s"), // on time
			informed(0, 2, "6s"), informed(9, 2, "6s"), informed(15, 2, "6s"), // 3s late once
			informed(0, 3, "6s"), // due at 6, never answered: 14s to End
		), lab)
		Expect(r.Stateless).To(Equal(check.Stateless{
			Clients: 3, Refreshes: 6, RefreshFailures: 2, Affected: 2,
			OutageS: check.Percentiles{Count: 2, P50: 3, P95: 14, P99: 14, Max: 14},
		}))
	})

	It("is all zero without stateless clients", func() {
		r := check.Analyze(run(10, bound(0, 1, addr(1), duidA, 30)), lab)
		Expect(r.Stateless).To(Equal(check.Stateless{}))
	})

	It("allows INF_TIMEOUT times the timescale, at least a second", func() {
		Expect(check.StatelessTolerance(1)).To(Equal(secs(1)))
		Expect(check.StatelessTolerance(10)).To(Equal(secs(10)))
		Expect(check.StatelessTolerance(0.01)).To(Equal(secs(1)))
		Expect(check.StatelessTolerance(0)).To(Equal(secs(1)))
	})
})

var _ = Describe("Life counts", func() {
	It("counts releases, declines and Confirm answers", func() {
		conf := func(s float64, c int, cause string) history.Event {
			return history.Event{At: at(s), Kind: history.Confirmed, Client: c, IA: history.IANA, Lease: addr(c), Cause: cause}
		}
		r := check.Analyze(run(30,
			bound(0, 1, addr(1), duidA, 30), bound(0, 2, addr(2), duidA, 30), bound(0, 3, addr(3), duidA, 30),
			conf(5, 1, ""), conf(5, 2, ""), conf(5, 3, history.CauseNotOnLink),
			ended(history.Declined, 6, 2, addr(2), ""),
			ended(history.Released, 7, 1, addr(1), ""),
			labEv(history.ServerKilled, 8, "a"), // lab events count for nothing
		), lab)
		Expect(r.Life).To(Equal(check.Life{Released: 1, Declined: 1, Confirmed: 2, NotOnLink: 1}))
	})
})
