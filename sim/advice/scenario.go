package advice

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"

	"d6lab/scenarios"
)

// ScenarioFile is the name ScenarioYAML's file gets in the output
// directory.
const ScenarioFile = "recommended.yaml"

// fileScenario is the scenario file Recommended writes, in the order a
// person reads it.
type fileScenario struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Model       string            `yaml:"model"`
	Link        string            `yaml:"link"`
	Lifetimes   fileLifetimes     `yaml:"lifetimes"`
	Servers     int               `yaml:"servers"`
	Clients     fileClients       `yaml:"clients"`
	Timeline    []fileAction      `yaml:"timeline"`
	Duration    string            `yaml:"duration"`
	Expect      map[string]string `yaml:"expect"`
}

type fileLifetimes struct {
	T1        string `yaml:"t1"`
	T2        string `yaml:"t2"`
	Preferred string `yaml:"preferred"`
	Valid     string `yaml:"valid"`
}

type fileClients struct {
	Count   int    `yaml:"count"`
	Ramp    string `yaml:"ramp"`
	Profile string `yaml:"profile"`
	Seed    uint64 `yaml:"seed"`
}

type fileAction struct {
	At     string `yaml:"at"`
	Action string `yaml:"action"`
	Target string `yaml:"target"`
}

// ScenarioYAML renders the recommendation as a scenario file: the point's
// scenario (the sample of clients, the question's servers, s1 killed
// mid-lease) with the bounds the advice claims, scaled to the sample:
// outage and re-acquisition p99, all servers' steady load at most
// Servers x MaxLoad x Sample / Clients (each server receives every
// Renew, so the busiest server's share is a Servers-th; the margin is
// not in the bound: it is the room for the engines' disagreement), no
// duplicate, no
// client left without a binding. `d6lab run` replays it in netns. The
// file is parsed back (scenarios.Parse) and must resolve to the same
// scenario; an error says what differs.
func (a *Advice) ScenarioYAML(q *Question) ([]byte, error) {
	if a.Recommended == nil || a.Scenario == nil {
		return nil, fmt.Errorf("advise: no recommendation to write")
	}
	sc := a.Scenario
	f := fileScenario{
		Name:        "advise-" + string(sc.Model),
		Description: fmt.Sprintf("d6lab advise's recommendation for %d clients and %d servers, replayed at %d clients: %s", q.Clients, q.Servers, q.Sample, a.Recommended.Label()),
		Model:       string(sc.Model),
		Link:        sc.Link.String(),
		Lifetimes: fileLifetimes{T1: sc.Lifetimes.T1.String(), T2: sc.Lifetimes.T2.String(),
			Preferred: sc.Lifetimes.Preferred.String(), Valid: sc.Lifetimes.Valid.String()},
		Servers:  len(sc.Servers),
		Clients:  fileClients{Count: sc.Clients.Count, Ramp: sc.Clients.Ramp.String(), Profile: string(sc.Clients.Profile), Seed: sc.Clients.Seed},
		Duration: sc.Duration.String(),
		Expect: map[string]string{
			"outage_s.p99":         "<= " + fmtFloat(q.MaxOutage.Seconds()),
			"load.steady_mps":      "<= " + fmtFloat(float64(q.Servers)*q.MaxLoad/q.Scale()),
			"duplicates.addresses": "== 0",
			"unrecovered":          "== 0",
		},
	}
	if q.MaxReacquire > 0 {
		f.Expect["reacquire_s.p99"] = "<= " + fmtFloat(q.MaxReacquire.Seconds())
	}
	for _, act := range sc.Timeline {
		f.Timeline = append(f.Timeline, fileAction{At: act.At.String(), Action: string(act.Kind), Target: act.Target})
	}
	body, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("advise: render %s: %w", ScenarioFile, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by d6lab advise (seed %d). The question: %d clients, %d servers,\n", q.Seed, q.Clients, q.Servers)
	fmt.Fprintf(&b, "# outage p99 <= %s, steady load <= %s per server%s.\n", q.MaxOutage, num(q.MaxLoad, "/s"), reacquirePhrase(q))
	fmt.Fprintf(&b, "# The answer's figures at %d clients: %s.\n", q.Clients, claims(a.Recommended))
	fmt.Fprintf(&b, "# Here at %d clients, the load bound scaled by %d/%d, for all %d servers together.\n", q.Sample, q.Sample, q.Clients, q.Servers)
	b.Write(body)
	back, err := scenarios.Parse(ScenarioFile, b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("advise: the written scenario does not load: %w", err)
	}
	if d := differs(sc, back); d != "" {
		return nil, fmt.Errorf("advise: the written scenario resolves differently from the run's: %s", d)
	}
	return b.Bytes(), nil
}

func reacquirePhrase(q *Question) string {
	if q.MaxReacquire > 0 {
		return fmt.Sprintf(", re-acquisition p99 <= %s", q.MaxReacquire)
	}
	return ""
}

func claims(c *Candidate) string {
	f := func(p *float64, unit string) string {
		if p == nil {
			return "unknown"
		}
		return num(*p, unit)
	}
	return fmt.Sprintf("outage p99 %s, re-acquisition p99 %s, busiest server %s", f(c.OutageP99, "s"), f(c.ReacquireP99, "s"), f(c.Load, "/s"))
}

// differs names the first field where the written scenario resolves
// otherwise than the run's (expect bounds and names apart).
func differs(want, got *scenarios.Scenario) string {
	switch {
	case want.Model != got.Model:
		return "model"
	case want.Link != got.Link:
		return "link"
	case want.Lifetimes != got.Lifetimes:
		return "lifetimes"
	case want.Duration != got.Duration:
		return "duration"
	case !reflect.DeepEqual(want.Servers, got.Servers):
		return "servers"
	case !reflect.DeepEqual(want.Clients, got.Clients):
		return "clients"
	case len(want.Timeline) != len(got.Timeline):
		return "timeline"
	}
	for i := range want.Timeline {
		w, g := want.Timeline[i], got.Timeline[i]
		if w.At != g.At || w.Kind != g.Kind || w.Target != g.Target {
			return fmt.Sprintf("timeline[%d]", i)
		}
	}
	return ""
}

// fmtFloat writes v to the millisecond (or thousandth), no trailing zeros.
func fmtFloat(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
