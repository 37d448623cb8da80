package check

import (
	"cmp"
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
// tentative was never used and is no duplicate (it is a conflict).
// Intervals are sorted by lease and start once, each lease's a run; each
// run is swept against itself and against the runs of its enclosing
// prefixes (looked up per prefix length present), so the cost is
// O(n log n) plus the number of overlaps found.
func (a *analyzer) duplicates(r *Report) {
	r.Duplicates = Duplicates{Verdict: VerdictUnknown, Evidence: []Evidence{}}
	// The intervals with a usable time, by lease (dupKey), then
	// start: each lease's group is a run.
	var lengths [129]bool
	ks := make([]dupKey, 0, len(a.ivs))
	for i := range a.ivs {
		iv := &a.ivs[i]
		if iv.end <= iv.usable {
			continue
		}
		p := iv.lease.prefix().Masked()
		ks = append(ks, keyOf(p, int32(i)))
		lengths[p.Bits()] = true
	}
	if len(ks) == 0 {
		return
	}
	slices.SortFunc(ks, func(x, y dupKey) int {
		if c := x.compare(&y.packedPrefix); c != 0 {
			return c
		}
		return a.byStart(x.i, y.i)
	})
	// idx[starts[k]:starts[k+1]] are the intervals of the k-th lease.
	idx := make([]int32, len(ks))
	var starts []int32
	for lo := 0; lo < len(ks); {
		hi := lo + 1
		for hi < len(ks) && ks[hi].compare(&ks[lo].packedPrefix) == 0 {
			hi++
		}
		for k := lo; k < hi; k++ {
			idx[k] = ks[k].i
		}
		starts = append(starts, int32(lo))
		lo = hi
	}
	groups := len(starts)
	starts = append(starts, int32(len(ks)))
	group := func(k int) []int32 { return idx[starts[k]:starts[k+1]] }
	find := func(p netip.Prefix) ([]int32, bool) {
		want := keyOf(p, 0)
		k, ok := slices.BinarySearchFunc(starts[:groups], &want, func(lo int32, w *dupKey) int { return ks[lo].compare(&w.packedPrefix) })
		if !ok {
			return nil, false
		}
		return group(k), true
	}

	s := &dupState{a: a, d: &r.Duplicates, addrs: map[netip.Prefix]struct{}{}, pairs: map[clientPair]struct{}{}}
	for k := range groups {
		p, g := ks[starts[k]].prefix(), group(k)
		s.sweepSame(p, g)
		for l := p.Bits() - 1; l >= 0; l-- {
			if !lengths[l] {
				continue
			}
			anc, _ := p.Addr().Prefix(l)
			if h, ok := find(anc); ok {
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
	if c := cmp.Compare(a.ivs[x].usable, a.ivs[y].usable); c != 0 {
		return c
	}
	return a.ivs[x].client - a.ivs[y].client
}

// dupKey is an interval's lease as duplicates sorts it, in 24 bytes
// where a netip.Prefix and the index took 40 (a million-client day has
// two million intervals).
type dupKey struct {
	packedPrefix
	i int32 // the interval
}

// keyOf is p's key, for interval i.
func keyOf(p netip.Prefix, i int32) dupKey { return dupKey{packPrefix(p), i} }

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
		if y >= len(h) || (x < len(g) && s.a.ivs[g[x]].usable <= s.a.ivs[h[y]].usable) {
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
func (s *dupState) prune(act []int32, t stamp) []int32 {
	return slices.DeleteFunc(act, func(j int32) bool { return s.a.ivs[j].end <= t })
}

// record counts the overlap of intervals i (holding p) and j (holding p, or
// anc when anc is valid).
func (s *dupState) record(p, anc netip.Prefix, i, j int32) {
	a, b := &s.a.ivs[i], &s.a.ivs[j]
	from, to := max(a.usable, b.usable), min(a.end, b.end)
	if to <= from {
		return
	}
	s.addrs[p] = struct{}{}
	pair := clientPair{a.client, b.client}
	if pair[0] > pair[1] {
		pair[0], pair[1] = pair[1], pair[0]
	}
	s.pairs[pair] = struct{}{}
	overlap := time.Duration(to - from).Seconds()
	s.d.OverlapS += overlap
	if len(s.d.Evidence) >= EvidenceCap {
		s.d.Truncated = true
		return
	}
	ev := Evidence{
		Address:  leaseString(p),
		ClientA:  a.client,
		ClientB:  b.client,
		From:     s.a.timeOf(from),
		To:       s.a.timeOf(to),
		OverlapS: overlap,
		ServerA:  s.a.servers[s.a.serverAt(a, from.time())].name,
		ServerB:  s.a.servers[s.a.serverAt(b, from.time())].name,
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
