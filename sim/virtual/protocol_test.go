package virtual_test

import (
	"context"
	"net/netip"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/population"
	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/server/lease"
	"d6lab/sim"
	"d6lab/sim/virtual"
	"d6lab/transport"
)

const (
	t1        = 10 * time.Second
	t2        = 16 * time.Second
	preferred = 20 * time.Second
	valid     = 30 * time.Second
)

// The pools of README's "The three models" table on 2001:db8:1:1::/64.
const (
	linkPool = "2001:db8:1:1::/64"
	lowHalf  = "2001:db8:1:1::/65"
	highHalf = "2001:db8:1:1:8000::/65"
)

// serverConfig is a builtin server numbered i with the given preference,
// pool, allocator and rebind policy, and the lifetimes above.
func serverConfig(i int, pref uint8, pool, allocator string, rebind deploy.RebindPolicy) server.Config {
	cfg := server.DefaultConfig()
	cfg.Name = "s" + string(rune('1'+i))
	cfg.DUID = sim.ServerDUID(i)
	cfg.Prefix = netip.MustParsePrefix("2001:db8:1:1::/64")
	p, err := alloc.ParsePool(pool)
	Expect(err).NotTo(HaveOccurred())
	cfg.Pool = p
	cfg.Preference = pref
	cfg.T1, cfg.T2, cfg.Preferred, cfg.Valid = t1, t2, preferred, valid
	cfg.Allocator = deploy.Allocator(allocator)
	cfg.Rebind = rebind
	Expect(cfg.Validate()).To(Succeed())
	return cfg
}

func duidHex(i int) string { return server.FormatDUID(sim.ServerDUID(i)) }

// of returns the events of the given kinds for client c, in order.
func of(e *virtual.Engine, c int, kinds ...history.Kind) []history.Event {
	var out []history.Event
	for _, ev := range e.Events() {
		if ev.Client != c {
			continue
		}
		for _, k := range kinds {
			if ev.Kind == k {
				out = append(out, ev)
			}
		}
	}
	return out
}

func first(e *virtual.Engine, c int, kind history.Kind) history.Event {
	evs := of(e, c, kind)
	ExpectWithOffset(1, evs).NotTo(BeEmpty(), "client %d has no %s event", c, kind)
	return evs[0]
}

var _ = Describe("server selection (RFC 9915 §18.2.1, §18.2.9)", func() {
	It("requests at once from a Preference 255 server and binds to it", func() {
		e := virtual.New(time.Time{})
		_, err := e.AddServer("s1", serverConfig(0, 0, lowHalf, "hash", deploy.RebindCreate))
		Expect(err).NotTo(HaveOccurred())
		_, err = e.AddServer("s2", serverConfig(1, 255, highHalf, "hash", deploy.RebindCreate))
		Expect(err).NotTo(HaveOccurred())
		Expect(e.SetPopulation(population.Config{Count: 20, Seed: 7, IANA: true})).To(Succeed())
		e.RunFor(5 * time.Second)

		for c := range 20 {
			sol, bound := first(e, c, history.Solicited), first(e, c, history.Bound)
			Expect(bound.Server).To(Equal(duidHex(1)), "client %d", c)
			// The link has no delay: a client that did not wait out the
			// first RT is bound at the instant it solicited.
			Expect(bound.At).To(Equal(sol.At), "client %d waited %s", c, bound.At.Sub(sol.At))
			Expect(netip.MustParsePrefix(highHalf).Contains(bound.Lease.Addr())).To(BeTrue())
		}
	})

	DescribeTable("waits out the first RT, then takes the highest preference",
		func(firstPref, secondPref uint8, want int) {
			e := virtual.New(time.Time{})
			_, err := e.AddServer("s1", serverConfig(0, firstPref, lowHalf, "hash", deploy.RebindCreate))
			Expect(err).NotTo(HaveOccurred())
			_, err = e.AddServer("s2", serverConfig(1, secondPref, highHalf, "hash", deploy.RebindCreate))
			Expect(err).NotTo(HaveOccurred())
			Expect(e.SetPopulation(population.Config{Count: 50, Seed: 3, IANA: true})).To(Succeed())
			e.RunFor(5 * time.Second)

			for c := range 50 {
				sol, bound := first(e, c, history.Solicited), first(e, c, history.Bound)
				Expect(bound.Server).To(Equal(duidHex(want)), "client %d", c)
				// First RT of a Solicit: IRT + RAND*IRT with RAND in (0, 0.1].
				wait := bound.At.Sub(sol.At)
				Expect(wait).To(BeNumerically(">", time.Second), "client %d", c)
				Expect(wait).To(BeNumerically("<=", 1100*time.Millisecond), "client %d", c)
			}
		},
		Entry("10 answers first, 20 second: the client picks 20", uint8(10), uint8(20), 1),
		Entry("20 answers first, 10 second: the client still waits, picks 20", uint8(20), uint8(10), 0),
	)
})

