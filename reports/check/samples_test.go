package check_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
)

var _ = Describe("Samples", func() {
	It("returns each recovered client's re-acquisition time, ascending, matching the report", func() {
		r, s := check.AnalyzeSamples(combined(), lab)
		// 8 (notonlink), 10 (rebound), 12 (renumbered), 13 (renumbered, old
		// kept), 16 (silent), 19 (released), 20 (nobinding), 25 (zero), 30
		// (NA+PD: the prefix), 70 (extended by the restarted server);
		// client 6 never recovered and has no sample
		Expect(s.ReacquireS).To(Equal([]float64{8, 10, 12, 13, 16, 19, 20, 25, 30, 70}))
		Expect(s.ReacquireS).To(HaveLen(r.ReacquireS.Count))
		Expect(r).To(Equal(check.Analyze(combined(), lab)), "the report is Analyze's")
	})

	It("is empty without a fault", func() {
		_, s := check.AnalyzeSamples(run(60, bound(1, 1, addr(1), duidA, 100)), lab)
		Expect(s.ReacquireS).To(BeEmpty())
	})
})
