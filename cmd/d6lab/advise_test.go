package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// d6lab advise with the virtual engine (no root): its answer, its files,
// its exit codes, and its recommendation replayed.
var _ = Describe("d6lab advise", func() {
	It("recommends a point, writes its files, and the recommendation replayed meets the bounds it claims (exit 0)", func() {
		dir := GinkgoT().TempDir()
		code, out, errOut := d6("advise", "--clients", "5000", "--sample", "40", "--max-outage", "5s",
			"--max-load", "30", "--out", dir)
		Expect(code).To(Equal(0), errOut)
		Expect(out).To(ContainSubstring("recommended: "))
		Expect(out).To(ContainSubstring("runner-up: "))
		Expect(out).To(MatchRegexp(`max-load +binds: without it`))
		Expect(errOut).To(ContainSubstring("round 2 "))
		var a struct {
			Recommended struct {
				Model string   `json:"model"`
				Load  *float64 `json:"load_mps"`
			} `json:"recommended"`
			Question struct {
				LoadBound float64 `json:"load_bound_mps"`
			} `json:"question"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "advice.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(b, &a)).To(Succeed())
		Expect(a.Recommended.Load).NotTo(BeNil())
		Expect(*a.Recommended.Load).To(BeNumerically("<=", a.Question.LoadBound))
		Expect(filepath.Join(dir, "sweep.json")).To(BeAnExistingFile())
		Expect(filepath.Join(dir, "sweep.html")).To(BeAnExistingFile())

		// The claims, replayed on the sample: the virtual engine must meet
		// its own bounds (netns: README "Sweeps").
		code, out, errOut = d6("run", filepath.Join(dir, "recommended.yaml"), "--engine", "virtual", "--out", GinkgoT().TempDir())
		Expect(code).To(Equal(0), out+errOut)
	})

	It("is exit 1 when no point meets the question, naming the constraints that bind", func() {
		dir := GinkgoT().TempDir()
		code, out, errOut := d6("advise", "--clients", "5000", "--sample", "40", "--max-outage", "5s",
			"--max-reacquire", "40s", "--max-load", "30", "--out", dir)
		Expect(code).To(Equal(1), errOut)
		Expect(out).To(ContainSubstring("no point meets the question: dropping either max-reacquire or max-load alone would give one"))
		Expect(filepath.Join(dir, "advice.json")).To(BeAnExistingFile())
		Expect(filepath.Join(dir, "recommended.yaml")).NotTo(BeAnExistingFile())
	})

	DescribeTable("bad input is exit 2 before anything runs",
		func(msg string, args ...string) {
			dir := GinkgoT().TempDir()
			code, _, errOut := d6(append([]string{"advise", "--out", dir}, args...)...)
			Expect(code).To(Equal(2))
			Expect(errOut).To(ContainSubstring(msg))
			Expect(filepath.Join(dir, "advice.json")).NotTo(BeAnExistingFile())
		},
		Entry("no --clients", "--clients is required", "--max-outage", "5s", "--max-load", "300"),
		Entry("one server", "--servers 1: want 2..64", "--clients", "10", "--servers", "1", "--max-outage", "5s", "--max-load", "300"),
		Entry("no load bound", "--max-load is required", "--clients", "10", "--max-outage", "5s"),
		Entry("a zero load bound", "--max-load 0: want a rate", "--clients", "10", "--max-outage", "5s", "--max-load", "0"),
		Entry("a sample above the clients", "--sample 20: want 1..10", "--clients", "10", "--sample", "20", "--max-outage", "5s", "--max-load", "3"),
		Entry("an unknown profile", `--profile "windows"`, "--clients", "10", "--max-outage", "5s", "--max-load", "3", "--profile", "windows"),
		Entry("an unknown model", `"mirror" is not a model`, "--clients", "10", "--max-outage", "5s", "--max-load", "3", "--models", "mirror"),
	)
})
