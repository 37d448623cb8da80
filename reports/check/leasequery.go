package check

import (
	"slices"
	"time"

	"d6lab/reports/history"
)

// LeasequeryReport measures whether someone could say where a client is
// bound (RFC 5007 Leasequery by client ID; RFC 6853 §7: with the granting
// server down, nobody can until it comes back or the client rebinds
// elsewhere). From the prober's history events alone:
//
//   - Rounds: the prober's rounds (LeasequeryRound); Asked: the queries,
//     one per round, server and client (a server's answer may name
//     several leases); Bound, None and NoAnswer split them by outcome (a
//     query is bound when the server named at least one lease). Sampled:
//     the clients asked about.
//   - Servers: per server, how it was asked (the methods its answers
//     named: rfc5007, lease_cmds, lease-file) and the same counts, with
//     its stale answers.
//   - Stale: the leases servers named (LQBound answers) that the client
//     did not hold when the answer came (a server back with its old
//     binding after the client renumbered elsewhere).
//   - GapS: per affected client (package doc) that was sampled, the
//     longest run of consecutive rounds at or after the fault during
//     which the client held a valid lease (at the round's start) and no
//     answer of that round named a lease it held; the gap runs from the
//     first round of the run to the next round that ends it (an answer
//     named a held lease, or the client held none), or to End. 0 when
//     there was no such round. Its resolution is the prober's interval.
//     GapClients counts the clients with a gap above 0. nil when no
//     sampled client was affected.
//
// An answer belongs to the latest round started at or before it.
type LeasequeryReport struct {
	Rounds   int `json:"rounds"`
	Asked    int `json:"asked"`
	Bound    int `json:"bound"`
	None     int `json:"none"`
	NoAnswer int `json:"no_answer"`
	Sampled  int `json:"sampled"`

	Servers []LQServer `json:"servers"` // by name

	Stale      int          `json:"stale"`
	GapS       *Percentiles `json:"gap_s"` // nil: no sampled client was affected
	GapClients int          `json:"gap_clients"`
}

// LQServer is how one server was asked and what it answered.
type LQServer struct {
	Name     string   `json:"name"`
	Methods  []string `json:"methods"` // history.LQByUDP, LQByControl, LQByFile; sorted
	Asked    int      `json:"asked"`
	Bound    int      `json:"bound"`
	None     int      `json:"none"`
	NoAnswer int      `json:"no_answer"`
	Stale    int      `json:"stale"`
}

// lqQuery is one (round, server, client) query and its outcome.
type lqQuery struct {
	round  int
	server string
	client int
}

// leasequery fills r.Leasequery when the history has a prober round.
func (a *analyzer) leasequery(r *Report, events history.Source, order []int32, hold func() *holdings) {
	var rounds []time.Time
	var answers []*history.Event
	for _, idx := range order {
		switch events.Kind(int(idx)) {
		case history.LeasequeryRound, history.LeasequeryAnswer:
		default:
			continue // nothing for this checker
		}
		e := events.Event(int(idx))
		if e.At.After(a.end) {
			break
		}
		switch e.Kind {
		case history.LeasequeryRound:
			rounds = append(rounds, e.At)
		case history.LeasequeryAnswer:
			c := e // a copy of its own: only these reach the heap
			answers = append(answers, &c)
		}
	}
	if len(rounds) == 0 {
		return
	}
	h := hold()
	lq := &LeasequeryReport{Rounds: len(rounds), Servers: []LQServer{}}
	const (
		qNone = 1 << iota
		qBound
		qNoAnswer
	)
	queries := map[lqQuery]int{}
	var qorder []lqQuery
	servers := map[string]*LQServer{}
	sampled := map[int]bool{}
	known := map[lqQuery]bool{} // (round, "", client): a held lease was named
	k := -1                     // the round of the answer
	for _, e := range answers {
		for k+1 < len(rounds) && !rounds[k+1].After(e.At) {
			k++
		}
		sampled[e.Client] = true
		s := servers[e.Server]
		if s == nil {
			s = &LQServer{Name: e.Server, Methods: []string{}}
			servers[e.Server] = s
		}
		q := lqQuery{round: k, server: e.Server, client: e.Client}
		if _, ok := queries[q]; !ok {
			qorder = append(qorder, q)
		}
		switch e.Cause {
		case history.LQBound:
			queries[q] |= qBound
			if e.Lease.IsValid() {
				if h.holds(e.Client, e.Lease, e.At) {
					known[lqQuery{round: k, client: e.Client}] = true
				} else {
					lq.Stale++
					s.Stale++
				}
			}
		case history.LQNone:
			queries[q] |= qNone
		default:
			queries[q] |= qNoAnswer
		}
		if e.Cause != history.LQNoAnswer && e.Detail != "" && !slices.Contains(s.Methods, e.Detail) {
			s.Methods = append(s.Methods, e.Detail)
		}
	}
	for _, q := range qorder {
		s := servers[q.server]
		s.Asked++
		lq.Asked++
		switch f := queries[q]; {
		case f&qBound != 0:
			s.Bound++
			lq.Bound++
		case f&qNone != 0:
			s.None++
			lq.None++
		default:
			s.NoAnswer++
			lq.NoAnswer++
		}
	}
	for _, name := range sortedKeys(servers) {
		s := servers[name]
		slices.Sort(s.Methods)
		lq.Servers = append(lq.Servers, *s)
	}
	lq.Sampled = len(sampled)

	var gaps []int64
	measured := false
	for _, c := range a.affectedClients("") {
		if !sampled[c] {
			continue
		}
		measured = true
		var longest time.Duration
		var from time.Time
		open := false
		for k, t := range rounds {
			if t.Before(a.faultAt) {
				continue
			}
			dark := h.holdsAny(c, t) && !known[lqQuery{round: k, client: c}]
			switch {
			case dark && !open:
				from, open = t, true
			case !dark && open:
				longest, open = max(longest, t.Sub(from)), false
			}
		}
		if open {
			longest = max(longest, a.end.Sub(from))
		}
		if longest > 0 {
			lq.GapClients++
		}
		gaps = append(gaps, millis(longest))
	}
	if measured {
		lq.GapS = ptr(summarize(gaps))
		a.lqGapMs = gaps
	}
	r.Leasequery = lq
}
