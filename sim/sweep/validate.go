package sweep

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Validated are the metrics a validation compares between the engines
// (issue 15: the re-acquisition median and the steady load), by their
// report path.
var Validated = []string{"reacquire_s.p50", "load.steady_mps"}

// DefaultTolerance is the largest relative difference between the
// engines a validation accepts.
const DefaultTolerance = 0.05

// Agreement is one point of a sweep played again on another engine: each
// validated metric from both.
type Agreement struct {
	Point     int        `json:"point"` // the row's point
	Model     string     `json:"model"`
	Lifetimes string     `json:"lifetimes"`
	Engine    string     `json:"engine"` // the engine it was played again on
	Metrics   []Compared `json:"metrics"`
	OK        bool       `json:"ok"` // every metric within the tolerance
	WallS     float64    `json:"wall_s"`
}

// Compared is one metric of an Agreement.
type Compared struct {
	Metric string   `json:"metric"`
	Sweep  *float64 `json:"sweep"` // the sweep's engine's value
	Again  *float64 `json:"again"` // the other engine's
	// Diff is |again - sweep| / sweep; null when either is unknown or the
	// sweep's value is 0 (then OK only when both are 0).
	Diff *float64 `json:"diff"`
	OK   bool     `json:"ok"`
}

// Validation is sweep.json's record of the points played again.
type Validation struct {
	Engine    string      `json:"engine"`
	Tolerance float64     `json:"tolerance"`
	Points    []Agreement `json:"points"`
	OK        bool        `json:"ok"`
}

// PickValidation chooses n points to play again: of the first model's
// Pareto front of steady load against re-acquisition p99, the shortest
// runs (a point lasts fault + valid + 30 s, hours at the long
// lifetimes; a validation in real time must be short), then other
// points of that model, shortest first, when the front has too few.
// The result holds row indexes, in the rows' order.
func PickValidation(rows []Row, model string, n int) []int {
	var front, rest []int
	for i := range rows {
		if rows[i].Model != model {
			continue
		}
		if rows[i].ParetoReacquire {
			front = append(front, i)
		} else {
			rest = append(rest, i)
		}
	}
	byLength := func(a, b int) int {
		if c := cmpFloat(rows[a].DurationS, rows[b].DurationS); c != 0 {
			return c
		}
		return a - b
	}
	slices.SortStableFunc(front, byLength)
	slices.SortStableFunc(rest, byLength)
	out := append(front, rest...)
	out = out[:min(n, len(out))]
	slices.Sort(out)
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Validate plays the rows idx of pts again with play and compares the
// Validated metrics within tolerance. done is called after each.
func Validate(ctx context.Context, pts []Point, rows []Row, idx []int, engine string, play Player, tolerance float64, done func(a Agreement)) (*Validation, error) {
	v := &Validation{Engine: engine, Tolerance: tolerance, OK: true}
	for _, i := range idx {
		res, err := Run(ctx, []Point{pts[i]}, Options{Play: play, Workers: 1})
		if err != nil {
			return nil, err
		}
		a := Agree(rows[i], res[0], tolerance)
		a.Engine = engine
		v.Points = append(v.Points, a)
		v.OK = v.OK && a.OK
		if done != nil {
			done(a)
		}
	}
	return v, nil
}

// Agree compares the Validated metrics of the same point from two
// engines.
func Agree(sweep, again Row, tolerance float64) Agreement {
	a := Agreement{Point: sweep.Point, Model: sweep.Model, OK: true, WallS: again.WallS,
		Lifetimes: fmt.Sprintf("t1 %gs t2 %gs pref %gs valid %gs", sweep.T1S, sweep.T2S, sweep.PreferredS, sweep.ValidS)}
	for _, m := range Validated {
		c := Compared{Metric: m, Sweep: metric(sweep, m), Again: metric(again, m)}
		switch {
		case c.Sweep == nil || c.Again == nil:
		case *c.Sweep == 0:
			c.OK = *c.Again == 0
		default:
			d := math.Abs(*c.Again-*c.Sweep) / math.Abs(*c.Sweep)
			c.Diff, c.OK = &d, d <= tolerance
		}
		a.Metrics = append(a.Metrics, c)
		a.OK = a.OK && c.OK
	}
	return a
}

func metric(r Row, path string) *float64 {
	if v, ok := r.Metrics[path].(float64); ok {
		return &v
	}
	return nil
}
