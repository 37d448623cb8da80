package server

import (
	"fmt"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/server/alloc"
)

// requestAddr commits a binding for client n (IAID 1, no hint) through
// HandleMessage and returns the address.
func requestAddr(s *Server, sid dhcpv6.Option, n int) netip.Addr {
	m := newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, naOpt(1))
	out, ok := s.HandleMessage(t0, m, true)
	if !ok {
		return netip.Addr{}
	}
	ias := out.(*dhcpv6.Message).Options.IANA()
	if len(ias) != 1 {
		return netip.Addr{}
	}
	a := ias[0].Options.OneAddress()
	if a == nil {
		return netip.Addr{}
	}
	addr, _ := netip.AddrFromSlice(a.IPv6Addr)
	return addr
}

var _ = Describe("Allocation across servers (RFC 6853 §6)", func() {
	It("hash: two independent servers give each of 100,000 clients the same address, whatever the arrival order", func() {
		a := newServer(testConfig("a"))
		b := newServer(testConfig("b")) // another name, so another DUID: nothing shared
		Expect(a.DUID()).NotTo(Equal(b.DUID()))
		const n = 100_000
		got := make([]netip.Addr, n)
		sa, sb := sidOf(a), sidOf(b)
		for i := 0; i < n; i++ {
			got[i] = requestAddr(a, sa, i)
		}
		for i := n - 1; i >= 0; i-- {
			addr := requestAddr(b, sb, i)
			if !addr.IsValid() || addr != got[i] {
				Fail(fmt.Sprintf("client %d: server a gave %s, server b %s", i, got[i], addr))
			}
		}
		Expect(a.Store().Len()).To(Equal(n))
		Expect(b.Store().Len()).To(Equal(n))
	})

	It("sequential: two independent servers give the same address to two different clients", func() {
		cfg := testConfig("a")
		cfg.Allocator = "sequential"
		a := newServer(cfg)
		cfg.Name = "b"
		b := newServer(cfg)
		x, y := requestAddr(a, sidOf(a), 1), requestAddr(b, sidOf(b), 2)
		Expect(x.IsValid()).To(BeTrue())
		Expect(x).To(Equal(y))
	})

	for _, strategy := range deploy.Allocators {
		It(fmt.Sprintf("%s: never hands out a reserved anycast address, then answers NoAddrsAvail", strategy), func() {
			cfg := testConfig("x")
			cfg.Allocator = strategy
			// ::0 (Subnet-Router anycast) and the RFC 2526 range fdff:ffff:ffff:ff80-ff
			// around usable neighbours.
			cfg.Pool = mustPool("2001:db8:1:0:fdff:ffff:ffff:ff7e-2001:db8:1:0:fdff:ffff:ffff:ffff")
			s := newServer(cfg)
			cfg2 := cfg
			cfg2.Pool = mustPool("2001:db8:1::-2001:db8:1::1")
			s2 := newServer(cfg2)
			for _, srv := range []*Server{s, s2} {
				got := map[netip.Addr]bool{}
				for i := 0; ; i++ {
					m := newMsg(dhcpv6.MessageTypeRequest, cid(i), sidOf(srv), naOpt(1))
					rep := send(srv, t0, m)
					ias := viewIAs(rep)
					if ias[0].Status != nil {
						Expect(*ias[0].Status).To(Equal(iana.StatusNoAddrsAvail))
						break
					}
					addr := netip.MustParseAddr(ias[0].Leases[0].Lease)
					Expect(alloc.ReservedAddr(addr)).To(BeFalse(), "handed out %s", addr)
					Expect(got).NotTo(HaveKey(addr))
					got[addr] = true
				}
				if srv == s {
					Expect(got).To(HaveLen(2)) // ff7e and ff7f only
				} else {
					Expect(got).To(HaveLen(1)) // ::1 only
				}
			}
		})
	}
})
