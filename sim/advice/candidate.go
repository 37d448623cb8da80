package advice

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"d6lab/scenarios"
	"d6lab/sim/sweep"
)

// Candidate is one measured point, its figures scaled to the question's
// clients, and the constraints it breaks.
type Candidate struct {
	Point     int              `json:"point"` // its row in sweep.json
	Model     scenarios.Model  `json:"model"`
	Lifetimes LifetimesSeconds `json:"lifetimes"`
	// OutageP99 and ReacquireP99 are seconds (null: no client was
	// affected, which no bound accepts); ReacquireP50 for the record.
	OutageP99    *float64 `json:"outage_p99_s"`
	ReacquireP50 *float64 `json:"reacquire_p50_s"`
	ReacquireP99 *float64 `json:"reacquire_p99_s"`
	// Load is the busiest server's steady messages/s at the question's
	// clients (the sample's, scaled); Peak all servers' most messages in
	// one second from the fault on, scaled. Null when unmeasured.
	Load        *float64 `json:"load_mps"`
	Peak        *float64 `json:"peak_mps"`
	Continuity  *float64 `json:"continuity"`
	Duplicates  int      `json:"duplicates"`
	Unrecovered int      `json:"unrecovered"`
	PoolNeed    float64  `json:"pool_need"` // PoolNeed, a multiple of the clients
	// Broken lists the constraints the point does not meet, each with its
	// value and bound ("load 333/s > 285/s").
	Broken []Broken `json:"broken,omitempty"`
}

// Broken is one constraint a candidate does not meet.
type Broken struct {
	Constraint string `json:"constraint"` // a Constraint's Name
	Why        string `json:"why"`
}

// LifetimesSeconds are a point's lifetimes in seconds.
type LifetimesSeconds struct {
	T1        float64 `json:"t1_s"`
	T2        float64 `json:"t2_s"`
	Preferred float64 `json:"preferred_s"`
	Valid     float64 `json:"valid_s"`
}

func seconds(l scenarios.Lifetimes) LifetimesSeconds {
	return LifetimesSeconds{T1: l.T1.Seconds(), T2: l.T2.Seconds(), Preferred: l.Preferred.Seconds(), Valid: l.Valid.Seconds()}
}

// Label names the candidate: "identical, T1 5m0s T2 8m0s preferred 8m0s valid 10m0s".
func (c *Candidate) Label() string {
	d := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	l := c.Lifetimes
	return fmt.Sprintf("%s, T1 %s T2 %s preferred %s valid %s", c.Model, d(l.T1), d(l.T2), d(l.Preferred), d(l.Valid))
}

// Constraint names, in the order they are reported.
const (
	CMaxOutage    = "max-outage"
	CMaxReacquire = "max-reacquire"
	CMaxLoad      = "max-load"
	CPoolBudget   = "pool-budget"
	CNoDuplicates = "no-duplicates" // always: no address used by two hosts at once
	CRecovers     = "recovers"      // always: every affected client holds a binding again
)

// Constraints lists the constraints the question sets, the operator's
// bounds first, then the two every answer must meet.
func (q *Question) Constraints() []string {
	c := []string{CMaxOutage}
	if q.MaxReacquire > 0 {
		c = append(c, CMaxReacquire)
	}
	c = append(c, CMaxLoad)
	if q.PoolBudget > 0 {
		c = append(c, CPoolBudget)
	}
	return append(c, CNoDuplicates, CRecovers)
}

// LoadBound is the load a recommendation may reach: MaxLoad less the
// margin.
func (q *Question) LoadBound() float64 { return q.MaxLoad * (1 - q.Margin) }

// candidate scales the point's row to the question and lists what it
// breaks.
func (q *Question) candidate(p sweep.Point, r *sweep.Row) Candidate {
	c := Candidate{
		Point: r.Point, Model: p.Model, Lifetimes: seconds(p.Lifetimes),
		OutageP99: r.OutageP99, ReacquireP50: r.ReacquireP50, ReacquireP99: r.ReacquireP99,
		Continuity: r.Continuity, Duplicates: r.Duplicates, Unrecovered: r.Unrecovered,
		PoolNeed: PoolNeed(p.Model, q.Servers),
	}
	scale := q.Scale()
	if busiest := r.Busiest(); busiest != nil {
		c.Load = ptr(*busiest * scale)
	}
	if r.PeakMPS != nil {
		c.Peak = ptr(*r.PeakMPS * scale)
	}
	for _, name := range q.Constraints() {
		if why := q.breaks(name, &c); why != "" {
			c.Broken = append(c.Broken, Broken{Constraint: name, Why: why})
		}
	}
	return c
}

