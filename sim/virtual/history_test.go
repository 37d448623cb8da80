package virtual_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

var _ = Describe("the history kept compact (Engine.History)", func() {
	// The engine keeps its history as a history.Log; the analysis reads
	// it through check.AnalyzeSource. The report and the samples must be
	// the ones the same events give as a slice, field for field: every
	// shipped scenario the engine plays (faults, load samples,
	// renumbering, DAD, prefix delegation, relays, stateless clients), at
	// most 500 clients and 4 h.
	It("gives the report the slice gives, for every shipped scenario the engine plays", func() {
		files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		scale, _ := filepath.Glob(filepath.Join("..", "..", "scenarios", "scale", "*.yaml"))
		played, loaded := 0, 0
		for _, f := range append(files, scale...) {
			sc, err := scenarios.Load(f)
			Expect(err).NotTo(HaveOccurred())
			if virtual.Check(sc) != nil {
				continue
			}
			sc.Clients.Count = min(sc.Clients.Count, 500)
			sc.Duration = min(sc.Duration, 4*time.Hour)
			e, err := virtual.RunScenarioOptions(context.Background(), sc, virtual.Options{})
			Expect(err).NotTo(HaveOccurred(), f)
			lab := sim.CheckLab(sc, "virtual")
			events := e.Events()
			Expect(e.History().Len()).To(Equal(len(events)), f)
			fromSlice, samplesSlice := check.AnalyzeSamples(events, lab)
			fromLog, samplesLog := check.AnalyzeSource(e.History(), lab)
			Expect(fromLog.Events).To(Equal(len(events)), f)
			Expect(asJSON(fromLog)).To(MatchJSON(asJSON(fromSlice)), f)
			Expect(samplesLog).To(Equal(samplesSlice), f)
			played++
			if fromLog.Load != nil {
				loaded++
			}
		}
		Expect(played).To(BeNumerically(">=", 20))
		Expect(loaded).To(Equal(played), "every run sampled the servers' load")
	})

	It("keeps a renewal in 48 bytes, against about 250 as an Event", func() {
		Expect(history.RecordSize).To(Equal(48))
	})
})

func asJSON(v any) string {
	GinkgoHelper()
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}
