package lab_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/lab"
	"d6lab/sim/virtual"
)

// One timeline played through both engines (sim.Actions: sim/lab's on
// network namespaces, sim/virtual's in memory): each must record the same
// lab events, in the same order, and refuse an action on a server it does
// not have with an error, not a panic.

const enginesTimeline = `
name: engines-timeline
description: every timeline action but impair (the virtual engine has none), on two servers
model: split
link: 2001:db8:1:1::/64
lifetimes: {t1: 2s, t2: 3s, preferred: 4s, valid: 6s}
servers:
  - {name: s1, preference: 255}
  - {name: s2, preference: 0}
clients:
  count: 30
  ramp: 1s
timeline:
  - {at: 2s, action: freeze, target: s2}
  - {at: 3s, action: thaw, target: s2}
  - {at: 4s, action: kill, target: s1}
  - {at: 5s, action: join, count: 10, ramp: 1s}
  - {at: 6s, action: leave, count: 5}
  - {at: 7s, action: occupy, address: "2001:db8:1:1::10"}
  - {at: 8s, action: flap}
  - {at: 9s, action: restart, target: s1, state: wipe}
  - {at: 10s, action: cut, target: s2}
  - {at: 11s, action: heal, target: s2}
duration: 13s
`

// labEvent is what both engines must agree on: a lab event's kind, its
// server and, for client actions and restarts, its detail (the netns
// engine's details of signals and pids are its own).
type labEvent struct {
	Kind   history.Kind
	Server string
	Detail string
}

func labEvents(evs []history.Event) []labEvent {
	var out []labEvent
	for _, e := range evs {
		switch e.Kind {
		case history.ServerStarted, history.ServerKilled, history.ServerFrozen, history.ServerThawed,
			history.LinkCut, history.LinkHealed, history.LinkImpaired:
			out = append(out, labEvent{Kind: e.Kind, Server: e.Server})
		case history.ServerRestarted, history.ClientsJoined, history.ClientsLeft, history.LinkFlapped, history.AddressOccupied:
			out = append(out, labEvent{Kind: e.Kind, Server: e.Server, Detail: e.Detail})
		}
	}
	return out
}

// engine plays sc and returns its history.
type engine func(sc *scenarios.Scenario) ([]history.Event, error)

func playVirtual(sc *scenarios.Scenario) ([]history.Event, error) {
	e, err := virtual.RunScenario(sc)
	if e == nil {
		return nil, err
	}
	return e.Events(), err
}

var (
	enginesBin     string
	enginesBinErr  error
	enginesBinOnce sync.Once
)

func playNetns(sc *scenarios.Scenario) ([]history.Event, error) {
	if os.Geteuid() != 0 {
		Skip("the netns engine needs root (CAP_NET_ADMIN) to create network namespaces")
	}
	enginesBinOnce.Do(func() {
		if enginesBin = os.Getenv("D6LAB_BIN"); enginesBin != "" { // a d6lab binary already built
			return
		}
		enginesBin = filepath.Join(os.TempDir(), "d6lab-engines-spec")
		out, err := exec.Command("go", "build", "-o", enginesBin, "d6lab/cmd/d6lab").CombinedOutput()
		if err != nil {
			enginesBinErr = err
			GinkgoWriter.Printf("go build d6lab/cmd/d6lab:\n%s", out)
		}
	})
	Expect(enginesBinErr).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), sc.Duration+time.Minute)
	defer cancel()
	res, err := lab.Run(ctx, sc, lab.Options{OutDir: GinkgoT().TempDir(), Binary: enginesBin, PcapMax: -1})
	if res == nil {
		return nil, err
	}
	return res.Events, err
}

func loadTimeline() *scenarios.Scenario {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), "engines-timeline.yaml")
	Expect(os.WriteFile(path, []byte(enginesTimeline), 0o644)).To(Succeed())
	sc, err := scenarios.Load(path)
	Expect(err).NotTo(HaveOccurred())
	return sc
}

var _ = Describe("one timeline through both engines", func() {
	want := []labEvent{
		{Kind: history.ServerStarted, Server: "s1"},
		{Kind: history.ServerStarted, Server: "s2"},
		{Kind: history.ServerFrozen, Server: "s2"},
		{Kind: history.ServerThawed, Server: "s2"},
		{Kind: history.ServerKilled, Server: "s1"},
		{Kind: history.ClientsJoined, Detail: "10 clients"},
		{Kind: history.ClientsLeft, Detail: "5 clients"},
		{Kind: history.AddressOccupied, Detail: "2001:db8:1:1::10"},
		{Kind: history.LinkFlapped, Detail: "every client, down 500ms"},
		{Kind: history.ServerRestarted, Server: "s1", Detail: "state wipe"},
		{Kind: history.LinkCut, Server: "s2"},
		{Kind: history.LinkHealed, Server: "s2"},
	}

	DescribeTable("records the timeline's lab events, kinds and targets in order",
		func(play engine) {
			sc := loadTimeline()
			evs, err := play(sc)
			Expect(err).NotTo(HaveOccurred())
			Expect(labEvents(evs)).To(Equal(want))
			Expect(evs[0].Kind).To(Or(Equal(history.RunStarted), Equal(history.ServerStarted)))
			Expect(evs[len(evs)-1].Kind).To(Equal(history.RunEnded))
			bound := map[int]bool{}
			for _, e := range evs {
				if e.Kind == history.Bound {
					bound[e.Client] = true
				}
			}
			Expect(len(bound)).To(BeNumerically(">=", sc.Clients.Count), "the clients were served")
		},
		Entry("virtual", engine(playVirtual)),
		Entry("netns", Label("netns"), engine(playNetns)),
	)

	DescribeTable("returns an error, not a panic, for an action on a server it does not have",
		func(play engine) {
			sc := loadTimeline()
			sc.Clients.Count = 5
			sc.Duration = 2 * time.Second
			sc.Timeline = []scenarios.Action{{At: 500 * time.Millisecond, Kind: scenarios.Kill, Target: "nosuch"}}
			var err error
			Expect(func() { _, err = play(sc) }).NotTo(Panic())
			Expect(err).To(MatchError(sim.ErrUnknownServer))
			Expect(err).To(MatchError(ContainSubstring(`kill nosuch: no server named "nosuch"`)))
		},
		Entry("virtual", engine(playVirtual)),
		Entry("netns", Label("netns"), engine(playNetns)),
	)
})
