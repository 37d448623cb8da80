package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	loadgen "d6lab/clientsim/load"
	"d6lab/deploy"
	"d6lab/server/daemon"
	"d6lab/sim/bench"
	"d6lab/sim/netns"
)

func benchCmd() *cobra.Command {
	var (
		opt     bench.Options
		server  string
		out     string
		exch    = loadgen.FourMessage
		na, pd  bool
		maxDrop float64
		maxP99  time.Duration
		summary string
	)
	c := &cobra.Command{
		Use:   "bench --server KIND (--rate N | --search) | --summary DIR",
		Short: "Measure a DHCPv6 server's exchanges/s, drops and latency, optionally against perfdhcp (needs root)",
		Long: `bench builds a two-namespace lab, starts one server (builtin, kea, dhcpd, dnsmasq or
wide) with durable leases, a /80 pool and day-long lifetimes, and drives it from the
clients namespace with d6lab's load generator: at --rate for --duration, or with
--search finds the highest rate whose drops stay within --max-drops (0.1 %) and whose
p99 latency stays within --max-p99 (10 ms): an exponential ramp then a bisection, steps
of --step after a --settle pause, until the bracket is within 5 %. The same steps also
give the highest rate judged by the drops alone, printed as a second figure (a server
that queues requests in a large socket buffer reaches it at p99s of hundreds of ms).
Before the search one warm-up step, not judged, binds every client once. A step that
fails on p99 alone is measured once more and judged by the better of the two, and a
pass counts over a failure at a lower rate (a stall of another process on a shared
machine makes a p99 by itself, never a pass; --no-retry turns the second measurement off).
--vs perfdhcp then runs Kea's perfdhcp the same way against the same server, restarted
on a wiped lease file, and prints both with their ratio; perfdhcp prints no
percentiles, so its steps, and the ratio, are judged by the drops alone.

Durable leases: by default the builtin server sends a Reply once its binding is on disk
(the log fdatasynced); --leases-sync write sends it once the binding is written to the
kernel, which keeps it through a crash or SIGKILL of the server but not of the machine.
That is Kea's memfile's durability (it writes each lease and never fsyncs), so the two
compare like for like. bench.json and the summary say how each server kept its leases.

--server echo measures the lab's own ceiling the same way: d6lab serve --echo answers
every message at once with a fixed answer through the builtin server's socket path,
with no DHCP work; the builtin server's rate over the echo's is the share of the
machine's ceiling it reaches. --summary DIR reads DIR/*/bench.json (make bench: echo,
kea, builtin with each durability) and prints and writes DIR/summary.txt and
DIR/summary.json with the ratios builtin/kea and builtin/echo at the latency bound: the
headline of the builtin run whose leases are as durable as Kea's, a line for each other.

It prints a table and a line per step on stderr (with a bar on a terminal), and with
--out DIR writes DIR/bench.json and keeps the server's configuration, lease file and
log in DIR/server/ and perfdhcp's output in DIR/perfdhcp/. Exit 0 when the benchmark
ran, 1 when it failed, 2 on bad flags or when root or a program is missing (before
anything is created), 130 when interrupted (the lab is torn down).`,
		Example: `  d6lab bench --server builtin --rate 2000 --duration 10s
  d6lab bench --server kea --search --vs perfdhcp --out out/bench/kea
  d6lab bench --server builtin --exchange rapid --pd --renew 0.2 --rate 5000
  d6lab bench --server echo --search --max-p99 5ms
  d6lab bench --summary out/bench`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if summary != "" {
				return benchSummary(cmd, summary)
			}
			if server == "" {
				return badInput("--server: required (one of %v or %s)", daemon.Kinds(), bench.Echo)
			}
			opt.Server = deploy.Kind(server)
			opt.Exchange, opt.NA, opt.PD = exch, na, pd
			if cmd.Flags().Changed("max-drops") {
				if maxDrop <= 0 {
					return badInput("--max-drops %g: want a fraction in (0, 1)", maxDrop)
				}
				opt.MaxDrops = maxDrop
			}
			if cmd.Flags().Changed("max-p99") {
				if maxP99 <= 0 {
					return badInput("--max-p99 %v: want a latency above 0, e.g. 10ms", maxP99)
				}
				opt.MaxP99 = maxP99
			}
			if opt.Search && cmd.Flags().Changed("duration") {
				return badInput("--duration is for a fixed --rate; a search's steps last --step")
			}
			if opt.Prefix != "" && !netns.ValidPrefix(opt.Prefix) {
				return badInput("--prefix %q: want d6l followed by up to 5 of [a-z0-9]", opt.Prefix)
			}
			opt.SetDefaults()
			if err := bench.Check(opt); err != nil {
				var oe *bench.OptionError
				if errors.As(err, &oe) {
					return badInput("--%s", oe.Error())
				}
				return &exitError{code: exitBadInput, err: err}
			}
			opt.Log = cmd.ErrOrStderr()
			opt.Terminal = isTerminal(opt.Log)
			opt.OutDir = out

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := bench.Run(ctx, opt)
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return &exitError{code: exitInterrupted, err: errors.New("bench interrupted; the lab was torn down")}
				}
				return &exitError{code: exitBroken, kind: "bench failed", err: err}
			}
			w := cmd.OutOrStdout()
			if err := rep.WriteTable(w); err != nil {
				return err
			}
			if out != "" {
				if err := rep.Save(out); err != nil {
					return &exitError{code: exitBroken, kind: "cannot write the outputs", err: err}
				}
				fmt.Fprintf(w, "wrote %s\n", filepath.Join(out, bench.ReportFile))
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&server, "server", "", fmt.Sprintf("server kind: %v, or %s (the lab's ceiling: answers with no DHCP work)", daemon.Kinds(), bench.Echo))
	f.Float64Var(&opt.Rate, "rate", 0, "offered exchanges/s (with --search: the first step's rate, default 500)")
	f.BoolVar(&opt.Search, "search", false, "search for the highest rate with drops <= --max-drops and p99 <= --max-p99")
	f.DurationVar(&opt.Duration, "duration", bench.DefaultDuration, "length of a fixed-rate run")
	f.DurationVar(&opt.Step, "step", bench.DefaultStep, "length of each search step")
	f.DurationVar(&opt.Settle, "settle", bench.DefaultSettle, "pause before each step after the first")
	f.IntVar(&opt.Clients, "clients", bench.DefaultClients, "distinct client DUIDs")
	f.Var(&exch, "exchange", "sarr (Solicit-Advertise-Request-Reply), sa (Solicit-Advertise) or rapid (Rapid Commit)")
	f.BoolVar(&na, "na", false, "ask for IA_NA (the default when neither --na nor --pd is given)")
	f.BoolVar(&pd, "pd", false, "ask for IA_PD")
	f.Float64Var(&opt.Renew, "renew", 0, "fraction of exchanges followed by a Renew")
	f.Float64Var(&opt.Rebind, "rebind", 0, "fraction of exchanges followed by a Rebind (perfdhcp cannot)")
	f.Float64Var(&opt.Release, "release", 0, "fraction of exchanges followed by a Release")
	f.BoolVar(&opt.Relay, "relay", false, "act as a relay agent: Relay-forward by unicast to the server")
	f.StringVar(&opt.Vs, "vs", "", "also run this tool against the same server: perfdhcp")
	f.Var(&opt.LeaseSync, "leases-sync", "builtin: what a Reply waits for, fdatasync (its binding on disk) or write (written to the kernel: Kea's memfile's durability)")
	f.Float64Var(&maxDrop, "max-drops", bench.DefaultMaxDrops, "drop fraction a search step may have and pass")
	f.DurationVar(&maxP99, "max-p99", bench.DefaultMaxP99, "p99 latency a search step may have and pass (at most --timeout)")
	f.BoolVar(&opt.NoOffload, "no-offload", false, "builtin and echo: start the server without d6lab serve --offload, the path of a server that answers each host at its own address (a run of answers one datagram long)")
	f.BoolVar(&opt.NoRetry, "no-retry", false, "judge a search step that fails on p99 alone at once, without measuring it a second time")
	f.StringVar(&summary, "summary", "", "read DIR/*/bench.json and write DIR/summary.txt and summary.json with the ratios (no lab)")
	f.DurationVar(&opt.Timeout, "timeout", bench.DefaultTimeout, "an exchange not answered within this is a drop (perfdhcp -d too)")
	f.Uint64Var(&opt.Seed, "seed", 1, "seed of the client DUIDs and the mix")
	f.StringVarP(&out, "out", "o", "", "write DIR/bench.json and keep the server's files in DIR/server")
	f.StringVar(&opt.Prefix, "prefix", "", "run prefix of the lab's namespaces and links (default: a random d6l....)")
	_ = f.MarkHidden("prefix") // for tests that check the teardown
	f.StringVar(&opt.ServerCPUProfile, "server-cpuprofile", "", "builtin: the server writes a CPU profile of its run to this file (go tool pprof; make pgo)")
	_ = f.MarkHidden("server-cpuprofile")
	return c
}

// benchSummary is `d6lab bench --summary DIR`: the reports of DIR/*/
// side by side with the ratios, printed and saved in DIR. Missing or
// incomparable reports are bad input (exit 2).
func benchSummary(cmd *cobra.Command, dir string) error {
	for _, n := range []string{"server", "rate", "search", "vs", "out"} {
		if cmd.Flags().Changed(n) {
			return badInput("--summary reads finished benchmarks: --%s does not go with it", n)
		}
	}
	s, err := bench.Summarize(dir)
	if err != nil {
		return badInput("--summary %s: %v", dir, err)
	}
	if err := s.WriteText(cmd.OutOrStdout()); err != nil {
		return err
	}
	if err := s.Save(dir); err != nil {
		return &exitError{code: exitBroken, kind: "cannot write the summary", err: err}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s\n", filepath.Join(dir, bench.SummaryText), filepath.Join(dir, bench.SummaryJSON))
	return nil
}
