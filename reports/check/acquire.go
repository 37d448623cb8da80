package check

import "d6lab/reports/history"

// Acquire measures how fast the population got its first bindings, the
// figure a scale run is judged on (can the servers keep up with the
// arrival rate?):
//
//   - BindS: per client, the time from its first Solicit to its first
//     binding (a Bound event), in seconds.
//   - LastS: when the last of those first bindings came, in seconds since
//     the run started; compare it with the clients' ramp.
//   - Never: clients that sent a Solicit and never got a binding before
//     End.
//
// A client's first Solicit is its first Solicited event; its first
// binding is its first Bound event after that (Renumbered does not count:
// it replaces a binding the client already had).
type Acquire struct {
	BindS Percentiles `json:"bind_s"`
	LastS float64     `json:"last_s"`
	Never int         `json:"never"`
}

func (a *analyzer) acquire(r *Report, events []history.Event, order []int32) {
	type state struct {
		solicited bool
		bound     bool
		first     int64 // first Solicit, ns since start
	}
	clients := map[int]*state{}
	var ms []int64
	var last int64
	for _, idx := range order {
		e := &events[idx]
		if e.Client < 0 || e.At.Before(a.start) {
			continue
		}
		if e.At.After(a.end) {
			break
		}
		st := clients[e.Client]
		if st == nil {
			st = &state{}
			clients[e.Client] = st
		}
		at := e.At.Sub(a.start).Nanoseconds()
		switch e.Kind {
		case history.Solicited:
			if !st.solicited {
				st.solicited, st.first = true, at
			}
		case history.Bound:
			if st.solicited && !st.bound {
				st.bound = true
				ms = append(ms, (at-st.first)/1e6)
				last = max(last, at)
			}
		}
	}
	for _, st := range clients {
		if st.solicited && !st.bound {
			r.Acquire.Never++
		}
	}
	r.Acquire.BindS = summarize(ms)
	r.Acquire.LastS = float64(last/1e6) / 1000
}
