package check

import (
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
	outReleased
)

// iaTypes are the IA types PerIA reports, always both.
var iaTypes = []string{history.IANA, history.IAPD}

// affectedClient gathers what the failover metrics need about one client.
type affectedClient struct {
	leases []packedPrefix // leases held at the fault from a faulted server
	hit    []int32        // their intervals
	ias    []string       // IA types of those leases, sorted
	all    []int32        // every interval of the client of those IA types

	spans, gaps []window // outage's room, reused
	on          []window // recovery's room, reused
}

// gather fills c from ivs, the client's intervals in order, of which
// those with hit set were affected, reusing c's slices.
func (c *affectedClient) gather(a *analyzer, ivs []int32, hit []bool) {
	c.leases, c.hit, c.ias, c.all = c.leases[:0], c.hit[:0], c.ias[:0], c.all[:0]
	for _, i := range ivs {
		if iv := &a.ivs[i]; hit[i] {
			c.leases = append(c.leases, iv.lease)
			c.hit = append(c.hit, i)
			if ia := a.str(iv.ia); !slices.Contains(c.ias, ia) {
				c.ias = append(c.ias, ia)
			}
		}
	}
	slices.Sort(c.ias)
	for _, i := range ivs {
		if slices.Contains(c.ias, a.str(a.ivs[i].ia)) {
			c.all = append(c.all, i)
		}
	}
}

// nobindings lists the NoBinding events after the fault by client: a
// chain per client id through the events' indexes, -1 ending it.
type nobindings struct {
	head, next []int32
}

func (a *analyzer) nobindingByClient() *nobindings {
	nb := &nobindings{head: make([]int32, a.ids.n), next: make([]int32, len(a.nobinding))}
	for id := range nb.head {
		nb.head[id] = -1
	}
	for k, e := range a.nobinding {
		if id, ok := a.ids.lookup(e.client); ok { // (one with no lease is not affected)
			nb.next[k], nb.head[id] = nb.head[id], int32(k)
		}
	}
	return nb
}

// named tells whether a NoBinding event of client id named one of the IA
// types ias, or no IA type.
func (nb *nobindings) named(a *analyzer, id int32, ias []string) bool {
	for k := nb.head[id]; k >= 0; k = nb.next[k] {
		if ia := a.nobinding[k].ia; ia == "" || slices.Contains(ias, ia) {
			return true
		}
	}
	return false
}

// validAtFault tells whether the interval was granted before the fault
// event and had not ended by it.
func (a *analyzer) validAtFault(iv *interval) bool {
	if iv.first.seq >= a.faultSeq {
		return false
	}
	if iv.endSeq != noSeq {
		return iv.endSeq > a.faultSeq
	}
	return iv.reason == endOpen || iv.end.time().After(a.faultAt)
}

// grantorAtFault is the server of the last grant before the fault event.
func (a *analyzer) grantorAtFault(iv *interval) int32 {
	k := sort.Search(a.nGrants(iv), func(k int) bool { return a.grantAt(iv, k).seq > a.faultSeq }) - 1
	return a.grantAt(iv, k).srv
}

// iaAcc accumulates one IA type's per-client failover figures.
type iaAcc struct {
	affected, unrecovered, kept int
	reacq, outage               []int64
}

