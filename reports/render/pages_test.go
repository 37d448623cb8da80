package render_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/reports/render"
)

// failing is sample() with a broken bound, an unreadable metric and a
// duplicate, and its re-acquisition samples.
func failing() *render.Run {
	r := sample("split", 0.6, 1)
	r.Expect = []check.ExpectResult{
		{Name: "rebind.failure_rate", Bound: "<= 0.7", Value: 0.6, OK: true},
		{Name: "reacquire_s.p99", Bound: "< 30", Value: 61.25, OK: false},
		{Name: "rebind.faliure", Bound: "< 1", Error: `metric "rebind.faliure": no such metric`},
	}
	return render.NewRun(r, check.Samples{ReacquireS: []float64{10, 12.5, 12.5, 40, 61.25}}, nil)
}

var (
	svgRE      = regexp.MustCompile(`(?s)<svg.*?</svg>`)
	drawnRE    = regexp.MustCompile(`<path d="M[^"]+L`)
	externalRE = regexp.MustCompile(`(?i)(src=|<link|@import|url\(|href="https?:)`)
)

// charts returns the inline SVGs of a page that draw at least one line.
func charts(page string) []string {
	var out []string
	for _, s := range svgRE.FindAllString(page, -1) {
		if drawnRE.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}

var _ = Describe("report.html", func() {
	It("is one offline page: summary, expectations, four charts, duplicate evidence", func() {
		var buf bytes.Buffer
		Expect(render.HTML(&buf, failing())).To(Succeed())
		page := buf.String()
		Expect(charts(page)).To(HaveLen(4), "bound clients, CDF, rebind outcomes, share drift")
		Expect(externalRE.FindAllString(page, -1)).To(BeEmpty(), "nothing loaded from elsewhere")
		Expect(page).NotTo(ContainSubstring("<script"))
		Expect(page).To(ContainSubstring(`<span class="badge FAIL">FAIL</span>`))
		Expect(page).To(ContainSubstring("<td>reacquire_s.p99</td><td>&lt; 30</td><td class=\"n\">61.25</td>"))
		Expect(page).To(ContainSubstring("no such metric"))
		Expect(page).To(ContainSubstring("<td>2001:db8::c</td>"))
		Expect(page).To(ContainSubstring(">kill a</text>"), "the fault is marked on the time charts")
		Expect(page).To(ContainSubstring("Re-acquisition time after the fault"))
		Expect(buf.Len()).To(BeNumerically("<", 100_000), "small")
	})

	It("says why a figure is missing instead of drawing an empty chart", func() {
		r := sample("identical", 0, 0)
		r.Fault, r.Affected, r.Rebind = nil, 0, check.Rebind{}
		r.ReacquireS, r.OutageS, r.OutageTentativeS, r.Continuity = nil, nil, nil, nil
		var buf bytes.Buffer
		Expect(render.HTML(&buf, render.NewRun(r, check.Samples{}, nil))).To(Succeed())
		Expect(charts(buf.String())).To(HaveLen(2))
		Expect(buf.String()).To(ContainSubstring("no re-acquisition time to show"))
		Expect(buf.String()).To(ContainSubstring("no rebind outcome to show"))
		Expect(buf.String()).To(ContainSubstring(`<span class="badge PASS">PASS</span>`))
	})

	It("puts every model of a comparison on shared charts", func() {
		runs := []*render.Run{
			render.NewRun(sample("split", 1, 0), check.Samples{ReacquireS: []float64{11, 12}}, nil),
			render.NewRun(sample("unique", 1, 0), check.Samples{ReacquireS: []float64{11, 13}}, nil),
			render.NewRun(sample("identical", 0, 0), check.Samples{ReacquireS: []float64{11, 11.5}}, nil),
		}
		var buf bytes.Buffer
		Expect(render.HTMLCompare(&buf, runs)).To(Succeed())
		page := buf.String()
		cs := charts(page)
		Expect(cs).To(HaveLen(2 + 2*3))
		for _, m := range []string{"split", "unique", "identical"} {
			Expect(cs[0]).To(ContainSubstring(">"+m+"</text>"), "the CDF has a curve per model")
			Expect(cs[1]).To(ContainSubstring(">"+m+"</text>"), "the outcome chart has bars per model")
			Expect(page).To(ContainSubstring(`href="` + m + `/report.html"`))
		}
		Expect(page).To(ContainSubstring("split vs unique vs identical"))
		Expect(externalRE.FindAllString(page, -1)).To(BeEmpty())
	})

	It("marks the lab events of the history, not the lab's own start", func() {
		r := sample("split", 0, 0)
		events := []history.Event{
			{At: t0, Kind: history.ServerStarted, Server: "a"},
			{At: t0.Add(20 * time.Second), Kind: history.ServerKilled, Server: "a"},
			{At: t0.Add(50 * time.Second), Kind: history.ServerRestarted, Server: "a", Detail: "state wipe"},
			{At: t0.Add(30 * time.Second), Kind: history.Bound, Client: 1},
		}
		run := render.NewRun(r, check.Samples{}, history.Events(events))
		Expect(run.Events).To(HaveLen(2))
		Expect(run.Events[0].Label()).To(Equal("kill a"))
		Expect(run.Events[1].Label()).To(Equal("restart a (state wipe)"))
		Expect(run.Events[1].AtS).To(Equal(50.0))
	})
})

var _ = Describe("report.md", func() {
	It("summarises a run for a pull-request comment", func() {
		var buf bytes.Buffer
		Expect(render.Markdown(&buf, failing().Report)).To(Succeed())
		golden("report.golden.md", buf.Bytes())
		md := buf.String()
		Expect(md).To(HavePrefix("### ❌ d6lab · kill-primary: FAIL\n"))
		Expect(md).To(ContainSubstring("**Expectations: 1 of 4 hold**"))
		Expect(md).To(ContainSubstring("| ❌ | `reacquire_s.p99` | `< 30` | 61.25 |"))
		Expect(md).To(ContainSubstring("| ❌ | `duplicates.addresses` (implicit: no address held twice) | `== 0` | 1 |"))
		Expect(md).To(ContainSubstring("| `2001:db8::c` | 2 (b) | 8 (b) | +50s | 70s |"))
	})

	It("compares runs in one table with every expectation", func() {
		a, b := sample("split", 1, 0), sample("identical", 0, 2)
		a.Expect = []check.ExpectResult{{Name: "continuity", Bound: "<= 0.01", Value: 0.4, OK: false}}
		var buf bytes.Buffer
		Expect(render.MarkdownCompare(&buf, []*check.Report{a, b})).To(Succeed())
		golden("compare.golden.md", buf.Bytes())
		md := buf.String()
		Expect(md).To(HavePrefix("### ❌ d6lab compare · split vs identical: FAIL\n"))
		Expect(md).To(ContainSubstring("| ❌ | split | `continuity` | `<= 0.01` | 0.4 |"))
		Expect(md).To(ContainSubstring("**Duplicates in identical**: 2 addresses"))
	})
})

// junit mirrors the parts of junit.xml the specs read.
type junit struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

var _ = Describe("junit.xml", func() {
	It("has a test case per bound; a broken one fails with the measured value", func() {
		var buf bytes.Buffer
		Expect(render.JUnit(&buf, failing().Report)).To(Succeed())
		golden("junit.golden.xml", buf.Bytes())
		var doc junit
		Expect(xml.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc.Tests).To(Equal(4))
		Expect(doc.Failures).To(Equal(2))
		Expect(doc.Errors).To(Equal(1))
		Expect(doc.Suites).To(HaveLen(1))
		s := doc.Suites[0]
		Expect(s.Name).To(Equal("kill-primary"))
		Expect(s.Cases[0].Failure).To(BeNil())
		Expect(s.Cases[1].Name).To(Equal("reacquire_s.p99 < 30"))
		Expect(s.Cases[1].Failure.Message).To(Equal("reacquire_s.p99 = 61.25, want < 30"))
		Expect(s.Cases[2].Error.Message).To(ContainSubstring("no such metric"))
		Expect(s.Cases[3].Name).To(HavePrefix("duplicates.addresses == 0 (implicit"))
		Expect(s.Cases[3].Failure.Text).To(ContainSubstring("1 were (1 client pairs)"))
	})

	It("has one test suite per model of a comparison", func() {
		var buf bytes.Buffer
		a, b := sample("split", 1, 0), sample("identical", 0, 0)
		a.Scenario, b.Scenario = "compare-split", "compare-identical"
		Expect(render.JUnit(&buf, a, b)).To(Succeed())
		var doc junit
		Expect(xml.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc.Suites).To(HaveLen(2))
		Expect(doc.Suites[0].Name).To(Equal("compare-split"))
		Expect(doc.Suites[1].Name).To(Equal("compare-identical"))
		Expect(doc.Failures).To(Equal(0))
	})
})

var _ = Describe("An unknown metric's bound", func() {
	unknown := func() *check.Report {
		r := sample("unique", 0, 0)
		r.Affected, r.Rebind, r.ReacquireS, r.OutageS, r.OutageTentativeS, r.Continuity = 0, check.Rebind{}, nil, nil, nil, nil
		r.Expect = []check.ExpectResult{{Name: "rebind.failure_rate", Bound: "<= 0.05", Unknown: true,
			Error: "rebind.failure_rate: unknown: no client was affected by the fault"}}
		return r
	}

	It("fails in every output, measured n/a, saying why", func() {
		r := unknown()
		ex := render.Expectations(r)
		Expect(ex[0].OK).To(BeFalse())
		Expect(ex[0].Measured).To(Equal("n/a"))
		Expect(render.Verdict(r)).To(Equal("FAIL"))

		var buf bytes.Buffer
		Expect(render.Table(&buf, r)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("FAIL  rebind.failure_rate <= 0.05  (rebind.failure_rate: unknown: no client was affected by the fault)"))

		buf.Reset()
		Expect(render.Markdown(&buf, r)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("| ❌ | `rebind.failure_rate` | `<= 0.05` | n/a (rebind.failure\\_rate: unknown: no client was affected by the fault) |"))

		buf.Reset()
		Expect(render.HTML(&buf, render.NewRun(r, check.Samples{}, nil))).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("<td class=\"n\">n/a (rebind.failure_rate: unknown: no client was affected by the fault)</td>"))

		buf.Reset()
		Expect(render.JUnit(&buf, r)).To(Succeed())
		var doc junit
		Expect(xml.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc.Failures).To(Equal(1))
		Expect(doc.Errors).To(BeZero())
		Expect(doc.Suites[0].Cases[0].Failure.Message).To(Equal(
			"rebind.failure_rate = n/a, want <= 0.05: rebind.failure_rate: unknown: no client was affected by the fault"))
	})
})

