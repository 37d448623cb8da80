package advice

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"d6lab/clientsim/profile"
	"d6lab/scenarios"
	"d6lab/sim/sweep"
)

// Valids are the first round's valid lifetimes: from a minute to eight
// hours.
var Valids = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 20 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour,
}

// The ratios of valid every point uses: T1 at half of valid, T2 at 0.55
// (T1 and T2 "equal (or nearly equal)", RFC 6853 §6.1) or 0.8 (the
// preferred lifetime: a Rebind only once the address is deprecated),
// preferred at 0.8.
const (
	T1Ratio        = 0.5
	PreferredRatio = 0.8
)

// T2Ratios are the T2 ratios of valid each valid lifetime is tried with.
var T2Ratios = []float64{0.55, 0.8}

// headroom is how far past the load bound's T1 the second round aims:
// the measured load of a point at exactly that T1 could pass the bound by
// rounding.
const headroom = 1.02

// Advice is the answer (advice.json).
type Advice struct {
	Question QuestionJSON `json:"question"`
	Runs     int          `json:"runs"`   // points run, both rounds
	WallS    float64      `json:"wall_s"` // the sweep's wall time
	// Recommended is nil when no point meets the question; RunnerUp is
	// the best point of another model (nil when none meets it).
	Recommended *Candidate `json:"recommended"`
	RunnerUp    *Candidate `json:"runner_up"`
	// Costs say, per constraint, what it cost the recommendation (or,
	// with none, which constraints bind).
	Costs      []Cost       `json:"costs"`
	Caveats    []string     `json:"caveats"`
	Candidates []Candidate  `json:"candidates"`
	Sweep      *sweep.Sweep `json:"-"`
	// Scenario is the recommendation's scenario, at the sample's size.
	Scenario *scenarios.Scenario `json:"-"`
}

// QuestionJSON is the question as advice.json states it.
type QuestionJSON struct {
	Clients       int      `json:"clients"`
	Servers       int      `json:"servers"`
	MaxOutageS    float64  `json:"max_outage_s"`
	MaxReacquireS *float64 `json:"max_reacquire_s"`
	MaxLoadMPS    float64  `json:"max_load_mps"`
	LoadBoundMPS  float64  `json:"load_bound_mps"` // MaxLoad less the margin
	PoolBudget    *float64 `json:"pool_budget"`
	Profile       string   `json:"profile"`
	Models        []string `json:"models"`
	Sample        int      `json:"sample"`
	Margin        float64  `json:"margin"`
	Seed          uint64   `json:"seed"`
}

// Cost is what one constraint cost.
type Cost struct {
	Constraint string `json:"constraint"`
	// Broken counts the candidates that do not meet it.
	Broken int `json:"broken"`
	// Binds: without this constraint the answer would be another point
	// (or, with no recommendation, some point would meet the rest).
	Binds bool `json:"binds"`
	// Without is that point.
	Without *Candidate `json:"without,omitempty"`
	Note    string     `json:"note"`
}

// Options tune Advise.
type Options struct {
	Workers int // points at once (0: GOMAXPROCS)
	// Done is called after each point (sweep.Options.Done) with the
	// round (1 or 2).
	Done func(round int, p sweep.Point, done, total int, wall time.Duration)
}

