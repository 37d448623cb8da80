package conform

import (
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	g "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// golden reads a DHCPv6 payload captured from a real server
// (testdata/<name>.bin: the UDP payload of one packet of a conform pcap).
func golden(name string) dhcpv6.DHCPv6 {
	b, err := os.ReadFile(filepath.Join("testdata", name+".bin"))
	Expect(err).NotTo(HaveOccurred())
	m, err := dhcpv6.FromBytes(b)
	Expect(err).NotTo(HaveOccurred(), name)
	return m
}

func goldenMsg(name string) *dhcpv6.Message {
	m, ok := golden(name).(*dhcpv6.Message)
	Expect(ok).To(BeTrue(), name)
	return m
}

// firstIAID is the IAID of m's first IA_NA.
func firstIAID(m *dhcpv6.Message) [4]byte {
	Expect(m.Options.IANA()).NotTo(BeEmpty())
	return m.Options.IANA()[0].IaId
}

func reply(iaid [4]byte, t1, t2 time.Duration, leases ...lease) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeReply}
	ia := &dhcpv6.OptIANA{IaId: iaid, T1: t1, T2: t2}
	for _, l := range leases {
		ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: l.prefix.Addr().AsSlice(), PreferredLifetime: l.preferred, ValidLifetime: l.valid})
	}
	m.AddOption(ia)
	return m
}