var _ = Describe("Expectations", func() {
	It("hold all together exactly when the report is OK", func() {
		guarded := sample("identical", 0, 3)
		guarded.Expect = []check.ExpectResult{{Name: "duplicates.addresses", Bound: "> 0", Value: 3, OK: true}}
		for _, r := range []*check.Report{sample("split", 0, 0), sample("split", 0, 1), failing().Report, guarded} {
			all := true
			for _, e := range render.Expectations(r) {
				all = all && e.OK
			}
			Expect(all).To(Equal(r.OK()), "%s with %d duplicates", r.Scenario, r.Duplicates.Addresses)
		}
		Expect(render.Expectations(guarded)).To(HaveLen(1), "a duplicates bound replaces the implicit rule")
	})
})

var _ = Describe("Saving the pages", func() {
	It("writes report.html, report.md and junit.xml for a run and for a comparison", func() {
		dir := GinkgoT().TempDir()
		Expect(render.SaveRunPages(filepath.Join(dir, "run"), failing())).To(Succeed())
		Expect(render.SaveComparePages(filepath.Join(dir, "cmp"), []*render.Run{failing(), failing()})).To(Succeed())
		for _, d := range []string{"run", "cmp"} {
			for _, f := range []string{render.HTMLFile, render.MarkdownFile, render.JUnitFile} {
				b, err := os.ReadFile(filepath.Join(dir, d, f))
				Expect(err).NotTo(HaveOccurred())
				Expect(strings.TrimSpace(string(b))).NotTo(BeEmpty(), "%s/%s", d, f)
			}
		}
	})
})

