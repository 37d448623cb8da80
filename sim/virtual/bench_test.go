package virtual_test

import (
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

// benchScenario plays scenarios/FILE with n clients once per iteration
// on the virtual engine, then runs after (if any) on the result.
func benchScenario(b *testing.B, file string, n int, after func(*scenarios.Scenario, *virtual.Engine)) {
	sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", file))
	if err != nil {
		b.Fatal(err)
	}
	sc.Clients.Count = n
	b.ReportAllocs()
	for b.Loop() {
		e, err := virtual.RunScenario(sc)
		if err != nil {
			b.Fatal(err)
		}
		if after != nil {
			after(sc, e)
		}
		b.ReportMetric(float64(e.History().Len()), "events/op")
	}
}

// BenchmarkSplit24h: 10,000 clients, 24 h virtual, realistic lifetimes.
func BenchmarkSplit24h(b *testing.B) { benchScenario(b, "scale/split-24h.yaml", 10_000, nil) }

// BenchmarkIdentical24h: as BenchmarkSplit24h, identical model.
func BenchmarkIdentical24h(b *testing.B) { benchScenario(b, "scale/identical-24h.yaml", 10_000, nil) }

// BenchmarkUnique24h: as BenchmarkSplit24h, unique model.
func BenchmarkUnique24h(b *testing.B) { benchScenario(b, "scale/unique-24h.yaml", 10_000, nil) }

// BenchmarkSplitKill100k: scenarios/split-kill.yaml (65 s virtual) with
// 100,000 clients, the run issue 15 starts from.
func BenchmarkSplitKill100k(b *testing.B) { benchScenario(b, "split-kill.yaml", 100_000, nil) }

// BenchmarkSplit24hLive100k: scale/split-24h.yaml with 100,000 clients,
// reporting the heap still live when the day ends (after a collection,
// the engine held): what a million clients' memory scales from, without
// the collector's headroom that peak RSS includes.
func BenchmarkSplit24hLive100k(b *testing.B) {
	benchScenario(b, "scale/split-24h.yaml", 100_000, func(_ *scenarios.Scenario, e *virtual.Engine) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-MiB")
		runtime.KeepAlive(e)
	})
}

// BenchmarkSplit24hReport: BenchmarkSplit24h and what `d6lab run` does
// after the engine: the analysis of the history and history.jsonl
// written (to io.Discard).
func BenchmarkSplit24hReport(b *testing.B) { benchReport(b, 10_000) }

// BenchmarkSplit24hReport100k is BenchmarkSplit24hReport with 100,000
// clients (about 90 s here): the size at which a profile shows what a
// million clients will spend, without taking a quarter of an hour.
func BenchmarkSplit24hReport100k(b *testing.B) { benchReport(b, 100_000) }

func benchReport(b *testing.B, n int) {
	benchScenario(b, "scale/split-24h.yaml", n, func(sc *scenarios.Scenario, e *virtual.Engine) {
		r, _ := check.AnalyzeSource(e.History(), sim.CheckLab(sc, "virtual"))
		if r.Events != e.History().Len() {
			b.Fatalf("analysed %d events of %d", r.Events, e.History().Len())
		}
		if err := history.WriteSourceJSONL(io.Discard, e.History()); err != nil {
			b.Fatal(err)
		}
	})
}
