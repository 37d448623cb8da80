package bench_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/load"
	"d6lab/server/lease"
	"d6lab/sim/bench"
)

var _ = Describe("Report", func() {
	rep := func() *bench.Report {
		lat := bench.Latency{P50: 0.4, P90: 0.6, P99: 1.2, P999: 3, Max: 7}
		return &bench.Report{
			Server: "builtin", Version: "d6lab", Mode: "search", Rate: 24000, Drops: 0.0002,
			LatencyMs: lat, MeanMs: 0.5,
			Steps: []bench.Step{{Tool: "d6lab", Offered: 24000, Rate: 24000, Pass: true, LatencyMs: &lat}},
			Perfdhcp: &bench.PerfdhcpSummary{Rate: 12000, Drops: 0.0005, AvgMs: 0.7,
				Steps: []bench.Step{{Tool: "perfdhcp", Offered: 12000, Rate: 12000, Pass: true}}},
			DropsOnly: &bench.RateAt{Offered: 30000, Rate: 29990, Drops: 0.0008, P99Ms: 448},
			Ratio:     2.5,
			Params:    bench.Params{Exchange: "sarr", NA: true, Clients: 10000, MaxDrops: 0.001, MaxP99Ms: 10},
			Machine:   bench.Machine{CPUs: 2, Kernel: "6.1"},
			CPU:       bench.CPU{ServerCores: 0.9, ServerMaxRSSKiB: 40960, GeneratorCores: 0.3},
		}
	}

	It("writes bench.json with the issue's fields", func() {
		dir := GinkgoT().TempDir()
		Expect(rep().Save(dir)).To(Succeed())
		b, err := os.ReadFile(filepath.Join(dir, bench.ReportFile))
		Expect(err).NotTo(HaveOccurred())
		var m map[string]any
		Expect(json.Unmarshal(b, &m)).To(Succeed())
		Expect(m).To(HaveKeyWithValue("server", "builtin"))
		Expect(m).To(HaveKeyWithValue("mode", "search"))
		Expect(m).To(HaveKeyWithValue("rate", 24000.0))
		Expect(m).To(HaveKeyWithValue("drops", 0.0002))
		Expect(m["drops_only"]).To(Equal(map[string]any{"offered": 30000.0, "rate": 29990.0, "drops": 0.0008, "p99_ms": 448.0}))
		Expect(m["params"]).To(HaveKeyWithValue("max_p99_ms", 10.0))
		Expect(m["latency_ms"]).To(Equal(map[string]any{"p50": 0.4, "p90": 0.6, "p99": 1.2, "p999": 3.0, "max": 7.0}))
		Expect(m["perfdhcp"]).To(HaveKeyWithValue("rate", 12000.0))
		Expect(m["perfdhcp"]).To(HaveKeyWithValue("drops", 0.0005))
		Expect(m["perfdhcp"]).To(HaveKeyWithValue("avg_ms", 0.7))
		Expect(m).To(HaveKey("steps"))
		Expect(m).To(HaveKey("machine"))
		Expect(m).To(HaveKey("cpu"))
	})

	It("leaves perfdhcp out when it did not run", func() {
		r := rep()
		r.Perfdhcp, r.Ratio = nil, 0
		b, err := json.Marshal(r)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).NotTo(ContainSubstring(`"perfdhcp"`))
		var buf bytes.Buffer
		Expect(r.WriteTable(&buf)).To(Succeed())
		Expect(buf.String()).NotTo(ContainSubstring("perfdhcp"))
	})

	It("prints both columns and the ratio", func() {
		var buf bytes.Buffer
		Expect(rep().WriteTable(&buf)).To(Succeed())
		out := buf.String()
		Expect(out).To(ContainSubstring("bounds: drops 0.1%, p99 10 ms"))
		Expect(out).To(MatchRegexp(`rate \(exchanges/s\)\s+24000\s+-`))
		Expect(out).To(MatchRegexp(`drops\s+0\.020%\s+-`))
		Expect(out).To(MatchRegexp(`latency p99 \(ms\)\s+1\.200\s+-`))
		Expect(out).To(MatchRegexp(`rate, drops alone \(/s\)\s+29990\s+12000`))
		Expect(out).To(MatchRegexp(`drops there\s+0\.080%\s+0\.050%`))
		Expect(out).To(MatchRegexp(`latency p99 there \(ms\)\s+448\.000`))
		Expect(out).To(ContainSubstring("ratio d6lab/perfdhcp (drops alone): 2.50x"))
	})

	It("marks a step the load tool could not drive as failed", func() {
		Expect(bench.StepLine(3, bench.Step{Tool: "d6lab", Offered: 1000, Limited: true})).To(ContainSubstring("could not keep the rate"))
		Expect(bench.StepLine(3, bench.Step{Tool: "perfdhcp", Offered: 1000, Pass: true})).To(HaveSuffix("pass"))
	})
})

