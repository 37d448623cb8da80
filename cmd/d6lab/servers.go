package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"d6lab/server/daemon"
)

// serversCmd lists the server kinds a scenario, compare, conform or bench
// can use here, and installs the one d6lab builds itself.
func serversCmd() *cobra.Command {
	var install bool
	cmd := &cobra.Command{
		Use:   "servers",
		Short: "List the server kinds, their versions, and what is missing",
		Long: `servers lists every server kind (a scenario's servers: kind, the --server of
compare, conform and bench), whether it can run on this machine, its version,
and what is missing where it cannot.

The third-party servers come from Debian packages (kea-dhcp6-server,
isc-dhcp-server, dnsmasq-base, wide-dhcpv6-server; make test's setup installs
them). coredhcp is built from its Go module at a pinned version into
~/.cache/d6lab/coredhcp/ (XDG_CACHE_HOME is honoured); --install does that
build, a minute or two on 2 cores, and nothing else.

Exit status: 0, also when a kind is missing (the table says why); 1 when
--install was asked and a build failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var failed []string
			if install {
				for _, k := range daemon.Kinds() {
					a, err := daemon.Lookup(k)
					if err != nil {
						return err
					}
					in, ok := a.(daemon.Installer)
					if !ok || a.Installed() == nil {
						continue
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "servers: building %s ...\n", k)
					if err := in.Install(); err != nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "servers: %v\n", err)
						failed = append(failed, string(k))
					}
				}
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "kind\tstatus\tversion / what is missing")
			for _, k := range daemon.Kinds() {
				a, err := daemon.Lookup(k)
				if err != nil {
					return err
				}
				if err := a.Installed(); err != nil {
					fmt.Fprintf(w, "%s\tmissing\t%s\n", k, missingReason(err))
					continue
				}
				fmt.Fprintf(w, "%s\tready\t%s\n", k, a.Version())
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if len(failed) > 0 {
				return &exitError{code: exitBroken, kind: "install failed", err: fmt.Errorf("could not build %v", failed)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&install, "install", false, "build the servers d6lab installs itself (coredhcp) when missing")
	return cmd
}

// missingReason is an Installed error without the sentinel's prefix.
func missingReason(err error) string {
	msg, _ := strings.CutPrefix(err.Error(), daemon.ErrNotInstalled.Error()+": ")
	return msg
}
