package wire_test

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sort"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/wire"
)

func decode(b []byte) *wire.Message {
	var m wire.Message
	ExpectWithOffset(1, m.Decode(b)).To(Succeed())
	return &m
}

func golden(name string) []byte {
	b, err := readGolden(name)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "run go test ./wire -run TestWire -update")
	return b
}

func ip16(s string) (a [16]byte) {
	copy(a[:], net.ParseIP(s).To16())
	return a
}

var _ = Describe("the golden packets", func() {
	for name, d := range goldens() {
		It(name+" is insomniacslk's encoding, agrees with it field by field and encodes back to itself", func() {
			b := golden(name)
			Expect(b).To(Equal(d.ToBytes()), "testdata/golden/%s.hex is stale: -update", name)
			Expect(differential(b)).To(Succeed())
			out, err := decode(b).AppendTo(nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(out).To(Equal(b))
		})
	}

	It("decodes a Solicit field by field", func() {
		m := decode(golden("solicit"))
		Expect(m.Relays).To(BeEmpty())
		Expect(m.Type).To(Equal(wire.Solicit))
		Expect(m.TransactionID).To(Equal(uint32(0xa1b2c3)))
		Expect(m.ClientID).To(Equal([]byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 7})) // DUID-LL, Ethernet
		Expect(m.ServerID).To(BeNil())
		Expect(m.HasORO).To(BeTrue())
		Expect(m.ORO).To(Equal([]uint16{23, 82, 39}))
		Expect(m.Requested(39)).To(BeTrue())
		Expect(m.Requested(24)).To(BeFalse())
		Expect(m.HasElapsedTime).To(BeTrue())
		Expect(m.ElapsedTime).To(Equal(uint16(123)))
		Expect(m.RapidCommit).To(BeTrue())
		Expect(m.ReconfigureAccept).To(BeTrue())
		Expect(m.HasPreference).To(BeFalse())
		Expect(m.Status.Present).To(BeFalse())
		Expect(m.FQDN).To(Equal([]byte{1, 2, 'h', '7'}))
		Expect(m.IANA).To(HaveLen(1))
		Expect(m.IANA[0].IAID).To(Equal(uint32(1)))
		Expect(m.IANA[0].Leases).To(BeEmpty())
		Expect(m.IAPD).To(HaveLen(1))
		Expect(m.IAPD[0].IAID).To(Equal(uint32(2)))
		Expect(m.IAPD[0].Leases).To(HaveLen(1))
		Expect(m.IAPD[0].Leases[0].Bits).To(Equal(uint8(56))) // a length hint, ::/56
		Expect(m.IAPD[0].Leases[0].Addr).To(Equal([16]byte{}))
		Expect(m.Other).To(HaveLen(1)) // the Vendor Class, raw
		Expect(m.Other[0].Code).To(Equal(uint16(16)))
		v, ok := m.Option(16)
		Expect(ok).To(BeTrue())
		Expect(binary.BigEndian.Uint32(v)).To(Equal(uint32(40712)))
	})

	It("decodes an Advertise field by field", func() {
		m := decode(golden("advertise"))
		Expect(m.Type).To(Equal(wire.Advertise))
		Expect(m.ServerID).To(Equal(append([]byte{0, 1, 0, 1, 0x2c, 0x3e, 0x5a, 0}, 2, 0xd6, 0x1a, 0, 0, 1))) // DUID-LLT
		Expect(m.HasPreference).To(BeTrue())
		Expect(m.Preference).To(Equal(uint8(255)))
		na := m.IANA[0]
		Expect([]uint32{na.IAID, na.T1, na.T2}).To(Equal([]uint32{1, 3600, 7200}))
		Expect(na.Leases).To(HaveLen(1))
		Expect(na.Leases[0].Addr).To(Equal(ip16("2001:db8:1::42")))
		Expect([]uint32{na.Leases[0].Preferred, na.Leases[0].Valid}).To(Equal([]uint32{10800, 14400}))
		Expect(na.Leases[0].Status.Present).To(BeFalse())
		Expect(na.Status).To(Equal(wire.Status{Present: true, Code: 0, Message: []byte{}}))
		pd := m.IAPD[0]
		Expect(pd.Leases[0].Addr).To(Equal(ip16("2001:db8:100::")))
		Expect(pd.Leases[0].Bits).To(Equal(uint8(56)))
		Expect(m.Other).To(BeEmpty())
	})

	It("decodes the statuses of a Reply field by field: message, IA and address", func() {
		m := decode(golden("reply-nobinding"))
		Expect(m.Type).To(Equal(wire.Reply))
		Expect(m.Status.Present).To(BeFalse())
		Expect(m.IANA[0].Status.Code).To(Equal(uint16(3))) // NoBinding
		Expect(string(m.IANA[0].Status.Message)).To(Equal("no binding"))
		Expect(m.IANA[0].Leases[0].Status.Code).To(Equal(uint16(3)))
		Expect(string(m.IANA[0].Leases[0].Status.Message)).To(Equal("gone"))

		m = decode(golden("advertise-noaddrs"))
		Expect(m.Status.Code).To(Equal(uint16(2))) // NoAddrsAvail
		Expect(string(m.Status.Message)).To(Equal("no addresses"))
		Expect(m.Preference).To(Equal(uint8(7)))
	})

	It("decodes a Relay-forward around a Relay-forward around a Request", func() {
		m := decode(golden("relay-forw-request"))
		Expect(m.Relays).To(HaveLen(2))
		outer, inner := m.Relays[0], m.Relays[1]
		Expect(outer.Type).To(Equal(wire.RelayForward))
		Expect(outer.HopCount).To(Equal(uint8(1)))
		Expect(outer.LinkAddr).To(Equal([16]byte{}))
		Expect(outer.PeerAddr).To(Equal(ip16("2001:db8:ffff::a")))
		Expect(string(outer.InterfaceID)).To(Equal("up"))
		port, ok := outer.Option(135)
		Expect(ok).To(BeTrue())
		Expect(port).To(Equal([]byte{2, 0x23}))
		Expect(inner.HopCount).To(Equal(uint8(0)))
		Expect(inner.LinkAddr).To(Equal(ip16("2001:db8:1::1")))
		Expect(inner.PeerAddr).To(Equal(ip16("fe80::7")))
		Expect(string(inner.InterfaceID)).To(Equal("eth0"))
		rid, ok := inner.Option(37)
		Expect(ok).To(BeTrue())
		Expect(string(rid[4:])).To(Equal("port-7"))
		Expect(m.Type).To(Equal(wire.Request))
		Expect(m.ServerID).NotTo(BeNil())
		Expect(m.IANA[0].Leases[0].Addr).To(Equal(ip16("2001:db8:1::42")))
		Expect(m.IAPD[0].Leases[0].Bits).To(Equal(uint8(56)))
	})

	It("reads each code of an ORO once, as insomniacslk, short or long, and merges two", func() {
		hdr := []byte{1, 1, 2, 3}
		m := decode(append(hdr, 0, 6, 0, 8, 0, 23, 0, 24, 0, 23, 0, 23))
		Expect(m.ORO).To(Equal([]uint16{23, 24}))
		long := append([]byte{0, 6, 0, 200}, longORO()...)
		long = append(long, 0, 6, 0, 2, 0x03, 0xe8) // 1000 again, in a second ORO
		m = decode(append(hdr, long...))
		Expect(m.ORO).To(HaveLen(51))
		Expect(m.ORO[50]).To(Equal(uint16(1000)))
		Expect(differential(append(hdr, long...))).To(Succeed())
		m = decode(append(hdr, long...)) // the bitset was left clean
		Expect(m.ORO).To(HaveLen(51))
	})

	It("reuses a Message: a second Decode leaves nothing of the first", func() {
		var m wire.Message
		Expect(m.Decode(golden("relay-forw-request"))).To(Succeed())
		Expect(m.Decode(golden("release"))).To(Succeed())
		Expect(m.Relays).To(BeEmpty())
		Expect(m.IAPD).To(BeEmpty())
		Expect(m.FQDN).To(BeNil())
		Expect(m.HasORO).To(BeFalse())
		Expect(m.ORO).To(BeNil())
		Expect(differential(golden("release"))).To(Succeed())
	})
})

