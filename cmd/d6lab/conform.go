package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"d6lab/deploy"
	"d6lab/server/daemon"
	"d6lab/sim/conform"
)

func conformCmd() *cobra.Command {
	var (
		kind, out, checks string
		timeout           time.Duration
	)
	c := &cobra.Command{
		Use:   "conform --server KIND|all",
		Short: "Check a DHCPv6 server against what RFC 6853 and its models need (needs root)",
		Long: `conform runs a server kind in a lab of network namespaces and checks it requirement by
requirement with crafted DHCPv6 messages: the stateful exchange, Preference (asked and
unasked), discarding messages for another server, Rebind without a binding (and which
model that suits), identical allocation, IA_PD, Information-request, relayed messages,
Decline, Release, Confirm, reserved and own addresses, DUID stability and Leasequery.
It prints the matrix and writes DIR/conform.json, DIR/junit.xml and DIR/pcap/<check>.pcap;
with --server all, one DIR/<kind>/ per installed kind and the combined matrix and junit.xml.
Kinds that are not installed are reported, not failed. Exit 0 when no check fails, 1 when
one does, 2 on bad input or a lab that could not be built.`,
		Example: `  d6lab conform --server builtin --out out/conform
  d6lab conform --server all --checks ia-na-exchange,rebind-no-binding`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kinds, err := conformKinds(kind)
			if err != nil {
				return err
			}
			if timeout <= 0 || timeout > time.Minute {
				return badInput("--timeout %s: want a duration in (0, 1m]", timeout)
			}
			var ids []string
			if checks != "" {
				for _, id := range strings.Split(checks, ",") {
					if id = strings.TrimSpace(id); id != "" {
						ids = append(ids, id)
					}
				}
			}
			if err := conform.Select(ids); err != nil {
				return badInput("--checks: %v", err)
			}
			if os.Geteuid() != 0 {
				return badInput("conform needs root (CAP_NET_ADMIN) to create network namespaces")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var reps []*conform.Report
			for _, k := range kinds {
				dir := out
				if kind == "all" {
					dir = filepath.Join(out, string(k))
				}
				rep, err := conform.Run(ctx, conform.Options{Kind: k, OutDir: dir, Timeout: timeout, Checks: ids, Log: cmd.ErrOrStderr()})
				if err != nil {
					if errors.Is(err, context.Canceled) {
						return &exitError{code: exitInterrupted, err: fmt.Errorf("conform %s: interrupted; the lab was torn down", k)}
					}
					return labFailed(fmt.Errorf("conform %s: %w", k, err))
				}
				if rep.Missing != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "conform %s: %s\n", k, rep.Missing)
				}
				reps = append(reps, rep)
			}
			w := cmd.OutOrStdout()
			if err := conform.Matrix(w, reps); err != nil {
				return err
			}
			if err := conform.WriteJUnit(filepath.Join(out, conform.JUnitFile), reps); err != nil {
				return outputFailed(err)
			}
			var failed []string
			for _, r := range reps {
				if r.Missing == "" {
					d := out
					if kind == "all" {
						d = filepath.Join(out, r.Server)
					}
					fmt.Fprintf(w, "wrote %s\n", filepath.Join(d, conform.JSONFile))
				}
				for _, c := range r.Checks {
					if c.Verdict == conform.Fail {
						failed = append(failed, r.Server+" "+c.ID)
					}
				}
			}
			fmt.Fprintf(w, "wrote %s\n", filepath.Join(out, conform.JUnitFile))
			if len(failed) > 0 {
				return &exitError{code: exitBroken, kind: "check failed", err: errors.New(strings.Join(failed, ", "))}
			}
			return nil
		},
	}
	c.Flags().StringVar(&kind, "server", "", "server kind to check, or all (kinds: "+kindList()+")")
	c.Flags().StringVarP(&out, "out", "o", "out/conform", "output directory")
	c.Flags().DurationVar(&timeout, "timeout", conform.DefaultTimeout, "how long each check waits for an answer")
	c.Flags().StringVar(&checks, "checks", "", "comma-separated check IDs to run (default: all): "+strings.Join(conform.IDs(), ","))
	return c
}

func kindList() string {
	var s []string
	for _, k := range daemon.Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// conformKinds resolves --server: one known kind, or every kind for all.
func conformKinds(kind string) ([]deploy.Kind, error) {
	switch kind {
	case "":
		return nil, badInput("--server is required: a kind (%s) or all", kindList())
	case "all":
		return daemon.Kinds(), nil
	}
	if _, err := daemon.Lookup(deploy.Kind(kind)); err != nil {
		// A kind the project names but whose adapter is not built in is
		// reported as unknown here: nothing can run it.
		return nil, badInput("--server: %v", err)
	}
	return []deploy.Kind{deploy.Kind(kind)}, nil
}
