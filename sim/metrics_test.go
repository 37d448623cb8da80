package sim_test

import (
	"strings"
	"testing"
	"time"

	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

// Scenarios may not import the reports room, so the loader keeps its own
// list of the metric paths `expect:` may name; this test keeps every one
// of them readable in a real report (null, that is unknown, is fine: the
// path exists), so a scenario bound can never name a metric the checkers
// do not produce.
func TestMetricPathsAreInTheReport(t *testing.T) {
	sc := scenarios.Compare(scenarios.CompareVariant{Model: scenarios.Identical, Allocator: deploy.AllocSequential}, 40)
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	e, err := virtual.RunScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	// label a few clients as real kinds, so that the by_kind paths exist
	events := e.Events()
	for i, k := range deploy.ClientKinds {
		events = append(events, history.Event{At: events[0].At, Kind: history.ClientKind, Client: i, Detail: string(k)})
	}
	// a DNS server (dying) and a Leasequery prober after the fault, so
	// that the dns.* and leasequery.* paths exist: the netns engine
	// records these events (the virtual engine has neither)
	first := check.Analyze(events, sim.CheckLab(sc, "virtual"))
	if first.Fault == nil {
		t.Fatal("the compare scenario has no fault")
	}
	at := first.Fault.At.Add(time.Second)
	events = append(events,
		history.Event{At: at, Kind: history.DNSTransfer, Client: -1, Detail: "0"},
		history.Event{At: at, Kind: history.DNSServerDied, Client: -1, Detail: "signal: killed"},
		history.Event{At: at, Kind: history.LeasequeryRound, Client: -1, Detail: sc.Servers[0].Name})
	for c := range sc.TotalClients() {
		events = append(events, history.Event{At: at, Kind: history.LeasequeryAnswer, Client: c,
			Server: sc.Servers[0].Name, Cause: history.LQNone, Detail: history.LQByUDP})
	}
	// one client drops its address and gets it back, so that the
	// life.dropped_s.* paths exist (the dhcpcd profile at a flap)
	for _, b := range events {
		if b.Kind == history.Bound && b.IA == history.IANA {
			off, back := b, b
			off.Kind, off.At, off.Tentative = history.Dropped, b.At.Add(2*time.Second), 0
			back.Kind, back.At, back.Tentative = history.Restored, b.At.Add(3*time.Second), time.Second
			events = append(events, off, back)
			break
		}
	}
	rep := check.Analyze(events, sim.CheckLab(sc, "virtual"))
	var bounds []check.Bound
	for _, p := range scenarios.MetricPaths {
		if scenarios.NumericMetric(p) {
			bounds = append(bounds, check.Bound{Path: p, Op: ">=", Value: -1})
		}
	}
	rep.Evaluate(bounds)
	for _, x := range rep.Expect {
		if x.Error != "" && !x.Unknown {
			t.Errorf("%s: %s", x.Name, x.Error)
		}
		if x.Unknown && !strings.HasPrefix(x.Name, "per_ia.pd.") && !strings.HasPrefix(x.Name, "by_kind.") {
			t.Errorf("%s is unknown in a run with affected NA clients: %s", x.Name, x.Error)
		}
	}
}
