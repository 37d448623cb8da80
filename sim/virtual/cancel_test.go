package virtual_test

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
