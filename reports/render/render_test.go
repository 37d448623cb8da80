package render_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/reports/render"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// sample builds a report by hand (render does not depend on check's maths).
func sample(model string, failure float64, dups int) *check.Report {
	r := &check.Report{
		Scenario: "kill-primary", Model: model, Engine: "virtual", Timescale: 1,
		Started: t0, Ended: t0.Add(2 * time.Minute), DurationS: 120, Events: 42,
		Clients: 100, Bound: 97,
		Fault:    &check.Fault{At: t0.Add(20 * time.Second), Kind: "server_killed", Servers: []string{"a"}},
		Affected: 50,
		Rebind: check.Rebind{Extended: 20, Renumbered: 10, Refused: 12, RefusedNoBinding: 8, RefusedZero: 4,
			Silent: 8, FailureRate: failure},
		ReacquireS:  check.Percentiles{Count: 49, P50: 12.5, P95: 40, P99: 61.25, Max: 990.4},
		OutageS:     check.Percentiles{Count: 49, P50: 0, P95: 3, P99: 4.5, Max: 5},
		Continuity:  0.4,
		Unrecovered: 1,
		Duplicates:  check.Duplicates{Verdict: check.VerdictOK, Evidence: []check.Evidence{}},
		BindingShare: check.BindingShare{StepS: 60, AtS: []float64{0, 60},
			Series: map[string][]int{"a": {50, 0}, "b": {50, 97}}, Last: map[string]int{"a": 0, "b": 97}},
		Expect: []check.ExpectResult{},
	}
	if dups > 0 {
		r.Duplicates = check.Duplicates{Verdict: check.VerdictViolated, Addresses: dups, Pairs: dups, OverlapS: 70,
			Evidence: []check.Evidence{{Address: "2001:db8::c", ClientA: 2, ClientB: 8,
				From: t0.Add(50 * time.Second), To: t0.Add(2 * time.Minute), OverlapS: 70, ServerA: "b", ServerB: "b"}}}
	}
	return r
}

func golden(name string, got []byte) {
	path := filepath.Join("testdata", name)
	if *update {
		Expect(os.WriteFile(path, got, 0o644)).To(Succeed())
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal(string(want)))
}

var _ = Describe("Terminal tables", func() {
	It("renders one report with its expects and verdict", func() {
		r := sample("split", 0.6, 1)
		r.Expect = []check.ExpectResult{
			{Name: "rebind.failure_rate", Bound: "<= 0.7", Value: 0.6, OK: true},
			{Name: "reacquire_s.p99", Bound: "< 30s", Value: 61.25, OK: false},
			{Name: "rebind.faliure", Bound: "< 1", Error: `metric "rebind.faliure": no such metric`},
		}
		var buf bytes.Buffer
		Expect(render.Table(&buf, r)).To(Succeed())
		golden("table.golden.txt", buf.Bytes())
		out := buf.String()
		Expect(out).To(ContainSubstring("rebind failure                  60.0%"))
		Expect(out).To(ContainSubstring("12.5s / 40s / 61.3s / 990s  (n=49)"))
		Expect(out).To(ContainSubstring("FAIL  reacquire_s.p99 < 30s  (got 61.25)"))
		Expect(out).To(HaveSuffix("verdict  FAIL\n"))
	})

	It("says PASS when every bound holds and there is no duplicate", func() {
		var buf bytes.Buffer
		Expect(render.Table(&buf, sample("identical", 0, 0))).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("duplicates                      ok\n"))
		Expect(buf.String()).To(HaveSuffix("verdict  PASS\n"))
	})

	It("compares runs side by side, one column per model", func() {
		runs := []*check.Report{sample("split", 0.6, 0), sample("unique", 0.35, 0), sample("identical", 0, 2)}
		runs[2].ReacquireS = check.Percentiles{}
		var buf bytes.Buffer
		Expect(render.Compare(&buf, runs)).To(Succeed())
		golden("compare.golden.txt", buf.Bytes())
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		Expect(lines).To(HaveLen(12))
		Expect(strings.Fields(lines[0])).To(Equal([]string{"split", "unique", "identical"}))
		Expect(strings.Fields(lines[1])).To(Equal([]string{"rebind", "failure", "60.0%", "35.0%", "0.0%"}))
		Expect(strings.Fields(lines[2])).To(Equal([]string{"re-acquisition", "p50", "12.5s", "12.5s", "-"}))
		Expect(strings.Fields(lines[7])).To(Equal([]string{"duplicates", "0", "0", "2"}))
		Expect(strings.Fields(lines[11])).To(Equal([]string{"verdict", "PASS", "PASS", "FAIL"}))
		for _, l := range lines[1:] {
			Expect(len(l)).To(Equal(len(lines[0])), "columns are aligned: %q", l)
			Expect(l).NotTo(HavePrefix(" "), "row names are left-aligned")
		}
	})

	It("tells runs of the same model apart", func() {
		a, b := sample("split", 0, 0), sample("split", 0, 0)
		b.Scenario = "freeze"
		var buf bytes.Buffer
		Expect(render.Compare(&buf, []*check.Report{a, b})).To(Succeed())
		Expect(strings.SplitN(buf.String(), "\n", 2)[0]).To(And(
			ContainSubstring("split (kill-primary)"), ContainSubstring("split (freeze)")))
	})
})

var _ = Describe("JSON files", func() {
	It("round-trips report.json and compare.json", func() {
		r := sample("split", 0.6, 1)
		var buf bytes.Buffer
		Expect(render.WriteReport(&buf, r)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring(`"failure_rate": 0.6`))
		back, err := render.ReadReport(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(back).To(Equal(r))

		buf.Reset()
		runs := []*check.Report{r, sample("unique", 0.1, 0)}
		Expect(render.WriteCompare(&buf, runs)).To(Succeed())
		Expect(buf.String()).To(HavePrefix("{\n  \"runs\": [\n"))
		got, err := render.ReadCompare(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(runs))
	})

	It("saves a run and rebuilds its report from history.jsonl", func() {
		at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
		lease := netip.MustParsePrefix("2001:db8::1/128")
		events := []history.Event{
			{At: at(0), Kind: history.RunStarted},
			{At: at(1), Kind: history.Bound, Client: 1, Server: "0001aa", IA: history.IANA, Lease: lease, Valid: time.Hour},
			{At: at(10), Kind: history.ServerKilled, Server: "a"},
			{At: at(25), Kind: history.Rebound, Client: 1, Server: "0001bb", IA: history.IANA, Lease: lease, Valid: time.Hour},
			{At: at(60), Kind: history.RunEnded},
		}
		lab := check.Lab{Model: "identical", Servers: []check.ServerInfo{{Name: "a", DUID: "0001aa"}, {Name: "b", DUID: "0001bb"}}}
		r := check.Analyze(events, lab)
		Expect(r.Rebind.Extended).To(Equal(1))

		dir := filepath.Join(GinkgoT().TempDir(), "run")
		Expect(render.SaveRun(dir, r, events)).To(Succeed())
		Expect(filepath.Join(dir, render.HistoryFile)).To(BeARegularFile())
		again, err := render.Rebuild(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(Equal(r))

		Expect(render.SaveCompare(dir, []*check.Report{r})).To(Succeed())
		Expect(filepath.Join(dir, render.CompareFile)).To(BeARegularFile())
	})

	It("names the file it cannot read", func() {
		_, err := render.Rebuild(GinkgoT().TempDir())
		Expect(err).To(MatchError(ContainSubstring(render.ReportFile)))
	})
})
