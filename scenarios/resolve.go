package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"d6lab/deploy"
	"d6lab/netaddr6"
)

// Limits and defaults of the format (README.md documents each).
const (
	MaxServers       = 64        // servers in one scenario
	MaxClients       = 1_000_000 // clients.count
	DefaultServers   = 2         // servers: when the key is absent
	DefaultRamp      = 2 * time.Second
	DefaultTimescale = 1.0
	DefaultSeed      = 1
	// DefaultDAD and DefaultDADDelay are Linux's duplicate address
	// detection with its defaults: a random delay in [0, 1 s)
	// (rtr_solicit_delay) before the one probe (dad_transmits 1), then
	// RetransTimer 1 s during which the address stays tentative.
	DefaultDAD      = time.Second
	DefaultDADDelay = time.Second
	// DefaultFlapDown is how long a flap keeps the clients' link down:
	// long enough for a real client's kernel (and dhcpcd, which watches
	// the carrier) to see it go down and up.
	DefaultFlapDown = 500 * time.Millisecond
	DefaultPDLen    = 56 // delegated prefix length, unless more clients need longer ones
	pdPoolBits      = 40 // length of the default PD space

	// The dns: block's defaults: the records' TTL and how often the lab
	// transfers the zones.
	DefaultDNSTTL    = 30 * time.Second
	DefaultDNSSample = time.Second
	// The leasequery: block's defaults: a round every DefaultLQInterval
	// asking about DefaultLQClients clients (or the whole population when
	// it is smaller).
	DefaultLQInterval = 2 * time.Second
	DefaultLQClients  = 50
)

// DefaultLink is the link prefix when a scenario gives none: the /64 of
// RFC 6853's own examples.
var DefaultLink = netip.MustParsePrefix("2001:db8:1:1::/64")

// LabSpaces are the only address spaces a scenario may use: documentation
// (RFC 3849) and locally assigned ULA (RFC 4193).
var LabSpaces = []netip.Prefix{
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fd00::/8"),
}

