package scenarios

// Relay is how the clients reach the servers (RFC 6853 §5.2, and the
// service-provider model of §3, where servers sit behind relays).
type Relay string

// Relay kinds.
const (
	// NoRelay: clients and servers share the link; clients multicast to
	// ff02::1:2 (the default).
	NoRelay Relay = "none"
	// OwnRelay: the servers are on a server network; the client
	// population is its own relay agent, wrapping each message in a
	// Relay-forward unicast to every server (clientsim relay mode).
	OwnRelay Relay = "own"
	// Dhcrelay: the servers are on a server network; ISC `dhcrelay -6`
	// runs in its own namespace between it and the client link, where
	// the clients multicast as usual.
	Dhcrelay Relay = "dhcrelay"
)

// Relays lists the valid relay kinds.
var Relays = []Relay{NoRelay, OwnRelay, Dhcrelay}

// Relayed reports whether the servers sit behind a relay.
func (s *Scenario) Relayed() bool { return s.Relay != "" && s.Relay != NoRelay }
