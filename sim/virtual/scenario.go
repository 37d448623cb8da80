package virtual

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/deploy"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/transport"
)

// ErrUnsupported is the error (wrapped) of RunScenario for a scenario the
// virtual engine cannot play: a server of a kind other than builtin, an
// impairment, ISC dhcrelay, or a dns: or leasequery: block (BIND 9 and the
// prober are real processes and sockets).
var ErrUnsupported = errors.New("not supported by the virtual engine")

// unsupported marks err as ErrUnsupported, its message unchanged.
type unsupported struct{ error }

func (unsupported) Is(target error) bool { return target == ErrUnsupported }
func (u unsupported) Unwrap() error      { return u.error }

// Check returns the ErrUnsupported error RunScenario would refuse sc with,
// naming what only the netns engine does, or nil when the virtual engine
// can play it: callers check every scenario before running any.
func Check(sc *scenarios.Scenario) error {
	for _, s := range sc.Servers {
		// The virtual engine runs the builtin server core in-process; it
		// cannot stand in for another kind's behaviour.
		if s.Kind != deploy.Builtin {
			return unsupported{fmt.Errorf("virtual: server %s is kind %q: the virtual engine runs only %q servers; use the netns engine", s.Name, s.Kind, deploy.Builtin)}
		}
	}
	for _, a := range sc.Timeline {
		if a.Kind == scenarios.Impair {
			return unsupported{fmt.Errorf("virtual: t=%s impair %s: %w", a.At, a.Target, ErrNoImpairment)}
		}
	}
	if n := sc.Clients.RealCount(); n > 0 {
		return unsupported{fmt.Errorf("virtual: clients.real: %d real clients are real processes; use the netns engine (clients.profile models a real kind here)", n)}
	}
	if sc.Relay == scenarios.Dhcrelay {
		return unsupported{errors.New("virtual: relay: dhcrelay runs ISC dhcrelay, a real process; use the netns engine (relay: own runs here)")}
	}
	if sc.DNS != nil {
		return unsupported{errors.New("virtual: dns: the lab's DNS server is BIND 9, a real process the servers update over the network; use the netns engine")}
	}
	if sc.Leasequery != nil {
		return unsupported{errors.New("virtual: leasequery: the prober asks the servers over the network; use the netns engine")}
	}
	return nil
}

// RunScenario plays sc on a fresh engine from Epoch and returns the engine
// with its history. Server i gets sim.ServerConfig(sc, i), the same
// configuration the netns engine passes to `d6lab serve`. A scenario the
// engine cannot play fails before anything runs (ErrUnsupported); an
// action that fails (sim.Apply) fails the run, which plays on to its end.
func RunScenario(sc *scenarios.Scenario) (*Engine, error) {
	return RunScenarioContext(context.Background(), sc)
}

// RunScenarioContext is RunScenario stopped when ctx is done: it then
// returns ctx's error (context.Canceled for an interrupted run).
func RunScenarioContext(ctx context.Context, sc *scenarios.Scenario) (*Engine, error) {
	return RunScenarioOptions(ctx, sc, Options{})
}

// Options change how RunScenarioOptions plays a scenario; the zero value
// plays it as RunScenarioContext does.
type Options struct {
	// Wire: every message crosses the link encoded (Engine.SetWire), as
	// on a socket; slower, and the same history.
	Wire bool
	// MergeRenewals: the history merges renewals (Engine.SetMergeRenewals):
	// far fewer events, the same report.
	MergeRenewals bool
	// PlayRenewals: with MergeRenewals, no client coasts (SetCoasting):
	// every renewal crosses the link; the same history, slower.
	PlayRenewals bool
	// Progress, when set, is called with the virtual time played so far
	// (from the scenario's start) every few thousand steps of the run, on
	// the run's goroutine: it must be quick (an atomic store read by
	// another goroutine's progress bar).
	Progress func(played time.Duration)
	// delivered runs on every answer a server hands over as a value once
	// it is delivered (link_test.go overwrites it: no client keeps one).
	delivered func(*dhcpv6.Message)
}

// RunScenarioOptions is RunScenarioContext with options.
func RunScenarioOptions(ctx context.Context, sc *scenarios.Scenario, opt Options) (*Engine, error) {
	if err := Check(sc); err != nil {
		return nil, err
	}
	e := New(Epoch)
	e.SetWire(opt.Wire)
	e.SetMergeRenewals(opt.MergeRenewals)
	e.SetCoasting(!opt.PlayRenewals)
	e.delivered = opt.delivered
	if opt.Progress != nil {
		start := e.now
		e.played = func(now time.Time) { opt.Progress(now.Sub(start)) }
	}
	e.record(history.Event{At: e.now, Kind: history.RunStarted, Client: -1, Detail: sc.Name})
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
	for j, a := range sc.Timeline {
		e.At(a.At, func() {
			if err := sim.Apply(e, a); err != nil && actErr == nil {
				actErr = fmt.Errorf("t=%s %s %s: %w", a.At, a.Kind, a.Target, err)
			}
			if a.Kind == scenarios.Kill && !restartsKeeping(sc.Timeline[j+1:], a.Target) {
				if s := e.byName[a.Target]; s != nil && s.state == Killed {
					s.release()
				}
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
	if err := e.RunUntilContext(ctx, e.now.Add(sc.Duration)); err != nil {
		return nil, err
	}
	e.load.flush(e)
	e.record(history.Event{At: e.now, Kind: history.RunEnded, Client: -1, Detail: sc.Name})
	return e, actErr
}

// restartsKeeping reports whether an action of later (the timeline after
// a kill of target) restarts target with its leases.
func restartsKeeping(later []scenarios.Action, target string) bool {
	for _, a := range later {
		if a.Kind == scenarios.Restart && a.Target == target && a.State != scenarios.Wipe {
			return true
		}
	}
	return false
}
