package bench_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/bench"
)

// threshold is a fake server: every rate up to t passes, above it fails
// (drops and latency alike). It records the rates it was asked for.
type threshold struct {
	t     float64
	rates []float64
}

func (f *threshold) measure(_ context.Context, r float64) (bench.Verdict, error) {
	f.rates = append(f.rates, r)
	return bench.Verdict{Drops: r <= f.t, Latency: r <= f.t}, nil
}

// queueing is a fake server that keeps its drops low by queueing: its
// p99 passes up to lat, its drops up to drop (lat <= drop).
type queueing struct {
	lat, drop float64
	rates     []float64
}

func (f *queueing) measure(_ context.Context, r float64) (bench.Verdict, error) {
	f.rates = append(f.rates, r)
	return bench.Verdict{Drops: r <= f.drop, Latency: r <= f.lat}, nil
}

// verdict makes a Measure of a pass/fail function (both criteria alike).
func verdict(f func(r float64) (bool, error)) bench.Measure {
	return func(_ context.Context, r float64) (bench.Verdict, error) {
		ok, err := f(r)
		return bench.Verdict{Drops: ok, Latency: ok}, err
	}
}

var _ = Describe("Search", func() {
	cfg := bench.DefaultSearch()

	DescribeTable("converges on the threshold within the tolerance, in bounded steps",
		func(t float64, maxSteps int) {
			f := &threshold{t: t}
			res, err := bench.Search(context.Background(), cfg, f.measure)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Outcome).To(Equal(bench.Converged))
			Expect(res.Pass).To(BeNumerically("<=", t), "reported a rate that fails")
			Expect(res.Fail).To(BeNumerically(">", t), "reported a failing rate that passes")
			Expect(res.Fail - res.Pass).To(BeNumerically("<=", cfg.Tolerance*res.Fail+1))
			Expect(res.Pass).To(BeNumerically(">=", 0.95*t-1))
			Expect(res.Steps).To(Equal(len(f.rates)))
			Expect(res.Steps).To(BeNumerically("<=", maxSteps))
			for _, r := range f.rates {
				Expect(r).To(Equal(math.Round(r)), "rates are whole exchanges/s (perfdhcp -r)")
				Expect(r).To(BeNumerically(">=", cfg.MinRate))
				Expect(r).To(BeNumerically("<=", cfg.MaxRate))
			}
		},
		// ramp 500..16000 (6 steps), bisect [8000,16000] to 5 % (about 4)
		Entry("Kea-like, 12,000/s", 12000.0, 12),
		Entry("just below the start", 499.0, 8),
		Entry("exactly the start", 500.0, 8),
		Entry("dnsmasq-like, 200/s: ramps down", 200.0, 8),
		Entry("slow, 7/s", 7.0, 10),
		Entry("fast, 1,234,567/s", 1234567.0, 18),
	)

	It("never measures the same rate twice", func() {
		f := &threshold{t: 43210}
		_, err := bench.Search(context.Background(), cfg, f.measure)
		Expect(err).NotTo(HaveOccurred())
		seen := map[float64]bool{}
		for _, r := range f.rates {
			Expect(seen).NotTo(HaveKey(r))
			seen[r] = true
		}
	})

	It("stops at MaxRate when every rate passes", func() {
		c := cfg
		c.MaxRate = 3000
		f := &threshold{t: math.Inf(1)}
		res, err := bench.Search(context.Background(), c, f.measure)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(bench.ReachedMax))
		Expect(res.Pass).To(Equal(3000.0))
		Expect(res.Fail).To(BeZero())
		Expect(f.rates).To(Equal([]float64{500, 1000, 2000, 3000}))
	})

	It("gives up below MinRate when nothing passes", func() {
		f := &threshold{t: 2}
		res, err := bench.Search(context.Background(), cfg, f.measure)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(bench.NonePassed))
		Expect(res.Pass).To(BeZero())
		Expect(res.Fail).To(BeNumerically(">=", cfg.MinRate))
		Expect(f.rates[len(f.rates)-1]).To(Equal(cfg.MinRate), "MinRate itself was tried")
	})

	It("ends after MaxSteps on a noisy server and still reports a passing rate", func() {
		rng := rand.New(rand.NewPCG(1, 2))
		c := cfg
		c.MaxSteps = 10
		n := 0
		noisy := func(r float64) (bool, error) {
			n++
			if r > 10000 {
				return false, nil
			}
			return rng.Float64() < 0.7, nil // a flaky server below its limit
		}
		res, err := bench.Search(context.Background(), c, verdict(noisy))
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(BeNumerically("<=", 10))
		Expect(res.Steps).To(Equal(n))
		Expect(res.Pass).To(BeNumerically("<=", 10000))
	})

	It("returns the measurement's error with the bracket so far", func() {
		boom := errors.New("boom")
		calls := 0
		res, err := bench.Search(context.Background(), cfg, verdict(func(r float64) (bool, error) {
			calls++
			if calls == 3 {
				return false, boom
			}
			return true, nil
		}))
		Expect(err).To(MatchError(boom))
		Expect(res.Pass).To(Equal(1000.0))
		Expect(res.Steps).To(Equal(3))
	})

	It("stops when the context is cancelled", func() {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		_, err := bench.Search(ctx, cfg, verdict(func(float64) (bool, error) {
			calls++
			cancel()
			return true, nil
		}))
		Expect(err).To(MatchError(context.Canceled))
		Expect(calls).To(Equal(1))
	})

	DescribeTable("refuses bounds that make no search",
		func(mod func(*bench.SearchConfig)) {
			c := cfg
			mod(&c)
			_, err := bench.Search(context.Background(), c, verdict(func(float64) (bool, error) {
				Fail("measured with a bad config")
				return false, nil
			}))
			Expect(err).To(MatchError(bench.ErrBadSearch))
		},
		Entry("start 0", func(c *bench.SearchConfig) { c.Start = 0 }),
		Entry("start above max", func(c *bench.SearchConfig) { c.MaxRate = c.Start - 1 }),
		Entry("start below min", func(c *bench.SearchConfig) { c.MinRate = c.Start + 1 }),
		Entry("tolerance 0", func(c *bench.SearchConfig) { c.Tolerance = 0 }),
		Entry("tolerance 1", func(c *bench.SearchConfig) { c.Tolerance = 1 }),
		Entry("no steps", func(c *bench.SearchConfig) { c.MaxSteps = 0 }),
	)
})

