package client

import (
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/reports/history"
)

type replyCtx uint8

const (
	ctxRequest replyCtx = iota // Reply to Request or Rapid Commit Solicit
	ctxRenew
	ctxRebind
)

type applyResult struct {
	noBinding bool // an IA came back NoBinding to a Renew or Rebind: send a Request
	missing   bool // an IA with leases was missing or unusable in the Reply
	noAddrs   bool // an IA came back NoAddrsAvail or NoPrefixAvail to a Renew or Rebind
	usable    int  // IAs taken in with at least one address or prefix (lifetime 0 too)
}

// apply takes the IAs of a Reply into the client's binding (§18.2.10.1)
// and emits one event per lease that changed.
func (c *Client) apply(now time.Time, m *dhcpv6.Message, ctx replyCtx, srv *serverID) applyResult {
	var res applyResult
	for i := range c.ias() {
		a := &c.ias()[i]
		var info iaInfo
		c.cfg.scr.entries = iaEntries(m, a, c.cfg.scr.entries[:0], &info)
		if !info.found {
			if len(a.leases) > 0 {
				res.missing = true
			}
			continue
		}
		// §21.4, §21.21: T1 > T2 (both non-zero): the client MUST discard
		// the IA option and process the rest of the message.
		if info.t1 > 0 && info.t2 > 0 && info.t1 > info.t2 {
			if len(a.leases) > 0 {
				res.missing = true
			}
			continue
		}
		switch info.status {
		case iana.StatusSuccess:
		case iana.StatusNoBinding:
			if ctx == ctxRenew || ctx == ctxRebind {
				// §18.2.10.1: NoBinding for an IA in a Reply to Renew or
				// Rebind: the client sends a Request (to the server that
				// answered) and goes on using the leases still valid
				// meanwhile. Nothing ends here.
				res.noBinding = true
				for _, l := range a.leases {
					l.server = srv // the answering server
					c.leaseEvent(now, history.NoBinding, a, l, "")
				}
			}
			continue
		default:
			// NoAddrsAvail, NoPrefixAvail, NotOnLink, ...: nothing new
			// for this IA; what it holds is left unchanged.
			if len(a.leases) > 0 && ctx != ctxRequest {
				res.missing = true
			}
			if ctx != ctxRequest && (info.status == iana.StatusNoAddrsAvail || info.status == iana.StatusNoPrefixAvail) {
				res.noAddrs = true
			}
			continue
		}
		if len(c.cfg.scr.entries) > 0 {
			res.usable++
		}
		c.applyIA(now, a, ctx, info, srv)
	}
	return res
}