var _ = Describe("a silenced granting server (RFC 9915 §18.2.4, §18.2.5)", func() {
	// run binds one client to s1 (Preference 255), freezes s1 at 5 s and
	// lets s2 answer the Rebind with its policy.
	run := func(s2Pool, s2Alloc string, policy deploy.RebindPolicy) *virtual.Engine {
		e := virtual.New(time.Time{})
		_, err := e.AddServer("s1", serverConfig(0, 255, lowHalf, "hash", deploy.RebindCreate))
		Expect(err).NotTo(HaveOccurred())
		_, err = e.AddServer("s2", serverConfig(1, 0, s2Pool, s2Alloc, policy))
		Expect(err).NotTo(HaveOccurred())
		Expect(e.SetPopulation(population.Config{Count: 1, Seed: 11, IANA: true})).To(Succeed())
		e.At(5*time.Second, func() { Expect(e.Freeze("s1")).To(Succeed()) })
		e.RunFor(90 * time.Second)
		return e
	}

	It("sends Renew to the granting server only, then Rebinds to all at T2", func() {
		e := run(lowHalf, "hash", deploy.RebindCreate)
		bound := first(e, 0, history.Bound)
		Expect(bound.Server).To(Equal(duidHex(0)))
		s2 := e.Server("s2").Core().Counters()
		// s2 saw the Renew (multicast, carrying s1's Server ID) and
		// discarded it (§16.6); it answered the Rebind.
		Expect(s2.Dropped).To(HaveKeyWithValue(server.DropOtherServer, BeNumerically(">=", 1)))
		rebound := first(e, 0, history.Rebound)
		Expect(rebound.At.Sub(bound.At)).To(Equal(t2), "Rebind is first sent at T2")
		Expect(rebound.Server).To(Equal(duidHex(1)))
	})

	DescribeTable("the other server's rebind policy decides the outcome",
		func(s2Pool, s2Alloc string, policy deploy.RebindPolicy, check func(e *virtual.Engine, bound history.Event)) {
			e := run(s2Pool, s2Alloc, policy)
			bound := first(e, 0, history.Bound)
			Expect(bound.Server).To(Equal(duidHex(0)))
			check(e, bound)
		},
		Entry("identical pool, hash, create: extended (same address)", linkPool, "hash", deploy.RebindCreate,
			func(e *virtual.Engine, bound history.Event) {
				rb := first(e, 0, history.Rebound)
				Expect(rb.Lease).To(Equal(bound.Lease))
				Expect(rb.At.Sub(bound.At)).To(Equal(t2))
				Expect(of(e, 0, history.Renumbered, history.Refused, history.Expired)).To(BeEmpty())
			}),
		Entry("split pool, create: renumbered in the Rebind's Reply", highHalf, "hash", deploy.RebindCreate,
			func(e *virtual.Engine, bound history.Event) {
				rn := first(e, 0, history.Renumbered)
				Expect(rn.Old).To(Equal(bound.Lease))
				Expect(netip.MustParsePrefix(highHalf).Contains(rn.Lease.Addr())).To(BeTrue())
				Expect(rn.At.Sub(bound.At)).To(Equal(t2))
				Expect(of(e, 0, history.Expired)).To(BeEmpty())
			}),
		Entry("zero: refused with zero lifetimes, then Solicit and a new binding", highHalf, "hash", deploy.RebindZero,
			func(e *virtual.Engine, bound history.Event) {
				rf := first(e, 0, history.Refused)
				Expect(rf.Cause).To(Equal(history.CauseZeroLifetime))
				Expect(rf.At.Sub(bound.At)).To(Equal(t2))
				again := of(e, 0, history.Bound)
				Expect(again).To(HaveLen(2))
				Expect(again[1].Server).To(Equal(duidHex(1)))
				Expect(again[1].At).To(BeTemporally(">", rf.At))
			}),
		Entry("nobinding: NoBinding keeps the lease, a Request to the answering server renumbers it (§18.2.10.1)", highHalf, "hash", deploy.RebindNoBinding,
			func(e *virtual.Engine, bound history.Event) {
				nb := first(e, 0, history.NoBinding)
				Expect(nb.At.Sub(bound.At)).To(Equal(t2))
				Expect(nb.Server).To(Equal(duidHex(1)))
				Expect(nb.Lease).To(Equal(bound.Lease))
				rn := first(e, 0, history.Renumbered)
				Expect(rn.Cause).To(Equal(history.CauseOldKept), "the old address is kept until it expires")
				Expect(rn.Old).To(Equal(bound.Lease))
				Expect(rn.Server).To(Equal(duidHex(1)))
				Expect(rn.At).To(Equal(nb.At), "the Request goes out at once and s2 answers it")
				Expect(netip.MustParsePrefix(highHalf).Contains(rn.Lease.Addr())).To(BeTrue())
				// The old address rides along in the next Renew's IA, where
				// s2 returns it with lifetime 0 (§18.3.4): refused then, not
				// at the NoBinding.
				for _, rf := range of(e, 0, history.Refused) {
					Expect(rf.Lease).To(Equal(bound.Lease))
					Expect(rf.Cause).To(Equal(history.CauseZeroLifetime))
					Expect(rf.At).To(BeTemporally(">", rn.At))
				}
				Expect(of(e, 0, history.Bound)).To(HaveLen(1), "no Solicit detour")
			}),
		Entry("silent: Rebind unanswered until the valid lifetime ends, then Solicit", highHalf, "hash", deploy.RebindSilent,
			func(e *virtual.Engine, bound history.Event) {
				ex := first(e, 0, history.Expired)
				Expect(ex.At.Sub(bound.At)).To(Equal(valid))
				Expect(of(e, 0, history.Refused, history.Rebound, history.Renumbered)).To(BeEmpty())
				again := of(e, 0, history.Bound)
				Expect(again).To(HaveLen(2))
				Expect(again[1].Server).To(Equal(duidHex(1)))
				Expect(again[1].At).To(BeTemporally(">=", ex.At))
			}),
	)
})