var _ = Describe("Linking the packet capture and the history", func() {
	It("links clients.pcap and history.jsonl from the pages only when the run directory holds them", func() {
		dir := GinkgoT().TempDir()
		with, without := filepath.Join(dir, "with"), filepath.Join(dir, "without")
		Expect(os.MkdirAll(with, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(with, render.PcapFile), []byte("pcap"), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(with, render.HistoryFile), nil, 0o644)).To(Succeed())
		Expect(render.SaveRunPages(with, failing())).To(Succeed())
		Expect(render.SaveRunPages(without, failing())).To(Succeed())

		read := func(d, f string) string {
			b, err := os.ReadFile(filepath.Join(d, f))
			Expect(err).NotTo(HaveOccurred())
			return string(b)
		}
		Expect(read(with, render.HTMLFile)).To(ContainSubstring(`<a href="clients.pcap">clients.pcap</a>`))
		Expect(read(with, render.MarkdownFile)).To(ContainSubstring("[clients.pcap](clients.pcap)"))
		Expect(read(without, render.HTMLFile)).NotTo(ContainSubstring("clients.pcap"))
		Expect(read(without, render.MarkdownFile)).NotTo(ContainSubstring("clients.pcap"))
		Expect(read(with, render.HTMLFile)).To(ContainSubstring(`<a href="history.jsonl">history.jsonl</a>`))
		Expect(read(with, render.HTMLFile)).To(ContainSubstring("rebuild it with <code>d6lab report DIR</code>"))
		Expect(read(without, render.HTMLFile)).NotTo(ContainSubstring(`href="history.jsonl"`), "a run made with --no-history-file keeps none")
		Expect(read(without, render.HTMLFile)).To(ContainSubstring("kept in memory only"))
		Expect(read(without, render.HTMLFile)).NotTo(ContainSubstring("d6lab report DIR"))
		Expect(read(without, render.HTMLFile)).To(ContainSubstring(`<a href="junit.xml">junit.xml</a>`))
	})
})
