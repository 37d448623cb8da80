package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/reports/render"
	"d6lab/scenarios"
	"d6lab/server/daemon"
	"d6lab/sim"
	"d6lab/sim/lab"
	"d6lab/sim/nameserver"
	"d6lab/sim/virtual"
)

// exitInterrupted is the conventional code of a run stopped by SIGINT.
const exitInterrupted = 130

func runCmd() *cobra.Command {
	var out, engine, cpuProfile string
	var hist historyFlags
	var pcapMax int64
	var cf clientFlags
	c := &cobra.Command{
		Use:   "run SCENARIO.yaml...",
		Short: "Run scenario files in network namespaces and report each (needs root)",
		Long: `run loads each scenario (exit 2 naming file, line and field if one is malformed, before
anything is created), plays it in a fresh lab of network namespaces with real server
processes, prints the report table and writes DIR/<scenario>/: report.json,
history.jsonl (unless --no-history-file), report.html (charts, works offline),
report.md and junit.xml, and with the netns engine clients.pcap, the clients'
DHCPv6 traffic (--pcap-max).
It exits 0 when every expect: bound of every scenario holds, 1 when one is
broken (junit.xml and the table say which), 2 on bad input or a lab that
could not be set up or run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pcapMax < 0 {
				return badInput("--pcap-max %d: want a size in bytes, or 0 for no capture", pcapMax)
			}
			if err := cf.check(); err != nil {
				return err
			}
			vopt, err := historyFlag(hist, engine)
			if err != nil {
				return err
			}
			// Load everything first: a bad file stops the command before
			// any namespace exists.
			scs, err := loadScenarios(args, &cf)
			if err != nil {
				return err
			}
			if err := engineReady(scs, engine); err != nil {
				return err
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return badInput("--cpuprofile: %v", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return badInput("--cpuprofile: %v", err)
				}
				defer pprof.StopCPUProfile()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var broken []string
			saved := outputs{pcapMax: pcapMax, noHistory: hist.noFile}
			for _, sc := range scs {
				dir := filepath.Join(out, sc.Name)
				o := vopt
				var prog *virtualProgress
				if engine == "virtual" {
					prog = startVirtualProgress(cmd.ErrOrStderr(), []*scenarios.Scenario{sc})
					o = prog.options(0, vopt)
				}
				run, err := runOneOptions(ctx, sc, engine, dir, saved, cmd.ErrOrStderr(), o)
				if prog != nil {
					prog.end()
				}
				if err != nil {
					return err
				}
				if err := render.Table(cmd.OutOrStdout(), run.Report); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/{%s}\n\n", dir, strings.Join(saved.files(), ","))
				broken = append(broken, brokenBounds(run.Report, filepath.Join(dir, render.JUnitFile))...)
			}
			return brokenError(broken)
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "out", "output directory")
	c.Flags().StringVar(&engine, "engine", "netns", "netns (real processes in network namespaces, needs root) or virtual (in-process, virtual clock)")
	historyFlagAdd(c, &hist)
	c.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the whole command to this file")
	_ = c.Flags().MarkHidden("cpuprofile")
	pcapFlag(c, &pcapMax)
	cf.add(c, true)
	return c
}

// historyFlags are --history, --play-renewals and --no-history-file
// (historyFlag checks them).
type historyFlags struct {
	mode   string
	play   bool
	noFile bool
}

// historyFlagAdd adds --history, --play-renewals and --no-history-file.
func historyFlagAdd(c *cobra.Command, hist *historyFlags) {
	c.Flags().StringVar(&hist.mode, "history", historyFull, "with --engine virtual: "+historyFull+" (every event) or "+historyMerge+
		" (a renewal that only extends the client's last grant is counted in that grant's event, not appended: a tenth of the events of a day of renewals, the same report;"+
		" and a bound client's steady renewals up to the next action are played at once, without messages: the same history, many times faster)")
	c.Flags().BoolVar(&hist.play, "play-renewals", false, "with --history "+historyMerge+": play every renewal on the virtual link, as --history "+historyFull+" does (the same history, slower: to check)")
	c.Flags().BoolVar(&hist.noFile, "no-history-file", false, "with --engine virtual: write no "+render.HistoryFile+" (and remove an earlier run's); the report and pages are the same, read from the history in memory, but d6lab report cannot rebuild them (a million-client day's history.jsonl is 1 GB)")
}

// --history's values.
const (
	historyFull  = "full"
	historyMerge = "merge-renewals"
)

// historyFlag checks the history flags against the engine and returns the
// virtual engine's options for them.
func historyFlag(hist historyFlags, engine string) (virtual.Options, error) {
	if hist.noFile && engine != "virtual" {
		return virtual.Options{}, badInput("--no-history-file: only --engine virtual; the %s engine always writes %s", engine, render.HistoryFile)
	}
	switch hist.mode {
	case historyFull:
		if hist.play {
			return virtual.Options{}, badInput("--play-renewals: only with --history %s (--history %s plays every renewal)", historyMerge, historyFull)
		}
		return virtual.Options{}, nil
	case historyMerge:
		if engine != "virtual" {
			return virtual.Options{}, badInput("--history %s: only --engine virtual merges renewals; the %s engine records every event", hist.mode, engine)
		}
		return virtual.Options{MergeRenewals: true, PlayRenewals: hist.play}, nil
	}
	return virtual.Options{}, badInput("--history %q: want %s or %s", hist.mode, historyFull, historyMerge)
}

// loadScenarios loads every file (exit 2 naming file, line and field for
// a malformed one) and applies the client flags to each.
func loadScenarios(paths []string, cf *clientFlags) ([]*scenarios.Scenario, error) {
	var scs []*scenarios.Scenario
	for _, path := range paths {
		sc, err := scenarios.Load(path)
		if err != nil {
			return nil, &exitError{code: exitBadInput, err: err}
		}
		if err := cf.apply(sc); err != nil {
			return nil, err
		}
		scs = append(scs, sc)
	}
	return scs, nil
}

// engineReady fails (exit 2) before any scenario runs when one cannot
// play on the engine: the virtual engine refuses what only the netns
// engine does (virtual.Check: other server kinds, real clients, dns:,
// ...), and a dns: block needs BIND 9 (nameserver.Installed).
func engineReady(scs []*scenarios.Scenario, engine string) error {
	for _, sc := range scs {
		switch {
		case engine == "virtual":
			if err := virtual.Check(sc); err != nil {
				return badInput("%s: %v", sc.Name, err)
			}
		case engine == "netns" && sc.DNS != nil:
			if err := nameserver.Installed(); err != nil {
				return badInput("%s: dns: %v", sc.Name, err)
			}
		}
	}
	return nil
}

func compareCmd() *cobra.Command {
	var (
		out, engine string
		hist        historyFlags
		kind        string
		clients     int
		pcapMax     int64
		cf          clientFlags
		withDNS     bool
	)
	c := &cobra.Command{
		Use:   "compare [SCENARIO.yaml...]",
		Short: "Run the three RFC 6853 models against the same fault and print them side by side (needs root)",
		Long: `compare runs split, unique, identical (hash allocators) and identical-sequential with
two servers of one kind (--server, builtin by default; a third-party kind keeps its own
allocator and rebind behaviour, which the run's log notes, so it runs the three models
only), Preference 255 and 0, kills the preferred server mid-lease, lets a tenth more
clients arrive while it is down (RFC 6853 §7), and prints one table.
Given scenario files instead, it runs those and prints them side by side the same way.
--profile and --real change the clients of every run: the simulated clients' profile,
and real clients (dhclient, dhcpcd, ...) mixed in, whose own rows the table adds, with
how far the simulated clients' re-acquisition p50 is from each real kind's.
--dns puts the lab's BIND 9 beside the servers in every run (dns: {zone: lab.example.}
and leasequery: {} with their defaults, where a scenario file has no such block): the
servers update it and a prober asks them where clients are bound, and the table adds
the DNS and Leasequery rows (RFC 6853 §7).
It writes DIR/compare.json ({"runs": [report, ...]}), DIR/report.html (every model
on shared charts), DIR/report.md and DIR/junit.xml (one test suite per model),
and each model's files under DIR/<model>/. It exits 0 when every model did what
RFC 6853 predicts for it, 1 when one did not, 2 on bad input or a lab failure.`,
		Example: `  d6lab compare --clients 1000
  d6lab compare --server kea --clients 300
  d6lab compare --dns --clients 300
  d6lab compare scenarios/split-kill.yaml scenarios/unique-kill.yaml scenarios/identical-kill.yaml \
      --profile dhclient --real dhclient=5`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if clients < 1 || clients > scenarios.MaxClients {
				return badInput("--clients %d: want 1..%d", clients, scenarios.MaxClients)
			}
			if pcapMax < 0 {
				return badInput("--pcap-max %d: want a size in bytes, or 0 for no capture", pcapMax)
			}
			if _, err := daemon.Lookup(deploy.Kind(kind)); err != nil || !slices.Contains(deploy.Kinds, deploy.Kind(kind)) {
				return badInput("--server %q: want one of %v", kind, daemon.Kinds())
			}
			if err := cf.check(); err != nil {
				return err
			}
			vopt, err := historyFlag(hist, engine)
			if err != nil {
				return err
			}
			type column struct {
				sc  *scenarios.Scenario
				dir string
			}
			var cols []column
			if len(args) > 0 {
				if cmd.Flags().Changed("clients") {
					cf.count = clients
				}
				if cmd.Flags().Changed("server") {
					return badInput("--server applies to the built-in comparison; a scenario file names its servers' kinds")
				}
				scs, err := loadScenarios(args, &cf)
				if err != nil {
					return err
				}
				for _, sc := range scs {
					cols = append(cols, column{sc, filepath.Join(out, sc.Name)})
				}
			} else {
				for _, v := range scenarios.CompareVariants {
					if v.Allocator != "" && kind != string(deploy.Builtin) {
						continue // a third-party server keeps its own allocator
					}
					sc := scenarios.Compare(v, clients)
					for i := range sc.Servers {
						sc.Servers[i].Kind = deploy.Kind(kind)
					}
					if err := cf.apply(sc); err != nil {
						return err
					}
					cols = append(cols, column{sc, filepath.Join(out, v.Name())})
				}
			}
			var scs []*scenarios.Scenario
			for _, col := range cols {
				if withDNS {
					col.sc.EnableDNS()
					if err := col.sc.Validate(); err != nil {
						return badInput("--dns: %s: %v", col.sc.Name, err)
					}
				}
				scs = append(scs, col.sc)
			}
			if err := engineReady(scs, engine); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// The netns engine's labs run one at a time; the virtual
			// engine's runs share nothing, so as many at once as there
			// are cores (each its own engine, seeded: the same reports).
			workers := 1
			if engine == "virtual" {
				workers = runtime.GOMAXPROCS(0)
			}
			runs := make([]*render.Run, len(cols))
			errs := make([]error, len(cols))
			var prog *virtualProgress
			if engine == "virtual" {
				prog = startVirtualProgress(cmd.ErrOrStderr(), scs)
			}
			sem := make(chan struct{}, workers)
			var wg sync.WaitGroup
			for i, col := range cols {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					o := vopt
					if prog != nil {
						o = prog.options(i, vopt)
					}
					runs[i], errs[i] = runOneOptions(ctx, col.sc, engine, col.dir, outputs{pcapMax: pcapMax, noHistory: hist.noFile}, cmd.ErrOrStderr(), o)
				}()
				if workers == 1 {
					wg.Wait()
					if errs[i] != nil {
						return errs[i]
					}
				}
			}
			wg.Wait()
			if prog != nil {
				prog.end()
			}
			for _, err := range errs {
				if err != nil {
					return err // the first model's, in the table's order
				}
			}
			return finishCompare(cmd.OutOrStdout(), out, runs)
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "out", "output directory")
	c.Flags().IntVar(&clients, "clients", 1000, "simulated clients per model (with scenario files: overrides clients.count when given)")
	c.Flags().StringVar(&kind, "server", string(deploy.Builtin), "server kind every model runs: "+kindList())
	c.Flags().BoolVar(&withDNS, "dns", false, "run BIND 9 in every lab (dns: {zone: "+scenarios.DefaultDNSZone+"}) and the Leasequery prober (leasequery: {}), unless a scenario file has its own blocks (netns engine)")
	c.Flags().StringVar(&engine, "engine", "netns", "netns (real processes in network namespaces, needs root) or virtual (in-process, virtual clock; the models run side by side, one per core)")
	historyFlagAdd(c, &hist)
	pcapFlag(c, &pcapMax)
	cf.add(c, false)
	return c
}

// pcapFlag adds --pcap-max: the size cap of DIR/<scenario>/clients.pcap.
func pcapFlag(c *cobra.Command, max *int64) {
	c.Flags().Int64Var(max, "pcap-max", lab.DefaultPcapMax, "size cap in bytes of clients.pcap, the capture of the clients' DHCPv6 traffic (netns engine); 0: no capture")
}

// runOne plays sc in the chosen engine, analyses the history, evaluates the
// scenario's expectations and saves every output in dir (report.json,
// history.jsonl, report.html, report.md, junit.xml; with the netns engine
// also clients.pcap, capped at pcapMax bytes, none when 0).
func runOne(ctx context.Context, sc *scenarios.Scenario, engine, dir string, pcapMax int64, progress io.Writer) (*render.Run, error) {
	return runOneOptions(ctx, sc, engine, dir, outputs{pcapMax: pcapMax}, progress, virtual.Options{})
}

// outputs are what a run saves beside its report and pages.
type outputs struct {
	pcapMax   int64 // clients.pcap's cap in bytes (netns engine); 0: no capture
	noHistory bool  // no history.jsonl, and an earlier run's removed (--no-history-file; virtual engine)
}

// files are the names of the files a run saves in its directory, as the
// line that ends its table lists them (clients.pcap, when there is one, is
// announced by the lab).
func (o outputs) files() []string {
	files := []string{render.ReportFile, render.HTMLFile, render.MarkdownFile, render.JUnitFile}
	if !o.noHistory {
		files = append(files, render.HistoryFile)
	}
	return files
}

// runOneOptions is runOne with what it saves (saved) and the virtual
// engine's options (vopt).
func runOneOptions(ctx context.Context, sc *scenarios.Scenario, engine, dir string, saved outputs, progress io.Writer, vopt virtual.Options) (*render.Run, error) {
	pcapMax := saved.pcapMax
	l := sim.CheckLab(sc, engine)
	var events []history.Event
	var log *history.Log // the virtual engine's history, kept compact
	switch engine {
	case "netns":
		if os.Geteuid() != 0 {
			return nil, badInput("the netns engine needs root (CAP_NET_ADMIN) to create network namespaces; --engine virtual does not")
		}
		opt := lab.Options{OutDir: dir, Log: progress, Terminal: isTerminal(progress), PcapMax: pcapMax}
		if pcapMax == 0 {
			opt.PcapMax = -1 // the flag's 0 means no capture
		}
		res, err := lab.Run(ctx, sc, opt)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, &exitError{code: exitInterrupted, err: fmt.Errorf("%s: interrupted; the lab was torn down", sc.Name)}
			}
			return nil, labFailed(fmt.Errorf("%s: %w", sc.Name, err))
		}
		// The DUIDs the servers really sent (dnsmasq picks its own).
		res.Annotate(&l)
		events = res.Events
		if res.Pcap != "" {
			st := res.PcapStats
			fmt.Fprintf(progress, "capture %s: %d packets, %d bytes", res.Pcap, st.Packets, st.Bytes)
			if st.DroppedByCap > 0 {
				fmt.Fprintf(progress, "; %d more not written: the file reached --pcap-max", st.DroppedByCap)
			}
			if st.KernelDrops > 0 {
				fmt.Fprintf(progress, "; %d lost by the kernel (socket buffer full)", st.KernelDrops)
			}
			fmt.Fprintln(progress)
		}
	case "virtual":
		// No capture here: a clients.pcap of an earlier netns run in dir
		// would be linked as this run's.
		if err := os.Remove(filepath.Join(dir, render.PcapFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, outputFailed(err)
		}
		e, err := virtual.RunScenarioOptions(ctx, sc, vopt)
		if errors.Is(err, context.Canceled) {
			return nil, &exitError{code: exitInterrupted, err: fmt.Errorf("%s: interrupted", sc.Name)}
		}
		if errors.Is(err, virtual.ErrUnsupported) {
			// A scenario the engine cannot play (another server kind, an
			// impairment, dhcrelay) is bad input for it, not a failed lab.
			return nil, badInput("%s: %v", sc.Name, err)
		}
		if err != nil {
			return nil, labFailed(fmt.Errorf("%s: %w", sc.Name, err))
		}
		if n := e.Coasted(); n > 0 {
			fmt.Fprintf(progress, "%s: %d Renews played without messages by steady clients (coasting: the same history; --play-renewals sends them)\n", sc.Name, n)
		}
		log = e.History()
	default:
		return nil, badInput("--engine %q: want netns or virtual", engine)
	}
	if log != nil {
		return saveLog(dir, sc, l, log, !saved.noHistory)
	}
	rep, samples := check.AnalyzeSamples(events, l)
	rep.Evaluate(sim.Bounds(sc.Expect))
	run := render.NewRun(rep, samples, history.Events(events))
	if err := saveRun(dir, run, events); err != nil {
		return nil, err
	}
	return run, nil
}

// saveLog is the end of runOne for a history kept as a history.Log (the
// virtual engine's): the analysis and the pages read the log, and, when
// withFile, history.jsonl is written from it one event at a time (the same
// file a slice of the same events gives), beside the analysis.
func saveLog(dir string, sc *scenarios.Scenario, l check.Lab, log *history.Log, withFile bool) (*render.Run, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, outputFailed(err)
	}
	written := make(chan error, 1)
	path := filepath.Join(dir, render.HistoryFile)
	if withFile {
		// Created here, so that the pages, saved before it is written,
		// link it.
		f, err := os.Create(path)
		if err != nil {
			return nil, outputFailed(fmt.Errorf("save: %w", err))
		}
		// history.jsonl is written on the other core while the analysis
		// runs: both only read the log.
		go func() { written <- writeHistory(f, path, log) }()
	} else {
		// An earlier run's history.jsonl would be rebuilt by d6lab report
		// as this run's.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, outputFailed(err)
		}
		written <- nil
	}
	rep, samples := check.AnalyzeSource(log, l)
	rep.Evaluate(sim.Bounds(sc.Expect))
	run := render.NewRun(rep, samples, log)
	run.NoHistoryFile = !withFile
	err := saveRun(dir, run, nil)
	if werr := <-written; werr != nil && err == nil {
		err = outputFailed(werr)
	}
	if err != nil {
		return nil, err
	}
	return run, nil
}

// writeHistory writes src as JSON lines to f, the file at path, and closes
// it.
func writeHistory(f *os.File, path string, src history.Source) (err error) {
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("save %s: %w", path, cerr)
		}
	}()
	if err := history.WriteSourceJSONL(f, src); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// saveRun writes every output of one run into dir; events nil keeps the
// history.jsonl already there.
func saveRun(dir string, run *render.Run, events []history.Event) error {
	if err := render.SaveRun(dir, run.Report, events); err != nil {
		return outputFailed(err)
	}
	if err := render.SaveRunPages(dir, run); err != nil {
		return outputFailed(err)
	}
	return nil
}

// finishCompare prints the side-by-side table, writes compare.json and the
// comparison's pages into dir, and returns the error for broken
// expectations, if any.
func finishCompare(w io.Writer, dir string, runs []*render.Run) error {
	reps := make([]*check.Report, len(runs))
	for i, r := range runs {
		reps[i] = r.Report
	}
	if err := render.Compare(w, reps); err != nil {
		return err
	}
	if err := render.SaveCompare(dir, reps); err != nil {
		return outputFailed(err)
	}
	if err := render.SaveComparePages(dir, runs); err != nil {
		return outputFailed(err)
	}
	fmt.Fprintf(w, "wrote %s/{%s,%s,%s,%s}\n", dir, render.CompareFile, render.HTMLFile, render.MarkdownFile, render.JUnitFile)
	var broken []string
	for _, r := range reps {
		broken = append(broken, brokenBounds(r, filepath.Join(dir, render.JUnitFile))...)
	}
	return brokenError(broken)
}

// brokenBounds names each expectation of r that does not hold, for the
// exit message: "split-kill: reacquire_s.p99 = 12.5, want < 5 (see DIR/junit.xml)".
func brokenBounds(r *check.Report, junit string) []string {
	var out []string
	for _, e := range render.Expectations(r) {
		if e.OK {
			continue
		}
		what := fmt.Sprintf("%s = %s, want %s", e.Name, e.Measured, e.Bound)
		if e.Error != "" {
			what = fmt.Sprintf("%s %s: %s", e.Name, e.Bound, e.Error)
		}
		out = append(out, fmt.Sprintf("%s: %s (see %s)", r.Scenario, what, junit))
	}
	return out
}

// brokenError is nil when nothing is broken, else the exit-1 error listing
// what is.
func brokenError(broken []string) error {
	if len(broken) == 0 {
		return nil
	}
	return &exitError{code: exitBroken, err: errors.New(strings.Join(broken, "\n  "))}
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