// Advise answers q (validated first): it runs the first round's grid in
// every model, then the second round at the load bound's T1, and chooses.
func Advise(ctx context.Context, q Question, opt Options) (*Advice, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	base := Base(&q)
	axes := []sweep.Axis{
		{Field: "lifetimes.valid", Values: durations(Valids)},
		{Field: "lifetimes.t1", Values: ratios(T1Ratio)},
		{Field: "lifetimes.t2", Values: ratios(T2Ratios...)},
		{Field: "lifetimes.preferred", Values: ratios(PreferredRatio)},
	}
	pts, err := plan(base, &q, sweep.Lifetimes(base.Lifetimes, axes), 0, 0)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	rows, err := run(ctx, pts, 1, opt)
	if err != nil {
		return nil, err
	}
	// Round 2: the T1 at which the busiest server's load meets the bound,
	// from the first round's load per client per T1, per model.
	var second []scenarios.Lifetimes
	for _, valid := range q.boundValids(pts, rows) {
		// Outside the grid, its end is the answer's side of the bound.
		if slices.Contains(Valids, valid) || valid < Valids[0] || valid > Valids[len(Valids)-1] {
			continue
		}
		v := sweep.Value{Abs: valid}
		second = append(second, sweep.Lifetimes(base.Lifetimes, []sweep.Axis{
			{Field: "lifetimes.valid", Values: []sweep.Value{v}},
			{Field: "lifetimes.t1", Values: ratios(T1Ratio)},
			{Field: "lifetimes.t2", Values: ratios(T2Ratios...)},
			{Field: "lifetimes.preferred", Values: ratios(PreferredRatio)},
		})...)
	}
	if len(second) > 0 {
		more, err := plan(base, &q, second, len(pts), pts[len(pts)-1].Grid+1)
		if err != nil {
			return nil, err
		}
		rows2, err := run(ctx, more, 2, opt)
		if err != nil {
			return nil, err
		}
		pts, rows = append(pts, more...), append(rows, rows2...)
	}
	sweep.MarkPareto(rows)
	a := q.choose(pts, rows)
	a.Runs, a.WallS = len(rows), time.Since(t0).Seconds()
	vary := sweep.AxisStrings(axes)
	if len(second) > 0 {
		vary = append(vary, "second round: lifetimes.valid at the load bound's T1 (see advice.json)")
	}
	models := make([]string, len(q.Models))
	for i, m := range q.Models {
		models[i] = string(m)
	}
	a.Sweep = &sweep.Sweep{Scenario: base.Name, Engine: "virtual", Clients: q.Sample, Models: models,
		Vary: vary, Rule: sweep.FaultRule, WallS: a.WallS, Rows: rows}
	if a.Recommended != nil {
		a.Scenario = pts[a.Recommended.Point].Scenario
	}
	return a, nil
}

// Base is the scenario every point derives from: the question's servers
// as `d6lab compare` builds them, the sample of clients with the
// question's profile and seed, s1 killed mid-lease.
func Base(q *Question) *scenarios.Scenario {
	sc := scenarios.Compare(scenarios.CompareVariant{Model: q.Models[0], Servers: q.Servers}, q.Sample)
	sc.Name = "advise"
	sc.Clients.Profile = q.Profile
	sc.Clients.Seed = q.Seed
	return sc
}

func plan(base *scenarios.Scenario, q *Question, lts []scenarios.Lifetimes, first, grid int) ([]sweep.Point, error) {
	var pts []sweep.Point
	for g, lt := range lts {
		for _, m := range q.Models {
			// The clients arrive over one T1 (sweep.Derive): the fault
			// finds each at its own phase, as a real failure would.
			sc, err := sweep.Derive(base, m, lt, q.Sample)
			if err != nil {
				return nil, fmt.Errorf("advise: %s, %s: %w", sweep.Label(lt), m, err)
			}
			pts = append(pts, sweep.Point{Index: first + len(pts), Grid: grid + g, Model: m, Lifetimes: lt, Scenario: sc})
		}
	}
	return pts, nil
}

func run(ctx context.Context, pts []sweep.Point, round int, opt Options) ([]sweep.Row, error) {
	return sweep.Run(ctx, pts, sweep.Options{Workers: opt.Workers, Done: func(p sweep.Point, done int, wall time.Duration) {
		if opt.Done != nil {
			opt.Done(round, p, done, len(pts), wall)
		}
	}})
}

