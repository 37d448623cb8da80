package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// d6lab sweep with the virtual engine (no root): its exit codes and files.
var _ = Describe("d6lab sweep", func() {
	It("runs the grid in every model, prints progress and writes sweep.json and sweep.html (exit 0)", func() {
		dir := GinkgoT().TempDir()
		code, out, errOut := d6("sweep", "../../scenarios/split-kill.yaml", "--clients", "30",
			"--vary", "lifetimes.valid=60s,lifetimes.t1=0.25v,0.5v", "--models", "split,identical", "--out", dir)
		Expect(code).To(Equal(0), errOut)
		Expect(out).To(ContainSubstring("4 runs in"))
		Expect(errOut).To(ContainSubstring("sweep split-kill: 2 grid points x 2 models = 4 runs, 30 clients each"))
		Expect(errOut).To(ContainSubstring("4/4 "))
		b, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
		Expect(err).NotTo(HaveOccurred())
		var s struct {
			Rows []struct {
				Model string  `json:"model"`
				T1S   float64 `json:"t1_s"`
			} `json:"rows"`
		}
		Expect(json.Unmarshal(b, &s)).To(Succeed())
		Expect(s.Rows).To(HaveLen(4))
		Expect(s.Rows[0].Model).To(Equal("split"))
		Expect(s.Rows[1].Model).To(Equal("identical"))
		Expect(s.Rows[2].T1S).To(Equal(30.0))
		Expect(filepath.Join(dir, "sweep.html")).To(BeAnExistingFile())
	})

	DescribeTable("bad input is exit 2 before anything runs",
		func(msg string, args ...string) {
			dir := GinkgoT().TempDir()
			code, _, errOut := d6(append([]string{"sweep", "../../scenarios/split-kill.yaml", "--out", dir}, args...)...)
			Expect(code).To(Equal(2))
			Expect(errOut).To(ContainSubstring(msg))
			Expect(filepath.Join(dir, "sweep.json")).NotTo(BeAnExistingFile())
		},
		Entry("no --vary", "--vary: no field given"),
		Entry("a bad value", "--vary lifetimes.t1=2v: want a ratio of valid", "--vary", "lifetimes.t1=2v"),
		Entry("a point that does not validate", "point 1 (t1 50s t2 32s pref 40s valid 60s, split)", "--vary", "lifetimes.valid=60s,lifetimes.t1=50s"),
		Entry("an unknown model", `"mirror" is not a model`, "--vary", "lifetimes.valid=60s", "--models", "mirror"),
		Entry("the netns engine", "sweep runs on the virtual engine only", "--vary", "lifetimes.valid=60s", "--engine", "netns"),
	)
})
