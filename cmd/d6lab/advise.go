package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"d6lab/deploy"
	"d6lab/scenarios"
	"d6lab/sim/advice"
	"d6lab/sim/session"
	"d6lab/sim/sweep"
)

func adviseCmd() *cobra.Command {
	var (
		q       advice.Question
		models  []string
		profile string
		out     string
		workers int
	)
	c := &cobra.Command{
		Use:   "advise --clients N --max-outage D --max-load R [--servers K] [--max-reacquire D] [--pool-budget F] [--profile P]",
		Short: "Recommend a model and T1/T2/preferred/valid for a deployment, from a sweep it runs",
		Long: `advise answers an operator's question about RFC 6853 §6.1's trade-off: shorter
lifetimes shorten a failover but load the servers. It runs a sweep on the virtual
engine (valid from 1m to 8h, T1 at 0.5 of valid, T2 at 0.55 or 0.8, preferred 0.8,
in each model; then the valid at which the busiest server meets --max-load less
--margin, from the first round's measured load), with --sample clients per point
and s1 (Preference 255) killed mid-lease, and recommends the point that meets every
bound with the best failover: the lowest outage p99, then re-acquisition p99, then
load. It prints the figures behind the choice, the runner-up (another model), what
each constraint cost (the answer without it), and caveats. Load scales from the
sample to --clients (every server receives each client's multicast Renew).
It writes DIR/advice.json, DIR/sweep.json, DIR/sweep.html and DIR/recommended.yaml,
the recommendation as a scenario at the sample's size with the claimed bounds,
to replay with d6lab run (netns).
Exit 0 with a recommendation, 1 when no point meets the question (saying which
constraint binds), 2 on bad input. The answer is seeded: the same question gives
the same answer.`,
		Example: `  d6lab advise --clients 50000 --servers 2 --max-outage 5s --max-load 300`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, f := range []string{"clients", "max-outage", "max-load"} {
				if !cmd.Flags().Changed(f) {
					return badInput("--%s is required", f)
				}
			}
			ms, err := sweep.Models(models)
			if err != nil {
				return badInput("%v", err)
			}
			q.Models, q.Profile = ms, deploy.Profile(profile)
			if workers < 0 {
				return badInput("--workers %d: want 0 (GOMAXPROCS) or more", workers)
			}
			if err := q.Validate(); err != nil {
				return badInput("%v", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			w := cmd.ErrOrStderr()
			prog := session.NewProgress(w, isTerminal(w))
			var done atomic.Int64
			prog.Logf("advise: %d clients, %d servers; sweeping on %d simulated clients per point", q.Clients, q.Servers, q.Sample)
			prog.Start(2*time.Minute, 10*time.Second, func(el time.Duration) string {
				return fmt.Sprintf("advise: %d runs, %s", done.Load(), el.Truncate(time.Second))
			})
			a, err := advice.Advise(ctx, q, advice.Options{Workers: workers, Done: func(round int, p sweep.Point, k, total int, wall time.Duration) {
				done.Add(1)
				prog.Logf("round %d %d/%d %s %s: %s", round, k, total, p.Model, sweep.Label(p.Lifetimes), wall.Round(time.Millisecond))
			}})
			prog.End()
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return &exitError{code: exitInterrupted, err: errors.New("advise: interrupted")}
				}
				return labFailed(err)
			}
			if err := a.Save(out, &q); err != nil {
				return outputFailed(err)
			}
			a.Text(cmd.OutOrStdout())
			fmt.Fprintf(cmd.OutOrStdout(), "\nwrote %s, %s and %s", filepath.Join(out, advice.JSONFile),
				filepath.Join(out, sweep.JSONFile), filepath.Join(out, sweep.HTMLFile))
			if a.Recommended != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "; replay: d6lab run %s\n", filepath.Join(out, advice.ScenarioFile))
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return &exitError{code: exitBroken, err: errors.New("advise: no point meets the question")}
		},
	}
	f := c.Flags()
	f.IntVar(&q.Clients, "clients", 0, "hosts on the link (required)")
	f.IntVar(&q.Servers, "servers", 2, "DHCPv6 servers, 2..64")
	f.DurationVar(&q.MaxOutage, "max-outage", 0, "bound on outage p99 after one server dies (required)")
	f.DurationVar(&q.MaxReacquire, "max-reacquire", 0, "bound on re-acquisition p99 (0: none)")
	f.Float64Var(&q.MaxLoad, "max-load", 0, "bound on the busiest server's steady load, messages/s (required)")
	f.Float64Var(&q.PoolBudget, "pool-budget", 0, "bound on the pools configured across the servers, a multiple of the clients (0: none)")
	f.StringVar(&profile, "profile", string(deploy.ProfileRFC), "simulated clients' behaviour: rfc, dhclient, dhcpcd, dhcp6c")
	f.StringSliceVar(&models, "models", []string{"split", "unique", "identical"}, "models to consider, in order of preference on ties")
	f.IntVar(&q.Sample, "sample", 0, fmt.Sprintf("clients simulated per point (0: %d, at most --clients)", advice.DefaultSample))
	f.Float64Var(&q.Margin, "margin", advice.DefaultMargin, "share of --max-load a recommendation leaves free")
	f.Uint64Var(&q.Seed, "seed", scenarios.DefaultSeed, "the simulated clients' seed")
	f.StringVarP(&out, "out", "o", "out/advise", "output directory")
	f.IntVar(&workers, "workers", 0, "runs at once (0: GOMAXPROCS)")
	return c
}
