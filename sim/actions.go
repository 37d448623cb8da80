package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"d6lab/scenarios"
)

// Actions is what a scenario's timeline does to a lab, implemented by each
// engine (the netns engine in sim/lab, the virtual engine in sim/virtual).
// Each method checks the engine's own preconditions (a known server, one
// in a state the action applies to, a capability the engine has) and
// returns an error rather than acting when one does not hold; on success
// it records the action in the engine's history (one lab event: the
// server's ServerKilled, ..., or ClientActionKind's event for a client
// action, with ClientActionDetail's detail).
type Actions interface {
	// Kill ends the server abruptly (SIGKILL): it is an error to kill one
	// already killed.
	Kill(name string) error
	// Freeze stops a running server answering (SIGSTOP).
	Freeze(name string) error
	// Thaw resumes a frozen server (SIGCONT).
	Thaw(name string) error
	// Restart starts the server again, killing it first if it runs, with
	// its leases (keep) or without them.
	Restart(name string, keep bool) error
	// Cut takes the server's link down; Heal brings a cut or impaired
	// link back.
	Cut(name string) error
	Heal(name string) error
	// Impair drops a share loss of the server's packets and delays the
	// rest by delay.
	Impair(name string, loss float64, delay time.Duration) error
	// Join adds count clients, their starts spread over ramp; Leave makes
	// count clients release and stop; Flap takes the clients' link down
	// for down and up again; Occupy puts a host using addr on the link.
	Join(count int, ramp time.Duration) error
	Leave(count int) error
	Flap(down time.Duration) error
	Occupy(addr netip.Addr) error
}

// ErrUnknownServer is the error (wrapped) of an action on a server name the
// engine does not have.
var ErrUnknownServer = errors.New("no server named")

// UnknownServer is the error an engine returns for an action on name when
// it has no such server.
func UnknownServer(name string) error { return fmt.Errorf("%w %q", ErrUnknownServer, name) }

// Apply performs one timeline action on e: the one mapping from a
// scenarios.ActionKind to an engine's method.
func Apply(e Actions, a scenarios.Action) error {
	switch a.Kind {
	case scenarios.Kill:
		return e.Kill(a.Target)
	case scenarios.Freeze:
		return e.Freeze(a.Target)
	case scenarios.Thaw:
		return e.Thaw(a.Target)
	case scenarios.Restart:
		return e.Restart(a.Target, a.State != scenarios.Wipe)
	case scenarios.Cut:
		return e.Cut(a.Target)
	case scenarios.Heal:
		return e.Heal(a.Target)
	case scenarios.Impair:
		return e.Impair(a.Target, a.Loss, a.Delay)
	case scenarios.Join:
		return e.Join(a.Count, a.Ramp)
	case scenarios.Leave:
		return e.Leave(a.Count)
	case scenarios.Flap:
		return e.Flap(a.Down)
	case scenarios.Occupy:
		return e.Occupy(a.Address)
	}
	return fmt.Errorf("unknown action %q", a.Kind)
}
