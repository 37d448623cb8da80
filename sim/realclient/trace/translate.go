package trace

import (
	"encoding/hex"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/clientsim/client"
	"d6lab/reports/history"
)

// ExpirySlack is how far the deletion of an address from the interface
// may lie from the end of its valid lifetime (the last Reply that granted
// or extended it, plus its valid lifetime) and still be taken as its
// expiry: the expired event then carries the deletion's time, when the
// host stopped using the address. Real clients keep lease times in whole
// seconds (ISC dhclient's "starts", its timers) and the kernel's address
// timer rounds up to whole seconds, so both may be up to a second off the
// exact instant; 1.5 s covers either without taking an unrelated removal
// for an expiry.
const ExpirySlack = 1500 * time.Millisecond

// releaseSlack is how long a Release or Decline of an address may follow
// its removal from the interface and still explain it: a client stops
// using what it releases before it sends the Release (RFC 9915 §18.2.7;
// ISC dhclient -r runs its script, which removes the address, first).
const releaseSlack = time.Second

// dadSlack is how long after a Decline the address log may report the DAD
// failure that caused it: the log is read over netlink by another process
// than the client, so its timestamps may trail the client's reaction.
const dadSlack = time.Second

// Translate turns the client's capture and address log into the history
// events d6lab's simulated client emits for the same behaviour (package
// clientsim/client), in time order, and counts in Stats what it dropped
// or could not observe. It is deterministic and never panics; doc.go
// says what maps to what.
func Translate(c Client, frames []Frame, addrs []AddrChange) ([]history.Event, Stats) {
	msgs, st := Messages(c, frames)
	t := newTranslator(c, addrs)
	t.st = st
	t.end = c.End
	if t.end.IsZero() {
		for _, f := range frames {
			if f.At.After(t.end) {
				t.end = f.At
			}
		}
		for _, a := range addrs {
			if a.At.After(t.end) {
				t.end = a.At
			}
		}
	}
	for i := range msgs {
		m := &msgs[i]
		t.step(m.At, false)
		if m.Dir == Sent {
			t.sent(m)
		} else {
			t.received(m)
		}
	}
	t.finishExchange()
	t.step(t.end, true)
	t.countDADNotDeclined()
	slices.SortStableFunc(t.events, func(a, b history.Event) int { return a.At.Compare(b.At) })
	return t.events, t.st
}

type iaKey struct {
	typ  string
	iaid uint32
}

// held is one lease the client holds, as the capture shows it.
type held struct {
	key                 iaKey
	p                   netip.Prefix
	t1, t2, pref, valid time.Duration
	first               time.Time // when it was granted as a new lease
	granted             time.Time // the last Reply that granted or extended it
	until               time.Time // end of its valid lifetime
	server              string    // the server of that Reply (hex DUID)
	// neg is the cause of a negative answer for its IA since granted
	// (nobinding, noaddrsavail) and negServer who gave it: a removal of
	// the address before it expires is then a refusal.
	neg, negServer string
	negAt          time.Time
	// off is when the address log shows an unexplained removal of the
	// address (a Dropped event), or its deletion by DAD; zero while it is
	// on the interface. back is when it was last added again after one (a
	// Restored event). The log is searched for the next removal after both
	// first and back: a removal a later Reply follows is still the one
	// the client made.
	off, back time.Time
}

// since is where the address log is read from for l's next removal: its
// first grant, or its last addition after a removal when there was one.
func (l *held) since() time.Time {
	if l.back.After(l.first) {
		return l.back
	}
	return l.first
}

type iaState struct {
	key    iaKey
	leases []*held
}

func (s *iaState) find(p netip.Prefix) int {
	for i, l := range s.leases {
		if l.p == p {
			return i
		}
	}
	return -1
}

func (s *iaState) remove(i int) *held {
	l := s.leases[i]
	s.leases = slices.Delete(s.leases, i, i+1)
	return l
}

