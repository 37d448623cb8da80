package scenarios

import (
	"net/netip"
	"time"

	"d6lab/deploy"
	"d6lab/netaddr6"
)

// Scenario is a resolved scenario: every default filled, every pool derived,
// every value checked. Engines read it and never see the YAML.
type Scenario struct {
	Name        string
	Description string
	Model       Model
	Link        netip.Prefix // the link's /64
	Relay       Relay        // how clients reach the servers (relay.go)
	Lifetimes   Lifetimes
	Servers     []Server
	Clients     Clients
	Timeline    []Action // in time order
	Duration    time.Duration
	Expect      []Expect // in file order
	File        string   // where it was loaded from; "" when built in code
	// DNS puts an authoritative DNS server (BIND 9) in the lab and has the
	// servers update it (RFC 6853 §7); nil: no DNS.
	DNS *DNS
	// Leasequery runs the lab's Leasequery prober; nil: none.
	Leasequery *Leasequery
}

// DNS is a scenario's dns: block.
type DNS struct {
	// Zone is the forward zone, fully qualified, lower case, under RFC
	// 2606's reserved names ("lab.example."): each simulated client's name
	// is history.HostName(i) in it. The reverse zones are the ip6.arpa
	// zones of the servers' /64s.
	Zone string
	// TTL of the records the servers add.
	TTL time.Duration
	// Sample is how often the lab transfers the zones (AXFR) to compare
	// them with the clients' bindings.
	Sample time.Duration
}

// Leasequery is a scenario's leasequery: block: every Interval the prober
// asks each live server where each of Clients sampled clients (the same
// ones all run: every k-th client of the population) is bound.
type Leasequery struct {
	Interval time.Duration
	Clients  int
}

// Server returns the server with the given name.
func (s *Scenario) Server(name string) (*Server, bool) {
	for i := range s.Servers {
		if s.Servers[i].Name == name {
			return &s.Servers[i], true
		}
	}
	return nil, false
}

// Model is one of RFC 6853 §6's three deployment models.
type Model string

// The deployment models (RFC 6853 §6.1, §6.2, §6.3).
const (
	Split     Model = "split"     // one /64, each server a disjoint slice of it
	Unique    Model = "unique"    // each server its own /64, pool = that /64
	Identical Model = "identical" // one /64, the same pool on every server
)

// Models lists the valid models.
var Models = []Model{Split, Unique, Identical}

// Lifetimes are the timers the servers grant (RFC 9915 §7.6 / §21.4, §21.6,
// §21.21, §21.22). DHCPv6 carries them as 32-bit seconds, so they are whole
// seconds here.
type Lifetimes struct {
	T1, T2, Preferred, Valid time.Duration
	// InfoRefresh is the Information Refresh Time the servers send to
	// stateless clients (RFC 9915 §21.23); zero: none (clients use
	// IRT_DEFAULT, one day). Clients never refresh sooner than
	// IRT_MINIMUM (600 s) times their timescale.
	InfoRefresh time.Duration
}

// DefaultLifetimes are seconds long so that a lab run sees renewals, rebinds
// and expiry within a minute: T1 10s, T2 16s (0.8 of preferred, as RFC 9915
// §21.4 recommends for T2), preferred 20s, valid 30s.
var DefaultLifetimes = Lifetimes{T1: 10 * time.Second, T2: 16 * time.Second, Preferred: 20 * time.Second, Valid: 30 * time.Second}

// Server is one resolved DHCPv6 server.
type Server struct {
	Name        string // [a-z0-9-], at most 8 characters: it goes into interface names
	Kind        deploy.Kind
	Preference  uint8 // RFC 9915 §21.8
	Allocator   deploy.Allocator
	Rebind      deploy.RebindPolicy
	RapidCommit bool          // RFC 9915 §21.14: answer a Rapid Commit Solicit with a Reply
	Prefix      netip.Prefix  // the /64 the server serves (configured on the link)
	Pool        netaddr6.Pool // addresses it hands out; inside Prefix
	PDPool      netip.Prefix  // prefixes it delegates from; zero when it delegates none
	PDLen       int           // length of each delegated prefix; 0 when PDPool is zero
}

// IA is an identity association type a client asks for.
type IA string

// IA types (RFC 9915 §21.4 IA_NA, §21.21 IA_PD). The values match
// reports/history's IANA and IAPD.
const (
	NA IA = "na"
	PD IA = "pd"
)

// IATypes lists the valid IA types.
var IATypes = []IA{NA, PD}

