package load

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Exchange is the main exchange kind each started exchange performs.
type Exchange int

const (
	// SolicitAdvertise is Solicit -> Advertise (two messages).
	SolicitAdvertise Exchange = iota
	// FourMessage is Solicit -> Advertise -> Request -> Reply (SARR).
	FourMessage
	// RapidCommit is Solicit with Rapid Commit -> Reply (RFC 9915 §18.2.1).
	RapidCommit
)

// String returns the short name ParseExchange accepts.
func (e Exchange) String() string {
	switch e {
	case SolicitAdvertise:
		return "sa"
	case FourMessage:
		return "sarr"
	case RapidCommit:
		return "rapid"
	}
	return fmt.Sprintf("exchange(%d)", int(e))
}

// ParseExchange parses "sa", "sarr" or "rapid".
func ParseExchange(s string) (Exchange, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sa", "solicit-advertise":
		return SolicitAdvertise, nil
	case "sarr", "four", "four-message":
		return FourMessage, nil
	case "rapid", "rc", "rapid-commit":
		return RapidCommit, nil
	}
	return 0, fmt.Errorf("load: unknown exchange %q (want sa, sarr or rapid)", s)
}

// Set implements pflag.Value.
func (e *Exchange) Set(s string) error {
	x, err := ParseExchange(s)
	if err != nil {
		return err
	}
	*e = x
	return nil
}

// Type implements pflag.Value.
func (*Exchange) Type() string { return "exchange" }

// MarshalText implements encoding.TextMarshaler.
func (e Exchange) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (e *Exchange) UnmarshalText(b []byte) error { return e.Set(string(b)) }

// Config parameterises one Run.
type Config struct {
	Clients  int    // distinct client DUIDs (DUID-LL from a seeded counter), reused round-robin
	Seed     uint64 // seeds the DUID space and the follow-up mix
	Exchange Exchange
	NA, PD   bool // IA_NA, IA_PD or both (neither: IA_NA)
	// After a completed SARR/RC, the fraction of clients that also Renew,
	// Rebind, Release (each its own exchange, own latency histogram).
	Renew, Rebind, Release float64
	// Relay sends Relay-forward (link-address LinkAddr, peer-address the
	// client's EUI-64 link-local address, Interface-ID) by unicast to
	// Server instead of client messages by multicast. Servers answer
	// relays on port 547 (RFC 9915 §7.2), so bind conn to port 547.
	Relay    bool
	LinkAddr netip.Addr
	// Server is the destination: ff02::1:2%Interface:547 by default, or unicast.
	Server netip.AddrPort
	// Interface names the client interface for multicast when Server is
	// unset or has no zone. (A socket bound to [::] with a zone does not
	// keep the zone in its local address, so Run cannot learn it there.)
	Interface string
	Rate      float64       // exchanges started per second, open loop
	Duration  time.Duration // stop starting after this long ...
	Count     int           // ... or after this many exchanges (0: no limit)
	Timeout   time.Duration // an exchange not completed after this is a drop (default 1s)
	Batch     int           // messages per sendmmsg/recvmmsg (default 64)
	// Slots bounds the exchanges in flight (default: enough for
	// Rate*(Timeout+1s), at least 1024, rounded up to a power of two).
	// When every slot is busy a due exchange is counted as Skipped.
	Slots int
}

// KindResult is one message kind's outcome: "solicit", "request",
// "renew", "rebind" or "release".
type KindResult struct {
	Sent, Completed, Dropped, Failed uint64
	Latency                          *hdrhistogram.Histogram // microseconds, completed only
}

// KindStats are the counters of one message kind.
type KindStats struct {
	// Failed counts answers that refused the request: a non-Success
	// Status Code, or a requested IA without an address/prefix or with a
	// zero valid lifetime.
	Sent, Completed, Dropped, Failed uint64
}

// Stats are the generator's counters.
type Stats struct {
	Started    uint64 // main exchanges started
	Completed  uint64 // main exchanges completed
	Dropped    uint64 // main exchanges not completed within Timeout (any step)
	Failed     uint64 // main exchanges the server refused (see KindStats.Failed)
	Abandoned  uint64 // main exchanges in flight when ctx was cancelled
	Malformed  uint64 // datagrams wire rejects as malformed (or truncated by the read)
	Unexpected uint64 // other datagrams matching no exchange in flight, of the wrong message type, or not on wire's fast path
	Skipped    uint64 // exchanges due but not started: no free slot
	SendErrors uint64 // datagrams the kernel refused
	Kinds      map[string]KindStats
}

// Result is the outcome of Run.
type Result struct {
	Config  Config
	Elapsed time.Duration
	Rate    float64                 // completed exchanges per second (of the main kind)
	Drops   float64                 // Dropped / (Started - Abandoned)
	Latency *hdrhistogram.Histogram // microseconds, main exchange kind, completed only
	PerKind map[string]KindResult
	Stats   Stats
}

// Percentile returns the main exchange latency at percentile q (0..100).
func (r *Result) Percentile(q float64) time.Duration {
	if r == nil || r.Latency == nil || r.Latency.TotalCount() == 0 {
		return 0
	}
	return time.Duration(r.Latency.ValueAtQuantile(q)) * time.Microsecond
}

// Max returns the largest main exchange latency.
func (r *Result) Max() time.Duration {
	if r == nil || r.Latency == nil || r.Latency.TotalCount() == 0 {
		return 0
	}
	return time.Duration(r.Latency.Max()) * time.Microsecond
}

// Snapshot is a progress report.
type Snapshot struct {
	Elapsed                     time.Duration
	Started, Completed, Dropped uint64
}

// Histogram bounds: microseconds, 1 µs .. 60 s, 3 significant digits.
const (
	histMin = 1
	histMax = 60_000_000
	histSig = 3
)

// NewHistogram returns an empty latency histogram with the package bounds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMin, histMax, histSig)
}

// Run generates load on conn until Duration or Count is reached (or ctx is
// cancelled), waits up to Timeout per remaining step for the exchanges in
// flight, and returns the result. progress, if not nil, is called about
// every 250 ms from a goroutine of Run's, and once at the end.
//
// conn is a UDP socket bound to port 546 (547 in Relay mode) on the
// client interface; Run sets its multicast interface (from Server's zone,
// or conn's), raises its kernel buffers, and uses read deadlines while
// it runs. Configuration errors wrap ErrConfig. On cancellation Run
// returns the partial result with ctx.Err(); exchanges then in flight are
// counted as Abandoned.
func Run(ctx context.Context, conn *net.UDPConn, cfg Config, progress func(Snapshot)) (*Result, error) {
	return run(ctx, conn, cfg, progress)
}