// exchange is the client's running exchange: its last sent message.
type exchange struct {
	active bool
	typ    dhcpv6.MessageType
	xid    dhcpv6.TransactionID
	asked  []iaKey // the IAs the message carried
	rapid  bool    // a Solicit with Rapid Commit
	done   bool    // a Reply was taken: later ones are not

	// Confirm: a NotOnLink Reply waits for a Success from another
	// server until the client moves on (RFC 9915 §18.2.10.1).
	notOnLink   bool
	notOnLinkAt time.Time
	notOnLinkBy string
}

type translator struct {
	c      Client
	end    time.Time // end of the observation
	duid   string
	addrs  map[netip.Addr][]AddrChange
	ias    []*iaState
	cur    exchange
	events []history.Event
	st     Stats

	bound    map[netip.Addr]boundAddr // IA_NA addresses bound, as first granted
	declined map[netip.Addr]bool      // declined with Cause dad
}

// boundAddr is an IA_NA address as first granted: when, and the lease.
type boundAddr struct {
	first time.Time
	lease held
}

func newTranslator(c Client, addrs []AddrChange) *translator {
	t := &translator{
		c:        c,
		addrs:    map[netip.Addr][]AddrChange{},
		bound:    map[netip.Addr]boundAddr{},
		declined: map[netip.Addr]bool{},
	}
	if len(c.DUID) > 0 {
		t.duid = hex.EncodeToString(c.DUID)
	}
	for _, a := range addrs {
		if !a.Prefix.IsValid() {
			continue
		}
		k := a.Prefix.Addr().WithZone("")
		t.addrs[k] = append(t.addrs[k], a)
	}
	for _, cs := range t.addrs {
		slices.SortStableFunc(cs, func(a, b AddrChange) int { return a.At.Compare(b.At) })
	}
	return t
}

func (t *translator) ia(k iaKey) *iaState {
	for _, s := range t.ias {
		if s.key == k {
			return s
		}
	}
	s := &iaState{key: k}
	t.ias = append(t.ias, s)
	return s
}

func (t *translator) event(at time.Time, k history.Kind, server string) history.Event {
	return history.Event{At: at, Kind: k, Client: t.c.Index, DUID: t.duid, Server: server}
}

func (t *translator) leaseEvent(at time.Time, k history.Kind, l *held, server, cause string) *history.Event {
	t.events = append(t.events, history.Event{
		At:        at,
		Kind:      k,
		Client:    t.c.Index,
		DUID:      t.duid,
		Server:    server,
		IA:        l.key.typ,
		IAID:      l.key.iaid,
		Lease:     l.p,
		T1:        l.t1,
		T2:        l.t2,
		Preferred: l.pref,
		Valid:     l.valid,
		Cause:     cause,
	})
	return &t.events[len(t.events)-1]
}

// step ends, up to now, the leases the address log or the clock ends: an
// address removed early after a negative answer (refused), and leases
// whose valid lifetime ran out (expired); and it follows, up to now, the
// addresses the log shows removed early with nothing to explain it
// (dropped) and added again (restored). final: now is the end of the
// observation.
func (t *translator) step(now time.Time, final bool) {
	for _, s := range t.ias {
		for j := 0; j < len(s.leases); {
			l := s.leases[j]
			if l.key.typ == history.IANA && t.removals(l, now, final) {
				s.remove(j)
				continue
			}
			if now.Before(l.until) {
				j++
				continue
			}
			at := l.until
			if l.key.typ == history.IANA {
				at = t.expiry(l, now)
			}
			t.leaseEvent(at, history.Expired, l, l.server, "")
			s.remove(j)
		}
	}
}

