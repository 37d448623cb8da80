package virtual_test

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim/virtual"
)

// firstDifference is the index of the first event where a and b differ,
// or -1 when they are the same.
func firstDifference(a, b []history.Event) int {
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		if (x.Peer == nil) != (y.Peer == nil) || x.Peer != nil && *x.Peer != *y.Peer {
			return i
		}
		x.Peer, y.Peer = nil, nil
		if x != y {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

var _ = Describe("the virtual link: messages as values", func() {
	// Without SetWire the population hands its messages to the servers
	// as Go values and the answers come back the same way: no encoding,
	// no decoding. That must change nothing a client or a server reads:
	// every shipped scenario the engine plays (scenarios/*.yaml and
	// scenarios/scale/*.yaml, at most 300 clients and 6 h) gives the same
	// history both ways, event for event.
	files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
	if err != nil {
		panic(err)
	}
	scale, _ := filepath.Glob(filepath.Join("..", "..", "scenarios", "scale", "*.yaml"))
	files = append(files, scale...)

	It("gives the history the wire gives, for every shipped scenario the engine plays, even with every answer overwritten once delivered", func() {
		played := 0
		for _, f := range files {
			sc, err := scenarios.Load(f)
			Expect(err).NotTo(HaveOccurred(), f)
			if virtual.Check(sc) != nil {
				continue
			}
			sc.Clients.Count = min(sc.Clients.Count, 300)
			sc.Duration = min(sc.Duration, 6*time.Hour)
			// The third run overwrites every answer once delivered
			// (server.SetAnswerReuse lets a server build each in the
			// same storage): a client that kept any of it would differ.
			runs := []virtual.Options{{Wire: true}, {}, virtual.Scribbled(virtual.Options{})}
			names := []string{"wire", "values", "values, each answer overwritten once delivered"}
			hist := make([][]history.Event, len(runs))
			for i, opt := range runs {
				e, err := virtual.RunScenarioOptions(context.Background(), sc, opt)
				Expect(err).NotTo(HaveOccurred(), f)
				hist[i] = e.Events()
			}
			Expect(len(hist[0])).To(BeNumerically(">", 2), f)
			for i := 1; i < len(runs); i++ {
				if k := firstDifference(hist[0], hist[i]); k >= 0 {
					var x, y history.Event
					if k < len(hist[0]) {
						x = hist[0][k]
					}
					if k < len(hist[i]) {
						y = hist[i][k]
					}
					Fail(fmt.Sprintf("%s: event %d differs:\n  wire: %s\n  %s: %s", f, k, describe(x), names[i], describe(y)))
				}
			}
			played++
		}
		Expect(played).To(BeNumerically(">=", 20), "most shipped scenarios play on the virtual engine")
	})
})

func describe(e history.Event) string {
	return fmt.Sprintf("%s %s client %d lease %s server %s cause %q detail %q t1 %s valid %s",
		e.At.Format(time.RFC3339Nano), e.Kind, e.Client, e.Lease, e.Server, e.Cause, e.Detail, e.T1, e.Valid)
}
