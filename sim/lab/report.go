package lab

import (
	"d6lab/reports/check"
	"d6lab/scenarios"
)

// Report analyses a run's history with the checkers and evaluates the
// scenario's expect: bounds against it. The command line and the scenario
// suite both judge a run through it, so they cannot disagree.
func Report(sc *scenarios.Scenario, res *Result) *check.Report {
	l := check.Lab{
		Scenario:  sc.Name,
		Model:     string(sc.Model),
		Engine:    "netns",
		Timescale: sc.Clients.Timescale,
		Start:     res.Start,
		End:       res.End,
	}
	for _, s := range res.Servers {
		l.Servers = append(l.Servers, check.ServerInfo{Name: s.Name, DUID: s.DUID, Prefix: s.Prefix})
	}
	rep := check.Analyze(res.Events, l)
	rep.Evaluate(Bounds(sc.Expect))
	return rep
}

// Bounds converts a scenario's expectations to the checker's bounds.
func Bounds(ex []scenarios.Expect) []check.Bound {
	out := make([]check.Bound, len(ex))
	for i, e := range ex {
		out[i] = check.Bound{Path: e.Path, Op: e.Op, Value: e.Value, Raw: e.Raw}
	}
	return out
}
