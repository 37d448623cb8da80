package render_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/render"
)

var _ = Describe("The breakdown by client kind", func() {
	withKinds := func() *check.Report {
		r := sample("split", 0.5, 0)
		r.Profile = "dhclient"
		one := 1.0
		r.ByKind = []check.KindReport{
			{Kind: check.Simulated, Profile: "dhclient", Clients: 95, Bound: 92, Affected: 48,
				Rebind:     check.Rebind{Renumbered: 48, FailureRate: &one},
				ReacquireS: &check.Percentiles{Count: 48, P50: 19, P99: 21.5}, OutageS: &check.Percentiles{Count: 48, P99: 1.9}},
			{Kind: "dhclient", Version: "4.4.3-P1", Clients: 5, Bound: 5, Affected: 2, FirstBoundBy: map[string]int{"s2": 1, "s1": 4},
				Acquire:    check.Acquire{BindS: check.Percentiles{Count: 5, P50: 1.6, P99: 2}},
				Rebind:     check.Rebind{Renumbered: 2, FailureRate: &one},
				ReacquireS: &check.Percentiles{Count: 2, P50: 20, P99: 22}, OutageS: &check.Percentiles{Count: 2, P99: 2.1}},
			{Kind: "dhcpcd", Clients: 1},
		}
		return r
	}

	It("is a table after the summary, the simulated row naming its profile, unknowns n/a", func() {
		var buf bytes.Buffer
		Expect(render.Table(&buf, withKinds())).To(Succeed())
		out := buf.String()
		Expect(out).To(ContainSubstring("by client kind"))
		Expect(out).To(MatchRegexp(`simulated \(profile dhclient\)\s+95\s+92\s+-\s+-\s+48\s+100.0%\s+19s / 21.5s\s+1.9s`))
		Expect(out).To(MatchRegexp(`dhclient 4.4.3-P1\s+5\s+5\s+s1 4, s2 1\s+1.6s / 2s\s+2\s+100.0%\s+20s / 22s\s+2.1s`))
		Expect(out).To(MatchRegexp(`dhcpcd\s+1\s+0\s+-\s+-\s+0\s+n/a\s+n/a\s+n/a\s+n/a`))
		Expect(out).To(ContainSubstring("re-acquisition p50: simulated (profile dhclient) 19s, dhclient 20s: -5.0 %"))
		Expect(out).NotTo(ContainSubstring("dhcpcd 0s"), "no agreement line for a kind with no affected client")
	})

	It("compares how long dropped addresses stayed unusable when both the simulated clients and a real kind dropped some, and the summary counts them", func() {
		r := sample("identical", 0, 0)
		r.Profile = "dhcpcd"
		r.Life = check.Life{Confirmed: 205, Dropped: 205, Unrestored: 1, DroppedS: &check.Percentiles{Count: 204, P50: 2.6, P99: 3.1, Max: 3.2}}
		r.ByKind = []check.KindReport{
			{Kind: check.Simulated, Profile: "dhcpcd", Clients: 200, Dropped: 200, DroppedS: &check.Percentiles{Count: 200, P50: 2.6}},
			{Kind: "dhcpcd", Version: "dhcpcd 9.4.1", Clients: 5, Dropped: 5, DroppedS: &check.Percentiles{Count: 4, P50: 3.2}},
			{Kind: "dhclient", Clients: 1},
		}
		var buf bytes.Buffer
		Expect(render.Table(&buf, r)).To(Succeed())
		out := buf.String()
		Expect(out).To(MatchRegexp(`dropped addresses / unusable p50/p99/max\s+205 \(1 not back\) / 2.6s / 3.1s / 3.2s`))
		Expect(out).To(ContainSubstring("dropped address unusable p50: simulated (profile dhcpcd) 2.6s, dhcpcd 3.2s: -18.8 %"))
		Expect(out).NotTo(ContainSubstring("dhclient 0s"), "no line for a kind that dropped nothing")
	})

	It("is absent from a run without real clients", func() {
		var buf bytes.Buffer
		Expect(render.Table(&buf, sample("split", 0.5, 0))).To(Succeed())
		Expect(buf.String()).NotTo(ContainSubstring("by client kind"))
		Expect(render.KindRows(sample("split", 0.5, 0))).To(BeNil())
	})

	It("is in the Markdown and the HTML page", func() {
		var md, page bytes.Buffer
		Expect(render.Markdown(&md, withKinds())).To(Succeed())
		Expect(md.String()).To(ContainSubstring("**By client kind**"))
		Expect(md.String()).To(ContainSubstring("| dhclient 4.4.3-P1 | 5 | 5 | s1 4, s2 1 |"))
		Expect(render.HTML(&page, render.NewRun(withKinds(), check.Samples{}, nil))).To(Succeed())
		Expect(page.String()).To(ContainSubstring("<h2>By client kind</h2>"))
		Expect(page.String()).To(ContainSubstring("<td>dhclient 4.4.3-P1</td>"))
	})
})

var _ = Describe("A comparison with real clients", func() {
	It("adds each kind's rebind failure, re-acquisition p50 and outage p99 rows, - where a run lacks the kind", func() {
		one := 1.0
		a, b := sample("split", 1, 0), sample("identical", 0, 0)
		a.ByKind = []check.KindReport{
			{Kind: check.Simulated, Rebind: check.Rebind{FailureRate: &one}, ReacquireS: &check.Percentiles{Count: 3, P50: 19}},
			{Kind: "dhclient", Rebind: check.Rebind{FailureRate: &one}, ReacquireS: &check.Percentiles{Count: 2, P50: 20.5}},
		}
		b.ByKind = []check.KindReport{{Kind: check.Simulated}}
		rows := render.CompareRows([]*check.Report{a, b})
		find := func(name string) []string {
			for _, r := range rows {
				if r.Name == name {
					return r.Values
				}
			}
			Fail("no row " + name)
			return nil
		}
		Expect(find("simulated re-acquisition p50")).To(Equal([]string{"19s", "n/a"}))
		Expect(find("dhclient re-acquisition p50")).To(Equal([]string{"20.5s", "-"}))
		Expect(find("dhclient rebind failure")).To(Equal([]string{"100.0%", "-"}))
		Expect(find("simulated vs dhclient re-acq p50")).To(Equal([]string{"-7.3%", "-"}))
	})
})
