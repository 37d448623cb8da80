package render_test

import (
	"bytes"
	"net/netip"
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

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// sample builds a report by hand (render does not depend on check's maths).
func sample(model string, failure float64, dups int) *check.Report {
	continuity := 0.4
	r := &check.Report{
		Scenario: "kill-primary", Model: model, Engine: "virtual", Timescale: 1,
		Started: t0, Ended: t0.Add(2 * time.Minute), DurationS: 120, Events: 42,
		Clients: 100, Bound: 97,
		Fault:    &check.Fault{At: t0.Add(20 * time.Second), Kind: "server_killed", Servers: []string{"a"}},
		Affected: 50,
		Rebind: check.Rebind{Extended: 20, ExtendedSurvivor: 20, Renumbered: 10, Refused: 12, RefusedNoBinding: 8, RefusedZero: 4,
			Silent: 8, FailureRate: &failure},
		ReacquireS:       &check.Percentiles{Count: 49, P50: 12.5, P95: 40, P99: 61.25, Max: 990.4},
		OutageS:          &check.Percentiles{Count: 49, P50: 0, P95: 3, P99: 4.5, Max: 5},
		OutageTentativeS: &check.Percentiles{Count: 49},
		Continuity:       &continuity,
		Unrecovered:      1,
		PerIA:            map[string]check.IAFailover{"na": {Affected: 50}, "pd": {}},
		Duplicates:       check.Duplicates{Verdict: check.VerdictOK, Evidence: []check.Evidence{}},
		Conflicts:        check.Conflicts{Evidence: []check.Conflict{}},
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
		runs[2].ReacquireS = &check.Percentiles{}
		runs[1].Rebind.Undecided = 3
		runs[0].Conflicts.Count = 4
		runs[0].Conflicts.DelayS = check.Percentiles{Count: 4, P50: 1.5, P95: 2.4, P99: 2.5, Max: 2.5}
		runs[1].Conflicts = check.Conflicts{Count: 3, Kept: 2, Unrecovered: 2, DelayS: check.Percentiles{Count: 1, P50: 1, P95: 1, P99: 1, Max: 1}}
		var buf bytes.Buffer
		Expect(render.Compare(&buf, runs)).To(Succeed())
		golden("compare.golden.txt", buf.Bytes())
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		Expect(lines).To(HaveLen(15))
		Expect(strings.Fields(lines[0])).To(Equal([]string{"split", "unique", "identical"}))
		Expect(strings.Fields(lines[1])).To(Equal([]string{"rebind", "failure", "60.0%", "35.0%", "0.0%"}))
		Expect(strings.Fields(lines[2])).To(Equal([]string{"re-acquisition", "p50", "12.5s", "12.5s", "-"}))
		Expect(strings.Fields(lines[7])).To(Equal([]string{"duplicates", "0", "0", "2"}))
		Expect(strings.Fields(lines[8])).To(Equal([]string{"conflicts", "4", "3", "(2", "kept)", "0"}))
		Expect(strings.Fields(lines[9])).To(Equal([]string{"conflict", "delay", "p99", "2.5s", "1s", "(never:", "2)", "-"}))
		Expect(strings.Fields(lines[11])).To(Equal([]string{"undecided", "0", "3", "0"}))
		Expect(strings.Fields(lines[14])).To(Equal([]string{"verdict", "PASS", "PASS", "FAIL"}))
		for _, l := range lines[1:] {
			Expect(len(l)).To(Equal(len(lines[0])), "columns are aligned: %q", l)
			Expect(l).NotTo(HavePrefix(" "), "row names are left-aligned")
		}
	})

	It("names d6lab compare's variants of one model after the variant", func() {
		a, b := sample("identical", 0, 0), sample("identical", 0, 0)
		a.Scenario, b.Scenario = "compare-identical", "compare-identical-sequential"
		rows := render.CompareRows([]*check.Report{sample("split", 0.6, 0), a, b})
		Expect(rows[0].Values).To(Equal([]string{"split", "identical", "identical-sequential"}))
	})

	It("prints n/a for the failover metrics of a run in which no client was affected", func() {
		quiet := sample("unique", 0, 0)
		quiet.Affected, quiet.Rebind, quiet.Unrecovered = 0, check.Rebind{}, 0
		quiet.ReacquireS, quiet.OutageS, quiet.OutageTentativeS, quiet.Continuity = nil, nil, nil, nil
		quiet.PerIA = map[string]check.IAFailover{"na": {}, "pd": {}}
		var buf bytes.Buffer
		Expect(render.Table(&buf, quiet)).To(Succeed())
		out := buf.String()
		for _, row := range []string{"rebind failure", "re-acquisition p50/p95/p99/max", "outage p50/p99/max",
			"outage tentative p50/p99/max", "continuity"} {
			Expect(out).To(MatchRegexp(`(?m)^`+regexp.QuoteMeta(row)+` +n/a$`), row)
		}

		buf.Reset()
		Expect(render.Compare(&buf, []*check.Report{sample("split", 0.6, 0), quiet})).To(Succeed())
		lines := strings.Split(buf.String(), "\n")
		for _, k := range []int{1, 2, 3, 4, 5, 6} {
			f := strings.Fields(lines[k])
			Expect(f[len(f)-1]).To(Equal("n/a"), lines[k])
			Expect(f[len(f)-2]).NotTo(Equal("n/a"), lines[k])
		}

		buf.Reset()
		Expect(render.MarkdownCompare(&buf, []*check.Report{sample("split", 0.6, 0), quiet})).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("| continuity | 40.0% | n/a |"))
	})

	It("shows the split of extensions, released, nobinding, DAD conflicts and per-IA rows", func() {
		r := sample("split", 0.6, 0)
		r.Rebind.ExtendedSurvivor, r.Rebind.ExtendedRecovered = 15, 5
		r.Rebind.Released, r.Rebind.NoBinding = 2, 7
		pd := 0.5
		r.PerIA = map[string]check.IAFailover{
			"na": {Affected: 50, ReacquireS: &check.Percentiles{Count: 50, P50: 10, P95: 20, P99: 30, Max: 40}, OutageS: &check.Percentiles{Count: 50}, Continuity: r.Continuity},
			"pd": {Affected: 10, Unrecovered: 2, ReacquireS: &check.Percentiles{Count: 8, P50: 1, P95: 2, P99: 3, Max: 4}, OutageS: &check.Percentiles{Count: 8, P50: 1, P99: 1, Max: 1}, Continuity: &pd},
		}
		holder := 3
		r.Conflicts = check.Conflicts{Count: 3, Kept: 1, Addresses: 3, Pairs: 3, Unrecovered: 2, DelayS: check.Percentiles{Count: 1, P50: 4, P95: 4, P99: 4, Max: 4},
			Evidence: []check.Conflict{
				{Address: "2001:db8::7", Client: 11, Holder: &holder, At: t0.Add(53 * time.Second), Server: "b"},
				{Address: "2001:db8::63", Client: 12, At: t0.Add(61 * time.Second), Server: "b"},
				{Address: "2001:db8::64", Client: 13, Holder: &holder, At: t0.Add(62 * time.Second), Server: "a", Kept: true},
			}}
		var buf bytes.Buffer
		Expect(render.Table(&buf, r)).To(Succeed())
		golden("table-dad.golden.txt", buf.Bytes())
		out := buf.String()
		Expect(out).To(ContainSubstring("rebind extended                         20 (survivor 15, recovered 5)\n"))
		Expect(out).To(ContainSubstring("rebind released                         2\n"))
		Expect(out).To(ContainSubstring("rebind nobinding answers                7\n"))
		Expect(out).To(ContainSubstring("pd affected / unrecovered / continuity  10 / 2 / 50.0%\n"))
		Expect(out).To(ContainSubstring("pd re-acquisition p50/p95/p99/max       1s / 2s / 3s / 4s  (n=8)\n"))
		Expect(out).To(ContainSubstring("conflicts (dad)                         3: 3 addresses, 3 pairs; until usable again p50/p99/max 4s / 4s / 4s  (n=1), never: 2; kept unusable, not declined: 1\n"))
		Expect(out).To(ContainSubstring("  conflict 2001:db8::7: client 11 declined it at +53s (held by client 3, granted by b)\n"))
		Expect(out).To(ContainSubstring("  conflict 2001:db8::64: client 13 kept it unusable, its DAD failing at +62s (held by client 3, granted by a)\n"))
		Expect(out).To(ContainSubstring("(held by a host outside the population, granted by b)"))

		buf.Reset()
		Expect(render.Markdown(&buf, r)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("**Address conflicts (DAD)**: 3 addresses caught by DAD"))
		Expect(buf.String()).To(ContainSubstring("; 1 of them kept, unusable, instead of declined (marked kept)."))
		Expect(buf.String()).To(ContainSubstring("| `2001:db8::63` | 12 | a host outside the population | b | +61s |"))
		Expect(buf.String()).To(ContainSubstring("| `2001:db8::64` (kept) | 13 | client 3 | a | +62s |"))

		buf.Reset()
		Expect(render.HTML(&buf, render.NewRun(r, check.Samples{}, nil))).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("<h2>Address conflicts (duplicate address detection)</h2>"))
		Expect(buf.String()).To(ContainSubstring("<td>2001:db8::7</td><td class=\"n\">11</td><td>client 3</td><td>b</td><td class=\"n\">&#43;53s</td>"))
		Expect(buf.String()).To(ContainSubstring("<td>2001:db8::64 (kept)</td><td class=\"n\">13</td>"))
		Expect(buf.String()).To(ContainSubstring("1 of them were kept, unusable, instead of declined (marked kept), as the Debian clients do."))
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