var _ = Describe("Search with a latency bound", func() {
	cfg := bench.DefaultSearch()

	It("finds the rate at the latency bound and, from the same steps, the drops-only rate", func() {
		f := &queueing{lat: 12000, drop: 21000}
		res, err := bench.Search(context.Background(), cfg, f.measure)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(bench.Converged))
		Expect(res.Pass).To(And(BeNumerically("<=", 12000), BeNumerically(">=", 0.95*12000-1)))
		Expect(res.Fail).To(BeNumerically(">", 12000))
		Expect(res.DropsOnly.Outcome).To(Equal(bench.Converged))
		Expect(res.DropsOnly.Pass).To(And(BeNumerically("<=", 21000), BeNumerically(">=", 0.95*21000-1)))
		Expect(res.DropsOnly.Fail).To(BeNumerically(">", 21000))
		Expect(res.Steps).To(Equal(len(f.rates)))
		Expect(res.Steps).To(BeNumerically("<=", 16), "ramp to 32000 (7), bisect each bracket (about 4 each)")
		seen := map[float64]bool{}
		for _, r := range f.rates {
			Expect(seen).NotTo(HaveKey(r), "measured %v twice", r)
			seen[r] = true
		}
	})

	It("gives one answer to both when the drops and the latency break together", func() {
		f := &queueing{lat: 7000, drop: 7000}
		res, err := bench.Search(context.Background(), cfg, f.measure)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.DropsOnly.Pass).To(Equal(res.Pass))
		Expect(res.DropsOnly.Fail).To(Equal(res.Fail))
		Expect(res.Steps).To(BeNumerically("<=", 10))
	})

	It("reports a server that never meets the latency bound, with its drops-only rate", func() {
		c := cfg
		c.Start = 40
		f := &queueing{lat: 0, drop: 300}
		res, err := bench.Search(context.Background(), c, f.measure)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(bench.NonePassed))
		Expect(res.Pass).To(BeZero())
		Expect(res.DropsOnly.Outcome).To(Equal(bench.Converged))
		Expect(res.DropsOnly.Pass).To(BeNumerically("<=", 300))
	})

	It("ends a bracket still open at MaxSteps out of steps, keeping what it has", func() {
		c := cfg
		c.MaxSteps = 12
		f := &queueing{lat: 12000, drop: 500000}
		res, err := bench.Search(context.Background(), c, f.measure)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Steps).To(Equal(12))
		Expect(res.Outcome).To(Equal(bench.Converged))
		Expect(res.DropsOnly.Outcome).To(Equal(bench.OutOfSteps))
		Expect(res.DropsOnly.Pass).To(BeNumerically(">=", 32000))
		Expect(res.DropsOnly.Fail).To(BeZero())
	})
})

