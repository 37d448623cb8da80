package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"d6lab/reports/check"
	"d6lab/scenarios"
	"d6lab/sim/session"
	"d6lab/sim/sweep"
	"d6lab/sim/virtual"
)

func sweepCmd() *cobra.Command {
	var (
		vary      []string
		models    []string
		engine    string
		out       string
		clients   int
		workers   int
		validate  int
		tolerance float64
	)
	c := &cobra.Command{
		Use:   "sweep SCENARIO.yaml --vary lifetimes.FIELD=V,...[,lifetimes.FIELD=V,...]",
		Short: "Run a grid of lifetimes in every model and chart server load against outage and re-acquisition",
		Long: `sweep runs the cartesian product of the --vary values (lifetimes.t1, t2, preferred,
valid: durations, or for t1, t2 and preferred ratios of valid such as 0.5v) in each
of --models, on the virtual engine, GOMAXPROCS points at a time (--workers), or with
--engine netns as d6lab run would, one lab at a time, in real time.
Each point's scenario has as many servers as the file, built as d6lab compare
builds them (s1 at Preference 255, the others at 0, the model's pools and
allocator), the scenario file's clients (--clients overrides the count) arriving
over one t1 (or the file's ramp when longer), and the file's first kill, freeze or
cut alone, at ramp + 2 x t1 (rounded up to a second); it lasts fault + valid + 30s.
A lifetime no --vary names keeps the file's ratio to valid (preferred raised to t2
when shorter). Every point is validated before any runs: a bad one is exit 2,
naming the point and the field.
It writes DIR/sweep.json (one row per point: the lifetimes and every numeric
report metric, server load per server and in total), DIR/sweep.html (every model
on one chart, then per model steady server load against outage p99 and
re-acquisition p99 with the Pareto front, and the table) and DIR/sweep.svg (the
first chart). --validate N plays N points again in netns (the first model's
shortest Pareto points) and compares re-acquisition p50 and steady load within
--tolerance. Exit 0, 1 when a validation finds the engines disagree, 2 on bad input.`,
		Example: `  d6lab sweep scenarios/split-kill.yaml --clients 10000 \
      --vary lifetimes.valid=60s,300s,900s,1800s,3600s,lifetimes.t1=0.25v,0.5v,0.8v,lifetimes.t2=0.8v`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if engine != "virtual" && engine != "netns" {
				return badInput("--engine %q: want virtual or netns", engine)
			}
			if validate < 0 {
				return badInput("--validate %d: want a number of points (0: none)", validate)
			}
			if validate > 0 && engine != "virtual" {
				return badInput("--validate plays virtual points again in netns; the sweep is already --engine %s", engine)
			}
			if !(tolerance > 0 && tolerance < 1) {
				return badInput("--tolerance %v: want a share in (0, 1), such as 0.05", tolerance)
			}
			if (engine == "netns" || validate > 0) && os.Geteuid() != 0 {
				return badInput("the netns engine needs root (CAP_NET_ADMIN) to create network namespaces")
			}
			if cmd.Flags().Changed("clients") && (clients < 1 || clients > scenarios.MaxClients) {
				return badInput("--clients %d: want 1..%d", clients, scenarios.MaxClients)
			}
			if workers < 0 {
				return badInput("--workers %d: want 0 (GOMAXPROCS) or more", workers)
			}
			axes, err := sweep.ParseVary(vary)
			if err != nil {
				return badInput("%v", err)
			}
			ms, err := sweep.Models(models)
			if err != nil {
				return badInput("%v", err)
			}
			base, err := scenarios.Load(args[0])
			if err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			if engine == "virtual" {
				if err := virtual.Check(base); err != nil {
					return badInput("%s: %v", base.Name, err)
				}
			}
			pts, err := sweep.Plan(base, axes, ms, clients)
			if err != nil {
				return badInput("%v", err)
			}
			n := base.Clients.Count
			if clients > 0 {
				n = clients
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			w := cmd.ErrOrStderr()
			prog := session.NewProgress(w, isTerminal(w))
			var done atomic.Int64
			atOnce := cmp.Or(workers, runtime.GOMAXPROCS(0))
			if engine == "netns" {
				atOnce = 1
			}
			prog.Logf("sweep %s: %d grid points x %d models = %d runs, %d clients each, %d at a time",
				base.Name, len(pts)/len(ms), len(ms), len(pts), n, atOnce)
			// The bar fills over 10 minutes, the time a 10,000-client
			// sweep of 45 points should stay under; its label counts runs.
			prog.Start(10*time.Minute, 10*time.Second, func(el time.Duration) string {
				return fmt.Sprintf("sweep: %d/%d runs, %s", done.Load(), len(pts), el.Truncate(time.Second))
			})
			t0 := time.Now()
			opt := sweep.Options{Workers: workers}
			if engine == "netns" {
				// One lab at a time: labs side by side on this machine's
				// cores would measure each other.
				opt.Play, opt.Workers = netnsPlayer(out, prog), 1
			}
			opt.Done = func(p sweep.Point, k int, wall time.Duration) {
				done.Store(int64(k))
				prog.Logf("%d/%d point %d %s %s: %s", k, len(pts), p.Index+1, p.Model, sweep.Label(p.Lifetimes), wall.Round(time.Millisecond))
			}
			rows, err := sweep.Run(ctx, pts, opt)
			var val *sweep.Validation
			if err == nil && validate > 0 {
				idx := sweep.PickValidation(rows, string(ms[0]), validate)
				prog.Logf("validation: points %s again in netns", pointList(idx, rows))
				val, err = sweep.Validate(ctx, pts, rows, idx, "netns", netnsPlayer(out, prog), tolerance, func(a sweep.Agreement) {
					prog.Logf("validation point %d %s %s: %s", a.Point+1, a.Model, a.Lifetimes, agreementLine(a))
				})
			}
			prog.End()
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return &exitError{code: exitInterrupted, err: errors.New("sweep: interrupted")}
				}
				return labFailed(err)
			}
			var names []string
			for _, m := range ms {
				names = append(names, string(m))
			}
			s := &sweep.Sweep{Scenario: base.Name, File: base.File, Engine: engine, Clients: n, Models: names,
				Vary: sweep.AxisStrings(axes), Rule: sweep.FaultRule, WallS: time.Since(t0).Seconds(), Rows: rows, Validation: val}
			if err := sweep.Save(out, s); err != nil {
				return outputFailed(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d runs in %.1f s; wrote %s and %s\n", len(rows), s.WallS,
				filepath.Join(out, sweep.JSONFile), filepath.Join(out, sweep.HTMLFile))
			if val == nil {
				return nil
			}
			for _, a := range val.Points {
				fmt.Fprintf(cmd.OutOrStdout(), "validation point %d (%s, %s) virtual against netns: %s\n", a.Point+1, a.Model, a.Lifetimes, agreementLine(a))
			}
			if !val.OK {
				return &exitError{code: exitBroken, err: fmt.Errorf("sweep: the engines disagree by more than %.0f %% (validation above)", 100*tolerance)}
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&vary, "vary", nil, "the grid: lifetimes.FIELD=V,V,...,lifetimes.FIELD=V,... (durations, or ratios of valid: 0.5v); repeatable")
	c.Flags().StringSliceVar(&models, "models", []string{"split", "unique", "identical"}, "models to run each point in: "+strings.Join([]string{"split", "unique", "identical"}, ","))
	c.Flags().StringVar(&engine, "engine", "virtual", "virtual (in-process, points in parallel) or netns (real processes, one point at a time, needs root)")
	c.Flags().IntVar(&validate, "validate", 0, "play this many points again in netns (the first model's shortest Pareto points) and compare re-acquisition p50 and steady load (needs root)")
	c.Flags().Float64Var(&tolerance, "tolerance", sweep.DefaultTolerance, "the largest relative difference --validate accepts")
	c.Flags().StringVarP(&out, "out", "o", "out/sweep", "output directory")
	c.Flags().IntVar(&clients, "clients", 0, "simulated clients per run (default: the scenario's clients.count)")
	c.Flags().IntVar(&workers, "workers", 0, "runs at once (0: GOMAXPROCS)")
	return c
}

// netnsPlayer plays sweep points in the netns engine as d6lab run does,
// each point's outputs in DIR/points/NNN-MODEL (no capture).
func netnsPlayer(dir string, prog *session.Progress) sweep.Player {
	return func(ctx context.Context, p sweep.Point) (*check.Report, int, error) {
		d := filepath.Join(dir, "points", fmt.Sprintf("%03d-%s", p.Index+1, p.Model))
		run, err := runOne(ctx, p.Scenario, "netns", d, 0, prog.Lines())
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err() // interrupted: the lab was torn down
			}
			return nil, 0, err
		}
		return run.Report, run.Report.Events, nil
	}
}

// agreementLine is one validated point: each metric from both engines.
func agreementLine(a sweep.Agreement) string {
	var parts []string
	for _, c := range a.Metrics {
		f := func(p *float64) string {
			if p == nil {
				return "n/a"
			}
			return strconv.FormatFloat(*p, 'f', 2, 64)
		}
		d := "n/a"
		if c.Diff != nil {
			d = strconv.FormatFloat(100**c.Diff, 'f', 1, 64) + " %"
		}
		verdict := "ok"
		if !c.OK {
			verdict = "DISAGREE"
		}
		parts = append(parts, fmt.Sprintf("%s %s / %s (%s, %s)", c.Metric, f(c.Sweep), f(c.Again), d, verdict))
	}
	return strings.Join(parts, "; ")
}

func pointList(idx []int, rows []sweep.Row) string {
	var s []string
	for _, i := range idx {
		s = append(s, strconv.Itoa(rows[i].Point+1))
	}
	return strings.Join(s, ", ")
}
