package bench

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"d6lab/clientsim/load"
)

// PerfdhcpPath is where Debian's kea-admin package installs perfdhcp.
const PerfdhcpPath = "/usr/sbin/perfdhcp"

// PerfdhcpExchange is one "***Statistics for: NAME***" block of perfdhcp's
// final report (SOLICIT-ADVERTISE, REQUEST-REPLY, RENEW-REPLY,
// RELEASE-REPLY). Delays are perfdhcp's, in milliseconds.
type PerfdhcpExchange struct {
	Name      string  `json:"name"`
	Sent      int64   `json:"sent"`
	Received  int64   `json:"received"`
	Drops     int64   `json:"drops"`
	Orphans   int64   `json:"orphans"`
	Rejected  int64   `json:"rejected_leases"`
	NonUnique int64   `json:"non_unique_addresses"`
	MinMs     float64 `json:"min_ms"`
	AvgMs     float64 `json:"avg_ms"`
	MaxMs     float64 `json:"max_ms"`
	StdMs     float64 `json:"std_ms"`
}

// PerfdhcpOutput is perfdhcp's final report, parsed.
type PerfdhcpOutput struct {
	// Rate is the "Rate:" line: completed exchanges per second (4-way
	// exchanges, or Solicit-Advertise with -i); Expected the rate asked.
	Rate, Expected float64
	Malformed      int64
	// Exchanges in the order perfdhcp printed them; the first is the one
	// every exchange starts with (SOLICIT-ADVERTISE).
	Exchanges []PerfdhcpExchange
}

// ErrPerfdhcpOutput is returned when perfdhcp's output has no final report
// (it failed to start, or was killed before it printed one).
var ErrPerfdhcpOutput = errors.New("bench: perfdhcp printed no report")

var (
	perfBlockRE = regexp.MustCompile(`^\*\*\*(?:Statistics for: )?(.+?)\*\*\*$`)
	perfRateRE  = regexp.MustCompile(`^Rate:\s*([0-9.eE+-]+)\s.*expected rate:\s*([0-9.eE+-]+)`)
)

// ParsePerfdhcp reads perfdhcp's final report (the "Rate:" line and the
// per-exchange statistics blocks) from its output.
func ParsePerfdhcp(out string) (*PerfdhcpOutput, error) {
	res := &PerfdhcpOutput{Malformed: -1}
	rate := false
	var cur *PerfdhcpExchange
	block := ""
	// seen counts, per exchange, the lines every complete block has:
	// sent, received, drops and avg delay.
	seen := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := perfBlockRE.FindStringSubmatch(line); m != nil {
			block, cur = m[1], nil
			if strings.HasPrefix(line, "***Statistics for: ") {
				res.Exchanges = append(res.Exchanges, PerfdhcpExchange{Name: block})
				cur = &res.Exchanges[len(res.Exchanges)-1]
			}
			continue
		}
		if m := perfRateRE.FindStringSubmatch(line); m != nil {
			var err1, err2 error
			res.Rate, err1 = strconv.ParseFloat(m[1], 64)
			res.Expected, err2 = strconv.ParseFloat(m[2], 64)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("%w: bad rate line %q: %v", ErrPerfdhcpOutput, line, err)
			}
			rate = true
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if block == "Malformed Packets" && k == "Malformed packets" {
			n, err := firstInt(v)
			if err != nil {
				return nil, fmt.Errorf("%w: %q: %v", ErrPerfdhcpOutput, line, err)
			}
			res.Malformed = n
			continue
		}
		if cur == nil {
			continue
		}
		var err error
		switch k {
		case "sent packets", "received packets", "drops", "avg delay":
			seen[cur.Name]++
		}
		switch k {
		case "sent packets":
			cur.Sent, err = firstInt(v)
		case "received packets":
			cur.Received, err = firstInt(v)
		case "drops":
			cur.Drops, err = firstInt(v)
		case "orphans":
			cur.Orphans, err = firstInt(v)
		case "rejected leases":
			cur.Rejected, err = firstInt(v)
		case "non unique addresses":
			cur.NonUnique, err = firstInt(v)
		case "min delay":
			cur.MinMs, err = firstFloat(v)
		case "avg delay":
			cur.AvgMs, err = firstFloat(v)
		case "max delay":
			cur.MaxMs, err = firstFloat(v)
		case "std deviation":
			cur.StdMs, err = firstFloat(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %q: %v", ErrPerfdhcpOutput, cur.Name, line, err)
		}
	}
	if !rate || len(res.Exchanges) == 0 {
		return nil, fmt.Errorf("%w:\n%s", ErrPerfdhcpOutput, tail(out, 600))
	}
	for _, e := range res.Exchanges {
		if seen[e.Name] != 4 {
			return nil, fmt.Errorf("%w: %s statistics incomplete:\n%s", ErrPerfdhcpOutput, e.Name, tail(out, 600))
		}
	}
	return res, nil
}

