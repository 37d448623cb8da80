package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"d6lab/server"
	"d6lab/server/echo"
	"d6lab/transport"
)

// serveEcho is `d6lab serve --echo --iface IF`: server/echo on the
// builtin server's socket (port 547, ff02::1:2 joined, the same receive
// buffer, --offload and --procs alike), until SIGTERM or SIGINT; then its
// counters, exit 0. The bench lab starts it for --server echo with
// --offload and waits, as for the builtin server, until port 547 listens.
func serveEcho(cmd *cobra.Command, iface string, offload bool) error {
	duid, err := interfaceDUID(iface, "ll", time.Now())
	if err != nil {
		return err
	}
	e, err := echo.New(duid)
	if err != nil {
		return badInput("--iface %s: %v", iface, err)
	}
	conn, err := listenServer(cmd, iface, "d6lab serve --echo", offload)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "d6lab serve --echo: listening on %s [%s]:%d and %s, DUID %s: every message answered with %s and %s, no DHCP work\n",
		iface, conn.LocalAddr().Addr(), transport.ServerPort, transport.AllServers, server.FormatDUID(duid), echo.Addr, echo.Prefix)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := e.Serve(ctx, conn)
	fmt.Fprintf(out, "received %d\nanswered %d\nignored %d\nsend errors %d\n", c.Received, c.Answered, c.Ignored, c.SendErrors)
	if err != nil && !errors.Is(err, ctx.Err()) {
		return err
	}
	return nil
}