func (a *analyzer) failover(r *Report) {
	r.PerIA = map[string]IAFailover{}
	for _, t := range iaTypes {
		r.PerIA[t] = IAFailover{}
	}
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

	// The affected intervals (valid at the fault, last granted by a
	// faulted server), and their clients in the order of their first
	// such interval, for determinism.
	hit := make([]bool, len(a.ivs))
	seen := make([]bool, a.ids.n)
	var order []int32 // client ids
	for i := range a.ivs {
		iv := &a.ivs[i]
		if !a.validAtFault(iv) || !a.faultServers[a.grantorAtFault(iv)] {
			continue
		}
		hit[i] = true
		if id := a.clientID(iv.client); !seen[id] {
			seen[id] = true
			order = append(order, id)
		}
	}
	if len(order) == 0 {
		return
	}
	byClient := a.intervalsByClient()
	nb := a.nobindingByClient()
	r.Affected = len(order)
	var reacq, outage, tentative []int64
	kept := 0
	per := map[string]*iaAcc{}
	for _, t := range iaTypes {
		per[t] = &iaAcc{}
	}
	var c affectedClient // one client's at a time, its slices reused
	for _, id := range order {
		c.gather(a, byClient.of(id), hit)
		if nb.named(a, id, c.ias) {
			r.Rebind.NoBinding++
		}
		a.countOutcome(&r.Rebind, &c)
		// every affected IA type must be held again: the client recovers
		// at the latest of its per-type recovery instants
		var at time.Time
		var lastOut time.Duration // the outage of the last IA type looked at
		recovered, keptAll := true, true
		for _, ia := range c.ias {
			t, ok := a.recovery(&c, ia)
			acc := per[ia]
			if acc != nil {
				acc.affected++
			}
			if !ok {
				recovered = false
				if acc != nil {
					acc.unrecovered++
				}
				continue
			}
			k := a.keptAt(&c, ia, t)
			keptAll = keptAll && k
			lastOut = a.outage(&c, []string{ia}, t, true)
			if acc != nil {
				acc.reacq = append(acc.reacq, millis(t.Sub(a.faultAt)))
				acc.outage = append(acc.outage, millis(lastOut))
				if k {
					acc.kept++
				}
			}
			if t.After(at) {
				at = t
			}
		}
		if !recovered {
			r.Unrecovered++
			continue
		}
		reacq = append(reacq, millis(at.Sub(a.faultAt)))
		out := lastOut // one IA type: its own outage is the client's
		if len(c.ias) > 1 {
			out = a.outage(&c, c.ias, at, true)
		}
		outage = append(outage, millis(out))
		tentative = append(tentative, millis(out-a.outage(&c, c.ias, at, false)))
		if keptAll {
			kept++
		}
	}
	decided := r.Affected - r.Rebind.Undecided - r.Rebind.Released
	if decided > 0 {
		r.Rebind.FailureRate = ratio(decided-r.Rebind.Extended, decided)
	}
	r.Continuity = ratio(kept, r.Affected)
	a.reacqMs = reacq
	r.ReacquireS = ptr(summarize(reacq))
	r.OutageS = ptr(summarize(outage))
	r.OutageTentativeS = ptr(summarize(tentative))
	for _, t := range iaTypes {
		acc := per[t]
		if acc.affected == 0 {
			continue
		}
		r.PerIA[t] = IAFailover{
			Affected:    acc.affected,
			ReacquireS:  ptr(summarize(acc.reacq)),
			OutageS:     ptr(summarize(acc.outage)),
			Unrecovered: acc.unrecovered,
			Continuity:  ratio(acc.kept, acc.affected),
		}
	}
}

func ptr[T any](v T) *T { return &v }

func ratio(n, d int) *float64 { return ptr(float64(n) / float64(d)) }

// candidate is one possible rebind outcome of a lease, at an instant.
type candidate struct {
	o     outcome
	at    time.Time
	seq   int32
	cause string
	srv   int32 // extending server, for outExtended
}

func (x candidate) before(y candidate) bool {
	if c := x.at.Compare(y.at); c != 0 {
		return c < 0
	}
	return x.seq < y.seq
}

// leaseOutcome is the first outcome of a lease held at the fault: a grant
// of it after the fault (extended), a Renumbered naming it as Old (with
// or without the old lease kept), or the end of its interval.
func (a *analyzer) leaseOutcome(iv *interval) candidate {
	best := candidate{o: outUndecided}
	consider := func(c candidate) {
		if best.o == outUndecided || c.before(best) {
			best = c
		}
	}
	if k := sort.Search(a.nGrants(iv), func(k int) bool { return a.grantAt(iv, k).seq > a.faultSeq }); k < a.nGrants(iv) {
		g := a.grantAt(iv, k)
		consider(candidate{o: outExtended, at: g.at.time(), seq: g.seq, srv: g.srv})
	}
	if iv.movedSeq != noSeq && iv.movedSeq > a.faultSeq {
		consider(candidate{o: outRenumbered, at: iv.movedAt.time(), seq: iv.movedSeq})
	}
	end := candidate{at: iv.end.time(), seq: iv.endSeq}
	switch iv.reason {
	case endRenumbered:
		end.o = outRenumbered
	case endRefused:
		end.o, end.cause = outRefused, a.str(iv.cause)
	case endNotOnLink:
		end.o, end.cause = outRefused, history.CauseNotOnLink
	case endExpired, endLifetime:
		end.o = outSilent
	case endReleased, endDeclined:
		end.o = outReleased
	}
	if end.o != outUndecided {
		consider(end)
	}
	return best
}