// Clients describes the simulated client population.
type Clients struct {
	Count int
	// Ramp spreads the clients' start times evenly over [0, Ramp): client i
	// (0-based) starts at i*Ramp/Count. Zero starts them all at once.
	Ramp time.Duration
	// IA lists what each client asks for, one IA of each listed type.
	// Empty means stateless (Information-Request only, RFC 9915 §18.2.6).
	IA []IA
	// Timescale multiplies the client's RFC 9915 §7.6 transmission and
	// retransmission constants (SOL_TIMEOUT, REN_TIMEOUT, REB_TIMEOUT, the
	// MRTs and MRDs, ...). 1 keeps the RFC values; 0.1 makes them ten times
	// shorter, to fit seconds-long lifetimes. Lifetimes are never scaled.
	Timescale float64
	// Seed seeds the population's random source (DUIDs, IAIDs, jitter).
	Seed uint64
	// RapidCommit makes clients put Rapid Commit in their Solicits
	// (RFC 9915 §18.2.1).
	RapidCommit bool
	// DAD is how long a newly granted address stays tentative after its
	// duplicate address detection probe (RFC 4862 §5.4; RFC 9915
	// §18.2.10.1), and DADDelay bounds the random wait before that probe.
	// An address another client of the population holds fails DAD: the
	// client Declines it (RFC 9915 §18.2.8). DAD 0 turns detection off:
	// addresses are usable at once and duplicates go unnoticed. Both are
	// host constants, never scaled by Timescale.
	DAD, DADDelay time.Duration
	// Jitter spreads each client's T1 and T2 by a uniform factor in
	// [1-Jitter, 1+Jitter], as real clients (systemd-networkd) spread
	// their renewals; 0 renews exactly at T1.
	Jitter float64
	// Profile makes the simulated clients behave as a measured real client
	// kind where it departs from RFC 9915 (clientsim/profile); ProfileRFC,
	// the default, follows the RFC.
	Profile deploy.Profile
	// Real are real DHCPv6 clients (Debian packages) the netns engine runs
	// beside the simulated ones, each in a namespace of its own on the
	// client link; the reports break their metrics down by kind.
	Real []RealClients
}

// RealClients is one `clients.real` entry: Count real clients of Kind,
// each asking for IA (the simulated clients' IAs unless given).
type RealClients struct {
	Kind  deploy.ClientKind
	Count int
	IA    []IA
	line  int
}

// Line is the entry's line in the scenario file (0 when built in code).
func (r RealClients) Line() int { return r.line }

// RealCount is how many real clients the run starts.
func (c Clients) RealCount() int {
	n := 0
	for _, r := range c.Real {
		n += r.Count
	}
	return n
}

// MaxRealClients bounds clients.real: each is a namespace, a process and
// a capture of its own.
const MaxRealClients = 64

// TotalClients is the number of clients a run may ever start: the
// initial Count plus every join action's Count.
func (s *Scenario) TotalClients() int {
	n := s.Clients.Count
	for _, a := range s.Timeline {
		if a.Kind == Join {
			n += a.Count
		}
	}
	return n
}

// Stateless reports whether the clients ask for no IA at all.
func (c Clients) Stateless() bool { return len(c.IA) == 0 }

// Wants reports whether the clients ask for an IA of type ia.
func (c Clients) Wants(ia IA) bool {
	for _, x := range c.IA {
		if x == ia {
			return true
		}
	}
	return false
}

// ActionKind is what a timeline action does to its target server.
type ActionKind string

// Timeline actions.
const (
	Kill    ActionKind = "kill"    // stop the server abruptly (SIGKILL); its state survives only if the server persists it
	Freeze  ActionKind = "freeze"  // suspend it (SIGSTOP): packets queue, nothing is answered
	Thaw    ActionKind = "thaw"    // resume a frozen server (SIGCONT)
	Restart ActionKind = "restart" // stop it if running and start it again, keeping or wiping its lease state
	Cut     ActionKind = "cut"     // drop every packet to and from the server's link
	Heal    ActionKind = "heal"    // undo a cut or an impairment
	Impair  ActionKind = "impair"  // drop a share of the server's packets and/or delay them

	// Client actions: they take no target.
	Join  ActionKind = "join"  // Count new clients start, spread over Ramp
	Leave ActionKind = "leave" // Count running clients (bound ones first) release (RFC 9915 §18.2.7) and stop
	// Flap takes the clients' link down for Down and up again: every
	// client Confirms its addresses (§18.2.3), Rebinds its prefixes
	// (§18.2.12) or asks for its configuration again once it is back.
	Flap ActionKind = "flap"
	// Occupy puts a host using Address on the link, from At to the end of
	// the run: a client holding it, or given it later, detects the
	// duplicate and Declines it (§18.2.8).
	Occupy ActionKind = "occupy"
)

// ActionKinds lists the valid timeline actions.
var ActionKinds = []ActionKind{Kill, Freeze, Thaw, Restart, Cut, Heal, Impair, Join, Leave, Flap, Occupy}

// ClientAction reports whether k acts on the client population rather than
// on a server (and so takes no target).
func (k ActionKind) ClientAction() bool {
	switch k {
	case Join, Leave, Flap, Occupy:
		return true
	}
	return false
}

// RestartState says whether a restarted server keeps its leases.
type RestartState string

// Restart states.
const (
	Keep RestartState = "keep" // the server comes back with its lease store
	Wipe RestartState = "wipe" // the server comes back with no leases (and fresh allocator state)
)

// RestartStates lists the valid restart states.
var RestartStates = []RestartState{Keep, Wipe}

// Action is one timeline step.
type Action struct {
	At     time.Duration // from the start of the run
	Kind   ActionKind
	Target string        // a server name; "" for client actions
	State  RestartState  // Restart only (default Keep); "" otherwise
	Loss   float64       // Impair only: share of packets dropped, 0..1
	Delay  time.Duration // Impair only: added one-way delay
	Count  int           // Join, Leave: how many clients
	Ramp   time.Duration // Join only: the new clients' starts spread over [At, At+Ramp)
	// Down is Flap's: how long the clients' link stays down (default
	// DefaultFlapDown); 0 otherwise.
	Down time.Duration
	// Address is Occupy's address; zero otherwise.
	Address netip.Addr
	Line    int // line in the scenario file; 0 when built in code
}
