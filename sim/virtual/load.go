package virtual

import (
	"strconv"
	"time"

	"d6lab/reports/history"
)

// load samples what each server receives: every message that reaches a
// server's protocol core (toServer) counts in the current second of
// virtual time; when the clock leaves that second, each server that
// received anything gets one history.ServerLoad event at the second's end.
// The counts live on the servers (Server.recv) so that the hot path is one
// increment.
type load struct {
	sec time.Time // the current second's start
	// Renewals played ahead by coasting clients (coast.go), counted in the
	// seconds they would have been received: fut[k][i] for server i in
	// the k-th second from base. A row is dropped once recorded.
	fut   [][]int32
	base  time.Time
	baseS int64 // base.Unix()
}

// tick is called before the clock moves to next: it closes the current
// second when next lies in a later one, and each second before next's
// that only renewals played ahead reached, as the clock would have passed
// through them. Every event recorded so far is at or before now, so the
// load events, at the end of a second before next's, keep the history in
// time order.
func (l *load) tick(e *Engine, next time.Time) {
	sec := next.Truncate(time.Second)
	if sec.Equal(l.sec) {
		return
	}
	l.skipTo(e, sec)
	l.record(e, l.sec.Add(time.Second))
	l.sec = sec
}

// catchUp moves the current second to the last second up to end that
// renewals played ahead reached, closing those before it: where the clock
// stands when a run stops at end had the renewals been played there.
func (l *load) catchUp(e *Engine, end time.Time) {
	l.skipTo(e, end.Truncate(time.Second).Add(time.Second))
}

// skipTo closes the current second and moves to each second before limit
// that renewals played ahead reached, in order.
func (l *load) skipTo(e *Engine, limit time.Time) {
	if len(l.fut) == 0 {
		return
	}
	for k := max(l.index(l.sec)+1, 0); k < len(l.fut); k++ {
		sec := l.base.Add(time.Duration(k) * time.Second)
		if !sec.Before(limit) {
			return
		}
		if l.fut[k] != nil {
			l.record(e, l.sec.Add(time.Second))
			l.sec = sec
		}
	}
}

// index is sec's row in fut (negative before base). sec is a second's
// start, or an instant at or after base (a whole second): the difference
// of their Unix seconds is the row, as sec.Sub(base)/time.Second, without
// the Add and Equal with which Sub checks for overflow (once per renewal
// played ahead: 0.8 s of the CPU profile of a split day at a million).
func (l *load) index(sec time.Time) int {
	return int(sec.Unix() - l.baseS)
}

// ahead is the row of counts (one per server, n servers) of the second
// holding at, no earlier than the current one, for messages played ahead.
func (l *load) ahead(at time.Time, n int) []int32 {
	if l.fut == nil {
		l.base, l.baseS = l.sec, l.sec.Unix()
	}
	k := l.index(at) // base is a whole second, at after it: at's second's row
	for len(l.fut) <= k {
		l.fut = append(l.fut, nil)
	}
	if len(l.fut[k]) < n { // a new row, or a server added since
		l.fut[k] = append(l.fut[k], make([]int32, n-len(l.fut[k]))...)
	}
	return l.fut[k]
}

// flush records the counts of the second under way at the end of a run,
// which may end inside it: the events are then at the end.
func (l *load) flush(e *Engine) {
	at := l.sec.Add(time.Second)
	if at.After(e.now) {
		at = e.now
	}
	l.record(e, at)
}

// record writes one event per server that received anything in the
// current second, at at, and clears the counts.
func (l *load) record(e *Engine, at time.Time) {
	var fut []int32
	if len(l.fut) > 0 {
		if k := l.index(l.sec); k >= 0 && k < len(l.fut) {
			fut, l.fut[k] = l.fut[k], nil
		}
	}
	for i, s := range e.servers {
		n := s.recv
		if i < len(fut) {
			n += int(fut[i])
		}
		if n == 0 {
			continue
		}
		e.hist.Append(history.Event{At: at, Kind: history.ServerLoad, Client: -1, Server: s.Name, Detail: strconv.Itoa(n)})
		s.recv = 0
	}
}
