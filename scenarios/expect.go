package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"d6lab/deploy"
)

// MetricPaths lists the JSON paths of a run report that an `expect:` block
// may name. The reports package produces exactly these (see README.md
// "Reports" field table for their definitions; sim/metrics_test.go keeps
// every path readable in a real report); durations are in seconds, shares in
// 0..1, the rest are counts. "scenario" and "model" are text and cannot
// carry a numeric bound.
var MetricPaths = []string{
	"scenario",                  // scenario name (text)
	"model",                     // deployment model (text)
	"clients",                   // clients in the run
	"affected",                  // clients whose binding was last granted/extended by a faulted server
	"rebind.extended",           // affected clients that kept their address
	"rebind.extended_survivor",  // ... extended by a server the fault did not hit
	"rebind.extended_recovered", // ... extended by the faulted server once it was back
	"rebind.renumbered",         // ... that got a new address in the Rebind's Reply
	"rebind.refused",            // ... that got NoBinding or zero lifetimes and no new address
	"rebind.refused_nobinding",
	"rebind.refused_zero",
	"rebind.silent",          // ... that got no answer before expiry
	"rebind.released",        // ... that released or declined the lease before any outcome
	"rebind.undecided",       // ... with no outcome by the end
	"rebind.nobinding",       // ... that got a NoBinding answer (and kept the lease, RFC 9915 §18.2.10.1)
	"rebind.failure_rate",    // share of decided affected clients whose address was not extended; unknown when none
	"reacquire_s.p50",        // seconds from the fault to holding a usable binding of every affected IA type from a live server
	"reacquire_s.p95",        //
	"reacquire_s.p99",        //
	"reacquire_s.max",        //
	"outage_s.p50",           // seconds of that time with no usable lease of an affected type (tentative counts as none)
	"outage_s.p95",           //
	"outage_s.p99",           //
	"outage_s.max",           //
	"outage_tentative_s.p50", // the part of the outage spent waiting on DAD
	"outage_tentative_s.p99",
	"outage_tentative_s.max",
	"continuity", // share of affected clients that kept their address across the failover
	"per_ia.na.affected", "per_ia.na.reacquire_s.p50", "per_ia.na.reacquire_s.p99", "per_ia.na.reacquire_s.max",
	"per_ia.na.outage_s.p50", "per_ia.na.outage_s.p99", "per_ia.na.outage_s.max", "per_ia.na.unrecovered", "per_ia.na.continuity",
	"per_ia.pd.affected", "per_ia.pd.reacquire_s.p50", "per_ia.pd.reacquire_s.p99", "per_ia.pd.reacquire_s.max",
	"per_ia.pd.outage_s.p50", "per_ia.pd.outage_s.p99", "per_ia.pd.outage_s.max", "per_ia.pd.unrecovered", "per_ia.pd.continuity",
	"duplicates.addresses",  // addresses used by two clients at once
	"duplicates.pairs",      // client pairs involved
	"duplicates.overlap_s",  // total seconds of overlap
	"conflicts.count",       // addresses caught by duplicate address detection, declined or kept
	"conflicts.kept",        // those the client kept, unusable, instead of declining (clients.profile's dad_failure: keep, readd)
	"conflicts.addresses",   // distinct such addresses
	"conflicts.pairs",       // distinct (client, holder) pairs
	"conflicts.delay_s.p50", // per conflict: seconds from the grant to a usable address again
	"conflicts.delay_s.p99",
	"conflicts.delay_s.max",
	"conflicts.unrecovered", // conflicts after which the client never held a usable address again
	"unrecovered",           // affected clients that never held a valid binding again
	"bound",                 // clients holding a valid binding at the end of the run

	"pd.pool_prefixes",           // distinct delegable prefixes configured across the servers
	"pd.clients",                 // clients that asked for a prefix (IA_PD)
	"pd.delegated_peak",          // most prefixes delegated at one instant
	"pd.pool_per_client",         // pd.pool_prefixes / pd.clients: PD space spent per client
	"pd.survivor_share",          // smallest server's PD pool / pd.clients: >= 1 when any one server can serve everyone
	"pd.pool_use",                // pd.delegated_peak / pd.pool_prefixes
	"stateless.clients",          // clients configured by Information-request
	"stateless.refreshes",        // refresh times that fell due in the run
	"stateless.refresh_failures", // ... not answered within the tolerance (check.StatelessTolerance)
	"stateless.affected",         // stateless clients with at least one refresh failure
	"stateless.outage_s.p50",     // per affected client: seconds past its refresh times without a Reply
	"stateless.outage_s.p95",     //
	"stateless.outage_s.p99",     //
	"stateless.outage_s.max",     //
	"life.released",              // leases released (clients leaving)
	"life.declined",              // leases declined: another host uses the address
	"life.confirmed",             // Confirms answered Success
	"life.notonlink",             // Confirms answered NotOnLink
	"life.dropped",               // addresses a client took off its interface while holding the lease (dhcpcd at carrier loss)
	"life.dropped_s.p50",         // per drop: seconds until the address was usable again
	"life.dropped_s.p99",         //
	"life.dropped_s.max",         //
	"life.unrestored",            // drops not usable again before the lease or the run ended
	"acquire.bind_s.p50",         // first Solicit to first binding, per client
	"acquire.bind_s.p95",
	"acquire.bind_s.p99",
	"acquire.bind_s.max",
	"acquire.last_s",      // when the last first binding came, since the run started
	"acquire.never",       // clients that solicited and never bound
	"lease_files.agree",   // leases in the servers' files that clients hold
	"lease_files.missing", // leases clients hold that their server's file lacks
	"lease_files.stale",   // unexpired bindings in a file that no client holds
	// the engines' server load samples (both engines; README's `load` field)
	"load.steady_mps", // all servers' messages/s from the last binding before the fault to the fault
	"load.peak_mps",   // the most messages all servers received in one second from the fault on

	// with dns: (unknown without): the zones as last transferred against the clients' bindings
	"dns.records",          // AAAA, PTR and DHCID records in the zones at the end
	"dns.aaaa",             //
	"dns.ptr",              //
	"dns.names",            // client names with an AAAA at the end
	"dns.multi",            // ... with more than one (RFC 6853 §7: which lease is active?)
	"dns.abandoned",        // AAAA and PTR records naming an address no client holds at the end
	"dns.abandoned_aaaa",   //
	"dns.abandoned_ptr",    //
	"dns.abandoned_max",    // most abandoned records at one sample
	"dns.stale_at_end",     // clients whose name's AAAA set differs from the addresses they hold at the end
	"dns.converge_s.p50",   // per affected client: seconds from the fault until its records settled on its binding (sample step resolution)
	"dns.converge_s.p95",   //
	"dns.converge_s.p99",   //
	"dns.converge_s.max",   //
	"dns.unconverged",      // affected clients whose records did not match at the last sample
	"dns.conflicts",        // updates refused by DHCID (RFC 4703 §5.3.2)
	"dns.server_died",      // seconds since the start when the DNS server died; unknown when it did not
	"dns.transfers",        // zone transfers that worked
	"dns.failed_transfers", // ... and that did not
	// with leasequery: (unknown without)
	"leasequery.rounds",      // prober rounds
	"leasequery.asked",       // queries (round, server, client)
	"leasequery.bound",       // ... answered with a lease
	"leasequery.none",        // ... answered: no binding
	"leasequery.no_answer",   // ... unanswered or failed
	"leasequery.sampled",     // clients asked about
	"leasequery.stale",       // leases named that the client no longer held
	"leasequery.gap_s.p50",   // per sampled affected client: longest time no live server could say where it is bound
	"leasequery.gap_s.p95",   //
	"leasequery.gap_s.p99",   //
	"leasequery.gap_s.max",   //
	"leasequery.gap_clients", // sampled affected clients with a gap
}

