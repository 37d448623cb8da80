package client_test

import (
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
	"d6lab/reports/history"
)

// expectCaught checks that evs is one event of an address DAD caught:
// cause dad, holder as its Peer, granted by server by.
func expectCaught(evs []history.Event, by *server, holder int, addr string) {
	GinkgoHelper()
	Expect(evs).To(HaveLen(1))
	Expect(evs[0].Cause).To(Equal(history.CauseDAD))
	Expect(evs[0].Peer).NotTo(BeNil())
	Expect(*evs[0].Peer).To(Equal(holder))
	Expect(evs[0].Server).To(Equal(by.hex()))
	Expect(evs[0].Lease).To(Equal(addr128(addr)))
}

var _ = Describe("Duplicate address detection (RFC 4862 §5.4; RFC 9915 §18.2.10.1, §18.2.8)", func() {
	var a, b *server
	addrA := netip.MustParseAddr("2001:db8::a")
	BeforeEach(func() { a, b = newServer(1), newServer(2) })

	It("is off with DAD 0: Tentative 0, usable at once, no probe", func() {
		p := newProber(3, "2001:db8::a")
		h := newHarness(21, withDAD(0, time.Second, p))
		h.bind(a, offerNA())
		e := h.eventsOf(history.Bound)[0]
		Expect(e.Tentative).To(BeZero())
		l, ok := h.c.LeaseOf(addrA)
		Expect(ok).To(BeTrue())
		Expect(l.UsableAt).To(Equal(l.Granted))
		Expect(l.ProbeAt.IsZero()).To(BeTrue())
		Expect(l.Tentative(h.now)).To(BeFalse())
		h.advance(50 * sec)
		Expect(p.calls).To(BeEmpty())
		Expect(h.eventsOf(history.Declined)).To(BeEmpty())
	})

	It("§18.2.10.1: with DAD 1 s and a delay up to 1 s the new address is tentative for [1 s, 2 s) and probed at the delay's end", func() {
		p := newProber(3)
		h := newHarness(22, withDAD(time.Second, time.Second, p))
		h.bind(a, offerNA())
		granted := h.now
		e := h.eventsOf(history.Bound)[0]
		Expect(e.Tentative).To(BeNumerically(">=", time.Second))
		Expect(e.Tentative).To(BeNumerically("<", 2*time.Second))
		l, _ := h.c.LeaseOf(addrA)
		Expect(l.UsableAt).To(Equal(granted.Add(e.Tentative)))
		Expect(l.ProbeAt).To(Equal(granted.Add(e.Tentative - time.Second)))
		Expect(h.timer).To(Equal(l.ProbeAt), "the client wants its timer at the probe")
		Expect(l.Tentative(granted)).To(BeTrue())
		Expect(l.Tentative(l.UsableAt)).To(BeFalse())
		h.fire()
		Expect(p.calls).To(Equal([]probeCall{{7, addrA}}))
		Expect(h.c.State()).To(Equal(client.Bound))
		l, _ = h.c.LeaseOf(addrA)
		Expect(l.ProbeAt.IsZero()).To(BeTrue(), "probed once")
		Expect(h.timer.Sub(granted)).To(Equal(100*sec), "then T1")
	})

	It("§18.2.8: an address found in use is declined to the granting server (cause dad, Peer), and the client solicits when nothing is left", func() {
		p := newProber(3, "2001:db8::a")
		h := newHarness(23, withDAD(time.Second, time.Second, p))
		h.bind(a, offerNA())
		l, _ := h.c.LeaseOf(addrA)
		h.fire()
		Expect(h.now).To(Equal(l.ProbeAt))
		expectCaught(h.eventsOf(history.Declined), a, 3, "2001:db8::a")
		Expect(h.c.Leases()).To(BeEmpty(), "§18.2.8: no longer used")
		dec := h.last()
		Expect(dec.MessageType).To(Equal(dhcpv6.MessageTypeDecline))
		Expect(serverIDHex(dec)).To(Equal(a.hex()))
		Expect(naAddrs(dec)).To(Equal([]string{"2001:db8::a"}))
		Expect(h.c.State()).To(Equal(client.Declining))
		h.deliver(a.reply(dec, statusOpt(iana.StatusSuccess)))
		Expect(h.c.State()).To(Equal(client.Soliciting))
		Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
	})

	It("KeepDADFailed (not RFC 9915 §18.2.8: the Debian clients): an address found in use is kept, never usable, renewed and not declined", func() {
		p := newProber(3, "2001:db8::a")
		h := newHarness(23, withDAD(time.Second, time.Second, p), withDev(client.Deviations{KeepDADFailed: true}))
		h.bind(a, offerNA())
		l, _ := h.c.LeaseOf(addrA)
		n := len(h.sent)
		h.fire()
		Expect(h.now).To(Equal(l.ProbeAt))
		Expect(h.eventsOf(history.Declined)).To(BeEmpty())
		expectCaught(h.eventsOf(history.DADFailed), a, 3, "2001:db8::a")
		Expect(h.sent).To(HaveLen(n), "no Decline")
		Expect(h.c.State()).To(Equal(client.Bound))
		kept, ok := h.c.LeaseOf(addrA)
		Expect(ok).To(BeTrue(), "still held")
		Expect(kept.DADFailed).To(BeTrue())
		// it renews the address at T1 as any other, and it stays unusable
		r := h.nextSend()
		Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
		Expect(naAddrs(r.msg)).To(Equal([]string{"2001:db8::a"}))
		h.deliver(a.reply(r.msg, offerNA()))
		Expect(h.eventsOf(history.Renewed)).To(HaveLen(1))
		kept, _ = h.c.LeaseOf(addrA)
		Expect(kept.DADFailed).To(BeTrue(), "an extension does not make it usable")
		Expect(p.calls).To(HaveLen(1), "probed once, at the binding")
	})

	It("ReaddKept (dhclient with Debian's script, dhcpcd): a kept address is added again at each Renew, probed again, and used once its holder has gone", func() {
		p := newProber(3, "2001:db8::a")
		h := newHarness(23, withDAD(time.Second, time.Second, p), withDev(client.Deviations{KeepDADFailed: true, ReaddKept: true}))
		h.bind(a, offerNA())
		h.fire()
		Expect(h.eventsOf(history.DADFailed)).To(HaveLen(1))
		renew := func() {
			GinkgoHelper()
			r := h.nextSend()
			Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			h.deliver(a.reply(r.msg, offerNA()))
		}
		renew()
		back := h.eventsOf(history.Restored)
		Expect(back).To(HaveLen(1), "added again at the Renew's Reply")
		Expect(back[0].At).To(Equal(h.now))
		Expect(back[0].Tentative).To(BeNumerically(">=", time.Second), "a new DAD")
		l, _ := h.c.LeaseOf(addrA)
		Expect(l.DADFailed).To(BeFalse(), "tentative again")
		h.fire()
		Expect(p.calls).To(HaveLen(2))
		Expect(h.eventsOf(history.DADFailed)).To(HaveLen(2), "the holder is still there")
		l, _ = h.c.LeaseOf(addrA)
		Expect(l.DADFailed).To(BeTrue())

		delete(p.inUse, addrA) // the holder lets it go
		renew()
		Expect(h.eventsOf(history.Restored)).To(HaveLen(2))
		h.fire()
		Expect(p.calls).To(HaveLen(3))
		Expect(h.eventsOf(history.DADFailed)).To(HaveLen(2), "passed")
		l, _ = h.c.LeaseOf(addrA)
		Expect(l.DADFailed).To(BeFalse())
		Expect(l.Tentative(h.now.Add(time.Second))).To(BeFalse(), "usable")
	})

	It("§18.2.8: an address held by a host outside the population is declined with no Peer", func() {
		h := newHarness(24, withDAD(time.Second, 0, newProber(-1, "2001:db8::a")))
		h.bind(a, offerNA())
		Expect(h.eventsOf(history.Bound)[0].Tentative).To(Equal(time.Second), "no delay: DAD alone")
		h.fire()
		ev := h.eventsOf(history.Declined)
		Expect(ev).To(HaveLen(1))
		Expect(ev[0].Peer).To(BeNil())
		Expect(ev[0].At).To(Equal(h.eventsOf(history.Bound)[0].At), "probed at once")
	})

	It("§18.2.10.1: a renewed address is not tentative again", func() {
		p := newProber(3)
		h := newHarness(25, withDAD(time.Second, time.Second, p))
		h.bind(a, offerNA())
		first, _ := h.c.LeaseOf(addrA)
		r := h.nextSend()
		Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
		h.deliver(a.reply(r.msg, offerNA()))
		ren := h.eventsOf(history.Renewed)
		Expect(ren).To(HaveLen(1))
		Expect(ren[0].Tentative).To(BeZero())
		l, _ := h.c.LeaseOf(addrA)
		Expect(l.UsableAt).To(Equal(first.UsableAt))
		Expect(l.Tentative(h.now)).To(BeFalse())
		Expect(p.calls).To(HaveLen(1), "one probe, at the binding")
	})

	It("§18.2.10.1: a new address in a Rebind's Reply is tentative on its Renumbered event", func() {
		h := newHarness(26, withDAD(time.Second, time.Second, newProber(3)))
		h.bind(a, offerNA())
		Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
		h.deliver(b.reply(h.last(), ianaOpt(100*sec, 160*sec,
			addrOpt("2001:db8::a", 0, 0), addrOpt("2001:db8:1::b", 200*sec, 300*sec))))
		rn := h.eventsOf(history.Renumbered)
		Expect(rn).To(HaveLen(1))
		Expect(rn[0].Tentative).To(BeNumerically(">=", time.Second))
		Expect(rn[0].Tentative).To(BeNumerically("<", 2*time.Second))
	})

	It("never makes a delegated prefix tentative", func() {
		p := newProber(3, "2001:db8:100::")
		h := newHarness(27, withPD, withDAD(time.Second, time.Second, p))
		pd := iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:100::/56", 200*sec, 300*sec))
		h.start()
		sol := h.nextSend()
		h.deliver(a.advertise(sol.msg, 255, offerNA(), pd))
		h.deliver(a.reply(h.last(), offerNA(), pd))
		for _, e := range h.eventsOf(history.Bound) {
			if e.IA == history.IAPD {
				Expect(e.Tentative).To(BeZero())
			} else {
				Expect(e.Tentative).To(BeNumerically(">=", time.Second))
			}
		}
		l, ok := h.leaseOf(netip.MustParsePrefix("2001:db8:100::/56"))
		Expect(ok).To(BeTrue())
		Expect(l.ProbeAt.IsZero()).To(BeTrue())
		Expect(l.Tentative(h.now)).To(BeFalse())
		h.advance(50 * sec)
		Expect(p.calls).To(Equal([]probeCall{{7, addrA}}))
		Expect(h.eventsOf(history.Declined)).To(BeEmpty())
	})

	It("draws the delays from the client's own source: the same seed gives the same, others differ", func() {
		tentative := func(seed uint64) time.Duration {
			h := newHarness(seed, withDAD(time.Second, time.Second, nil))
			h.bind(a, offerNA())
			return h.eventsOf(history.Bound)[0].Tentative
		}
		Expect(tentative(5)).To(Equal(tentative(5)))
		seen := map[time.Duration]bool{}
		for seed := range uint64(20) {
			d := tentative(seed)
			Expect(d).To(BeNumerically(">=", time.Second))
			Expect(d).To(BeNumerically("<", 2*time.Second))
			seen[d] = true
		}
		Expect(len(seen)).To(BeNumerically(">", 15))
	})

	It("without a Prober models the tentative time only: no probe timer", func() {
		h := newHarness(28, withDAD(time.Second, time.Second, nil))
		h.bind(a, offerNA())
		l, _ := h.c.LeaseOf(addrA)
		Expect(l.Tentative(h.now)).To(BeTrue())
		Expect(l.ProbeAt.IsZero()).To(BeTrue())
		Expect(h.timer.Sub(h.now)).To(Equal(100 * sec))
	})

	It("§18.2.8: queues the Decline while a Request runs and sends it when the Request ends", func() {
		// NA+PD; B answers the Rebind with a new address for the NA and
		// NoBinding for the PD: the client Requests from B, and the new
		// address's probe fails meanwhile.
		p := newProber(4, "2001:db8:1::b")
		h := newHarness(29, withPD, withDAD(time.Second, 0, p))
		pd := func() *dhcpv6.OptIAPD {
			return iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:100::/56", 200*sec, 300*sec))
		}
		h.start()
		sol := h.nextSend()
		h.deliver(a.advertise(sol.msg, 255, offerNA(), pd()))
		h.deliver(a.reply(h.last(), offerNA(), pd()))
		h.fire() // the probe of 2001:db8::a: free
		Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
		h.deliver(b.reply(h.last(),
			ianaOpt(100*sec, 160*sec, addrOpt("2001:db8::a", 0, 0), addrOpt("2001:db8:1::b", 200*sec, 300*sec)),
			iapdOpt(0, 0, statusOpt(iana.StatusNoBinding))))
		Expect(h.c.State()).To(Equal(client.Requesting))
		req := h.last()
		Expect(serverIDHex(req)).To(Equal(b.hex()))
		Expect(h.eventsOf(history.NoBinding)).To(HaveLen(1))
		Expect(h.timer).To(Equal(h.now), "the probe is due at once")
		h.fire()
		dec := h.eventsOf(history.Declined)
		Expect(dec).To(HaveLen(1))
		Expect(dec[0].Cause).To(Equal(history.CauseDAD))
		Expect(*dec[0].Peer).To(Equal(4))
		Expect(h.c.State()).To(Equal(client.Requesting), "the Request goes on")
		Expect(h.sendsOf(dhcpv6.MessageTypeDecline)).To(BeEmpty())
		// B's Reply to the Request reinstates the PD; the NA has nothing.
		h.deliver(b.reply(req, ianaOpt(0, 0, statusOpt(iana.StatusNoAddrsAvail)), pd()))
		Expect(h.eventsOf(history.Renewed)).To(HaveLen(1))
		d := h.last()
		Expect(d.MessageType).To(Equal(dhcpv6.MessageTypeDecline))
		Expect(serverIDHex(d)).To(Equal(b.hex()))
		Expect(naAddrs(d)).To(Equal([]string{"2001:db8:1::b"}))
		h.deliver(b.reply(d, statusOpt(iana.StatusSuccess)))
		Expect(h.c.State()).To(Equal(client.Bound), "goes on with the PD")
		Expect(h.c.Leases()).To(HaveLen(1))
	})

	It("§18.2.8: declines to the server that granted the address, not the one Renews go to", func() {
		// A granted the binding; during a Rebind, B gives a new address
		// while the PD is still missing, so the client's server stays A.
		p := newProber(5, "2001:db8:1::b")
		h := newHarness(30, withPD, withDAD(time.Second, 0, p))
		pd := iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:100::/56", 200*sec, 300*sec))
		h.start()
		sol := h.nextSend()
		h.deliver(a.advertise(sol.msg, 255, offerNA(), pd))
		h.deliver(a.reply(h.last(), offerNA(), pd))
		h.fire()
		Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
		// B gives a new address; the PD is missing: the Rebind goes on.
		h.deliver(b.reply(h.last(), ianaOpt(100*sec, 160*sec, addrOpt("2001:db8::a", 0, 0), addrOpt("2001:db8:1::b", 200*sec, 300*sec))))
		Expect(h.c.Server()).To(Equal(a.hex()), "the binding's server is unchanged while the Rebind goes on")
		h.fire() // the probe: in use; the Rebind is still for the PD
		Expect(h.eventsOf(history.Declined)).To(HaveLen(1))
		Expect(h.c.State()).To(Equal(client.Rebinding))
		re := h.nextSend()
		Expect(re.msg.MessageType).To(Equal(dhcpv6.MessageTypeRebind))
		Expect(naAddrs(re.msg)).To(BeEmpty(), "retransmissions no longer carry the declined address")
		Expect(h.sendsOf(dhcpv6.MessageTypeDecline)).To(BeEmpty(), "the Decline waits for the Rebind")
		h.deliver(b.reply(re.msg, pd))
		d := h.last()
		Expect(d.MessageType).To(Equal(dhcpv6.MessageTypeDecline))
		Expect(serverIDHex(d)).To(Equal(b.hex()))
	})
})
