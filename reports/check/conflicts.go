package check

import (
	"net/netip"
	"time"
)

// Conflicts are the addresses caught by duplicate address detection: a
// client was granted an address another host held, its DAD saw the holder
// and it declined the address (Declined with Cause dad, RFC 4862 §5.4.5,
// RFC 9915 §18.2.8), or kept it unusable without a Decline (DADFailed:
// what the Debian clients do, client.Deviations.KeepDADFailed). DAD
// working as meant, but each one costs the client time: DelayS.
//
//   - Count: such Declined and DADFailed events, DAD failing again for a
//     kept address the client added again counting once; Kept: the
//     DADFailed ones among them; Addresses: distinct addresses among them; Pairs:
//     distinct unordered pairs of the client and the holder (a host
//     outside the population counts as one holder per address).
//   - DelayS: per conflict, from the grant of the address to the first
//     instant at or after the event at which the client holds a usable
//     (not tentative) lease of the same IA type, another than the one in
//     conflict, or a kept one once a later DAD of it passed (a Restored
//     event, client.Deviations.ReaddKept); Unrecovered counts the
//     conflicts after which it held none by End (not in DelayS). A
//     conflict whose lease was never seen granted starts at the event.
//
// A conflict is not a duplicate: Duplicates counts two clients *using*
// one address at once, over usable intervals, which a tentative address
// caught by DAD never was.
type Conflicts struct {
	Count       int         `json:"count"`
	Kept        int         `json:"kept"`
	Addresses   int         `json:"addresses"`
	Pairs       int         `json:"pairs"`
	DelayS      Percentiles `json:"delay_s"`
	Unrecovered int         `json:"unrecovered"`
	Evidence    []Conflict  `json:"evidence"` // the first EvidenceCap, in time order; the counts cover all
	Truncated   bool        `json:"truncated,omitempty"`
}

// Conflict is one address DAD found in use.
type Conflict struct {
	Address string    `json:"address"`        // the lease in conflict (bare address for a /128)
	Client  int       `json:"client"`         // the client that declined or kept it
	Holder  *int      `json:"holder"`         // the population client holding it; null: a host outside the population
	At      time.Time `json:"at"`             // the Decline, or when DAD failed for a kept one
	Server  string    `json:"server"`         // the server that granted the address ("" when unknown)
	Kept    bool      `json:"kept,omitempty"` // the client kept it, unusable (DADFailed), instead of declining it
}

type conflictPair struct {
	a, b    int
	foreign netip.Prefix // set for a holder outside the population
}

func (a *analyzer) conflictsReport(r *Report) {
	cf := Conflicts{Evidence: []Conflict{}}
	addrs := map[netip.Prefix]struct{}{}
	pairs := map[conflictPair]struct{}{}
	var delays []int64
	for _, c := range a.conflicts {
		cf.Count++
		if c.kept {
			cf.Kept++
		}
		addrs[c.lease] = struct{}{}
		p := conflictPair{a: c.client, b: -1, foreign: c.lease}
		if c.peer != nil {
			p = conflictPair{a: min(c.client, *c.peer), b: max(c.client, *c.peer)}
		}
		pairs[p] = struct{}{}

		granted := c.at
		if c.iv >= 0 {
			granted = a.ivs[c.iv].start()
		}
		if t, ok := a.nextUsable(a.intervalsOf(c.client), c); ok {
			delays = append(delays, millis(t.Sub(granted)))
		} else {
			cf.Unrecovered++
		}

		if len(cf.Evidence) >= EvidenceCap {
			cf.Truncated = true
			continue
		}
		ev := Conflict{Client: c.client, At: c.at, Kept: c.kept}
		if c.lease.IsValid() {
			ev.Address = leaseString(c.lease)
		}
		if c.peer != nil {
			h := *c.peer
			ev.Holder = &h
		}
		if c.srv >= 0 {
			ev.Server = a.servers[c.srv].name
		}
		cf.Evidence = append(cf.Evidence, ev)
	}
	cf.Addresses = len(addrs)
	cf.Pairs = len(pairs)
	cf.DelayS = summarize(delays)
	r.Conflicts = cf
}

// nextUsable is the first instant at or after the conflict's Decline at
// which the client holds a usable lease of the conflict's IA type, other
// than the declined one; a kept one counts once a later DAD of it passed
// (client.Deviations.ReaddKept: its interval usable at last).
func (a *analyzer) nextUsable(ivs []int32, c conflict) (time.Time, bool) {
	var best time.Time
	found := false
	for _, i := range ivs {
		if i == c.iv && !c.kept {
			continue
		}
		iv := &a.ivs[i]
		if a.str(iv.ia) != c.ia {
			continue
		}
		from := iv.usable.time()
		if from.Before(c.at) {
			from = c.at
		}
		// the first instant from then with the address on the interface
		for _, w := range a.onSpans(nil, i, from, iv.end.time(), true) {
			if !found || w.from.Before(best) {
				best, found = w.from, true
			}
			break
		}
	}
	return best, found
}