var _ = g.Describe("verdicts on decoded replies", func() {
	iaid := [4]byte{0, 0, 0, 7}
	addr := netip.MustParsePrefix("2001:db8:c0::1:5/128")
	inPool := func(p netip.Prefix) bool { return basePool.Contains(p.Addr()) }

	g.Describe("the stateful exchange", func() {
		g.It("passes an address in the pool with ordered timers", func() {
			v, d := judgeLease(naResult(reply(iaid, 100*time.Second, 160*time.Second, lease{addr, 200 * time.Second, 300 * time.Second}), iaid), inPool, "address", baseLifetimes)
			Expect(v).To(Equal(Pass))
			Expect(d).To(ContainSubstring("T1 100s T2 160s preferred 200s valid 300s"))
		})
		g.It("fails T2 above the preferred lifetime and an address outside the pool", func() {
			out := netip.MustParsePrefix("2001:db8:c0::9:1/128")
			v, d := judgeLease(naResult(reply(iaid, 100*time.Second, 250*time.Second, lease{out, 200 * time.Second, 300 * time.Second}), iaid), inPool, "address", baseLifetimes)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("T2 > preferred"))
			Expect(d).To(ContainSubstring("outside the configured pool"))
		})
		g.It("fails a Reply without the client's IA", func() {
			v, _ := judgeLease(naResult(reply([4]byte{9}, 0, 0), iaid), inPool, "address", baseLifetimes)
			Expect(v).To(Equal(Fail))
		})
	})

	g.Describe("T1 and T2 (RFC 9915 §21.4)", func() {
		g.It("passes T2 0 with T1 set (the client picks T2) and fails T1 above a non-zero T2", func() {
			v, d := judgeLease(naResult(reply(iaid, 100*time.Second, 0, lease{addr, 200 * time.Second, 300 * time.Second}), iaid), inPool, "address", baseLifetimes)
			Expect(v).To(Equal(Pass), d)
			v, d = judgeLease(naResult(reply(iaid, 170*time.Second, 160*time.Second, lease{addr, 200 * time.Second, 300 * time.Second}), iaid), inPool, "address", baseLifetimes)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("T1 > T2"))
		})
	})

	g.Describe("Server DUID across restarts", func() {
		a, b := []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 2}
		g.It("passes the same DUID three times", func() {
			v, d := judgeDUID(a, a, a, "no answer within 2s")
			Expect(v).To(Equal(Pass), d)
		})
		g.It("fails a changed DUID after either restart", func() {
			v, d := judgeDUID(a, b, a, "")
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("changed across a restart"))
			v, d = judgeDUID(a, a, b, "")
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("only the leases were removed"))
		})
		g.It("fails silence after a restart and says so, not that the DUID changed", func() {
			v, d := judgeDUID(a, nil, a, "no answer within 2s")
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("no Advertise after a restart"))
			Expect(d).To(ContainSubstring("none (no answer within 2s)"))
			Expect(d).NotTo(ContainSubstring("changed"))
		})
	})

	g.Describe("Preference", func() {
		sent := func(v uint8) prefObs { return prefObs{answered: true, present: true, value: v} }
		g.It("passes the configured values, 0 also as an absent option", func() {
			runs := []prefRun{
				{configured: 255, asked: sent(255), unasked: sent(255)},
				{configured: 0, asked: prefObs{answered: true}, unasked: sent(0)},
				{configured: 128, asked: sent(128), unasked: sent(128)},
			}
			v, _ := judgePreference(runs, false)
			Expect(v).To(Equal(Pass))
			v, d := judgePreference(runs, true)
			Expect(v).To(Equal(Pass))
			Expect(d).To(ContainSubstring("sent without being asked"))
		})
		g.It("fails when no run was made", func() {
			v, _ := judgePreference(nil, false)
			Expect(v).To(Equal(Fail))
		})
		g.It("says when the server sends it only when asked", func() {
			runs := []prefRun{{configured: 128, asked: sent(128), unasked: prefObs{answered: true}}}
			v, _ := judgePreference(runs, false)
			Expect(v).To(Equal(Pass))
			v, d := judgePreference(runs, true)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("only when the client's ORO names it"))
		})
		g.It("fails a fixed value and a malformed answer (dnsmasq 2.90)", func() {
			runs := []prefRun{{configured: 0, asked: prefObs{malformed: "8292 bytes that do not decode"}, unasked: sent(255)}}
			v, d := judgePreference(runs, false)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("malformed"))
			v, d = judgePreference(runs, true)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("configured 0 sent 255"))
		})
	})

	g.Describe("Rebind without a binding", func() {
		own := netip.MustParseAddr("2001:db8:c0::1:abcd")
		other := netip.MustParseAddr("2001:db8:c0::9:1")
		off := netip.MustParseAddr("2001:db8:c1::1")
		classify := func(name string, a netip.Addr) Behaviour {
			m := goldenMsg(name)
			b, _ := classifyRebind(m, firstIAID(m), a)
			return b
		}
		g.It("reads Kea 2.2's answers: extend in its pool, renumber otherwise", func() {
			Expect(classify("kea-2.2.0-rebind-own-pool", own)).To(Equal(Extend))
			Expect(classify("kea-2.2.0-rebind-other-pool", other)).To(Equal(Renumber))
			Expect(classify("kea-2.2.0-rebind-off-link", off)).To(Equal(Renumber))
		})
		g.It("reads dnsmasq 2.90's answers: extend on the link, zero off it", func() {
			Expect(classify("dnsmasq-2.90-rebind-own-pool", own)).To(Equal(Extend))
			Expect(classify("dnsmasq-2.90-rebind-other-pool", other)).To(Equal(Extend))
			Expect(classify("dnsmasq-2.90-rebind-off-link", off)).To(Equal(Zero))
		})
		g.It("tells NoBinding and silence", func() {
			m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeReply}
			ia := &dhcpv6.OptIANA{IaId: iaid}
			ia.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding})
			m.AddOption(ia)
			b, _ := classifyRebind(m, iaid, own)
			Expect(b).To(Equal(NoBinding))
			b, _ = classifyRebind(nil, iaid, own)
			Expect(b).To(Equal(Silent))
		})
		g.It("passes every §18.3.5 behaviour and says which models they suit", func() {
			v, d := judgeRebind(rebindCase{name: "own pool", got: Extend}, rebindCase{name: "other pool", got: Extend}, rebindCase{name: "off-link", got: Zero})
			Expect(v).To(Equal(Pass))
			Expect(d).To(ContainSubstring("identical yes"))
			Expect(d).To(ContainSubstring("split no"))
			Expect(d).To(ContainSubstring("unique yes"))
			v, d = judgeRebind(rebindCase{got: Silent}, rebindCase{got: Silent}, rebindCase{got: Silent})
			Expect(v).To(Equal(Pass))
			Expect(d).To(ContainSubstring("identical no (silent"))
		})
		g.It("fails extending an off-link address", func() {
			v, d := judgeRebind(rebindCase{got: Extend}, rebindCase{got: Extend}, rebindCase{got: Extend})
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("§18.3.5"))
		})
	})

	g.Describe("relayed messages", func() {
		cl := newClient(1015) // the client of the captured exchange
		g.It("passes Kea 2.2's two-level Relay-reply with both Interface-IDs", func() {
			v, d := judgeRelay(golden("kea-2.2.0-relay-reply-two-levels"), []string{"conform-outer", "conform-inner"}, cl)
			Expect(v).To(Equal(Pass), d)
		})
		g.It("fails when an Interface-ID is not the one sent, or a level is missing", func() {
			v, d := judgeRelay(golden("kea-2.2.0-relay-reply-two-levels"), []string{"conform-outer", "other"}, cl)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring(`want "other" echoed`))
			v, _ = judgeRelay(golden("kea-2.2.0-relay-reply-two-levels"), []string{"conform-outer", "conform-inner", "third"}, cl)
			Expect(v).To(Equal(Fail))
			v, _ = judgeRelay(golden("kea-2.2.0-relay-reply-two-levels"), []string{"conform-outer", "conform-inner"}, newClient(1))
			Expect(v).To(Equal(Fail))
		})
	})

	g.Describe("Confirm with an off-link address", func() {
		g.It("passes Kea 2.2's NotOnLink and fails silence with the timeout", func() {
			v, _ := judgeNotOnLink(goldenMsg("kea-2.2.0-confirm-notonlink"), 2*time.Second)
			Expect(v).To(Equal(Pass))
			v, d := judgeNotOnLink(nil, 2*time.Second)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("no answer within 2s"))
			v, _ = judgeNotOnLink(&dhcpv6.Message{MessageType: dhcpv6.MessageTypeReply}, 2*time.Second)
			Expect(v).To(Equal(Fail))
		})
	})
})

