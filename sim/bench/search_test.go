package bench_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/bench"
)

// threshold is a fake server: every rate up to t passes, above it fails.
// It records the rates it was asked for.
type threshold struct {
	t     float64
	rates []float64
}

func (f *threshold) measure(_ context.Context, r float64) (bool, error) {
	f.rates = append(f.rates, r)
	return r <= f.t, nil
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
		noisy := func(_ context.Context, r float64) (bool, error) {
			n++
			if r > 10000 {
				return false, nil
			}
			return rng.Float64() < 0.7, nil // a flaky server below its limit
		}
		res, err := bench.Search(context.Background(), c, noisy)
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(BeNumerically("<=", 10))
		Expect(res.Steps).To(Equal(n))
		Expect(res.Pass).To(BeNumerically("<=", 10000))
	})

	It("returns the measurement's error with the bracket so far", func() {
		boom := errors.New("boom")
		calls := 0
		res, err := bench.Search(context.Background(), cfg, func(_ context.Context, r float64) (bool, error) {
			calls++
			if calls == 3 {
				return false, boom
			}
			return true, nil
		})
		Expect(err).To(MatchError(boom))
		Expect(res.Pass).To(Equal(1000.0))
		Expect(res.Steps).To(Equal(3))
	})

	It("stops when the context is cancelled", func() {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		_, err := bench.Search(ctx, cfg, func(context.Context, float64) (bool, error) {
			calls++
			cancel()
			return true, nil
		})
		Expect(err).To(MatchError(context.Canceled))
		Expect(calls).To(Equal(1))
	})

	DescribeTable("refuses bounds that make no search",
		func(mod func(*bench.SearchConfig)) {
			c := cfg
			mod(&c)
			_, err := bench.Search(context.Background(), c, func(context.Context, float64) (bool, error) {
				Fail("measured with a bad config")
				return false, nil
			})
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
})
