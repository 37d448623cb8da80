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
			Gap:   check.Gap{Param: "mrc", When: "release_gave_up", Real: "sends one Release and never retransmits it", Simulated: "retransmits it up to 4 times"},
			Count: 200, Clients: 200,
			Effect: "200 release exchange(s) of 200 client(s) went unanswered",
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
		Expect(md.String()).To(ContainSubstring(`| mrc · release\_gave\_up | sends one Release and never retransmits it | retransmits it up to 4 times | 200 release exchange(s) of 200 client(s) went unanswered`))
		Expect(html.String()).To(ContainSubstring("<h3>What profile dhcpcd does not model</h3>"))
		Expect(html.String()).To(ContainSubstring("<td>sends one Release and never retransmits it</td><td>retransmits it up to 4 times</td>"))
		Expect(table.String()).To(ContainSubstring("  not modelled (profile dhcpcd, mrc · release_gave_up): 200 release exchange(s) of 200 client(s) went unanswered"))
		Expect(table.String()).To(ContainSubstring("; real client: sends one Release and never retransmits it\n"))
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
