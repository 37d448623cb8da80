package main_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/internal/linediff"
)

// firstDiff describes where two files first differ: the line number and
// both lines.
func firstDiff(x, y []byte) string {
	n, a, b := linediff.First(x, y)
	if n == 0 {
		return "no line differs"
	}
	return fmt.Sprintf("line %d:\n  first:  %s\n  second: %s", n, a, b)
}

var _ = Describe("the virtual engine's determinism", func() {
	// The virtual engine runs on a virtual clock from a fixed start, and
	// the population draws from the scenario's seed (clients.seed, here
	// the default): nothing in report.json or history.jsonl comes from the
	// wall clock or the host, so nothing is masked. Each run is its own
	// process, so no state is shared between them.
	It("writes byte-identical report.json and history.jsonl for two runs of split-kill.yaml (a kill at 5s)", func() {
		const scenario = "../../scenarios/split-kill.yaml"
		// Whether the scenario's expect: bounds hold (exit 0) or not (exit 1,
		// the files written all the same) is the scenario suite's business;
		// here both runs must only agree.
		var dirs [2]string
		var codes [2]int
		for i := range dirs {
			out := GinkgoT().TempDir()
			code, stdout, stderr := d6("run", "--engine", "virtual", "--out", out, scenario)
			Expect(code).To(BeElementOf(0, 1), "run %d: stdout:\n%s\nstderr:\n%s", i+1, stdout, stderr)
			codes[i], dirs[i] = code, filepath.Join(out, "split-kill")
		}
		Expect(codes[1]).To(Equal(codes[0]), "the two runs disagree on the verdict")
		for _, name := range []string{"report.json", "history.jsonl"} {
			x, err := os.ReadFile(filepath.Join(dirs[0], name))
			Expect(err).NotTo(HaveOccurred())
			y, err := os.ReadFile(filepath.Join(dirs[1], name))
			Expect(err).NotTo(HaveOccurred())
			Expect(x).NotTo(BeEmpty(), name)
			Expect(bytes.Equal(x, y)).To(BeTrue(), "%s differs between two runs with the same seed, at %s", name, firstDiff(x, y))
		}

		By("the runs played the kill")
		h, err := os.ReadFile(filepath.Join(dirs[0], "history.jsonl"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(h)).To(ContainSubstring(`"kind":"server_killed","client":-1,"server":"s1"`))
		r, err := os.ReadFile(filepath.Join(dirs[0], "report.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(r)).To(ContainSubstring(`"kind": "server_killed"`))
	})
})
