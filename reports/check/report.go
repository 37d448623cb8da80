package check

import (
	"time"
)

// Report is what Analyze finds in one history. Its JSON names are the
// metric names scenarios bound in `expect:` (see Evaluate).
type Report struct {
	Scenario  string    `json:"scenario"`
	Model     string    `json:"model"`
	Engine    string    `json:"engine"`
	Timescale float64   `json:"timescale"`
	Profile   string    `json:"profile,omitempty"` // the simulated clients' profile; "" for rfc
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended"`
	DurationS float64   `json:"duration_s"`
	Events    int       `json:"events"` // events analysed (up to End)

	// Servers is the lab's server list, kept so that Lab can rebuild the
	// report from history.jsonl without re-running.
	Servers []ServerInfo `json:"servers"`

	Clients int `json:"clients"` // distinct clients seen
	Bound   int `json:"bound"`   // clients holding a valid binding at End

	// The failover metrics. Those that are shares or times of affected
	// clients are nil (JSON null, "n/a" in tables) when no client was
	// affected: they are unknown, never 0 % failure or 100 % continuity,
	// and a bound on them fails saying so (Evaluate).
	Fault            *Fault       `json:"fault,omitempty"` // nil: the history has no fault
	Affected         int          `json:"affected"`
	Rebind           Rebind       `json:"rebind"`
	ReacquireS       *Percentiles `json:"reacquire_s"`        // recovered clients; nil: none affected
	OutageS          *Percentiles `json:"outage_s"`           // recovered clients, tentative time included; nil: none affected
	OutageTentativeS *Percentiles `json:"outage_tentative_s"` // the tentative (DAD) part of each outage; nil: none affected
	Continuity       *float64     `json:"continuity"`         // 0..1; nil: none affected
	Unrecovered      int          `json:"unrecovered"`
	// PerIA holds the failover metrics per IA type of the affected leases,
	// always with keys "na" and "pd" (their figures nil when no lease of
	// that type was affected).
	PerIA map[string]IAFailover `json:"per_ia"`

	Duplicates   Duplicates   `json:"duplicates"`
	Conflicts    Conflicts    `json:"conflicts"` // addresses caught by DAD (conflicts.go)
	BindingShare BindingShare `json:"binding_share"`

	PD        PD        `json:"pd"`        // prefix delegation's pool cost (pd.go)
	Stateless Stateless `json:"stateless"` // stateless clients' configuration outage (stateless.go)
	Life      Life      `json:"life"`      // releases, declines, confirms (life.go)
	Acquire   Acquire   `json:"acquire"`   // first bindings: how fast (acquire.go)
	// Load is the messages per second the servers received, steady and
	// in the failover burst (load.go); nil when the engine sampled none
	// (the netns engine does not).
	Load *Load `json:"load,omitempty"`

	// LeaseFiles and ServerState compare the servers' own lease files
	// with the clients' history at End (state.go); empty when the engine
	// read no lease file.
	LeaseFiles  LeaseFiles    `json:"lease_files"`
	ServerState []ServerState `json:"server_state,omitempty"`

	// DNS compares the lab's DNS zones with the clients' bindings
	// (dns.go); nil when the history has no zone transfer (no dns:).
	// Leasequery is what the lab's prober heard (leasequery.go); nil when
	// the history has no prober round (no leasequery:).
	DNS        *DNSReport        `json:"dns,omitempty"`
	Leasequery *LeasequeryReport `json:"leasequery,omitempty"`

	// Usage is the CPU time and peak memory of the run's processes
	// ("clients" and each server), as the engine measured them.
	Usage map[string]Usage `json:"usage,omitempty"`

	// Gaps are the ways the real client kind the simulated clients' profile
	// models behaves that the profile does not model, which this run met,
	// each sized (gaps.go); none for the rfc profile.
	Gaps []GapReport `json:"gaps,omitempty"`

	// ByKind breaks the client metrics down by client kind when the run
	// had real clients (history.ClientKind events): the simulated
	// population first, then each real kind by name; nil otherwise.
	ByKind []KindReport `json:"by_kind,omitempty"`

	Expect []ExpectResult `json:"expect"`
}

// Lab returns the lab description the report was made with, so that
// Analyze(history, r.Lab()) rebuilds it from a saved history.
func (r *Report) Lab() Lab {
	return Lab{
		Scenario:  r.Scenario,
		Model:     r.Model,
		Engine:    r.Engine,
		Timescale: r.Timescale,
		Profile:   r.Profile,
		Servers:   append([]ServerInfo(nil), r.Servers...),
		Start:     r.Started,
		End:       r.Ended,
		Step:      time.Duration(r.BindingShare.StepS * float64(time.Second)),
		Usage:     r.Usage,
		Gaps:      r.gapDecls(),
	}
}