var _ = Describe("Search on a noisy machine", func() {
	cfg := bench.DefaultSearch()

	It("takes a pass above a failure as proof: the failure was another process's stall", func() {
		calls := 0
		res, err := bench.Search(context.Background(), cfg, func(_ context.Context, r float64) (bench.Verdict, error) {
			calls++
			// The first step, at 500/s, meets a stall: its p99 fails.
			return bench.Verdict{Drops: r <= 12000, Latency: calls > 1 && r <= 12000}, nil
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(bench.Converged))
		Expect(res.Pass).To(And(BeNumerically("<=", 12000), BeNumerically(">=", 0.95*12000-1)))
		Expect(res.DropsOnly.Pass).To(Equal(res.Pass))
	})

	It("reports the highest rate any step passed", func() {
		var passed float64
		rng := rand.New(rand.NewPCG(3, 4))
		res, err := bench.Search(context.Background(), cfg, verdict(func(r float64) (bool, error) {
			ok := r <= 20000 && rng.Float64() < 0.6
			if ok {
				passed = math.Max(passed, r)
			}
			return ok, nil
		}))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Pass).To(Equal(passed))
	})
})

var _ = Describe("Judging a step", func() {
	lat := func(p99 float64) *bench.Latency { return &bench.Latency{P50: p99 / 4, P99: p99} }
	DescribeTable("drops <= 0.1 % and p99 <= 10 ms",
		func(s bench.Step, pass, passDrops bool, failed string) {
			v := bench.Judge(&s, 0.001, 10*time.Millisecond)
			Expect(v.Pass()).To(Equal(pass))
			Expect(v.Drops).To(Equal(passDrops))
			Expect(s.Pass).To(Equal(pass))
			Expect(s.PassDrops).To(Equal(passDrops))
			Expect(s.Failed).To(Equal(failed))
		},
		Entry("within both", bench.Step{Drops: 0.0005, LatencyMs: lat(4)}, true, true, ""),
		Entry("on the bounds", bench.Step{Drops: 0.001, LatencyMs: lat(10)}, true, true, ""),
		Entry("p99 only: a queueing server", bench.Step{Drops: 0, LatencyMs: lat(448)}, false, true, "p99"),
		Entry("drops only", bench.Step{Drops: 0.02, LatencyMs: lat(2)}, false, false, "drops"),
		Entry("both", bench.Step{Drops: 0.3, LatencyMs: lat(900)}, false, false, "drops+p99"),
		Entry("tool-limited", bench.Step{Limited: true, LatencyMs: lat(1)}, false, false, "tool-limited"),
		Entry("perfdhcp: no p99, drops alone", bench.Step{Tool: "perfdhcp", Drops: 0.0002, MeanMs: 40}, true, true, ""),
		Entry("perfdhcp over the drops bound", bench.Step{Tool: "perfdhcp", Drops: 0.01}, false, false, "drops"),
	)

	It("prints why a step failed", func() {
		s := bench.Step{Tool: "d6lab", Offered: 16000, Rate: 16000, LatencyMs: lat(448)}
		bench.Judge(&s, 0.001, 10*time.Millisecond)
		Expect(bench.StepLine(5, s)).To(HaveSuffix("FAIL p99 (passes drops alone)"))
	})
})

var _ = Describe("Best", func() {
	It("reports the highest passing offered rate, else the last step", func() {
		steps := []bench.Step{
			{Offered: 500, Pass: true}, {Offered: 1000, Pass: true}, {Offered: 2000, Pass: false},
			{Offered: 1500, Pass: true}, {Offered: 1750, Pass: false},
		}
		s, ok := bench.Best(steps)
		Expect(ok).To(BeTrue())
		Expect(s.Offered).To(Equal(1500.0))
		s, ok = bench.Best([]bench.Step{{Offered: 10}, {Offered: 5}})
		Expect(ok).To(BeFalse())
		Expect(s.Offered).To(Equal(5.0))
	})
	It("reports the drops-only figure from the steps that pass drops", func() {
		steps := []bench.Step{
			{Offered: 8000, Pass: true, PassDrops: true}, {Offered: 16000, PassDrops: true},
			{Offered: 32000}, {Offered: 24000, PassDrops: true}, {Offered: 28000},
		}
		s, ok := bench.BestDrops(steps)
		Expect(ok).To(BeTrue())
		Expect(s.Offered).To(Equal(24000.0))
	})
})