var _ = Describe("Options", func() {
	valid := func() bench.Options {
		o := bench.Options{Server: "builtin", Rate: 100}
		o.SetDefaults()
		return o
	}
	It("fills the defaults", func() {
		o := valid()
		Expect(o.Validate()).To(Succeed())
		Expect(o.Clients).To(Equal(bench.DefaultClients))
		Expect(o.NA).To(BeTrue())
		Expect(o.MaxDrops).To(Equal(0.001))
		Expect(o.MaxP99).To(Equal(10 * time.Millisecond))
		Expect(o.SearchConfig.Start).To(Equal(100.0), "--rate is the search's first step")
	})
	DescribeTable("rejects bad options, naming the option",
		func(option string, mod func(*bench.Options)) {
			o := valid()
			mod(&o)
			err := o.Validate()
			Expect(err).To(MatchError(bench.ErrBadOptions))
			var oe *bench.OptionError
			Expect(errors.As(err, &oe)).To(BeTrue())
			Expect(oe.Option).To(Equal(option))
		},
		Entry(nil, "server", func(o *bench.Options) { o.Server = "nope" }),
		Entry(nil, "rate", func(o *bench.Options) { o.Rate = 0 }),
		Entry(nil, "rate", func(o *bench.Options) { o.Rate = -5; o.Search = true }),
		Entry(nil, "duration", func(o *bench.Options) { o.Duration = time.Millisecond }),
		Entry(nil, "clients", func(o *bench.Options) { o.Clients = -1 }),
		Entry(nil, "server-cpuprofile", func(o *bench.Options) { o.Server = "echo"; o.ServerCPUProfile = "x.pprof" }),
		Entry(nil, "renew", func(o *bench.Options) { o.Renew = 1.5 }),
		Entry(nil, "release", func(o *bench.Options) { o.Release = 0.5; o.Exchange = 0 /* sa */ }),
		Entry(nil, "vs", func(o *bench.Options) { o.Vs = "dhcperf" }),
		Entry(nil, "vs", func(o *bench.Options) { o.Vs = "perfdhcp"; o.Exchange = load.RapidCommit }),
		Entry(nil, "max-drops", func(o *bench.Options) { o.MaxDrops = 1 }),
		Entry(nil, "timeout", func(o *bench.Options) { o.Timeout = time.Nanosecond }),
		Entry(nil, "max-p99", func(o *bench.Options) { o.MaxP99 = time.Microsecond }),
		Entry(nil, "max-p99", func(o *bench.Options) { o.MaxP99 = 2 * time.Second }),
		Entry(nil, "leases-sync", func(o *bench.Options) { o.Server = "kea"; o.LeaseSync = lease.InKernel }),
		Entry(nil, "no-offload", func(o *bench.Options) { o.Server = "kea"; o.NoOffload = true }),
	)
	It("accepts the echo, the lab's ceiling, as a server, with or without its offloads", func() {
		for _, off := range []bool{false, true} {
			o := bench.Options{Server: bench.Echo, Search: true, NoOffload: off}
			o.SetDefaults()
			Expect(o.Validate()).To(Succeed())
		}
	})
	It("accepts a search without a rate", func() {
		o := bench.Options{Server: "kea", Search: true}
		o.SetDefaults()
		Expect(o.Validate()).To(Succeed())
	})
})