// removals follows the address log of l, an IA_NA address, up to now:
// a removal before its valid lifetime ends after a negative answer is a
// refusal, and removals reports true (l is ended); one by DAD (the
// kernel deletes an address whose DAD failed; its dad_failed event is
// countDADNotDeclined's) or one with nothing to explain it, once no
// Release or Decline can (it is releaseSlack old, or the observation
// ends), takes the address off, the latter with a Dropped event; the
// address's next addition is a Restored event with its tentative time
// (the Debian clients add a kept address again at each Renew).
func (t *translator) removals(l *held, now time.Time, final bool) bool {
	a := l.p.Addr()
	for {
		if l.off.IsZero() {
			d, ok, dad := t.deletion(a, l.since())
			if !ok || d.After(now) || !d.Before(l.until.Add(-ExpirySlack)) {
				return false
			}
			switch {
			case dad:
			case l.neg != "" && !d.Before(l.negAt):
				t.leaseEvent(d, history.Refused, l, l.negServer, l.neg)
				return true
			case !final && now.Sub(d) <= releaseSlack:
				return false // a Release or Decline may yet explain it
			default:
				t.st.EarlyRemovals++
				t.leaseEvent(d, history.Dropped, l, l.server, "")
			}
			l.off = d
		}
		r, ok := t.addition(a, l.off)
		if !ok || r.After(now) || !r.Before(l.until) {
			return false
		}
		e := t.leaseEvent(r, history.Restored, l, l.server, "")
		e.Tentative, _ = t.tentative(a, r, l.valid)
		l.off, l.back = time.Time{}, r
	}
}

// addition is the first change of a after since that puts it on the
// interface (not a deletion).
func (t *translator) addition(a netip.Addr, since time.Time) (time.Time, bool) {
	cs := t.addrs[a]
	for i := sort.Search(len(cs), func(i int) bool { return cs[i].At.After(since) }); i < len(cs); i++ {
		if !cs[i].Deleted {
			return cs[i].At, true
		}
	}
	return time.Time{}, false
}

// expiry is when l, an address whose valid lifetime ended by now, expired:
// its deletion from the interface when that lies within ExpirySlack of
// the end of its valid lifetime (and by now), else that end. A deletion
// later than that, or none while the log shows the address, is counted.
func (t *translator) expiry(l *held, now time.Time) time.Time {
	d, ok, _ := t.deletion(l.p.Addr(), l.since())
	switch {
	case ok && d.Sub(l.until).Abs() <= ExpirySlack:
		if !d.After(now) {
			return d
		}
	case ok && d.After(l.until):
		t.st.LateRemovals++
	case !ok:
		if c, present := t.stateAt(l.p.Addr(), l.until.Add(ExpirySlack)); present && !c.Deleted {
			t.st.LateRemovals++
		}
	}
	return l.until
}

// deletion is the first removal of a from the interface after since, and
// whether DAD failure removed it.
func (t *translator) deletion(a netip.Addr, since time.Time) (at time.Time, ok, dad bool) {
	cs := t.addrs[a]
	for i := sort.Search(len(cs), func(i int) bool { return cs[i].At.After(since) }); i < len(cs); i++ {
		if cs[i].Deleted {
			return cs[i].At, true, cs[i].DADFailed
		}
	}
	return time.Time{}, false, false
}

// stateAt is the last change of a at or before at.
func (t *translator) stateAt(a netip.Addr, at time.Time) (AddrChange, bool) {
	cs := t.addrs[a]
	i := sort.Search(len(cs), func(i int) bool { return cs[i].At.After(at) })
	if i == 0 {
		return AddrChange{}, false
	}
	return cs[i-1], true
}

// tentative is how long after at (the Reply that granted it) address a
// stayed tentative per the address log, and whether the log shows the
// address at all. An address that never became usable (DAD failed, or it
// was removed or the log ended while it was tentative) is tentative for
// its valid lifetime or until the end of the observation, whichever is
// longer.
func (t *translator) tentative(a netip.Addr, at time.Time, valid time.Duration) (time.Duration, bool) {
	never := max(valid, t.end.Sub(at))
	usable := func(c AddrChange) bool { return !c.Deleted && !c.Tentative && !c.DADFailed }
	cs := t.addrs[a]
	// changes from at on are the client's doing after the Reply
	i := sort.Search(len(cs), func(i int) bool { return !cs[i].At.Before(at) })
	if i > 0 && usable(cs[i-1]) {
		return 0, true // on the interface and usable already
	}
	for _, c := range cs[i:] {
		switch {
		case c.Deleted || c.DADFailed:
			return never, true
		case !c.Tentative:
			return c.At.Sub(at), true
		}
	}
	if i < len(cs) || (i > 0 && !cs[i-1].Deleted) {
		return never, true // tentative until the log ended
	}
	return 0, false
}

