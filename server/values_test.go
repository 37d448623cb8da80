package server

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the values path's reused storage", func() {
	It("writes every DUID type insomniacslk defines as its ToBytes does", func() {
		mac := net.HardwareAddr{2, 0xcc, 0, 0, 0, 7}
		duids := []dhcpv6.DUID{
			&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac},
			&dhcpv6.DUIDLLT{HWType: iana.HWTypeEthernet, Time: 0x01020304, LinkLayerAddr: mac},
			&dhcpv6.DUIDEN{EnterpriseNumber: 4491, EnterpriseIdentifier: []byte("id-9")},
			&dhcpv6.DUIDUUID{UUID: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
			&dhcpv6.DUIDOpaque{Type: 0x99, Data: []byte{7, 7, 7}},
			&dhcpv6.DUIDLL{}, // no link-layer address
		}
		for _, d := range duids {
			Expect(appendDUID([]byte{0xaa}, d)).To(Equal(append([]byte{0xaa}, d.ToBytes()...)), d.String())
		}
	})

	It("answers as a server without it, and allocates nothing for a Renew of a bound client", func() {
		msgs := func(s *Server) []*dhcpv6.Message {
			sid := sidOf(s)
			return []*dhcpv6.Message{
				newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(1), pdOpt(2)),
				newMsg(dhcpv6.MessageTypeSolicit, cid(2), elapsed(), naOpt(1), &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}),
				newMsg(dhcpv6.MessageTypeRequest, cid(1), sid, elapsed(), naOpt(1), pdOpt(2)),
				newMsg(dhcpv6.MessageTypeRenew, cid(1), sid, elapsed(), naOpt(1, "2001:db8:1::77"), pdOpt(2)),
				newMsg(dhcpv6.MessageTypeRenew, cid(3), sid, elapsed(), naOpt(5, "2001:db8:1::78")), // NoBinding
				newMsg(dhcpv6.MessageTypeRebind, cid(1), elapsed(), naOpt(1), pdOpt(2)),
				newMsg(dhcpv6.MessageTypeRelease, cid(1), sid, elapsed(), naOpt(1), pdOpt(2)),
				newMsg(dhcpv6.MessageTypeInformationRequest, elapsed()),
			}
		}
		cfg := testConfig("vals")
		cfg.RapidCommit = true
		fresh, reused := newServer(cfg), newServer(cfg)
		reused.SetAnswerReuse(true)
		for i, m := range msgs(fresh) {
			a, okA := fresh.HandleMessage(t0, m, true)
			b, okB := reused.HandleMessage(t0, m, true)
			Expect(okB).To(Equal(okA), "message %d", i)
			if okA {
				Expect(b.ToBytes()).To(Equal(a.ToBytes()), "message %d: %s", i, m.MessageType)
			}
		}

		s := newServer(cfg)
		s.SetAnswerReuse(true)
		sid := sidOf(s)
		got, ok := s.HandleMessage(t0, newMsg(dhcpv6.MessageTypeRequest, cid(4), sid, elapsed(), naOpt(1), pdOpt(2)), true)
		Expect(ok).To(BeTrue())
		ias := viewIAs(got.(*dhcpv6.Message))
		renew := newMsg(dhcpv6.MessageTypeRenew, cid(4), sid, elapsed(), naOpt(1, ias[0].Leases[0].Lease), pdOpt(2, ias[1].Leases[0].Lease))
		Expect(testing.AllocsPerRun(100, func() {
			if _, ok := s.HandleMessage(t0, renew, true); !ok {
				Fail("Renew dropped")
			}
		})).To(Equal(0.0))
	})
})
