package population_test

import (
	"fmt"
	"testing"
	"time"

	"d6lab/clientsim/population"
	"d6lab/reports/history"
)

// BenchmarkDeliverAdvance measures the population's hot path: one op is
// one Advance that fires a bound client's T1 (it encodes and queues a
// Renew) plus one Deliver of the Reply (decode, demultiplex, apply). The
// Reply bytes are pre-encoded per client with the Renew's transaction ID
// patched in, so the responder costs nothing.
func BenchmarkDeliverAdvance(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			r := newResponder()
			r.t1, r.t2, r.pref, r.valid = 10*time.Second, 16*time.Second, 20*time.Second, 30*time.Second
			bound := 0
			p, err := population.New(population.Config{
				Count: n, Seed: 7, IANA: true, Ramp: 10 * time.Second,
				Sink: func(e history.Event) {
					if e.Kind == history.Bound {
						bound++
					}
				},
			})
			if err != nil {
				b.Fatal(err)
			}
			now := t0
			p.Start(now)
			var out []population.Outgoing
			flush := func() {
				for {
					out = p.Outbox(out[:0])
					if len(out) == 0 {
						return
					}
					for _, o := range out {
						if a := r.answer(o.Payload); a != nil {
							p.Deliver(now, a, serverAddr)
						}
					}
				}
			}
			for bound < n {
				flush()
				at, ok := p.NextTimer()
				if !ok {
					b.Fatal("no timer before every client was bound")
				}
				now = at
				p.Advance(at)
			}
			flush()
			replies := make([][]byte, n)
			step := func() int {
				at, _ := p.NextTimer()
				p.Advance(at)
				out = p.Outbox(out[:0])
				for _, o := range out {
					rep := replies[o.Client]
					if rep == nil {
						rep = r.answer(o.Payload)
						replies[o.Client] = rep
					}
					copy(rep[1:4], o.Payload[1:4])
					p.Deliver(at, rep, serverAddr)
				}
				return len(out)
			}
			for range 2 * n { // every client renews once: replies built
				step()
			}
			msgs := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				msgs += step()
			}
			b.StopTimer()
			if msgs < b.N {
				b.Fatalf("%d Renews in %d ops", msgs, b.N)
			}
			if st := p.Stats(); st.States["bound"] != n || len(st.Dropped) != 0 {
				b.Fatalf("after the run: %+v", st)
			}
		})
	}
}