var _ = g.Describe("packets", func() {
	g.It("summarises a relayed answer on one line with its levels and options", func() {
		s := Summary("←", golden("kea-2.2.0-relay-reply-two-levels"), netip.MustParseAddrPort("[fe80::1%3]:547"))
		Expect(s).To(HavePrefix(`← RELAY-REPL hop 1 link :: peer 2001:db8:c0::c iface-id "conform-outer" { RELAY-REPL hop 0`))
		Expect(s).To(ContainSubstring("ADVERTISE xid"))
		Expect(s).To(ContainSubstring("IA_NA 1015 T1 100 T2 160"))
		Expect(s).To(HaveSuffix("from [fe80::1]:547"))
		Expect(s).NotTo(ContainSubstring("\n"))
	})

	g.It("encodes a Leasequery by address as RFC 5007 §4.1.2.1 lays it out", func() {
		a := netip.MustParseAddr("2001:db8:c0::1:5")
		o := lqQuery(netip.IPv6Unspecified(), a)
		b := o.ToBytes()
		Expect(o.Code()).To(Equal(dhcpv6.OptionLQQuery))
		Expect(b[0]).To(Equal(byte(1)))                 // QUERY_BY_ADDRESS
		Expect(b[1:17]).To(Equal(make([]byte, 16)))     // link-address ::
		Expect(b[17:21]).To(Equal([]byte{0, 5, 0, 24})) // OPTION_IAADDR, length 24
		Expect(b[21:37]).To(Equal(a.AsSlice()))         // the address
		Expect(b).To(HaveLen(1 + 16 + 4 + 24))
	})

	g.It("reads the client data of a LEASEQUERY-REPLY", func() {
		cl := newClient(3)
		a := netip.MustParseAddr("2001:db8:c0::1:5")
		inner := dhcpv6.Options{dhcpv6.OptClientID(cl.duid), &dhcpv6.OptIAAddress{IPv6Addr: a.AsSlice(), ValidLifetime: time.Minute}}
		m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeLeaseQueryReply}
		m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientData, OptionData: inner.ToBytes()})
		b, err := dhcpv6.FromBytes(m.ToBytes())
		Expect(err).NotTo(HaveOccurred())
		ids, addrs := clientData(b.(*dhcpv6.Message))
		Expect(ids).To(Equal([][]byte{cl.raw}))
		Expect(addrs).To(ConsistOf(a))
	})
})
