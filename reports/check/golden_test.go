package check_test

import (
	"bytes"
	"encoding/json"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// combined is a small history with one client per outcome, an unaffected
// client and a duplicate, analysed into testdata/report.golden.json.
func combined() []history.Event {
	return run(120,
		labEv(history.ServerStarted, 0, "a"), labEv(history.ServerStarted, 0, "b"),
		bound(1, 1, addr(1), duidA, 100),  // extended
		bound(1, 2, addr(2), duidA, 100),  // renumbered
		bound(1, 3, addr(3), duidA, 100),  // refused nobinding
		bound(1, 4, addr(4), duidA, 100),  // refused zero
		bound(1, 5, addr(5), duidA, 30),   // silent, same address again
		bound(1, 6, addr(6), duidA, 30),   // silent, never recovered
		bound(2, 7, addr(7), duidB, 1000), // unaffected
		renewed(15, 1, addr(1), duidA, 100),
		labEv(history.ServerKilled, 20, "a"),
		rebound(30, 1, addr(1), duidB, 100),
		renumbered(32, 2, addr(2), addr(12), duidB, 100),
		ended(history.Refused, 34, 3, addr(3), history.CauseNoBinding), bound(40, 3, addr(13), duidB, 100),
		ended(history.Refused, 35, 4, addr(4), history.CauseZeroLifetime), bound(45, 4, addr(14), duidB, 100),
		ended(history.Expired, 31, 5, addr(5), ""), bound(36, 5, addr(5), duidB, 100),
		ended(history.Expired, 31, 6, addr(6), ""),
		bound(50, 8, addr(12), duidB, 100), // b hands client 2's address out again
		labEv(history.ServerRestarted, 90, "a"),
	)
}

var _ = Describe("Golden report", func() {
	l := lab
	l.Step = 10 * time.Second
	bounds := []check.Bound{
		{Path: "rebind.failure_rate", Op: "<=", Value: 0.9, Raw: "<= 0.9"},
		{Path: "reacquire_s.p99", Op: "<", Value: 20, Raw: "< 20s"},
	}

	It("matches testdata/report.golden.json", func() {
		r := check.Analyze(combined(), l)
		r.Evaluate(bounds)
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		Expect(enc.Encode(r)).To(Succeed())
		got := out.Bytes()
		if *update {
			Expect(os.WriteFile("testdata/report.golden.json", got, 0o644)).To(Succeed())
			var buf bytes.Buffer
			Expect(history.WriteJSONL(&buf, combined())).To(Succeed())
			Expect(os.WriteFile("testdata/history.jsonl", buf.Bytes(), 0o644)).To(Succeed())
		}
		want, err := os.ReadFile("testdata/report.golden.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal(string(want)))

		By("checking the numbers that matter by hand")
		Expect(r.Affected).To(Equal(6))
		Expect(r.Rebind).To(Equal(check.Rebind{Extended: 1, Renumbered: 1, Refused: 2, RefusedNoBinding: 1,
			RefusedZero: 1, Silent: 2, FailureRate: 5.0 / 6}))
		// reacquire: 10 (rebound), 12 (renumbered), 20 (nobinding), 25 (zero), 16 (silent)
		Expect(r.ReacquireS).To(Equal(check.Percentiles{Count: 5, P50: 16, P95: 25, P99: 25, Max: 25}))
		// outage: 0, 0, 6, 10, 5
		Expect(r.OutageS).To(Equal(check.Percentiles{Count: 5, P50: 5, P95: 10, P99: 10, Max: 10}))
		Expect(r.Unrecovered).To(Equal(1))
		Expect(r.Continuity).To(Equal(2.0 / 6))
		Expect(r.Duplicates.Addresses).To(Equal(1))
		Expect(r.Duplicates.OverlapS).To(Equal(70.0)) // [50, 120)
		Expect(r.Clients).To(Equal(8))
		Expect(r.Bound).To(Equal(7))
		Expect(r.BindingShare.AtS).To(HaveLen(12))
		Expect(r.BindingShare.Series["a"][1]).To(Equal(6))
		Expect(r.BindingShare.Series["b"][1]).To(Equal(1))
		Expect(r.BindingShare.Series["a"][11]).To(Equal(0))
		Expect(r.BindingShare.Series["b"][11]).To(Equal(7))
		Expect(r.BindingShare.Last).To(Equal(map[string]int{"a": 0, "b": 7}))
		Expect(r.OK()).To(BeFalse(), "a duplicate and a broken p99 bound")
	})

	It("rebuilds the same report from testdata/history.jsonl", func() {
		f, err := os.Open("testdata/history.jsonl")
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		evs, err := history.ReadJSONL(f)
		Expect(err).NotTo(HaveOccurred())
		Expect(evs).To(Equal(combined()), "the fixture matches the code that made it")
		want := check.Analyze(combined(), l)
		Expect(check.Analyze(evs, l)).To(Equal(want))
		Expect(check.Analyze(evs, want.Lab())).To(Equal(want), "the report carries its lab")
	})

	It("survives a JSON round trip", func() {
		r := check.Analyze(combined(), l)
		r.Evaluate(bounds)
		b, err := json.Marshal(r)
		Expect(err).NotTo(HaveOccurred())
		var back check.Report
		Expect(json.Unmarshal(b, &back)).To(Succeed())
		Expect(&back).To(Equal(r))
	})
})
