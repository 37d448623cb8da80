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
		kind, clientKind, out, checks string
		timeout                       time.Duration
		long                          bool
	)
	c := &cobra.Command{
		Use:   "conform --server KIND|all | --client KIND|all",
		Short: "Check a DHCPv6 server, or a real DHCPv6 client, requirement by requirement (needs root)",
		Long: `conform --server runs a server kind in a lab of network namespaces and checks it requirement
by requirement with crafted DHCPv6 messages: the stateful exchange, Preference (asked and
unasked), discarding messages for another server, Rebind without a binding (and which
model that suits), identical allocation, IA_PD, Information-request, relayed messages,
Decline, Release, Confirm, reserved and own addresses, DUID stability and Leasequery.

conform --client runs a real client kind (dhclient, dhcpcd, dhcp6c, udhcpc6) against
scripted servers (the builtin core with per-check behaviour) and judges what the client
does: Preference 255, waiting out the first RT, ties, Renew at T1, Rebind at T2 (and how
late), Rebind until the valid lifetime ends, lifetime 0, renumbering on Rebind, NoBinding,
DAD failure, link flaps (Confirm; Rebind for a prefix), Release on a clean stop, Elapsed
Time and retransmission; what follows a Request nobody answers. info-refresh takes over 10
minutes and request-fail about 4: they run with --long or when --checks names them. A check
the kind cannot do is n/a with the reason.

It prints the matrix and writes DIR/conform.json, DIR/junit.xml and DIR/pcap/<check>.pcap
(a client run also DIR/clients/<check>/, the client's files and address log); with all,
one DIR/<kind>/ per kind and the combined matrix and junit.xml. Kinds that are not
installed are reported, not failed. Exit 0 when no check fails, 1 when one does, 2 on bad
input or a lab that could not be built.`,
		Example: `  d6lab conform --server builtin --out out/conform
  d6lab conform --server all --checks ia-na-exchange,rebind-no-binding
  d6lab conform --client all --out out/conform-client
  d6lab conform --client dhclient --checks rebind-t2,nobinding-request`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kind != "" && clientKind != "" {
				return badInput("--server and --client are mutually exclusive: check a server kind or a client kind, not both")
			}
			if long && clientKind == "" {
				return badInput("--long applies to --client only")
			}
			var (
				serverKinds []deploy.Kind
				clientKinds []deploy.ClientKind
				err         error
			)
			if clientKind != "" {
				clientKinds, err = conformClientKinds(clientKind)
			} else {
				serverKinds, err = conformKinds(kind)
			}
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
			if clientKind != "" {
				err = conform.SelectClient(ids)
			} else {
				err = conform.Select(ids)
			}
			if err != nil {
				return badInput("--checks: %v", err)
			}
			if os.Geteuid() != 0 {
				return badInput("conform needs root (CAP_NET_ADMIN) to create network namespaces")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			all := kind == "all" || clientKind == "all"
			dirOf := func(k string) string {
				if all {
					return filepath.Join(out, k)
				}
				return out
			}
			var reps []*conform.Report
			for _, k := range serverKinds {
				rep, err := conform.Run(ctx, conform.Options{Kind: k, OutDir: dirOf(string(k)), Timeout: timeout, Checks: ids, Log: cmd.ErrOrStderr()})
				if err != nil {
					return conformFailed(string(k), err)
				}
				if rep.Missing != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "conform %s: %s\n", k, rep.Missing)
				}
				reps = append(reps, rep)
			}
			for _, k := range clientKinds {
				rep, err := conform.RunClient(ctx, conform.ClientOptions{Kind: k, OutDir: dirOf(string(k)), Timeout: timeout, Checks: ids, Long: long, Log: cmd.ErrOrStderr()})
				if err != nil {
					return conformFailed("client "+string(k), err)
				}
				if rep.Missing != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "conform client %s: %s\n", k, rep.Missing)
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
				// A server kind that is not installed has no conform.json; a
				// client kind's has its checks, each n/a.
				if r.Missing == "" || r.Client != "" {
					fmt.Fprintf(w, "wrote %s\n", filepath.Join(dirOf(r.Subject()), conform.JSONFile))
				}
				for _, c := range r.Checks {
					if c.Verdict == conform.Fail {
						failed = append(failed, r.Subject()+" "+c.ID)
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
	c.Flags().StringVar(&clientKind, "client", "", "real client kind to check, or all (kinds: "+clientKindList()+")")
	c.Flags().StringVarP(&out, "out", "o", "out/conform", "output directory")
	c.Flags().DurationVar(&timeout, "timeout", conform.DefaultTimeout, "how long each check waits for an answer (--client: past the latest time the protocol allows)")
	c.Flags().StringVar(&checks, "checks", "", "comma-separated check IDs to run (default: all); --server: "+strings.Join(conform.IDs(), ",")+"; --client: "+strings.Join(conform.ClientIDs(), ","))
	c.Flags().BoolVar(&long, "long", false, "--client: also run the checks that take minutes (info-refresh, over 10 minutes; request-fail, about 4)")
	return c
}

// conformFailed turns a run's error into the exit: interrupted (130), or a
// lab that could not be built or run (2).
func conformFailed(what string, err error) error {
	if errors.Is(err, context.Canceled) {
		return &exitError{code: exitInterrupted, err: fmt.Errorf("conform %s: interrupted; the lab was torn down", what)}
	}
	return labFailed(fmt.Errorf("conform %s: %w", what, err))
}

func kindList() string {
	var s []string
	for _, k := range daemon.Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func clientKindList() string {
	var s []string
	for _, k := range deploy.ClientKinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// conformClientKinds resolves --client: one known client kind, or every
// kind for all (those not installed are reported, not failed).
func conformClientKinds(kind string) ([]deploy.ClientKind, error) {
	if kind == "all" {
		return deploy.ClientKinds, nil
	}
	k, err := deploy.ParseClientKind(kind)
	if err != nil {
		return nil, badInput("--client: %v", err)
	}
	return []deploy.ClientKind{k}, nil
}

// conformKinds resolves --server: one known kind, or every kind for all.
func conformKinds(kind string) ([]deploy.Kind, error) {
	switch kind {
	case "":
		return nil, badInput("--server is required: a server kind (%s) or all; or --client KIND|all for a real client (%s)", kindList(), clientKindList())
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
