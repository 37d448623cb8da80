package bench

import (
	"errors"
	"fmt"
	"io"
	"time"

	"d6lab/clientsim/load"
	"d6lab/deploy"
	"d6lab/server/daemon"
	"d6lab/server/lease"
)

// Options describe one benchmark. Zero fields take the defaults that
// SetDefaults fills.
type Options struct {
	// Server is the kind of server to measure: one of server/daemon's
	// kinds, or Echo (the lab's ceiling: an answer per message, no DHCP
	// work).
	Server deploy.Kind
	// Rate is the offered rate in exchanges/s of a fixed-rate run; with
	// Search it is the first step's rate (0: DefaultSearch's start).
	Rate float64
	// Search looks for the highest rate with drops <= MaxDrops and p99
	// latency <= MaxP99 (and, from the same steps, the highest with drops
	// <= MaxDrops alone).
	Search bool
	// Duration is the length of a fixed-rate run (default 10 s); Step that
	// of each search step (default 5 s); Settle the pause before each run
	// after the first (default 1 s), so the server drains what the
	// previous run left queued.
	Duration, Step, Settle time.Duration
	// Clients is the number of distinct client DUIDs (default 10,000).
	Clients int
	// Exchange is the main exchange (default: the four-message one).
	Exchange load.Exchange
	// NA, PD: which IAs every exchange asks for (neither: IA_NA).
	NA, PD bool
	// Renew, Rebind, Release are the fractions of completed exchanges
	// followed by that exchange (load.Config).
	Renew, Rebind, Release float64
	// Relay makes the generator act as a relay agent (Relay-forward by
	// unicast to the server), and perfdhcp too (-A 1).
	Relay bool
	// Vs is "" or "perfdhcp": run perfdhcp against the same server too.
	Vs string
	// LeaseSync is what the builtin server's Replies wait for (its
	// durable leases: lease.OnDisk by default, or lease.InKernel, Kea's
	// memfile's durability). Builtin only.
	LeaseSync lease.Durability
	// MaxDrops is the search's pass bound on the drop fraction (default
	// 0.001, i.e. 0.1 %).
	MaxDrops float64
	// MaxP99 is the search's pass bound on the p99 latency of the main
	// exchange (default 10 ms): a rate reached only by queueing requests
	// for hundreds of milliseconds in a socket buffer does not pass.
	MaxP99 time.Duration
	// NoRetry turns off the second measurement of a search step that
	// failed on p99 alone (see the package doc).
	NoRetry bool
	// NoOffload starts the builtin server and the echo without their UDP
	// offloads (`d6lab serve --offload`, on by default here because the
	// generator's clients share one socket, as clients behind one relay
	// share its address): the path of a server that answers each host at
	// its own address, where a run of answers is one datagram long.
	NoOffload bool
	// Timeout is how long an exchange may take before it is a drop, for
	// the generator and for perfdhcp (-d): default 1 s, perfdhcp's own.
	Timeout time.Duration
	// Seed seeds the generator's DUID space and mix, and perfdhcp (-s).
	Seed uint64
	// SearchConfig overrides the search bounds (zero: DefaultSearch, with
	// Rate as the start when set).
	SearchConfig SearchConfig

	// OutDir receives the server's configuration, lease file and log
	// (OutDir/server/) and perfdhcp's output (OutDir/perfdhcp/); "" uses a
	// temporary directory removed at the end.
	OutDir string
	// Binary is the d6lab executable for the builtin server (default: the
	// running executable). Perfdhcp is perfdhcp's path (default
	// PerfdhcpPath).
	Binary, Perfdhcp string
	// Prefix is the lab's run prefix (default: netns.NewPrefix()).
	Prefix string
	// ServerCPUProfile, for the builtin server only, is where the server
	// writes a CPU profile of its run (`d6lab serve --cpuprofile`; "":
	// none), stopped gracefully at the end to write it; with Vs the
	// restarted server's profile replaces the first one's. It is the
	// socket path's half of the profile the binary is optimized for
	// (make pgo).
	ServerCPUProfile string
	// Log receives a line per phase and per step; nil: silent. Terminal
	// also draws a progress bar redrawn in place.
	Log      io.Writer
	Terminal bool
}

// Defaults used by SetDefaults.
const (
	DefaultDuration = 10 * time.Second
	DefaultStep     = 5 * time.Second
	DefaultSettle   = time.Second
	DefaultClients  = 10_000
	DefaultMaxDrops = 0.001
	DefaultMaxP99   = 10 * time.Millisecond
	DefaultTimeout  = time.Second
)

