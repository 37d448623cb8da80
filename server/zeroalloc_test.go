package server

import (
	"fmt"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The hot path allocates nothing (issue 16): a message wire decodes, for a
// client whose binding exists, with the memory store, answered into a
// buffer with room. testing.AllocsPerRun counts every allocation of the
// whole AppendAnswer call, decoding and encoding included.
var _ = Describe("AppendAnswer on the hot path", func() {
	It("allocates nothing per message in steady state, bare or relayed, IA_NA and IA_PD", func() {
		cfg := testConfig("za")
		cfg.RapidCommit = true
		s := newServer(cfg)
		sid := sidOf(s)
		const clients = 64
		var addrs, prefixes [clients]string
		for n := range clients {
			adv := send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, elapsed(), naOpt(1), pdOpt(2)))
			ias := viewIAs(adv)
			Expect(ias).To(HaveLen(2))
			addrs[n], prefixes[n] = ias[0].Leases[0].Lease, ias[1].Leases[0].Lease
		}
		type kind struct {
			name  string
			build func(n int) dhcpv6.DHCPv6
		}
		msg := func(t dhcpv6.MessageType, withSID bool) func(n int) dhcpv6.DHCPv6 {
			return func(n int) dhcpv6.DHCPv6 {
				opts := []dhcpv6.Option{cid(n), elapsed(), naOpt(1, addrs[n]), pdOpt(2, prefixes[n])}
				if withSID {
					opts = append(opts, sid)
				}
				return newMsg(t, opts...)
			}
		}
		kinds := []kind{
			{"Solicit", msg(dhcpv6.MessageTypeSolicit, false)},
			{"Solicit with Rapid Commit", func(n int) dhcpv6.DHCPv6 {
				return newMsg(dhcpv6.MessageTypeSolicit, cid(n), elapsed(), naOpt(1, addrs[n]), pdOpt(2, prefixes[n]), &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
			}},
			{"Request", msg(dhcpv6.MessageTypeRequest, true)},
			{"Renew", msg(dhcpv6.MessageTypeRenew, true)},
			{"Rebind", msg(dhcpv6.MessageTypeRebind, false)},
			{"relayed Request", func(n int) dhcpv6.DHCPv6 {
				return relayForw(msg(dhcpv6.MessageTypeRequest, true)(n), 0, "2001:db8:1::1", "fe80::1234", "eth7",
					&dhcpv6.OptRemoteID{EnterpriseNumber: 4491, RemoteID: []byte("port-7")})
			}},
			{"relayed Renew, two levels", func(n int) dhcpv6.DHCPv6 {
				return relayForw(relayForw(msg(dhcpv6.MessageTypeRenew, true)(n), 0, "2001:db8:1::1", "fe80::1234", "eth7"),
					1, "::", "2001:db8:ffff::2", "")
			}},
		}
		buf := make([]byte, 0, 1024)
		for _, k := range kinds {
			pkts := make([][]byte, clients)
			for n := range pkts {
				pkts[n] = k.build(n).ToBytes()
			}
			i := 0
			now := t0
			step := func() {
				now = now.Add(1e6) // a millisecond
				if _, _, ok := s.AppendAnswer(buf[:0], now, pkts[i%clients], clientSrc, true); !ok {
					Fail(fmt.Sprintf("%s of client %d dropped: %v", k.name, i%clients, s.Counters().Dropped))
				}
				i++
			}
			for range clients { // warm: the reused storage grows to the messages' shape
				step()
			}
			Expect(testing.AllocsPerRun(1000, step)).To(BeZero(), "%s: allocations per message", k.name)
		}
	})

	It("allocates nothing for a Release of a bound client and the Request that binds it again", func() {
		s := newServer(testConfig("za"))
		sid := sidOf(s)
		const clients = 64
		req := make([][]byte, clients)
		rel := make([][]byte, clients)
		for n := range clients {
			addr := viewIAs(send(s, t0, newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, naOpt(1))))[0].Leases[0].Lease
			req[n] = newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, elapsed(), naOpt(1, addr)).ToBytes()
			rel[n] = newMsg(dhcpv6.MessageTypeRelease, cid(n), sid, elapsed(), naOpt(1, addr)).ToBytes()
		}
		buf := make([]byte, 0, 1024)
		i := 0
		step := func() {
			n := i % clients
			for _, p := range [][]byte{rel[n], req[n]} {
				if _, _, ok := s.AppendAnswer(buf[:0], t0, p, clientSrc, true); !ok {
					Fail(fmt.Sprintf("client %d dropped: %v", n, s.Counters().Dropped))
				}
			}
			i++
		}
		for range clients {
			step()
		}
		// A Release then a Request that binds the same lease again: the
		// store makes a new entry in a slot it reuses, its copy of the
		// DUID appended to its DUID arena (a new chunk of it now and then,
		// none per exchange).
		Expect(testing.AllocsPerRun(1000, step)).To(BeZero())
	})
})
