package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"d6lab/reports/check"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/virtual"
)

// Point is one run of a sweep: a model at one grid point.
type Point struct {
	Index     int // in the sweep's order: grid points, each in every model
	Grid      int // the grid point (lifetimes)
	Model     scenarios.Model
	Lifetimes scenarios.Lifetimes
	Scenario  *scenarios.Scenario
}

// Plan derives every point (Derive), grid point by grid point, each in
// every model in the order given. The first point that does not validate
// fails it: the error names the point (its lifetimes and model) and the
// field, before anything runs.
func Plan(base *scenarios.Scenario, axes []Axis, models []scenarios.Model, clients int) ([]Point, error) {
	var pts []Point
	for g, lt := range Lifetimes(base.Lifetimes, axes) {
		for _, m := range models {
			sc, err := Derive(base, m, lt, clients)
			if err != nil {
				return nil, fmt.Errorf("point %d (%s, %s): %w", g+1, Label(lt), m, err)
			}
			pts = append(pts, Point{Index: len(pts), Grid: g, Model: m, Lifetimes: lt, Scenario: sc})
		}
	}
	return pts, nil
}

// Row is one point's line of sweep.json: the point, the headline figures
// and every numeric metric of its report (Metrics, by the report's JSON
// path: "reacquire_s.p99", "load.servers.s1.steady_mps"; null when
// unknown).
type Row struct {
	Point      int     `json:"point"`
	Grid       int     `json:"grid"`
	Model      string  `json:"model"`
	T1S        float64 `json:"t1_s"`
	T2S        float64 `json:"t2_s"`
	PreferredS float64 `json:"preferred_s"`
	ValidS     float64 `json:"valid_s"`
	FaultS     float64 `json:"fault_s"`
	DurationS  float64 `json:"duration_s"`
	Clients    int     `json:"clients"`

	RebindFailure *float64 `json:"rebind_failure_rate"`
	ReacquireP50  *float64 `json:"reacquire_p50_s"`
	ReacquireP99  *float64 `json:"reacquire_p99_s"`
	OutageP99     *float64 `json:"outage_p99_s"`
	Continuity    *float64 `json:"continuity"`
	Duplicates    int      `json:"duplicates"` // addresses used by two clients at once
	Unrecovered   int      `json:"unrecovered"`
	SteadyMPS     *float64 `json:"steady_mps"` // all servers
	PeakMPS       *float64 `json:"peak_mps"`
	// ServerSteadyMPS and ServerPeakMPS are per server.
	ServerSteadyMPS map[string]*float64 `json:"server_steady_mps"`
	ServerPeakMPS   map[string]*float64 `json:"server_peak_mps"`
	// ParetoOutage and ParetoReacquire mark the points no other point of
	// the same model beats on both steady load and outage p99
	// (re-acquisition p99).
	ParetoOutage    bool `json:"pareto_outage"`
	ParetoReacquire bool `json:"pareto_reacquire"`

	Metrics map[string]any `json:"metrics"`
	Events  int            `json:"events"`
	WallS   float64        `json:"wall_s"` // this point's run and analysis, wall time
}

// Player plays one point's scenario on an engine and returns its report
// (expectations not evaluated) and how many history events it analysed.
type Player func(ctx context.Context, p Point) (*check.Report, int, error)

// Busiest is the steady load of the server that received the most
// (messages/s), or nil when no server's was measured.
func (r *Row) Busiest() *float64 {
	var out *float64
	for _, v := range r.ServerSteadyMPS {
		if v != nil && (out == nil || *v > *out) {
			out = v
		}
	}
	return out
}

// Options tune Run.
type Options struct {
	// Play plays each point; nil: the virtual engine (Virtual).
	Play Player
	// Workers run points at once; 0: GOMAXPROCS.
	Workers int
	// Done is called (from Run's goroutine, in completion order) after
	// each point with how many are done.
	Done func(p Point, done int, wall time.Duration)
}

