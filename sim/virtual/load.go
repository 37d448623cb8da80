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
}

// tick is called before the clock moves to next: it closes the current
// second when next lies in a later one. Every event recorded so far is at
// or before now, so the load events, at the end of now's second (<= next),
// keep the history in time order.
func (l *load) tick(e *Engine, next time.Time) {
	sec := next.Truncate(time.Second)
	if sec.Equal(l.sec) {
		return
	}
	l.record(e, l.sec.Add(time.Second))
	l.sec = sec
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

// record writes one event per server that received anything, at at, and
// clears the counts.
func (l *load) record(e *Engine, at time.Time) {
	for _, s := range e.servers {
		if s.recv == 0 {
			continue
		}
		e.hist.Append(history.Event{At: at, Kind: history.ServerLoad, Client: -1, Server: s.Name, Detail: strconv.Itoa(s.recv)})
		s.recv = 0
	}
}
