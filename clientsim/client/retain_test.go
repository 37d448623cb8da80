package client_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
)

// kept is a message exactly as the client handed it over, and its bytes
// then: whoever holds it (a frozen server's queue, the virtual link) must
// read the same message later.
type kept struct {
	msg  *dhcpv6.Message
	wire []byte
}

// retainer drives one client like harness, but keeps the client's own
// message values (harness keeps decoded copies).
type retainer struct {
	c     *client.Client
	now   time.Time
	timer time.Time
	kept  []kept
}

func (r *retainer) take(o client.Output) {
	for _, d := range o.Send {
		r.kept = append(r.kept, kept{msg: d.Msg, wire: d.Msg.ToBytes()})
	}
	r.timer = o.Timer
}

func (r *retainer) last() *dhcpv6.Message { return r.kept[len(r.kept)-1].msg }

// fireUntilSend fires timers until the client sends, and returns the message.
func (r *retainer) fireUntilSend() *dhcpv6.Message {
	n := len(r.kept)
	for range 1000 {
		if len(r.kept) > n {
			return r.last()
		}
		Expect(r.timer.IsZero()).To(BeFalse(), "the client has no timer")
		r.now = r.timer
		r.take(r.c.Timer(r.now))
	}
	Fail("the client sends nothing")
	return nil
}

func (r *retainer) deliver(m *dhcpv6.Message) { r.take(r.c.Receive(r.now, m)) }

// newRecyclingRetainer is a retainer whose client has a scratch of its
// own, to Recycle as population.Outbox does once the link has read the
// messages.
func newRecyclingRetainer() (*retainer, *client.Scratch) {
	scr := client.NewScratch()
	c, err := client.New(client.Config{
		Index: 7, DUID: clientDUID(7), IANA: true, Scratch: scr, Names: testNames{},
		Rand: rand.New(rand.NewPCG(5, 99)),
	})
	Expect(err).NotTo(HaveOccurred())
	return &retainer{c: c, now: t0}, scr
}

func newRetainer(seed uint64, pd bool) *retainer {
	c, err := client.New(client.Config{
		Index: 7, DUID: clientDUID(7), IANA: true, IAPD: pd, Jitter: 0.1, Names: testNames{},
		Rand: rand.New(rand.NewPCG(seed, 99)),
	})
	Expect(err).NotTo(HaveOccurred())
	return &retainer{c: c, now: t0}
}

