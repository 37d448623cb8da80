package virtual_test

// What the run loop does every few thousand steps: look at its context,
// report the virtual time played.

import (
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/scenarios"
	"d6lab/sim/virtual"
)

var _ = Describe("an interrupted run", func() {
	It("stops when its context is cancelled, with the context's error, before its virtual end", func() {
		sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "split-kill.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sc.Duration = 1000 * time.Hour // far more than this spec would wait for
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		e, err := virtual.RunScenarioContext(ctx, sc)
		Expect(err).To(MatchError(context.Canceled))
		Expect(e).To(BeNil())

		e = virtual.New(virtual.Epoch)
		Expect(e.RunUntilContext(ctx, virtual.Epoch.Add(time.Hour))).To(MatchError(context.Canceled))
		Expect(e.Now()).To(Equal(virtual.Epoch), "no virtual time passed")
	})
})

var _ = Describe("a run's progress", func() {
	It("reports the virtual time played, rising, within the scenario's duration, and changes nothing", func() {
		sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "scale", "split-24h.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sc.Clients.Count = 300
		var played []time.Duration
		// Every renewal played: coasting clients would leave few steps.
		e, err := virtual.RunScenarioOptions(context.Background(), sc, virtual.Options{
			MergeRenewals: true,
			PlayRenewals:  true,
			Progress:      func(d time.Duration) { played = append(played, d) },
		})
		Expect(err).NotTo(HaveOccurred())
		// 300 clients renewing every 30 min for a day are some 30,000
		// steps: several reports of one every few thousand
		Expect(len(played)).To(BeNumerically(">=", 3))
		Expect(played[0]).To(BeZero(), "the first report comes before any step")
		for i := 1; i < len(played); i++ {
			Expect(played[i]).To(BeNumerically(">=", played[i-1]), "report %d", i)
		}
		Expect(played[len(played)-1]).To(BeNumerically(">", sc.Duration/2))
		Expect(played[len(played)-1]).To(BeNumerically("<=", sc.Duration))

		plain, err := virtual.RunScenarioOptions(context.Background(), sc, virtual.Options{MergeRenewals: true, PlayRenewals: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(e.Events()).To(Equal(plain.Events()), "the same history with and without progress")
	})
})
