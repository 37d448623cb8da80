package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/reports/render"
	"d6lab/scenarios"
	"d6lab/server"
	"d6lab/sim"
	"d6lab/sim/lab"
	"d6lab/sim/virtual"
)

// exitInterrupted is the conventional code of a run stopped by SIGINT.
const exitInterrupted = 130

func runCmd() *cobra.Command {
	var out, engine string
	c := &cobra.Command{
		Use:   "run SCENARIO.yaml...",
		Short: "Run scenario files in network namespaces and report each (needs root)",
		Long: `run loads each scenario (exit 2 naming file, line and field if one is malformed, before
anything is created), plays it in a fresh lab of network namespaces with real server
processes, prints the report table and writes DIR/<scenario>/report.json and
history.jsonl. It exits 1 when an expect: bound of any scenario is broken.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Load everything first: a bad file stops the command before
			// any namespace exists.
			var scs []*scenarios.Scenario
			for _, path := range args {
				sc, err := scenarios.Load(path)
				if err != nil {
					return &exitError{code: exitBadInput, err: err}
				}
				scs = append(scs, sc)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			broken := 0
			for _, sc := range scs {
				dir := filepath.Join(out, sc.Name)
				rep, err := runOne(ctx, sc, engine, dir, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				if err := render.Table(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n\n", filepath.Join(dir, "report.json"))
				if !rep.OK() {
					broken++
				}
			}
			if broken > 0 {
				return &exitError{code: exitBroken, err: fmt.Errorf("%d of %d scenarios broke an expectation", broken, len(scs))}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "out", "output directory")
	c.Flags().StringVar(&engine, "engine", "netns", "netns (real processes in network namespaces, needs root) or virtual (in-process, virtual clock)")
	return c
}

func compareCmd() *cobra.Command {
	var (
		out, engine string
		clients     int
	)
	c := &cobra.Command{
		Use:   "compare",
		Short: "Run the three RFC 6853 models against the same fault and print them side by side (needs root)",
		Long: `compare runs split, unique and identical (hash allocators) with two builtin servers,
Preference 255 and 0, kills the preferred server mid-lease, and prints one table.
It writes DIR/compare.json ({"runs": [report, ...]}) and each model's report and
history under DIR/<model>/. It exits 1 when a model broke what RFC 6853 predicts for it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if clients < 1 || clients > 100000 {
				return badInput("--clients %d: want 1..100000", clients)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var reps []*check.Report
			for _, m := range scenarios.Models {
				sc := scenarios.Compare(m, clients)
				rep, err := runOne(ctx, sc, engine, filepath.Join(out, string(m)), cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				reps = append(reps, rep)
			}
			if err := render.Compare(cmd.OutOrStdout(), reps); err != nil {
				return err
			}
			if err := render.SaveCompare(out, reps); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(out, "compare.json"))
			for _, r := range reps {
				if !r.OK() {
					return &exitError{code: exitBroken, err: fmt.Errorf("model %s broke an expectation (see %s)", r.Model, filepath.Join(out, r.Model, "report.json"))}
				}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "out", "output directory")
	c.Flags().IntVar(&clients, "clients", 1000, "simulated clients per model")
	c.Flags().StringVar(&engine, "engine", "netns", "netns (real processes in network namespaces, needs root) or virtual (in-process, virtual clock)")
	return c
}

// runOne plays sc in the netns engine, analyses the history, evaluates the
// scenario's expectations and saves report.json and history.jsonl in dir.
func runOne(ctx context.Context, sc *scenarios.Scenario, engine, dir string, progress io.Writer) (*check.Report, error) {
	l := check.Lab{
		Scenario:  sc.Name,
		Model:     string(sc.Model),
		Engine:    engine,
		Timescale: sc.Clients.Timescale,
	}
	for i, s := range sc.Servers {
		l.Servers = append(l.Servers, check.ServerInfo{Name: s.Name, DUID: server.FormatDUID(sim.ServerDUID(i)), Prefix: s.Prefix})
	}
	var events []history.Event
	switch engine {
	case "netns":
		if os.Geteuid() != 0 {
			return nil, badInput("the netns engine needs root (CAP_NET_ADMIN) to create network namespaces; --engine virtual does not")
		}
		res, err := lab.Run(ctx, sc, lab.Options{OutDir: dir, Log: progress, Terminal: isTerminal(progress)})
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, &exitError{code: exitInterrupted, err: fmt.Errorf("%s: interrupted; the lab was torn down", sc.Name)}
			}
			return nil, &exitError{code: exitBadInput, err: fmt.Errorf("%s: %w", sc.Name, err)}
		}
		events, l.Start, l.End = res.Events, res.Start, res.End
	case "virtual":
		e, err := virtual.RunScenario(sc)
		if err != nil {
			return nil, &exitError{code: exitBadInput, err: fmt.Errorf("%s: %w", sc.Name, err)}
		}
		events = e.Events()
	default:
		return nil, badInput("--engine %q: want netns or virtual", engine)
	}
	rep := check.Analyze(events, l)
	rep.Evaluate(bounds(sc.Expect))
	if err := render.SaveRun(dir, rep, events); err != nil {
		return nil, err
	}
	return rep, nil
}

// bounds converts the scenario's expectations to the checker's.
func bounds(ex []scenarios.Expect) []check.Bound {
	out := make([]check.Bound, len(ex))
	for i, e := range ex {
		out[i] = check.Bound{Path: e.Path, Op: e.Op, Value: e.Value, Raw: e.Raw}
	}
	return out
}

// isTerminal reports whether w is a terminal that a progress bar may redraw
// (never under CI=true).
func isTerminal(w io.Writer) bool {
	if os.Getenv("CI") == "true" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
