package population_test

import (
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/population"
	"d6lab/reports/history"
)

var _ = Describe("SendFQDN", func() {
	solicits := func(cfg population.Config) map[int][]byte {
		GinkgoHelper()
		p, err := population.New(cfg)
		Expect(err).NotTo(HaveOccurred())
		p.Start(t0)
		p.Advance(t0.Add(10 * time.Second))
		got := map[int][]byte{}
		for _, o := range p.Outbox(nil) {
			m, err := dhcpv6.MessageFromBytes(o.Payload)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
			if f := m.GetOneOption(dhcpv6.OptionFQDN); f != nil {
				got[o.Client] = f.ToBytes()
			} else {
				got[o.Client] = nil
			}
		}
		return got
	}

	It("has client i send history.HostName(i) as a partial name with S=1 (RFC 4704 §4.2)", func() {
		got := solicits(population.Config{Count: 3, Seed: 2, IANA: true, SendFQDN: true})
		Expect(got).To(HaveLen(3))
		for i, payload := range got {
			name := history.HostName(i)
			Expect(payload).To(Equal(append([]byte{0x01, byte(len(name))}, name...)), "client %d", i)
		}
	})

	It("sends no Client FQDN option by default", func() {
		got := solicits(population.Config{Count: 2, Seed: 2, IANA: true})
		Expect(got).To(HaveLen(2))
		for _, payload := range got {
			Expect(payload).To(BeNil())
		}
	})
})
