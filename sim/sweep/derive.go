package sweep

import (
	"errors"
	"fmt"
	"time"

	"d6lab/scenarios"
)

// Margin is what a point's run lasts past fault + valid: time for the
// last affected client, whose lease expired, to Solicit and bind again.
const Margin = 30 * time.Second

// Fault returns the first fault of base's timeline (kill, freeze or cut),
// the one a sweep keeps, or an error naming the file when it has none.
func Fault(base *scenarios.Scenario) (scenarios.Action, error) {
	for _, a := range base.Timeline {
		switch a.Kind {
		case scenarios.Kill, scenarios.Freeze, scenarios.Cut:
			return a, nil
		}
	}
	return scenarios.Action{}, fmt.Errorf("%s: the timeline has no kill, freeze or cut: a sweep measures a failover", name(base))
}

// FaultAt is when a point's fault strikes: the ramp plus two T1, rounded
// up to a whole second. The clients arrive over the ramp, at least one T1
// long (Derive), so their renewals are spread over T1 as a long-running
// population's are: the fault finds each client at its own phase, its
// Renew to the dead server waiting until T2 to Rebind (re-acquisition
// from T2 - T1 to T2, p50 about T2 - T1/2, p99 about T2). Every client is
// bound a few seconds after the ramp (Solicit delay, DAD) and renews
// every T1 from its binding, so the window from the last binding to the
// fault (the steady window of the load metric, check.Load) holds a whole
// T1. A ramp short against T1 made the fault fall amid the clients'
// second renewals instead: re-acquisition then splits into two modes (T2
// for those that renewed just before, T2 - T1 for the others), and its
// median jumped between them with a second's shift in the binding times
// (48 s in the virtual engine, 21 s in netns, T1 30 s, T2 48 s, 2,000
// clients over 2 s).
func FaultAt(ramp, t1 time.Duration) time.Duration {
	return (ramp + 2*t1 + time.Second - 1).Truncate(time.Second)
}

// Duration is how long a point runs: to its fault, then one valid
// lifetime (every lease granted before the fault has expired or moved by
// then: the last one was extended at the fault at the latest) and Margin.
func Duration(fault, valid time.Duration) time.Duration { return fault + valid + Margin }

// Derive builds the scenario of one point: as many servers as base has,
// built the way `d6lab compare` builds them (scenarios.Compare: the link,
// s1 at Preference 255 and the others at 0, the model's pools and default
// allocator, rebind policy create), base's clients (profile, timescale, seed, DAD,
// jitter, IA) with clients of them (0: base's count) over the longest of
// base's ramp, compare's for that count and lt's T1, the lifetimes lt, base's first
// fault alone (its kind and target) at FaultAt, no expect bounds, lasting
// Duration. The result is validated: the error names the field.
func Derive(base *scenarios.Scenario, model scenarios.Model, lt scenarios.Lifetimes, clients int) (*scenarios.Scenario, error) {
	fault, err := Fault(base)
	if err != nil {
		return nil, err
	}
	if clients <= 0 {
		clients = base.Clients.Count
	}
	sc := scenarios.Compare(scenarios.CompareVariant{Model: model, Servers: len(base.Servers)}, clients)
	ramp := max(sc.Clients.Ramp, base.Clients.Ramp, lt.T1)
	sc.Name = fmt.Sprintf("%s-%s", base.Name, model)
	sc.Description = fmt.Sprintf("sweep of %s: %s model, %s", name(base), model, Label(lt))
	sc.File = base.File
	sc.Relay = base.Relay
	sc.Lifetimes = lt
	sc.Clients = base.Clients
	sc.Clients.Count = clients
	sc.Clients.Ramp = ramp
	sc.Clients.Real = nil
	at := FaultAt(ramp, lt.T1)
	sc.Timeline = []scenarios.Action{{At: at, Kind: fault.Kind, Target: fault.Target}}
	sc.Duration = Duration(at, lt.Valid)
	sc.Expect = nil
	sc.DNS, sc.Leasequery = nil, nil
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// ErrNoModels is the error of Models for an empty list.
var ErrNoModels = errors.New("--models: no model given; want some of split, unique, identical")

// Models parses --models: a comma-separated list of RFC 6853 models.
func Models(list []string) ([]scenarios.Model, error) {
	if len(list) == 0 {
		return nil, ErrNoModels
	}
	var out []scenarios.Model
	for _, s := range list {
		m := scenarios.Model(s)
		ok := false
		for _, x := range scenarios.Models {
			ok = ok || x == m
		}
		if !ok {
			return nil, fmt.Errorf("--models: %q is not a model; want some of split, unique, identical", s)
		}
		for _, x := range out {
			if x == m {
				return nil, fmt.Errorf("--models: %s is given twice", s)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func name(sc *scenarios.Scenario) string {
	if sc.File != "" {
		return sc.File
	}
	return sc.Name
}
