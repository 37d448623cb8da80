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
	"d6lab/transport"
)

const (
	sec = time.Second
)

// expectRTNear60 lets h's client retransmit twelve times and expects the
// last RT of its messages of type t within 60 s ± 10 % (RAND, §15): a
// maximum RT of 60 s, not the default 3,600.
func expectRTNear60(h *harness, t dhcpv6.MessageType) {
	GinkgoHelper()
	for range 12 {
		h.nextSend()
	}
	ms := h.sendsOf(t)
	gap := ms[len(ms)-1].at.Sub(ms[len(ms)-2].at)
	Expect(gap).To(BeNumerically("<=", 66*sec), "the last RT, %v, is above 60 s + 10 %%", gap)
	Expect(gap).To(BeNumerically(">=", 54*sec), "the last RT, %v, is below 60 s - 10 %%", gap)
}

func na(addr string, t1, t2, pref, valid time.Duration) *dhcpv6.OptIANA {
	return ianaOpt(t1, t2, addrOpt(addr, pref, valid))
}

var _ = Describe("Client", func() {
	var (
		h      *harness
		a, b   *server
		offerA *dhcpv6.OptIANA
	)
	BeforeEach(func() {
		h = newHarness(1)
		a, b = newServer(1), newServer(2)
		offerA = na("2001:db8::a", 100*sec, 160*sec, 200*sec, 300*sec)
	})

	Describe("Solicit and server selection (§18.2.1, §18.2.9)", func() {
		var sol *sent
		BeforeEach(func() {
			h.start()
			Expect(h.sent).To(BeEmpty(), "the first Solicit waits a random delay")
			sol = h.nextSend()
			Expect(sol).NotTo(BeNil())
		})

		It("sends a well-formed Solicit to All_DHCP_Relay_Agents_and_Servers", func() {
			m := sol.msg
			Expect(m.MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
			Expect(sol.dst).To(Equal(transport.AllServersPort))
			Expect(m.Options.ClientID().ToBytes()).To(Equal(clientDUID(7)))
			Expect(m.Options.ServerID()).To(BeNil())
			Expect(m.GetOneOption(dhcpv6.OptionElapsedTime)).NotTo(BeNil())
			Expect(m.Options.ElapsedTime()).To(BeZero())
			oro := m.Options.RequestedOptions()
			Expect(oro).To(ContainElements(dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionSolMaxRT))
			Expect(oro).NotTo(ContainElement(dhcpv6.OptionPreference), "§21.7: Preference is not requested")
			Expect(m.Options.IANA()).To(HaveLen(1))
			Expect(m.Options.IANA()[0].IaId).To(Equal([4]byte{0, 0, 0, 1}))
			Expect(m.GetOneOption(dhcpv6.OptionRapidCommit)).To(BeNil())
			Expect(h.eventsOf(history.Solicited)).To(HaveLen(1))
		})

		It("requests at once from a server advertising Preference 255", func() {
			h.deliver(b.advertise(sol.msg, 255, offerA))
			req := h.last()
			Expect(req.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(h.sent[len(h.sent)-1].at).To(Equal(h.now))
			Expect(serverIDHex(req)).To(Equal(b.hex()))
			Expect(naAddrs(req)).To(Equal([]string{"2001:db8::a"}))
			Expect(req.TransactionID).NotTo(Equal(sol.msg.TransactionID), "§15: a new exchange has a new xid")
			Expect(req.Options.ElapsedTime()).To(BeZero())
			adv := h.eventsOf(history.Advertised)
			Expect(adv).To(HaveLen(1))
			Expect(adv[0].Server).To(Equal(b.hex()))
			Expect(h.c.State()).To(Equal(client.Requesting))
		})

		It("waits out the first RT and requests the highest preference", func() {
			h.deliver(a.advertise(sol.msg, 10, offerA))
			h.deliver(b.advertise(sol.msg, 20, na("2001:db8::b", 0, 0, 200*sec, 300*sec)))
			Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeSolicit), "no Request before the first RT ends")
			Expect(h.eventsOf(history.Advertised)).To(HaveLen(2))
			req := h.nextSend()
			Expect(req.msg.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(serverIDHex(req.msg)).To(Equal(b.hex()))
			Expect(naAddrs(req.msg)).To(Equal([]string{"2001:db8::b"}))
			rt := req.at.Sub(sol.at)
			Expect(rt).To(BeNumerically(">", client.SolTimeout))
			Expect(rt).To(BeNumerically("<=", client.SolTimeout*11/10))
		})

		It("keeps the first of equal preferences", func() {
			h.deliver(a.advertise(sol.msg, 10, offerA))
			h.deliver(b.advertise(sol.msg, 10, na("2001:db8::b", 0, 0, 200*sec, 300*sec)))
			req := h.nextSend()
			Expect(serverIDHex(req.msg)).To(Equal(a.hex()))
		})

		It("takes the first Advertise that comes after the first RT", func() {
			re := h.nextSend()
			Expect(re.msg.MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
			Expect(re.msg.TransactionID).To(Equal(sol.msg.TransactionID))
			h.deliver(a.advertise(re.msg, -1, offerA))
			Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(serverIDHex(h.last())).To(Equal(a.hex()))
		})

		It("ignores Advertises with NoAddrsAvail and keeps soliciting", func() {
			h.deliver(a.advertise(sol.msg, 255, statusOpt(iana.StatusNoAddrsAvail)))
			h.deliver(a.advertise(sol.msg, 255, ianaOpt(0, 0, statusOpt(iana.StatusNoAddrsAvail))))
			Expect(h.c.Drops()[client.DropNoAddrs]).To(BeEquivalentTo(2))
			Expect(h.eventsOf(history.Advertised)).To(BeEmpty())
			next := h.nextSend()
			Expect(next.msg.MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
			Expect(h.c.State()).To(Equal(client.Soliciting))
		})

		It("drops what fails validation (§16) and counts it", func() {
			wrongXID := a.advertise(sol.msg, 255, offerA)
			wrongXID.TransactionID[0] ^= 0xff
			h.deliver(wrongXID)

			otherClient := a.advertise(sol.msg, 255, offerA)
			otherClient.UpdateOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: []byte{2, 9, 9, 9, 9, 9}}))
			h.deliver(otherClient)

			noServer := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeAdvertise, TransactionID: sol.msg.TransactionID}
			noServer.AddOption(sol.msg.GetOneOption(dhcpv6.OptionClientID))
			noServer.AddOption(offerA)
			h.deliver(noServer)

			h.deliver(a.reply(sol.msg, offerA)) // a Reply to Solicit without Rapid Commit

			d := h.c.Drops()
			Expect(d[client.DropXID]).To(BeEquivalentTo(1))
			Expect(d[client.DropClientID]).To(BeEquivalentTo(1))
			Expect(d[client.DropServerID]).To(BeEquivalentTo(1))
			Expect(d[client.DropType]).To(BeEquivalentTo(1))
			Expect(h.c.State()).To(Equal(client.Soliciting))
			Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
		})

		It("obeys a SOL_MAX_RT option (§21.24)", func() {
			sm := &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionSolMaxRT, OptionData: []byte{0, 0, 0, 60}}
			h.deliver(a.advertise(sol.msg, 0, statusOpt(iana.StatusNoAddrsAvail), sm))
			expectRTNear60(h, dhcpv6.MessageTypeSolicit)
		})
	})

	Describe("Elapsed Time and transaction IDs (§21.9, §15)", func() {
		It("counts hundredths since the first transmission, capped at 0xffff", func() {
			h.start()
			for len(h.sent) < 14 {
				h.fire()
			}
			first := h.sent[0]
			for _, s := range h.sent {
				Expect(s.msg.TransactionID).To(Equal(first.msg.TransactionID))
				want := s.at.Sub(first.at).Truncate(10 * time.Millisecond)
				if want > 0xffff*10*time.Millisecond {
					want = 0xffff * 10 * time.Millisecond
				}
				Expect(s.msg.Options.ElapsedTime()).To(Equal(want))
			}
			Expect(h.last().Options.ElapsedTime()).To(Equal(0xffff*10*time.Millisecond), "after 655.35 s")
		})

		It("uses a new xid per exchange and keeps it across retransmissions", func() {
			h.bind(a, na("2001:db8::a", 10*sec, 16*sec, 20*sec, 30*sec))
			h.advance(10 * sec)
			ren := h.sendsOf(dhcpv6.MessageTypeRenew)
			Expect(ren).To(HaveLen(1))
			h.advance(5 * sec)
			ren = h.sendsOf(dhcpv6.MessageTypeRenew)
			Expect(len(ren)).To(BeNumerically(">", 0))
			seen := map[dhcpv6.TransactionID]dhcpv6.MessageType{}
			for _, s := range h.sent {
				if t, ok := seen[s.msg.TransactionID]; ok {
					Expect(t).To(Equal(s.msg.MessageType), "xid reused across exchanges")
				}
				seen[s.msg.TransactionID] = s.msg.MessageType
			}
			Expect(seen).To(HaveLen(3), "Solicit, Request, Renew")
		})
	})

	Describe("Request and binding (§18.2.2, §18.2.10)", func() {
		It("binds and reports the lease with its lifetimes", func() {
			h.bind(a, offerA)
			bound := h.eventsOf(history.Bound)
			Expect(bound).To(HaveLen(1))
			e := bound[0]
			Expect(e.Client).To(Equal(7))
			Expect(e.DUID).To(Equal(hexOf(clientDUID(7))))
			Expect(e.Server).To(Equal(a.hex()))
			Expect(e.IA).To(Equal(history.IANA))
			Expect(e.IAID).To(Equal(client.IAIDNA))
			Expect(e.Lease).To(Equal(netip.MustParsePrefix("2001:db8::a/128")))
			Expect(e.T1).To(Equal(100 * sec))
			Expect(e.T2).To(Equal(160 * sec))
			Expect(e.Preferred).To(Equal(200 * sec))
			Expect(e.Valid).To(Equal(300 * sec))
			Expect(h.c.Leases()).To(HaveLen(1))
			Expect(h.c.Server()).To(Equal(a.hex()))
		})

		It("uses 0.5 and 0.8 of the shortest preferred lifetime when T1 and T2 are 0 (§14.2)", func() {
			h.bind(a, na("2001:db8::a", 0, 0, 100*sec, 300*sec))
			e := h.eventsOf(history.Bound)[0]
			Expect(e.T1).To(Equal(50 * sec))
			Expect(e.T2).To(Equal(80 * sec))
			bound := h.now
			r := h.nextSend()
			Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			Expect(r.at.Sub(bound)).To(Equal(50 * sec))
		})

		It("binds with Rapid Commit on a Reply to Solicit", func() {
			h = newHarness(2, withRapidCommit)
			h.start()
			sol := h.nextSend()
			Expect(sol.msg.GetOneOption(dhcpv6.OptionRapidCommit)).NotTo(BeNil())
			h.deliver(a.reply(sol.msg, offerA, &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}))
			Expect(h.c.State()).To(Equal(client.Bound))
			Expect(h.eventsOf(history.Bound)).To(HaveLen(1))
			Expect(h.sendsOf(dhcpv6.MessageTypeRequest)).To(BeEmpty())
		})

		It("goes back to Solicit when the Reply has no address (NoAddrsAvail)", func() {
			h.start()
			sol := h.nextSend()
			h.deliver(a.advertise(sol.msg, 255, offerA))
			h.deliver(a.reply(h.last(), ianaOpt(0, 0, statusOpt(iana.StatusNoAddrsAvail))))
			Expect(h.c.State()).To(Equal(client.Soliciting))
			Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
		})

		It("keeps retransmitting after UnspecFail and resends to multicast after UseMulticast", func() {
			uni := netip.MustParseAddrPort("[2001:db8::547]:547")
			h = newHarness(3, withDst(uni))
			h.start()
			sol := h.nextSend()
			Expect(sol.dst).To(Equal(uni))
			h.deliver(a.advertise(sol.msg, 255, offerA))
			req := h.last()
			h.deliver(a.reply(req, statusOpt(iana.StatusUnspecFail)))
			Expect(h.c.Drops()[client.DropStatus]).To(BeEquivalentTo(1))
			Expect(h.c.State()).To(Equal(client.Requesting))
			n := len(h.sent)
			h.deliver(a.reply(req, statusOpt(iana.StatusUseMulticast)))
			Expect(h.sent).To(HaveLen(n + 1))
			again := h.sent[n]
			Expect(again.dst).To(Equal(transport.AllServersPort))
			Expect(again.msg.TransactionID).To(Equal(req.TransactionID))
		})

		It("asks for and binds an IA_PD", func() {
			h = newHarness(4, withPD)
			pd := iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:100::/56", 200*sec, 300*sec))
			h.start()
			sol := h.nextSend()
			Expect(sol.msg.Options.IAPD()).To(HaveLen(1))
			h.deliver(a.advertise(sol.msg, 255, offerA, pd))
			Expect(pdPrefixes(h.last())).To(Equal([]string{"2001:db8:100::/56"}))
			h.deliver(a.reply(h.last(), offerA, pd))
			Expect(h.c.Leases()).To(HaveLen(2))
			var pdEv history.Event
			for _, e := range h.eventsOf(history.Bound) {
				if e.IA == history.IAPD {
					pdEv = e
				}
			}
			Expect(pdEv.Lease).To(Equal(netip.MustParsePrefix("2001:db8:100::/56")))
			Expect(pdEv.IAID).To(Equal(client.IAIDPD))
		})
	})

	Describe("Renew and Rebind (§18.2.4, §18.2.5, §18.2.10.1)", func() {
		var bound time.Time
		lease := func(s string) netip.Prefix { return netip.MustParsePrefix(s + "/128") }
		BeforeEach(func() {
			h.bind(a, offerA)
			bound = h.now
		})

		It("renews at T1 with the granting server's ID, to the multicast address", func() {
			r := h.nextSend()
			Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			Expect(r.at.Sub(bound)).To(Equal(100 * sec))
			Expect(r.dst).To(Equal(transport.AllServersPort))
			Expect(serverIDHex(r.msg)).To(Equal(a.hex()))
			Expect(naAddrs(r.msg)).To(Equal([]string{"2001:db8::a"}))
			Expect(r.msg.Options.IANA()[0].Options.Addresses()[0].ValidLifetime).To(BeZero())
			h.deliver(a.reply(r.msg, offerA))
			Expect(h.c.State()).To(Equal(client.Bound))
			ren := h.eventsOf(history.Renewed)
			Expect(ren).To(HaveLen(1))
			Expect(ren[0].Lease).To(Equal(lease("2001:db8::a")))
			Expect(h.c.Leases()[0].Until).To(Equal(h.now.Add(300 * sec)))
		})

		It("rebinds at T2 without a Server ID when Renew goes unanswered", func() {
			h.until(func() bool { return h.c.State() == client.Rebinding }, 100)
			rb := h.last()
			Expect(rb.MessageType).To(Equal(dhcpv6.MessageTypeRebind))
			Expect(h.now.Sub(bound)).To(Equal(160 * sec))
			Expect(rb.Options.ServerID()).To(BeNil())
			Expect(naAddrs(rb)).To(Equal([]string{"2001:db8::a"}))
			for _, s := range h.sendsOf(dhcpv6.MessageTypeRenew) {
				Expect(s.at.Sub(bound)).To(BeNumerically("<", 160*sec))
			}
		})

		Context("when rebinding", func() {
			var rb *dhcpv6.Message
			BeforeEach(func() {
				h.until(func() bool { return h.c.State() == client.Rebinding }, 100)
				rb = h.last()
			})

			It("is extended by any server, which then gets the Renews", func() {
				h.deliver(b.reply(rb, offerA))
				ev := h.eventsOf(history.Rebound)
				Expect(ev).To(HaveLen(1))
				Expect(ev[0].Server).To(Equal(b.hex()))
				Expect(h.c.State()).To(Equal(client.Bound))
				Expect(h.c.Server()).To(Equal(b.hex()))
				r := h.nextSend()
				Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
				Expect(serverIDHex(r.msg)).To(Equal(b.hex()))
			})

			It("is renumbered by a new address with the old one at lifetime 0", func() {
				h.deliver(b.reply(rb, ianaOpt(100*sec, 160*sec,
					addrOpt("2001:db8::a", 0, 0),
					addrOpt("2001:db8:1::b", 200*sec, 300*sec))))
				ev := h.eventsOf(history.Renumbered)
				Expect(ev).To(HaveLen(1))
				Expect(ev[0].Lease).To(Equal(lease("2001:db8:1::b")))
				Expect(ev[0].Old).To(Equal(lease("2001:db8::a")))
				Expect(ev[0].Cause).To(BeEmpty(), "the old lease ends: no cause")
				Expect(h.eventsOf(history.Refused)).To(BeEmpty())
				Expect(h.c.Leases()).To(HaveLen(1))
				Expect(h.c.Leases()[0].Prefix).To(Equal(lease("2001:db8:1::b")))
				Expect(h.c.State()).To(Equal(client.Bound))
			})

			It("§18.2.10.1: keeps the lease on NoBinding and sends a Request to the answering server", func() {
				h.deliver(b.reply(rb, ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
				Expect(h.eventsOf(history.Refused)).To(BeEmpty())
				Expect(h.eventsOf(history.Expired)).To(BeEmpty())
				ev := h.eventsOf(history.NoBinding)
				Expect(ev).To(HaveLen(1))
				Expect(ev[0].Server).To(Equal(b.hex()), "the answering server")
				Expect(ev[0].Lease).To(Equal(lease("2001:db8::a")))
				Expect(ev[0].IA).To(Equal(history.IANA))
				Expect(ev[0].IAID).To(Equal(client.IAIDNA))
				Expect(h.c.State()).To(Equal(client.Requesting))
				req := h.last()
				Expect(req.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
				Expect(serverIDHex(req)).To(Equal(b.hex()))
				Expect(naAddrs(req)).To(Equal([]string{"2001:db8::a"}))
				Expect(h.c.Leases()).To(HaveLen(1), "the lease stays while valid")
			})

			It("is refused by zero lifetimes and starts over with Solicit", func() {
				h.deliver(b.reply(rb, na("2001:db8::a", 0, 0, 0, 0)))
				ev := h.eventsOf(history.Refused)
				Expect(ev).To(HaveLen(1))
				Expect(ev[0].Cause).To(Equal(history.CauseZeroLifetime))
				Expect(ev[0].Server).To(Equal(b.hex()))
				Expect(h.c.State()).To(Equal(client.Soliciting))
			})

			It("takes a lease a Reply lists twice, once at lifetime 0, as extended: no renumbering from itself", func() {
				for _, dup := range [][]dhcpv6.Option{
					{addrOpt("2001:db8::a", 0, 0), addrOpt("2001:db8::a", 200*sec, 300*sec)},
					{addrOpt("2001:db8::a", 200*sec, 300*sec), addrOpt("2001:db8::a", 0, 0)},
				} {
					h.deliver(b.reply(rb, ianaOpt(100*sec, 160*sec, dup...)))
					Expect(h.eventsOf(history.Renumbered)).To(BeEmpty())
					Expect(h.eventsOf(history.Refused)).To(BeEmpty())
					ev := h.eventsOf(history.Rebound)
					Expect(ev).NotTo(BeEmpty())
					Expect(ev[len(ev)-1].Lease).To(Equal(lease("2001:db8::a")))
					Expect(h.c.Leases()).To(HaveLen(1))
					Expect(h.c.State()).To(Equal(client.Bound))
					h.until(func() bool { return h.c.State() == client.Rebinding }, 100)
					rb = h.last()
				}
			})

			It("expires when no server answers, then solicits", func() {
				h.until(func() bool { return h.c.State() == client.Soliciting }, 100)
				ev := h.eventsOf(history.Expired)
				Expect(ev).To(HaveLen(1))
				Expect(ev[0].At).To(Equal(bound.Add(300 * sec)))
				Expect(ev[0].Lease).To(Equal(lease("2001:db8::a")))
				Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
				Expect(h.sent[len(h.sent)-1].at).To(Equal(bound.Add(300 * sec)))
				for _, s := range h.sendsOf(dhcpv6.MessageTypeRebind) {
					Expect(s.at.Before(bound.Add(300 * sec))).To(BeTrue())
				}
			})
		})

		It("sends a Request for an IA that the Renew's Reply says NoBinding", func() {
			r := h.nextSend()
			h.deliver(a.reply(r.msg, ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
			Expect(h.c.State()).To(Equal(client.Requesting))
			req := h.last()
			Expect(req.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(serverIDHex(req)).To(Equal(a.hex()))
			Expect(naAddrs(req)).To(Equal([]string{"2001:db8::a"}))
			h.deliver(a.reply(req, offerA))
			Expect(h.c.State()).To(Equal(client.Bound))
			Expect(h.eventsOf(history.Renewed)).To(HaveLen(1))
		})
	})

	Describe("Release, Decline, Confirm (§18.2.7, §18.2.8, §18.2.3)", func() {
		BeforeEach(func() { h.bind(a, offerA) })

		It("releases on stop", func() {
			h.take(h.c.Stop(h.now))
			rel := h.last()
			Expect(rel.MessageType).To(Equal(dhcpv6.MessageTypeRelease))
			Expect(serverIDHex(rel)).To(Equal(a.hex()))
			Expect(naAddrs(rel)).To(Equal([]string{"2001:db8::a"}))
			Expect(h.eventsOf(history.Released)).To(HaveLen(1))
			Expect(h.c.Leases()).To(BeEmpty(), "§18.2.7: stop using leases before releasing")
			Expect(h.c.State()).To(Equal(client.Releasing))
			h.deliver(a.reply(rel, statusOpt(iana.StatusSuccess)))
			Expect(h.c.State()).To(Equal(client.Stopped))
			Expect(h.timer.IsZero()).To(BeTrue())
			Expect(client.HoldsAside(h.c)).To(BeFalse(), "stopped: the released leases are forgotten")
		})

		It("declines a duplicate address and solicits again", func() {
			h.take(h.c.Decline(h.now, netip.MustParseAddr("2001:db8::a")))
			dec := h.last()
			Expect(dec.MessageType).To(Equal(dhcpv6.MessageTypeDecline))
			Expect(serverIDHex(dec)).To(Equal(a.hex()))
			Expect(naAddrs(dec)).To(Equal([]string{"2001:db8::a"}))
			ev := h.eventsOf(history.Declined)
			Expect(ev).To(HaveLen(1))
			Expect(ev[0].Lease).To(Equal(netip.MustParsePrefix("2001:db8::a/128")))
			h.deliver(a.reply(dec, statusOpt(iana.StatusSuccess)))
			Expect(h.c.State()).To(Equal(client.Soliciting))
			Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
		})

		It("ignores a Decline of an address it does not hold", func() {
			o := h.c.Decline(h.now, netip.MustParseAddr("2001:db8::ff"))
			Expect(o.Send).To(BeEmpty())
			Expect(h.c.State()).To(Equal(client.Bound))
		})

		It("confirms after a link change", func() {
			changed := h.now
			h.take(h.c.LinkChanged(h.now))
			c := h.nextSend()
			Expect(c.msg.MessageType).To(Equal(dhcpv6.MessageTypeConfirm))
			Expect(c.at.Sub(changed)).To(BeNumerically("<=", client.CnfMaxDelay))
			Expect(c.msg.Options.ServerID()).To(BeNil())
			Expect(naAddrs(c.msg)).To(Equal([]string{"2001:db8::a"}))
			h.deliver(b.reply(c.msg, statusOpt(iana.StatusSuccess)))
			ev := h.eventsOf(history.Confirmed)
			Expect(ev).To(HaveLen(1))
			Expect(ev[0].Cause).To(BeEmpty())
			Expect(h.c.State()).To(Equal(client.Bound))
			Expect(h.c.Leases()).To(HaveLen(1))
		})

		It("solicits when the Confirm is answered NotOnLink (and no Success comes)", func() {
			h.take(h.c.LinkChanged(h.now))
			c := h.nextSend()
			h.deliver(b.reply(c.msg, statusOpt(iana.StatusNotOnLink)))
			Expect(h.c.State()).To(Equal(client.Confirming), "waits the RT for a Success")
			h.fire()
			ev := h.eventsOf(history.Confirmed)
			Expect(ev).To(HaveLen(1))
			Expect(ev[0].Cause).To(Equal(history.CauseNotOnLink))
			Expect(h.c.State()).To(Equal(client.Soliciting))
			Expect(h.c.Leases()).To(BeEmpty())
			Expect(client.HoldsAside(h.c)).To(BeFalse(), "the NotOnLink acted on, its server is forgotten")
		})

		It("prefers a Success to a NotOnLink for the same Confirm", func() {
			h.take(h.c.LinkChanged(h.now))
			c := h.nextSend()
			h.deliver(b.reply(c.msg, statusOpt(iana.StatusNotOnLink)))
			h.deliver(a.reply(c.msg))
			Expect(h.c.State()).To(Equal(client.Bound))
			Expect(h.eventsOf(history.Confirmed)[0].Cause).To(BeEmpty())
			Expect(client.HoldsAside(h.c)).To(BeFalse(), "the NotOnLink set aside, its server is forgotten")
		})
	})

	It("rebinds with Confirm's timing after a link change when it holds a prefix (§18.2.12)", func() {
		h = newHarness(5, withPD)
		pd := iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:100::/56", 200*sec, 300*sec))
		h.start()
		sol := h.nextSend()
		h.deliver(a.advertise(sol.msg, 255, offerA, pd))
		h.deliver(a.reply(h.last(), offerA, pd))
		changed := h.now
		h.take(h.c.LinkChanged(h.now))
		rb := h.nextSend()
		Expect(rb.msg.MessageType).To(Equal(dhcpv6.MessageTypeRebind))
		Expect(rb.at.Sub(changed)).To(BeNumerically("<=", client.CnfMaxDelay))
		Expect(rb.msg.Options.ServerID()).To(BeNil())
		Expect(pdPrefixes(rb.msg)).To(Equal([]string{"2001:db8:100::/56"}))
		Expect(naAddrs(rb.msg)).To(Equal([]string{"2001:db8::a"}))
		h.until(func() bool { return h.c.State() != client.Rebinding }, 100)
		Expect(h.c.State()).To(Equal(client.Bound), "no answer: keep the leases")
		rbs := h.sendsOf(dhcpv6.MessageTypeRebind)
		Expect(rbs[len(rbs)-1].at.Sub(rbs[0].at)).To(BeNumerically("<=", client.CnfMaxRD))
		Expect(h.eventsOf(history.GaveUp)).To(HaveLen(1))
	})

	Describe("Information-request (§18.2.6, §21.23)", func() {
		BeforeEach(func() { h = newHarness(6, withoutNA) })

		It("asks for configuration and refreshes at the Information Refresh Time", func() {
			h.start()
			ir := h.nextSend()
			Expect(ir.msg.MessageType).To(Equal(dhcpv6.MessageTypeInformationRequest))
			Expect(ir.at.Sub(t0)).To(BeNumerically("<=", client.InfMaxDelay))
			Expect(ir.msg.Options.IANA()).To(BeEmpty())
			Expect(ir.msg.Options.ClientID()).NotTo(BeNil())
			Expect(ir.msg.Options.RequestedOptions()).To(ContainElements(
				dhcpv6.OptionInformationRefreshTime, dhcpv6.OptionInfMaxRT, dhcpv6.OptionDNSRecursiveNameServer))
			h.deliver(a.reply(ir.msg, dhcpv6.OptInformationRefreshTime(900*sec)))
			Expect(h.c.State()).To(Equal(client.Informed))
			Expect(h.eventsOf(history.Informed)).To(HaveLen(1))
			answered := h.now
			next := h.nextSend()
			Expect(next.msg.MessageType).To(Equal(dhcpv6.MessageTypeInformationRequest))
			Expect(next.at.Sub(answered)).To(Equal(900 * sec))
			Expect(next.msg.TransactionID).NotTo(Equal(ir.msg.TransactionID))
		})

		It("obeys an INF_MAX_RT option at its next refresh (§21.25)", func() {
			h.start()
			ir := h.nextSend()
			im := &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionInfMaxRT, OptionData: []byte{0, 0, 0, 60}}
			h.deliver(a.reply(ir.msg, dhcpv6.OptInformationRefreshTime(900*sec), im))
			Expect(h.c.State()).To(Equal(client.Informed))
			// The refresh goes unanswered: its RT doubles from INF_TIMEOUT
			// (1 s) and stops near 60 s, not INF_MAX_RT's 3,600.
			expectRTNear60(h, dhcpv6.MessageTypeInformationRequest)
		})

		DescribeTable("refresh time",
			func(opt dhcpv6.Option, ts float64, want time.Duration) {
				h = newHarness(6, withoutNA, withTimescale(ts))
				h.start()
				ir := h.nextSend()
				var opts []dhcpv6.Option
				if opt != nil {
					opts = append(opts, opt)
				}
				h.deliver(a.reply(ir.msg, opts...))
				answered := h.now
				next := h.nextSend()
				Expect(next.at.Sub(answered)).To(Equal(want))
			},
			Entry("default IRT_DEFAULT", nil, 1.0, 86400*sec),
			Entry("below IRT_MINIMUM", dhcpv6.OptInformationRefreshTime(100*sec), 1.0, 600*sec),
			Entry("scaled default", nil, 0.1, 8640*sec),
			Entry("server value not scaled", dhcpv6.OptInformationRefreshTime(700*sec), 0.1, 700*sec),
		)
	})
})
