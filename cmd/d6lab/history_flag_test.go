package main_test

import (
	"bytes"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("run --history (virtual engine)", func() {
	It("merge-renewals writes the report of every event, a shorter history.jsonl, and report rebuilds the same from it", func() {
		full, merged := GinkgoT().TempDir(), GinkgoT().TempDir()
		sc := "../../scenarios/split-kill.yaml"
		code, _, stderr := d6("run", "--engine", "virtual", "--out", full, sc)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		code, _, stderr = d6("run", "--engine", "virtual", "--history", "merge-renewals", "--out", merged, sc)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		read := func(dir, file string) string { GinkgoHelper(); return mustRead(filepath.Join(dir, "split-kill", file)) }
		for _, f := range []string{"report.json", "report.md", "junit.xml"} {
			Expect(read(merged, f)).To(Equal(read(full, f)), f)
		}
		Expect(len(read(merged, "history.jsonl"))).To(BeNumerically("<", len(read(full, "history.jsonl"))))
		Expect(read(merged, "history.jsonl")).To(ContainSubstring(`"renewals":`))

		// report recomputes report.json from history.jsonl
		want := read(merged, "report.json")
		code, _, stderr = d6("report", filepath.Join(merged, "split-kill"))
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		Expect(read(merged, "report.json")).To(Equal(want))
	})

	It("merge-renewals writes the same history.jsonl with clients coasting or --play-renewals", func() {
		coast, play := GinkgoT().TempDir(), GinkgoT().TempDir()
		sc := "../../scenarios/scale/split-24h.yaml" // a day: renewals to coast
		code, stdout, stderr := d6("run", "--engine", "virtual", "--sim-clients", "50", "--history", "merge-renewals", "--out", coast, sc)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		Expect(stdout + stderr).To(MatchRegexp(`split-24h: \d+ Renews played without messages`))
		code, stdout, stderr = d6("run", "--engine", "virtual", "--sim-clients", "50", "--history", "merge-renewals", "--play-renewals", "--out", play, sc)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		Expect(stdout + stderr).NotTo(ContainSubstring("played without messages"))
		want, err := os.ReadFile(filepath.Join(play, "split-24h", "history.jsonl"))
		Expect(err).NotTo(HaveOccurred())
		got, err := os.ReadFile(filepath.Join(coast, "split-24h", "history.jsonl"))
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(got, want)).To(BeTrue(), "history.jsonl differs at %s", firstDiff(want, got))
		Expect(string(got)).To(ContainSubstring(`"renewals":4`), "a binding's day of renewals, merged")
	})

	It("compare --engine virtual runs the models side by side, and merge-renewals gives the same compare.json", func() {
		full, merged := GinkgoT().TempDir(), GinkgoT().TempDir()
		code, _, stderr := d6("compare", "--engine", "virtual", "--clients", "60", "--out", full)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		code, _, stderr = d6("compare", "--engine", "virtual", "--clients", "60", "--history", "merge-renewals", "--out", merged)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		Expect(mustRead(filepath.Join(merged, "compare.json"))).To(Equal(mustRead(filepath.Join(full, "compare.json"))))
	})

	It("--no-history-file writes the same report and pages without history.jsonl, removes an earlier run's, and report says why it cannot rebuild", func() {
		with, without := GinkgoT().TempDir(), GinkgoT().TempDir()
		sc := "../../scenarios/split-kill.yaml"
		code, _, stderr := d6("run", "--engine", "virtual", "--history", "merge-renewals", "--out", with, sc)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		// an earlier run's history in the directory, which must not stay
		code, _, stderr = d6("run", "--engine", "virtual", "--out", without, sc)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		Expect(filepath.Join(without, "split-kill", "history.jsonl")).To(BeARegularFile())
		code, stdout, stderr := d6("run", "--engine", "virtual", "--history", "merge-renewals", "--no-history-file", "--out", without, sc)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		dir := filepath.Join(without, "split-kill")
		Expect(stdout).To(ContainSubstring("wrote " + dir + "/{report.json,report.html,report.md,junit.xml}\n"))
		Expect(filepath.Join(dir, "history.jsonl")).NotTo(BeAnExistingFile())
		read := func(dir, file string) string { GinkgoHelper(); return mustRead(filepath.Join(dir, "split-kill", file)) }
		for _, f := range []string{"report.json", "report.md", "junit.xml"} {
			Expect(read(without, f)).To(Equal(read(with, f)), f)
		}
		Expect(read(with, "report.html")).To(ContainSubstring(`<a href="history.jsonl">`))
		Expect(read(without, "report.html")).NotTo(ContainSubstring(`href="history.jsonl"`))
		Expect(read(without, "report.html")).To(ContainSubstring("kept in memory only"))

		code, _, stderr = d6("report", dir)
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(ContainSubstring("no history.jsonl (a run made with --no-history-file keeps none)"))
		Expect(read(without, "report.json")).To(Equal(read(with, "report.json")), "report.json left as it was")

		// run --out holding a run with its history and one without:
		// report rewrites neither
		code, _, stderr = d6("run", "--engine", "virtual", "--out", without, "../../scenarios/identical-kill.yaml") // before split-kill in the directory
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		page := filepath.Join(without, "identical-kill", "report.html")
		Expect(os.WriteFile(page, []byte("not rewritten"), 0o644)).To(Succeed())
		code, _, stderr = d6("report", without)
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(ContainSubstring(dir + ": no history.jsonl"))
		Expect(mustRead(page)).To(Equal("not rewritten"))
	})

	It("compare --no-history-file gives the same compare.json and no history.jsonl", func() {
		with, without := GinkgoT().TempDir(), GinkgoT().TempDir()
		code, _, stderr := d6("compare", "--engine", "virtual", "--clients", "60", "--out", with)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		code, _, stderr = d6("compare", "--engine", "virtual", "--clients", "60", "--no-history-file", "--out", without)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		Expect(mustRead(filepath.Join(without, "compare.json"))).To(Equal(mustRead(filepath.Join(with, "compare.json"))))
		histories, err := filepath.Glob(filepath.Join(without, "*", "history.jsonl"))
		Expect(err).NotTo(HaveOccurred())
		Expect(histories).To(BeEmpty())
		Expect(mustRead(filepath.Join(without, "report.html"))).To(ContainSubstring("runs' histories, kept in memory only"))
		Expect(mustRead(filepath.Join(with, "report.html"))).To(ContainSubstring("runs' histories (rebuild it with"))
		histories, err = filepath.Glob(filepath.Join(with, "*", "history.jsonl"))
		Expect(err).NotTo(HaveOccurred())
		Expect(histories).NotTo(BeEmpty())

		code, _, stderr = d6("report", without)
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(ContainSubstring("no history.jsonl (a run made with --no-history-file keeps none)"))

		// one model's history gone: report rewrites no model's pages
		gone := histories[len(histories)-1]
		Expect(os.Remove(gone)).To(Succeed())
		for _, h := range histories {
			Expect(os.WriteFile(filepath.Join(filepath.Dir(h), "report.html"), []byte("not rewritten"), 0o644)).To(Succeed())
		}
		code, _, stderr = d6("report", with)
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(ContainSubstring(filepath.Dir(gone) + ": no history.jsonl"))
		for _, h := range histories {
			Expect(mustRead(filepath.Join(filepath.Dir(h), "report.html"))).To(Equal("not rewritten"), h)
		}
	})

	DescribeTable("exits 2 on a value it does not know, or with the netns engine",
		func(want string, args ...string) {
			code, _, stderr := d6(args...)
			Expect(code).To(Equal(2), "stderr: %s", stderr)
			Expect(stderr).To(HavePrefix("d6lab: bad input: " + want))
		},
		Entry("an unknown value", `--history "samples"`, "run", "--engine", "virtual", "--history", "samples", "--out", "/nonexistent/never", "testdata/impossible.yaml"),
		Entry("the netns engine", "--history merge-renewals: only --engine virtual", "run", "--history", "merge-renewals", "--out", "/nonexistent/never", "testdata/impossible.yaml"),
		Entry("compare, the netns engine", "--history merge-renewals: only --engine virtual", "compare", "--history", "merge-renewals", "--out", "/nonexistent/never"),
		Entry("--no-history-file with the netns engine", "--no-history-file: only --engine virtual; the netns engine always writes history.jsonl", "run", "--no-history-file", "--out", "/nonexistent/never", "testdata/impossible.yaml"),
		Entry("compare --no-history-file with the netns engine", "--no-history-file: only --engine virtual", "compare", "--no-history-file", "--out", "/nonexistent/never"),
		Entry("--play-renewals with every event kept", "--play-renewals: only with --history merge-renewals", "run", "--engine", "virtual", "--play-renewals", "--out", "/nonexistent/never", "testdata/impossible.yaml"),
	)
})

// mustRead is the content of path, which must exist (readFile takes a
// missing file as empty).
func mustRead(path string) string {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}
