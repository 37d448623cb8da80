package population

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkTimers: one op pops the earliest of 100,000 client timers and
// sets that client's next one 0-30 min later, as Advance does with
// realistic lifetimes.
func BenchmarkTimers(b *testing.B) {
	const n = 100_000
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	t := newTimers(n)
	for i := range n {
		t.set(i, start.Add(time.Duration(r.Int64N(int64(30*time.Minute)))))
	}
	for b.Loop() {
		at, _ := t.min()
		i := t.popMin()
		t.set(i, at.Add(time.Duration(r.Int64N(int64(30*time.Minute)))))
	}
}

// BenchmarkTimersRenewals: as the population uses them at n clients:
// started in index order over a 60 s ramp (Start: the first timer is the
// earliest), then each pop sets that client's next timer one T1 (30 min,
// +-10 % jitter) later, as a steady renewal does.
func BenchmarkTimersRenewals100k(b *testing.B) { benchRenewals(b, 100_000) }

// BenchmarkTimersRenewals1M: BenchmarkTimersRenewals100k at 1,000,000
// clients.
func BenchmarkTimersRenewals1M(b *testing.B) { benchRenewals(b, 1_000_000) }

// BenchmarkTimersRenewRT100k / 1M: BenchmarkTimersRenewals as the
// population's clients really set their timers: each pop sets the
// Renew's retransmission timer (10 s), then, the Reply come, the next T1.
// The second set finds the first not filed yet (heap.go): one entry a
// renewal, not two.
func BenchmarkTimersRenewRT100k(b *testing.B) { benchRenewRT(b, 100_000) }

// BenchmarkTimersRenewRT1M: BenchmarkTimersRenewRT100k at 1,000,000 clients.
func BenchmarkTimersRenewRT1M(b *testing.B) { benchRenewRT(b, 1_000_000) }

func benchRenewRT(b *testing.B, n int) {
	t, r := rampedTimers(n)
	for b.Loop() {
		at, _ := t.min()
		i := t.popMin()
		t.set(i, at.Add(10*time.Second))
		t.set(i, at.Add(27*time.Minute+time.Duration(r.Int64N(int64(6*time.Minute)))))
	}
}

// rampedTimers is n clients' timers started in index order over a 60 s
// ramp, as Start sets them, and the source of the benchmarks' jitter.
func rampedTimers(n int) (*timers, *rand.Rand) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t := newTimers(n)
	for i := range n {
		t.set(i, start.Add(time.Duration(int64(time.Minute)*int64(i)/int64(n))))
	}
	return t, rand.New(rand.NewPCG(1, 2))
}

func benchRenewals(b *testing.B, n int) {
	t, r := rampedTimers(n)
	for b.Loop() {
		at, _ := t.min()
		i := t.popMin()
		t.set(i, at.Add(27*time.Minute+time.Duration(r.Int64N(int64(6*time.Minute)))))
	}
}
