package check

import (
	"cmp"
	"math"
	"net/netip"
	"slices"

	"d6lab/reports/history"
)

// PD measures what prefix delegation costs in pool space, RFC 6853 §2.1's
// "one obvious drawback of using a split prefix model for PD is that use
// of resources is doubled". Duplicate delegations (overlapping prefixes)
// are counted with the addresses, in Duplicates.
//
//   - PoolPrefixes: the distinct delegable prefixes configured across the
//     servers: each server's PD pool counted in prefixes of its delegated
//     length, a pool equal to (or inside) one already counted with the same
//     length counted once (identical servers share one pool).
//   - DelegatedPeak: the most delegated prefixes valid at one instant.
//   - PoolPerClient: PoolPrefixes per client that asked for a prefix (a
//     client with at least one IA_PD event): the space the deployment
//     spends per customer.
//   - SurvivorShare: the smallest server's pool in prefixes per such
//     client: at >= 1 any single server can delegate to every client alone,
//     which is what a server failure asks of the survivor. Split and unique
//     reach it only with PoolPerClient >= number of servers (the doubling);
//     identical with PoolPerClient >= 1.
//   - PoolUse: DelegatedPeak / PoolPrefixes.
//
// All are zero when no server delegates prefixes (Lab.Servers carry no
// PDPool).
type PD struct {
	Servers       int     `json:"servers"`        // servers with a PD pool
	PoolPrefixes  float64 `json:"pool_prefixes"`  // distinct delegable prefixes (a float: a /40 of /64s is 2^24)
	Clients       int     `json:"clients"`        // clients with an IA_PD event
	DelegatedPeak int     `json:"delegated_peak"` // most prefixes delegated at once
	PoolPerClient float64 `json:"pool_per_client"`
	SurvivorShare float64 `json:"survivor_share"`
	PoolUse       float64 `json:"pool_use"`
}

// pdPoolSize is the number of prefixes of length bits in pool.
func pdPoolSize(pool netip.Prefix, bits int) float64 {
	if !pool.IsValid() || bits < pool.Bits() || bits > 128 {
		return 0
	}
	return math.Ldexp(1, bits-pool.Bits())
}

func (a *analyzer) pd(r *Report, lab Lab, events history.Source) {
	type pool struct {
		p    netip.Prefix
		bits int
	}
	var pools []pool
	minSize := math.Inf(1)
	for _, s := range lab.Servers {
		if !s.PDPool.IsValid() || s.PDLen == 0 {
			continue
		}
		r.PD.Servers++
		minSize = min(minSize, pdPoolSize(s.PDPool, s.PDLen))
		pools = append(pools, pool{s.PDPool.Masked(), s.PDLen})
	}
	// widest first, so a pool inside a counted one is skipped
	slices.SortFunc(pools, func(x, y pool) int { return cmp.Compare(x.p.Bits(), y.p.Bits()) })
	var counted []pool
	for _, p := range pools {
		inside := slices.ContainsFunc(counted, func(c pool) bool {
			return c.bits == p.bits && c.p.Bits() <= p.p.Bits() && c.p.Contains(p.p.Addr())
		})
		if !inside {
			counted = append(counted, p)
			r.PD.PoolPrefixes += pdPoolSize(p.p, p.bits)
		}
	}

	clients := map[int]struct{}{}
	for i := range events.Len() {
		ev := events.Event(i)
		e := &ev
		if e.Client >= 0 && e.IA == history.IAPD && !e.At.After(a.end) {
			clients[e.Client] = struct{}{}
		}
	}
	r.PD.Clients = len(clients)

	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for i := range a.ivs {
		iv := &a.ivs[i]
		if a.str(iv.ia) != history.IAPD || iv.end <= iv.first.at {
			continue
		}
		edges = append(edges, edge{int64(iv.first.at), 1}, edge{int64(iv.end), -1})
	}
	// ends before starts at the same instant: a hand-over is not a peak
	slices.SortFunc(edges, func(x, y edge) int {
		return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.delta, y.delta))
	})
	cur := 0
	for _, e := range edges {
		cur += e.delta
		r.PD.DelegatedPeak = max(r.PD.DelegatedPeak, cur)
	}

	if r.PD.Clients > 0 && r.PD.Servers > 0 {
		r.PD.PoolPerClient = r.PD.PoolPrefixes / float64(r.PD.Clients)
		r.PD.SurvivorShare = minSize / float64(r.PD.Clients)
	}
	if r.PD.PoolPrefixes > 0 {
		r.PD.PoolUse = float64(r.PD.DelegatedPeak) / r.PD.PoolPrefixes
	}
}
