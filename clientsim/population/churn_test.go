package population_test

import (
	"context"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/clientsim/population"
	"d6lab/reports/history"
)

var _ = Describe("Churn", func() {
	It("adds clients that start over their own ramp and bind like the first ones", func() {
		s := newSim(population.Config{Count: 100, Seed: 3, IANA: true, Ramp: time.Second, Timescale: 0.1})
		Expect(s.run(func() bool { return s.nbound == 100 }, 100_000)).To(BeTrue())
		first, err := s.p.AddClients(s.now, 50, 2*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(Equal(100))
		Expect(s.p.Len()).To(Equal(150))
		// the new clients are the ones a larger Count would have made
		Expect(s.p.Client(120).DUID()).To(Equal(population.DUID(3, 120)))
		Expect(s.p.Client(120).State().String()).To(Equal("idle"))
		joined := s.now
		Expect(s.run(func() bool { return s.nbound == 150 }, 100_000)).To(BeTrue(), "%d bound", s.nbound)
		Expect(s.now.Sub(joined)).To(BeNumerically(">=", 1900*time.Millisecond))
		Expect(s.p.Stats().States).To(HaveKeyWithValue("bound", 150))
	})

	It("refuses to add no client", func() {
		p, err := population.New(population.Config{Count: 1, IANA: true})
		Expect(err).NotTo(HaveOccurred())
		_, err = p.AddClients(t0, 0, 0)
		Expect(err).To(MatchError(population.ErrCount))
	})

	It("stops a seeded choice of bound clients, each releasing its lease", func() {
		pick := func() []int {
			s := newSim(population.Config{Count: 200, Seed: 4, IANA: true, Ramp: time.Second, Timescale: 0.1})
			Expect(s.run(func() bool { return s.nbound == 200 }, 100_000)).To(BeTrue())
			got := s.p.StopSome(s.now, 30)
			Expect(got).To(HaveLen(30))
			Expect(s.events[history.Released]).To(Equal(30))
			s.flush()
			Expect(s.r.seen[dhcpv6.MessageTypeRelease]).To(Equal(30))
			st := s.p.Stats().States
			Expect(st).To(HaveKeyWithValue("stopped", 30))
			Expect(st).To(HaveKeyWithValue("bound", 170))
			for _, i := range got {
				Expect(s.p.Client(i).Leases()).To(BeEmpty())
			}
			// a second wave never picks a stopped client again
			more := s.p.StopSome(s.now, 1000)
			Expect(more).To(HaveLen(170))
			Expect(s.p.AllStopped()).To(BeFalse()) // releasing, not yet answered
			s.flush()
			Expect(s.p.AllStopped()).To(BeTrue())
			return got
		}
		a, b := pick(), pick()
		Expect(a).To(Equal(b))
		Expect(a).NotTo(Equal([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29}))
	})

	It("stops clients not started yet without them ever starting", func() {
		s := newSim(population.Config{Count: 10, Seed: 5, IANA: true, Ramp: time.Hour})
		s.p.Start(t0)
		got := s.p.StopSome(t0, 10)
		Expect(got).To(HaveLen(10))
		Expect(s.p.AllStopped()).To(BeTrue())
		s.flush()
		Expect(s.r.seen).To(BeEmpty())
	})

	It("declines an address a client holds, and ignores one it does not", func() {
		s := newSim(population.Config{Count: 5, Seed: 6, IANA: true, Timescale: 0.1})
		Expect(s.run(func() bool { return s.nbound == 5 }, 10_000)).To(BeTrue())
		addr := s.p.Client(3).Leases()[0].Prefix.Addr()
		Expect(s.p.Holder(addr)).To(Equal(3))
		Expect(s.p.Decline(s.now, 2, addr)).To(BeFalse())
		Expect(s.p.Decline(s.now, 3, addr)).To(BeTrue())
		Expect(s.events[history.Declined]).To(Equal(1))
		Expect(s.p.Holder(addr)).To(Equal(-1))
		s.flush()
		Expect(s.r.seen[dhcpv6.MessageTypeDecline]).To(Equal(1))
	})

	It("declines an occupied address held now, and one granted later the moment it is granted", func() {
		s := newSim(population.Config{Count: 5, Seed: 8, IANA: true, Timescale: 0.1})
		Expect(s.run(func() bool { return s.nbound == 5 }, 10_000)).To(BeTrue())
		held := s.p.Client(1).Leases()[0].Prefix.Addr()
		Expect(s.p.Occupy(s.now, held)).To(Equal(1))
		// the responder hands addresses out in order: the next one is next
		later := s.r.next
		Expect(s.p.Occupy(s.now, later)).To(Equal(0))
		Expect(s.events[history.Declined]).To(Equal(1))
		_, err := s.p.AddClients(s.now, 1, 0)
		Expect(err).NotTo(HaveOccurred())
		s.run(func() bool { return s.events[history.Declined] == 2 }, 10_000)
		Expect(s.events[history.Declined]).To(Equal(2))
		Expect(s.p.Holder(held)).To(Equal(-1))
		Expect(s.p.Holder(later)).To(Equal(-1))
	})

	It("makes every bound client Confirm after a link flap", func() {
		s := newSim(population.Config{Count: 20, Seed: 7, IANA: true, Timescale: 0.1})
		Expect(s.run(func() bool { return s.nbound == 20 }, 10_000)).To(BeTrue())
		s.p.Flap(s.now, 0)
		Expect(s.p.Stats().States).To(HaveKeyWithValue("confirming", 20))
	})

	It("makes them Confirm only once the link is back after a flap that keeps it down a while", func() {
		s := newSim(population.Config{Count: 20, Seed: 7, IANA: true, Timescale: 0.1})
		Expect(s.run(func() bool { return s.nbound == 20 }, 10_000)).To(BeTrue())
		flapped := s.now
		s.p.Flap(s.now, 2*time.Second)
		Expect(s.p.Stats().States).To(HaveKeyWithValue("bound", 20), "nothing before the link is back")
		Expect(s.run(func() bool { return s.events[history.Confirmed] == 20 }, 10_000)).To(BeTrue())
		for _, e := range s.log {
			if e.Kind == history.Confirmed {
				Expect(e.At).To(BeTemporally(">=", flapped.Add(2*time.Second)))
			}
		}
	})
})

var _ = Describe("RunControlled", func() {
	It("runs commands on its own goroutine: a join wave and a leave wave over an in-memory link", func() {
		cli := respondingLink()
		var bound, released atomic.Int64
		p, err := population.New(population.Config{
			Count: 50, Seed: 9, IANA: true, Ramp: 50 * time.Millisecond, Timescale: 0.01,
			Sink: func(e history.Event) {
				switch e.Kind {
				case history.Bound:
					bound.Add(1)
				case history.Released:
					released.Add(1)
				}
			},
		})
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ctl := make(chan population.Command, 4)
		done := make(chan error, 1)
		go func() { done <- population.RunControlled(ctx, p, cli, nil, ctl) }()
		Eventually(bound.Load, 20*time.Second).Should(BeEquivalentTo(50))

		ctl <- func(p *population.Population, now time.Time) { _, _ = p.AddClients(now, 30, 20*time.Millisecond) }
		Eventually(bound.Load, 20*time.Second).Should(BeEquivalentTo(80))
		left := make(chan []int, 1)
		ctl <- func(p *population.Population, now time.Time) { left <- p.StopSome(now, 25) }
		Eventually(left, 20*time.Second).Should(Receive(HaveLen(25)))
		Eventually(released.Load, 20*time.Second).Should(BeEquivalentTo(25))
		states := func() map[string]int { // read on Run's goroutine
			ch := make(chan map[string]int, 1)
			ctl <- func(p *population.Population, _ time.Time) { ch <- p.Stats().States }
			return <-ch
		}
		// the leavers are stopped once their Releases are answered
		Eventually(states, 20*time.Second).Should(Equal(map[string]int{"bound": 55, "stopped": 25}))
		cancel()
		Eventually(done, 20*time.Second).Should(Receive(BeNil()))
	})
})