// Run plays every point (opt.Play: the virtual engine unless given),
// Workers at a time, and returns the rows in the points' order (the
// virtual engine is seeded, so its rows are the same on every run
// whatever the workers). The first point
// that fails stops the others from starting and is returned; ctx stops
// it too.
func Run(ctx context.Context, pts []Point, opt Options) ([]Row, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	play := opt.Play
	if play == nil {
		play = Virtual
	}
	type result struct {
		i    int
		row  Row
		err  error
		wall time.Duration
	}
	jobs := make(chan int)
	results := make(chan result)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(workers, len(pts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t0 := time.Now()
				row, err := runPoint(ctx, pts[i], play)
				row.WallS = time.Since(t0).Seconds()
				results <- result{i: i, row: row, err: err, wall: time.Since(t0)}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range pts {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	rows := make([]Row, len(pts))
	var first error
	done := 0
	for r := range results {
		if r.err != nil && first == nil {
			first = fmt.Errorf("point %d (%s, %s): %w", pts[r.i].Grid+1, Label(pts[r.i].Lifetimes), pts[r.i].Model, r.err)
			cancel()
		}
		rows[r.i] = r.row
		done++
		if opt.Done != nil && r.err == nil {
			opt.Done(pts[r.i], done, r.wall)
		}
	}
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	MarkPareto(rows)
	return rows, nil
}

// runPoint plays one point and flattens its report; ctx stops it
// mid-run.
func runPoint(ctx context.Context, p Point, play Player) (Row, error) {
	rep, events, err := play(ctx, p)
	if err != nil {
		return Row{}, err
	}
	return newRow(p, rep, events)
}

// Virtual is the Player of the virtual engine. Its history merges
// renewals and lets steady clients coast (virtual.Options.MergeRenewals):
// the same report as every event played, in a fraction of the time; the
// row's event count is the report's, merged renewals included.
func Virtual(ctx context.Context, p Point) (*check.Report, int, error) {
	e, err := virtual.RunScenarioOptions(ctx, p.Scenario, virtual.Options{MergeRenewals: true})
	if err != nil {
		return nil, 0, err
	}
	rep, _ := check.AnalyzeSource(e.History(), sim.CheckLab(p.Scenario, "virtual"))
	return rep, rep.Events, nil
}

func newRow(p Point, r *check.Report, events int) (Row, error) {
	sc := p.Scenario
	row := Row{
		Point: p.Index, Grid: p.Grid, Model: string(p.Model),
		T1S: p.Lifetimes.T1.Seconds(), T2S: p.Lifetimes.T2.Seconds(),
		PreferredS: p.Lifetimes.Preferred.Seconds(), ValidS: p.Lifetimes.Valid.Seconds(),
		FaultS: sc.Timeline[0].At.Seconds(), DurationS: sc.Duration.Seconds(), Clients: sc.Clients.Count,
		RebindFailure: r.Rebind.FailureRate, Continuity: r.Continuity,
		Duplicates: r.Duplicates.Addresses, Unrecovered: r.Unrecovered,
		ServerSteadyMPS: map[string]*float64{}, ServerPeakMPS: map[string]*float64{},
		Events: events,
	}
	if q := r.ReacquireS; q != nil {
		row.ReacquireP50, row.ReacquireP99 = &q.P50, &q.P99
	}
	if q := r.OutageS; q != nil {
		row.OutageP99 = &q.P99
	}
	if l := r.Load; l != nil {
		row.SteadyMPS, row.PeakMPS = l.SteadyMPS, l.PeakMPS
		for name, s := range l.Servers {
			row.ServerSteadyMPS[name], row.ServerPeakMPS[name] = s.SteadyMPS, s.PeakMPS
		}
	}
	m, err := flatten(r)
	if err != nil {
		return Row{}, err
	}
	row.Metrics = m
	return row, nil
}

// flatten returns every number (and null) of the report's JSON by its
// dotted path, leaving out lists (servers, evidence, expect, series) and
// the binding share and usage blocks (time series, not metrics).
func flatten(r *check.Report) (map[string]any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("flatten report: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("flatten report: %w", err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if prefix == "" && (k == "binding_share" || k == "usage" || k == "timescale") {
					continue
				}
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x[k])
			}
		case float64, nil:
			if prefix != "" {
				out[prefix] = x
			}
		}
	}
	walk("", doc)
	return out, nil
}

// MarkPareto marks, per model, the rows on the front of steady load
// against outage p99 and against re-acquisition p99 (Run does; call it
// again over rows joined from several Runs).
func MarkPareto(rows []Row) {
	byModel := map[string][]int{}
	for i := range rows {
		rows[i].ParetoOutage, rows[i].ParetoReacquire = false, false
		byModel[rows[i].Model] = append(byModel[rows[i].Model], i)
	}
	for _, idx := range byModel {
		for _, i := range Front(rows, idx, func(r *Row) *float64 { return r.OutageP99 }) {
			rows[i].ParetoOutage = true
		}
		for _, i := range Front(rows, idx, func(r *Row) *float64 { return r.ReacquireP99 }) {
			rows[i].ParetoReacquire = true
		}
	}
}

// Front returns the rows among idx on the Pareto front of steady load
// (x) against y, both smaller better: those no other row matches or
// beats on both with one strictly better. Rows with either unknown are
// left out. The result is ordered by load.
func Front(rows []Row, idx []int, y func(*Row) *float64) []int {
	var c []int
	for _, i := range idx {
		if rows[i].SteadyMPS != nil && y(&rows[i]) != nil {
			c = append(c, i)
		}
	}
	sort.SliceStable(c, func(a, b int) bool {
		ra, rb := &rows[c[a]], &rows[c[b]]
		if *ra.SteadyMPS != *rb.SteadyMPS {
			return *ra.SteadyMPS < *rb.SteadyMPS
		}
		return *y(ra) < *y(rb)
	})
	var out []int
	best := 0.0
	for k, i := range c {
		v := *y(&rows[i])
		if k == 0 || v < best {
			out = append(out, i)
			best = v
		}
	}
	return out
}