// inLab reports whether prefix p lies inside one of LabSpaces.
func inLab(p netip.Prefix) bool {
	for _, s := range LabSpaces {
		if p.Bits() >= s.Bits() && s.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// poolInLab reports whether the whole pool lies inside one of LabSpaces.
func poolInLab(p netaddr6.Pool) bool {
	for _, s := range LabSpaces {
		if p.Within(s) {
			return true
		}
	}
	return false
}

// usable64 reports whether p is a masked IPv6 /64 pools can be derived from.
func usable64(p netip.Prefix) bool {
	return p.IsValid() && p.Addr().Is6() && !p.Addr().Is4In6() && p.Bits() == 64 && p.Masked() == p
}

// resolve is step two: raw values to a Scenario, defaults filled and pools
// derived. Problems found while deriving go to c; whole-scenario checks are
// validate's.
func resolve(r *rawScenario, c *collector) *Scenario {
	s := &Scenario{
		Name:        r.name.V,
		Description: r.description.V,
		Model:       r.model.V,
		Link:        r.link.or(DefaultLink),
		Relay:       r.relay.or(NoRelay),
		Duration:    r.duration.V,
		File:        c.file,
	}
	s.Lifetimes = Lifetimes{
		T1:          r.lifetimes.t1.or(DefaultLifetimes.T1),
		T2:          r.lifetimes.t2.or(DefaultLifetimes.T2),
		Preferred:   r.lifetimes.preferred.or(DefaultLifetimes.Preferred),
		Valid:       r.lifetimes.valid.or(DefaultLifetimes.Valid),
		InfoRefresh: r.lifetimes.infoRefresh.V,
	}
	s.Clients = Clients{
		Count:       r.clients.count.V,
		Ramp:        r.clients.ramp.or(defaultRamp(r.duration.V)),
		IA:          r.clients.ia.or([]IA{NA}),
		Timescale:   r.clients.timescale.or(DefaultTimescale),
		Seed:        r.clients.seed.or(DefaultSeed),
		RapidCommit: r.clients.rapidCommit.V,
		DAD:         r.clients.dad.or(DefaultDAD),
		DADDelay:    r.clients.dadDelay.or(DefaultDADDelay),
		Jitter:      r.clients.jitter.V,
		Profile:     r.clients.profile.or(deploy.ProfileRFC),
		Real:        r.clients.real.V,
	}
	for i := range s.Clients.Real {
		if s.Clients.Real[i].IA == nil {
			s.Clients.Real[i].IA = s.Clients.IA
		}
	}
	if s.Clients.DAD == 0 && !r.clients.dadDelay.Set {
		s.Clients.DADDelay = 0 // dad: 0s turns duplicate address detection off, delay and all
	}

	raws := r.servers
	if !r.serversListed {
		raws = make([]rawServer, r.serverCount.or(DefaultServers))
	}
	for i, rs := range raws {
		s.Servers = append(s.Servers, Server{
			Name:        rs.name.or(fmt.Sprintf("s%d", i+1)),
			Kind:        rs.kind.or(deploy.Builtin),
			Preference:  uint8(rs.preference.or(defaultPreference(i))),
			Allocator:   rs.allocator.or(DefaultAllocator(s.Model)),
			Rebind:      rs.rebind.or(deploy.RebindCreate),
			RapidCommit: rs.rapidCommit.V,
		})
	}
	for _, a := range r.timeline {
		act := Action{At: a.at.V, Kind: a.kind.V, Target: a.target.V, State: a.state.V, Loss: a.loss.V, Delay: a.delay.V, Count: a.count.V, Ramp: a.ramp.V, Address: a.addr.V, Line: a.line}
		if act.Kind == Restart && act.State == "" {
			act.State = Keep
		}
		if act.Kind == Flap {
			act.Down = a.down.or(DefaultFlapDown)
		}
		s.Timeline = append(s.Timeline, act)
	}
	deriveAddresses(s, raws, c)
	derivePD(s, raws, c)
	if d := r.dns; d != nil {
		s.DNS = &DNS{
			Zone:   NormalizeZone(d.zone.V),
			TTL:    d.ttl.or(DefaultDNSTTL),
			Sample: d.sample.or(DefaultDNSSample),
		}
	}
	if q := r.leasequery; q != nil {
		s.Leasequery = &Leasequery{
			Interval: q.interval.or(DefaultLQInterval),
			Clients:  q.clients.or(min(DefaultLQClients, s.Clients.Count)),
		}
	}

	s.Expect = append(s.Expect, r.expect...)
	return s
}

// defaultRamp is DefaultRamp, or the run's duration when that is shorter.
func defaultRamp(duration time.Duration) time.Duration {
	if duration > 0 && duration < DefaultRamp {
		return duration
	}
	return DefaultRamp
}

// defaultPreference: the first server 255 (clients Request from it at once,
// RFC 9915 §18.2.1), the others 0 (RFC 6853 Figures 1-3).
func defaultPreference(i int) int {
	if i == 0 {
		return 255
	}
	return 0
}

// DefaultAllocator is hash for the identical model (RFC 6853 §7: servers
// sharing a pool must pick the same address for the same client) and
// sequential otherwise.
func DefaultAllocator(m Model) deploy.Allocator {
	if m == Identical {
		return deploy.AllocHash
	}
	return deploy.AllocSequential
}

// deriveAddresses fills each server's prefix and pool the file left out
// (README.md "The three models"):
//
//   - split: prefix = the link /64; pool = slice i of 2^k equal slices of
//     it, 2^k the smallest power of two >= the server count (2 servers: /65
//     each, 3-4: /66, 5-8: /67, ...);
//   - unique: server i (0-based) gets the link /64 with i added to its 4th
//     16-bit group (2001:db8:1:1::/64 -> 2001:db8:1:2::/64 for the second
//     server; an overflow past ffff is an error); pool = that whole /64;
//   - identical: prefix = the link /64; pool = that whole /64 on every server.
func deriveAddresses(s *Scenario, raws []rawServer, c *collector) {
	k := netaddr6.SliceBits(len(s.Servers))
	for i := range s.Servers {
		sv, rs := &s.Servers[i], raws[i]
		field := fmt.Sprintf("servers[%d]", i)
		switch {
		case rs.prefix.Set:
			sv.Prefix = rs.prefix.V
		case !usable64(s.Link):
			// the link's own error says why; nothing to derive from
		case s.Model == Split || s.Model == Identical:
			sv.Prefix = s.Link
		case s.Model == Unique:
			p, ok := bump64(s.Link, i)
			if !ok {
				c.field(field+".prefix", nil, "cannot derive a unique /64: %s plus %d overflows the 4th group; give prefix:", s.Link, i)
				continue
			}
			sv.Prefix = p
		}
		switch {
		case rs.pool.Set:
			sv.Pool = rs.pool.V
		case !usable64(sv.Prefix):
			// no prefix to derive from; validate reports it
		case s.Model == Split:
			sv.Pool = netaddr6.PoolOf(netaddr6.Subprefix(sv.Prefix, sv.Prefix.Bits()+k, uint64(i)))
		case s.Model == Unique || s.Model == Identical:
			sv.Pool = netaddr6.PoolOf(sv.Prefix)
		}
	}
}

// bump64 adds i to the 4th 16-bit group (bits 48-63) of a /64.
func bump64(p netip.Prefix, i int) (netip.Prefix, bool) {
	b := p.Addr().As16()
	g := int(binary.BigEndian.Uint16(b[6:8])) + i
	if g > 0xffff {
		return netip.Prefix{}, false
	}
	binary.BigEndian.PutUint16(b[6:8], uint16(g))
	return netip.PrefixFrom(netip.AddrFrom16(b), 64), true
}

// DefaultPDSpace is the /40 prefix delegation draws from when the file gives
// no pd_pool: the link's /32 with its 3rd 16-bit group set to 0x0100
// (2001:db8:1:1::/64 -> 2001:db8:100::/40), or 0x0200 when that /40 would
// contain the link itself. It stays in the link's lab space and never
// overlaps the link's /48, where the unique model's prefixes live.
func DefaultPDSpace(link netip.Prefix) netip.Prefix {
	b := link.Addr().As16()
	clear(b[4:])
	b[4] = 0x01
	p := netip.PrefixFrom(netip.AddrFrom16(b), pdPoolBits)
	if p.Contains(link.Addr()) {
		b[4] = 0x02
		p = netip.PrefixFrom(netip.AddrFrom16(b), pdPoolBits)
	}
	return p
}

// derivePD fills PD pools when the clients ask for prefixes or any server
// configures PD. The default space is DefaultPDSpace(link): split and unique
// servers get disjoint equal slices of it (like split's address pools),
// identical servers all get the whole /40. The default delegated length is
// DefaultPDLen (/56), made longer (up to /64) when a server's pool would
// hold fewer prefixes than there are clients.
func derivePD(s *Scenario, raws []rawServer, c *collector) {
	on := s.Clients.Wants(PD)
	for _, rs := range raws {
		on = on || rs.pdPool.Set || rs.pdLen.Set
	}
	if !on {
		return
	}
	k := netaddr6.SliceBits(len(s.Servers))
	reported := false
	for i := range s.Servers {
		sv, rs := &s.Servers[i], raws[i]
		field := fmt.Sprintf("servers[%d]", i)
		switch {
		case rs.pdPool.Set:
			sv.PDPool = rs.pdPool.V
		case !usable64(s.Link):
		case s.Model == Split || s.Model == Unique:
			space := DefaultPDSpace(s.Link)
			sv.PDPool = netaddr6.Subprefix(space, space.Bits()+k, uint64(i))
		case s.Model == Identical:
			sv.PDPool = DefaultPDSpace(s.Link)
		}
		switch {
		case rs.pdLen.Set:
			sv.PDLen = rs.pdLen.V
		case !sv.PDPool.IsValid():
		default:
			need := sv.PDPool.Bits() + netaddr6.SliceBits(s.TotalClients())
			sv.PDLen = max(DefaultPDLen, need)
			if sv.PDLen > 64 {
				if !reported { // once: the same holds for the other servers
					reported = true
					c.field(field+".pd_len", nil, "no default fits: %s cannot hold %d delegated prefixes of /64 or shorter; give pd_len or a larger pd_pool", sv.PDPool, s.TotalClients())
				}
				sv.PDLen = 64
			}
		}
	}
}
