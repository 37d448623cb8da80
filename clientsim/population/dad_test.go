package population_test

import (
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
	"d6lab/clientsim/population"
	"d6lab/reports/history"
)

var _ = Describe("Duplicate address detection across the population (RFC 4862 §5.4, RFC 9915 §18.2.8)", func() {
	dadSim := func(cfg population.Config) (*sim, *[]history.Event) {
		s := newSim(cfg)
		return s, &s.log
	}
	cfg := population.Config{Count: 5, Seed: 9, IANA: true, Timescale: 0.1, DAD: time.Second, DADDelay: time.Second}

	It("makes a newcomer granted a held address Decline it, naming the holder, until it gets a free one", func() {
		s, evs := dadSim(cfg)
		Expect(s.run(func() bool { return s.nbound == 5 }, 10_000)).To(BeTrue())
		held := map[netip.Addr]int{}
		for i := range 5 {
			held[s.p.Client(i).Leases()[0].Prefix.Addr()] = i
		}
		// The server forgets what it gave: the next client gets the first
		// client's address again (an allocator that started over).
		s.r.next = netip.MustParseAddr("2001:db8::100")
		first, err := s.p.AddClients(s.now, 1, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.run(func() bool {
			ls := s.p.Client(first).Leases()
			return len(ls) == 1 && !ls[0].Tentative(s.now) && s.events[history.Declined] >= 1
		}, 100_000)).To(BeTrue())

		var declined []history.Event
		for _, e := range *evs {
			if e.Kind == history.Declined {
				declined = append(declined, e)
			}
		}
		Expect(declined).To(HaveLen(5), "each of the five held addresses caught once")
		for _, d := range declined {
			Expect(d.Client).To(Equal(first))
			Expect(d.Cause).To(Equal(history.CauseDAD))
			Expect(d.Peer).NotTo(BeNil())
			Expect(*d.Peer).To(Equal(held[d.Lease.Addr()]), "the holder of %s", d.Lease.Addr())
		}
		Expect(s.r.seen[dhcpv6.MessageTypeDecline]).To(Equal(5))
		got := s.p.Client(first).Leases()[0].Prefix.Addr()
		Expect(held).NotTo(HaveKey(got))
		for a, i := range held {
			_, ok := s.p.Client(i).LeaseOf(a)
			Expect(ok).To(BeTrue(), "client %d keeps %s", i, a)
		}
	})

	It("with KeepDADFailed (the Debian clients) makes a newcomer keep a held address unusable, declining nothing, and defend nothing", func() {
		keep := cfg
		keep.Deviations = client.Deviations{KeepDADFailed: true}
		s, _ := dadSim(keep)
		Expect(s.run(func() bool { return s.nbound == 5 }, 10_000)).To(BeTrue())
		x := netip.MustParseAddr("2001:db8::100")
		holder := s.p.Holder(x)
		Expect(holder).To(BeNumerically(">=", 0))
		s.r.next = x
		first, _ := s.p.AddClients(s.now, 1, 0)
		Expect(s.run(func() bool { return s.events[history.DADFailed] == 1 }, 100_000)).To(BeTrue())
		l, ok := s.p.Client(first).LeaseOf(x)
		Expect(ok).To(BeTrue(), "kept")
		Expect(l.DADFailed).To(BeTrue())
		Expect(s.r.seen[dhcpv6.MessageTypeDecline]).To(BeZero())
		Expect(s.p.Holder(x)).To(Equal(holder), "the newcomer's copy is not a holder")

		// The holder lets x go: a second newcomer given x finds nobody, the
		// first one's kept copy does not answer its probe.
		Expect(s.p.Decline(s.now, holder, x)).To(BeTrue())
		Expect(s.p.Holder(x)).To(Equal(-1))
		s.r.next = netip.MustParseAddr("2001:db8::200")
		Expect(s.run(func() bool { // it takes a free address
			ls := s.p.Client(holder).Leases()
			return len(ls) == 1 && !ls[0].Tentative(s.now)
		}, 100_000)).To(BeTrue())
		s.r.next = x
		second, _ := s.p.AddClients(s.now, 1, 0)
		Expect(s.run(func() bool {
			ls := s.p.Client(second).Leases()
			return len(ls) == 1 && !ls[0].Tentative(s.now)
		}, 100_000)).To(BeTrue())
		got := s.p.Client(second).Leases()[0]
		Expect(got.Prefix.Addr()).To(Equal(x))
		Expect(got.DADFailed).To(BeFalse())
		Expect(s.events[history.DADFailed]).To(Equal(1))
		Expect(s.p.Holder(x)).To(Equal(second))
	})

	It("with DropOnLinkChange (dhcpcd) lets an address off its holder's interface defend nothing until it is back", func() {
		drop := cfg
		drop.Deviations = client.Deviations{DropOnLinkChange: true}
		s, _ := dadSim(drop)
		Expect(s.run(func() bool { return s.nbound == 5 }, 10_000)).To(BeTrue())
		x := netip.MustParseAddr("2001:db8::100")
		holder := s.p.Holder(x)
		Expect(holder).To(BeNumerically(">=", 0))
		s.p.Flap(s.now, 0)
		Expect(s.events[history.Dropped]).To(Equal(5))
		Expect(s.p.Holder(x)).To(Equal(-1), "off the interface: no answer to a probe")
		_, inUse := s.p.InUse(holder+1, x)
		Expect(inUse).To(BeFalse())
		Expect(s.run(func() bool { return s.events[history.Restored] == 5 }, 100_000)).To(BeTrue(), "each Confirm answered")
		Expect(s.p.Holder(x)).To(Equal(holder), "back: it defends the address again")
	})

	It("lets nobody decline with DAD off: the same address is then held twice", func() {
		off := cfg
		off.DAD, off.DADDelay = 0, 0
		s, _ := dadSim(off)
		Expect(s.run(func() bool { return s.nbound == 5 }, 10_000)).To(BeTrue())
		s.r.next = netip.MustParseAddr("2001:db8::100")
		first, _ := s.p.AddClients(s.now, 1, 0)
		Expect(s.run(func() bool { return len(s.p.Client(first).Leases()) == 1 }, 100_000)).To(BeTrue())
		Expect(s.events[history.Declined]).To(BeZero())
		twice := s.p.Client(first).Leases()[0].Prefix.Addr()
		Expect(twice).To(Equal(netip.MustParseAddr("2001:db8::100")))
		Expect(s.p.Holder(twice)).To(BeNumerically("<", first), "an earlier client still holds it too")
	})

	It("fails the probe of an address a foreign host occupies, with no peer", func() {
		s, evs := dadSim(cfg)
		Expect(s.run(func() bool { return s.nbound == 5 }, 10_000)).To(BeTrue())
		next := s.r.next
		s.p.Occupy(s.now, next) // nobody holds it yet
		first, _ := s.p.AddClients(s.now, 1, 0)
		Expect(s.run(func() bool { return s.events[history.Declined] == 1 }, 100_000)).To(BeTrue())
		for _, e := range *evs {
			if e.Kind == history.Declined {
				Expect(e.Client).To(Equal(first))
				Expect(e.Lease.Addr()).To(Equal(next))
				Expect(e.Cause).To(Equal(history.CauseDAD))
				Expect(e.Peer).To(BeNil())
			}
		}
	})
})
