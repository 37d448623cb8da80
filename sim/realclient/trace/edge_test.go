package trace_test

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
	"d6lab/sim/realclient/trace"
)

// kinds lists the events' kinds.
func kinds(evs []history.Event) []history.Kind {
	var out []history.Kind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

// only returns the events of kind k.
func only(evs []history.Event, k history.Kind) []history.Event {
	var out []history.Event
	for _, e := range evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// change is an address log line, at seconds after t0.
func change(s float64, p netip.Prefix, flags ...string) trace.AddrChange {
	c := trace.AddrChange{At: at(s), Prefix: p}
	for _, f := range flags {
		switch f {
		case "deleted":
			c.Deleted = true
		case "tentative":
			c.Tentative = true
		case "dadfailed":
			c.DADFailed = true
		case "deprecated":
			c.Deprecated = true
		default:
			Fail("unknown flag " + f)
		}
	}
	return c
}

var _ = Describe("Translate on hand-built frames", func() {
	It("binds: solicited, advertised with the preference, bound with the lease, IAID, lifetimes and both DUIDs", func() {
		evs, st := trace.Translate(client0, bindFrames(), nil)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound}))
		Expect(evs[0]).To(Equal(history.Event{At: at(0), Kind: history.Solicited, Client: 4, DUID: clientHex}))
		Expect(evs[1]).To(Equal(history.Event{At: at(0.002), Kind: history.Advertised, Client: 4, DUID: clientHex, Server: serverHex["a"], Detail: "preference=255"}))
		Expect(evs[2]).To(Equal(history.Event{
			At: at(0.010), Kind: history.Bound, Client: 4, DUID: clientHex, Server: serverHex["a"],
			IA: history.IANA, IAID: 1, Lease: addrA, T1: 2 * second, T2: 3 * second, Preferred: 5 * second, Valid: 8 * second,
		}))
		By("no address log: the address never showed up, Tentative unset and counted")
		Expect(st.Unconfigured).To(Equal(1))
		Expect([]int{st.Frames, st.Sent, st.Received}).To(Equal([]int{4, 2, 2}))
	})

	It("emits one solicited per Solicit exchange, not per retransmission", func() {
		frames := []trace.Frame{
			sent(at(0), cmsg(dhcpv6.MessageTypeSolicit, xidSolicit, "", ianaOpt(0, 0, nil))),
			sent(at(1.1), msg(dhcpv6.MessageTypeSolicit, xidSolicit, clientDUID, "", dhcpv6.OptElapsedTime(1100*time.Millisecond), ianaOpt(0, 0, nil))),
			sent(at(3.3), msg(dhcpv6.MessageTypeSolicit, xidSolicit, clientDUID, "", dhcpv6.OptElapsedTime(3300*time.Millisecond), ianaOpt(0, 0, nil))),
			sent(at(40), cmsg(dhcpv6.MessageTypeSolicit, xidSolicit2, "", ianaOpt(0, 0, nil))),
		}
		evs, _ := trace.Translate(client0, frames, nil)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Solicited}))
		Expect(evs[0].At).To(Equal(at(0)))
		Expect(evs[1].At).To(Equal(at(40)))
		msgs, _ := trace.Messages(client0, frames)
		Expect(msgs).To(HaveLen(4))
		Expect(msgs[2].HasElapsed).To(BeTrue())
		Expect(msgs[2].Elapsed).To(Equal(3300 * time.Millisecond))
	})

	It("ignores another client's messages: its multicast, and a Reply with its Client ID", func() {
		frames := bindFrames()
		frames = append(frames,
			// another client's Solicit, seen on the client's veth
			frameOf(at(0.001), otherMAC, multicastMAC, otherLL, allServers, 546, 547,
				msg(dhcpv6.MessageTypeSolicit, xidSolicit, otherDUID, "", ianaOpt(0, 0, nil)).ToBytes()),
			// a Reply to the other client, to the other client's MAC
			frameOf(at(0.011), srvMAC["a"], otherMAC, serverLL["a"], otherLL, 547, 546,
				msg(dhcpv6.MessageTypeReply, xidRequest, otherDUID, "a", ianaOpt(2, 3, nil, lease(addrB, 5, 8))).ToBytes()),
			// a Reply with the other client's Client ID sent to this client
			// (same transaction ID as the running exchange): not its own
			recv(at(0.012), "a", msg(dhcpv6.MessageTypeReply, xidRequest, otherDUID, "a", ianaOpt(2, 3, nil, lease(addrB, 5, 8)))),
		)
		evs, st := trace.Translate(client0, frames, nil)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound}))
		Expect(evs[2].Lease).To(Equal(addrA))
		Expect(st.Foreign).To(Equal(2))
		Expect(st.OtherClient).To(Equal(1))
	})

	It("counts truncated, malformed and foreign frames and never panics", func() {
		good := bindFrames()
		whole := good[3].Data
		frames := []trace.Frame{
			{At: at(0.5), Data: whole[:len(whole)/2]},          // truncated mid-message
			{At: at(0.5), Data: whole[:20]},                    // truncated mid-IPv6 header
			{At: at(0.5), Data: nil},                           // empty
			{At: at(0.5), Data: bytes.Repeat([]byte{0xff}, 9)}, // garbage
			frameOf(at(0.5), srvMAC["a"], clientMAC, serverLL["a"], clientLL, 547, 546, []byte{byte(dhcpv6.MessageTypeReply), 1, 2}),          // cut DHCPv6 header
			frameOf(at(0.5), srvMAC["a"], clientMAC, serverLL["a"], clientLL, 547, 546, []byte{byte(dhcpv6.MessageTypeReply), 2, 2, 2, 0, 1}), // cut option
			frameOf(at(0.5), srvMAC["a"], clientMAC, serverLL["a"], clientLL, 53, 53, []byte("dns")),                                          // not DHCPv6
			frameOf(at(0.5), srvMAC["a"], clientMAC, serverLL["a"], clientLL, 547, 547,
				(&dhcpv6.RelayMessage{MessageType: dhcpv6.MessageTypeRelayReply, LinkAddr: clientLL.AsSlice(), PeerAddr: clientLL.AsSlice()}).ToBytes()),
			// a Reply the client "sent": wrong direction
			frameOf(at(0.5), clientMAC, srvMAC["a"], clientLL, serverLL["a"], 546, 547, smsg(dhcpv6.MessageTypeReply, xidRequest, "a").ToBytes()),
		}
		frames = append(frames, good...)
		var evs []history.Event
		var st trace.Stats
		Expect(func() { evs, st = trace.Translate(client0, frames, nil) }).NotTo(Panic())
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound}))
		Expect(st.Frames).To(Equal(len(frames)))
		Expect(st.Malformed).To(Equal(6))
		Expect(st.NotDHCP).To(Equal(1))
		Expect(st.Relay).To(Equal(1))
		Expect(st.WrongDirection).To(Equal(1))
		Expect(st.Sent + st.Received).To(Equal(4))
	})

	It("renews, rebinds with another server and expires on the client's clock, at the address's deletion when it is close", func() {
		frames := append(bindFrames(),
			sent(at(2), cmsg(dhcpv6.MessageTypeRenew, xidRenew, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(2.01), "a", smsg(dhcpv6.MessageTypeReply, xidRenew, "a", ianaOpt(2, 3, nil, lease(addrA, 5, 8)))),
			sent(at(5), cmsg(dhcpv6.MessageTypeRebind, xidRebind, "", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(5.01), "b", smsg(dhcpv6.MessageTypeReply, xidRebind, "b", ianaOpt(0, 0, nil, lease(addrA, 4, 6)))),
			// a second Reply to the same Rebind (server a back): not taken
			recv(at(5.02), "a", smsg(dhcpv6.MessageTypeReply, xidRebind, "a", ianaOpt(2, 3, nil, lease(addrA, 50, 80)))),
			sent(at(12), cmsg(dhcpv6.MessageTypeSolicit, xidSolicit2, "", ianaOpt(0, 0, nil))),
		)
		log := []trace.AddrChange{
			change(0.02, addrA, "tentative"),
			change(1.02, addrA),
			change(11.3, addrA, "deleted"), // 5.01 + 6 = 11.01: within the slack
		}
		evs, st := trace.Translate(client0, frames, log)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound,
			history.Renewed, history.Rebound, history.Expired, history.Solicited}))
		Expect(evs[2].Tentative).To(Equal(1010 * time.Millisecond))
		Expect(evs[3].Server).To(Equal(serverHex["a"]))
		rb := evs[4]
		Expect(rb.Server).To(Equal(serverHex["b"]))
		By("T1 and T2 of 0 are 0.5 and 0.8 times the preferred lifetime, as the simulated client stamps them")
		Expect([]time.Duration{rb.T1, rb.T2, rb.Preferred, rb.Valid}).To(Equal([]time.Duration{2 * second, 3200 * time.Millisecond, 4 * second, 6 * second}))
		Expect(evs[5].At).To(Equal(at(11.3)))
		Expect(evs[5].Server).To(Equal(serverHex["b"]))
		Expect(st.Unmatched).To(Equal(1))
		Expect(st.LateRemovals).To(BeZero())

		By("a deletion far from the end of the valid lifetime: the computed instant, and the late removal counted")
		log[2] = change(15, addrA, "deleted")
		evs, st = trace.Translate(client0, frames, log)
		Expect(only(evs, history.Expired)[0].At).To(Equal(at(11.01)))
		Expect(st.LateRemovals).To(Equal(1))

		By("an observation that ends before: no expired event")
		c := client0
		c.End = at(10)
		evs, _ = trace.Translate(c, frames[:9], log)
		Expect(only(evs, history.Expired)).To(BeEmpty())
	})

	It("renumbers: Old ends at At when the Reply zeroes it, Cause kept when it leaves Old out", func() {
		frames := append(bindFrames(),
			sent(at(5), cmsg(dhcpv6.MessageTypeRebind, xidRebind, "", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(5.01), "b", smsg(dhcpv6.MessageTypeReply, xidRebind, "b", ianaOpt(2, 3, nil, lease(addrB, 5, 8), lease(addrA, 0, 0)))),
		)
		evs, _ := trace.Translate(client0, frames, nil)
		rn := only(evs, history.Renumbered)
		Expect(rn).To(HaveLen(1))
		Expect(rn[0].Lease).To(Equal(addrB))
		Expect(rn[0].Old).To(Equal(addrA))
		Expect(rn[0].Cause).To(BeEmpty())
		Expect(rn[0].Server).To(Equal(serverHex["b"]))

		frames = append(bindFrames(),
			sent(at(2), cmsg(dhcpv6.MessageTypeRenew, xidRenew, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(2.01), "a", smsg(dhcpv6.MessageTypeReply, xidRenew, "a", ianaOpt(0, 0, status(iana.StatusNoBinding)))),
			sent(at(2.02), cmsg(dhcpv6.MessageTypeRequest, xidRequest2, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(2.03), "a", smsg(dhcpv6.MessageTypeReply, xidRequest2, "a", ianaOpt(2, 3, nil, lease(addrA2, 5, 8)))),
			sent(at(4), cmsg(dhcpv6.MessageTypeRenew, dhcpv6.TransactionID{11}, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0), lease(addrA2, 0, 0)))),
			recv(at(4.01), "a", smsg(dhcpv6.MessageTypeReply, dhcpv6.TransactionID{11}, "a", ianaOpt(2, 3, nil, lease(addrA2, 5, 8), lease(addrA, 0, 0)))),
		)
		evs, _ = trace.Translate(client0, frames, nil)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound,
			history.NoBinding, history.Renumbered, history.Renewed, history.Refused}))
		Expect(evs[3].Lease).To(Equal(addrA))
		Expect(evs[3].Server).To(Equal(serverHex["a"]))
		Expect(evs[4].Lease).To(Equal(addrA2))
		Expect(evs[4].Old).To(Equal(addrA))
		Expect(evs[4].Cause).To(Equal(history.CauseOldKept))
		Expect(evs[5].Lease).To(Equal(addrA2))
		Expect(evs[6].Lease).To(Equal(addrA))
		Expect(evs[6].Cause).To(Equal(history.CauseZeroLifetime))
	})

	It("refuses with Cause nobinding only when the client drops the address after NoBinding", func() {
		frames := append(bindFrames(),
			sent(at(2), cmsg(dhcpv6.MessageTypeRenew, xidRenew, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(2.01), "a", smsg(dhcpv6.MessageTypeReply, xidRenew, "a", ianaOpt(0, 0, status(iana.StatusNoBinding)))),
			sent(at(2.5), cmsg(dhcpv6.MessageTypeSolicit, xidSolicit2, "", ianaOpt(0, 0, nil))),
		)
		log := []trace.AddrChange{change(0.02, addrA), change(2.04, addrA, "deleted")}
		evs, st := trace.Translate(client0, frames, log)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound,
			history.NoBinding, history.Refused, history.Solicited}))
		Expect(evs[4].At).To(Equal(at(2.04)))
		Expect(evs[4].Cause).To(Equal(history.CauseNoBinding))
		Expect(evs[4].Server).To(Equal(serverHex["a"]))
		Expect(st.EarlyRemovals).To(BeZero())

		By("the same removal without a negative answer: a drop, counted")
		frames = append(bindFrames(), sent(at(2.5), cmsg(dhcpv6.MessageTypeSolicit, xidSolicit2, "", ianaOpt(0, 0, nil))))
		evs, st = trace.Translate(client0, frames, log)
		Expect(only(evs, history.Refused)).To(BeEmpty())
		Expect(only(evs, history.Dropped)).To(HaveLen(1))
		Expect(only(evs, history.Dropped)[0].At).To(Equal(at(2.04)))
		Expect(st.EarlyRemovals).To(Equal(1))
	})

	It("takes a removal nothing explains for a drop, and the address's return for a restore with its DAD time", func() {
		// dhcpcd at a carrier loss: the address leaves the interface, the
		// Confirm after the carrier returns is answered, the address comes
		// back tentative; a second loss leaves it off until the end.
		frames := append(bindFrames(),
			sent(at(3), cmsg(dhcpv6.MessageTypeConfirm, xidConfirm, "", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(3.01), "a", smsg(dhcpv6.MessageTypeReply, xidConfirm, "a", status(iana.StatusSuccess))),
		)
		log := []trace.AddrChange{
			change(0.02, addrA), change(2.5, addrA, "deleted"),
			change(3.02, addrA, "tentative"), change(4.2, addrA),
			change(6, addrA, "deleted"),
		}
		c := client0
		c.End = at(7.5)
		evs, st := trace.Translate(c, frames, log)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound,
			history.Dropped, history.Confirmed, history.Restored, history.Dropped}))
		Expect(evs[3].At).To(Equal(at(2.5)))
		Expect(evs[3].Lease).To(Equal(addrA))
		Expect(evs[3].Server).To(Equal(serverHex["a"]))
		Expect(evs[5].At).To(Equal(at(3.02)))
		Expect(evs[5].Lease).To(Equal(addrA))
		Expect(evs[5].Tentative).To(Equal(at(4.2).Sub(at(3.02))))
		Expect(evs[6].At).To(Equal(at(6)))
		Expect(st.EarlyRemovals).To(Equal(2))

		By("the lease's expiry is read after the return: the deletion at its end is taken")
		log = []trace.AddrChange{
			change(0.02, addrA), change(2.5, addrA, "deleted"),
			change(3.02, addrA, "tentative"), change(4.2, addrA),
			change(8.3, addrA, "deleted"),
		}
		c.End = at(9)
		evs, st = trace.Translate(c, frames, log)
		Expect(kinds(evs)[3:]).To(Equal([]history.Kind{history.Dropped, history.Confirmed, history.Restored, history.Expired}))
		Expect(evs[6].At).To(Equal(at(8.3)))
		Expect(st.EarlyRemovals).To(Equal(1))
		Expect(st.LateRemovals).To(BeZero())

		By("a removal an extending Reply follows within a second is still a drop")
		frames = append(bindFrames(),
			sent(at(2.55), cmsg(dhcpv6.MessageTypeRenew, xidRenew, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(2.61), "a", smsg(dhcpv6.MessageTypeReply, xidRenew, "a", ianaOpt(2, 3, nil, lease(addrA, 5, 8)))),
		)
		log = []trace.AddrChange{change(0.02, addrA), change(2.5, addrA, "deleted"), change(3.02, addrA)}
		c.End = at(6)
		evs, _ = trace.Translate(c, frames, log)
		Expect(kinds(evs)[3:]).To(Equal([]history.Kind{history.Dropped, history.Renewed, history.Restored}))
		Expect(evs[3].At).To(Equal(at(2.5)))
		Expect(evs[5].At).To(Equal(at(3.02)))

		By("a removal a Release follows within a second is the Release's, not a drop")
		frames = append(bindFrames(),
			sent(at(2.6), cmsg(dhcpv6.MessageTypeRelease, xidRelease, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
		)
		log = []trace.AddrChange{change(0.02, addrA), change(2.5, addrA, "deleted")}
		evs, st = trace.Translate(c, frames, log)
		Expect(kinds(evs)[3:]).To(Equal([]history.Kind{history.Released}))
		Expect(st.EarlyRemovals).To(BeZero())
	})

	It("refuses Cause zero a held lease the Reply zeroes with nothing new", func() {
		frames := append(bindFrames(),
			sent(at(2), cmsg(dhcpv6.MessageTypeRenew, xidRenew, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(2.01), "a", smsg(dhcpv6.MessageTypeReply, xidRenew, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
		)
		evs, _ := trace.Translate(client0, frames, nil)
		Expect(evs[len(evs)-1].Kind).To(Equal(history.Refused))
		Expect(evs[len(evs)-1].Cause).To(Equal(history.CauseZeroLifetime))
		Expect(evs[len(evs)-1].At).To(Equal(at(2.01)))
	})

	It("declines with Cause dad when the kernel reported DAD failed, without a Cause otherwise", func() {
		decline := sent(at(1.2), cmsg(dhcpv6.MessageTypeDecline, xidDecline, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0))))
		frames := append(bindFrames(), decline,
			sent(at(2.2), msg(dhcpv6.MessageTypeDecline, xidDecline, clientDUID, "a", dhcpv6.OptElapsedTime(time.Second), ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(2.21), "a", smsg(dhcpv6.MessageTypeReply, xidDecline, "a", status(iana.StatusSuccess))))
		log := []trace.AddrChange{change(0.02, addrA, "tentative"), change(1.1, addrA, "deleted", "tentative", "dadfailed")}
		evs, st := trace.Translate(client0, frames, log)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound, history.Declined}))
		Expect(evs[3].Cause).To(Equal(history.CauseDAD))
		Expect(evs[3].Peer).To(BeNil())
		Expect(evs[3].Server).To(Equal(serverHex["a"]))
		Expect(evs[3].At).To(Equal(at(1.2)))
		By("the address never became usable: tentative past the Decline")
		Expect(evs[2].At.Add(evs[2].Tentative)).To(BeTemporally(">", evs[3].At))
		Expect(st.DeclinedWithoutDAD).To(BeZero())
		Expect(st.EarlyRemovals).To(BeZero())

		evs, st = trace.Translate(client0, frames, log[:1])
		Expect(only(evs, history.Declined)[0].Cause).To(BeEmpty())
		Expect(st.DeclinedWithoutDAD).To(Equal(1))

		By("a DAD failure never declined is counted")
		_, st = trace.Translate(client0, bindFrames(), log)
		Expect(st.DADNotDeclined).To(Equal(1))
	})

	It("releases each held lease listed and counts the ones the client does not hold", func() {
		frames := append(bindFrames(),
			sent(at(3), cmsg(dhcpv6.MessageTypeRelease, xidRelease, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0), lease(addrB, 0, 0)))),
			recv(at(3.01), "a", smsg(dhcpv6.MessageTypeReply, xidRelease, "a", status(iana.StatusSuccess))))
		log := []trace.AddrChange{change(0.02, addrA), change(2.99, addrA, "deleted")}
		evs, st := trace.Translate(client0, frames, log)
		rel := only(evs, history.Released)
		Expect(rel).To(HaveLen(1))
		Expect(rel[0].Lease).To(Equal(addrA))
		Expect(rel[0].At).To(Equal(at(3)))
		Expect(st.UnknownLeases).To(Equal(1))
		Expect(st.EarlyRemovals).To(BeZero(), "removed just before the Release: the release")
		Expect(st.Unmatched).To(BeZero())
	})

	It("confirms on Success; NotOnLink ends the addresses unless another server says Success", func() {
		confirm := sent(at(5), cmsg(dhcpv6.MessageTypeConfirm, xidConfirm, "", ianaOpt(0, 0, nil, lease(addrA, 0, 0))))
		nol := recv(at(5.01), "b", smsg(dhcpv6.MessageTypeReply, xidConfirm, "b", status(iana.StatusNotOnLink)))
		ok := recv(at(5.02), "a", smsg(dhcpv6.MessageTypeReply, xidConfirm, "a", status(iana.StatusSuccess)))
		c := client0
		c.End = at(6)
		evs, _ := trace.Translate(c, append(bindFrames(), confirm, nol, ok), nil)
		conf := only(evs, history.Confirmed)
		Expect(conf).To(HaveLen(1))
		Expect(conf[0].Cause).To(BeEmpty())
		Expect(conf[0].Server).To(Equal(serverHex["a"]))
		Expect(conf[0].Lease).To(Equal(addrA))

		evs, _ = trace.Translate(c, append(bindFrames(), confirm, nol,
			sent(at(5.5), cmsg(dhcpv6.MessageTypeSolicit, xidSolicit2, "", ianaOpt(0, 0, nil)))), nil)
		Expect(kinds(evs)[3:]).To(Equal([]history.Kind{history.Confirmed, history.Solicited}))
		Expect(evs[3].Cause).To(Equal(history.CauseNotOnLink))
		Expect(evs[3].At).To(Equal(at(5.01)))
		Expect(evs[3].Server).To(Equal(serverHex["b"]))
		Expect(only(evs, history.Expired)).To(BeEmpty(), "ended by NotOnLink, not expired")
	})

	It("informs a stateless client, its Information-request without a Client ID", func() {
		frames := []trace.Frame{
			sent(at(0), msg(dhcpv6.MessageTypeInformationRequest, xidInfo, nil, "", dhcpv6.OptElapsedTime(0))),
			recv(at(0.01), "a", msg(dhcpv6.MessageTypeReply, xidInfo, nil, "a", dhcpv6.OptInformationRefreshTime(3*time.Second))),
		}
		evs, st := trace.Translate(client0, frames, nil)
		Expect(evs).To(Equal([]history.Event{{At: at(0.01), Kind: history.Informed, Client: 4, Server: serverHex["a"], Detail: "refresh=10m0s"}}))
		Expect(st.OtherClient).To(BeZero())

		frames[1] = recv(at(0.01), "a", msg(dhcpv6.MessageTypeReply, xidInfo, nil, "a"))
		evs, _ = trace.Translate(client0, frames, nil)
		Expect(evs[0].Detail).To(Equal("refresh=24h0m0s"))
	})

	It("binds in a Rapid Commit exchange, and takes no Reply to a Solicit without it", func() {
		rc := &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}
		frames := []trace.Frame{
			sent(at(0), cmsg(dhcpv6.MessageTypeSolicit, xidSolicit, "", rc, ianaOpt(0, 0, nil), iapdOpt(0, 0, nil))),
			recv(at(0.01), "a", smsg(dhcpv6.MessageTypeReply, xidSolicit, "a", rc, ianaOpt(2, 3, nil, lease(addrA, 5, 8)), iapdOpt(2, 3, nil, lease(prefixA, 5, 8)))),
		}
		log := []trace.AddrChange{change(0.03, addrA)}
		evs, st := trace.Translate(client0, frames, log)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Bound, history.Bound}))
		Expect(evs[1].Tentative).To(Equal(20 * time.Millisecond))
		Expect(evs[2].IA).To(Equal(history.IAPD))
		Expect(evs[2].IAID).To(Equal(uint32(2)))
		Expect(evs[2].Lease).To(Equal(prefixA))
		Expect(evs[2].Tentative).To(BeZero(), "a delegated prefix is never tentative")
		Expect(st.Unconfigured).To(BeZero())

		frames[1] = recv(at(0.01), "a", smsg(dhcpv6.MessageTypeReply, xidSolicit, "a", ianaOpt(2, 3, nil, lease(addrA, 5, 8))))
		evs, st = trace.Translate(client0, frames, log)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited}))
		Expect(st.Unmatched).To(Equal(1))
	})

	It("leaves out IAs with T1 > T2, IAs not asked for, leases with preferred > valid, and answers to old exchanges", func() {
		frames := []trace.Frame{
			sent(at(0), cmsg(dhcpv6.MessageTypeRequest, xidRequest, "a", ianaOpt(0, 0, nil))),
			recv(at(0.01), "a", smsg(dhcpv6.MessageTypeReply, xidRequest, "a", ianaOpt(4, 3, nil, lease(addrA, 5, 8)), iapdOpt(2, 3, nil, lease(prefixA, 5, 8)))),
			sent(at(1), cmsg(dhcpv6.MessageTypeRequest, xidRequest2, "a", ianaOpt(0, 0, nil))),
			recv(at(1.01), "a", smsg(dhcpv6.MessageTypeReply, xidRequest, "a", ianaOpt(2, 3, nil, lease(addrA, 5, 8)))), // the old exchange's
			recv(at(1.02), "a", smsg(dhcpv6.MessageTypeReply, xidRequest2, "a", ianaOpt(2, 3, nil, lease(addrA, 9, 8), lease(addrA2, 5, 8)))),
		}
		evs, st := trace.Translate(client0, frames, nil)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Bound}))
		Expect(evs[0].Lease).To(Equal(addrA2))
		Expect(st.DiscardedIAs).To(Equal(2))
		Expect(st.Unmatched).To(Equal(1))
	})

	It("tells a never usable address by its DAD failure: tentative to the end of the observation at least", func() {
		log := []trace.AddrChange{change(0.02, addrA, "tentative"), change(0.3, addrA, "deleted", "tentative", "dadfailed")}
		c := client0
		c.End = at(100)
		evs, _ := trace.Translate(c, bindFrames(), log)
		Expect(evs[2].Tentative).To(Equal(at(100).Sub(at(0.010))))
		evs, _ = trace.Translate(client0, bindFrames(), log)
		Expect(evs[2].Tentative).To(Equal(8*second), "the valid lifetime when the observation is shorter")

		By("an address already usable on the interface: 0")
		evs, st := trace.Translate(client0, bindFrames(), []trace.AddrChange{change(-5, addrA)})
		Expect(evs[2].Tentative).To(BeZero())
		Expect(st.Unconfigured).To(BeZero())
	})

	It("is deterministic and takes frames in time order whatever order they come in", func() {
		frames := append(bindFrames(),
			sent(at(2), cmsg(dhcpv6.MessageTypeRenew, xidRenew, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
			recv(at(2.01), "a", smsg(dhcpv6.MessageTypeReply, xidRenew, "a", ianaOpt(2, 3, nil, lease(addrA, 5, 8)))))
		want, wantSt := trace.Translate(client0, frames, nil)
		rev := slices.Clone(frames)
		slices.Reverse(rev)
		got, gotSt := trace.Translate(client0, rev, nil)
		Expect(got).To(Equal(want))
		Expect(gotSt).To(Equal(wantSt))
	})

	It("tells sent from received by the UDP ports without a MAC, the DUID keeping other clients out", func() {
		frames := append(bindFrames(),
			frameOf(at(0.001), otherMAC, multicastMAC, otherLL, allServers, 546, 547,
				msg(dhcpv6.MessageTypeSolicit, xidSolicit2, otherDUID, "", ianaOpt(0, 0, nil)).ToBytes()))
		c := client0
		c.MAC = nil
		evs, st := trace.Translate(c, frames, nil)
		Expect(kinds(evs)).To(Equal([]history.Kind{history.Solicited, history.Advertised, history.Bound}))
		Expect(st.OtherClient).To(Equal(1))
	})

	It("gives each message's facts", func() {
		msgs, st := trace.Messages(client0, bindFrames())
		Expect(st.Sent).To(Equal(2))
		Expect(msgs).To(HaveLen(4))
		sol, adv, req, rep := msgs[0], msgs[1], msgs[2], msgs[3]
		Expect(sol.Dir).To(Equal(trace.Sent))
		Expect(sol.Type).To(Equal(dhcpv6.MessageTypeSolicit))
		Expect(sol.Dst).To(Equal(netip.AddrPortFrom(allServers, 547)))
		Expect(sol.Src).To(Equal(netip.AddrPortFrom(clientLL, 546)))
		Expect(sol.ServerID).To(BeNil())
		Expect(sol.HasElapsed).To(BeTrue())
		Expect(sol.ClientHex()).To(Equal(clientHex))
		Expect(adv.Dir).To(Equal(trace.Received))
		Expect(adv.Preference).To(Equal(255))
		Expect(adv.ServerHex()).To(Equal(serverHex["a"]))
		Expect(req.ServerHex()).To(Equal(serverHex["a"]))
		Expect(req.Preference).To(Equal(-1))
		Expect(rep.XID).To(Equal(xidRequest))
		Expect(rep.Status.Present).To(BeFalse())
		Expect(rep.IAs).To(Equal([]trace.IA{{Type: history.IANA, IAID: 1, T1: 2 * second, T2: 3 * second,
			Leases: []trace.Lease{{Prefix: addrA, Preferred: 5 * second, Valid: 8 * second}}}}))
		Expect(rep.Msg).NotTo(BeNil())
	})
})

