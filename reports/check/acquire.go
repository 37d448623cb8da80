package check

import (
	"net/netip"

	"d6lab/reports/history"
)

// Acquire measures how fast the population got its first bindings, the
// figure a scale run is judged on (can the servers keep up with the
// arrival rate?):
//
//   - BindS: per client, the time from its first Solicit until its first
//     binding is usable, in seconds: the Bound event's time plus its
//     tentative (DAD) time. A binding the client declined because DAD found
//     the address in use does not count; the client's next one does, so a
//     conflict's delay shows here too. One it kept counts from the
//     Restored event (plus its tentative time) of a later DAD that passed
//     (client.Deviations.ReaddKept); so does one it took off its
//     interface before its DAD ended (a Dropped event: dhcpcd at a carrier
//     loss, or a real host), from the Restored event that put it back.
//   - LastS: when the last of those first bindings became usable, in
//     seconds since the run started; compare it with the clients' ramp.
//   - Never: clients that sent a Solicit and never got a usable binding
//     before End.
//
// A client's first Solicit is its first Solicited event; its first
// binding is its first Bound event after that whose address DAD did not
// find in use (Declined or DADFailed; Renumbered does not count: it
// replaces a binding the client already had).
type Acquire struct {
	BindS Percentiles `json:"bind_s"`
	LastS float64     `json:"last_s"`
	Never int         `json:"never"`
}

func (a *analyzer) acquire(r *Report, events history.Source, order []int32) {
	type state struct {
		solicited bool
		bound     bool  // a first binding is chosen (and not declined so far)
		first     int64 // first Solicit, ns since start
		usable    int64 // the chosen binding's usable time, ns since start
		lease     netip.Prefix
	}
	clients := clientIDs{sparse: map[int]int32{}} // a client's index in states
	var states []state
	for _, idx := range order {
		switch events.Kind(int(idx)) {
		case history.Solicited, history.Bound, history.Declined, history.DADFailed, history.Dropped, history.Restored:
		default:
			continue // no other kind changes a state
		}
		ev := events.Event(int(idx))
		e := &ev
		if e.Client < 0 || e.At.Before(a.start) {
			continue
		}
		if e.At.After(a.end) {
			break
		}
		id := clients.get(e.Client)
		if int(id) == len(states) { // first seen
			states = append(states, state{})
		}
		st := &states[id]
		at := e.At.Sub(a.start).Nanoseconds()
		switch e.Kind {
		case history.Solicited:
			if !st.solicited {
				st.solicited, st.first = true, at
			}
		case history.Bound:
			if st.solicited && !st.bound {
				st.bound, st.lease = true, e.Lease
				st.usable = at + e.Tentative.Nanoseconds()
			}
		case history.Declined, history.DADFailed:
			if e.Cause == history.CauseDAD && st.bound && st.lease == e.Lease && at < st.usable {
				st.bound = false // caught while tentative: not a binding the host could use
			}
		case history.Dropped:
			if st.bound && st.lease == e.Lease && at < st.usable {
				st.bound = false // off the interface before it was ever usable
			}
		case history.Restored:
			// a kept address added again (client.Deviations.ReaddKept), or
			// a dropped one back: usable once this DAD passes, unless a
			// DADFailed says otherwise
			if st.solicited && st.lease == e.Lease && (!st.bound || st.usable > at) {
				st.bound, st.usable = true, at+e.Tentative.Nanoseconds()
			}
		}
	}
	var ms []int64
	var last int64
	end := a.end.Sub(a.start).Nanoseconds()
	for _, st := range states {
		switch {
		case st.solicited && st.bound && st.usable <= end:
			ms = append(ms, (st.usable-st.first)/1e6)
			last = max(last, st.usable)
		case st.solicited:
			r.Acquire.Never++
		}
	}
	r.Acquire.BindS = summarize(ms)
	r.Acquire.LastS = float64(last/1e6) / 1000
}