// applyIA applies the entries in c.cfg.scr.entries to a (§18.2.10.1): leases with
// valid lifetime 0 are discarded, known ones get new lifetimes, new ones
// are added, and the ones not mentioned are left unchanged.
func (c *Client) applyIA(now time.Time, a *ia, ctx replyCtx, info iaInfo, srv *serverID) {
	had := len(a.leases)
	zeroed := c.cfg.scr.zeroed[:0]
	for _, e := range c.cfg.scr.entries {
		if e.valid != 0 || regranted(c.cfg.scr.entries, e.p) {
			continue
		}
		// §18.2.10.1: discard leases whose valid lifetime is 0.
		if j := a.find(e.p); j >= 0 {
			zeroed = append(zeroed, a.remove(j))
		}
	}
	old := len(a.leases) // leases [0, old) were held before; appended ones are new
	isExt := c.cfg.scr.isExt[:0]
	for range old {
		isExt = append(isExt, false)
	}
	minPref, minValid := time.Duration(-1), time.Duration(-1)
	for _, e := range c.cfg.scr.entries {
		if e.valid == 0 {
			continue
		}
		if minPref < 0 || e.pref < minPref {
			minPref = e.pref
		}
		if minValid < 0 || e.valid < minValid {
			minValid = e.valid
		}
		j := a.find(e.p)
		if j < 0 {
			a.leases = append(a.leases, newHeld(a.iaid, e.p, c.cfg.at(now)))
			j = len(a.leases) - 1
			if a.kind() == history.IANA {
				c.tentative(now, &a.leases[j])
			}
		} else if j < old {
			isExt[j] = true
		}
		l := &a.leases[j]
		l.Preferred, l.Valid = e.pref, e.valid
		// §18.2.10.1: lifetimes count from the Reply. So do ISC dhclient
		// 4.4's timers armed at the Reply (Deviations.WholeSecondClock).
		l.granted, l.until = c.cfg.at(now), c.cfg.at(now.Add(e.valid))
		l.server = srv
	}
	if minPref >= 0 {
		c.setTimes(now, a, info.t1, info.t2, minPref, minValid)
	}

	extKind := history.Renewed // a Reply to Renew, or to a Request for a held lease
	if ctx == ctxRebind {
		extKind = history.Rebound
	}
	for j := range old {
		if isExt[j] {
			c.leaseEvent(now, extKind, a, a.leases[j], "")
			c.readd(now, a, &a.leases[j]) // DropOnLinkChange, ReaddKept
		}
	}
	// New leases: paired with a zeroed one they are a renumbering that
	// ends the old lease; paired with one held but not mentioned, a
	// renumbering that leaves the old lease in the IA until its valid
	// lifetime ends (§18.2.10.1: "leave unchanged"; Cause kept);
	// otherwise a binding.
	z, u := 0, 0
	for j := old; j < len(a.leases); j++ {
		l := a.leases[j]
		switch {
		case z < len(zeroed):
			c.renumbered(now, a, l, zeroed[z], "")
			z++
		case had > 0 && nextUnextended(isExt, &u):
			c.renumbered(now, a, l, a.leases[u], history.CauseOldKept)
			u++
		default:
			c.leaseEvent(now, history.Bound, a, l, "")
			c.cfg.scr.out.Events[len(c.cfg.scr.out.Events)-1].Tentative = c.tentativeFor(now, &l)
		}
	}
	for ; z < len(zeroed); z++ {
		zeroed[z].server = srv // the refusing server
		c.leaseEvent(now, history.Refused, a, zeroed[z], history.CauseZeroLifetime)
	}
	clear(zeroed) // drop the servers they point to; keep the room
	c.cfg.scr.zeroed, c.cfg.scr.isExt = zeroed[:0], isExt[:0]
}

// regranted tells whether entries also give p a valid lifetime: a lease
// a Reply lists twice, once with valid lifetime 0 and once without, is
// taken as granted, not discarded and added again as a new one (which
// would pair it with itself as a renumbering). §18.2.10.1 says nothing
// of a lease given twice; the translation of real clients' captures
// (sim/realclient/trace) takes the same rule.
func regranted(entries []entry, p netip.Prefix) bool {
	for _, e := range entries {
		if e.p == p && e.valid != 0 {
			return true
		}
	}
	return false
}

// setTimes sets the IA's T1 and T2 from a Reply (t1, t2 as given, 0 when
// the server left them to the client) and the shortest preferred and
// valid lifetimes of its leases, counted from the Reply at now, and
// stamps them on the leases just granted.
func (c *Client) setTimes(now time.Time, a *ia, t1, t2, minPref, minValid time.Duration) {
	t1, t2 = c.iaTimes(t1, t2, minPref, minValid)
	a.t1, a.t2 = t1, t2
	at1, at2 := t1, t2
	if j := c.cfg.Jitter; j > 0 {
		// Config.Jitter: spread T1 and T2 as real clients do (a client
		// choice, not an RFC rule; §14.2 leaves only zero values to the
		// client). T2 stays before the shortest valid lifetime ends
		// (unless the server's own T2 did not) and T1 at or below T2.
		at1 = time.Duration(float64(t1) * (1 + j*(2*c.rng.Float64()-1)))
		at2 = time.Duration(float64(t2) * (1 + j*(2*c.rng.Float64()-1)))
		at2 = min(at2, max(t2, minValid-1))
		at1 = min(at1, at2)
	}
	a.t1At, a.t2At = c.cfg.at(now.Add(at1)), c.cfg.at(now.Add(at2))
	g := c.cfg.at(now)
	for j := range a.leases {
		if a.leases[j].granted == g {
			a.leases[j].T1, a.leases[j].T2 = t1, t2
		}
	}
}

