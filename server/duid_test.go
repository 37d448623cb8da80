package server

import (
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("DUIDs of a link-layer address (RFC 9915 §11)", func() {
	mac := net.HardwareAddr{0x02, 0xd6, 0x00, 0x00, 0x00, 0x02}

	It("builds a DUID-LL: type 3, hardware type 1, the MAC (§11.4)", func() {
		d := DUIDLL(iana.HWTypeEthernet, mac)
		Expect(d).To(Equal([]byte{0x00, 0x03, 0x00, 0x01, 0x02, 0xd6, 0x00, 0x00, 0x00, 0x02}))
		Expect(FormatDUID(d)).To(Equal("0003000102d600000002"))
		dd, err := dhcpv6.DUIDFromBytes(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(dd).To(Equal(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac}))
	})

	It("builds a DUID-LLT: type 1, hardware type 1, seconds since 2000-01-01 UTC, the MAC (§11.2)", func() {
		// 2024-01-01 00:00:00 UTC is 757,382,400 s (0x2d24bd00) after the epoch.
		t := time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)
		d := DUIDLLT(iana.HWTypeEthernet, t, mac)
		Expect(d).To(Equal([]byte{0x00, 0x01, 0x00, 0x01, 0x2d, 0x24, 0xbd, 0x00, 0x02, 0xd6, 0x00, 0x00, 0x00, 0x02}))
		dd, err := dhcpv6.DUIDFromBytes(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(dd).To(Equal(&dhcpv6.DUIDLLT{HWType: iana.HWTypeEthernet, Time: 757382400, LinkLayerAddr: mac}))

		By("the epoch itself, in another zone, and the wrap modulo 2^32")
		Expect(DUIDLLT(iana.HWTypeEthernet, DUIDEpoch.In(time.FixedZone("x", 3600)), mac)[4:8]).To(Equal([]byte{0, 0, 0, 0}))
		Expect(DUIDLLT(iana.HWTypeEthernet, DUIDEpoch.Add(1<<32*time.Second+5*time.Second), mac)[4:8]).To(Equal([]byte{0, 0, 0, 5}))
		Expect(DUIDLLT(iana.HWTypeEthernet, DUIDEpoch.Add(-time.Second), mac)[4:8]).To(Equal([]byte{0xff, 0xff, 0xff, 0xff}))
	})

	It("makes a device's DUID of its own address, and refuses none", func() {
		t := time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)
		for _, kind := range []string{"", "ll"} {
			d, err := HardwareDUID(kind, iana.HWTypeEthernet, mac, t)
			Expect(err).NotTo(HaveOccurred())
			Expect(d).To(Equal(DUIDLL(iana.HWTypeEthernet, mac)))
		}
		d, err := HardwareDUID("llt", iana.HWTypeEthernet, mac, t)
		Expect(err).NotTo(HaveOccurred())
		Expect(d).To(Equal(DUIDLLT(iana.HWTypeEthernet, t, mac)))

		other := net.HardwareAddr{0x02, 0xd6, 0x00, 0x00, 0x00, 0x03}
		d2, _ := HardwareDUID("ll", iana.HWTypeEthernet, other, t)
		Expect(d2).NotTo(Equal(d), "two MACs, one DUID")

		for _, none := range []net.HardwareAddr{nil, {}, {0, 0, 0, 0, 0, 0}} {
			_, err := HardwareDUID("ll", iana.HWTypeEthernet, none, t)
			Expect(err).To(MatchError(ErrNoLinkLayerAddr), "address %v", none)
		}
		_, err = HardwareDUID("en", iana.HWTypeEthernet, mac, t)
		Expect(err).To(MatchError(ErrInvalidDUID))
	})
})
