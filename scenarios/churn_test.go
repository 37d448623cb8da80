package scenarios_test

import (
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/scenarios"
)

var _ = Describe("client actions and info_refresh", func() {
	It("reads join and leave waves, without target, and counts every client a run may start", func() {
		s := mustParse("split", `timeline:
  - {at: 5s, action: join, count: 40, ramp: 2s}
  - {at: 6s, action: kill, target: s1}
  - {at: 8s, action: leave, count: 15}
  - {at: 9s, action: join, count: 7}
`)
		Expect(s.Timeline).To(HaveLen(4))
		Expect(s.Timeline[0]).To(Equal(scenarios.Action{At: 5 * time.Second, Kind: scenarios.Join, Count: 40, Ramp: 2 * time.Second, Line: 7}))
		Expect(s.Timeline[2]).To(Equal(scenarios.Action{At: 8 * time.Second, Kind: scenarios.Leave, Count: 15, Line: 9}))
		Expect(s.Timeline[3].Ramp).To(BeZero())
		Expect(s.Clients.Count).To(Equal(10))
		Expect(s.TotalClients()).To(Equal(57))
		Expect(scenarios.Join.ClientAction()).To(BeTrue())
		Expect(scenarios.Kill.ClientAction()).To(BeFalse())
	})

	It("sizes default PD pools for the clients that join later too", func() {
		pd := func(extra string) *scenarios.Scenario {
			GinkgoHelper()
			s, err := scenarios.Parse("t.yaml", []byte("name: t\nmodel: split\nclients: {count: 10, ia: [pd]}\nduration: 60s\n"+extra))
			Expect(err).NotTo(HaveOccurred())
			return s
		}
		few := pd("")
		Expect(few.Servers[0].PDLen).To(Equal(56)) // a /41 holds 32768 /56s
		many := pd("timeline:\n  - {at: 5s, action: join, count: 100000}\n")
		Expect(many.Servers[0].PDLen).To(Equal(58))
		Expect(1 << (many.Servers[0].PDLen - many.Servers[0].PDPool.Bits())).To(BeNumerically(">=", many.TotalClients()))
	})

	It("reads a flap's down, 500ms by default", func() {
		s := mustParse("split", `timeline:
  - {at: 5s, action: flap}
  - {at: 9s, action: flap, down: 2s}
  - {at: 12s, action: flap, down: 0s}
`)
		Expect(s.Timeline[0]).To(Equal(scenarios.Action{At: 5 * time.Second, Kind: scenarios.Flap, Down: scenarios.DefaultFlapDown, Line: 7}))
		Expect(scenarios.DefaultFlapDown).To(Equal(500 * time.Millisecond))
		Expect(s.Timeline[1].Down).To(Equal(2 * time.Second))
		Expect(s.Timeline[2].Down).To(BeZero(), "down and up at once")
	})

	It("reads lifetimes.info_refresh and leaves it zero by default", func() {
		Expect(mustParse("split", "").Lifetimes.InfoRefresh).To(BeZero())
		Expect(mustParse("split", "lifetimes: {info_refresh: 6s}\n").Lifetimes.InfoRefresh).To(Equal(6 * time.Second))
	})
})

var _ = Describe("client actions built in code", func() {
	It("are validated like the ones a file gives", func() {
		s := mustParse("split", "")
		s.Timeline = []scenarios.Action{
			{At: time.Second, Kind: scenarios.Join, Count: 0},
			{At: 2 * time.Second, Kind: scenarios.Leave, Count: 3, Ramp: time.Second},
			{At: 3 * time.Second, Kind: scenarios.Flap, Target: "s1"},
			{At: 4 * time.Second, Kind: scenarios.Occupy},
			{At: 5 * time.Second, Kind: scenarios.Occupy, Address: netip.MustParseAddr("2001:db8:9::1")},
			{At: 6 * time.Second, Kind: scenarios.Flap, State: scenarios.Wipe},
			{At: 7 * time.Second, Kind: scenarios.Join, Count: 1, Down: time.Second},
			{At: 8 * time.Second, Kind: scenarios.Kill, Target: "s1", Down: time.Second},
		}
		var fields []string
		for _, e := range asErrors(s.Validate()) {
			fields = append(fields, e.Field)
		}
		Expect(fields).To(Equal([]string{
			"timeline[0].count", "timeline[1].ramp", "timeline[2].target",
			"timeline[3].address", "timeline[4].address", "timeline[5].state",
			"timeline[6].down", "timeline[7].down",
		}))
	})
})
