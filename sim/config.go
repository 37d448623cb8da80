package sim

import (
	"fmt"
	"net"

	"d6lab/clientsim/population"
	"d6lab/clientsim/profile"
	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server"
	"d6lab/server/alloc"
)

// ServerDUID is the stable DUID-LL (RFC 9915 §11.4) every engine gives
// server i (0-based) of a scenario: hardware type 1 (Ethernet), MAC
// 02:d6:1a:b0:HH:LL with HHLL = i+1. The checkers map it back to the name.
func ServerDUID(i int) []byte {
	n := i + 1
	return []byte{0, 3, 0, 1, 0x02, 0xd6, 0x1a, 0xb0, byte(n >> 8), byte(n)}
}

// ServerMAC is the hardware address in server i's DUID-LL (ServerDUID):
// third-party servers are configured with a DUID-LL of it
// (daemon.Spec.MAC), so that they carry the same DUID as the builtin one.
func ServerMAC(i int) net.HardwareAddr { return net.HardwareAddr(ServerDUID(i)[4:]) }

// ServerConfig is the builtin server configuration for server i of sc: the
// one mapping from a resolved scenario to the server core, used by the
// netns engine (as `d6lab serve` flags) and the virtual engine alike.
func ServerConfig(sc *scenarios.Scenario, i int) (server.Config, error) {
	s := sc.Servers[i]
	cfg := server.DefaultConfig()
	cfg.Name = s.Name
	cfg.DUID = ServerDUID(i)
	cfg.Prefix = s.Prefix
	pool, err := alloc.NewPool(s.Pool.First, s.Pool.Last)
	if err != nil {
		return cfg, fmt.Errorf("server %s: pool: %w", s.Name, err)
	}
	cfg.Pool = pool
	if s.PDPool.IsValid() {
		if cfg.PDPool, err = alloc.NewPrefixPool(s.PDPool, s.PDLen); err != nil {
			return cfg, fmt.Errorf("server %s: pd pool: %w", s.Name, err)
		}
	}
	cfg.Preference = s.Preference
	lt := sc.Lifetimes
	cfg.T1, cfg.T2, cfg.Preferred, cfg.Valid = lt.T1, lt.T2, lt.Preferred, lt.Valid
	cfg.InfoRefresh = lt.InfoRefresh
	cfg.Allocator = s.Allocator
	if cfg.Rebind, err = deploy.ParseRebindPolicy(string(s.Rebind)); err != nil {
		return cfg, fmt.Errorf("server %s: %w", s.Name, err)
	}
	cfg.RapidCommit = s.RapidCommit
	cfg.Seed = sc.Clients.Seed + uint64(i)
	return cfg, cfg.Validate()
}

// PopulationConfig is the client population of sc, with events to sink.
// Every client behaves as sc.Clients.Profile (clientsim/profile); a
// validated scenario names one that exists (a spec in clientsim/profile
// checks every deploy.Profile has an entry), so an unknown one is a
// programming error and panics.
func PopulationConfig(sc *scenarios.Scenario, sink func(history.Event)) population.Config {
	c := sc.Clients
	name := c.Profile
	if name == "" {
		name = deploy.ProfileRFC
	}
	prof, err := profile.Lookup(string(name))
	if err != nil {
		panic(fmt.Sprintf("sim: scenario %s: clients.profile: %v", sc.Name, err))
	}
	return population.Config{
		Count:       c.Count,
		Seed:        c.Seed,
		IANA:        c.Wants(scenarios.NA),
		IAPD:        c.Wants(scenarios.PD),
		Ramp:        c.Ramp,
		Timescale:   c.Timescale,
		RapidCommit: c.RapidCommit,
		DAD:         c.DAD,
		DADDelay:    c.DADDelay,
		Jitter:      c.Jitter,
		Deviations:  prof.Deviations,
		Sink:        sink,
		// With dns: every client names itself (history.HostName) for
		// the servers to put in the zone (RFC 4704).
		SendFQDN: sc.DNS != nil,
	}
}

// CheckLab describes sc's servers to the checkers (names, the DUIDs every
// engine gives them, prefixes and PD pools) for a run on engine. The
// caller fills Start and End when the engine knows them.
func CheckLab(sc *scenarios.Scenario, engine string) check.Lab {
	l := check.Lab{
		Scenario:  sc.Name,
		Model:     string(sc.Model),
		Engine:    engine,
		Timescale: sc.Clients.Timescale,
	}
	if sc.Clients.Profile != deploy.ProfileRFC {
		l.Profile = string(sc.Clients.Profile)
	}
	if l.Profile != "" && sc.Clients.Count > 0 {
		prof, _ := profile.Lookup(l.Profile) // a validated scenario names a profile that exists
		for _, g := range prof.Gaps {
			l.Gaps = append(l.Gaps, check.Gap{Param: g.Param, When: string(g.When), Real: g.Real, Simulated: g.Simulated})
		}
	}
	for i, s := range sc.Servers {
		l.Servers = append(l.Servers, check.ServerInfo{
			Name: s.Name, DUID: server.FormatDUID(ServerDUID(i)), Prefix: s.Prefix,
			PDPool: s.PDPool, PDLen: s.PDLen,
		})
	}
	return l
}

// Bounds converts a scenario's expectations to the checker's bounds, for
// a run on any engine.
func Bounds(ex []scenarios.Expect) []check.Bound {
	out := make([]check.Bound, len(ex))
	for i, e := range ex {
		out[i] = check.Bound{Path: e.Path, Op: e.Op, Value: e.Value, Raw: e.Raw}
	}
	return out
}

// ClientActionDetail describes a client timeline action for logs and the
// history: "100 clients", an address, or "every client".
func ClientActionDetail(a scenarios.Action) string {
	switch a.Kind {
	case scenarios.Join, scenarios.Leave:
		return fmt.Sprintf("%d clients", a.Count)
	case scenarios.Occupy:
		return a.Address.String()
	case scenarios.Flap:
		return "every client, down " + a.Down.String()
	}
	return "every client"
}

// ClientActionKind is the history kind that records a client timeline
// action (join, leave, flap, occupy) in every engine.
func ClientActionKind(k scenarios.ActionKind) history.Kind {
	switch k {
	case scenarios.Join:
		return history.ClientsJoined
	case scenarios.Leave:
		return history.ClientsLeft
	case scenarios.Flap:
		return history.LinkFlapped
	case scenarios.Occupy:
		return history.AddressOccupied
	}
	return history.Kind(k)
}
