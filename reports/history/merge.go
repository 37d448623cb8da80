package history

import (
	"net/netip"
	"time"
)

// A history that merges renewals keeps a binding's steady renewals as one
// event: a Renewed that only extends the client's previous grant of the
// same lease (Bound, Renewed, Rebound or Renumbered's new lease: same client, DUID, server, IA,
// IAID, lease and lifetimes, nothing else of the client since, no lab
// event since but a load sample) is not appended; the grant's Renewals
// counts it and its Extended takes its time. A client renewing with one
// server all day is then one event, not one per T1, and what the
// checkers ask of a binding (when it was granted and by whom, when it
// expires, which grant came last before a fault and which first after
// it) has the same answer: reports/check reads Extended as the time the
// lease's valid lifetime runs from. What is lost is the time of each
// renewal but the last.

// merging is AppendMerging's state.
type merging struct {
	// grants[c]: for client c, the index+1 of its last grant event per IA
	// type ([0] na, [1] pd) a renewal may merge into, 0 none (an event
	// beyond 32 bits of index is not merged into).
	grants [][2]uint32
	// barrier: the number of events when the last lab event (but a load
	// sample) was appended; no renewal merges into an event before it.
	barrier int
}

// mergeClients bounds the clients whose renewals merge (a slice indexed
// by client); the renewals of a client beyond it are appended.
const mergeClients = 1 << 24

// AppendMerging is Append for a history that merges renewals (see
// above): e is appended, unless it is a Renewed that only extends the
// client's last grant, which then counts it (Renewals, Extended). Use
// one or the other on a Log, not both.
func (l *Log) AppendMerging(e Event) {
	switch {
	case e.Kind == ServerLoad:
		l.Append(e) // a count of messages: changes no binding
		return
	case e.Client < 0 || e.Kind == ClientKind:
		l.Append(e)
		l.merge.barrier = l.n // a fault, a restart, a join...: grants after it are new
		return
	}
	m := &l.merge
	if e.Client >= mergeClients {
		l.Append(e)
		return
	}
	if e.Client >= len(m.grants) {
		m.grants = append(m.grants, make([][2]uint32, e.Client+1-len(m.grants))...)
		m.grants = m.grants[:cap(m.grants)]
	}
	g := &m.grants[e.Client]
	ia := iaSlot(e.IA)
	if e.Kind == Renewed && ia >= 0 && int(g[ia]) > m.barrier && l.extends(int(g[ia])-1, &e) {
		return
	}
	l.Append(e)
	switch e.Kind {
	case Bound, Renewed, Rebound, Renumbered:
		if ia >= 0 && e.Lease.IsValid() && e.Renewals == 0 && l.n <= 1<<32-1 {
			g[ia] = uint32(l.n)
			return
		}
	}
	*g = [2]uint32{} // anything else of the client: nothing merges across it
}

// iaSlot is AppendMerging's index for an IA type, -1 for another.
func iaSlot(ia string) int {
	switch ia {
	case IANA:
		return 0
	case IAPD:
		return 1
	}
	return -1
}

// extends merges renewal e into event i when e changes nothing of it but
// the time, and reports whether it did.
func (l *Log) extends(i int, e *Event) bool {
	if e.Old != (netip.Prefix{}) || e.Tentative != 0 || e.Peer != nil || e.Cause != "" || e.Detail != "" || e.Renewals != 0 || !e.Extended.IsZero() {
		return false
	}
	p := l.Event(i)
	if p.Client != e.Client || p.DUID != e.DUID || p.Server != e.Server || p.IA != e.IA || p.IAID != e.IAID || p.Lease != e.Lease ||
		p.T1 != e.T1 || p.T2 != e.T2 || p.Preferred != e.Preferred || p.Valid != e.Valid {
		return false
	}
	last := p.At
	if p.Renewals > 0 {
		last = p.Extended
	}
	// In time order, and before the lease ran out: a renewal of an
	// expired lease starts a new binding (reports/check).
	if e.At.Before(last) || p.Valid > 0 && !last.Add(p.Valid).After(e.At) {
		return false
	}
	return l.extend(i, 1, e.At)
}

// extendable reports whether a record extended n times, the last at
// last, gives both back (extend then succeeds on a fresh record).
func (l *Log) extendable(n int, last time.Time) bool {
	return n > 0 && n <= 1<<32-1 && last.Location() == l.loc && last == time.Unix(0, last.UnixNano()).In(l.loc)
}

// extend counts n more renewals, the last at last, in event i; it reports
// false, counting nothing, when the record cannot hold them.
func (l *Log) extend(i, n int, last time.Time) bool {
	r := &l.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
	if r.flags&fOdd != 0 {
		o := &l.odd[r.extra]
		o.Renewals += n
		o.Extended = last
		return true
	}
	if last.Location() != l.loc || last != time.Unix(0, last.UnixNano()).In(l.loc) {
		return false // a time the record cannot hold: appended instead
	}
	k, j := i>>chunkBits, i&(1<<chunkBits-1)
	for len(l.extN) <= k {
		l.extN, l.extAt = append(l.extN, nil), append(l.extAt, nil)
	}
	if l.extN[k] == nil {
		l.extN[k], l.extAt[k] = make([]uint32, 1<<chunkBits), make([]int64, 1<<chunkBits)
	}
	if int(l.extN[k][j])+n > 1<<32-1 {
		return false // a count the record cannot hold
	}
	l.extAt[k][j], l.extN[k][j] = last.UnixNano(), l.extN[k][j]+uint32(n)
	return true
}

// MergeRenewals counts n renewals of client's lease in IA ia, the last at
// last, in the client's last grant of that IA, as n Renewed events that
// only extend it would be (AppendMerging), for a caller that plays steady
// renewals without their events: the virtual engine's coasting clients.
// The caller answers for what AppendMerging checks of each event (the
// same lease, lifetimes and server, each before the lease ran out); the
// Log checks the rest: that a renewal appended now would merge there, and
// that the record holds the count and the time. It reports false, and
// counts nothing, otherwise. Use it on a Log that merges renewals.
func (l *Log) MergeRenewals(client int, ia string, n int, last time.Time) bool {
	i, ok := l.mergeTarget(client, ia)
	if !ok || n <= 0 {
		return false
	}
	return l.extend(i, n, last)
}

// CanMergeRenewal reports whether a renewal of client's lease in IA ia,
// were it to come now, would find a grant to merge into (MergeRenewals).
func (l *Log) CanMergeRenewal(client int, ia string) bool {
	_, ok := l.mergeTarget(client, ia)
	return ok
}

// mergeTarget is the index of client's last grant of IA ia that a renewal
// appended now may merge into.
func (l *Log) mergeTarget(client int, ia string) (int, bool) {
	m := &l.merge
	slot := iaSlot(ia)
	if client < 0 || client >= len(m.grants) || slot < 0 {
		return 0, false
	}
	g := int(m.grants[client][slot])
	if g <= m.barrier {
		return 0, false
	}
	return g - 1, true
}
