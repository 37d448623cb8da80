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

func addr128(s string) netip.Prefix { return netip.MustParsePrefix(s + "/128") }

var _ = Describe("Failover behaviour (RFC 9915)", func() {
	var a, b, c *server
	BeforeEach(func() { a, b, c = newServer(1), newServer(2), newServer(3) })

	Describe("NoBinding to Renew or Rebind (§18.2.10.1)", func() {
		var (
			h     *harness
			bound time.Time
			rb    *dhcpv6.Message
		)
		// Valid lifetimes well past T2 + a whole Request exchange.
		held := func() *dhcpv6.OptIANA { return na("2001:db8::a", 100*sec, 160*sec, 1000*sec, 2000*sec) }
		BeforeEach(func() {
			h = newHarness(11)
			h.bind(a, held())
			bound = h.now
			Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
			rb = h.last()
			h.deliver(b.reply(rb, ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
		})

		It("§18.2.10.1: NoBinding to Rebind: the Request goes to the answering server while the lease is kept", func() {
			Expect(h.c.State()).To(Equal(client.Requesting))
			req := h.last()
			Expect(req.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(serverIDHex(req)).To(Equal(b.hex()))
			Expect(h.c.Server()).To(Equal(b.hex()))
			Expect(naAddrs(req)).To(Equal([]string{"2001:db8::a"}))
			ev := h.eventsOf(history.NoBinding)
			Expect(ev).To(HaveLen(1))
			Expect(ev[0].Lease).To(Equal(addr128("2001:db8::a")))
			Expect(ev[0].Server).To(Equal(b.hex()))
			Expect(h.eventsOf(history.Refused)).To(BeEmpty())
			Expect(h.sendsOf(dhcpv6.MessageTypeSolicit)).To(HaveLen(1), "only the first")
		})

		It("§18.2.10.1: a new address in the Reply to that Request is Renumbered with the old lease kept until it expires", func() {
			h.deliver(b.reply(h.last(), na("2001:db8:1::b", 100*sec, 160*sec, 1000*sec, 2000*sec)))
			Expect(h.c.State()).To(Equal(client.Bound))
			Expect(h.c.Server()).To(Equal(b.hex()))
			rn := h.eventsOf(history.Renumbered)
			Expect(rn).To(HaveLen(1))
			Expect(rn[0].Lease).To(Equal(addr128("2001:db8:1::b")))
			Expect(rn[0].Old).To(Equal(addr128("2001:db8::a")))
			Expect(rn[0].Cause).To(Equal(history.CauseOldKept))
			Expect(rn[0].Server).To(Equal(b.hex()))
			Expect(h.eventsOf(history.Bound)).To(HaveLen(1), "only the first binding")
			Expect(h.c.Leases()).To(HaveLen(2), "§18.2.10.1: leave unchanged what the Reply does not include")
			// The old lease ends with its own valid lifetime.
			h.until(func() bool { return len(h.eventsOf(history.Expired)) > 0 }, 1000)
			ex := h.eventsOf(history.Expired)
			Expect(ex).To(HaveLen(1))
			Expect(ex[0].Lease).To(Equal(addr128("2001:db8::a")))
			Expect(ex[0].At).To(Equal(bound.Add(2000 * sec)))
		})

		It("§18.2.10.1: the same address in the Reply to that Request is Renewed", func() {
			h.deliver(b.reply(h.last(), held()))
			Expect(h.c.State()).To(Equal(client.Bound))
			rn := h.eventsOf(history.Renewed)
			Expect(rn).To(HaveLen(1))
			Expect(rn[0].Lease).To(Equal(addr128("2001:db8::a")))
			Expect(rn[0].Server).To(Equal(b.hex()))
			Expect(h.eventsOf(history.Renumbered)).To(BeEmpty())
			Expect(h.c.Leases()).To(HaveLen(1))
		})

		It("§18.2.10.1: when that Request fails the client goes on with its lease, rebinds (rate-limited), and solicits once it expires", func() {
			Expect(h.until(func() bool { return len(h.eventsOf(history.GaveUp)) > 0 }, 100)).To(BeTrue())
			Expect(h.eventsOf(history.GaveUp)[0].Detail).To(Equal("request"))
			Expect(h.sendsOf(dhcpv6.MessageTypeRequest)).To(HaveLen(1 + client.ReqMaxRC))
			gaveUp := h.now
			Expect(h.c.Leases()).To(HaveLen(1))
			Expect(h.c.State()).To(Equal(client.Bound))
			next := h.nextSend()
			Expect(next.msg.MessageType).To(Equal(dhcpv6.MessageTypeRebind), "T2 has passed")
			Expect(next.at.Sub(gaveUp)).To(Equal(client.RenTimeout), "not at once: rate-limited")
			h.until(func() bool { return h.c.State() == client.Soliciting }, 1000)
			ex := h.eventsOf(history.Expired)
			Expect(ex).To(HaveLen(1))
			Expect(ex[0].At).To(Equal(bound.Add(2000 * sec)))
		})
	})

	It("§18.2.10.1: NoBinding to Renew sends a Request to the answering server", func() {
		h := newHarness(12)
		h.bind(a, offerNA())
		r := h.nextSend()
		Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
		h.deliver(a.reply(r.msg, ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
		Expect(h.eventsOf(history.NoBinding)).To(HaveLen(1))
		Expect(h.c.State()).To(Equal(client.Requesting))
		Expect(serverIDHex(h.last())).To(Equal(a.hex()))
		Expect(h.c.Leases()).To(HaveLen(1))
	})

	It("§18.2.10.1: a Request that reinstates the binding after NoBinding keeps the Reply's T1 (no rate limit)", func() {
		h := newHarness(19)
		h.bind(a, offerNA())
		r := h.nextSend()
		h.deliver(a.reply(r.msg, ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
		h.deliver(a.reply(h.last(), na("2001:db8::a", 2*sec, 3*sec, 4*sec, 6*sec)))
		Expect(h.c.State()).To(Equal(client.Bound))
		reinstated := h.now
		next := h.nextSend()
		Expect(next.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
		Expect(next.at.Sub(reinstated)).To(Equal(2 * sec))
	})

	It("§18.2.10.1: a Renew Reply with a new address and without the old one renumbers with the old lease kept", func() {
		h := newHarness(13)
		h.bind(a, offerNA())
		r := h.nextSend()
		h.deliver(a.reply(r.msg, na("2001:db8::c", 100*sec, 160*sec, 200*sec, 300*sec)))
		rn := h.eventsOf(history.Renumbered)
		Expect(rn).To(HaveLen(1))
		Expect(rn[0].Old).To(Equal(addr128("2001:db8::a")))
		Expect(rn[0].Cause).To(Equal(history.CauseOldKept))
		Expect(h.c.Leases()).To(HaveLen(2))
	})

	It("§18.2.5: the Rebind's end follows the leases: an NA+PD client whose PD was extended never expires it with the NA", func() {
		h := newHarness(14, withPD)
		naOpt := na("2001:db8::a", 100*sec, 160*sec, 200*sec, 300*sec)
		pdOpt := iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:100::/56", 200*sec, 300*sec))
		h.start()
		sol := h.nextSend()
		h.deliver(a.advertise(sol.msg, 255, naOpt, pdOpt))
		h.deliver(a.reply(h.last(), naOpt, pdOpt))
		bound := h.now
		Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
		Expect(h.now.Sub(bound)).To(Equal(160 * sec))
		// B extends the PD only: the NA is missing, the Rebind goes on.
		h.deliver(b.reply(h.last(), iapdOpt(200*sec, 320*sec, prefixOpt("2001:db8:100::/56", 400*sec, 600*sec))))
		Expect(h.eventsOf(history.Rebound)).To(HaveLen(1))
		Expect(h.c.State()).To(Equal(client.Rebinding))
		pdUntil := h.now.Add(600 * sec)
		nrb := len(h.sendsOf(dhcpv6.MessageTypeRebind))
		// The NA expires at bound+300; the PD does not.
		h.until(func() bool { return len(h.eventsOf(history.Expired)) > 0 }, 100)
		Expect(len(h.sendsOf(dhcpv6.MessageTypeRebind))).To(BeNumerically(">", nrb), "the Rebind went on for the NA")
		ex := h.eventsOf(history.Expired)
		Expect(ex).To(HaveLen(1))
		Expect(ex[0].IA).To(Equal(history.IANA))
		Expect(ex[0].At).To(Equal(bound.Add(300 * sec)))
		Expect(h.c.Leases()).To(HaveLen(1))
		Expect(h.c.Leases()[0].Prefix).To(Equal(netip.MustParsePrefix("2001:db8:100::/56")))
		Expect(h.c.Leases()[0].Until).To(Equal(pdUntil))
		Expect(h.c.State()).To(Equal(client.Bound), "nothing left to rebind")
		// The PD is renewed at its own T1 and never marked expired early.
		r := h.nextSend()
		Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
		Expect(r.at).To(Equal(bound.Add((160 + 200) * sec)))
		Expect(naAddrs(r.msg)).To(BeEmpty())
		Expect(pdPrefixes(r.msg)).To(Equal([]string{"2001:db8:100::/56"}))
		h.until(func() bool { return len(h.eventsOf(history.Expired)) > 1 || h.now.After(pdUntil) }, 1000)
		for _, e := range h.eventsOf(history.Expired) {
			if e.IA == history.IAPD {
				Expect(e.At).To(Equal(pdUntil), "a PD expires at its own valid lifetime")
			}
		}
	})

	It("§18.2.9: takes an Advertise with NoAddrsAvail that still carries prefixes (NA+PD client)", func() {
		h := newHarness(15, withPD)
		h.start()
		sol := h.nextSend()
		pdOpt := iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:200::/56", 200*sec, 300*sec))
		h.deliver(a.advertise(sol.msg, 255, statusOpt(iana.StatusNoAddrsAvail),
			ianaOpt(0, 0, statusOpt(iana.StatusNoAddrsAvail)), pdOpt))
		Expect(h.c.Drops()[client.DropNoAddrs]).To(BeZero())
		Expect(h.eventsOf(history.Advertised)).To(HaveLen(1))
		req := h.last()
		Expect(req.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
		Expect(serverIDHex(req)).To(Equal(a.hex()))
		Expect(pdPrefixes(req)).To(Equal([]string{"2001:db8:200::/56"}))
		Expect(naAddrs(req)).To(BeEmpty())
		h.deliver(a.reply(req, ianaOpt(0, 0, statusOpt(iana.StatusNoAddrsAvail)), pdOpt))
		Expect(h.c.State()).To(Equal(client.Bound))
		bound := h.eventsOf(history.Bound)
		Expect(bound).To(HaveLen(1))
		Expect(bound[0].IA).To(Equal(history.IAPD))
	})

	Describe("§18.2.9: another stored Advertise when the chosen server does not answer", func() {
		It("§18.2.9: after the Request to the preferred server fails, Requests from the next one with its Server ID and binds", func() {
			h := newHarness(16)
			h.start()
			sol := h.nextSend()
			h.deliver(a.advertise(sol.msg, 10, offerNA()))
			h.deliver(b.advertise(sol.msg, 5, na("2001:db8::b", 100*sec, 160*sec, 200*sec, 300*sec)))
			first := h.nextSend()
			Expect(first.msg.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(serverIDHex(first.msg)).To(Equal(a.hex()))
			// A never answers.
			Expect(h.until(func() bool { return serverIDHex(h.last()) == b.hex() }, 100)).To(BeTrue())
			reqs := h.sendsOf(dhcpv6.MessageTypeRequest)
			Expect(reqs).To(HaveLen(client.ReqMaxRC + 1))
			for _, r := range reqs[:client.ReqMaxRC] {
				Expect(serverIDHex(r.msg)).To(Equal(a.hex()))
			}
			alt := reqs[client.ReqMaxRC]
			Expect(alt.msg.TransactionID).NotTo(Equal(first.msg.TransactionID), "§15: a new exchange")
			Expect(alt.msg.Options.ElapsedTime()).To(BeZero())
			Expect(naAddrs(alt.msg)).To(Equal([]string{"2001:db8::b"}), "the second server's leases as hints")
			Expect(h.sendsOf(dhcpv6.MessageTypeSolicit)).To(HaveLen(1), "no new Solicit")
			Expect(h.eventsOf(history.GaveUp)).To(HaveLen(1))
			h.deliver(b.reply(alt.msg, na("2001:db8::b", 100*sec, 160*sec, 200*sec, 300*sec)))
			Expect(h.c.State()).To(Equal(client.Bound))
			Expect(h.c.Server()).To(Equal(b.hex()))
			Expect(h.c.Leases()[0].Prefix).To(Equal(addr128("2001:db8::b")))
		})

		It("§18.2.9, §18.2.1: tries them by preference then arrival, then solicits when none is left", func() {
			h := newHarness(17)
			h.start()
			sol := h.nextSend()
			h.deliver(b.advertise(sol.msg, 5, na("2001:db8::b", 0, 0, 200*sec, 300*sec)))
			h.deliver(a.advertise(sol.msg, 10, offerNA()))
			h.deliver(c.advertise(sol.msg, 5, na("2001:db8::c", 0, 0, 200*sec, 300*sec)))
			h.deliver(b.advertise(sol.msg, 5, na("2001:db8::b", 0, 0, 200*sec, 300*sec))) // the same server again
			Expect(h.until(func() bool { return len(h.sendsOf(dhcpv6.MessageTypeSolicit)) > 1 }, 200)).To(BeTrue())
			var order []string
			for _, r := range h.sendsOf(dhcpv6.MessageTypeRequest) {
				if s := serverIDHex(r.msg); len(order) == 0 || order[len(order)-1] != s {
					order = append(order, s)
				}
			}
			Expect(order).To(Equal([]string{a.hex(), b.hex(), c.hex()}))
			Expect(h.eventsOf(history.GaveUp)).To(HaveLen(3))
			Expect(h.c.State()).To(Equal(client.Soliciting))
		})
	})

	DescribeTable("§14.2, §21.4, §21.21: a non-zero T1 or T2 is the server's, only a 0 is the client's to choose",
		func(t1, t2, wantT1, wantT2 time.Duration) {
			h := newHarness(18)
			h.bind(a, na("2001:db8::a", t1, t2, 100*sec, 300*sec))
			bound := h.now
			e := h.eventsOf(history.Bound)[0]
			Expect(e.T1).To(Equal(wantT1))
			Expect(e.T2).To(Equal(wantT2))
			r := h.nextSend()
			Expect(r.at.Sub(bound)).To(Equal(wantT1))
			if wantT1 == wantT2 {
				// §18.2.4: T2 has come as well: straight to Rebind.
				Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRebind))
				return
			}
			Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
			Expect(h.now.Sub(bound)).To(Equal(wantT2))
		},
		Entry("T1 0, T2 given below 0.5 x preferred: T1 comes down to T2", time.Duration(0), 40*sec, 40*sec, 40*sec),
		Entry("T1 0, T2 given above 0.5 x preferred: T1 chosen", time.Duration(0), 70*sec, 50*sec, 70*sec),
		Entry("T1 given, T2 0 and 0.8 x preferred above: T2 chosen", 60*sec, time.Duration(0), 60*sec, 80*sec),
		Entry("T1 given above 0.8 x preferred, T2 0: T2 goes up to T1", 90*sec, time.Duration(0), 90*sec, 90*sec),
	)

	Describe("T1/T2 jitter (a client choice; §14.2)", func() {
		// t1t2 binds one client and returns the instants, after the
		// Reply, of its first Renew (T1) and its first Rebind (T2).
		t1t2 := func(seed uint64, j float64) (time.Duration, time.Duration) {
			h := newHarness(seed, withJitter(j))
			h.bind(a, offerNA())
			bound := h.now
			r := h.nextSend()
			Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
			return r.at.Sub(bound), h.now.Sub(bound)
		}

		It("spreads T1 and T2 within ±Jitter, T1 never after T2", func() {
			seen := map[time.Duration]bool{}
			below, above := 0, 0
			for seed := range uint64(200) {
				t1, t2 := t1t2(seed, 0.1)
				Expect(t1).To(BeNumerically(">=", 90*sec))
				Expect(t1).To(BeNumerically("<=", 110*sec))
				Expect(t2).To(BeNumerically(">=", 144*sec))
				Expect(t2).To(BeNumerically("<=", 176*sec))
				Expect(t1).To(BeNumerically("<=", t2))
				seen[t1] = true
				if t1 < 100*sec {
					below++
				} else if t1 > 100*sec {
					above++
				}
			}
			Expect(len(seen)).To(BeNumerically(">", 150), "not all equal")
			Expect(below).To(BeNumerically(">", 60))
			Expect(above).To(BeNumerically(">", 60))
		})

		It("keeps T2 before the shortest valid lifetime ends", func() {
			for seed := range uint64(100) {
				h := newHarness(seed, withJitter(0.5))
				h.bind(a, na("2001:db8::a", 50*sec, 95*sec, 100*sec, 100*sec))
				bound := h.now
				Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
				Expect(h.now.Sub(bound)).To(BeNumerically("<", 100*sec))
			}
		})

		It("is exact with Jitter 0", func() {
			for seed := range uint64(20) {
				t1, t2 := t1t2(seed, 0)
				Expect(t1).To(Equal(100 * sec))
				Expect(t2).To(Equal(160 * sec))
			}
		})

		It("draws from the client's own source: the same seed gives the same instants", func() {
			t1, t2 := t1t2(42, 0.1)
			u1, u2 := t1t2(42, 0.1)
			Expect(u1).To(Equal(t1))
			Expect(u2).To(Equal(t2))
		})
	})
})

func offerNA() *dhcpv6.OptIANA { return na("2001:db8::a", 100*sec, 160*sec, 200*sec, 300*sec) }
