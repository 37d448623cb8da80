package check

import (
	"net/netip"
	"slices"
	"sort"
	"time"

	"d6lab/reports/history"
)

type outcome uint8

const (
	outUndecided outcome = iota
	outExtended
	outRenumbered
	outRefused
	outSilent
)

// affectedClient gathers what the failover metrics need about one client.
type affectedClient struct {
	leases []netip.Prefix // leases held at the fault from a faulted server
	hit    []int32        // their intervals
	ias    []string       // IA types of those leases
	all    []int32        // every interval of the client of those IA types
}

// validAtFault tells whether the interval was granted before the fault
// event and had not ended by it.
func (a *analyzer) validAtFault(iv *interval) bool {
	if iv.grants[0].seq >= a.faultSeq {
		return false
	}
	if iv.endSeq != noSeq {
		return iv.endSeq > a.faultSeq
	}
	return iv.reason == endOpen || iv.end.After(a.faultAt)
}

// grantorAtFault is the server of the last grant before the fault event.
func (a *analyzer) grantorAtFault(iv *interval) int32 {
	k := sort.Search(len(iv.grants), func(k int) bool { return iv.grants[k].seq > a.faultSeq }) - 1
	return iv.grants[k].srv
}

func (a *analyzer) failover(r *Report) {
	r.Continuity = 1
	if !a.faultFound {
		return
	}
	f := &Fault{At: a.faultAt, Kind: string(a.faultKind), Servers: []string{}}
	for id := range a.servers {
		if a.faultServers[int32(id)] {
			f.Servers = append(f.Servers, a.servers[id].name)
		}
	}
	slices.Sort(f.Servers)
	r.Fault = f

	aff := map[int]*affectedClient{}
	for i := range a.ivs {
		iv := &a.ivs[i]
		if !a.validAtFault(iv) || !a.faultServers[a.grantorAtFault(iv)] {
			continue
		}
		c := aff[iv.client]
		if c == nil {
			c = &affectedClient{}
			aff[iv.client] = c
		}
		c.leases = append(c.leases, iv.lease)
		c.hit = append(c.hit, int32(i))
		if !slices.Contains(c.ias, iv.ia) {
			c.ias = append(c.ias, iv.ia)
		}
	}
	if len(aff) == 0 {
		return
	}
	for i := range a.ivs {
		iv := &a.ivs[i]
		if c := aff[iv.client]; c != nil && slices.Contains(c.ias, iv.ia) {
			c.all = append(c.all, int32(i))
		}
	}

	r.Affected = len(aff)
	var reacq, outage []int64
	kept := 0
	for _, c := range aff {
		a.countOutcome(&r.Rebind, c)
		at, ok := a.recovery(c)
		if !ok {
			r.Unrecovered++
			continue
		}
		reacq = append(reacq, millis(at.Sub(a.faultAt)))
		outage = append(outage, millis(a.outage(c, at)))
		if a.keptAt(c, at) {
			kept++
		}
	}
	r.Rebind.FailureRate = float64(r.Affected-r.Rebind.Extended) / float64(r.Affected)
	r.Continuity = float64(kept) / float64(r.Affected)
	a.reacqMs = reacq
	r.ReacquireS = summarize(reacq)
	r.OutageS = summarize(outage)
}

// countOutcome adds the client's first outcome after the fault.
func (a *analyzer) countOutcome(rb *Rebind, c *affectedClient) {
	best, bestAt, bestCause := outUndecided, time.Time{}, ""
	for _, i := range c.hit {
		iv := &a.ivs[i]
		o, at, cause := outUndecided, iv.end, ""
		if k := sort.Search(len(iv.grants), func(k int) bool { return iv.grants[k].seq > a.faultSeq }); k < len(iv.grants) {
			o, at = outExtended, iv.grants[k].at
		} else {
			switch iv.reason {
			case endRenumbered:
				o = outRenumbered
			case endRefused:
				o, cause = outRefused, iv.cause
			case endExpired, endLifetime:
				o = outSilent
			}
		}
		if o != outUndecided && (best == outUndecided || at.Before(bestAt)) {
			best, bestAt, bestCause = o, at, cause
		}
	}
	switch best {
	case outExtended:
		rb.Extended++
	case outRenumbered:
		rb.Renumbered++
	case outRefused:
		rb.Refused++
		switch bestCause {
		case history.CauseNoBinding:
			rb.RefusedNoBinding++
		case history.CauseZeroLifetime:
			rb.RefusedZero++
		}
	case outSilent:
		rb.Silent++
	default:
		rb.Undecided++
	}
}

// recovery returns the first instant at or after the fault at which the
// client holds a valid binding whose last grant came from an up server.
func (a *analyzer) recovery(c *affectedClient) (time.Time, bool) {
	var best time.Time
	found := false
	for _, i := range c.all {
		iv := &a.ivs[i]
		for k, g := range iv.grants {
			from, to := g.at, iv.segEnd(k)
			if !to.After(a.faultAt) || (found && !from.Before(best)) {
				continue
			}
			if from.Before(a.faultAt) {
				from = a.faultAt
			}
			if t, ok := a.upFrom(g.srv, from, to); ok && (!found || t.Before(best)) {
				best, found = t, true
			}
		}
	}
	return best, found
}

// outage is the part of [fault, until) in which the client held no valid
// lease of the affected IA types.
func (a *analyzer) outage(c *affectedClient, until time.Time) time.Duration {
	spans := make([]window, 0, len(c.all))
	for _, i := range c.all {
		iv := &a.ivs[i]
		from, to := iv.start, iv.end
		if from.Before(a.faultAt) {
			from = a.faultAt
		}
		if to.After(until) {
			to = until
		}
		if to.After(from) {
			spans = append(spans, window{from, to})
		}
	}
	slices.SortFunc(spans, func(x, y window) int { return x.from.Compare(y.from) })
	var covered time.Duration
	var cur window
	for k, s := range spans {
		if k == 0 || s.from.After(cur.to) {
			if k > 0 {
				covered += cur.to.Sub(cur.from)
			}
			cur = s
			continue
		}
		if s.to.After(cur.to) {
			cur.to = s.to
		}
	}
	if len(spans) > 0 {
		covered += cur.to.Sub(cur.from)
	}
	return until.Sub(a.faultAt) - covered
}

// keptAt tells whether, at t, the client holds one of the leases it held at
// the fault, from an up server.
func (a *analyzer) keptAt(c *affectedClient, t time.Time) bool {
	for _, i := range c.all {
		iv := &a.ivs[i]
		if !slices.Contains(c.leases, iv.lease) || iv.start.After(t) || !iv.end.After(t) {
			continue
		}
		if a.upAt(iv.serverAt(t), t) {
			return true
		}
	}
	return false
}

func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond/2) / time.Millisecond)
}