// boundValids returns, one per model in order, the valid lifetime (twice
// the T1) at which the busiest server's steady load meets LoadBound: the
// first round measured per model k = load x T1 / clients, the messages
// each client sends a server per T1 (1 when every Renew is multicast), so
// T1 = k x Clients / LoadBound, raised by headroom to a whole second.
// Models whose load was not measured give none; duplicates are left out.
func (q *Question) boundValids(pts []sweep.Point, rows []sweep.Row) []time.Duration {
	var out []time.Duration
	for _, m := range q.Models {
		var sum float64
		n := 0
		for i, p := range pts {
			if p.Model != m {
				continue
			}
			c := q.candidate(p, &rows[i])
			if c.Load == nil {
				continue
			}
			sum += *c.Load * p.Lifetimes.T1.Seconds() / float64(q.Clients)
			n++
		}
		if n == 0 {
			continue
		}
		t1 := math.Ceil(headroom * (sum / float64(n)) * float64(q.Clients) / q.LoadBound())
		valid := time.Duration(max(2, 2*t1)) * time.Second
		if !slices.Contains(out, valid) {
			out = append(out, valid)
		}
	}
	return out
}

// choose scales every row, picks the recommendation and the runner-up,
// and states what each constraint cost.
func (q *Question) choose(pts []sweep.Point, rows []sweep.Row) *Advice {
	a := &Advice{Question: q.json()}
	for i := range pts {
		a.Candidates = append(a.Candidates, q.candidate(pts[i], &rows[i]))
	}
	a.Recommended = best(a.Candidates, q.Models, "", "")
	if a.Recommended != nil {
		a.RunnerUp = best(a.Candidates, q.Models, "", a.Recommended.Model)
	}
	for _, name := range q.Constraints() {
		cost := Cost{Constraint: name}
		for i := range a.Candidates {
			if slices.ContainsFunc(a.Candidates[i].Broken, func(b Broken) bool { return b.Constraint == name }) {
				cost.Broken++
			}
		}
		without := best(a.Candidates, q.Models, name, "")
		switch {
		case a.Recommended == nil && without != nil:
			cost.Binds, cost.Without = true, without
			cost.Note = fmt.Sprintf("binds: without it %s would meet the rest, with %s", without.Label(), brokenWhy(without, name))
		case a.Recommended == nil:
			cost.Note = "dropping it alone does not help"
		case without != a.Recommended:
			cost.Binds, cost.Without = true, without
			cost.Note = fmt.Sprintf("binds: without it, %s: %s", without.Label(), q.gain(a.Recommended, without))
		default:
			cost.Note = "does not bind" + q.slack(name, a.Recommended)
		}
		a.Costs = append(a.Costs, cost)
	}
	a.Caveats = q.caveats(a.Recommended)
	return a
}

func brokenWhy(c *Candidate, name string) string {
	for _, b := range c.Broken {
		if b.Constraint == name {
			return b.Why
		}
	}
	return ""
}

// gain says what the point a constraint kept out would have given instead
// of the recommendation: the figures that differ.
func (q *Question) gain(rec, alt *Candidate) string {
	var parts []string
	add := func(what string, a, r *float64, unit string) {
		if a == nil || r == nil {
			return
		}
		if x, y := num(*a, unit), num(*r, unit); x != y {
			parts = append(parts, fmt.Sprintf("%s %s (not %s)", what, x, y))
		}
	}
	add("outage p99", alt.OutageP99, rec.OutageP99, "s")
	add("re-acquisition p99", alt.ReacquireP99, rec.ReacquireP99, "s")
	add("busiest server", alt.Load, rec.Load, "/s")
	if alt.Model != rec.Model {
		parts = append(parts, fmt.Sprintf("model %s (not %s)", alt.Model, rec.Model))
	}
	return strings.Join(parts, ", ")
}

