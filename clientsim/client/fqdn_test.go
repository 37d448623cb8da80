package client_test

import (
	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
)

func withFQDN(name string) opt { return func(c *client.Config) { c.FQDN = name } }

// fqdnPayload is the Client FQDN option's payload in m, nil without one.
func fqdnPayload(m *dhcpv6.Message) []byte {
	o := m.GetOneOption(dhcpv6.OptionFQDN)
	if o == nil {
		return nil
	}
	return o.ToBytes()
}

var _ = Describe("Client FQDN option (RFC 4704)", func() {
	a := newServer(1)
	offer := ianaOpt(100*sec, 160*sec, addrOpt("2001:db8::a", 200*sec, 300*sec))
	partialH7 := []byte{0x01, 2, 'h', '7'} // S=1, "h7" without the root label (§4.2)

	It("goes in Solicit, Request, Renew and Rebind as a partial name with S=1, and nowhere else", func() {
		h := newHarness(1, withFQDN("h7"))
		h.bind(a, offer)
		h.until(func() bool { return h.c.State() == client.Rebinding }, 100)
		seen := map[dhcpv6.MessageType]bool{}
		for _, s := range h.sent {
			seen[s.msg.MessageType] = true
			Expect(fqdnPayload(s.msg)).To(Equal(partialH7), s.msg.MessageType.String())
		}
		Expect(seen).To(HaveKey(dhcpv6.MessageTypeSolicit))
		Expect(seen).To(HaveKey(dhcpv6.MessageTypeRequest))
		Expect(seen).To(HaveKey(dhcpv6.MessageTypeRenew))
		Expect(seen).To(HaveKey(dhcpv6.MessageTypeRebind))
		h.take(h.c.Stop(h.now))
		rel := h.last()
		Expect(rel.MessageType).To(Equal(dhcpv6.MessageTypeRelease))
		Expect(fqdnPayload(rel)).To(BeNil(), "RFC 4704 §5: not in a Release")
	})

	It("sends no option without a name", func() {
		h := newHarness(1)
		h.start()
		Expect(fqdnPayload(h.nextSend().msg)).To(BeNil())
	})

	It("encodes a name ending with a dot as fully qualified, and refuses a bad label", func() {
		o, err := client.FQDNOption("h7.lab.example.")
		Expect(err).NotTo(HaveOccurred())
		Expect(o.ToBytes()).To(Equal([]byte{0x01, 2, 'h', '7', 3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0}))
		_, err = client.FQDNOption("h7..lab")
		Expect(err).To(MatchError(ContainSubstring("label")))
		_, err = client.New(client.Config{DUID: clientDUID(1), IANA: true, FQDN: string(make([]byte, 64))})
		Expect(err).To(MatchError(ContainSubstring("63 octets")))
	})
})
