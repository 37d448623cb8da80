package virtual_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/internal/linediff"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim/virtual"
)

var _ = Describe("coasting clients (Engine.SetCoasting)", func() {
	// A history that merges renewals, with steady clients coasting and
	// with every renewal played on the link, must be the same history.jsonl
	// byte for byte: every shipped scenario the engine plays (at most 200
	// clients and 6 h; the scale scenarios a whole day), under each
	// client profile, with and without T1/T2 jitter.
	jsonl := func(sc *scenarios.Scenario, coast bool) ([]byte, int) {
		GinkgoHelper()
		e, err := virtual.RunScenarioOptions(context.Background(), sc, virtual.Options{MergeRenewals: true, PlayRenewals: !coast})
		Expect(err).NotTo(HaveOccurred(), sc.Name)
		var b bytes.Buffer
		Expect(history.WriteSourceJSONL(&b, e.History())).To(Succeed())
		return b.Bytes(), e.Coasted()
	}

	It("leaves the servers and the clients' draws as every renewal played would, long after", func() {
		// Clients coast for 19 h, then 20 more join and everyone renews on
		// the link again: a binding not extended by the coasted renewals
		// would have expired at the server by then. Or s1 comes back and
		// s2, the server of every binding, dies: every client's Renew
		// goes unanswered and s1 counts each retransmission, at the
		// instants the draws its coasted renewals left it give.
		for _, late := range [][]scenarios.Action{
			{{At: 20 * time.Hour, Kind: scenarios.Join, Count: 20, Ramp: time.Minute}},
			{{At: 20 * time.Hour, Kind: scenarios.Restart, Target: "s1", State: scenarios.Wipe},
				{At: 20*time.Hour + 30*time.Minute, Kind: scenarios.Kill, Target: "s2"}},
		} {
			for _, name := range []string{"split-24h.yaml", "unique-24h.yaml", "identical-24h.yaml"} {
				sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "scale", name))
				Expect(err).NotTo(HaveOccurred())
				sc.Clients.Count = 200
				sc.Timeline = append(sc.Timeline, late...)
				want, _ := jsonl(sc, false)
				got, n := jsonl(sc, true)
				Expect(differingLine(want, got)).To(BeEmpty(), "%s, %s at 20h", name, late[0].Kind)
				Expect(n).To(BeNumerically(">", sc.Clients.Count*20), name)
			}
		}
	})

	It("gives the history of every renewal played, byte for byte", func() {
		var files []string
		for _, g := range []string{"*.yaml", "scale/*.yaml", "clients/*.yaml"} {
			f, err := filepath.Glob(filepath.Join("..", "..", "scenarios", g))
			Expect(err).NotTo(HaveOccurred())
			files = append(files, f...)
		}
		played, coasted := 0, 0
		for _, f := range files {
			for _, prof := range deploy.Profiles {
				for _, jitter := range []float64{0, 0.2} {
					sc, err := scenarios.Load(f)
					Expect(err).NotTo(HaveOccurred())
					if virtual.Check(sc) != nil {
						continue
					}
					sc.Clients.Count = min(sc.Clients.Count, 200)
					if filepath.Base(filepath.Dir(f)) != "scale" {
						sc.Duration = min(sc.Duration, 6*time.Hour)
					}
					sc.Clients.Profile, sc.Clients.Jitter = prof, jitter
					what := fmt.Sprintf("%s, profile %s, jitter %g", f, prof, jitter)
					want, none := jsonl(sc, false)
					Expect(none).To(BeZero(), what)
					got, n := jsonl(sc, true)
					Expect(differingLine(want, got)).To(BeEmpty(), what)
					played++
					coasted += n
					if strings.HasSuffix(f, "-24h.yaml") {
						// a day of renewals after the fault, most of them coasted
						Expect(n).To(BeNumerically(">", sc.Clients.Count*20), what)
					}
				}
			}
		}
		Expect(played).To(BeNumerically(">=", 100))
		Expect(coasted).To(BeNumerically(">", 0))
	})
})

// differingLine names the first line where got differs from want, ""
// when they are the same.
func differingLine(want, got []byte) string {
	n, a, b := linediff.First(want, got)
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("line %d: played %q, coasted %q", n, a, b)
}
