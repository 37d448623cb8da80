package render

import (
	"cmp"
	"slices"
	"time"

	"d6lab/reports/chart"
	"d6lab/reports/check"
	"d6lab/reports/history"
)

// Run is what the pages of one run are drawn from: its report, the
// per-client samples behind its percentiles, and the lab events to mark on
// its time axis.
type Run struct {
	Report *check.Report
	// Reacquire is each recovered affected client's re-acquisition time
	// in seconds, ascending (check.Samples.ReacquireS).
	Reacquire []float64
	// LeasequeryGap is each sampled affected client's Leasequery gap in
	// seconds, ascending (check.Samples.LeasequeryGapS).
	LeasequeryGap []float64
	// Events are the lab events after the start (kills, freezes, thaws,
	// restarts, cuts, heals, impairments), in time order.
	Events []LabEvent
	// NoHistoryFile: the run's history.jsonl was not written
	// (--no-history-file), so a comparison's page cannot promise a
	// rebuild.
	NoHistoryFile bool
}

// LabEvent is one lab event of a run, for the time axis.
type LabEvent struct {
	AtS    float64 // seconds since the run started
	Kind   history.Kind
	Server string // the server's lab name; empty for the link
	Detail string
}

// Label names the event briefly: "kill s1", "restart s1 (state wipe)".
func (e LabEvent) Label() string {
	verb := map[history.Kind]string{
		history.ServerKilled:    "kill",
		history.ServerFrozen:    "freeze",
		history.ServerThawed:    "thaw",
		history.ServerRestarted: "restart",
		history.ServerStarted:   "start",
		history.LinkCut:         "cut",
		history.LinkHealed:      "heal",
		history.LinkImpaired:    "impair",
		history.ClientsJoined:   "join",
		history.ClientsLeft:     "leave",
		history.LinkFlapped:     "flap",
		history.AddressOccupied: "occupy",
		history.DNSServerDied:   "dns died",
	}[e.Kind]
	if verb == "" {
		verb = string(e.Kind)
	}
	s := verb
	switch {
	case e.Server != "":
		s += " " + e.Server
	case e.Kind == history.LinkCut || e.Kind == history.LinkHealed || e.Kind == history.LinkImpaired:
		s += " link"
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// NewRun gathers a run's pages' inputs from its report, the samples
// check.AnalyzeSamples returned with it, and its history (nil when not
// kept: the fault of the report is then the only event marked). Of a
// history, only the lab's events are built (Source.Kind first): a
// million-client day's log is read, not copied.
func NewRun(r *check.Report, s check.Samples, events history.Source) *Run {
	run := &Run{Report: r, Reacquire: s.ReacquireS, LeasequeryGap: s.LeasequeryGapS}
	if events == nil {
		if f := r.Fault; f != nil {
			kind := history.Kind(f.Kind)
			if len(f.Servers) == 0 {
				run.Events = append(run.Events, LabEvent{AtS: since(r.Started, f.At), Kind: kind})
			}
			for _, srv := range f.Servers {
				run.Events = append(run.Events, LabEvent{AtS: since(r.Started, f.At), Kind: kind, Server: srv})
			}
		}
		return run
	}
	for i := range events.Len() {
		switch events.Kind(i) {
		case history.ServerKilled, history.ServerFrozen, history.ServerThawed, history.ServerRestarted,
			history.LinkCut, history.LinkHealed, history.LinkImpaired,
			history.ClientsJoined, history.ClientsLeft, history.LinkFlapped, history.AddressOccupied,
			history.DNSServerDied:
		case history.ServerStarted:
			if !events.At(i).After(r.Started) {
				continue // the lab's own start
			}
		default:
			continue
		}
		e := events.Event(i)
		if e.At.Before(r.Started) || e.At.After(r.Ended) {
			continue
		}
		run.Events = append(run.Events, LabEvent{AtS: since(r.Started, e.At), Kind: e.Kind, Server: e.Server, Detail: e.Detail})
	}
	sortEvents(run.Events)
	return run
}

func since(start, t time.Time) float64 { return t.Sub(start).Seconds() }

func sortEvents(evs []LabEvent) {
	slices.SortStableFunc(evs, func(a, b LabEvent) int { return cmp.Compare(a.AtS, b.AtS) })
}

// marks turns the lab events into chart markers; events at the same
// instant share one marker.
func (run *Run) marks() []chart.Mark {
	var out []chart.Mark
	for _, e := range run.Events {
		if n := len(out); n > 0 && out[n-1].X == e.AtS {
			out[n-1].Label += ", " + e.Label()
			continue
		}
		out = append(out, chart.Mark{X: e.AtS, Label: e.Label()})
	}
	return out
}