// KindMetrics are the metrics of Report.ByKind an `expect:` may bound as
// by_kind.KIND.METRIC, KIND being "simulated" or a real client kind: the
// same definitions over that kind's clients alone.
var KindMetrics = []string{
	"clients", "bound", "affected", "rebind.extended", "rebind.renumbered", "rebind.silent",
	"rebind.failure_rate", "reacquire_s.p50", "reacquire_s.p99", "reacquire_s.max",
	"outage_s.p50", "outage_s.p99", "outage_s.max", "continuity", "unrecovered", "conflicts",
	"acquire.bind_s.p50", "acquire.bind_s.p99", "acquire.never", "dropped", "dropped_s.p50",
}

func init() {
	for _, k := range append([]string{"simulated"}, names(deploy.ClientKinds)...) {
		for _, m := range KindMetrics {
			MetricPaths = append(MetricPaths, "by_kind."+k+"."+m)
		}
	}
}

// textMetrics are the MetricPaths that are not numbers.
var textMetrics = []string{"scenario", "model"}

// IsMetricPath reports whether path is one of MetricPaths.
func IsMetricPath(path string) bool { return slices.Contains(MetricPaths, path) }

// NumericMetric reports whether path is a metric path with a numeric value.
func NumericMetric(path string) bool {
	return IsMetricPath(path) && !slices.Contains(textMetrics, path)
}

