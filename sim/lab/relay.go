package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"d6lab/scenarios"
	"d6lab/server/daemon"
	"d6lab/sim"
	"d6lab/sim/netns"
	"d6lab/transport"
)

// Behind a relay (scenario key `relay: own | dhcrelay`) the servers leave
// the client link for a server network, a second bridge, and a relay
// namespace joins the two (addresses: sim.ServerNet and its neighbours).
// `own`: the population runs in the relay namespace on the server network
// and is its own relay agent (population.RelayConfig). `dhcrelay`: ISC
// dhcrelay -6 runs there, and the clients multicast on the client link.

// relayNode is the relay namespace's node name.
const relayNode = "relay"

// DhcrelayBinary is ISC dhcrelay (Debian isc-dhcp-relay).
var DhcrelayBinary = "/usr/sbin/dhcrelay"

// relayTopology moves the servers of spec to a server network and adds the
// relay namespace.
func relayTopology(sc *scenarios.Scenario, spec *netns.Spec) {
	spec.ServerNet = sim.ServerNet(sc.Link)
	for i, n := range spec.Nodes {
		n.Addrs = []netip.Prefix{netip.PrefixFrom(sim.ServerAddr(sc.Link, i), 64)}
		spec.Upstream = append(spec.Upstream, n)
	}
	spec.Nodes = nil
	spec.Relay = &netns.RelaySpec{
		Name: relayNode,
		Down: []netip.Prefix{netip.PrefixFrom(sim.RelayLinkAddr(sc.Link), 64)},
		Up:   []netip.Prefix{netip.PrefixFrom(sim.RelayServerAddr(sc.Link), 64)},
	}
}

// listenOwnRelay opens the own relay's socket: port 547 (servers answer a
// relay there, RFC 9915 §7.2) on the relay's server-network interface.
func listenOwnRelay(lab *netns.Lab) (*transport.UDP, error) {
	var conn *transport.UDP
	err := lab.Do(relayNode, func() error {
		var err error
		conn, err = transport.ListenUDP(lab.UpIfName(relayNode), transport.ServerPort)
		return err
	})
	return conn, err
}

// dhcrelayArgv is `dhcrelay -6` in the foreground, listening for clients on
// the relay's client-link interface and forwarding to every server by
// unicast over its server-network interface (RFC 6853 §5.2: a relay is
// configured with all servers). -I: always send an Interface-ID.
func dhcrelayArgv(sc *scenarios.Scenario, lab *netns.Lab) []string {
	argv := []string{DhcrelayBinary, "-6", "-d", "--no-pid", "-I", "-l", lab.IfName(relayNode)}
	for i := range sc.Servers {
		argv = append(argv, "-u", sim.ServerAddr(sc.Link, i).String()+"%"+lab.UpIfName(relayNode))
	}
	return argv
}

// startDhcrelay runs dhcrelay in the relay namespace and waits until it
// has opened its sockets.
func startDhcrelay(ctx context.Context, sc *scenarios.Scenario, lab *netns.Lab, outDir string) (*netns.Process, error) {
	if _, err := os.Stat(DhcrelayBinary); err != nil {
		return nil, fmt.Errorf("lab: relay: %w: dhcrelay needs ISC dhcrelay (Debian isc-dhcp-relay; scripts/setup.sh installs it): %v", daemon.ErrNotInstalled, err)
	}
	log := filepath.Join(outDir, "relay", "dhcrelay.log")
	p, err := lab.Start(relayNode, dhcrelayArgv(sc, lab), log)
	if err != nil {
		return nil, fmt.Errorf("lab: start dhcrelay: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(log)
		out := string(b)
		// dhcrelay -6 -d logs "Sending on Socket/<if>" once per
		// upstream after binding; the last line it writes when ready.
		if strings.Count(out, "Sending on") >= 1 && strings.Contains(out, "Listening on") {
			return p, nil
		}
		if p.Exited() {
			return nil, fmt.Errorf("lab: dhcrelay exited at start (see %s): %s", log, strings.TrimSpace(out))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lab: dhcrelay not ready after 10s (see %s): %s", log, strings.TrimSpace(out))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
