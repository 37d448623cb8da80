package virtual

import (
	"time"

	"d6lab/clientsim/client"
	"d6lab/reports/history"
	"d6lab/server/lease"
	"d6lab/transport"
)

// Coasting. Most of a long run is bound clients renewing with a server
// that answers each Renew at once with the same lease and lifetimes: the
// client's state, the server's binding and the merged history each end
// as after the last renewal, and nothing else on the link can tell them
// apart until something happens. So when a client has just been granted
// or extended a lease, the engine lets it play its renewals up to the
// next thing that can happen to the link (the next action, the end of
// the run) at once, without messages (client.Client.Coast), and does
// what each would have done elsewhere:
//
//   - the server of the binding holds it as extended at the last renewal
//     (what bind writes: Granted, Expires);
//   - the history counts the renewals in the grant they extend
//     (history.Log.MergeRenewals), as it would have merged each;
//   - each server that would have received a Renew counts it in its load
//     in the second it would have (load.ahead).
//
// Only where that is exactly what the run would have done: a history
// that merges renewals, clients that draw their transaction IDs alone
// (population.Config.Direct), no server frozen (its queue would keep each
// Renew), the binding's server up and reachable and with no DNS to
// update, and the client steady as Coast defines it. What a coasting
// client does not do is what nobody can see: a server's sweep of expired
// bindings at each Renew is left to the next message it handles, which
// sweeps first. The run's history is the same, event for event and byte
// for byte, with coasting on or off (coast_test.go).

// SetCoasting lets steady clients coast (on, the default) or makes every
// renewal cross the link (off). Coasting happens only where the history
// merges renewals (SetMergeRenewals).
func (e *Engine) SetCoasting(on bool) { e.noCoast = !on }

// Coasted is how many renewals clients have played without messages so
// far (each counted in the history and the servers' load all the same).
func (e *Engine) Coasted() int { return e.coasted }

// coasting reports whether the engine may let clients coast.
func (e *Engine) coasting() bool { return e.merge && e.direct && !e.noCoast }

// granted notes that client i was just granted or extended a lease (its
// event ev): once the instant's datagrams are delivered it may coast.
func (e *Engine) granted(ev *history.Event) {
	switch ev.Kind {
	case history.Bound, history.Renewed, history.Rebound, history.Renumbered:
	default:
		return
	}
	if n := len(e.renewed); n > 0 && e.renewed[n-1] == int32(ev.Client) {
		return
	}
	e.renewed = append(e.renewed, int32(ev.Client))
}

// coast lets the clients granted a lease at this instant coast until
// until (the next action or the end of the run).
func (e *Engine) coast(until time.Time) {
	ids := e.renewed
	e.renewed = e.renewed[:0]
	for _, s := range e.servers {
		if s.State() == Frozen {
			return // its socket buffer would keep every Renew
		}
	}
	for _, i := range ids {
		e.coastClient(int(i), until)
	}
}

// coastClient lets client i coast until until, if it is steady with a
// binding its server extends as Coast assumes.
func (e *Engine) coastClient(i int, until time.Time) {
	c := e.pop.Client(i)
	if c.State() != client.Bound {
		return
	}
	s := e.serverOf(c.Server())
	if s == nil || s.State() != Up || s.cfg.DNS != nil {
		return
	}
	e.leases = c.AppendLeases(e.leases[:0])
	if len(e.leases) != 1 {
		return
	}
	l := &e.leases[0]
	if !e.hist.CanMergeRenewal(i, l.IA) {
		return
	}
	typ := lease.NA
	if l.IA == history.IAPD {
		typ = lease.PD
	}
	b, ok := s.store.Get(lease.KeyOf(c.DUID(), l.IAID, typ))
	if !ok || b.Lease != l.Prefix {
		return
	}
	g := client.Grant{T1: s.cfg.T1, T2: s.cfg.T2, Preferred: s.cfg.Preferred, Valid: s.cfg.Valid}
	at := e.pop.Coast(i, until, g, e.coastAt[:0])
	e.coastAt = at
	if len(at) == 0 {
		return
	}
	e.coasted += len(at)
	last := at[len(at)-1]
	// bind's extension (server/ia.go), as of the last renewal.
	b.Granted, b.Expires = last, last.Add(s.cfg.Valid)
	if err := s.store.Put(b); err != nil {
		panic("virtual: a coasting client's binding: " + err.Error())
	}
	if !e.hist.MergeRenewals(i, l.IA, len(at), last) {
		panic("virtual: a coasting client's renewals did not merge")
	}
	// Who would have received each Renew (flush).
	dst := c.Dst()
	mc := dst.Addr().IsMulticast()
	for si, t := range e.servers {
		if t.State() == Up && (mc && dst.Port() == transport.ServerPort || dst == t.Addr) {
			for _, r := range at {
				e.load.ahead(r, si, len(e.servers))
			}
		}
	}
}

// serverOf is the server whose DUID is h (hex), nil when none is.
func (e *Engine) serverOf(h string) *Server {
	for _, s := range e.servers {
		if s.duidHex == h {
			return s
		}
	}
	return nil
}