var _ = Describe("the seed corpus", func() {
	It("agrees with insomniacslk on every seed, and decodes the fast-path ones", func() {
		files, err := filepath.Glob(filepath.Join(corpusDir, "*"))
		Expect(err).NotTo(HaveOccurred())
		Expect(len(files)).To(BeNumerically(">", 100))
		sort.Strings(files)
		accepted := 0
		for _, f := range files {
			b := readSeed(f)
			Expect(differential(b)).To(Succeed(), f)
			var m wire.Message
			if m.Decode(b) == nil {
				accepted++
			}
		}
		Expect(accepted).To(BeNumerically(">=", 30))
	})
})

// readSeed reads a one-[]byte seed file of the fuzz corpus.
func readSeed(path string) []byte {
	data, err := os.ReadFile(path)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	b, err := parseSeed(data)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), path)
	return b
}

var _ = Describe("malformed messages", func() {
	hdr := []byte{3, 1, 2, 3}
	opt := func(code uint16, v ...byte) []byte {
		return append([]byte{byte(code >> 8), byte(code), byte(len(v) >> 8), byte(len(v))}, v...)
	}
	with := func(opts ...[]byte) []byte {
		b := append([]byte(nil), hdr...)
		for _, o := range opts {
			b = append(b, o...)
		}
		return b
	}
	z := func(n int) []byte { return make([]byte, n) }
	DescribeTable("are rejected with a typed error insomniacslk agrees with",
		func(b []byte, reason wire.Reason, code uint16) {
			var m wire.Message
			err := m.Decode(b)
			Expect(err).To(MatchError(wire.ErrMalformed))
			var e wire.Error
			Expect(errors.As(err, &e)).To(BeTrue())
			Expect(e).To(Equal(wire.Error{Reason: reason, Option: code}))
			_, rerr := dhcpv6.FromBytes(b)
			Expect(rerr).To(HaveOccurred())
		},
		Entry("empty", []byte{}, wire.ShortHeader, uint16(0)),
		Entry("a 3-octet message", []byte{1, 2, 3}, wire.ShortHeader, uint16(0)),
		Entry("a cut option header", append([]byte{1, 2, 3, 4}, 0, 1, 0), wire.OptionHeader, uint16(0)),
		Entry("a length past the end", with(opt(1, 0, 3, 0, 1, 5)[:8]), wire.OptionLength, uint16(1)),
		Entry("an IA_NA shorter than 12", with(opt(3, z(11)...)), wire.ShortOption, uint16(3)),
		Entry("an IA_PD shorter than 12", with(opt(25, z(8)...)), wire.ShortOption, uint16(25)),
		Entry("an IA Address shorter than 24", with(opt(3, append(z(12), opt(5, z(23)...)...)...)), wire.ShortOption, uint16(5)),
		Entry("an IA Prefix shorter than 25", with(opt(25, append(z(12), opt(26, z(24)...)...)...)), wire.ShortOption, uint16(26)),
		Entry("an option cut inside an IA_NA", with(opt(3, append(z(12), 0, 13, 0, 5, 0)...)), wire.OptionLength, uint16(13)),
		Entry("a Status Code of 1 octet", with(opt(13, 0)), wire.ShortOption, uint16(13)),
		Entry("an Elapsed Time of 3 octets", with(opt(8, 0, 0, 0)), wire.BadLength, uint16(8)),
		Entry("an empty Preference", with(opt(7)), wire.BadLength, uint16(7)),
		Entry("an ORO of odd length", with(opt(6, 0, 23, 0)), wire.BadLength, uint16(6)),
		Entry("a 1-octet DUID", with(opt(1, 0)), wire.ShortOption, uint16(1)),
		Entry("a DUID-LLT without its time", with(opt(2, 0, 1, 0, 1, 0, 0)), wire.BadDUID, uint16(2)),
		Entry("a DUID-UUID of 15 octets", with(opt(1, append([]byte{0, 4}, z(15)...)...)), wire.BadDUID, uint16(1)),
		Entry("an empty Client FQDN", with(opt(39)), wire.ShortOption, uint16(39)),
		Entry("a Client FQDN label past the end", with(opt(39, 1, 4, 'a')), wire.BadName, uint16(39)),
		Entry("a Client FQDN pointer cut off", with(opt(39, 1, 0xc0)), wire.BadName, uint16(39)),
		Entry("a DNS servers option of 17 octets", with(opt(23, z(17)...)), wire.BadLength, uint16(23)),
		Entry("an empty User Class", with(opt(15)), wire.BadList, uint16(15)),
		Entry("a Relay Source Port of 1 octet", with(opt(135, 0)), wire.BadLength, uint16(135)),
		Entry("a relay shorter than 34", append([]byte{12, 0}, z(31)...), wire.ShortHeader, uint16(0)),
		Entry("a relay whose message is empty", append(append([]byte{12, 0}, z(32)...), opt(9)...), wire.ShortHeader, uint16(0)),
	)

	DescribeTable("are left to the general decoder, never rejected as malformed",
		func(b []byte) {
			var m wire.Message
			Expect(m.Decode(b)).To(MatchError(wire.ErrNotFastPath))
		},
		Entry("an Information-request", []byte{11, 1, 2, 3}),
		Entry("a Confirm inside a relay", append(append([]byte{12, 0}, z(32)...), opt(9, 4, 1, 2, 3)...)),
		Entry("a relay without a Relay Message option", append([]byte{12, 0}, z(32)...)),
		Entry("a relay with two", append(append(append([]byte{12, 0}, z(32)...), opt(9, hdr...)...), opt(9, hdr...)...)),
		Entry("a Relay Message option in a Solicit", with(opt(9, hdr...))),
		Entry("a DHCPv4-message option", with(opt(87, z(4)...))),
	)

	It("unwraps 32 relay levels and leaves 33 to the general decoder", func() {
		var d dhcpv6.DHCPv6 = goldens()["request"]
		for i := 0; i < wire.MaxRelayDepth; i++ {
			d = relay(dhcpv6.MessageTypeRelayForward, d, uint8(i), "::", "fe80::1", "")
		}
		m := decode(d.ToBytes())
		Expect(m.Relays).To(HaveLen(wire.MaxRelayDepth))
		Expect(m.Relays[0].HopCount).To(Equal(uint8(wire.MaxRelayDepth - 1)))
		Expect(m.Type).To(Equal(wire.Request))
		Expect(differential(d.ToBytes())).To(Succeed())
		d = relay(dhcpv6.MessageTypeRelayForward, d, 32, "::", "fe80::1", "")
		var m2 wire.Message
		Expect(m2.Decode(d.ToBytes())).To(MatchError(wire.ErrNotFastPath))
	})

	It("never panics on any prefix of a golden packet", func() {
		for name := range goldens() {
			b := golden(name)
			for n := 0; n <= len(b); n++ {
				Expect(differential(b[:n])).To(Succeed(), "%s[:%d]", name, n)
			}
		}
	})
})
