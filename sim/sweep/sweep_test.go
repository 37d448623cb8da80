package sweep_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/scenarios"
	"d6lab/sim/sweep"
)

var _ = Describe("the grid", func() {
	base := scenarios.Lifetimes{T1: 10 * time.Second, T2: 16 * time.Second, Preferred: 20 * time.Second, Valid: 30 * time.Second}

	It("is the cartesian product of the axes, the last varying fastest, with ratios of each point's valid", func() {
		axes, err := sweep.ParseVary([]string{"lifetimes.valid=60s,300s", "lifetimes.t1=0.25v,0.5v,lifetimes.t2=0.8v"})
		Expect(err).NotTo(HaveOccurred())
		Expect(sweep.AxisStrings(axes)).To(Equal([]string{"lifetimes.valid=1m0s,5m0s", "lifetimes.t1=0.25v,0.5v", "lifetimes.t2=0.8v"}))
		pts := sweep.Lifetimes(base, axes)
		var got []string
		for _, l := range pts {
			got = append(got, sweep.Label(l))
		}
		// preferred keeps the file's 20/30 of valid, raised to t2 when shorter
		Expect(got).To(Equal([]string{
			"t1 15s t2 48s pref 48s valid 60s",
			"t1 30s t2 48s pref 48s valid 60s",
			"t1 75s t2 240s pref 240s valid 300s",
			"t1 150s t2 240s pref 240s valid 300s",
		}))
	})

	It("keeps the base's ratios for fields not varied and takes durations as given", func() {
		axes, err := sweep.ParseVary([]string{"lifetimes.valid=300s,lifetimes.preferred=250s"})
		Expect(err).NotTo(HaveOccurred())
		Expect(sweep.Label(sweep.Lifetimes(base, axes)[0])).To(Equal("t1 100s t2 160s pref 250s valid 300s"))
	})

	DescribeTable("rejects bad --vary values, naming field and value",
		func(spec, msg string) {
			_, err := sweep.ParseVary([]string{spec})
			Expect(err).To(MatchError(ContainSubstring(msg)))
		},
		Entry("unknown field", "lifetimes.t3=1s", `"lifetimes.t3" is not a field a sweep varies`),
		Entry("no field first", "60s,300s", "want FIELD=VALUE"),
		Entry("a field twice", "lifetimes.t1=1s,lifetimes.t1=2s", "lifetimes.t1 is given twice"),
		Entry("not a duration", "lifetimes.valid=sixty", "--vary lifetimes.valid=sixty: want a duration"),
		Entry("valid as a ratio", "lifetimes.valid=0.5v", "valid cannot be a ratio of itself"),
		Entry("a ratio above 1", "lifetimes.t1=1.5v", "--vary lifetimes.t1=1.5v: want a ratio of valid in (0, 1]"),
		Entry("a negative duration", "lifetimes.t2=-5s", "must be positive"),
		Entry("an empty value", "lifetimes.t1=1s,,2s", "an empty value"),
	)

	It("fails a point that does not validate before anything runs, naming the point and the field", func() {
		sc, err := scenarios.Load("../../scenarios/split-kill.yaml")
		Expect(err).NotTo(HaveOccurred())
		axes, err := sweep.ParseVary([]string{"lifetimes.valid=60s,90s,lifetimes.t1=50s"})
		Expect(err).NotTo(HaveOccurred())
		// point 1: t1 50s > t2 (16/30 of 60s = 32s)
		_, err = sweep.Plan(sc, axes, scenarios.Models, 50)
		Expect(err).To(MatchError(And(ContainSubstring("point 1 (t1 50s t2 32s pref 40s valid 60s, split)"), ContainSubstring("lifetimes."))))
		axes, err = sweep.ParseVary([]string{"lifetimes.valid=90s,lifetimes.t1=0.3v,lifetimes.t2=0.5v"})
		Expect(err).NotTo(HaveOccurred())
		_, err = sweep.Plan(sc, axes, scenarios.Models, 50)
		Expect(err).NotTo(HaveOccurred())
	})

	It("parses --models", func() {
		ms, err := sweep.Models([]string{"identical", "split"})
		Expect(err).NotTo(HaveOccurred())
		Expect(ms).To(Equal([]scenarios.Model{scenarios.Identical, scenarios.Split}))
		_, err = sweep.Models([]string{"mirror"})
		Expect(err).To(MatchError(ContainSubstring(`"mirror" is not a model`)))
	})
})

