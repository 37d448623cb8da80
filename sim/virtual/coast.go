package virtual

import (
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/clientsim/client"
	"d6lab/clientsim/population"
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
// Likewise a client whose Renew nobody answered (the server of its
// binding killed or cut off; every other server drops a Renew naming
// another) plays its retransmissions up to T2 or the next action
// (client.Client.CoastRenew), each counted in the load of the servers
// that would have dropped it.
//
// Only where that is exactly what the run would have done: a history
// that merges renewals, clients that draw their transaction IDs alone
// (population.Config.Direct), no server frozen (its queue would keep each
// Renew), the binding's server up and reachable and with no DNS to
// update (or, for a Renew nobody answers, no server with its DUID up),
// and the client steady as Coast or CoastRenew define it. What a coasting
// client does not do is what nobody can see: a server's sweep of expired
// bindings at each Renew is left to the next message it handles, which
// sweeps first. The run's history is the same, event for event and byte
// for byte, with coasting on or off (coast_test.go).

// SetCoasting lets steady clients coast (on, the default) or makes every
// renewal cross the link (off). Coasting happens only where the history
// merges renewals (SetMergeRenewals).
func (e *Engine) SetCoasting(on bool) { e.noCoast = !on }

// Coasted is how many Renews clients have played without messages so far
// (renewals and retransmissions nobody answered; each counted in the
// history and the servers' load all the same).
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

// sent notes that a client sent o at this instant: one that sent a Renew
// nobody answered may coast its retransmissions.
func (e *Engine) sent(o *population.Outgoing) {
	var t dhcpv6.MessageType
	switch {
	case o.Msg != nil:
		t = o.Msg.MessageType
	case len(o.Payload) > 0:
		t = dhcpv6.MessageType(o.Payload[0])
	}
	if t == dhcpv6.MessageTypeRenew {
		e.renewing = append(e.renewing, int32(o.Client))
	}
}

// coast lets the clients granted a lease at this instant, and those whose
// Renew nobody answered, coast until until (the next action or the end
// of the run).
func (e *Engine) coast(until time.Time) {
	granted, renewing := e.renewed, e.renewing
	e.renewed, e.renewing = e.renewed[:0], e.renewing[:0]
	for _, s := range e.servers {
		if s.State() == Frozen {
			return // its socket buffer would keep every Renew
		}
	}
	for _, i := range granted {
		e.coastClient(int(i), until)
	}
	for _, i := range renewing {
		e.coastRenew(int(i), until)
	}
}

// coastRenew lets client i coast the retransmissions of its Renew until
// until when no server will answer: the server of its binding is killed
// or cut off, and every other server drops a Renew naming another
// (RFC 9915 §16.6, checkIDs).
func (e *Engine) coastRenew(i int, until time.Time) {
	c := e.pop.Client(i)
	if c.State() != client.Renewing {
		return // answered, or ended
	}
	for _, s := range e.servers {
		if s.duidHex == c.Server() && s.State() == Up {
			return
		}
	}
	at := e.pop.CoastRenew(i, until, e.coastAt[:0])
	e.coastAt = at
	e.coasted += len(at)
	e.loadAhead(c.Dst(), at)
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
	// A view of the engine's buffer, read only during Get.
	e.duidBuf = c.AppendDUID(e.duidBuf[:0])
	b, ok := s.store.Get(lease.KeyView(e.duidBuf, l.IAID, typ))
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
	// The server's extension, as of the last renewal.
	if err := s.store.Put(s.core.Extension(b, last)); err != nil {
		panic("virtual: a coasting client's binding: " + err.Error())
	}
	if !e.hist.MergeRenewals(i, l.IA, len(at), last) {
		panic("virtual: a coasting client's renewals did not merge")
	}
	e.loadAhead(c.Dst(), at)
}

// loadAhead counts a message to dst at each instant of at in the load of
// each server that would have received it (flush).
func (e *Engine) loadAhead(dst netip.AddrPort, at []time.Time) {
	mc := dst.Addr().IsMulticast()
	e.receivers = e.receivers[:0]
	for si, s := range e.servers {
		if s.State() == Up && (mc && dst.Port() == transport.ServerPort || dst == s.Addr) {
			e.receivers = append(e.receivers, si)
		}
	}
	if len(e.receivers) == 0 {
		return
	}
	for _, r := range at {
		row := e.load.ahead(r, len(e.servers))
		for _, si := range e.receivers {
			row[si]++
		}
	}
}

// serverOf is the one server whose DUID is h (hex); nil when none is, or
// more than one (each would answer a Renew naming it).
func (e *Engine) serverOf(h string) *Server {
	var found *Server
	for _, s := range e.servers {
		if s.duidHex == h {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}
