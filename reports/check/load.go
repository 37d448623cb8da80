package check

import (
	"math"
	"strconv"
	"time"

	"d6lab/reports/history"
)

// Load is the server load the engine sampled (history.ServerLoad: the
// messages each server received per second of the run): what RFC 6853
// §6.1 warns shorter lifetimes cost ("an additional load on the DHCPv6
// servers"). Both engines sample it, in seconds counted from the run's
// start: the virtual engine counts what reaches each server's core in
// virtual time (sim/virtual/load.go), the netns engine what reaches each
// server node's link interface for port 547 in wall time, whatever the
// server's kind (sim/lab/load.go). Neither counts a server while it is
// killed.
//
// The steady window runs from the last binding granted before the fault
// (the last history.Bound event: the initial ramp is over, every client
// that came has its lease) to the fault, or the end of a run without one,
// cut to a whole number of that binding's T1 when it spans at least one:
// a client renews once per T1, so a window of whole T1s holds every
// client's renewals once per T1 whatever their phases (with the clients
// bound within a few seconds and the fault two T1s later, a window to
// the fault itself missed the second renewal of those bound last: 10 %
// too low, measured at 2,000 clients and T1 30 s).
// SteadyMPS is a server's messages received in the window divided by its
// length, each second's count taken as spread evenly over that second (a
// second the window cuts counts in proportion); nil when the window is
// empty (the fault came before every client was bound). PeakMPS is the
// most messages a server received in one second from the second holding
// the fault on (the failover burst); nil without a fault. The totals are
// over the servers: the sum of the steady rates, and the most messages all
// servers together received in one second.
//
// A Renew or Rebind is multicast to every server (RFC 9915 §18.2.4,
// §18.2.5: no server unicast), so each server receives every client's
// renewal: in steady state each server receives about clients / T1
// messages per second, the servers together clients x servers / T1.
//
// Report.Load is nil (JSON absent), and a bound on load.* unknown, when
// the history holds no sample: one recorded before the netns engine
// sampled load, or a run in which no server received anything.
type Load struct {
	FromS     float64              `json:"from_s"` // the steady window, seconds since the start
	ToS       float64              `json:"to_s"`
	SteadyMPS *float64             `json:"steady_mps"` // total over the servers; nil: empty window
	PeakMPS   *float64             `json:"peak_mps"`   // total; nil: no fault
	Servers   map[string]ServerMPS `json:"servers"`
}

// ServerMPS is one server's load (see Load).
type ServerMPS struct {
	SteadyMPS *float64 `json:"steady_mps"`
	PeakMPS   *float64 `json:"peak_mps"`
}

// loadReport computes Load from the history's ServerLoad events; nil when
// there is none. r must have its Fault filled in.
func loadReport(r *Report, events []history.Event, order []int32) *Load {
	start, end := r.Started, r.Ended
	to := end
	if r.Fault != nil {
		to = r.Fault.At
	}
	from := start
	var t1 time.Duration // the last binding's T1
	for _, idx := range order {
		e := &events[idx]
		if !e.At.Before(to) {
			break
		}
		if e.Kind == history.Bound {
			from, t1 = e.At, e.T1
		}
	}
	if span := to.Sub(from); t1 > 0 && span >= t1 {
		// Whole T1s only: each bound client renews once per T1, so such a
		// window holds each one's renewals once per T1 whatever their
		// phases, where a ragged end would miss or double some.
		to = from.Add(span / t1 * t1)
	}
	var faultSec time.Time
	if r.Fault != nil {
		faultSec = start.Add(r.Fault.At.Sub(start).Truncate(time.Second))
	}
	type acc struct {
		steady float64
		peak   float64
	}
	per := map[string]*acc{}
	var names []string
	perSecond := map[int64]float64{} // second end (ns since start) -> all servers, after the fault
	seen := false
	for _, idx := range order {
		e := &events[idx]
		if e.Kind != history.ServerLoad || e.At.After(end) {
			continue
		}
		n, err := strconv.ParseFloat(e.Detail, 64)
		if err != nil || n < 0 {
			continue
		}
		seen = true
		a := per[e.Server]
		if a == nil {
			a = &acc{}
			per[e.Server] = a
			names = append(names, e.Server)
		}
		secStart := e.At.Add(-time.Second)
		if lo, hi := maxTime(secStart, from), minTime(e.At, to); hi.After(lo) {
			a.steady += n * hi.Sub(lo).Seconds() / e.At.Sub(secStart).Seconds()
		}
		if r.Fault != nil && !secStart.Before(faultSec) {
			a.peak = math.Max(a.peak, n)
			perSecond[e.At.Sub(start).Nanoseconds()] += n
		}
	}
	if !seen {
		return nil
	}
	l := &Load{FromS: seconds(from.Sub(start)), ToS: seconds(to.Sub(start)), Servers: map[string]ServerMPS{}}
	span := to.Sub(from).Seconds()
	var total, peak float64
	for _, name := range names {
		a := per[name]
		var s ServerMPS
		if span > 0 {
			s.SteadyMPS = ptr(a.steady / span)
			total += a.steady / span
		}
		if r.Fault != nil {
			s.PeakMPS = ptr(a.peak)
		}
		l.Servers[name] = s
	}
	if span > 0 {
		l.SteadyMPS = ptr(total)
	} else {
		l.FromS = l.ToS // an empty window
	}
	if r.Fault != nil {
		for _, n := range perSecond {
			peak = math.Max(peak, n)
		}
		l.PeakMPS = ptr(peak)
	}
	return l
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