// dadFailedAt is when the log first shows DAD failing for a at or after
// since, and whether it does.
func (t *translator) dadFailedAt(a netip.Addr, since time.Time) (time.Time, bool) {
	for _, c := range t.addrs[a] {
		if c.DADFailed && !c.At.Before(since) {
			return c.At, true
		}
	}
	return time.Time{}, false
}

// dadFailed reports whether the log shows DAD failing for a at or after
// since, and by until when until is not zero.
func (t *translator) dadFailed(a netip.Addr, since, until time.Time) bool {
	at, ok := t.dadFailedAt(a, since)
	return ok && (until.IsZero() || !at.After(until))
}

// countDADNotDeclined counts the bound addresses whose DAD failed and
// that the client never declined, and emits a DADFailed event (Cause
// dad, no Peer: the log does not say who held it) for each, when DAD
// first failed: the simulated client's event for a client that keeps
// such an address (client.Deviations.KeepDADFailed).
func (t *translator) countDADNotDeclined() {
	addrs := make([]netip.Addr, 0, len(t.bound))
	for a := range t.bound {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare) // the same events in the same order every time
	for _, a := range addrs {
		b := t.bound[a]
		if t.declined[a] {
			continue
		}
		if at, ok := t.dadFailedAt(a, b.first); ok {
			t.st.DADNotDeclined++
			t.leaseEvent(at, history.DADFailed, &b.lease, b.lease.server, history.CauseDAD)
		}
	}
}

func asked(m *Message) []iaKey {
	var ks []iaKey
	for _, ia := range m.IAs {
		ks = append(ks, iaKey{ia.Type, ia.IAID})
	}
	return ks
}

// sent handles a message the client sent: a new exchange, unless it is a
// retransmission (same type and transaction ID, RFC 9915 §15).
func (t *translator) sent(m *Message) {
	if t.duid == "" && m.ClientID != nil {
		t.duid = m.ClientHex()
	}
	if t.cur.active && t.cur.typ == m.Type && t.cur.xid == m.XID {
		return
	}
	t.finishExchange()
	t.cur = exchange{active: true, typ: m.Type, xid: m.XID, asked: asked(m), rapid: m.RapidCommit}
	switch m.Type {
	case dhcpv6.MessageTypeSolicit:
		t.events = append(t.events, t.event(m.At, history.Solicited, ""))
	case dhcpv6.MessageTypeRelease:
		// §18.2.7: the client stops using the leases it releases.
		t.endListed(m, func(l *held) {
			t.leaseEvent(m.At, history.Released, l, l.server, "")
		})
	case dhcpv6.MessageTypeDecline:
		// §18.2.8; Cause dad only with the kernel's word for it.
		t.endListed(m, func(l *held) {
			a := l.p.Addr()
			cause := ""
			if l.key.typ == history.IANA && t.dadFailed(a, l.first, m.At.Add(dadSlack)) {
				cause = history.CauseDAD
				t.declined[a] = true
			} else {
				t.st.DeclinedWithoutDAD++
			}
			t.leaseEvent(m.At, history.Declined, l, l.server, cause)
		})
	}
}

// endListed ends each held lease m lists, calling end for it; leases the
// client does not hold are counted.
func (t *translator) endListed(m *Message, end func(*held)) {
	for _, ia := range m.IAs {
		if ia.Type == IATA {
			continue
		}
		s := t.ia(iaKey{ia.Type, ia.IAID})
		for _, e := range ia.Leases {
			j := s.find(e.Prefix)
			if j < 0 {
				t.st.UnknownLeases++
				continue
			}
			end(s.remove(j))
		}
	}
}

