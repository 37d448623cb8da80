package check

import (
	"net/netip"
	"time"
)

// Conflicts are the addresses caught by duplicate address detection: a
// client was granted an address another host held, its DAD saw the holder
// and it declined the address (Declined with Cause dad, RFC 4862 §5.4.5,
// RFC 9915 §18.2.8). DAD working as meant, but each one costs the client
// time: DelayS.
//
//   - Count: such Declined events; Addresses: distinct addresses among
//     them; Pairs: distinct unordered pairs of the declining client and
//     the holder (a host outside the population counts as one holder per
//     address).
//   - DelayS: per conflict, from the grant of the declined address to the
//     first instant at or after the Decline at which the client holds a
//     usable (not tentative) lease of the same IA type; Unrecovered
//     counts the conflicts after which it held none by End (not in
//     DelayS). A Decline whose lease was never seen granted starts at the
//     Decline.
//
// A conflict is not a duplicate: Duplicates counts two clients *using*
// one address at once, over usable intervals, which a declined tentative
// address never was.
type Conflicts struct {
	Count       int         `json:"count"`
	Addresses   int         `json:"addresses"`
	Pairs       int         `json:"pairs"`
	DelayS      Percentiles `json:"delay_s"`
	Unrecovered int         `json:"unrecovered"`
	Evidence    []Conflict  `json:"evidence"` // the first EvidenceCap, in time order; the counts cover all
	Truncated   bool        `json:"truncated,omitempty"`
}

// Conflict is one address declined after DAD found it in use.
type Conflict struct {
	Address string    `json:"address"` // the declined lease (bare address for a /128)
	Client  int       `json:"client"`  // the client that declined it
	Holder  *int      `json:"holder"`  // the population client holding it; null: a host outside the population
	At      time.Time `json:"at"`      // the Decline
	Server  string    `json:"server"`  // the server that granted the declined address ("" when unknown)
}

type conflictPair struct {
	a, b    int
	foreign netip.Prefix // set for a holder outside the population
}

func (a *analyzer) conflictsReport(r *Report) {
	cf := Conflicts{Evidence: []Conflict{}}
	addrs := map[netip.Prefix]struct{}{}
	pairs := map[conflictPair]struct{}{}
	byClient := map[int][]int32{}
	for _, c := range a.conflicts {
		byClient[c.client] = nil
	}
	for i := range a.ivs {
		if _, ok := byClient[a.ivs[i].client]; ok {
			byClient[a.ivs[i].client] = append(byClient[a.ivs[i].client], int32(i))
		}
	}
	var delays []int64
	for _, c := range a.conflicts {
		cf.Count++
		addrs[c.lease] = struct{}{}
		p := conflictPair{a: c.client, b: -1, foreign: c.lease}
		if c.peer != nil {
			p = conflictPair{a: min(c.client, *c.peer), b: max(c.client, *c.peer)}
		}
		pairs[p] = struct{}{}

		granted := c.at
		if c.iv >= 0 {
			granted = a.ivs[c.iv].start
		}
		if t, ok := a.nextUsable(byClient[c.client], c); ok {
			delays = append(delays, millis(t.Sub(granted)))
		} else {
			cf.Unrecovered++
		}

		if len(cf.Evidence) >= EvidenceCap {
			cf.Truncated = true
			continue
		}
		ev := Conflict{Client: c.client, At: c.at}
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
// than the declined one.
func (a *analyzer) nextUsable(ivs []int32, c conflict) (time.Time, bool) {
	var best time.Time
	found := false
	for _, i := range ivs {
		if i == c.iv {
			continue
		}
		iv := &a.ivs[i]
		if iv.ia != c.ia {
			continue
		}
		t := iv.usable
		if t.Before(c.at) {
			t = c.at
		}
		if iv.end.After(t) && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	return best, found
}
