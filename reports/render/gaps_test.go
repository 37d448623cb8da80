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
			Gap:   check.Gap{Param: "link_change", When: "link_flapped", Real: "removes its addresses at carrier loss", Simulated: "keeps them"},
			Count: 200, Clients: 200, EstimateS: &check.Percentiles{Count: 200, P50: 2.6, Max: 3.07},
			Effect: "200 client(s) held an address at a link flap and kept it here; the real client would have had none for p50 2.60 s, max 3.07 s",
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
		Expect(md.String()).To(ContainSubstring(`| link\_change · link\_flapped | removes its addresses at carrier loss | keeps them | 200 client(s) held an address at a link flap`))
		Expect(html.String()).To(ContainSubstring("<h3>What profile dhcpcd does not model</h3>"))
		Expect(html.String()).To(ContainSubstring("<td>removes its addresses at carrier loss</td><td>keeps them</td>"))
		Expect(table.String()).To(ContainSubstring("  not modelled (profile dhcpcd, link_change · link_flapped): 200 client(s) held an address"))
		Expect(table.String()).To(ContainSubstring("; real client: removes its addresses at carrier loss\n"))
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
