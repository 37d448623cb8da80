package client

import (
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// Grant is what a server answers to a Renew of a binding it extends: the
// T1 and T2 of the IA as sent (0: left to the client, §14.2) and the
// lease's lifetimes.
type Grant struct {
	T1, T2, Preferred, Valid time.Duration
}

// Coast plays the renewals a steady client makes before until, each
// answered at once with g by the server of its binding, without building
// a message: what the client holds, its random source and its timers end
// exactly as after the last of them, and no event is emitted. It appends
// the instant of each renewal to at and returns it.
//
// A client is steady when it is Bound with one IA holding one lease that
// server granted and that is on its interface (not Lease.Dropped: the
// renewal would put it back), runs no exchange, waits for no Decline or
// probe, and
// draws its transaction IDs alone (Config.XIDs nil: a shared registry
// would answer differently at each instant). A renewal is
// played only if the client would Renew then (not Rebind: T2 still ahead)
// with the lease still valid, and the lease's lifetimes are g's (so that
// it only extends the grant: the same lifetimes, T1 and T2). Coast
// appends nothing otherwise.
//
// Whoever coasts a client answers for the rest: that the server is up,
// reachable and extends the binding as of the last instant, and that
// nothing else could reach the client before until. The virtual engine
// does (sim/virtual coast.go), and a spec holds Coast to the client that
// really sends each Renew and reads each Reply.
func (c *Client) Coast(until time.Time, g Grant, at []time.Time) []time.Time {
	if c.state != Bound || c.ex.active() || c.x != nil || c.cfg.XIDs != nil || len(c.ias()) != 1 {
		return at
	}
	a := &c.ias()[0]
	if len(a.leases) != 1 {
		return at
	}
	l := &a.leases[0]
	if l.probeAt != 0 || l.dropped || l.serverHex() != c.Server() || l.Preferred != g.Preferred || l.Valid != g.Valid {
		return at
	}
	// What apply would not take as an extension: a lease the client MUST
	// discard (§18.2.10.1: valid lifetime 0; §21.6: preferred above
	// valid), an IA it MUST discard (§21.4: T1 above T2).
	if g.Valid == 0 || g.Preferred > g.Valid || g.T1 > 0 && g.T2 > 0 && g.T1 > g.T2 {
		return at
	}
	// Nor would g change the IA's T1 and T2: a renewal that does is not
	// merely an extension (its event says so).
	if t1, t2 := c.iaTimes(g.T1, g.T2, g.Preferred, g.Valid); t1 != a.t1 || t2 != a.t2 || l.T1 != t1 || l.T2 != t2 {
		return at
	}
	x := exchange{kind: dhcpv6.MessageTypeRenew, count: 1}
	x.setParams(&c.cfg.params[pRenew])
	n := len(at)
	var xid dhcpv6.TransactionID
	// startRenew's draws: a new exchange's ID and its first RT (§15), as
	// newExchange and transmit (exchange.sent) draw them.
	draw := func() {
		xid = c.newXID()
		x.nextRT(&c.rng, c.cfg.Deviations.DoubledRT)
	}
	if c.cfg.Jitter == 0 && c.waitAt <= a.t1At {
		// Without Jitter every renewal moves T1, T2 and the lease's end
		// by the same durations: only the last one's setTimes is needed.
		t1, t2 := a.t1, a.t2
		r, t2At, end := c.cfg.time(a.t1At), c.cfg.time(a.t2At), c.cfg.time(l.until)
		var last time.Time
		// Timer(r) would end the lease (expire), Rebind (startRenew at
		// T2) or run later than asked.
		for r.Before(until) && r.Before(end) && r.Before(t2At) {
			draw()
			at = append(at, r)
			last = r
			r, t2At, end = r.Add(t1), r.Add(t2), r.Add(g.Valid)
		}
		if !last.IsZero() {
			l.granted, l.until = c.cfg.at(last), c.cfg.at(last.Add(g.Valid))
			c.setTimes(last, a, g.T1, g.T2, g.Preferred, g.Valid)
		}
	} else {
		for {
			r := c.cfg.time(c.renewTime())
			if r.IsZero() || !r.Before(until) || !r.Before(c.cfg.time(l.until)) || !r.Before(c.cfg.time(c.rebindAt())) {
				break
			}
			draw()
			// extendReply with g, applyIA's path for a lease extended:
			// its lifetimes count from r (§18.2.10.1), T1 and T2 as
			// setTimes takes them, Jitter drawn.
			l.granted, l.until = c.cfg.at(r), c.cfg.at(r.Add(g.Valid))
			c.setTimes(r, a, g.T1, g.T2, g.Preferred, g.Valid)
			at = append(at, r)
		}
	}
	if len(at) > n {
		c.ex.xid = xid // the last exchange's, as after a Reply
	}
	return at
}

// NextTimer is when the client next has something to do (the Output.Timer
// of its last call).
func (c *Client) NextTimer() time.Time { return c.nextTimer() }

// CoastRenew plays, without messages, the retransmissions of the client's
// running Renew before until, when no server will answer any of them
// (the server of the binding is gone; every other server drops a Renew
// that names another, RFC 9915 §16.6): each draws its RT as transmit
// does (§15), so that the exchange, the random source and the timers end
// as after the last. It stops before the exchange would end (MRC, MRD:
// T2, where the client Rebinds) or anything else falls due: a lease's
// end, a probe. It appends the instant of each retransmission to at and
// returns it.
//
// Whoever coasts a Renew answers for the rest, as for Coast: that nobody
// answers, and that nothing else could reach the client before until.
func (c *Client) CoastRenew(until time.Time, at []time.Time) []time.Time {
	if c.state != Renewing || c.ex.kind != dhcpv6.MessageTypeRenew || c.ex.count == 0 || c.x != nil {
		return at
	}
	var end time.Time // the first lease's end
	for i := range c.ias() {
		for j := range c.ias()[i].leases {
			l := &c.ias()[i].leases[j]
			if l.probeAt != 0 {
				return at
			}
			if u := c.cfg.time(l.until); end.IsZero() || u.Before(end) {
				end = u
			}
		}
	}
	if end.IsZero() {
		return at
	}
	for {
		t := c.cfg.time(c.ex.next)
		// Timer(t) would end a lease (expire) or the exchange
		// (exchangeTimer: exhausted), or run later than asked.
		if !t.Before(until) || !t.Before(end) || c.ex.exhausted(c.cfg, t) {
			return at
		}
		c.ex.sent(c.cfg, t, &c.rng) // transmit's retransmission
		at = append(at, t)
	}
}
