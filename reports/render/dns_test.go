package render_test

import (
	"bytes"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/reports/render"
)

// withDNS is sample() with a DNS server (dead at 70 s) and a Leasequery
// prober.
func withDNS(model string) *check.Report {
	r := sample(model, 0.6, 0)
	died := 70.0
	r.DNS = &check.DNSReport{
		Records: 9, AAAA: 3, PTR: 4, Names: 2, Multi: 1,
		MultiEvidence: []check.DNSName{{Name: "h1.lab.example.", Client: 1,
			AAAA: []string{"2001:db8::1", "2001:db8:1::1"}, Held: []string{"2001:db8:1::1"}}},
		Abandoned: 2, AbandonedAAAA: 1, AbandonedPTR: 1, AbandonedMax: 3,
		StaleAtEnd: 1,
		StaleEvidence: []check.DNSName{{Name: "h1.lab.example.", Client: 1,
			AAAA: []string{"2001:db8::1", "2001:db8:1::1"}, Held: []string{"2001:db8:1::1"}}},
		ConvergeS:   &check.Percentiles{Count: 40, P50: 12, P95: 30, P99: 31, Max: 32},
		Unconverged: 10, Conflicts: 1,
		Updates:         map[string]int{"ok": 140, "conflict": 1},
		UpdatesByServer: map[string]map[string]int{"a": {"ok": 100}, "b": {"ok": 40, "conflict": 1}},
		ServerDied:      &died, Transfers: 70, FailedTransfers: 50,
		Samples: check.DNSSamples{AtS: []float64{0, 30, 60}, Records: []int{0, 8, 9}, Abandoned: []int{0, 3, 2}},
	}
	r.Leasequery = &check.LeasequeryReport{
		Rounds: 60, Asked: 200, Bound: 150, None: 40, NoAnswer: 10, Sampled: 10,
		Servers: []check.LQServer{
			{Name: "a", Methods: []string{history.LQByUDP}, Asked: 20, Bound: 19, NoAnswer: 1},
			{Name: "b", Methods: []string{history.LQByControl}, Asked: 180, Bound: 131, None: 40, NoAnswer: 9, Stale: 2},
		},
		Stale: 2, GapS: &check.Percentiles{Count: 5, P50: 10, P95: 40, P99: 40, Max: 40}, GapClients: 4,
	}
	return r
}

