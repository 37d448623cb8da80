package virtual_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/reports/render"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

var _ = Describe("reports as they were before the virtual engine was made faster", func() {
	// testdata/before holds report.json as `d6lab run --engine virtual`
	// wrote it at commit 09c76a7, before the values link, the compact
	// history and the merged grants, but for the metric added since
	// (conflicts.kept, 0 in all three); with the SHA-256 of the
	// history.jsonl it wrote. The same run now must give both byte for
	// byte (the virtual engine has no wall-clock field).
	for _, c := range []struct {
		file, golden string
		clients      int
		historySHA   string
	}{
		{"split-kill.yaml", "split-kill.report.json", 0, "de128543bfa5864f22e837d85a4b037a7d3cbf61930da30328aa463f929d3ebc"},
		{"identical-sequential-restart-wipe-dad.yaml", "identical-sequential-restart-wipe-dad.report.json", 0, "39324e37cdec441d59c971952c1df3daa853119d9524266acbf0462905891f04"},
		{"scale/split-24h.yaml", "split-24h-300.report.json", 300, "c83c31597ab6b51e9991ce51a203831378bebc14c6c42cf1748c06a012f64cd0"},
	} {
		It("writes the report.json and history.jsonl of 09c76a7: "+c.file, func() {
			sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", c.file))
			Expect(err).NotTo(HaveOccurred())
			if c.clients > 0 {
				sc.Clients.Count = c.clients // as --sim-clients does
				Expect(sc.Validate()).To(Succeed())
			}
			e, err := virtual.RunScenarioContext(context.Background(), sc)
			Expect(err).NotTo(HaveOccurred())
			r, _ := check.AnalyzeSource(e.History(), sim.CheckLab(sc, "virtual"))
			r.Evaluate(sim.Bounds(sc.Expect))
			var got bytes.Buffer
			Expect(render.WriteReport(&got, r)).To(Succeed())
			want, err := os.ReadFile(filepath.Join("testdata", "before", c.golden))
			Expect(err).NotTo(HaveOccurred())
			// Apart from the load block: its steady window has been cut
			// to whole T1s since 09c76a7 (check.Load), a change of the
			// metric, not of the engine; reports/check's specs cover it.
			Expect(withoutLoad(got.Bytes())).To(Equal(withoutLoad(want)))

			h := sha256.New()
			Expect(history.WriteSourceJSONL(h, e.History())).To(Succeed())
			Expect(hex.EncodeToString(h.Sum(nil))).To(Equal(c.historySHA))
		})
	}
})

// withoutLoad is a report.json with its "load" block left out, the rest
// byte for byte: the block is one line per field between `  "load": {`
// and the next line that closes it at the same indent.
func withoutLoad(report []byte) string {
	lines := strings.SplitAfter(string(report), "\n")
	var out strings.Builder
	skip := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, `  "load": {`):
			skip = true
		case skip && (strings.HasPrefix(l, "  },") || strings.HasPrefix(l, "  }\n")):
			skip = false
		case !skip:
			out.WriteString(l)
		}
	}
	return out.String()
}