// slack says how far the recommendation is from a bound it does not
// touch.
func (q *Question) slack(name string, c *Candidate) string {
	switch name {
	case CMaxOutage:
		if c.OutageP99 != nil {
			return fmt.Sprintf(" (outage p99 %s of %s)", num(*c.OutageP99, "s"), num(q.MaxOutage.Seconds(), "s"))
		}
	case CMaxReacquire:
		if c.ReacquireP99 != nil {
			return fmt.Sprintf(" (re-acquisition p99 %s of %s)", num(*c.ReacquireP99, "s"), num(q.MaxReacquire.Seconds(), "s"))
		}
	case CMaxLoad:
		if c.Load != nil {
			return fmt.Sprintf(" (%s of %s per server)", num(*c.Load, "/s"), num(q.MaxLoad, "/s"))
		}
	case CPoolBudget:
		return fmt.Sprintf(" (needs %gx of %gx)", c.PoolNeed, q.PoolBudget)
	}
	return ""
}

// caveats are what the measurement does not say about the recommended
// model, and how the simulated clients differ from real ones.
func (q *Question) caveats(rec *Candidate) []string {
	var out []string
	if rec != nil {
		switch rec.Model {
		case scenarios.Identical:
			out = append(out,
				"identical needs every server to pick the same address for the same client (RFC 6853 §7): the lab's builtin hash allocator does; with an iterative one the lab measured conflicts (d6lab compare, identical-sequential)",
				"with DNS updates, a server back with its leases deletes at expiry records the survivor still serves (README \"DNS and Leasequery after a failover\")")
		default:
			out = append(out,
				fmt.Sprintf("%s renumbers every host the dead server held (continuity 0): their connections break; the survivor's pool must hold them all (RFC 6853 §6)", rec.Model))
		}
	}
	if q.Profile == "rfc" {
		out = append(out, "the simulated clients follow RFC 9915; real kinds depart from it where it matters here (dhclient Rebinds at its first Renew retransmission, up to 11 s after T1, or when the preferred lifetime ends if that is sooner, when T2 - T1 is shorter than that; README \"The simulated client and real hosts\"): ask again with --profile dhclient or dhcpcd")
	}
	if prof, err := profile.Lookup(string(q.Profile)); err == nil && len(prof.Gaps) > 0 {
		names := make([]string, len(prof.Gaps))
		for i, g := range prof.Gaps {
			names[i] = strings.TrimPrefix(g.Param+" · "+string(g.When), " · ")
		}
		out = append(out, fmt.Sprintf("profile %s does not model %d things %s does (%s; README \"What a profile does not model\"): the replayed recommendation's report lists and sizes those its run meets",
			q.Profile, len(prof.Gaps), prof.Client, strings.Join(names, ", ")))
	}
	out = append(out, fmt.Sprintf("measured on %d simulated clients per point (virtual engine, seed %d) and scaled to %d: per-client times do not depend on the population there, load is linear in it; replay the recommendation in netns with the written scenario", q.Sample, q.Seed, q.Clients))
	return out
}

func (q *Question) json() QuestionJSON {
	j := QuestionJSON{Clients: q.Clients, Servers: q.Servers, MaxOutageS: q.MaxOutage.Seconds(), MaxLoadMPS: q.MaxLoad,
		LoadBoundMPS: q.LoadBound(), Profile: string(q.Profile), Sample: q.Sample, Margin: q.Margin, Seed: q.Seed}
	if q.MaxReacquire > 0 {
		j.MaxReacquireS = ptr(q.MaxReacquire.Seconds())
	}
	if q.PoolBudget > 0 {
		j.PoolBudget = ptr(q.PoolBudget)
	}
	for _, m := range q.Models {
		j.Models = append(j.Models, string(m))
	}
	return j
}

func durations(ds []time.Duration) []sweep.Value {
	out := make([]sweep.Value, len(ds))
	for i, d := range ds {
		out[i] = sweep.Value{Abs: d}
	}
	return out
}

func ratios(rs ...float64) []sweep.Value {
	out := make([]sweep.Value, len(rs))
	for i, r := range rs {
		out[i] = sweep.Value{Ratio: r}
	}
	return out
}
