package check_test

import (
	"math/rand/v2"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// synthetic builds a history of about 10 events per client: every client
// binds (from a or b) and renews every 150 s; a is killed at 500 s; a's
// clients then rebind to b (kept), renumber, or expire and solicit again.
// Events are appended client by client, so they are not in time order.
func synthetic(clients int, seed uint64) []history.Event {
	rng := rand.New(rand.NewPCG(seed, 0))
	evs := make([]history.Event, 0, clients*10+4)
	evs = append(evs, history.Event{At: t0, Kind: history.RunStarted})
	for c := range clients {
		s0 := rng.Float64() * 10
		duid := duidA
		if c%2 == 1 {
			duid = duidB
		}
		lease := addr(c)
		evs = append(evs,
			history.Event{At: at(s0), Kind: history.Solicited, Client: c},
			history.Event{At: at(s0 + 0.01), Kind: history.Advertised, Client: c, Server: duid},
			bound(s0+0.02, c, lease, duid, 300),
			renewed(s0+150, c, lease, duid, 300),
			renewed(s0+300, c, lease, duid, 300),
			renewed(s0+450, c, lease, duid, 300),
		)
		if duid == duidB {
			evs = append(evs, renewed(s0+600, c, lease, duid, 300), renewed(s0+750, c, lease, duid, 300))
			continue
		}
		switch c % 3 {
		case 0:
			evs = append(evs, rebound(s0+690, c, lease, duidB, 300))
		case 1:
			evs = append(evs, renumbered(s0+690, c, lease, addr(c+clients), duidB, 300))
		default:
			evs = append(evs, ended(history.Expired, s0+750, c, lease, ""),
				history.Event{At: at(s0 + 751), Kind: history.Solicited, Client: c},
				bound(s0+752, c, addr(c+clients), duidB, 300))
		}
	}
	evs = append(evs, labEv(history.ServerKilled, 500, "a"), history.Event{At: at(900), Kind: history.RunEnded})
	return evs
}

var _ = Describe("A large synthetic history", func() {
	It("gives consistent totals", func() {
		const n = 6000
		r := check.Analyze(synthetic(n, 1), lab)
		Expect(r.Clients).To(Equal(n))
		Expect(r.Affected).To(Equal(n / 2))
		rb := r.Rebind
		Expect(rb.Extended + rb.Renumbered + rb.Refused + rb.Silent + rb.Released + rb.Undecided).To(Equal(r.Affected))
		Expect(rb.Extended).To(Equal(n / 6))
		Expect(rb.Renumbered).To(Equal(n / 6))
		Expect(rb.Silent).To(Equal(n / 6))
		Expect(r.Unrecovered).To(BeZero())
		Expect(*r.Continuity).To(BeNumerically("~", 1.0/3, 1e-9))
		Expect(r.Duplicates.Verdict).To(Equal(check.VerdictOK))
		Expect(r.Bound).To(Equal(n))
		Expect(r.ReacquireS.Max).To(BeNumerically("<=", 263))
		Expect(r.ReacquireS.P50).To(BeNumerically(">=", 180))
	})
})

func BenchmarkAnalyze1M(b *testing.B) {
	evs := synthetic(128_000, 1)
	for b.Loop() {
		r := check.Analyze(evs, lab)
		if r.Affected == 0 || r.Duplicates.Addresses != 0 {
			b.Fatalf("unexpected report: %d affected, %d duplicates", r.Affected, r.Duplicates.Addresses)
		}
	}
	b.ReportMetric(float64(len(evs)), "events")
}
