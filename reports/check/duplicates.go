package check

import (
	"net/netip"
	"slices"
	"time"
)

type clientPair [2]int

type dupState struct {
	a      *analyzer
	d      *Duplicates
	addrs  map[netip.Prefix]struct{}
	pairs  map[clientPair]struct{}
	active []int32 // scratch
	other  []int32 // scratch
}

// duplicates finds every pair of intervals of different clients whose
// leases overlap (same address, or one prefix inside the other) and whose
// usable times overlap: from the end of each lease's tentative time
// (duplicate address detection) to its end. An address declined while
// tentative was never used and is no duplicate (it is a conflict). Intervals are grouped per lease and sorted by start once;
// each group is swept against itself and against the groups of its
// enclosing prefixes (looked up per prefix length present), so the cost is
// O(n log n) plus the number of overlaps found.
func (a *analyzer) duplicates(r *Report) {
	r.Duplicates = Duplicates{Verdict: VerdictUnknown, Evidence: []Evidence{}}
	groups := map[netip.Prefix][]int32{}
	var lengths [129]bool
	for i := range a.ivs {
		iv := &a.ivs[i]
		if !iv.end.After(iv.usable) {
			continue
		}
		p := iv.lease.Masked()
		groups[p] = append(groups[p], int32(i))
		lengths[p.Bits()] = true
	}
	if len(groups) == 0 {
		return
	}
	keys := make([]netip.Prefix, 0, len(groups))
	for p, g := range groups {
		keys = append(keys, p)
		slices.SortFunc(g, a.byStart)
	}
	slices.SortFunc(keys, comparePrefix)

	s := &dupState{a: a, d: &r.Duplicates, addrs: map[netip.Prefix]struct{}{}, pairs: map[clientPair]struct{}{}}
	for _, p := range keys {
		g := groups[p]
		s.sweepSame(p, g)
		for l := p.Bits() - 1; l >= 0; l-- {
			if !lengths[l] {
				continue
			}
			anc, _ := p.Addr().Prefix(l)
			if h, ok := groups[anc]; ok {
				s.sweepCross(p, anc, g, h)
			}
		}
	}
	r.Duplicates.Addresses = len(s.addrs)
	r.Duplicates.Pairs = len(s.pairs)
	if r.Duplicates.Addresses > 0 {
		r.Duplicates.Verdict = VerdictViolated
	} else {
		r.Duplicates.Verdict = VerdictOK
	}
}

// byStart orders intervals by the start of their usable time.
func (a *analyzer) byStart(x, y int32) int {
	if c := a.ivs[x].usable.Compare(a.ivs[y].usable); c != 0 {
		return c
	}
	return a.ivs[x].client - a.ivs[y].client
}

func comparePrefix(x, y netip.Prefix) int {
	if c := x.Addr().Compare(y.Addr()); c != 0 {
		return c
	}
	return x.Bits() - y.Bits()
}

// sweepSame reports overlaps within one lease's intervals (sorted by start).
func (s *dupState) sweepSame(p netip.Prefix, g []int32) {
	s.active = s.active[:0]
	for _, i := range g {
		iv := &s.a.ivs[i]
		s.active = s.prune(s.active, iv.usable)
		for _, j := range s.active {
			if s.a.ivs[j].client != iv.client {
				s.record(p, netip.Prefix{}, j, i)
			}
		}
		s.active = append(s.active, i)
	}
}

// sweepCross reports overlaps between the intervals of p (g) and those of
// an enclosing prefix anc (h), both sorted by start.
func (s *dupState) sweepCross(p, anc netip.Prefix, g, h []int32) {
	actG, actH := s.active[:0], s.other[:0]
	x, y := 0, 0
	for x < len(g) || y < len(h) {
		if y >= len(h) || (x < len(g) && !s.a.ivs[g[x]].usable.After(s.a.ivs[h[y]].usable)) {
			i := g[x]
			x++
			actH = s.prune(actH, s.a.ivs[i].usable)
			for _, j := range actH {
				if s.a.ivs[j].client != s.a.ivs[i].client {
					s.record(p, anc, i, j)
				}
			}
			actG = append(actG, i)
		} else {
			j := h[y]
			y++
			actG = s.prune(actG, s.a.ivs[j].usable)
			for _, i := range actG {
				if s.a.ivs[j].client != s.a.ivs[i].client {
					s.record(p, anc, i, j)
				}
			}
			actH = append(actH, j)
		}
	}
	s.active, s.other = actG, actH
}

// prune drops the intervals that ended at or before t.
func (s *dupState) prune(act []int32, t time.Time) []int32 {
	return slices.DeleteFunc(act, func(j int32) bool { return !s.a.ivs[j].end.After(t) })
}

// record counts the overlap of intervals i (holding p) and j (holding p, or
// anc when anc is valid).
func (s *dupState) record(p, anc netip.Prefix, i, j int32) {
	a, b := &s.a.ivs[i], &s.a.ivs[j]
	from, to := a.usable, a.end
	if b.usable.After(from) {
		from = b.usable
	}
	if b.end.Before(to) {
		to = b.end
	}
	if !to.After(from) {
		return
	}
	s.addrs[p] = struct{}{}
	pair := clientPair{a.client, b.client}
	if pair[0] > pair[1] {
		pair[0], pair[1] = pair[1], pair[0]
	}
	s.pairs[pair] = struct{}{}
	overlap := to.Sub(from).Seconds()
	s.d.OverlapS += overlap
	if len(s.d.Evidence) >= EvidenceCap {
		s.d.Truncated = true
		return
	}
	ev := Evidence{
		Address:  leaseString(p),
		ClientA:  a.client,
		ClientB:  b.client,
		From:     from,
		To:       to,
		OverlapS: overlap,
		ServerA:  s.a.servers[a.serverAt(from)].name,
		ServerB:  s.a.servers[b.serverAt(from)].name,
	}
	if anc.IsValid() {
		ev.Within = leaseString(anc)
	}
	s.d.Evidence = append(s.d.Evidence, ev)
}

// leaseString shows an address lease as a bare address, a prefix as a prefix.
func leaseString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}