// iaTimes is the T1 and T2 the client takes from a Reply's (t1, t2 as
// given, 0 when the server left them to the client) and the shortest
// preferred and valid lifetimes of the IA's leases, before Jitter.
func (c *Client) iaTimes(t1, t2, minPref, minValid time.Duration) (time.Duration, time.Duration) {
	// §14.2, §21.4, §21.21: a T1 or T2 of 0 is left to the client: 0.5 and
	// 0.8 times the shortest preferred lifetime. A non-zero value is the
	// server's and is used as given: a chosen T1 above a given T2 comes
	// down to it, a chosen T2 below a given T1 goes up to it.
	base := minPref
	if base == 0 { // all deprecated: use the valid lifetime, not a zero T1
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
	if f := c.cfg.minT2; f > 0 && t2 < f {
		t1, t2 = c.cfg.minT2T1, f // Deviations.MinT2 (WIDE dhcp6c), not RFC 9915
	}
	return t1, t2
}

// rearmExpiry moves each lease's expiry to where ISC dhclient 4.4 has it
// once the timer is armed again at now (Deviations.WholeSecondClock):
// the lease's whole start second plus its valid lifetime, counted in
// whole seconds from now.
func (c *Client) rearmExpiry(now time.Time) {
	for i := range c.ias() {
		for j := range c.ias()[i].leases {
			l := &c.ias()[i].leases[j]
			l.until = c.cfg.at(wholeSecondTimer(now, c.cfg.time(l.granted).Truncate(time.Second).Add(l.Valid)))
		}
	}
}

// wholeSecondTimer is when an ISC dhclient 4.4 timer for target, a whole
// second, fires when armed at now: common/dispatch.c add_timeout takes a
// target with no microseconds as a count of whole seconds from now's
// second, counted from now, and a target already past as now. So a timer
// armed at the Reply for the Reply's second plus T1 fires exactly T1 after
// the Reply, and one armed later falls off by the difference of the two
// instants' fractions of a second, within 1 s either way.
func wholeSecondTimer(now, target time.Time) time.Time {
	d := target.Sub(now.Truncate(time.Second))
	if d < 0 {
		d = 0
	}
	return now.Add(d)
}

// tentative starts duplicate address detection for l, an IA_NA address
// the client did not hold before (RFC 4862 §5.4; RFC 9915 §18.2.10.1:
// the client SHOULD perform DAD on each address). The first Neighbor
// Solicitation goes out after a random delay in [0, DADDelay) (Linux:
// addrconf_dad_kick), and the address stays tentative until DAD after
// it. Without a Prober there is nothing to probe: only the tentative
// time is modelled.
func (c *Client) tentative(now time.Time, l *held) {
	if c.cfg.DAD <= 0 {
		return
	}
	var d time.Duration
	if c.cfg.DADDelay > 0 {
		d = time.Duration(c.rng.Int64N(int64(c.cfg.DADDelay)))
	}
	if c.cfg.Prober != nil {
		l.probeAt = c.cfg.at(now.Add(d))
	}
	l.usableAt = c.cfg.at(now.Add(d + c.cfg.DAD))
}

// tentativeFor is how long l stays tentative after now.
func (c *Client) tentativeFor(now time.Time, l *held) time.Duration {
	if u := c.cfg.time(l.usableAt); u.After(now) {
		return u.Sub(now)
	}
	return 0
}

func nextUnextended(isExt []bool, u *int) bool {
	for ; *u < len(isExt); *u++ {
		if !isExt[*u] {
			return true
		}
	}
	return false
}

func (c *Client) renumbered(now time.Time, a *ia, l, old held, cause string) {
	c.leaseEvent(now, history.Renumbered, a, l, cause)
	e := &c.cfg.scr.out.Events[len(c.cfg.scr.out.Events)-1]
	e.Old = old.prefix()
	e.Tentative = c.tentativeFor(now, &l)
}