func firstInt(v string) (int64, error) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, errors.New("no value")
	}
	return strconv.ParseInt(f[0], 10, 64)
}

func firstFloat(v string) (float64, error) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, errors.New("no value")
	}
	x, err := strconv.ParseFloat(f[0], 64)
	if err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
		x = 0 // perfdhcp prints nan for an exchange that never completed
	}
	return x, err
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// Started is the number of exchanges perfdhcp started: the packets sent in
// its first exchange (Solicits).
func (p *PerfdhcpOutput) Started() int64 {
	if len(p.Exchanges) == 0 {
		return 0
	}
	return p.Exchanges[0].Sent
}

// Drops is the fraction of started exchanges that perfdhcp saw lost in any
// of their message pairs: the sum of the blocks' drops over the Solicits
// sent. Renew and Release mixes are left out (they are exchanges of their
// own, started on top).
func (p *PerfdhcpOutput) Drops() float64 {
	started := p.Started()
	if started == 0 {
		return 0
	}
	var drops int64
	for _, e := range p.Exchanges {
		if e.Name == "SOLICIT-ADVERTISE" || e.Name == "REQUEST-REPLY" {
			drops += e.Drops
		}
	}
	return math.Min(float64(drops)/float64(started), 1)
}

// AvgMs is the mean latency of a whole exchange as perfdhcp measured it:
// the sum of its message pairs' average delays (Solicit-Advertise, plus
// Request-Reply in the four-message exchange).
func (p *PerfdhcpOutput) AvgMs() float64 {
	var sum float64
	for _, e := range p.Exchanges {
		if e.Name == "SOLICIT-ADVERTISE" || e.Name == "REQUEST-REPLY" {
			sum += e.AvgMs
		}
	}
	return sum
}

// PerfdhcpArgs are the parameters of one perfdhcp run.
type PerfdhcpArgs struct {
	IfName   string
	Clients  int
	Rate     float64
	Period   time.Duration // rounded up to whole seconds (perfdhcp's -p)
	Exchange load.Exchange
	NA, PD   bool
	// Renew and Release are fractions of Rate, sent as perfdhcp's -f and
	// -F rates. perfdhcp cannot Rebind.
	Renew, Release float64
	// Relay makes perfdhcp simulate one relay agent (-A 1) and send to
	// Server by unicast.
	Relay  bool
	Server netip.Addr
	Seed   uint64
	// DropTime is perfdhcp's -d: how long before an answer counts as lost.
	DropTime time.Duration
}

// Argv is the perfdhcp command line: -6 -l IF -R clients -r rate -p secs,
// -e address-only|prefix-only|address-and-prefix for the four-message
// exchange (perfdhcp's default), -i for Solicit-Advertise only, -i -c for
// Rapid Commit, -f/-F for Renew/Release rates, -A 1 for a relay.
func (a PerfdhcpArgs) Argv(bin string) []string {
	secs := int(math.Ceil(a.Period.Seconds()))
	argv := []string{bin, "-6", "-l", a.IfName,
		"-R", strconv.Itoa(a.Clients),
		"-r", strconv.Itoa(int(math.Round(a.Rate))),
		"-p", strconv.Itoa(max(secs, 1)),
		"-s", strconv.FormatUint(a.Seed, 10),
	}
	if a.DropTime > 0 {
		// -d: an answer later than this is lost; -W: after the period,
		// wait as long for the answers still in flight, as the load
		// generator does, or they would all count as drops (the more of
		// them the longer the server takes, which is not what a drop
		// measures).
		argv = append(argv, "-d", strconv.FormatFloat(a.DropTime.Seconds(), 'f', -1, 64),
			"-W", strconv.FormatInt(a.DropTime.Microseconds(), 10))
	}
	switch a.Exchange {
	case load.SolicitAdvertise, load.RapidCommit:
		// perfdhcp 2.2 runs -i with -e address-only into "Packets exchange
		// not specified", and -c only with -i: -e only when a PD is asked.
		argv = append(argv, "-i")
		if a.Exchange == load.RapidCommit {
			argv = append(argv, "-c")
		}
		if a.PD {
			argv = append(argv, "-e", leaseType(a.NA, a.PD))
		}
	default:
		argv = append(argv, "-e", leaseType(a.NA, a.PD))
	}
	if n := int(math.Round(a.Renew * a.Rate)); n > 0 && a.Exchange != load.SolicitAdvertise {
		argv = append(argv, "-f", strconv.Itoa(n))
	}
	if n := int(math.Round(a.Release * a.Rate)); n > 0 && a.Exchange != load.SolicitAdvertise {
		argv = append(argv, "-F", strconv.Itoa(n))
	}
	if a.Relay {
		argv = append(argv, "-A", "1")
	}
	if a.Server.IsValid() {
		argv = append(argv, a.Server.String())
	}
	return argv
}

func leaseType(na, pd bool) string {
	switch {
	case pd && na:
		return "address-and-prefix"
	case pd:
		return "prefix-only"
	}
	return "address-only"
}
