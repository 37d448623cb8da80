package advice

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/scenarios"
	"d6lab/sim/sweep"
)

// row is a measured point: outage and re-acquisition p99 (seconds; <0
// unknown) and each server's steady load at the sample.
func row(i int, outage, reacq, load float64) sweep.Row {
	r := sweep.Row{Point: i, ServerSteadyMPS: map[string]*float64{"s1": ptr(load), "s2": ptr(load * 0.9)}}
	if outage >= 0 {
		r.OutageP99 = ptr(outage)
	}
	if reacq >= 0 {
		r.ReacquireP99 = ptr(reacq)
	}
	return r
}

func point(i int, m scenarios.Model, t1 time.Duration) sweep.Point {
	return sweep.Point{Index: i, Model: m, Lifetimes: scenarios.Lifetimes{T1: t1, T2: t1 * 11 / 10, Preferred: t1 * 8 / 5, Valid: 2 * t1}}
}

var _ = Describe("choosing", func() {
	q := Question{Clients: 1000, Servers: 2, Sample: 100, MaxOutage: 5 * time.Second, MaxLoad: 100, Margin: 0.05,
		Models: []scenarios.Model{scenarios.Split, scenarios.Unique, scenarios.Identical}}
	// Scale 10: a sample load of 9 is 90/s, under the bound of 95/s.
	pts := []sweep.Point{
		point(0, scenarios.Split, time.Minute), point(1, scenarios.Identical, time.Minute),
		point(2, scenarios.Split, 3*time.Minute), point(3, scenarios.Identical, 3*time.Minute),
		point(4, scenarios.Unique, 3*time.Minute),
	}
	rows := []sweep.Row{
		row(0, 1.99, 60, 17), row(1, 0, 60, 17), // too much load
		row(2, 1.95, 180, 9), row(3, 0, 181, 9),
		row(4, -1, -1, 9), // nobody affected: unknown meets no bound
	}

	It("recommends the best failover within the bounds, and the best point of another model as runner-up", func() {
		a := q.choose(pts, rows)
		Expect(a.Recommended).NotTo(BeNil())
		Expect(a.Recommended.Point).To(Equal(3))
		Expect(*a.Recommended.Load).To(BeNumerically("~", 90, 1e-9))
		Expect(a.RunnerUp.Point).To(Equal(2))
		Expect(a.Candidates[0].Broken).To(ConsistOf(Broken{Constraint: CMaxLoad, Why: "steady load 170/s > 95.0/s (100/s less the 5 % margin)"}))
		Expect(a.Candidates[4].Broken).To(ContainElement(Broken{Constraint: CMaxOutage, Why: "outage p99 unknown: no client was affected by the fault"}))
	})

	It("says what each constraint cost: the load bound bought re-acquisition time", func() {
		a := q.choose(pts, rows)
		Expect(a.Costs[0].Constraint).To(Equal(CMaxOutage))
		Expect(a.Costs[0].Binds).To(BeFalse())
		load := a.Costs[1]
		Expect(load.Constraint).To(Equal(CMaxLoad))
		Expect(load.Binds).To(BeTrue())
		Expect(load.Without.Point).To(Equal(1))
		Expect(load.Broken).To(Equal(2))
		Expect(load.Note).To(ContainSubstring("re-acquisition p99 60s (not 181s)"))
	})

	It("treats outages within the resolution as ties", func() {
		r := append([]sweep.Row(nil), rows...)
		r[3] = row(3, 0.04, 181, 9) // a DAD jitter of 40 ms does not beat 1 s of re-acquisition
		r[2] = row(2, 0, 180, 9)
		a := q.choose(pts, r)
		Expect(a.Recommended.Point).To(Equal(2))
	})

	It("with no point meeting the question names the constraints whose removal would give one", func() {
		strict := q
		strict.MaxReacquire = 90 * time.Second
		a := strict.choose(pts, rows)
		Expect(a.Recommended).To(BeNil())
		Expect(a.binding()).To(Equal("dropping either max-reacquire or max-load alone would give one"))
	})
})

var _ = Describe("the question", func() {
	It("fills the sample, the seed and the profile", func() {
		q := Question{Clients: 500, Servers: 2, MaxLoad: 1, Models: scenarios.Models}
		Expect(q.Validate()).To(Succeed())
		Expect(q.Sample).To(Equal(500))
		Expect(q.Seed).To(Equal(uint64(scenarios.DefaultSeed)))
		Expect(string(q.Profile)).To(Equal("rfc"))
	})

	It("needs K pools for split and unique, one for identical (one survivor serves everyone)", func() {
		Expect(PoolNeed(scenarios.Split, 3)).To(Equal(3.0))
		Expect(PoolNeed(scenarios.Identical, 3)).To(Equal(1.0))
	})
})

var _ = Describe("caveats", func() {
	It("name what the asked profile does not model, and send an rfc question to the profiles", func() {
		q := Question{Clients: 1000, Servers: 2, Sample: 100, Profile: "dhcpcd"}
		Expect(q.caveats(nil)).To(ContainElement(ContainSubstring(
			"profile dhcpcd does not model 2 things dhcpcd 9.4.1 (Debian 12 dhcpcd-base) does (mrc · release_gave_up, refreshed;")))
		q.Profile = "rfc"
		Expect(q.caveats(nil)).NotTo(ContainElement(ContainSubstring("does not model")))
		Expect(q.caveats(nil)).To(ContainElement(ContainSubstring("ask again with --profile dhclient or dhcpcd")))
	})
})
