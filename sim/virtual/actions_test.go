package virtual_test

import (
	"errors"
	"net/netip"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

var _ = Describe("engine actions", func() {
	var e *virtual.Engine
	BeforeEach(func() {
		e = virtual.New(virtual.Epoch)
		_, err := e.AddServer("s1", serverConfig(0, 255, lowHalf, "hash", deploy.RebindCreate))
		Expect(err).NotTo(HaveOccurred())
	})

	It("returns an error, never panics, for an action on an unknown server", func() {
		for _, a := range []scenarios.Action{
			{Kind: scenarios.Kill, Target: "nosuch"}, {Kind: scenarios.Freeze, Target: "nosuch"},
			{Kind: scenarios.Thaw, Target: "nosuch"}, {Kind: scenarios.Restart, Target: "nosuch"},
			{Kind: scenarios.Cut, Target: "nosuch"}, {Kind: scenarios.Heal, Target: "nosuch"},
			{Kind: scenarios.Impair, Target: "nosuch", Loss: 0.5},
		} {
			var err error
			Expect(func() { err = sim.Apply(e, a) }).NotTo(Panic())
			Expect(err).To(MatchError(sim.ErrUnknownServer), string(a.Kind))
			Expect(err).To(MatchError(ContainSubstring(`no server named "nosuch"`)))
		}
	})

	It("checks each action's precondition as scenario validation does", func() {
		Expect(e.Thaw("s1")).To(MatchError(ContainSubstring("cannot thaw s1: it is up, not frozen")))
		Expect(e.Heal("s1")).To(MatchError(ContainSubstring("nothing to heal")))
		Expect(e.Impair("s1", 0.1, 0)).To(MatchError(virtual.ErrNoImpairment))
		Expect(e.Freeze("s1")).To(Succeed())
		Expect(e.Freeze("s1")).To(MatchError(ContainSubstring("cannot freeze s1: it is frozen, not running")))
		Expect(e.Kill("s1")).To(Succeed())
		Expect(e.Kill("s1")).To(MatchError(ContainSubstring("cannot kill s1: it is already killed")))
		Expect(e.Cut("s1")).To(Succeed(), "a killed server's link can be cut")
		Expect(e.Cut("s1")).To(MatchError(ContainSubstring("already cut")))
		Expect(e.Restart("s1", true)).To(Succeed())
		Expect(e.Server("s1").State()).To(Equal(virtual.Cut), "a restart leaves the link cut")
		Expect(e.Heal("s1")).To(Succeed())
		Expect(e.Server("s1").State()).To(Equal(virtual.Up))
	})

	It("refuses client actions before the population is set", func() {
		Expect(e.Join(1, 0)).To(HaveOccurred())
		Expect(e.Leave(1)).To(HaveOccurred())
		Expect(e.Flap(0)).To(HaveOccurred())
		Expect(e.Occupy(netip.MustParseAddr("2001:db8::1"))).To(HaveOccurred())
	})

	It("RunScenario refuses servers of another kind, naming the netns engine", func() {
		sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "split-kill.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sc.Servers[1].Kind = deploy.Kind("kea")
		_, err = virtual.RunScenario(sc)
		Expect(err).To(MatchError(virtual.ErrUnsupported))
		Expect(err).To(MatchError(ContainSubstring(`server s2 is kind "kea": the virtual engine runs only "builtin" servers; use the netns engine`)))
	})

	It("RunScenario refuses dns: and leasequery: before anything runs, naming the netns engine", func() {
		sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "split-kill.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sc.EnableDNS()
		e, err := virtual.RunScenario(sc)
		Expect(e).To(BeNil())
		Expect(err).To(MatchError(virtual.ErrUnsupported))
		Expect(err).To(MatchError(ContainSubstring("virtual: dns: the lab's DNS server is BIND 9, a real process the servers update over the network; use the netns engine")))
		sc.DNS = nil
		_, err = virtual.RunScenario(sc)
		Expect(err).To(MatchError(virtual.ErrUnsupported))
		Expect(err).To(MatchError(ContainSubstring("virtual: leasequery:")))
		Expect(err).To(MatchError(ContainSubstring("use the netns engine")))
	})

	It("RunScenario returns an action's error (an unknown server) and plays on", func() {
		sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "split-kill.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sc.Timeline = append(sc.Timeline, scenarios.Action{At: sc.Timeline[0].At, Kind: scenarios.Kill, Target: "nosuch"})
		e, err := virtual.RunScenario(sc)
		Expect(err).To(MatchError(sim.ErrUnknownServer))
		Expect(e).NotTo(BeNil())
		Expect(errors.Is(err, virtual.ErrUnsupported)).To(BeFalse())
	})

	It("RunScenario drops the bindings of a server killed for good, keeping its counters, and keeps those of one a later action restarts with its state", func() {
		sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "split-kill.yaml"))
		Expect(err).NotTo(HaveOccurred())
		e, err := virtual.RunScenario(sc)
		Expect(err).NotTo(HaveOccurred())
		s1 := e.Server("s1")
		Expect(s1.State()).To(Equal(virtual.Killed))
		Expect(s1.Core().Store().Len()).To(BeZero(), "a server killed for good holds no bindings")
		Expect(s1.Core().Counters().Received).To(BeNumerically(">", 0), "its counters stay")

		// Restarted with its state at the run's last instant: it comes back
		// with the bindings it had when killed (none expired: nothing
		// reached it since to sweep them).
		sc, err = scenarios.Load(filepath.Join("..", "..", "scenarios", "split-kill.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sc.Timeline = append(sc.Timeline, scenarios.Action{At: sc.Duration, Kind: scenarios.Restart, Target: "s1", State: scenarios.Keep})
		e, err = virtual.RunScenario(sc)
		Expect(err).NotTo(HaveOccurred())
		Expect(e.Server("s1").Core().Store().Len()).To(Equal(sc.Clients.Count), "s1 restarted with its state holds every client's binding")
	})
})
