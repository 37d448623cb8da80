package virtual

import (
	"fmt"
	"net/netip"

	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/transport"
)

// RunScenario plays sc on a fresh engine from Epoch and returns the engine
// with its history. Server i gets sim.ServerConfig(sc, i), the same
// configuration the netns engine passes to `d6lab serve`.
func RunScenario(sc *scenarios.Scenario) (*Engine, error) {
	for _, a := range sc.Timeline {
		if a.Kind == scenarios.Impair {
			return nil, fmt.Errorf("virtual: t=%s impair %s: the virtual engine has no impairment; use the netns engine", a.At, a.Target)
		}
	}
	if sc.Relay == scenarios.Dhcrelay {
		return nil, fmt.Errorf("virtual: relay: dhcrelay runs ISC dhcrelay, a real process; use the netns engine (relay: own runs here)")
	}
	e := New(Epoch)
	e.events = append(e.events, history.Event{At: e.now, Kind: history.RunStarted, Client: -1, Detail: sc.Name})
	for i, s := range sc.Servers {
		cfg, err := sim.ServerConfig(sc, i)
		if err != nil {
			return nil, err
		}
		srv, err := e.AddServer(s.Name, cfg)
		if err != nil {
			return nil, err
		}
		if sc.Relay == scenarios.OwnRelay {
			// Behind the population's own relay the servers sit on the
			// server network, at the addresses the netns engine gives them.
			srv.Addr = netip.AddrPortFrom(sim.ServerAddr(sc.Link, i), transport.ServerPort)
		}
	}
	var actErr error
	for _, a := range sc.Timeline {
		a := a
		e.At(a.At, func() {
			switch a.Kind {
			case scenarios.Kill:
				e.Kill(a.Target)
			case scenarios.Freeze:
				e.Freeze(a.Target)
			case scenarios.Thaw:
				e.Thaw(a.Target)
			case scenarios.Cut:
				e.CutLink(a.Target)
			case scenarios.Heal:
				e.Heal(a.Target)
			case scenarios.Join:
				if err := e.Join(a.Count, a.Ramp); err != nil && actErr == nil {
					actErr = err
				}
			case scenarios.Leave:
				e.Leave(a.Count)
			case scenarios.Flap:
				e.Flap()
			case scenarios.Occupy:
				e.Occupy(a.Address)
			case scenarios.Restart:
				if err := e.Restart(a.Target, a.State != scenarios.Wipe); err != nil && actErr == nil {
					actErr = err
				}
			}
			if a.Kind.ClientAction() {
				e.lab(sim.ClientActionKind(a.Kind), "", sim.ClientActionDetail(a))
			}
		})
	}
	pcfg := sim.PopulationConfig(sc, nil)
	if sc.Relay == scenarios.OwnRelay {
		pcfg.Relay = sim.OwnRelay(sc, "virtual")
	}
	if err := e.SetPopulation(pcfg); err != nil {
		return nil, err
	}
	e.RunFor(sc.Duration)
	e.events = append(e.events, history.Event{At: e.now, Kind: history.RunEnded, Client: -1, Detail: sc.Name})
	return e, actErr
}