var _ = Describe("a tiny sweep", func() {
	It("runs 2 points x 3 models and writes sweep.json with one row per point and sweep.html with the charts", func() {
		sc, err := scenarios.Load("../../scenarios/split-kill.yaml")
		Expect(err).NotTo(HaveOccurred())
		axes, err := sweep.ParseVary([]string{"lifetimes.valid=60s,120s,lifetimes.t1=0.5v"})
		Expect(err).NotTo(HaveOccurred())
		pts, err := sweep.Plan(sc, axes, scenarios.Models, 50)
		Expect(err).NotTo(HaveOccurred())
		Expect(pts).To(HaveLen(6))
		Expect(pts[0].Scenario.Timeline).To(HaveLen(1))
		// the clients arrive over one t1 (30s); the fault at that ramp +
		// 2 t1 60s; duration fault + valid 60s + 30s
		Expect(pts[0].Scenario.Clients.Ramp).To(Equal(30 * time.Second))
		Expect(pts[0].Scenario.Timeline[0].At).To(Equal(90 * time.Second))
		Expect(pts[0].Scenario.Duration).To(Equal(180 * time.Second))
		Expect(pts[1].Scenario.Servers[1].Prefix).NotTo(Equal(pts[0].Scenario.Servers[1].Prefix), "unique: s2 has its own /64")

		done := 0
		rows, err := sweep.Run(context.Background(), pts, sweep.Options{Workers: 2, Done: func(sweep.Point, int, time.Duration) { done++ }})
		Expect(err).NotTo(HaveOccurred())
		Expect(done).To(Equal(6))
		Expect(rows).To(HaveLen(6))
		for i, r := range rows {
			Expect(r.Point).To(Equal(i))
			Expect(r.Model).To(Equal(string(scenarios.Models[i%3])))
			Expect(r.Unrecovered).To(BeZero())
			Expect(r.Duplicates).To(BeZero())
			Expect(r.SteadyMPS).NotTo(BeNil())
			Expect(r.PeakMPS).NotTo(BeNil())
			Expect(r.ReacquireP99).NotTo(BeNil())
			// each server receives every Renew: clients / T1 each (the
			// window holds whole T1s; the bound leaves room for a
			// retransmission or a second cut by the window's start)
			Expect(*r.ServerSteadyMPS["s2"]).To(BeNumerically("~", 50/r.T1S, 0.05*50/r.T1S))
			Expect(r.Metrics).To(HaveKey("load.servers.s1.steady_mps"))
			Expect(r.Metrics).To(HaveKey("outage_s.p99"))
		}
		Expect(*rows[2].OutageP99).To(BeZero(), "identical keeps every address")
		Expect(*rows[0].RebindFailure).To(BeNumerically(">=", 0.99), "split renumbers")
		// the longer lifetimes load the servers less: each model's front
		// holds the 120s point for the outage
		Expect(rows[3].ParetoOutage && rows[4].ParetoOutage && rows[5].ParetoOutage).To(BeTrue())

		again, err := sweep.Run(context.Background(), pts, sweep.Options{Workers: 1})
		Expect(err).NotTo(HaveOccurred())
		for i := range rows {
			again[i].WallS = rows[i].WallS
		}
		Expect(again).To(Equal(rows), "seeded: the same rows whatever the workers")

		dir := GinkgoT().TempDir()
		s := &sweep.Sweep{Scenario: sc.Name, Engine: "virtual", Clients: 50, Models: []string{"split", "unique", "identical"},
			Vary: sweep.AxisStrings(axes), Rule: sweep.FaultRule, Rows: rows}
		Expect(sweep.Save(dir, s)).To(Succeed())
		b, err := os.ReadFile(filepath.Join(dir, sweep.JSONFile))
		Expect(err).NotTo(HaveOccurred())
		var back sweep.Sweep
		Expect(json.Unmarshal(b, &back)).To(Succeed())
		Expect(back.Rows).To(HaveLen(6))
		Expect(back.Rows[3].ValidS).To(Equal(120.0))
		h, err := os.ReadFile(filepath.Join(dir, sweep.HTMLFile))
		Expect(err).NotTo(HaveOccurred())
		page := string(h)
		Expect(strings.Count(page, `<svg class="chart"`)).To(Equal(7), "the overview, then two charts per model")
		Expect(page).To(ContainSubstring("server load against re-acquisition p99</title>"))
		svg, err := os.ReadFile(filepath.Join(dir, sweep.SVGFile))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(svg)).To(ContainSubstring(`xmlns="http://www.w3.org/2000/svg"`), "a standalone file")
		Expect(page).To(ContainSubstring("split: steady server load against outage p99"))
		Expect(page).To(ContainSubstring("identical: steady server load against re-acquisition p99"))
		Expect(page).To(ContainSubstring("Pareto front"))
		Expect(page).NotTo(ContainSubstring("<script"))
		Expect(page).NotTo(MatchRegexp(`(src|href)="https?:`), "no network")
	})
})

var _ = Describe("validation", func() {
	row := func(point int, model string, dur, reacq, load float64, front bool) sweep.Row {
		return sweep.Row{Point: point, Model: model, DurationS: dur, ParetoReacquire: front,
			Metrics: map[string]any{"reacquire_s.p50": reacq, "load.steady_mps": load}}
	}

	It("picks the first model's shortest Pareto points, then its other points", func() {
		rows := []sweep.Row{
			row(0, "split", 100, 1, 1, true), row(1, "identical", 50, 1, 1, true),
			row(2, "split", 3000, 1, 1, true), row(3, "split", 60, 1, 1, false),
			row(4, "split", 200, 1, 1, true),
		}
		Expect(sweep.PickValidation(rows, "split", 2)).To(Equal([]int{0, 4}))
		Expect(sweep.PickValidation(rows, "split", 4)).To(Equal([]int{0, 2, 3, 4}))
		Expect(sweep.PickValidation(rows, "unique", 2)).To(BeEmpty())
	})

	It("agrees within the tolerance, and says by how much each metric differs", func() {
		a := sweep.Agree(row(3, "split", 100, 40, 200, true), row(3, "split", 100, 41, 211, true), 0.05)
		Expect(a.OK).To(BeFalse())
		Expect(a.Metrics).To(HaveLen(2))
		Expect(a.Metrics[0].OK).To(BeTrue())
		Expect(*a.Metrics[0].Diff).To(BeNumerically("~", 0.025, 1e-12))
		Expect(a.Metrics[1].OK).To(BeFalse())
		Expect(*a.Metrics[1].Diff).To(BeNumerically("~", 0.055, 1e-12))
	})

	It("does not agree with an unknown value", func() {
		unknown := sweep.Row{Point: 1, Metrics: map[string]any{"reacquire_s.p50": nil, "load.steady_mps": 3.0}}
		a := sweep.Agree(row(1, "split", 1, 40, 3, true), unknown, 0.05)
		Expect(a.OK).To(BeFalse())
		Expect(a.Metrics[0].Diff).To(BeNil())
	})
})
