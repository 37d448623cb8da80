package virtual

import (
	"fmt"

	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
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
	e := New(Epoch)
	e.events = append(e.events, history.Event{At: e.now, Kind: history.RunStarted, Client: -1, Detail: sc.Name})
	for i, s := range sc.Servers {
		cfg, err := sim.ServerConfig(sc, i)
		if err != nil {
			return nil, err
		}
		if _, err := e.AddServer(s.Name, cfg); err != nil {
			return nil, err
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
			case scenarios.Restart:
				if err := e.Restart(a.Target, a.State != scenarios.Wipe); err != nil && actErr == nil {
					actErr = err
				}
			}
		})
	}
	if err := e.SetPopulation(sim.PopulationConfig(sc, nil)); err != nil {
		return nil, err
	}
	e.RunFor(sc.Duration)
	e.events = append(e.events, history.Event{At: e.now, Kind: history.RunEnded, Client: -1, Detail: sc.Name})
	return e, actErr
}
