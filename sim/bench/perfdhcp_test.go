package bench_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/load"
	"d6lab/sim/bench"
)

func perfdhcpSample(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", "perfdhcp-"+name+".txt"))
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

var _ = Describe("ParsePerfdhcp", func() {
	// The samples are perfdhcp 2.2's real output against `d6lab serve`
	// (bbolt leases) in two namespaces on this machine.
	It("reads a four-message run with no drops", func() {
		p, err := bench.ParsePerfdhcp(perfdhcpSample("sarr-100"))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Rate).To(Equal(99.6318))
		Expect(p.Expected).To(Equal(100.0))
		Expect(p.Malformed).To(BeZero())
		Expect(p.Exchanges).To(HaveLen(2))
		sa, rr := p.Exchanges[0], p.Exchanges[1]
		Expect(sa.Name).To(Equal("SOLICIT-ADVERTISE"))
		Expect(rr.Name).To(Equal("REQUEST-REPLY"))
		Expect([]int64{sa.Sent, sa.Received, sa.Drops}).To(Equal([]int64{299, 299, 0}))
		Expect([]float64{sa.MinMs, sa.AvgMs, sa.MaxMs, sa.StdMs}).To(Equal([]float64{0.265, 0.663, 16.021, 1.084}))
		Expect(p.Started()).To(Equal(int64(299)))
		Expect(p.Drops()).To(BeZero())
		Expect(p.AvgMs()).To(BeNumerically("~", sa.AvgMs+rr.AvgMs, 1e-9))
	})

	It("counts drops in either message pair against the Solicits sent", func() {
		p, err := bench.ParsePerfdhcp(perfdhcpSample("sarr-500"))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Rate).To(Equal(480.598))
		sa, rr := p.Exchanges[0], p.Exchanges[1]
		Expect([]int64{sa.Sent, sa.Received, sa.Drops}).To(Equal([]int64{1499, 1450, 49}))
		Expect([]int64{rr.Sent, rr.Received, rr.Drops}).To(Equal([]int64{1450, 1442, 8}))
		Expect(p.Drops()).To(BeNumerically("~", 57.0/1499, 1e-12))
		Expect(p.AvgMs()).To(BeNumerically("~", 12.724+12.212, 1e-9))
	})

	It("reads an overloaded run (most Solicits lost)", func() {
		p, err := bench.ParsePerfdhcp(perfdhcpSample("sarr-3000"))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Rate).To(Equal(698.831))
		Expect(p.Expected).To(Equal(3000.0))
		Expect(p.Drops()).To(BeNumerically("~", (6054.0+846)/8997, 1e-12))
		Expect(p.Drops()).To(BeNumerically("<=", 1))
	})

	It("reads a Solicit-Advertise-only run (-i)", func() {
		p, err := bench.ParsePerfdhcp(perfdhcpSample("sa-1000"))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Rate).To(Equal(998.98))
		Expect(p.Exchanges).To(HaveLen(1))
		Expect(p.Exchanges[0].Received).To(Equal(int64(1999)))
		Expect(p.AvgMs()).To(Equal(0.292))
	})

	DescribeTable("refuses output without a final report",
		func(out string) {
			_, err := bench.ParsePerfdhcp(out)
			Expect(err).To(MatchError(bench.ErrPerfdhcpOutput))
		},
		Entry("empty", ""),
		Entry("perfdhcp's own error", perfdhcpSample("error")),
		Entry("cut before the statistics", perfdhcpSample("truncated")),
		Entry("a bad number", strings.Replace(perfdhcpSample("sarr-100"), "sent packets: 299", "sent packets: many", 1)),
	)
})

var _ = Describe("PerfdhcpArgs", func() {
	base := bench.PerfdhcpArgs{IfName: "d6l1-n0", Clients: 10000, Rate: 1500, Period: 5 * time.Second,
		Exchange: load.FourMessage, NA: true, Seed: 7, DropTime: time.Second}
	joined := func(a bench.PerfdhcpArgs) string { return strings.Join(a.Argv("/usr/sbin/perfdhcp"), " ") }

	It("drives the four-message exchange at the rate over the client space", func() {
		Expect(joined(base)).To(Equal("/usr/sbin/perfdhcp -6 -l d6l1-n0 -R 10000 -r 1500 -p 5 -s 7 -d 1 -W 1000000 -e address-only"))
	})
	It("rounds the period up to whole seconds", func() {
		a := base
		a.Period = 2500 * time.Millisecond
		Expect(joined(a)).To(ContainSubstring(" -p 3 "))
	})
	It("maps the exchange kinds and IAs", func() {
		a := base
		a.Exchange = load.SolicitAdvertise
		Expect(joined(a)).To(HaveSuffix(" -i"))
		a.Exchange = load.RapidCommit
		Expect(joined(a)).To(HaveSuffix(" -i -c"))
		a.PD = true
		Expect(joined(a)).To(HaveSuffix(" -i -c -e address-and-prefix"))
		a.Exchange, a.NA = load.FourMessage, false
		Expect(joined(a)).To(HaveSuffix(" -e prefix-only"))
	})
	It("turns the Renew and Release fractions into rates, and relays by unicast", func() {
		a := base
		a.Renew, a.Release, a.Relay, a.Server = 0.2, 0.1, true, netip.MustParseAddr("2001:db8:be::1")
		Expect(joined(a)).To(HaveSuffix(" -f 300 -F 150 -A 1 2001:db8:be::1"))
	})
})
