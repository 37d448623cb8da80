package advice

import (
	"fmt"
	"math"
	"time"

	"d6lab/deploy"
	"d6lab/scenarios"
)

// DefaultSample is how many clients each point simulates when the
// question does not say (or the whole population when smaller).
const DefaultSample = 2000

// DefaultMargin is the load's safety margin: the share of the load bound a
// recommendation leaves free, the virtual engine's agreement with netns
// runs (README "Sweeps": within 5 % on steady load).
const DefaultMargin = 0.05

// MaxClients bounds Question.Clients: the population the answer is
// scaled to, far past what one link holds.
const MaxClients = 100_000_000

// Question is what an operator asks.
type Question struct {
	Clients int // hosts on the link
	Servers int // DHCPv6 servers, 2..scenarios.MaxServers
	// MaxOutage bounds outage_s.p99: the time an affected host has no
	// usable address of an affected type after one server dies.
	MaxOutage time.Duration
	// MaxReacquire bounds reacquire_s.p99 (0: no bound): the time from the
	// fault until the host holds a usable binding from a live server.
	MaxReacquire time.Duration
	// MaxLoad bounds the busiest server's steady load, messages/s.
	MaxLoad float64
	// PoolBudget bounds the addresses (or prefixes) the deployment may
	// configure across its servers, as a multiple of Clients (0: no
	// bound). See PoolNeed.
	PoolBudget float64
	Profile    deploy.Profile    // the simulated clients' behaviour
	Models     []scenarios.Model // the models to consider, in order of preference on ties
	// Sample is how many clients each point simulates (0: DefaultSample,
	// at most Clients).
	Sample int
	// Margin is the share of MaxLoad a recommendation keeps free (0:
	// none; DefaultMargin is the CLI's default).
	Margin float64
	Seed   uint64 // the clients' seed (0: scenarios.DefaultSeed)
}

// Validate fills the defaults and checks the question; the error names
// the flag.
func (q *Question) Validate() error {
	switch {
	case q.Clients < 1 || q.Clients > MaxClients:
		return fmt.Errorf("--clients %d: want 1..%d", q.Clients, MaxClients)
	case q.Servers < 2 || q.Servers > scenarios.MaxServers:
		return fmt.Errorf("--servers %d: want 2..%d (a redundant deployment)", q.Servers, scenarios.MaxServers)
	case q.MaxOutage < 0:
		return fmt.Errorf("--max-outage %s: must not be negative", q.MaxOutage)
	case q.MaxReacquire < 0:
		return fmt.Errorf("--max-reacquire %s: must not be negative (0: no bound)", q.MaxReacquire)
	case !(q.MaxLoad > 0) || math.IsInf(q.MaxLoad, 0):
		return fmt.Errorf("--max-load %v: want a rate in messages/s per server, > 0", q.MaxLoad)
	case q.PoolBudget < 0 || math.IsNaN(q.PoolBudget) || math.IsInf(q.PoolBudget, 0):
		return fmt.Errorf("--pool-budget %v: want a multiple of the clients (1.5: one and a half addresses per client), or 0 for none", q.PoolBudget)
	case q.Margin < 0 || q.Margin >= 0.5 || math.IsNaN(q.Margin):
		return fmt.Errorf("--margin %v: want 0 <= margin < 0.5", q.Margin)
	case len(q.Models) == 0:
		return fmt.Errorf("--models: no model given; want some of split, unique, identical")
	}
	okProfile := false
	for _, p := range deploy.Profiles {
		okProfile = okProfile || p == q.Profile
	}
	if q.Profile == "" {
		q.Profile = deploy.ProfileRFC
	} else if !okProfile {
		return fmt.Errorf("--profile %q: want one of %v", q.Profile, deploy.Profiles)
	}
	if q.Sample == 0 {
		q.Sample = min(DefaultSample, q.Clients)
	}
	if q.Sample < 1 || q.Sample > q.Clients || q.Sample > scenarios.MaxClients {
		return fmt.Errorf("--sample %d: want 1..%d (at most --clients %d)", q.Sample, min(q.Clients, scenarios.MaxClients), q.Clients)
	}
	if q.Seed == 0 {
		q.Seed = scenarios.DefaultSeed
	}
	return nil
}

// Scale is what the sample's load is multiplied by: Clients / Sample.
func (q *Question) Scale() float64 { return float64(q.Clients) / float64(q.Sample) }

// PoolNeed is the pool a model must configure across K servers, as a
// multiple of the clients, for one surviving server to serve every
// client (RFC 6853 §2.1 "resources doubled"; the first server, at
// Preference 255, holds nearly every binding when it dies): split and
// unique give each server its own pool, which must hold all the clients,
// so K; identical servers share one pool, so 1.
func PoolNeed(m scenarios.Model, servers int) float64 {
	if m == scenarios.Identical {
		return 1
	}
	return float64(servers)
}
