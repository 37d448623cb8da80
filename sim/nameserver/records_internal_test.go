package nameserver

import (
	"net/netip"
	"time"

	"github.com/miekg/dns"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
)

var _ = Describe("a transfer's records", func() {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		Expect(err).NotTo(HaveOccurred())
		return r
	}

	It("leave out the zone's own and come normalised", func() {
		const soa = "lab.example. 30 IN SOA ns.lab.example. hostmaster.lab.example. 4 3600 600 86400 30"
		got := zoneRecords("lab.example.", []dns.RR{
			rr(soa),
			rr("lab.example. 30 IN NS ns.lab.example."),
			rr("ns.lab.example. 30 IN AAAA fd00:d6:53::53"),
			rr("H1.Lab.Example. 30 IN AAAA 2001:db8::3"),
			rr("h1.lab.example. 30 IN DHCID AAIBBPOZsXa3J7u4zyHPu4NlQ8Bl0E6TvuXnxosmueKr8RQ="),
			rr(`h2.lab.example. 60 IN TXT "hello"`),
			rr(soa),
		})
		Expect(got).To(Equal([]Record{
			{Name: "h1.lab.example.", Type: history.DNSTypeAAAA, Addr: netip.MustParseAddr("2001:db8::3"), TTL: 30 * time.Second},
			{Name: "h1.lab.example.", Type: history.DNSTypeDHCID, Data: "00020104f399b176b727bbb8cf21cfbb836543c065d04e93bee5e7c68b26b9e2abf114", TTL: 30 * time.Second},
			{Name: "h2.lab.example.", Type: "TXT", Data: `"hello"`, TTL: time.Minute},
		}))
	})

	It("give a PTR the address its owner name spells, none for a name that spells none", func() {
		const zone = "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
		got := zoneRecords(zone, []dns.RR{
			rr(zone + " 30 IN SOA ns.lab.example. hostmaster.lab.example. 1 3600 600 86400 30"),
			rr(zone + " 30 IN NS ns.lab.example."),
			rr("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." + zone + " 30 IN PTR H1.lab.example."),
			rr("x." + zone + " 30 IN PTR h9.lab.example."),
		})
		Expect(got).To(Equal([]Record{
			{Name: "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." + zone, Type: history.DNSTypePTR, Addr: netip.MustParseAddr("2001:db8::3"), Data: "h1.lab.example.", TTL: 30 * time.Second},
			{Name: "x." + zone, Type: history.DNSTypePTR, Data: "h9.lab.example.", TTL: 30 * time.Second},
		}))
	})
})