// finishExchange settles what the running exchange left pending: a
// Confirm answered only NotOnLink ends the addresses (§18.2.10.1).
func (t *translator) finishExchange() {
	if !t.cur.active || t.cur.typ != dhcpv6.MessageTypeConfirm || !t.cur.notOnLink {
		return
	}
	t.cur.notOnLink = false
	for _, s := range t.ias {
		if s.key.typ != history.IANA {
			continue
		}
		for _, l := range s.leases {
			t.leaseEvent(t.cur.notOnLinkAt, history.Confirmed, l, t.cur.notOnLinkBy, history.CauseNotOnLink)
		}
		s.leases = s.leases[:0]
	}
}

// received handles a message the client received: an answer to its
// running exchange or nothing.
func (t *translator) received(m *Message) {
	c := &t.cur
	if !c.active || c.done || m.XID != c.xid || m.ServerID == nil {
		t.st.Unmatched++
		return
	}
	shex := m.ServerHex()
	switch {
	case m.Type == dhcpv6.MessageTypeAdvertise && c.typ == dhcpv6.MessageTypeSolicit:
		t.advertise(m, shex)
	case m.Type == dhcpv6.MessageTypeReply && c.typ == dhcpv6.MessageTypeSolicit && c.rapid && m.RapidCommit:
		t.requestReply(m, shex)
	case m.Type != dhcpv6.MessageTypeReply || c.typ == dhcpv6.MessageTypeSolicit:
		t.st.Unmatched++
	case c.typ == dhcpv6.MessageTypeRequest:
		t.requestReply(m, shex)
	case c.typ == dhcpv6.MessageTypeRenew:
		t.extendReply(m, shex, history.Renewed)
	case c.typ == dhcpv6.MessageTypeRebind:
		t.extendReply(m, shex, history.Rebound)
	case c.typ == dhcpv6.MessageTypeConfirm:
		t.confirmReply(m, shex)
	case c.typ == dhcpv6.MessageTypeInformationRequest:
		t.infoReply(m, shex)
	default: // Release, Decline: a Reply completes them and changes nothing
		c.done = true
	}
}

// usableLeases are the leases of ia the client may take (§21.6, §21.22:
// not with a non-Success status, not with preferred > valid).
func usableLeases(ia *IA) []Lease {
	var out []Lease
	for _, l := range ia.Leases {
		if l.Status.OK() && l.Preferred <= l.Valid {
			out = append(out, l)
		}
	}
	return out
}

// takenIA reports whether the client takes ia from an answer to its
// running exchange: an IA_NA or IA_PD it asked for.
func (t *translator) takenIA(ia *IA) bool {
	return ia.Type != IATA && slices.Contains(t.cur.asked, iaKey{ia.Type, ia.IAID})
}

func (t *translator) advertise(m *Message, shex string) {
	// §18.2.9: an Advertise without an address or prefix for the IAs
	// asked for is ignored (the simulated client emits nothing for it).
	for i := range m.IAs {
		ia := &m.IAs[i]
		if !t.takenIA(ia) {
			continue
		}
		for _, l := range usableLeases(ia) {
			if l.Valid > 0 {
				pref := max(m.Preference, 0) // §21.8: absent means 0
				ev := t.event(m.At, history.Advertised, shex)
				ev.Detail = "preference=" + strconv.Itoa(pref)
				t.events = append(t.events, ev)
				return
			}
		}
	}
	t.st.Unmatched++
}

type replyCtx uint8

const (
	ctxRequest replyCtx = iota
	ctxRenew
	ctxRebind
)

// requestReply handles a Reply to Request or to a Rapid Commit Solicit.
func (t *translator) requestReply(m *Message, shex string) {
	switch {
	case m.Status.OK():
		t.apply(m, shex, ctxRequest, history.Renewed)
		t.cur.done = true
	case m.Status.Code == iana.StatusNoAddrsAvail:
		t.markNeg(m.At, t.cur.asked, history.CauseNoAddrsAvail, shex)
		t.cur.done = true
	case m.Status.Code == iana.StatusNotOnLink:
		t.cur.done = true
	default:
		// UnspecFail, UseMulticast...: the client retransmits.
	}
}