// numericMetricPaths is MetricPaths without the text ones, for error lists.
func numericMetricPaths() []string {
	var out []string
	for _, p := range MetricPaths {
		if !slices.Contains(textMetrics, p) {
			out = append(out, p)
		}
	}
	return out
}

// Operators are the comparison operators a bound may use.
var Operators = []string{"==", "!=", "<", "<=", ">", ">="}

// Expect is one bound on a report metric: the run passes when the metric at
// Path satisfies "value Op Value".
type Expect struct {
	Path  string  // one of MetricPaths
	Op    string  // one of Operators
	Value float64 // the bound
	Raw   string  // the bound as written, normalised: "< 40"
	Line  int     // line in the scenario file; 0 when built in code
}

// ParseBound parses "OP NUMBER" (spaces optional), such as "== 0", "<40" or
// ">= 0.95".
func ParseBound(s string) (op string, v float64, err error) {
	op, _, v, err = parseBound(s)
	return op, v, err
}

// parseBound also returns the number as written.
func parseBound(s string) (op, num string, v float64, err error) {
	t := strings.TrimSpace(s)
	for _, o := range []string{"==", "!=", "<=", ">=", "<", ">"} { // two-character operators first
		if strings.HasPrefix(t, o) {
			op = o
			break
		}
	}
	if op == "" {
		return "", "", 0, fmt.Errorf("bound %q does not start with an operator; write it like \"<= 40\"", short(s))
	}
	num = strings.TrimSpace(t[len(op):])
	if num == "" {
		return "", "", 0, fmt.Errorf("bound %q has no number after %s", short(s), op)
	}
	v, err = strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return "", "", 0, fmt.Errorf("bound %q: %q is not a finite number", short(s), short(num))
	}
	return op, num, v, nil
}

// NewExpect builds an Expect from a path and a bound string.
func NewExpect(path, bound string) (Expect, error) {
	if !NumericMetric(path) {
		return Expect{}, fmt.Errorf("%q is not a numeric metric path", path)
	}
	op, num, v, err := parseBound(bound)
	if err != nil {
		return Expect{}, err
	}
	return Expect{Path: path, Op: op, Value: v, Raw: op + " " + num}, nil
}

// Holds reports whether v satisfies the bound. A NaN never does.
func (e Expect) Holds(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch e.Op {
	case "==":
		return v == e.Value
	case "!=":
		return v != e.Value
	case "<":
		return v < e.Value
	case "<=":
		return v <= e.Value
	case ">":
		return v > e.Value
	case ">=":
		return v >= e.Value
	}
	return false
}

// String writes "path op value", e.g. "reacquire_s.p99 < 40".
func (e Expect) String() string { return e.Path + " " + e.Raw }
