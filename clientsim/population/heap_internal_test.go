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