var _ = Describe("RFC 6853 §6.3: identical prefixes need identical allocators", func() {
	It("two independent hash servers give the same address to each of 100,000 clients", func() {
		const n = 100_000
		leases := func(duid int) []netip.Prefix {
			e := virtual.New(time.Time{})
			cfg := serverConfig(duid, 255, linkPool, "hash", deploy.RebindCreate)
			_, err := e.AddServer("s", cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(e.SetPopulation(population.Config{Count: n, Seed: 42, IANA: true, Ramp: 5 * time.Second})).To(Succeed())
			e.RunFor(8 * time.Second)
			out := make([]netip.Prefix, n)
			for c := range n {
				ls := e.Population().Client(c).Leases()
				Expect(ls).To(HaveLen(1), "client %d", c)
				out[c] = ls[0].Prefix
			}
			return out
		}
		a, b := leases(0), leases(1)
		distinct := map[netip.Prefix]bool{}
		for c := range a {
			Expect(a[c]).To(Equal(b[c]), "client %d", c)
			distinct[a[c]] = true
		}
		Expect(distinct).To(HaveLen(100_000))
	})

	It("two independent sequential servers give one address to two different clients", func() {
		e := virtual.New(time.Time{})
		_, err := e.AddServer("s1", serverConfig(0, 255, linkPool, "sequential", deploy.RebindCreate))
		Expect(err).NotTo(HaveOccurred())
		_, err = e.AddServer("s2", serverConfig(1, 0, linkPool, "sequential", deploy.RebindCreate))
		Expect(err).NotTo(HaveOccurred())
		// Clients arrive over 10 s. s2 is out of reach until s1 dies at
		// 5 s (had it heard the early Solicits, its Advertises would have
		// moved its allocator on); the later half is then served by s2,
		// whose sequential allocator starts where s1's did.
		Expect(e.Cut("s2")).To(Succeed())
		Expect(e.SetPopulation(population.Config{Count: 20, Seed: 5, IANA: true, Ramp: 10 * time.Second})).To(Succeed())
		e.At(5*time.Second, func() {
			Expect(e.Kill("s1")).To(Succeed())
			Expect(e.Heal("s2")).To(Succeed())
		})
		e.RunFor(40 * time.Second)

		rep := check.Analyze(e.Events(), check.Lab{Servers: []check.ServerInfo{
			{Name: "s1", DUID: duidHex(0)}, {Name: "s2", DUID: duidHex(1)},
		}})
		Expect(rep.Duplicates.Addresses).To(BeNumerically(">", 0))
		Expect(rep.Duplicates.Evidence).NotTo(BeEmpty())
		ev := rep.Duplicates.Evidence[0]
		Expect(ev.ClientA).NotTo(Equal(ev.ClientB))
		Expect([]string{ev.ServerA, ev.ServerB}).To(ConsistOf("s1", "s2"))
	})
})

var _ = Describe("the protocol cores over the in-memory transport", func() {
	It("binds every client through server.Serve and population.Run on a transport.Link", func() {
		link := transport.NewLink()
		sconn, err := link.Attach(netip.MustParseAddrPort("[fe80::5e:1]:547"), 4096, transport.AllServers)
		Expect(err).NotTo(HaveOccurred())
		cconn, err := link.Attach(netip.MustParseAddrPort("[fe80::c]:546"), 4096)
		Expect(err).NotTo(HaveOccurred())

		cfg := serverConfig(0, 255, linkPool, "hash", deploy.RebindCreate)
		srv, err := server.New(cfg, lease.NewMemory())
		Expect(err).NotTo(HaveOccurred())

		var mu sync.Mutex
		bound := map[int]bool{}
		pop, err := population.New(population.Config{Count: 200, Seed: 9, IANA: true, Ramp: 200 * time.Millisecond, Timescale: 0.1,
			Sink: func(ev history.Event) {
				if ev.Kind == history.Bound {
					mu.Lock()
					bound[ev.Client] = true
					mu.Unlock()
				}
			}})
		Expect(err).NotTo(HaveOccurred())

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { _ = server.Serve(ctx, sconn, srv, time.Now) })
		wg.Go(func() { _ = population.Run(ctx, pop, cconn, time.Now) })
		DeferCleanup(func() {
			cancel()
			sconn.Close()
			cconn.Close()
			wg.Wait()
		})
		Eventually(func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(bound)
		}).WithTimeout(20 * time.Second).Should(Equal(200))
		Expect(srv.Counters().Answered).To(BeNumerically(">=", 400))
	})
})
