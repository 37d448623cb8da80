package main_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// dns: and leasequery: on the command line: bad blocks and engines that
// cannot play them are exit 2 before anything runs.
var _ = Describe("dns: and leasequery: scenarios", func() {
	It("run exits 2 on a bad dns: block, naming file, line and field of each problem, before anything runs", func() {
		out := filepath.Join(GinkgoT().TempDir(), "out")
		code, _, stderr := d6("run", "--out", out, "testdata/impossible.yaml", "testdata/dns-bad.yaml")
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(HavePrefix("d6lab: bad input: testdata/dns-bad.yaml:8:"))
		Expect(stderr).To(ContainSubstring(`dns.zone: "lab.com." is not under a name RFC 2606 reserves`))
		Expect(stderr).To(ContainSubstring("testdata/dns-bad.yaml:9:8: dns.ttl: 0s: want at least 1s"))
		Expect(out).NotTo(BeAnExistingFile(), "a scenario ran")
	})

	It("run --engine virtual exits 2 on a dns: scenario, naming the netns engine, before any scenario runs", func() {
		out := filepath.Join(GinkgoT().TempDir(), "out")
		code, _, stderr := d6("run", "--engine", "virtual", "--out", out, "testdata/impossible.yaml", "../../scenarios/dns-split-kill.yaml")
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(HavePrefix("d6lab: bad input: dns-split-kill: virtual: dns:"))
		Expect(stderr).To(ContainSubstring("use the netns engine"))
		Expect(out).NotTo(BeAnExistingFile(), "a scenario ran")
	})

	It("compare --dns --engine virtual exits 2 naming the netns engine, before any model runs", func() {
		out := filepath.Join(GinkgoT().TempDir(), "out")
		code, _, stderr := d6("compare", "--dns", "--engine", "virtual", "--clients", "20", "--out", out)
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(HavePrefix("d6lab: bad input: compare-split: virtual: dns:"))
		Expect(stderr).To(ContainSubstring("use the netns engine"))
		Expect(out).NotTo(BeAnExistingFile(), "a model ran")
	})

	It("compare --dns gives scenario files without the blocks the defaults (the virtual engine then refuses them)", func() {
		code, _, stderr := d6("compare", "--dns", "--engine", "virtual", "--out", GinkgoT().TempDir(), "testdata/impossible.yaml")
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(HavePrefix("d6lab: bad input: impossible: virtual: dns:"))
	})
})
