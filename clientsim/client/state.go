package client

// State is where a client stands. It says which exchange runs (if any)
// and whether the client holds leases; Leases tells which.
type State uint8

// Client states.
const (
	Idle       State = iota // created, Start not called yet
	Soliciting              // waiting out SOL_MAX_DELAY, or soliciting and collecting Advertises (§18.2.1)
	Requesting              // Request exchange (§18.2.2)
	Bound                   // holding leases, no exchange running
	Renewing                // Renew exchange, T1..T2 (§18.2.4)
	Rebinding               // Rebind exchange, T2..expiry, or after a link change with IA_PD (§18.2.5, §18.2.12)
	Confirming              // Confirm exchange after a link change (§18.2.3)
	Declining               // Decline exchange (§18.2.8)
	Releasing               // Release exchange (§18.2.7)
	Informing               // Information-request exchange of a stateless client (§18.2.6)
	Informed                // stateless client configured, waiting for its refresh time (§21.23)
	Stopped                 // released (or never bound) and stopped
	Halted                  // a Request from a Solicit ran out: sends nothing more (Deviations.FailHalts)
	numStates
)

var stateNames = [numStates]string{
	"idle", "soliciting", "requesting", "bound", "renewing", "rebinding",
	"confirming", "declining", "releasing", "informing", "informed", "stopped",
	"halted",
}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "state(?)"
}

// States lists every state, in order.
func States() []State {
	s := make([]State, numStates)
	for i := range s {
		s[i] = State(i)
	}
	return s
}

// HoldsLeases reports whether a client in this state may hold leases.
// A soliciting client holds none under RFC 9915; it may under
// Deviations.NoBindingSolicit or NoAddrsSolicit, which Solicit while the
// old leases run out.
func (s State) HoldsLeases() bool {
	switch s {
	case Bound, Renewing, Rebinding, Confirming, Declining, Requesting, Soliciting:
		return true
	}
	return false
}