func captureInfo(f trace.Frame) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: f.At, CaptureLength: len(f.Data), Length: len(f.Data)}
}

var _ = Describe("ReadPcap", func() {
	write := func(lt layers.LinkType, frames ...trace.Frame) []byte {
		var b bytes.Buffer
		w := pcapgo.NewWriterNanos(&b)
		Expect(w.WriteFileHeader(65535, lt)).To(Succeed())
		for _, f := range frames {
			Expect(w.WritePacket(captureInfo(f), f.Data)).To(Succeed())
		}
		return b.Bytes()
	}

	It("reads the frames with their times", func() {
		frames := bindFrames()
		got, err := trace.ReadPcapFrom(bytes.NewReader(write(layers.LinkTypeEthernet, frames...)))
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveLen(4))
		for i := range got {
			Expect(got[i].At.Equal(frames[i].At)).To(BeTrue())
			Expect(got[i].Data).To(Equal(frames[i].Data))
		}
	})

	It("refuses another link type", func() {
		_, err := trace.ReadPcapFrom(bytes.NewReader(write(layers.LinkTypeRaw, bindFrames()...)))
		Expect(errors.Is(err, trace.ErrLinkType)).To(BeTrue(), "%v", err)
	})

	It("returns the frames before a truncated last record, with the error", func() {
		b := write(layers.LinkTypeEthernet, bindFrames()...)
		got, err := trace.ReadPcapFrom(bytes.NewReader(b[:len(b)-10]))
		Expect(err).To(HaveOccurred())
		Expect(got).To(HaveLen(3))
	})

	It("names a missing file", func() {
		_, err := trace.ReadPcap("testdata/none.pcap")
		Expect(err).To(MatchError(ContainSubstring("none.pcap")))
	})
})
