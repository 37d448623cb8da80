package bench

import (
	"fmt"
	"os"
	"path/filepath"

	"d6lab/deploy"
	"d6lab/server/daemon"
)

// Echo is the server kind that measures the lab's own ceiling: `d6lab
// serve --echo` (server/echo) answers every client message at once with
// a fixed answer the generator accepts, through the builtin server's
// socket path (one UDP socket, recvmmsg/sendmmsg batches), with no DHCP
// work: no lookup, no allocation, no lease store. Driven by the same
// generator and search, across the same bridge and veths, it gives the
// rate a server that costs nothing would reach on the machine at hand.
const Echo deploy.Kind = "echo"

// serverVersion is the kind's version string for the report.
func serverVersion(k deploy.Kind) string {
	if k == Echo {
		return "d6lab serve --echo"
	}
	a, err := daemon.Lookup(k)
	if err != nil {
		return ""
	}
	return a.Version()
}

// prepareEcho makes the echo's command line (the d6lab binary in its
// namespace, on the server node's interface) and its directory for the
// log.
func (b *bench) prepareEcho() error {
	dir := filepath.Join(b.dir, "server")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	b.log = filepath.Join(dir, "server.log")
	b.argv = []string{b.opt.Binary, "serve", "--echo", "--iface", b.lab.IfName(serverNode)}
	if b.rep.Params.Offload {
		b.argv = append(b.argv, "--offload")
	}
	b.rep.Notes = append(b.rep.Notes, "echo: every client message answered at once with a fixed answer (server/echo), no DHCP work: the lab's ceiling")
	return nil
}