var _ = Describe("DNS and Leasequery outputs", func() {
	It("adds their rows and names to the run table", func() {
		var buf bytes.Buffer
		Expect(render.Table(&buf, withDNS("split"))).To(Succeed())
		golden("table-dns.golden.txt", buf.Bytes())
		out := buf.String()
		Expect(out).To(ContainSubstring("dns abandoned at end            2 (1 AAAA, 1 PTR); most at one sample 3\n"))
		Expect(out).To(ContainSubstring("dns converge p50/p99/max        12s / 31s / 32s  (n=40), unconverged 10\n"))
		Expect(out).To(ContainSubstring("dns updates                     141 (conflict 1, ok 140); by server: a ok 100; b conflict 1, ok 40\n"))
		Expect(out).To(ContainSubstring("the DNS server died at +70s"))
		Expect(out).To(ContainSubstring("leasequery asked                a rfc5007 (20 asked, 19 bound, 0 none, 1 no answer, 0 stale); b lease_cmds"))
		Expect(out).To(ContainSubstring("leasequery gap p50/p99/max      10s / 40s / 40s  (n=5), 4 clients in the dark\n"))
		Expect(out).To(ContainSubstring("  multi-AAAA name h1.lab.example. (client 1): AAAA 2001:db8::1, 2001:db8:1::1; holds 2001:db8:1::1\n"))

		buf.Reset()
		r := withDNS("split")
		r.DNS.StaleEvidence = []check.DNSName{{Client: 3, AAAA: []string{}, Held: []string{"2001:db8::3"}}}
		Expect(render.Table(&buf, r)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("  stale name client 3, no name in the zones; holds 2001:db8::3\n"))

		buf.Reset()
		Expect(render.Table(&buf, sample("split", 0.6, 0))).To(Succeed())
		Expect(strings.ToLower(buf.String())).NotTo(Or(ContainSubstring("dns"), ContainSubstring("leasequery")))
	})

	It("compares the models' DNS and Leasequery rows, only when a run has them", func() {
		runs := []*check.Report{withDNS("split"), withDNS("unique"), sample("identical", 0, 0)}
		runs[1].DNS.ServerDied = nil
		runs[1].DNS.ConvergeS = nil
		runs[1].Leasequery.GapS = &check.Percentiles{Count: 3}
		var buf bytes.Buffer
		Expect(render.Compare(&buf, runs)).To(Succeed())
		golden("compare-dns.golden.txt", buf.Bytes())
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		row := func(name string) []string {
			for _, l := range lines {
				if rest, ok := strings.CutPrefix(l, name+" "); ok {
					return strings.Fields(rest)
				}
			}
			return nil
		}
		Expect(row("DNS records abandoned at end")).To(Equal([]string{"2", "2", "-"}))
		Expect(row("DNS multi-AAAA names")).To(Equal([]string{"1", "1", "-"}))
		Expect(row("DNS converge p50/p99")).To(Equal([]string{"12s", "/", "31s", "n/a", "-"}))
		Expect(row("DNS conflicts")).To(Equal([]string{"1", "1", "-"}))
		Expect(row("stale names at end")).To(Equal([]string{"1", "1", "-"}))
		Expect(row("DNS server died")).To(Equal([]string{"+70s", "-", "-"}))
		Expect(row("Leasequery gap p50/p99/max")).To(Equal([]string{"10s", "/", "40s", "/", "40s", "0s", "/", "0s", "/", "0s", "-"}))
		Expect(row("Leasequery stale answers")).To(Equal([]string{"2", "2", "-"}))
		Expect(row("Leasequery asked")).To(Equal([]string{"a", "rfc5007,", "b", "lease_cmds", "a", "rfc5007,", "b", "lease_cmds", "-"}))
		for _, l := range lines[1:] {
			Expect(len(l)).To(Equal(len(lines[0])), "columns are aligned: %q", l)
			Expect(l).NotTo(HavePrefix(" "), "row names are left-aligned")
		}

		buf.Reset()
		Expect(render.Compare(&buf, []*check.Report{sample("split", 0.6, 0), sample("unique", 0.3, 0)})).To(Succeed())
		Expect(buf.String()).NotTo(Or(ContainSubstring("DNS"), ContainSubstring("Leasequery"), ContainSubstring("stale")))
	})

	It("draws the records over time and the gap distribution, and lists the names in Markdown and HTML", func() {
		r := withDNS("split")
		var buf bytes.Buffer
		Expect(render.Markdown(&buf, r)).To(Succeed())
		md := buf.String()
		Expect(md).To(ContainSubstring("| dns stale names at end | 1 |"))
		Expect(md).To(ContainSubstring("**DNS names at the end**: 1 names with more than one AAAA, 1 clients whose name does not match"))
		Expect(md).To(ContainSubstring("- stale: h1.lab.example. (client 1): AAAA 2001:db8::1, 2001:db8:1::1; holds 2001:db8:1::1\n"))

		buf.Reset()
		events := []history.Event{
			{At: r.Started.Add(70 * time.Second), Kind: history.DNSServerDied, Client: -1, Detail: "signal: killed"},
		}
		run := render.NewRun(r, check.Samples{ReacquireS: []float64{10, 12}, LeasequeryGapS: []float64{0, 10, 10, 20, 40}}, history.Events(events))
		Expect(render.HTML(&buf, run)).To(Succeed())
		page := buf.String()
		Expect(charts(page)).To(HaveLen(6), "the four charts, DNS records, Leasequery gap")
		Expect(page).To(ContainSubstring("DNS records over time"))
		Expect(page).To(ContainSubstring("Leasequery gap after the fault"))
		Expect(page).To(ContainSubstring(">dns died (signal: killed)</text>"), "the DNS server's death is marked")
		Expect(page).To(ContainSubstring("<h2>DNS names at the end</h2>"))
		Expect(page).To(ContainSubstring("<li>h1.lab.example. (client 1): AAAA 2001:db8::1, 2001:db8:1::1; holds 2001:db8:1::1</li>"))

		buf.Reset()
		Expect(render.HTMLCompare(&buf, []*render.Run{run, render.NewRun(sample("unique", 0, 0), check.Samples{}, nil)})).To(Succeed())
		Expect(charts(buf.String())).To(HaveLen(2+2*2+2), "shared CDF and outcomes, two per run, one DNS, one gap")
	})
})
