package main_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/scenarios"
)

// These specs run the built binary with the virtual engine (no root): the
// exit codes of run, compare and report, the files they write, and that
// report rebuilds them from the history alone.

// d6 runs the binary and returns its exit code, stdout and stderr.
func d6(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	cmd := exec.Command(d6labBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	}
	Expect(err).NotTo(HaveOccurred(), "d6lab %v", args)
	return 0, out.String(), errb.String()
}

// junitDoc mirrors the parts of junit.xml the specs read.
type junitDoc struct {
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(path string) junitDoc {
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var doc junitDoc
	Expect(xml.Unmarshal(b, &doc)).To(Succeed(), "%s", path)
	return doc
}

var runFiles = []string{"report.json", "history.jsonl", "report.html", "report.md", "junit.xml"}

func expectRunFiles(dir string) {
	for _, f := range runFiles {
		Expect(filepath.Join(dir, f)).To(BeARegularFile())
	}
}

// expectImpossibleFailure checks what a run of testdata/impossible.yaml
// leaves: exit 1, naming the broken bound, and a junit.xml saying why.
func expectImpossibleFailure(code int, stderr, dir string) {
	Expect(code).To(Equal(1), "stderr: %s", stderr)
	Expect(stderr).To(MatchRegexp(`d6lab: expectation broken: impossible: reacquire_s\.p99 = [0-9.]+, want < 1 \(see .*junit\.xml\)`))
	expectRunFiles(dir)
	doc := readJUnit(filepath.Join(dir, "junit.xml"))
	Expect(doc.Failures).To(Equal(1))
	Expect(doc.Suites).To(HaveLen(1))
	Expect(doc.Suites[0].Name).To(Equal("impossible"))
	var failed []string
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name+": "+c.Failure.Message)
		}
	}
	Expect(failed).To(HaveLen(1))
	Expect(failed[0]).To(MatchRegexp(`^reacquire_s\.p99 < 1: reacquire_s\.p99 = 1[0-9.]+, want < 1$`),
		"the failure gives the measured value: clients rebind at T2, 11s after the kill")
}