// SetDefaults fills the zero fields.
func (o *Options) SetDefaults() {
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Step == 0 {
		o.Step = DefaultStep
	}
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.Clients == 0 {
		o.Clients = DefaultClients
	}
	if o.MaxDrops == 0 {
		o.MaxDrops = DefaultMaxDrops
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxP99 == 0 {
		o.MaxP99 = DefaultMaxP99
	}
	if o.Perfdhcp == "" {
		o.Perfdhcp = PerfdhcpPath
	}
	if !o.NA && !o.PD {
		o.NA = true
	}
	if o.SearchConfig == (SearchConfig{}) {
		o.SearchConfig = DefaultSearch()
		if o.Rate > 0 {
			o.SearchConfig.Start = o.Rate
			o.SearchConfig.MinRate = min(o.SearchConfig.MinRate, o.Rate)
			o.SearchConfig.MaxRate = max(o.SearchConfig.MaxRate, o.Rate)
		}
	}
}

// ErrBadOptions is wrapped by every Validate error.
var ErrBadOptions = errors.New("bench: invalid options")

// OptionError names the option at fault.
type OptionError struct {
	Option string
	Msg    string
}

func (e *OptionError) Error() string { return e.Option + ": " + e.Msg }
func (e *OptionError) Unwrap() error { return ErrBadOptions }

func optErr(opt, format string, a ...any) error {
	return &OptionError{Option: opt, Msg: fmt.Sprintf(format, a...)}
}

// Validate checks the options (after SetDefaults) without touching the
// system: no namespace, file or process is made.
func (o Options) Validate() error {
	if o.Server != Echo {
		if _, err := daemon.Lookup(o.Server); err != nil {
			return optErr("server", "%v (or %s, the lab's ceiling)", err, Echo)
		}
	}
	switch {
	case !o.Search && o.Rate <= 0:
		return optErr("rate", "give a rate in exchanges/s (> 0), or search for the highest one")
	case o.Rate < 0 || o.Rate > 2_000_000:
		return optErr("rate", "%g: want 1..2000000 exchanges/s", o.Rate)
	case o.Rate > 0 && o.Rate < 1:
		return optErr("rate", "%g: want at least 1 exchange/s", o.Rate)
	}
	if o.ServerCPUProfile != "" && o.Server != deploy.Builtin {
		return optErr("server-cpuprofile", "only the builtin server writes one, not %s", o.Server)
	}
	if o.Duration < time.Second || o.Duration > time.Hour {
		return optErr("duration", "%v: want 1s..1h", o.Duration)
	}
	if o.Step < time.Second || o.Step > 10*time.Minute {
		return optErr("step", "%v: want 1s..10m", o.Step)
	}
	if o.Settle < 0 || o.Settle > time.Minute {
		return optErr("settle", "%v: want 0..1m", o.Settle)
	}
	if o.Clients < 1 || o.Clients > 1_000_000 {
		return optErr("clients", "%d: want 1..1000000", o.Clients)
	}
	switch o.Exchange {
	case load.SolicitAdvertise, load.FourMessage, load.RapidCommit:
	default:
		return optErr("exchange", "%v: want sa, sarr or rapid", o.Exchange)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"renew", o.Renew}, {"rebind", o.Rebind}, {"release", o.Release}} {
		if f.v < 0 || f.v > 1 {
			return optErr(f.name, "%g: want a fraction in 0..1", f.v)
		}
		if f.v > 0 && o.Exchange == load.SolicitAdvertise {
			return optErr(f.name, "a Solicit-Advertise exchange binds nothing to %s; use --exchange sarr or rapid", f.name)
		}
	}
	if o.NoOffload && o.Server != deploy.Builtin && o.Server != Echo {
		return optErr("no-offload", "only the builtin server's and the echo's offloads are set by d6lab (%s sends and reads its own way)", o.Server)
	}
	if o.LeaseSync != lease.OnDisk && o.Server != deploy.Builtin {
		return optErr("leases-sync", "%s: only the builtin server's durability is set by d6lab (%s keeps leases its own way)", o.LeaseSync, o.Server)
	}
	switch o.Vs {
	case "":
	case "perfdhcp":
		if o.Exchange == load.RapidCommit {
			// Measured: perfdhcp 2.2 -i -c stops at the first Reply with
			// "Packets exchange not specified".
			return optErr("vs", "perfdhcp 2.2 cannot run Rapid Commit exchanges (it stops at the first Reply); use --exchange sarr or sa")
		}
	default:
		return optErr("vs", "%q: want perfdhcp", o.Vs)
	}
	if o.MaxDrops < 0 || o.MaxDrops >= 1 {
		return optErr("max-drops", "%g: want a fraction in 0..1", o.MaxDrops)
	}
	if o.Timeout < 10*time.Millisecond || o.Timeout > time.Minute {
		return optErr("timeout", "%v: want 10ms..1m", o.Timeout)
	}
	if o.MaxP99 < 100*time.Microsecond || o.MaxP99 > o.Timeout {
		return optErr("max-p99", "%v: want 100µs..%v (the timeout: slower exchanges are drops)", o.MaxP99, o.Timeout)
	}
	if o.Search {
		if err := o.SearchConfig.Validate(); err != nil {
			return optErr("search", "%v", err)
		}
	}
	return nil
}

// leasesKept says how durable a binding is when the server answers for
// it, for the kinds whose behaviour is known: the builtin server's
// LeaseSync ("fdatasync" or "write"); Kea's memfile "write" (strace of
// kea-dhcp6 2.2 under d6lab bench: a write(2) per lease, no fsync or
// fdatasync); the echo "none". Other kinds: "".
func leasesKept(o Options) string {
	switch o.Server {
	case deploy.Builtin:
		return o.LeaseSync.String()
	case deploy.Kea:
		return lease.InKernel.String()
	case Echo:
		return "none"
	}
	return ""
}
