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
// up to a whole second. The clients are bound by the end of the ramp (and
// a few seconds of Solicit delay and DAD) and renew every T1 from their
// binding, so the window from the last binding to the fault (the steady
// window of the load metric, check.Load) spans about 2 T1 minus the ramp:
// each client's first renewal falls in it and most clients' second one,
// whatever T1 is. With a ramp short against T1 the fault comes just
// after most clients' second renewal: the worst phase, whose Renew to the
// dead server waits until T2 to Rebind (re-acquisition about T2).
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
// jitter, IA) with clients of them (0: base's count) over base's ramp or
// compare's for that count when longer, the lifetimes lt, base's first
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
	ramp := max(sc.Clients.Ramp, base.Clients.Ramp)
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