var _ = Describe("messages already sent (the values link keeps them)", func() {
	It("are never changed by what the client does next", func() {
		a, b := newServer(1), newServer(2)
		iaA := func() []dhcpv6.Option {
			return []dhcpv6.Option{
				na("2001:db8::a", 100*sec, 160*sec, 200*sec, 300*sec),
				iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:1::/56", 200*sec, 300*sec)),
			}
		}
		r := newRetainer(3, true)
		r.take(r.c.Start(r.now))
		sol := r.fireUntilSend()
		Expect(r.fireUntilSend()).NotTo(BeIdenticalTo(sol), "a retransmitted Solicit is a new message")
		r.deliver(a.advertise(sol, 255, iaA()...))
		req := r.last()
		Expect(req.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
		r.deliver(a.reply(req, iaA()...))
		Expect(r.c.State()).To(Equal(client.Bound))

		// Renews answered.
		for range 3 {
			ren := r.fireUntilSend()
			Expect(ren.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			r.deliver(a.reply(ren, iaA()...))
		}

		// A Renew unanswered: retransmissions (Elapsed Time set), then
		// Rebind to all, answered by b with a new address for the old
		// (§18.2.10.1: valid lifetime 0 ends it): the IA_NA option
		// changes, the old one stays as it was sent.
		ren := r.fireUntilSend()
		for r.fireUntilSend().MessageType == dhcpv6.MessageTypeRenew {
		}
		reb := r.last()
		Expect(reb.MessageType).To(Equal(dhcpv6.MessageTypeRebind))
		r.deliver(b.reply(reb,
			ianaOpt(100*sec, 160*sec, addrOpt("2001:db8::a", 0, 0), addrOpt("2001:db8::b", 200*sec, 300*sec)),
			iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:1::/56", 200*sec, 300*sec)),
		))
		next := r.fireUntilSend()
		Expect(next.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
		Expect(naAddrs(next)).To(ConsistOf("2001:db8::b"))
		r.take(r.c.Stop(r.now))
		Expect(r.last().MessageType).To(Equal(dhcpv6.MessageTypeRelease))

		Expect(len(r.kept)).To(BeNumerically(">=", 12))
		for i, k := range r.kept {
			Expect(bytes.Equal(k.msg.ToBytes(), k.wire)).To(BeTrue(), "message %d (%s) changed after it was sent", i, k.msg.MessageType)
		}
		Expect(next.Options.IANA()[0]).NotTo(BeIdenticalTo(ren.Options.IANA()[0]))
	})

	// renewCycle binds r's client to a and returns one T1 of it: the Renew
	// and a's Reply, with before run first.
	renewCycle := func(r *retainer, before func()) func() {
		a := newServer(1)
		r.take(r.c.Start(r.now))
		sol := r.fireUntilSend()
		ia := na("2001:db8::a", 100*sec, 160*sec, 200*sec, 300*sec)
		r.deliver(a.advertise(sol, 255, ia))
		r.deliver(a.reply(r.last(), ia))
		Expect(r.c.State()).To(Equal(client.Bound))
		reply := a.reply(r.last(), ia)
		return func() {
			before()
			out := r.c.Timer(r.timer) // T1: the Renew
			r.now, r.timer = r.timer, out.Timer
			reply.TransactionID = out.Send[0].Msg.TransactionID
			out = r.c.Receive(r.now, reply)
			r.timer = out.Timer
		}
	}

	It("cost the client two allocations for a Renew and its Reply: the message and its IA_NA", func() {
		r := newRetainer(5, false)
		step := renewCycle(r, func() {})
		step()
		Expect(testing.AllocsPerRun(100, step)).To(BeNumerically("==", 2))
		Expect(r.c.State()).To(Equal(client.Bound))
	})

	It("stay as sent until two Recycle calls later when the scratch recycles them, IA_NA options too; a CopyMessage for good", func() {
		r, scr := newRecyclingRetainer()
		a := newServer(1)
		addr := func(i int) string { return fmt.Sprintf("2001:db8::%x", i+1) }
		r.take(r.c.Start(r.now))
		sol := r.fireUntilSend()
		r.deliver(a.advertise(sol, 255, na(addr(0), 100*sec, 160*sec, 200*sec, 300*sec)))
		r.deliver(a.reply(r.last(), na(addr(0), 100*sec, 160*sec, 200*sec, 300*sec)))
		Expect(r.c.State()).To(Equal(client.Bound))
		// Each Renew is answered with a new address for the old (valid
		// lifetime 0 ends it, §18.2.10.1), so that the next Renew's IA_NA
		// differs: storage used again too early would show it.
		var sent, copies []kept
		for i := range 12 {
			scr.Recycle()
			r.now = r.timer
			out := r.c.Timer(r.now)
			Expect(out.Send).To(HaveLen(1))
			ren := out.Send[0].Msg
			Expect(ren.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			Expect(naAddrs(ren)).To(ConsistOf(addr(i)))
			sent = append(sent, kept{msg: ren, wire: ren.ToBytes()})
			copies = append(copies, kept{msg: client.CopyMessage(ren), wire: ren.ToBytes()})
			out = r.c.Receive(r.now, a.reply(ren, ianaOpt(100*sec, 160*sec,
				addrOpt(addr(i), 0, 0), addrOpt(addr(i+1), 200*sec, 300*sec))))
			r.timer = out.Timer
			// The Renew sent before the last Recycle call is read until
			// the next one (population.Outbox).
			if i > 0 {
				k := sent[i-1]
				Expect(bytes.Equal(k.msg.ToBytes(), k.wire)).To(BeTrue(), "the Renew sent one Recycle call ago changed")
			}
		}
		// A frozen server's queue keeps copies past any number of calls.
		for i, k := range copies {
			Expect(bytes.Equal(k.msg.ToBytes(), k.wire)).To(BeTrue(), "the copy of Renew %d changed", i)
		}
	})

	It("cost the client nothing for a Renew and its Reply once its scratch recycles what it sent (Scratch.Recycle)", func() {
		r, scr := newRecyclingRetainer()
		// as population.Outbox does once the link has read the messages
		step := renewCycle(r, scr.Recycle)
		step()
		step()
		Expect(testing.AllocsPerRun(100, step)).To(BeNumerically("==", 0))
		Expect(r.c.State()).To(Equal(client.Bound))
	})
})
