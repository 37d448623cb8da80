package lab

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"d6lab/reports/history"
	"d6lab/sim/capture"
	"d6lab/sim/netns"
)

// The server-load meter records history.ServerLoad events for a netns run,
// with the virtual engine's meaning (sim/virtual/load.go), measured on the
// wire: the DHCPv6 messages that arrive at each server node's link
// interface (capture.Count: IPv6 UDP to port 547, received, not sent;
// Leasequery excepted), whatever the server's kind, counted per second of
// the run by their kernel arrival time. Second k spans [start+(k-1)s,
// start+k s) from the run's start (RunStarted); each server that received
// anything in it gets one event at its end with the count in Detail; the
// second the run ends in ends at the run's end. Nothing before the start
// counts (the servers' readiness) nor after the end.
//
// As in the virtual engine, a server counts only while its process runs:
// from a kill to the end of the restart that follows (its new process
// ready) nothing counts, though the interface still receives; a cut link
// receives nothing. Unlike it, a frozen server's socket still receives and
// its messages count as they arrive, where the virtual engine counts them
// at the thaw; and an impaired link's losses on arrival count (the tap
// sees a packet before the ingress hook drops it), where the virtual
// engine counts what reaches the core. Behind a relay the servers' link is
// the server network: each counts the Relay-forward that carries a client
// message, one per client message per server, as in the virtual engine.
type loadMeter struct {
	mu      sync.Mutex
	running func(server string) bool // false from a kill to the restart's ready
	servers []*meteredServer
	end     time.Time // arrivals after it do not count; zero until finish
	done    bool
}

// meteredServer is one server's counter and its seconds.
type meteredServer struct {
	name string
	c    *capture.Counter
	sec  perSecond
}

// startLoad starts a counter on every server's node, before the servers
// start. Nothing counts until begin.
func startLoad(lab *netns.Lab, servers []*runServer, states *serverStates) (*loadMeter, error) {
	m := &loadMeter{running: func(name string) bool { return states.get(name) != "killed" }}
	for _, srv := range servers {
		s := &meteredServer{name: srv.spec.Name}
		c, err := capture.Count(lab, srv.node, func(at time.Time) { m.arrive(s, at) })
		if err != nil {
			_, serr := m.stop()
			return nil, errors.Join(fmt.Errorf("lab: server %s's load meter: %w", srv.spec.Name, err), serr)
		}
		s.c = c
		m.servers = append(m.servers, s)
	}
	return m, nil
}

// begin starts the seconds at the run's start.
func (m *loadMeter) begin(start time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.servers {
		s.sec.origin = start
	}
}

// arrive counts one message for s, from its counter's goroutine.
func (m *loadMeter) arrive(s *meteredServer, at time.Time) {
	if !m.running(s.name) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.end.IsZero() && at.After(m.end) {
		return
	}
	s.sec.add(at)
}

// finish stops the counters (each takes what is still queued) and returns
// the ServerLoad events up to end in time order, the servers in run order
// within a second, and one line per server whose counter lost messages
// (the kernel's receive buffer was full: its load is under-counted).
func (m *loadMeter) finish(end time.Time) ([]history.Event, []string, error) {
	m.mu.Lock()
	m.end = end
	m.mu.Unlock()
	stats, err := m.stop()
	var warn []string
	for i, st := range stats {
		if st.KernelDrops > 0 {
			warn = append(warn, fmt.Sprintf("server %s's load meter lost %d of %d messages (socket buffer full): its load is under-counted",
				m.servers[i].name, st.KernelDrops, st.KernelDrops+st.Packets))
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	per := make([][]history.Event, len(m.servers))
	n := 0
	for i, s := range m.servers {
		per[i] = s.sec.events(s.name, end)
		n += len(per[i])
	}
	// Merge the servers' events: each list is in time order, and the
	// seconds' ends are the same instants for all.
	out := make([]history.Event, 0, n)
	next := make([]int, len(per))
	for len(out) < n {
		best := -1
		for i, evs := range per {
			if next[i] < len(evs) && (best < 0 || evs[next[i]].At.Before(per[best][next[best]].At)) {
				best = i
			}
		}
		out = append(out, per[best][next[best]])
		next[best]++
	}
	return out, warn, err
}

// stop stops every counter not yet stopped; later calls do nothing. It is
// also the session's cleanup on the paths that never reach finish.
func (m *loadMeter) stop() ([]capture.CountStats, error) {
	m.mu.Lock()
	if m.done {
		m.mu.Unlock()
		return nil, nil
	}
	m.done = true
	m.mu.Unlock()
	// Not under m.mu: a counter's last callbacks (arrive) take it.
	stats := make([]capture.CountStats, len(m.servers))
	var errs []error
	for i, s := range m.servers {
		if s.c == nil {
			continue
		}
		st, err := s.c.Stop()
		stats[i] = st
		if err != nil {
			errs = append(errs, fmt.Errorf("lab: server %s's load meter: %w", s.name, err))
		}
	}
	return stats, errors.Join(errs...)
}

// perSecond counts arrivals in the seconds of a run: counts[k-1] holds
// second k, [origin+(k-1)s, origin+k s). Arrivals before origin, or with
// no origin yet, are not counted.
type perSecond struct {
	origin time.Time
	counts []int
}

func (p *perSecond) add(at time.Time) {
	if p.origin.IsZero() || at.Before(p.origin) {
		return
	}
	k := int(at.Sub(p.origin) / time.Second)
	if k >= len(p.counts) {
		p.counts = append(p.counts, make([]int, k+1-len(p.counts))...)
	}
	p.counts[k]++
}

// events returns one ServerLoad event for each second with arrivals, at
// the second's end, or at end for the second that holds end; seconds after
// end's are left out.
func (p *perSecond) events(server string, end time.Time) []history.Event {
	var out []history.Event
	for i, n := range p.counts {
		if n == 0 {
			continue
		}
		start := p.origin.Add(time.Duration(i) * time.Second)
		if start.After(end) {
			break
		}
		at := start.Add(time.Second)
		if at.After(end) {
			at = end
		}
		out = append(out, history.Event{At: at, Kind: history.ServerLoad, Client: -1, Server: server, Detail: strconv.Itoa(n)})
	}
	return out
}

// mergeLoad puts the load events (in time order) among the run's events,
// each before the first event that comes later, and keeps the run's
// events in their order: a load event at an instant comes before the
// others at that instant, as in the virtual engine (the second closes
// before the clock reaches what happens at its end).
func mergeLoad(events, load []history.Event) []history.Event {
	if len(load) == 0 {
		return events
	}
	out := make([]history.Event, 0, len(events)+len(load))
	j := 0
	for _, e := range events {
		for j < len(load) && !load[j].At.After(e.At) {
			out = append(out, load[j])
			j++
		}
		out = append(out, e)
	}
	return append(out, load[j:]...)
}
