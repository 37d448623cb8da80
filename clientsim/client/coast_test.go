package client_test

import (
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
)

var _ = Describe("coasting (Coast, CoastRenew)", func() {
	const (
		t1, t2     = 100 * time.Second, 160 * time.Second
		pref, life = 200 * time.Second, 300 * time.Second
	)
	var (
		srv  *server
		ia   func() dhcpv6.Option
		g    = client.Grant{T1: t1, T2: t2, Preferred: pref, Valid: life}
		pair func(opts ...opt) (played, coasted *harness)
	)
	BeforeEach(func() {
		srv = newServer(1)
		ia = func() dhcpv6.Option { return ianaOpt(t1, t2, addrOpt("2001:db8::10", pref, life)) }
		// Two clients with the same seed, bound by the same server.
		pair = func(opts ...opt) (*harness, *harness) {
			a, b := newHarness(42, opts...), newHarness(42, opts...)
			a.bind(srv, ia())
			b.bind(srv, ia())
			return a, b
		}
	})

	// renew plays n renewals on h, each answered at once, and returns
	// their instants.
	renew := func(h *harness, n int) []time.Time {
		var at []time.Time
		for range n {
			r := h.nextSend()
			Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			at = append(at, r.at)
			h.deliver(srv.reply(r.msg, ia()))
		}
		return at
	}
	// next is what h sends next when nobody answers: instant, type, ID.
	type send struct {
		at   time.Time
		typ  dhcpv6.MessageType
		xid  dhcpv6.TransactionID
		wire string // the whole message: its IA option too
	}
	next := func(h *harness, n int) []send {
		var out []send
		for range n {
			s := h.nextSend()
			out = append(out, send{s.at, s.msg.MessageType, s.msg.TransactionID, string(s.msg.ToBytes())})
		}
		return out
	}

	for _, jitter := range []float64{0, 0.2} {
		It("ends as the renewals played, and goes on the same (jitter "+map[bool]string{true: "0.2", false: "0"}[jitter > 0]+")", func() {
			played, coasted := pair(withJitter(jitter))
			want := renew(played, 6)
			got := coasted.c.Coast(want[5].Add(time.Nanosecond), g, nil)
			Expect(got).To(Equal(want))
			Expect(coasted.c.Leases()).To(Equal(played.c.Leases()))
			Expect(coasted.c.NextTimer()).To(Equal(played.timer))
			Expect(coasted.c.XID()).To(Equal(played.c.XID()))
			// From here nobody answers: the same Renews, then Rebinds,
			// at the same instants with the same IDs (the same draws).
			coasted.timer, coasted.now = coasted.c.NextTimer(), want[5]
			played.now = want[5]
			Expect(next(coasted, 8)).To(Equal(next(played, 8)))
		})
	}

	It("stops before until, and refuses a grant that would not merely extend the lease", func() {
		played, coasted := pair()
		want := renew(played, 3)
		Expect(coasted.c.Coast(want[2], g, nil)).To(Equal(want[:2]), "until is left to the caller")

		_, c := pair()
		other := g
		other.Valid = 2 * life
		Expect(c.c.Coast(t0.Add(24*time.Hour), other, nil)).To(BeEmpty(), "other lifetimes would renumber nothing but not merge")
		short := g
		short.T2 = 0
		short.T1 = 2 * life
		Expect(c.c.Coast(t0.Add(24*time.Hour), short, nil)).To(BeEmpty(), "a T1 past the lease's end")
	})

	It("refuses a client that is not steady", func() {
		h := newHarness(42)
		Expect(h.c.Coast(t0.Add(time.Hour), g, nil)).To(BeEmpty(), "idle")
		h.start()
		h.nextSend()
		Expect(h.c.Coast(t0.Add(time.Hour), g, nil)).To(BeEmpty(), "soliciting")
		Expect(h.c.CoastRenew(t0.Add(time.Hour), nil)).To(BeEmpty(), "soliciting")
		_, b := pair()
		Expect(b.c.CoastRenew(t0.Add(time.Hour), nil)).To(BeEmpty(), "bound: no Renew runs")

		// its address off the interface after a Confirm nobody answered
		// (DropOnLinkChange): the next renewal puts it back, an event
		d := newHarness(42, withDev(client.Deviations{DropOnLinkChange: true}))
		d.bind(srv, ia())
		d.take(d.c.LinkChanged(d.now))
		Expect(d.until(func() bool { return d.c.State() == client.Bound }, 100)).To(BeTrue())
		Expect(d.c.Leases()[0].Dropped).To(BeTrue())
		Expect(d.c.Coast(t0.Add(time.Hour), g, nil)).To(BeEmpty(), "a dropped address")
	})

	It("plays a Renew's retransmissions nobody answers as the client sends them, up to T2", func() {
		played, coasted := pair()
		first := played.nextSend()
		Expect(first.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
		Expect(coasted.nextSend().msg.TransactionID).To(Equal(first.msg.TransactionID))
		var want []time.Time
		var rebind *sent
		for rebind == nil {
			s := played.nextSend()
			if s.msg.MessageType != dhcpv6.MessageTypeRenew {
				Expect(s.msg.MessageType).To(Equal(dhcpv6.MessageTypeRebind))
				rebind = s
				break
			}
			want = append(want, s.at)
		}
		Expect(len(want)).To(BeNumerically(">=", 2), "retransmissions before T2")
		got := coasted.c.CoastRenew(t0.Add(24*time.Hour), nil)
		Expect(got).To(Equal(want))
		coasted.timer = coasted.c.NextTimer()
		s := coasted.nextSend()
		Expect(s.msg.MessageType).To(Equal(dhcpv6.MessageTypeRebind))
		Expect(s.at).To(Equal(rebind.at))
		Expect(s.msg.TransactionID).To(Equal(rebind.msg.TransactionID), "the same draws")
	})
})
