package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"d6lab/server"
	"d6lab/transport"
)

// serve's Bulk Leasequery (RFC 5460): a TCP listener on port 547 beside
// the UDP socket, on by default (a goroutine and a socket: it costs
// nothing until a requestor connects).

const bulkFlag = "bulk-leasequery"

// addBulkFlag declares --bulk-leasequery on serve's flags.
func addBulkFlag(f *pflag.FlagSet) {
	f.Bool(bulkFlag, true, "answer Bulk Leasequery (RFC 5460: by relay ID, link address, remote ID, and RFC 5007's queries) on TCP port 547 of --iface, at most 10 connections (BULK_LQ_MAX_CONNS), each closed after 300 s without a query (BULK_LQ_DATA_TIMEOUT)")
}

// serveWithBulk runs server.Serve on conn and, unless --bulk-leasequery
// is off, the Bulk Leasequery listener on TCP port 547 of iface beside
// it; it prints the listener's counters when Serve returns. A listener
// that cannot start is reported and the server runs without it: the UDP
// service is what the lab needs first.
func serveWithBulk(ctx context.Context, cmd *cobra.Command, conn transport.Conn, srv *server.Server, iface string) error {
	if on, _ := cmd.Flags().GetBool(bulkFlag); !on {
		return server.Serve(ctx, conn, srv, time.Now)
	}
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	bs, err := server.NewBulkServer(srv, time.Now)
	var ln net.Listener
	if err == nil {
		ln, err = listenBulk(iface)
	}
	if err != nil {
		fmt.Fprintf(errOut, "d6lab serve: no Bulk Leasequery: %v\n", err)
		return server.Serve(ctx, conn, srv, time.Now)
	}
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- bs.Serve(bctx, ln) }()
	fmt.Fprintf(out, "d6lab serve: Bulk Leasequery (RFC 5460) on TCP %s on %s, at most %d connections\n", ln.Addr(), iface, server.BulkMaxConns)
	err = server.Serve(ctx, conn, srv, time.Now)
	cancel()
	if berr := <-done; berr != nil {
		fmt.Fprintf(errOut, "d6lab serve: Bulk Leasequery stopped: %v\n", berr)
	}
	printBulkCounters(out, bs.Counters())
	return err
}

// listenBulk listens on TCP port 547 of every address of iface
// (SO_BINDTODEVICE: a connection that arrives on another interface is
// refused, as the UDP socket ignores datagrams from one).
func listenBulk(iface string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, iface)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("bind to %s: %w", iface, serr)
		}
		return nil
	}}
	ln, err := lc.Listen(context.Background(), "tcp6", fmt.Sprintf("[::]:%d", transport.ServerPort))
	if err != nil {
		return nil, fmt.Errorf("listen on TCP port %d of %s: %w", transport.ServerPort, iface, err)
	}
	return ln, nil
}

// printBulkCounters writes the listener's counters, one per line, after
// the form of printCounters.
func printBulkCounters(out io.Writer, c server.BulkCounters) {
	fmt.Fprintf(out, "bulk-leasequery connections %d\nbulk-leasequery refused %d\nbulk-leasequery queries %d\nbulk-leasequery messages %d\n",
		c.Accepted, c.Refused, c.Queries, c.Messages)
	var ends []string
	by := map[string]uint64{}
	for e, n := range c.Ended {
		ends = append(ends, e.String())
		by[e.String()] = n
	}
	sort.Strings(ends)
	for _, e := range ends {
		fmt.Fprintf(out, "bulk-leasequery ended %s %d\n", e, by[e])
	}
	var drops []string
	dby := map[string]uint64{}
	for r, n := range c.Discarded {
		drops = append(drops, r.String())
		dby[r.String()] = n
	}
	sort.Strings(drops)
	for _, r := range drops {
		fmt.Fprintf(out, "bulk-leasequery discarded %s %d\n", r, dby[r])
	}
}