// countOutcome adds the client's first outcome after the fault.
func (a *analyzer) countOutcome(rb *Rebind, c *affectedClient) {
	best := candidate{o: outUndecided}
	for _, i := range c.hit {
		o := a.leaseOutcome(&a.ivs[i])
		if o.o != outUndecided && (best.o == outUndecided || o.before(best)) {
			best = o
		}
	}
	switch best.o {
	case outExtended:
		rb.Extended++
		if a.faultServers[best.srv] {
			rb.ExtendedRecovered++
		} else {
			rb.ExtendedSurvivor++
		}
	case outRenumbered:
		rb.Renumbered++
	case outRefused:
		rb.Refused++
		switch best.cause {
		case history.CauseNoBinding:
			rb.RefusedNoBinding++
		case history.CauseZeroLifetime:
			rb.RefusedZero++
		}
	case outSilent:
		rb.Silent++
	case outReleased:
		rb.Released++
	default:
		rb.Undecided++
	}
}

// recovery returns the first instant at or after the fault at which the
// client holds a usable (no longer tentative) binding of IA type ia whose
// last grant came from an up server.
func (a *analyzer) recovery(c *affectedClient, ia string) (time.Time, bool) {
	var best time.Time
	found := false
	for _, i := range c.all {
		iv := &a.ivs[i]
		if a.str(iv.ia) != ia {
			continue
		}
		for k := range a.nGrants(iv) {
			g := a.grantAt(iv, k)
			from, to := g.at.time(), a.segEnd(iv, k)
			if u := iv.usable.time(); u.After(from) {
				from = u
			}
			if from.Before(a.faultAt) {
				from = a.faultAt
			}
			if !to.After(from) || (found && !from.Before(best)) {
				continue
			}
			// the parts of the segment with the address on the interface
			c.on = a.onSpans(c.on[:0], i, from, to, true)
			for _, w := range c.on {
				if t, ok := a.upFrom(g.srv, w.from, w.to); ok && (!found || t.Before(best)) {
					best, found = t, true
					break
				}
			}
		}
	}
	return best, found
}

// outage is the part of [fault, until) during which, for at least one of
// the IA types ias, the client held no usable lease of that type. With
// usableOnly false a tentative lease counts as held (the difference is
// the tentative part of the outage).
func (a *analyzer) outage(c *affectedClient, ias []string, until time.Time, usableOnly bool) time.Duration {
	gaps := c.gaps[:0]
	for _, ia := range ias {
		c.spans = a.held(c.spans[:0], c, ia, until, usableOnly)
		gaps = appendComplement(gaps, c.spans, a.faultAt, until)
	}
	c.gaps = gaps
	return measure(gaps)
}

// held appends to spans, and returns merged, the windows of [fault,
// until) in which the client held a lease of type ia (usable, or merely
// valid when !usableOnly).
func (a *analyzer) held(spans []window, c *affectedClient, ia string, until time.Time, usableOnly bool) []window {
	for _, i := range c.all {
		iv := &a.ivs[i]
		if a.str(iv.ia) != ia {
			continue
		}
		from, to := iv.start(), iv.end.time()
		if usableOnly {
			from = iv.usable.time()
		}
		if from.Before(a.faultAt) {
			from = a.faultAt
		}
		if to.After(until) {
			to = until
		}
		spans = a.onSpans(spans, i, from, to, usableOnly)
	}
	return merge(spans)
}

// merge sorts windows and joins those that overlap or touch.
func merge(ws []window) []window {
	slices.SortFunc(ws, func(x, y window) int { return x.from.Compare(y.from) })
	out := ws[:0]
	for _, w := range ws {
		if n := len(out); n > 0 && !w.from.After(out[n-1].to) {
			if w.to.After(out[n-1].to) {
				out[n-1].to = w.to
			}
			continue
		}
		out = append(out, w)
	}
	return out
}

// appendComplement appends to out the parts of [from, to) not covered by
// the merged windows ws.
func appendComplement(out, ws []window, from, to time.Time) []window {
	cur := from
	for _, w := range ws {
		if w.from.After(cur) {
			out = append(out, window{cur, w.from})
		}
		if w.to.After(cur) {
			cur = w.to
		}
	}
	if to.After(cur) {
		out = append(out, window{cur, to})
	}
	return out
}

// measure is the length of the union of windows.
func measure(ws []window) time.Duration {
	var d time.Duration
	for _, w := range merge(ws) {
		d += w.to.Sub(w.from)
	}
	return d
}

// keptAt tells whether, at t, the client holds one of the leases of type
// ia it held at the fault, usable and from an up server.
func (a *analyzer) keptAt(c *affectedClient, ia string, t time.Time) bool {
	for _, i := range c.all {
		iv := &a.ivs[i]
		if a.str(iv.ia) != ia || !slices.Contains(c.leases, iv.lease) || iv.usable > stampOf(t) || iv.end <= stampOf(t) || a.offAt(i, stampOf(t)) {
			continue
		}
		if a.upAt(a.serverAt(iv, t), t) {
			return true
		}
	}
	return false
}

func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond/2) / time.Millisecond)
}
