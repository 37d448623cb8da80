package wire_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/wire"
)

// allocs runs f once to warm up, then reports its average allocations.
func allocs(f func()) float64 {
	f()
	return testing.AllocsPerRun(100, f)
}

var _ = Describe("allocation in steady state", func() {
	names := []string{"solicit", "advertise", "advertise-noaddrs", "request", "reply", "reply-rapid",
		"reply-nobinding", "renew", "rebind", "release", "relay-forw-request", "relay-repl-reply"}
	for _, name := range names {
		It("is zero for Decode and AppendTo of the golden "+name, func() {
			b := golden(name)
			var m wire.Message
			var err error
			Expect(allocs(func() { err = m.Decode(b) })).To(BeZero())
			Expect(err).NotTo(HaveOccurred())
			buf := make([]byte, 0, 1500)
			var out []byte
			Expect(allocs(func() { out, err = m.AppendTo(buf[:0]) })).To(BeZero())
			Expect(err).NotTo(HaveOccurred())
			Expect(out).To(Equal(b))
		})
	}

	It("is zero for one Message decoding each message type in turn", func() {
		pkts := make([][]byte, len(names))
		for i, n := range names {
			pkts[i] = golden(n)
		}
		var m wire.Message
		Expect(allocs(func() {
			for _, p := range pkts {
				if m.Decode(p) != nil {
					panic("decode")
				}
			}
		})).To(BeZero())
	})

	It("is zero for AppendTo of a message built in place", func() {
		var m wire.Message
		cid, sid := []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 7}, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}
		leases := make([]wire.Lease, 1)
		ias := make([]wire.IA, 1)
		buf := make([]byte, 0, 512)
		var out []byte
		Expect(allocs(func() {
			m.Reset()
			m.Type, m.TransactionID = wire.Advertise, 0xa1b2c3
			m.ClientID, m.ServerID = cid, sid
			leases[0] = wire.Lease{Addr: ip16("2001:db8:1::42"), Preferred: 3600, Valid: 7200}
			ias[0] = wire.IA{IAID: 1, T1: 1800, T2: 2880, Leases: leases}
			m.IANA = ias
			m.Preference, m.HasPreference = 255, true
			out, _ = m.AppendTo(buf[:0])
		})).To(BeZero())
		Expect(differential(out)).To(Succeed())
		got := decode(out)
		Expect(got.IANA[0].Leases[0].Valid).To(Equal(uint32(7200)))
		Expect(got.Preference).To(Equal(uint8(255)))
	})
})

var _ = Describe("AppendTo", func() {
	It("fails with ErrTooLong when an option does not fit its length", func() {
		m := wire.Message{Type: wire.Reply, Other: []wire.Option{{Code: 99, Value: make([]byte, 0x10000)}}}
		_, err := m.AppendTo(nil)
		Expect(err).To(MatchError(wire.ErrTooLong))
		m = wire.Message{Type: wire.Reply, IANA: []wire.IA{{Other: []wire.Option{{Code: 99, Value: make([]byte, 0xfff0)}}}}}
		_, err = m.AppendTo(nil)
		Expect(err).To(MatchError(wire.ErrTooLong))
	})

	It("writes an empty Interface-Id and an empty ORO when they are present", func() {
		m := wire.Message{
			Relays: []wire.Relay{{Type: wire.RelayReply, HasInterfaceID: true}},
			Type:   wire.Reply, HasORO: true,
		}
		b, err := m.AppendTo(nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(differential(b)).To(Succeed())
		got := decode(b)
		Expect(got.Relays[0].HasInterfaceID).To(BeTrue())
		Expect(got.HasORO).To(BeTrue())
		Expect(got.ORO).To(BeEmpty())
	})
})