// breaks says why c does not meet the named constraint, or "" when it
// does. An unknown figure meets no bound.
func (q *Question) breaks(name string, c *Candidate) string {
	bound := func(what string, v *float64, max float64, unit string) string {
		switch {
		case v == nil:
			return what + " unknown: no client was affected by the fault"
		case *v > max:
			return fmt.Sprintf("%s %s > %s", what, num(*v, unit), num(max, unit))
		}
		return ""
	}
	switch name {
	case CMaxOutage:
		return bound("outage p99", c.OutageP99, q.MaxOutage.Seconds(), "s")
	case CMaxReacquire:
		return bound("re-acquisition p99", c.ReacquireP99, q.MaxReacquire.Seconds(), "s")
	case CMaxLoad:
		if c.Load == nil {
			return "steady load unknown: no steady window before the fault"
		}
		if *c.Load > q.LoadBound() {
			if q.Margin > 0 {
				return fmt.Sprintf("steady load %s > %s (%s less the %.0f %% margin)", num(*c.Load, "/s"), num(q.LoadBound(), "/s"), num(q.MaxLoad, "/s"), 100*q.Margin)
			}
			return fmt.Sprintf("steady load %s > %s", num(*c.Load, "/s"), num(q.MaxLoad, "/s"))
		}
	case CPoolBudget:
		if c.PoolNeed > q.PoolBudget {
			return fmt.Sprintf("needs pools of %gx the clients across the servers > the budget %gx", c.PoolNeed, q.PoolBudget)
		}
	case CNoDuplicates:
		if c.Duplicates > 0 {
			return fmt.Sprintf("%d addresses used by two clients at once", c.Duplicates)
		}
	case CRecovers:
		if c.Unrecovered > 0 {
			return fmt.Sprintf("%d affected clients never held a binding again", c.Unrecovered)
		}
	}
	return ""
}

// meets says whether c meets every constraint but the one named skip.
func (c *Candidate) meets(skip string) bool {
	for _, b := range c.Broken {
		if b.Constraint != skip {
			return false
		}
	}
	return true
}

// resolution is the step at which better compares times: differences
// under it (DAD's random delay moves an outage p99 by milliseconds
// between points) are ties.
const resolution = 0.1

// better orders candidates best first: the lowest outage p99, then
// re-acquisition p99 (both at resolution), then load, then the model's
// place in models, then the shorter T1 (the grid's order).
func better(models []scenarios.Model) func(a, b *Candidate) int {
	rank := func(m scenarios.Model) int { return slices.Index(models, m) }
	val := func(p *float64) float64 {
		if p == nil {
			return math.Inf(1)
		}
		return *p
	}
	step := func(p *float64) float64 { return math.Round(val(p) / resolution) }
	return func(a, b *Candidate) int {
		return cmp.Or(
			cmp.Compare(step(a.OutageP99), step(b.OutageP99)),
			cmp.Compare(step(a.ReacquireP99), step(b.ReacquireP99)),
			cmp.Compare(val(a.Load), val(b.Load)),
			cmp.Compare(rank(a.Model), rank(b.Model)),
			cmp.Compare(a.Lifetimes.T1, b.Lifetimes.T1),
			cmp.Compare(a.Lifetimes.T2, b.Lifetimes.T2),
		)
	}
}

// best returns the best candidate meeting every constraint but skip (""
// for none) whose model is not except (""), or nil.
func best(cs []Candidate, models []scenarios.Model, skip string, except scenarios.Model) *Candidate {
	var out *Candidate
	less := better(models)
	for i := range cs {
		c := &cs[i]
		if c.Model == except || !c.meets(skip) {
			continue
		}
		if out == nil || less(c, out) < 0 {
			out = c
		}
	}
	return out
}

func ptr(v float64) *float64 { return &v }

// num formats a figure for a sentence: "1.99s", "167/s", "1,667/s".
func num(v float64, unit string) string {
	if unit == "/s" {
		if v >= 100 {
			return thousands(int64(math.Round(v))) + unit
		}
		return fmt.Sprintf("%.1f%s", v, unit)
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f%s", v, unit)
	}
	return fmt.Sprintf("%.3g%s", v, unit)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