var _ = Describe("Exit codes and reports (virtual engine)", func() {
	It("run exits 0 when every bound holds and writes every output", func() {
		out := GinkgoT().TempDir()
		code, stdout, stderr := d6("run", "--engine", "virtual", "--out", out, "../../scenarios/identical-sequential-restart-wipe.yaml")
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		Expect(stdout).To(ContainSubstring("verdict  PASS"))
		expectRunFiles(filepath.Join(out, "identical-sequential-restart-wipe"))
	})

	It("run exits 1 on an impossible expect, and junit.xml says why", func() {
		out := GinkgoT().TempDir()
		code, _, stderr := d6("run", "--engine", "virtual", "--out", out, "testdata/impossible.yaml")
		expectImpossibleFailure(code, stderr, filepath.Join(out, "impossible"))
		md, err := os.ReadFile(filepath.Join(out, "impossible", "report.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(ContainSubstring("| ❌ | `reacquire_s.p99` | `< 1` |"))
	})

	DescribeTable("exits 2 on bad input or a lab that cannot run, saying which",
		func(want string, args ...string) {
			code, _, stderr := d6(args...)
			Expect(code).To(Equal(2), "stderr: %s", stderr)
			Expect(stderr).To(HavePrefix("d6lab: " + want))
		},
		Entry("a malformed scenario", "bad input: ../../scenarios/testdata/bad/yaml-tab.yaml:4:",
			"run", "--engine", "virtual", "--out", "/nonexistent/never", "../../scenarios/testdata/bad/yaml-tab.yaml"),
		Entry("a missing scenario", "bad input:", "run", "--engine", "virtual", "testdata/no-such.yaml"),
		Entry("an unknown engine", `bad input: --engine "warp"`, "run", "--engine", "warp", "--out", "/nonexistent/never", "testdata/impossible.yaml"),
		Entry("a bad clients count", "bad input: --clients 0", "compare", "--engine", "virtual", "--clients", "0"),
		Entry("more clients than a scenario may hold", "bad input: --clients 1000001: want 1..1000000", "compare", "--engine", "virtual", "--clients", "1000001"),
		Entry("an unknown flag", "bad input: unknown flag", "compare", "--bogus"),
		Entry("an unwritable output directory", "cannot write the outputs:",
			"run", "--engine", "virtual", "--out", "/proc/d6lab-cannot-write", "testdata/impossible.yaml"),
		Entry("report without a directory", "bad input:", "report"),
		Entry("report on a missing directory", "bad run directory: /nonexistent/d6lab:", "report", "/nonexistent/d6lab"),
	)

	It("compare exits 0 and writes compare.json, report.html, report.md, junit.xml with a suite per model", func() {
		out := GinkgoT().TempDir()
		code, stdout, stderr := d6("compare", "--engine", "virtual", "--clients", "60", "--out", out)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		Expect(stdout).To(ContainSubstring("wrote " + out))
		for _, f := range []string{"compare.json", "report.html", "report.md", "junit.xml"} {
			Expect(filepath.Join(out, f)).To(BeARegularFile())
		}
		doc := readJUnit(filepath.Join(out, "junit.xml"))
		var suites []string
		for _, s := range doc.Suites {
			suites = append(suites, s.Name)
		}
		Expect(suites).To(Equal([]string{"compare-split", "compare-unique", "compare-identical", "compare-identical-sequential"}))
		for _, m := range []string{"split", "unique", "identical", "identical-sequential"} {
			expectRunFiles(filepath.Join(out, m))
		}
	})

	Describe("report DIR", func() {
		// same reports the same bytes of every rebuilt output as the run
		// wrote, after deleting the readable ones.
		rebuilds := func(dir string, files []string) {
			before := map[string][]byte{}
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(dir, f))
				Expect(err).NotTo(HaveOccurred())
				before[f] = b
				if f != "report.json" && f != "compare.json" {
					Expect(os.Remove(filepath.Join(dir, f))).To(Succeed())
				}
			}
			code, stdout, stderr := d6("report", dir)
			Expect(code).To(Equal(0), "stdout: %s\nstderr: %s", stdout, stderr)
			Expect(stdout).To(ContainSubstring("rebuilt"))
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(dir, f))
				Expect(err).NotTo(HaveOccurred(), "report did not rebuild %s", f)
				Expect(string(b)).To(Equal(string(before[f])), "%s rebuilt from the history differs from the run's", f)
			}
		}

		It("rebuilds a run's outputs from its history, byte for byte", func() {
			out := GinkgoT().TempDir()
			code, _, stderr := d6("run", "--engine", "virtual", "--out", out, "../../scenarios/identical-sequential-restart-wipe.yaml")
			Expect(code).To(Equal(0), "stderr: %s", stderr)
			rebuilds(filepath.Join(out, "identical-sequential-restart-wipe"), []string{"report.json", "report.html", "report.md", "junit.xml"})
			By("and from run's --out directory, one run directory per scenario")
			code, _, stderr = d6("report", out)
			Expect(code).To(Equal(0), "stderr: %s", stderr)
		})

		It("rebuilds a comparison: each model's outputs, compare.json and the shared pages", func() {
			out := GinkgoT().TempDir()
			code, _, stderr := d6("compare", "--engine", "virtual", "--clients", "60", "--out", out)
			Expect(code).To(Equal(0), "stderr: %s", stderr)
			rebuilds(out, []string{"compare.json", "report.html", "report.md", "junit.xml"})
			Expect(filepath.Join(out, "split", "report.html")).To(BeARegularFile())
		})

		It("re-evaluates the bounds report.json recorded and exits 1 when one breaks", func() {
			out := GinkgoT().TempDir()
			code, _, stderr := d6("run", "--engine", "virtual", "--out", out, "testdata/impossible.yaml")
			Expect(code).To(Equal(1), "stderr: %s", stderr)
			dir := filepath.Join(out, "impossible")
			Expect(os.Remove(filepath.Join(dir, "junit.xml"))).To(Succeed())
			code, _, stderr = d6("report", dir)
			expectImpossibleFailure(code, stderr, dir)

			By("loosening the recorded bound: the rebuilt report holds")
			path := filepath.Join(dir, "report.json")
			b, err := os.ReadFile(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(path, bytes.Replace(b, []byte(`"bound": "< 1"`), []byte(`"bound": "< 40"`), 1), 0o644)).To(Succeed())
			code, _, stderr = d6("report", dir)
			Expect(code).To(Equal(0), "stderr: %s", stderr)
			Expect(readJUnit(filepath.Join(dir, "junit.xml")).Failures).To(Equal(0))
		})

		DescribeTable("exits 2 for a directory it cannot rebuild, saying why",
			func(setup func(dir string), want string) {
				dir := GinkgoT().TempDir()
				setup(dir)
				code, _, stderr := d6("report", dir)
				Expect(code).To(Equal(2), "stderr: %s", stderr)
				Expect(stderr).To(HavePrefix("d6lab: bad run directory: " + dir))
				Expect(stderr).To(ContainSubstring(want))
			},
			Entry("empty", func(string) {}, "not a d6lab run or compare directory"),
			Entry("a report without its history", func(dir string) {
				Expect(os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"scenario":"x","expect":[]}`), 0o644)).To(Succeed())
			}, "history.jsonl"),
			Entry("a corrupt report.json", func(dir string) {
				Expect(os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"scenario":`), 0o644)).To(Succeed())
				Expect(os.WriteFile(filepath.Join(dir, "history.jsonl"), nil, 0o644)).To(Succeed())
			}, "report.json"),
			Entry("a recorded bound that does not parse", func(dir string) {
				Expect(os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"scenario":"x","expect":[{"name":"bound","bound":"about 3"}]}`), 0o644)).To(Succeed())
				Expect(os.WriteFile(filepath.Join(dir, "history.jsonl"), nil, 0o644)).To(Succeed())
			}, `expect[0] (bound)`),
			Entry("a compare.json without the models' directories", func(dir string) {
				Expect(os.WriteFile(filepath.Join(dir, "compare.json"), []byte(`{"runs":[{"scenario":"compare-split","model":"split"}]}`), 0o644)).To(Succeed())
			}, "cannot be rebuilt without its histories"),
		)
	})
})

// chromium is the Debian package's browser (scripts/setup.sh installs it).
const chromium = "/usr/bin/chromium"

// headless runs Chromium without network or profile and returns its
// stdout and stderr (console messages are logged there as ":CONSOLE").
func headless(args ...string) (string, string) {
	argv := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + GinkgoT().TempDir(), "--enable-logging=stderr", "--v=0"}, args...)
	var out, errb bytes.Buffer
	cmd := exec.Command(chromium, argv...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	Expect(cmd.Run()).To(Succeed(), "chromium %v:\n%s", args, errb.String())
	return out.String(), errb.String()
}

var consoleRE = regexp.MustCompile(`(?m)^.*(:CONSOLE|Uncaught).*$`)

// consoleProblems returns the console lines of a Chromium log.
func consoleProblems(log string) []string { return consoleRE.FindAllString(log, -1) }

var (
	domSVGRE  = regexp.MustCompile(`(?s)<svg[ >].*?</svg>`)
	domPathRE = regexp.MustCompile(`<path d="M[^"]+L`)
)

var _ = Describe("report.html in a browser", Label("browser"), func() {
	BeforeEach(func() {
		if _, err := os.Stat(chromium); err != nil {
			Skip("needs " + chromium + " (Debian package chromium; run scripts/setup.sh)")
		}
	})

	It("notices console errors (the check below can fail)", func() {
		page := filepath.Join(GinkgoT().TempDir(), "bad.html")
		Expect(os.WriteFile(page, []byte(`<html><body><script>noSuchFunction()</script></body></html>`), 0o644)).To(Succeed())
		_, log := headless("--dump-dom", "file://"+page)
		Expect(consoleProblems(log)).NotTo(BeEmpty(), "chromium log:\n%s", log)
	})

	It("renders the compare report's charts without console errors, and saves a screenshot", func() {
		out := GinkgoT().TempDir()
		code, _, stderr := d6("compare", "--engine", "virtual", "--clients", "200", "--out", out)
		Expect(code).To(Equal(0), "stderr: %s", stderr)
		page := "file://" + filepath.Join(out, "report.html")

		dom, log := headless("--dump-dom", page)
		Expect(consoleProblems(log)).To(BeEmpty())
		var drawn int
		for _, svg := range domSVGRE.FindAllString(dom, -1) {
			if domPathRE.MatchString(svg) {
				drawn++
			}
		}
		Expect(drawn).To(Equal(2+2*len(scenarios.CompareVariants)), "CDF, rebind outcomes, and bound clients and share drift per compare variant")
		Expect(dom).To(ContainSubstring("Re-acquisition time after the fault"))

		shot := filepath.Join(out, "report.png")
		_, log = headless("--screenshot="+shot, "--window-size=1200,2400", page)
		Expect(consoleProblems(log)).To(BeEmpty())
		f, err := os.Open(shot)
		Expect(err).NotTo(HaveOccurred(), "no screenshot: chromium log:\n%s", log)
		defer f.Close()
		img, err := png.Decode(f)
		Expect(err).NotTo(HaveOccurred())
		Expect(img.Bounds().Dx()).To(Equal(1200))
		// the charts painted: the first series colour (Okabe-Ito blue
		// #0072B2) covers a good number of pixels
		Expect(countColor(img, 0x00, 0x72, 0xB2)).To(BeNumerically(">", 500), "screenshot %s shows no chart lines", shot)
		fmt.Fprintf(GinkgoWriter, "screenshot: %s\n", shot)
	})
})

// countColor counts the pixels within a small distance of (r, g, b).
func countColor(img image.Image, r, g, b uint8) int {
	n := 0
	near := func(x uint32, y uint8) bool { d := int(x>>8) - int(y); return d > -12 && d < 12 }
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, r) && near(pg, g) && near(pb, b) {
				n++
			}
		}
	}
	return n
}

var _ = Describe("run in network namespaces", Label("netns"), func() {
	It("writes every output, exits 1 on an impossible expect, and junit.xml says why", func() {
		requireRoot()
		out := GinkgoT().TempDir()
		code, _, stderr := d6("run", "--out", out, "testdata/impossible.yaml")
		expectImpossibleFailure(code, stderr, filepath.Join(out, "impossible"))
	})
})