// gapDecls are the gaps the report sized, as a Lab declares them.
func (r *Report) gapDecls() []Gap {
	var out []Gap
	for _, g := range r.Gaps {
		out = append(out, g.Gap)
	}
	return out
}

// Fault is the event the failover metrics are measured from.
type Fault struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`    // server_killed | server_frozen | link_cut
	Servers []string  `json:"servers"` // names of the servers it hit
}

// Rebind counts the first outcome of each affected client after the fault
// (see the package doc). Extended + Renumbered + Refused + Silent +
// Released + Undecided == Report.Affected.
type Rebind struct {
	Extended          int `json:"extended"`           // kept its address: ExtendedSurvivor + ExtendedRecovered
	ExtendedSurvivor  int `json:"extended_survivor"`  // extended by a server the fault did not hit
	ExtendedRecovered int `json:"extended_recovered"` // extended by a faulted server once it was back
	Renumbered        int `json:"renumbered"`
	Refused           int `json:"refused"` // all causes (NotOnLink included)
	RefusedNoBinding  int `json:"refused_nobinding"`
	RefusedZero       int `json:"refused_zero"`
	Silent            int `json:"silent"`
	Released          int `json:"released"`  // gave the lease up itself (Release, Decline) before any outcome
	Undecided         int `json:"undecided"` // no outcome by End
	// NoBinding counts the affected clients that got a NoBinding answer
	// after the fault (informational: the client keeps its lease and
	// sends a Request; its outcome is whatever follows).
	NoBinding int `json:"nobinding"`
	// FailureRate is (decided - extended) / decided, decided = affected -
	// undecided - released: the share of the decided clients that did
	// not keep their address. nil when no client was decided.
	FailureRate *float64 `json:"failure_rate"`
}

// Decided is the number of affected clients with a rebind outcome.
func (rb Rebind) Decided() int {
	return rb.Extended + rb.Renumbered + rb.Refused + rb.Silent
}

// IAFailover is the failover of the affected leases of one IA type: the
// clients with such a lease, when each held a usable lease of that type
// from a live server again, its outage, and whether it was one of the
// leases held at the fault.
type IAFailover struct {
	Affected    int          `json:"affected"`
	ReacquireS  *Percentiles `json:"reacquire_s"` // nil: none affected
	OutageS     *Percentiles `json:"outage_s"`    // nil: none affected
	Unrecovered int          `json:"unrecovered"`
	Continuity  *float64     `json:"continuity"` // nil: none affected
}

// Percentiles summarises a distribution in seconds (HdrHistogram, recorded
// in milliseconds with 4 significant digits; percentiles report the lowest
// value of their bucket, Max is exact).
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Duplicates is the duplicate-assignment verdict with its evidence.
type Duplicates struct {
	Verdict   Verdict    `json:"verdict"`   // ok | violated | unknown
	Addresses int        `json:"addresses"` // distinct leases held twice (the more specific one for prefixes)
	Pairs     int        `json:"pairs"`     // distinct client pairs
	OverlapS  float64    `json:"overlap_s"` // total over all overlapping interval pairs
	Evidence  []Evidence `json:"evidence"`  // the first EvidenceCap overlaps; the counts cover all
	Truncated bool       `json:"truncated,omitempty"`
}

// EvidenceCap bounds Duplicates.Evidence.
const EvidenceCap = 100

// Evidence is one overlap of two clients' intervals.
type Evidence struct {
	Address  string    `json:"address"`          // the lease (bare address for a /128)
	Within   string    `json:"within,omitempty"` // the other client's enclosing prefix, when different
	ClientA  int       `json:"client_a"`
	ClientB  int       `json:"client_b"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	OverlapS float64   `json:"overlap_s"`
	ServerA  string    `json:"server_a"` // granting server of each side at From
	ServerB  string    `json:"server_b"`
}

// BindingShare is the number of valid bindings per server over time.
type BindingShare struct {
	StepS  float64          `json:"step_s"`
	AtS    []float64        `json:"at_s"`   // sample times, seconds since Started
	Series map[string][]int `json:"series"` // server name -> bindings at each sample
	Last   map[string]int   `json:"last"`   // server name -> bindings still valid at End
}

// ExpectResult is one evaluated bound.
type ExpectResult struct {
	Name  string  `json:"name"`  // the metric path, e.g. rebind.failure_rate
	Bound string  `json:"bound"` // as written, e.g. "<= 0.05"
	Value float64 `json:"value"`
	OK    bool    `json:"ok"`
	Error string  `json:"error,omitempty"` // the metric could not be read
	// Unknown: the metric exists but is unknown in this run (null: no
	// client was affected); the bound fails and Error says why.
	Unknown bool `json:"unknown,omitempty"`
}
