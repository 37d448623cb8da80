package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/reports/render"
	"d6lab/scenarios"
)

func reportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Rebuild every output of a run or a comparison from its stored history, without re-running",
		Long: `report reads what run or compare left in DIR and rebuilds every output from the
stored history.jsonl: the analysis, the expect: bounds (as report.json recorded
them), report.json, report.html, report.md and junit.xml. DIR may be

  a run directory (report.json + history.jsonl), as run writes DIR/<scenario>/;
  a comparison (compare.json, with each model's run directory under it): its
    compare.json, report.html, report.md and junit.xml are rebuilt too;
  the --out directory of run, holding one run directory per scenario.

A run made with --no-history-file keeps no history.jsonl and cannot be rebuilt;
report then rewrites nothing and says so.

It exits 0 when every expectation holds, 1 when one is broken, 2 when DIR is
not such a directory or its files cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return report(cmd.OutOrStdout(), args[0])
		},
	}
}

// report rebuilds the outputs in dir (see reportCmd).
func report(w io.Writer, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return badDir(dir, err)
	}
	if !fi.IsDir() {
		return badDir(dir, errors.New("not a directory"))
	}
	switch {
	case exists(filepath.Join(dir, render.CompareFile)):
		return reportCompare(w, dir)
	case exists(filepath.Join(dir, render.ReportFile)):
		run, err := rebuildRun(dir)
		if err != nil {
			return err
		}
		return printRun(w, dir, run)
	}
	// run --out DIR: one run directory per scenario
	entries, err := os.ReadDir(dir)
	if err != nil {
		return badDir(dir, err)
	}
	var subs []string
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if e.IsDir() && exists(filepath.Join(sub, render.ReportFile)) {
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		return badDir(dir, fmt.Errorf("no %s, no %s, and no run directory holding a %s: not a d6lab run or compare directory",
			render.ReportFile, render.CompareFile, render.ReportFile))
	}
	// Every run directory holds its history, or none is rewritten.
	for _, sub := range subs {
		if err := historyMissing(sub); err != nil {
			return err
		}
	}
	var broken []string
	for _, sub := range subs {
		run, err := rebuildRun(sub)
		if err != nil {
			return err
		}
		if err := printRun(w, sub, run); err != nil {
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitBroken {
				return err
			}
			broken = append(broken, brokenBounds(run.Report, filepath.Join(sub, render.JUnitFile))...)
		}
	}
	return brokenError(broken)
}

func printRun(w io.Writer, dir string, run *render.Run) error {
	if err := render.Table(w, run.Report); err != nil {
		return err
	}
	fmt.Fprintf(w, "rebuilt %s/{%s,%s,%s,%s} from %s\n\n", dir,
		render.ReportFile, render.HTMLFile, render.MarkdownFile, render.JUnitFile, render.HistoryFile)
	return brokenError(brokenBounds(run.Report, filepath.Join(dir, render.JUnitFile)))
}

// reportCompare rebuilds each model's run directory, then the comparison.
func reportCompare(w io.Writer, dir string) error {
	f, err := os.Open(filepath.Join(dir, render.CompareFile))
	if err != nil {
		return badDir(dir, err)
	}
	old, err := render.ReadCompare(f)
	f.Close()
	if err != nil {
		return badDir(dir, err)
	}
	if len(old) == 0 {
		return badDir(dir, fmt.Errorf("%s lists no runs", render.CompareFile))
	}
	var subs []string
	for _, r := range old {
		sub := ""
		// compare writes each run under its variant's name (split, ...,
		// identical-sequential: the scenario less "compare-"); older
		// comparisons, under the model's.
		variant, _ := strings.CutPrefix(r.Scenario, "compare-")
		for _, name := range []string{variant, r.Model, r.Scenario} {
			if name != "" && exists(filepath.Join(dir, name, render.ReportFile)) {
				sub = filepath.Join(dir, name)
				break
			}
		}
		if sub == "" {
			return badDir(dir, fmt.Errorf("the run of model %q (scenario %q) has no directory with a %s under %s; the comparison cannot be rebuilt without its histories",
				r.Model, r.Scenario, render.ReportFile, dir))
		}
		// Every run directory holds its history, or none is rewritten.
		if err := historyMissing(sub); err != nil {
			return err
		}
		subs = append(subs, sub)
	}
	var runs []*render.Run
	for _, sub := range subs {
		run, err := rebuildRun(sub)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "rebuilt %s/{%s,%s,%s,%s}\n", sub, render.ReportFile, render.HTMLFile, render.MarkdownFile, render.JUnitFile)
		runs = append(runs, run)
	}
	return finishCompare(w, dir, runs)
}

// rebuildRun recomputes a run directory's report from its history.jsonl,
// re-evaluates the bounds its report.json recorded, and rewrites its
// outputs (history.jsonl is left as it is).
func rebuildRun(dir string) (*render.Run, error) {
	old, err := load(filepath.Join(dir, render.ReportFile), render.ReadReport)
	if err != nil {
		return nil, badDir(dir, err)
	}
	if err := historyMissing(dir); err != nil {
		return nil, err
	}
	// Read into a compact log: a million-client day's history as
	// []history.Event took 4.5 GiB.
	events, err := load(filepath.Join(dir, render.HistoryFile), history.ReadJSONLLog)
	if err != nil {
		return nil, badDir(dir, err)
	}
	bounds, err := storedBounds(old.Expect)
	if err != nil {
		return nil, badDir(dir, fmt.Errorf("%s: %w", render.ReportFile, err))
	}
	rep, samples := check.AnalyzeSource(events, old.Lab())
	rep.Evaluate(bounds)
	run := render.NewRun(rep, samples, events)
	if err := saveRun(dir, run, nil); err != nil {
		return nil, err
	}
	return run, nil
}

// historyMissing is the error for a run directory that holds no
// history.jsonl, nil for one that does.
func historyMissing(dir string) error {
	if exists(filepath.Join(dir, render.HistoryFile)) {
		return nil
	}
	return badDir(dir, fmt.Errorf("no %s (a run made with --no-history-file keeps none): its %s and pages cannot be rebuilt without it; run the scenario again",
		render.HistoryFile, render.ReportFile))
}

// storedBounds turns the expect results a report.json recorded back into
// bounds: each keeps its metric path and the bound as written ("<= 0.05").
func storedBounds(ex []check.ExpectResult) ([]check.Bound, error) {
	out := make([]check.Bound, 0, len(ex))
	for i, x := range ex {
		if x.Name == "" {
			return nil, fmt.Errorf("expect[%d] has no metric name", i)
		}
		op, v, err := scenarios.ParseBound(x.Bound)
		if err != nil {
			return nil, fmt.Errorf("expect[%d] (%s): %w", i, x.Name, err)
		}
		if !slices.Contains(check.Ops, op) {
			return nil, fmt.Errorf("expect[%d] (%s): operator %q", i, x.Name, op)
		}
		out = append(out, check.Bound{Path: x.Name, Op: op, Value: v, Raw: x.Bound})
	}
	return out, nil
}

func load[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// badDir is exit 2 for a directory report cannot rebuild.
func badDir(dir string, err error) error {
	return &exitError{code: exitBadInput, kind: "bad run directory", err: fmt.Errorf("%s: %w", dir, err)}
}