// extendReply handles a Reply to Renew or Rebind; ext is the kind of an
// extension (renewed, rebound).
func (t *translator) extendReply(m *Message, shex string, ext history.Kind) {
	if !m.Status.OK() {
		return // §18.2.10: the client retransmits
	}
	ctx := ctxRenew
	if ext == history.Rebound {
		ctx = ctxRebind
	}
	t.apply(m, shex, ctx, ext)
	t.cur.done = true
}

// markNeg records a negative answer for the leases held in the IAs ks.
func (t *translator) markNeg(at time.Time, ks []iaKey, cause, server string) {
	for _, k := range ks {
		for _, l := range t.ia(k).leases {
			l.neg, l.negServer, l.negAt = cause, server, at
		}
	}
}

// apply takes the IAs of a Reply into the client's leases (§18.2.10.1),
// as the simulated client does, and emits an event per lease that
// changed.
func (t *translator) apply(m *Message, shex string, ctx replyCtx, ext history.Kind) {
	for i := range m.IAs {
		ia := &m.IAs[i]
		if !t.takenIA(ia) || (ia.T1 > 0 && ia.T2 > 0 && ia.T1 > ia.T2) {
			t.st.DiscardedIAs++ // §21.4, §21.21: T1 > T2 discards the IA
			continue
		}
		k := iaKey{ia.Type, ia.IAID}
		switch {
		case ia.Status.OK():
		case ia.Status.Code == iana.StatusNoBinding:
			if ctx != ctxRequest {
				// §18.2.10.1: the client keeps the leases and Requests.
				for _, l := range t.ia(k).leases {
					t.leaseEvent(m.At, history.NoBinding, l, shex, "")
				}
			}
			t.markNeg(m.At, []iaKey{k}, history.CauseNoBinding, shex)
			continue
		case ia.Status.Code == iana.StatusNoAddrsAvail, ia.Status.Code == iana.StatusNoPrefixAvail:
			t.markNeg(m.At, []iaKey{k}, history.CauseNoAddrsAvail, shex)
			continue
		default:
			continue
		}
		t.applyIA(m.At, t.ia(k), ia, shex, ext)
	}
}

func (t *translator) applyIA(now time.Time, s *iaState, ia *IA, shex string, ext history.Kind) {
	entries := usableLeases(ia)
	had := len(s.leases)
	var zeroed []*held
	for _, e := range entries {
		if e.Valid != 0 || regranted(entries, e.Prefix) {
			continue
		}
		if j := s.find(e.Prefix); j >= 0 {
			zeroed = append(zeroed, s.remove(j))
		}
	}
	old := len(s.leases)
	isExt := make([]bool, old)
	minPref, minValid := time.Duration(-1), time.Duration(-1)
	var granted []*held
	for _, e := range entries {
		if e.Valid == 0 {
			continue
		}
		if minPref < 0 || e.Preferred < minPref {
			minPref = e.Preferred
		}
		if minValid < 0 || e.Valid < minValid {
			minValid = e.Valid
		}
		j := s.find(e.Prefix)
		if j < 0 {
			s.leases = append(s.leases, &held{key: s.key, p: e.Prefix, first: now})
			j = len(s.leases) - 1
		} else if j < old {
			isExt[j] = true
		}
		l := s.leases[j]
		l.pref, l.valid = e.Preferred, e.Valid
		l.granted, l.until, l.server = now, now.Add(e.Valid), shex
		l.neg, l.negServer, l.negAt = "", "", time.Time{}
		granted = append(granted, l)
	}
	if minPref >= 0 {
		t1, t2 := times(ia.T1, ia.T2, minPref, minValid)
		for _, l := range granted {
			l.t1, l.t2 = t1, t2
		}
	}
	for j := range old {
		if isExt[j] {
			t.leaseEvent(now, ext, s.leases[j], shex, "")
		}
	}
	z, u := 0, 0
	for j := old; j < len(s.leases); j++ {
		l := s.leases[j]
		switch {
		case z < len(zeroed):
			t.newLease(now, l, history.Renumbered, zeroed[z].p, "")
			z++
		case had > 0 && nextUnextended(isExt, &u):
			t.newLease(now, l, history.Renumbered, s.leases[u].p, history.CauseOldKept)
			u++
		default:
			t.newLease(now, l, history.Bound, netip.Prefix{}, "")
		}
	}
	for ; z < len(zeroed); z++ {
		t.leaseEvent(now, history.Refused, zeroed[z], shex, history.CauseZeroLifetime)
	}
}

