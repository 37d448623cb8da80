package population_test

import (
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
	"d6lab/clientsim/population"
)

var _ = Describe("in memory (Config.InMemory)", func() {
	It("hands each message over unencoded, and takes the answer as a message", func() {
		p, err := population.New(population.Config{Count: 4, Seed: 4, IANA: true, InMemory: true})
		Expect(err).NotTo(HaveOccurred())
		p.Start(t0)
		p.Advance(t0.Add(time.Second))
		out := p.Outbox(nil)
		Expect(out).To(HaveLen(4))
		for _, o := range out {
			Expect(o.Payload).To(BeNil())
			Expect(o.Msg).NotTo(BeNil())
			Expect(o.Msg.MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
		}
		o := out[2]
		p.DeliverMessage(t0.Add(time.Second), advertiseTo(o.Msg, p.Client(o.Client).DUID()), serverAddr)
		Expect(p.Client(o.Client).State()).To(Equal(client.Requesting))
		next := p.Outbox(nil)
		Expect(next).To(HaveLen(1))
		Expect(next[0].Msg.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
		Expect(p.Stats().Received).To(Equal(uint64(1)))
	})

	It("keeps each message as sent until the next Outbox, then builds new ones in its storage; a CopyMessage outlives it", func() {
		p, err := population.New(population.Config{Count: 4, Seed: 4, IANA: true, InMemory: true})
		Expect(err).NotTo(HaveOccurred())
		p.Start(t0)
		p.Advance(t0.Add(time.Second))
		_ = p.Outbox(nil) // the first Solicits: allocated, not recycled
		at := t0.Add(time.Second)
		// fill advances to the next timer, at which the clients retransmit
		// their Solicits, and drains those messages.
		fill := func() []population.Outgoing {
			var ok bool
			at, ok = p.NextTimer()
			Expect(ok).To(BeTrue())
			p.Advance(at)
			return p.Outbox(nil)
		}
		first := fill()
		Expect(first).NotTo(BeEmpty())
		wire := make([][]byte, len(first))
		kept := make([]*dhcpv6.Message, len(first))
		for i, o := range first {
			wire[i], kept[i] = o.Msg.ToBytes(), population.CopyMessage(o.Msg)
		}
		// Messages sent before the next Outbox go elsewhere: first's stay.
		var ok bool
		at, ok = p.NextTimer()
		Expect(ok).To(BeTrue())
		p.Advance(at)
		for i, o := range first {
			Expect(o.Msg.ToBytes()).To(Equal(wire[i]), "message %d changed before the next Outbox", i)
		}
		second := p.Outbox(nil)
		Expect(second).NotTo(BeEmpty())
		third := fill() // built in first's storage
		reused := false
		for _, o := range third {
			for _, f := range first {
				reused = reused || o.Msg == f.Msg
			}
		}
		Expect(reused).To(BeTrue(), "no message was built in the storage of one two Outbox calls old")
		for i, k := range kept {
			Expect(k.ToBytes()).To(Equal(wire[i]), "the copy of message %d changed", i)
		}
	})

	It("is a datagram population all the same when it relays: DeliverMessage is dropped as not relayed", func() {
		cfg := population.Config{Count: 2, Seed: 4, IANA: true, InMemory: true, Relay: &population.RelayConfig{
			LinkAddr: netip.MustParseAddr("2001:db8:1::1"), Servers: []netip.AddrPort{serverAddr}}}
		p, err := population.New(cfg)
		Expect(err).NotTo(HaveOccurred())
		p.Start(t0)
		p.Advance(t0.Add(time.Second))
		out := p.Outbox(nil)
		Expect(out).NotTo(BeEmpty())
		Expect(out[0].Payload).NotTo(BeEmpty(), "a Relay-forward is encoded")
		Expect(out[0].Msg).To(BeNil())
		p.DeliverMessage(t0, &dhcpv6.Message{MessageType: dhcpv6.MessageTypeReply}, serverAddr)
		Expect(p.Stats().Dropped).To(Equal(map[string]uint64{population.DropNotRelayed: 1}))
	})
})

// advertiseTo is an Advertise with Preference 255 answering sol for the
// client with DUID duid: one address, 2001:db8::1.
func advertiseTo(sol *dhcpv6.Message, duid []byte) *dhcpv6.Message {
	GinkgoHelper()
	cid, err := dhcpv6.DUIDFromBytes(duid)
	Expect(err).NotTo(HaveOccurred())
	adv := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeAdvertise, TransactionID: sol.TransactionID}
	adv.AddOption(dhcpv6.OptClientID(cid))
	adv.AddOption(dhcpv6.OptServerID(newResponder().duid))
	adv.AddOption(dhcpv6.OptPreference(255))
	ia := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}}
	ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8::1"), PreferredLifetime: time.Minute, ValidLifetime: time.Hour})
	adv.AddOption(ia)
	return adv
}
