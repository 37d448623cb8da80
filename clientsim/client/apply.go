package client

import (
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
	noBinding bool // an IA came back NoBinding (Renew: send a Request)
	missing   bool // an IA with leases was missing or unusable in the Reply
}

// apply takes the IAs of a Reply into the client's binding (§18.2.10.1)
// and emits one event per lease that changed.
func (c *Client) apply(now time.Time, m *dhcpv6.Message, ctx replyCtx, shex string) applyResult {
	var res applyResult
	for i := range c.ias {
		a := &c.ias[i]
		var info iaInfo
		c.entries = iaEntries(m, a, c.entries[:0], &info)
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
			switch ctx {
			case ctxRenew:
				res.noBinding = true // §18.2.10.1: send a Request for it
			case ctxRebind:
				// The server has no binding for it: the leases are gone
				// (DESIGN: refused, cause nobinding).
				for _, l := range a.leases {
					l.Server = shex // the refusing server
					c.leaseEvent(now, history.Refused, a, l, history.CauseNoBinding)
				}
				a.leases = a.leases[:0]
			}
			continue
		default:
			// NoAddrsAvail, NoPrefixAvail, NotOnLink, ...: nothing new
			// for this IA; what it holds is left unchanged.
			if len(a.leases) > 0 && ctx != ctxRequest {
				res.missing = true
			}
			continue
		}
		c.applyIA(now, a, ctx, info, shex)
	}
	return res
}

// applyIA applies the entries in c.entries to a (§18.2.10.1): leases with
// valid lifetime 0 are discarded, known ones get new lifetimes, new ones
// are added, and the ones not mentioned are left unchanged.
func (c *Client) applyIA(now time.Time, a *ia, ctx replyCtx, info iaInfo, shex string) {
	had := len(a.leases)
	var zeroed []Lease
	for _, e := range c.entries {
		if e.valid != 0 {
			continue
		}
		// §18.2.10.1: discard leases whose valid lifetime is 0.
		if j := a.find(e.p); j >= 0 {
			zeroed = append(zeroed, a.remove(j))
		}
	}
	old := len(a.leases) // leases [0, old) were held before; appended ones are new
	var extended []int
	minPref, minValid := time.Duration(-1), time.Duration(-1)
	for _, e := range c.entries {
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
			a.leases = append(a.leases, Lease{IA: a.kind, IAID: a.iaid, Prefix: e.p})
			j = len(a.leases) - 1
		} else if j < old {
			extended = append(extended, j)
		}
		l := &a.leases[j]
		l.Preferred, l.Valid = e.pref, e.valid
		l.Granted, l.Until = now, now.Add(e.valid)
		l.Server = shex
	}
	if minPref >= 0 {
		t1, t2 := info.t1, info.t2
		// §14.2, §21.4, §21.21: T1/T2 of 0 are left to the client: 0.5
		// and 0.8 times the shortest preferred lifetime.
		base := minPref
		if base == 0 { // all deprecated: use the valid lifetime, not a zero T1
			base = minValid
		}
		if t1 == 0 {
			t1 = base / 2
		}
		if t2 == 0 {
			t2 = base * 4 / 5
		}
		if t2 < t1 {
			t2 = t1
		}
		a.t1, a.t2 = t1, t2
		a.t1At, a.t2At = now.Add(t1), now.Add(t2)
		for j := range a.leases {
			if a.leases[j].Granted.Equal(now) {
				a.leases[j].T1, a.leases[j].T2 = t1, t2
			}
		}
	}

	extKind := history.Renewed
	if ctx == ctxRebind {
		extKind = history.Rebound
	}
	isExt := make([]bool, old)
	for _, j := range extended {
		isExt[j] = true
		c.leaseEvent(now, extKind, a, a.leases[j], "")
	}
	// New leases: paired with a zeroed one (or, after a Renew/Rebind, one
	// held but not extended) they are a renumbering; otherwise a binding.
	z, u := 0, 0
	for j := old; j < len(a.leases); j++ {
		l := a.leases[j]
		switch {
		case z < len(zeroed):
			c.renumbered(now, a, l, zeroed[z])
			z++
		case had > 0 && ctx != ctxRequest && nextUnextended(isExt, &u):
			c.renumbered(now, a, l, a.leases[u])
			u++
		default:
			c.leaseEvent(now, history.Bound, a, l, "")
		}
	}
	for ; z < len(zeroed); z++ {
		zeroed[z].Server = shex // the refusing server
		c.leaseEvent(now, history.Refused, a, zeroed[z], history.CauseZeroLifetime)
	}
}

func nextUnextended(isExt []bool, u *int) bool {
	for ; *u < len(isExt); *u++ {
		if !isExt[*u] {
			return true
		}
	}
	return false
}

func (c *Client) renumbered(now time.Time, a *ia, l, old Lease) {
	c.leaseEvent(now, history.Renumbered, a, l, "")
	c.out.Events[len(c.out.Events)-1].Old = old.Prefix
}