// regranted tells whether entries also give p a valid lifetime: a lease
// listed twice, once with valid lifetime 0, is taken as granted, as the
// simulated client takes it (clientsim/client's regranted), not
// discarded and added again as a renumbering from itself.
func regranted(entries []Lease, p netip.Prefix) bool {
	for _, e := range entries {
		if e.Prefix == p && e.Valid != 0 {
			return true
		}
	}
	return false
}

// newLease emits Bound or Renumbered for l, new in its IA, with its
// tentative time from the address log.
func (t *translator) newLease(now time.Time, l *held, k history.Kind, old netip.Prefix, cause string) {
	e := t.leaseEvent(now, k, l, l.server, cause)
	e.Old = old
	if l.key.typ != history.IANA {
		return // a delegated prefix is never tentative
	}
	a := l.p.Addr()
	if _, ok := t.bound[a]; !ok {
		t.bound[a] = boundAddr{first: now, lease: *l}
	}
	d, ok := t.tentative(a, now, l.valid)
	if !ok {
		t.st.Unconfigured++
		return
	}
	e.Tentative = d
}

func nextUnextended(isExt []bool, u *int) bool {
	for ; *u < len(isExt); *u++ {
		if !isExt[*u] {
			return true
		}
	}
	return false
}

// times are the IA's T1 and T2 as the simulated client stamps them on
// its events: as given, a zero one replaced by RFC 9915's recommendation
// (§14.2, §21.4: 0.5 and 0.8 times the shortest preferred lifetime).
func times(t1, t2, minPref, minValid time.Duration) (time.Duration, time.Duration) {
	base := minPref
	if base == 0 {
		base = minValid
	}
	switch {
	case t1 == 0 && t2 == 0:
		t1, t2 = base/2, base*4/5
	case t1 == 0:
		t1 = min(base/2, t2)
	case t2 == 0:
		t2 = max(base*4/5, t1)
	}
	return t1, t2
}

func (t *translator) confirmReply(m *Message, shex string) {
	switch {
	case m.Status.OK():
		// §18.2.10.1: any Success keeps the addresses, NotOnLink or not.
		for _, s := range t.ias {
			if s.key.typ != history.IANA {
				continue
			}
			for _, l := range s.leases {
				t.leaseEvent(m.At, history.Confirmed, l, shex, "")
			}
		}
		t.cur.notOnLink = false
		t.cur.done = true
	case m.Status.Code == iana.StatusNotOnLink:
		if !t.cur.notOnLink {
			t.cur.notOnLink, t.cur.notOnLinkAt, t.cur.notOnLinkBy = true, m.At, shex
		}
	}
}

func (t *translator) infoReply(m *Message, shex string) {
	if !m.Status.OK() {
		return
	}
	// §21.23: no option means IRT_DEFAULT, less than IRT_MINIMUM means
	// IRT_MINIMUM: the refresh time the client should adopt.
	refresh := client.IRTDefault
	if m.HasInfoRefresh {
		refresh = max(m.InfoRefresh, client.IRTMinimum)
	}
	ev := t.event(m.At, history.Informed, shex)
	ev.Detail = "refresh=" + refresh.String()
	t.events = append(t.events, ev)
	t.cur.done = true
}
