package virtual_test

import (
	"bytes"
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/reports/render"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

var _ = Describe("a history that merges renewals (Options.MergeRenewals)", func() {
	// The same run with every event and with renewals merged must give
	// the same report.json, byte for byte (events included: a merged
	// renewal still counts), the same samples, and the same report again
	// from its history.jsonl read back (`d6lab report DIR`): every
	// shipped scenario the engine plays, at most 500 clients and 6 h, and
	// the three 24 h scale scenarios at 1,000 clients (a day of renewals
	// after the fault).
	run := func(f string, clients int, d time.Duration, merge bool) (*virtual.Engine, *scenarios.Scenario) {
		GinkgoHelper()
		sc, err := scenarios.Load(f)
		Expect(err).NotTo(HaveOccurred())
		if virtual.Check(sc) != nil {
			return nil, sc
		}
		sc.Clients.Count = min(sc.Clients.Count, clients)
		if clients > 0 && filepath.Base(filepath.Dir(f)) == "scale" {
			sc.Clients.Count = clients
		}
		sc.Duration = min(sc.Duration, d)
		e, err := virtual.RunScenarioOptions(context.Background(), sc, virtual.Options{MergeRenewals: merge})
		Expect(err).NotTo(HaveOccurred(), f)
		return e, sc
	}
	report := func(src history.Source, sc *scenarios.Scenario) (string, check.Samples) {
		GinkgoHelper()
		r, s := check.AnalyzeSource(src, sim.CheckLab(sc, "virtual"))
		r.Evaluate(sim.Bounds(sc.Expect))
		var b bytes.Buffer
		Expect(render.WriteReport(&b, r)).To(Succeed())
		return b.String(), s
	}

	It("gives the report of every event, for every shipped scenario the engine plays", func() {
		files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		played, merged := 0, 0
		for _, f := range files {
			full, sc := run(f, 500, 6*time.Hour, false)
			if full == nil {
				continue
			}
			m, _ := run(f, 500, 6*time.Hour, true)
			want, wantSamples := report(full.History(), sc)
			got, gotSamples := report(m.History(), sc)
			Expect(got).To(Equal(want), f)
			Expect(gotSamples).To(Equal(wantSamples), f)
			Expect(m.History().Len()).To(BeNumerically("<=", full.History().Len()), f)
			if m.History().Len() < full.History().Len() {
				merged++
			}
			// history.jsonl read back gives it again
			var jl bytes.Buffer
			Expect(history.WriteSourceJSONL(&jl, m.History())).To(Succeed())
			back, err := history.ReadJSONL(&jl)
			Expect(err).NotTo(HaveOccurred())
			again, _ := report(history.Events(back), sc)
			Expect(again).To(Equal(want), f)
			played++
		}
		Expect(played).To(BeNumerically(">=", 20))
		Expect(merged).To(BeNumerically(">=", played/2), "most scenarios renew, and merge")
	})

	It("gives the report of every event for the 24 h scale scenarios, in a tenth of the events or fewer", func() {
		for _, name := range []string{"split-24h.yaml", "unique-24h.yaml", "identical-24h.yaml"} {
			f := filepath.Join("..", "..", "scenarios", "scale", name)
			full, sc := run(f, 1000, 24*time.Hour, false)
			m, _ := run(f, 1000, 24*time.Hour, true)
			want, wantSamples := report(full.History(), sc)
			got, gotSamples := report(m.History(), sc)
			Expect(got).To(Equal(want), f)
			Expect(gotSamples).To(Equal(wantSamples), f)
			// 1,000 clients x 48 renewals a day: a tenth of the events
			// or fewer but for the load samples, which are the same
			Expect(notLoad(m.History())*10).To(BeNumerically("<", notLoad(full.History())), f)
			Expect(m.History().Len()-notLoad(m.History())).To(Equal(full.History().Len()-notLoad(full.History())), f)
		}
	})

	It("keeps each binding's last renewal time and count, not each renewal", func() {
		f := filepath.Join("..", "..", "scenarios", "scale", "split-24h.yaml")
		m, _ := run(f, 20, 3*time.Hour, true)
		full, _ := run(f, 20, 3*time.Hour, false)
		renewals, counted := 0, 0
		for _, ev := range full.Events() {
			if ev.Kind == history.Renewed {
				renewals++
			}
		}
		for _, ev := range m.Events() {
			if ev.Kind == history.Renewed {
				counted++
			}
			if ev.Renewals > 0 {
				counted += ev.Renewals
				Expect(ev.Extended.After(ev.At)).To(BeTrue())
				Expect(ev.Kind).To(BeElementOf(history.Bound, history.Renewed, history.Rebound, history.Renumbered))
			}
		}
		Expect(renewals).To(BeNumerically(">", 0))
		Expect(counted).To(Equal(renewals))
	})
})

// notLoad counts the events of src that are not load samples.
func notLoad(src history.Source) int {
	n := 0
	for i := range src.Len() {
		if src.Kind(i) != history.ServerLoad {
			n++
		}
	}
	return n
}
