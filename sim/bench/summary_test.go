package bench_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/bench"
)

var _ = Describe("Summary", func() {
	save := func(dir, server string, rate, dropsOnly float64, mod ...func(*bench.Report)) {
		r := &bench.Report{
			Server: server, Mode: "search", Rate: rate, LatencyMs: bench.Latency{P99: 4},
			DropsOnly: &bench.RateAt{Rate: dropsOnly, P99Ms: 300},
			Params:    bench.Params{MaxDrops: 0.001, MaxP99Ms: 10}, Steps: []bench.Step{{}, {}},
		}
		for _, m := range mod {
			m(r)
		}
		Expect(r.Save(filepath.Join(dir, server))).To(Succeed())
	}

	It("puts echo, builtin and kea side by side with the two ratios at the latency bound", func() {
		dir := GinkgoT().TempDir()
		save(dir, "kea", 5000, 5500)
		save(dir, "builtin", 20000, 22000, func(r *bench.Report) { r.Perfdhcp = &bench.PerfdhcpSummary{Rate: 4000} })
		save(dir, "echo", 40000, 44000)
		s, err := bench.Summarize(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Servers).To(HaveLen(3))
		Expect([]string{s.Servers[0].Server, s.Servers[1].Server, s.Servers[2].Server}).To(Equal([]string{"echo", "builtin", "kea"}))
		Expect(s.BuiltinKea).To(Equal(4.0))
		Expect(s.BuiltinEcho).To(Equal(0.5))
		Expect(s.BuiltinKeaDropsOnly).To(Equal(4.0))
		Expect(s.BuiltinEchoDrops).To(Equal(0.5))
		Expect(s.Line()).To(Equal("at p99 <= 10 ms and drops <= 0.1 %: builtin/kea 4.00x, builtin/echo 0.50x (50 % of the ceiling)"))
		var buf bytes.Buffer
		Expect(s.WriteText(&buf)).To(Succeed())
		Expect(buf.String()).To(MatchRegexp(`builtin\s+-\s+off\s+20000\s+4\.000\s+0\.000%\s+22000\s+300\.000\s+4000`))
		Expect(buf.String()).To(ContainSubstring("summary: at p99 <= 10 ms"))

		Expect(s.Save(dir)).To(Succeed())
		txt, err := os.ReadFile(filepath.Join(dir, bench.SummaryText))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(txt)).To(Equal(buf.String()))
		js, err := os.ReadFile(filepath.Join(dir, bench.SummaryJSON))
		Expect(err).NotTo(HaveOccurred())
		var m map[string]any
		Expect(json.Unmarshal(js, &m)).To(Succeed())
		Expect(m).To(HaveKeyWithValue("builtin_kea", 4.0))
		Expect(m).To(HaveKeyWithValue("builtin_echo", 0.5))
	})

	It("headlines the builtin run whose leases are as durable as Kea's, and gives each other one a line", func() {
		dir := GinkgoT().TempDir()
		leases := func(l string) func(*bench.Report) { return func(r *bench.Report) { r.Leases = l } }
		save(dir, "kea", 5000, 5500, leases("write"))
		save(dir, "echo", 40000, 44000, leases("none"))
		save(dir, "builtin", 20000, 22000, leases("fdatasync"))
		r := &bench.Report{
			Server: "builtin", Leases: "write", Mode: "search", Rate: 30000, LatencyMs: bench.Latency{P99: 4},
			DropsOnly: &bench.RateAt{Rate: 33000, P99Ms: 300},
			Params:    bench.Params{MaxDrops: 0.001, MaxP99Ms: 10},
		}
		Expect(r.Save(filepath.Join(dir, "builtin-write"))).To(Succeed())
		s, err := bench.Summarize(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Servers).To(HaveLen(4))
		Expect(s.BuiltinLeases).To(Equal("write"))
		Expect(s.BuiltinKea).To(Equal(6.0))
		Expect(s.BuiltinEcho).To(Equal(0.75))
		Expect(s.BuiltinKeaDropsOnly).To(Equal(6.0))
		Expect(s.Servers[1].VsKea).To(Equal(4.0), "the fdatasync run keeps its own ratios")
		Expect(s.Line()).To(Equal("at p99 <= 10 ms and drops <= 0.1 %: builtin/kea 6.00x, builtin/echo 0.75x (75 % of the ceiling); builtin's leases: write"))
		var buf bytes.Buffer
		Expect(s.WriteText(&buf)).To(Succeed())
		Expect(buf.String()).To(MatchRegexp(`kea\s+write\s+off\s+5000`))
		Expect(buf.String()).To(ContainSubstring("builtin (leases fdatasync): builtin/kea 4.00x, builtin/echo 0.50x at the bound; 4.00x, 0.50x by drops alone"))
	})

	It("leaves a ratio out when a side is missing or passed at no rate", func() {
		dir := GinkgoT().TempDir()
		save(dir, "builtin", 20000, 22000)
		save(dir, "kea", 0, 5500)
		s, err := bench.Summarize(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.BuiltinKea).To(BeZero())
		Expect(s.BuiltinEcho).To(BeZero())
		Expect(s.Line()).To(HaveSuffix("builtin/kea -, builtin/echo -"))
	})

	It("refuses reports whose bounds differ, fixed-rate runs, and a directory without reports", func() {
		dir := GinkgoT().TempDir()
		_, err := bench.Summarize(dir)
		Expect(err).To(MatchError(bench.ErrNoReports))
		save(dir, "builtin", 20000, 22000)
		save(dir, "kea", 5000, 5500, func(r *bench.Report) { r.Params.MaxP99Ms = 5 })
		_, err = bench.Summarize(dir)
		Expect(err).To(MatchError(ContainSubstring("do not compare")))
		save(dir, "kea", 5000, 5500, func(r *bench.Report) { r.Mode = "rate" })
		_, err = bench.Summarize(dir)
		Expect(err).To(MatchError(ContainSubstring("a summary compares searches")))
	})

	It("shows each server's offloads, and refuses a builtin run and an echo on different socket paths", func() {
		dir := GinkgoT().TempDir()
		on := func(r *bench.Report) { r.Params.Offload = true }
		save(dir, "kea", 5000, 5500)
		save(dir, "builtin", 20000, 22000, on)
		save(dir, "echo", 40000, 44000, on)
		s, err := bench.Summarize(dir)
		Expect(err).NotTo(HaveOccurred())
		var buf bytes.Buffer
		Expect(s.WriteText(&buf)).To(Succeed())
		Expect(buf.String()).To(MatchRegexp(`echo\s+-\s+on\s+40000`))
		Expect(buf.String()).To(MatchRegexp(`builtin\s+-\s+on\s+20000`))
		Expect(buf.String()).To(MatchRegexp(`kea\s+-\s+off\s+5000`))
		Expect(s.BuiltinEcho).To(Equal(0.5))

		save(dir, "echo", 40000, 44000) // without its offloads
		_, err = bench.Summarize(dir)
		Expect(err).To(MatchError(ContainSubstring("offload on")))
		Expect(err).To(MatchError(ContainSubstring("do not compare")))
	})
})
