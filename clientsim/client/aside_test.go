package client_test

import (
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
)

var _ = Describe("What a client holds only for a while (its aside, its template)", func() {
	It("keeps the Advertises while it solicits and nothing once bound and renewing", func() {
		a, b := newServer(1), newServer(2)
		h := newHarness(31)
		h.start()
		h.until(func() bool { return len(h.sendsOf(dhcpv6.MessageTypeSolicit)) > 0 }, 10)
		Expect(client.HoldsAside(h.c)).To(BeFalse(), "nothing advertised yet")
		sol := h.last()
		h.deliver(a.advertise(sol, 10, offerNA()))
		h.deliver(b.advertise(sol, 0, offerNA()))
		Expect(client.HoldsAside(h.c)).To(BeTrue(), "two Advertises kept (§18.2.9)")
		h.until(func() bool { return len(h.sendsOf(dhcpv6.MessageTypeRequest)) > 0 }, 10)
		Expect(client.HoldsAside(h.c)).To(BeTrue(), "the other Advertise, in case the Request fails (§18.2.9)")
		h.deliver(a.reply(h.last(), offerNA()))
		Expect(h.c.State()).To(Equal(client.Bound))
		Expect(client.HoldsAside(h.c)).To(BeFalse(), "bound")
		h.until(func() bool { return len(h.sendsOf(dhcpv6.MessageTypeRenew)) > 0 }, 10)
		h.deliver(a.reply(h.last(), offerNA()))
		Expect(h.c.State()).To(Equal(client.Bound))
		Expect(client.HoldsAside(h.c)).To(BeFalse(), "renewed")
		Expect(client.HoldsTemplate(h.c)).To(BeFalse(), "no exchange runs: the template's room went back to the scratch")
		h.until(func() bool { return len(h.sendsOf(dhcpv6.MessageTypeRenew)) > 1 }, 10)
		Expect(client.HoldsTemplate(h.c)).To(BeFalse(), "a Renew waiting for its answer lends its room back (lendsRoom)")
		Expect(h.fire()).To(BeTrue())
		ren := h.sendsOf(dhcpv6.MessageTypeRenew)
		Expect(ren).To(HaveLen(3), "the Renew retransmitted")
		Expect(client.HoldsTemplate(h.c)).To(BeFalse())
		Expect(ren[1].msg.Options.Options).To(HaveLen(len(ren[0].msg.Options.Options)), "the same options in room used again")
		Expect(ren[1].msg.Options.ServerID()).NotTo(BeNil())
		Expect(ren[2].msg.TransactionID).To(Equal(ren[1].msg.TransactionID))
		Expect(ren[2].msg.Options.Options).To(HaveLen(len(ren[1].msg.Options.Options)))
		for i, o := range ren[1].msg.Options.Options {
			if o.Code() == dhcpv6.OptionElapsedTime {
				continue
			}
			Expect(ren[2].msg.Options.Options[i].ToBytes()).To(Equal(o.ToBytes()), "option %d (%v) of the retransmission, built again", i, o.Code())
		}
	})

	It("keeps a Request's template while it waits for the Reply", func() {
		a := newServer(1)
		h := newHarness(37)
		h.start()
		h.until(func() bool { return len(h.sendsOf(dhcpv6.MessageTypeSolicit)) > 0 }, 10)
		Expect(client.HoldsTemplate(h.c)).To(BeFalse(), "a Solicit waiting lends its room back")
		h.deliver(a.advertise(h.last(), 255, offerNA()))
		Expect(h.sendsOf(dhcpv6.MessageTypeRequest)).To(HaveLen(1), "Preference 255: Request at once (§18.2.9)")
		Expect(client.HoldsTemplate(h.c)).To(BeTrue(), "a Request keeps its template")
	})

	It("keeps a Decline's addresses and server until its Reply, then lets them go", func() {
		a := newServer(1)
		h := newHarness(23, withDAD(time.Second, time.Second, newProber(3, "2001:db8::a")))
		h.bind(a, offerNA())
		Expect(client.HoldsAside(h.c)).To(BeFalse())
		h.fire()
		Expect(h.c.State()).To(Equal(client.Declining))
		Expect(client.HoldsAside(h.c)).To(BeTrue())
		h.deliver(a.reply(h.last(), statusOpt(iana.StatusSuccess)))
		Expect(h.c.State()).To(Equal(client.Soliciting))
		Expect(client.HoldsAside(h.c)).To(BeFalse(), "the Decline is over and nothing is advertised yet")
	})
})
