package render_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/render"
)

var _ = Describe("Profile gaps", func() {
	withGap := func() *check.Report {
		r := sample("identical", 0.2, 0)
		r.Profile = "dhcpcd"
		r.Gaps = []check.GapReport{{
			Gap:   check.Gap{Param: "dad_failure", When: "dad_failed", Real: "adds the address again at each Renew", Simulated: "keeps it unusable"},
			Count: 150, Clients: 150, EstimateS: &check.Percentiles{Count: 150, P50: 31, Max: 39.5}, Recoverable: 150,
			Effect: "150 address(es) of 150 client(s) kept unusable after DAD found them in use, for p50 31.00 s, max 39.50 s",
		}}
		return r
	}

	It("are said in every output of the run: what the real client does, what the simulated one does, what it amounted to", func() {
		r := withGap()
		var md, html, table bytes.Buffer
		Expect(render.Markdown(&md, r)).To(Succeed())
		Expect(render.HTML(&html, &render.Run{Report: r})).To(Succeed())
		Expect(render.Table(&table, r)).To(Succeed())
		Expect(md.String()).To(ContainSubstring("**What profile dhcpcd does not model**"))
		Expect(md.String()).To(ContainSubstring(`| dad\_failure · dad\_failed | adds the address again at each Renew | keeps it unusable | 150 address(es) of 150 client(s) kept unusable`))
		Expect(html.String()).To(ContainSubstring("<h3>What profile dhcpcd does not model</h3>"))
		Expect(html.String()).To(ContainSubstring("<td>adds the address again at each Renew</td><td>keeps it unusable</td>"))
		Expect(table.String()).To(ContainSubstring("  not modelled (profile dhcpcd, dad_failure · dad_failed): 150 address(es) of 150 client(s) kept unusable"))
		Expect(table.String()).To(ContainSubstring("; real client: adds the address again at each Renew\n"))
	})

	It("name a gap no parameter concerns by its trigger alone", func() {
		r := withGap()
		r.Gaps[0].Param, r.Gaps[0].When = "", "run"
		Expect(render.Gaps(r)[0].Concerns).To(Equal("run"))
	})

	It("are not mentioned when the run met none", func() {
		r := sample("identical", 0.2, 0)
		var md, html bytes.Buffer
		Expect(render.Markdown(&md, r)).To(Succeed())
		Expect(render.HTML(&html, &render.Run{Report: r})).To(Succeed())
		Expect(md.String()).NotTo(ContainSubstring("does not model"))
		Expect(html.String()).NotTo(ContainSubstring("does not model"))
	})

	It("are each run's in a comparison", func() {
		var md bytes.Buffer
		Expect(render.MarkdownCompare(&md, []*check.Report{withGap(), sample("split", 0.5, 0)})).To(Succeed())
		Expect(md.String()).To(ContainSubstring("**What profile dhcpcd does not model in identical**"))
	})
})
