package conform

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/server/daemon"
	"d6lab/sim"
	"d6lab/sim/netns"
	"d6lab/sim/session"
	"d6lab/transport"
)

// The lab's addressing. The clients node has a global address so that a
// server can answer the probe's Relay-forward messages; srv1 has one
// address outside its pool and one inside (the "own address" check); the
// pools avoid every other node's address.
var (
	Link       = netip.MustParsePrefix("2001:db8:c0::/64")
	clientAddr = netip.MustParseAddr("2001:db8:c0::c")
	srv1Addr   = netip.MustParseAddr("2001:db8:c0::f1")
	srv1InPool = netip.MustParseAddr("2001:db8:c0::1:1")
	srv2Addr   = netip.MustParseAddr("2001:db8:c0::f2")

	basePool      = mustPool("2001:db8:c0::1:0/112")
	identicalPool = mustPool("2001:db8:c0:0:8000::/65") // the upper half of the link, as RFC 6853 §6.3 shares it
	pdPool        = mustPrefixPool(netip.MustParsePrefix("2001:db8:c8::/48"), 56)

	// lifetimes of every configuration: T1 < T2 < preferred < valid.
	baseLifetimes = Lifetimes{T1: 100 * time.Second, T2: 160 * time.Second, Preferred: 200 * time.Second, Valid: 300 * time.Second}
)

func mustPool(s string) alloc.Pool {
	p, err := alloc.ParsePool(s)
	if err != nil {
		panic(err)
	}
	return p
}

func mustPrefixPool(p netip.Prefix, n int) alloc.PrefixPool {
	pp, err := alloc.NewPrefixPool(p, n)
	if err != nil {
		panic(err)
	}
	return pp
}

// labSpec is the conformance lab: clients, srv1 and srv2 on Link.
func labSpec(prefix string) netns.Spec {
	p64 := func(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, 64) }
	return netns.Spec{
		Prefix:  prefix,
		Link:    Link,
		Clients: netns.NodeSpec{Name: "clients", Addrs: []netip.Prefix{p64(clientAddr)}},
		Nodes: []netns.NodeSpec{
			{Name: "srv1", Addrs: []netip.Prefix{p64(srv1Addr), p64(srv1InPool)}},
			{Name: "srv2", Addrs: []netip.Prefix{p64(srv2Addr)}},
		},
	}
}

// baseConfig is the configuration most checks run srv1 with.
func baseConfig(name string, pd bool) server.Config {
	c := server.DefaultConfig()
	c.Name = name
	duid, err := server.DeriveDUID("conform-"+name, "ll")
	if err != nil {
		panic(err)
	}
	c.DUID = duid
	c.Prefix = Link
	c.Pool = basePool
	if pd {
		c.PDPool = pdPool
	}
	c.Preference = 255
	c.T1, c.T2, c.Preferred, c.Valid = baseLifetimes.T1, baseLifetimes.T2, baseLifetimes.Preferred, baseLifetimes.Valid
	c.Allocator = deploy.AllocHash
	c.Rebind = deploy.RebindCreate
	c.Seed = 1
	return c
}

// node is one server node of the lab and what runs there.
type node struct {
	name string
	inst *daemon.Instance
	cfg  server.Config
	proc *netns.Process
}

// runner runs the checks of one server kind in one lab.
type runner struct {
	ctx   context.Context
	opt   Options
	kind  deploy.Kind
	dir   string
	lab   *netns.Lab
	p     *probe
	nodes map[string]*node
	rng   *rand.Rand
	next  uint32 // next client number
	notes map[string]bool
	order []string

	pdErr string // why the server runs without a PD pool ("" when it has one)

	prefDone bool // the preference runs, shared by two checks
	prefRuns []prefRun
	prefEv   Evidence

	bulk *bulkFixture // the relayed bindings the Bulk Leasequery checks ask about (bulk.go)
}

var allServers = netip.AddrPortFrom(transport.AllServers, transport.ServerPort)

// newClient returns a client no other check of the run has used.
func (r *runner) newClient() client {
	r.next++
	return newClient(r.next)
}

func (r *runner) xid() dhcpv6.TransactionID {
	var x dhcpv6.TransactionID
	v := r.rng.Uint32()
	x[0], x[1], x[2] = byte(v>>16), byte(v>>8), byte(v)
	return x
}

func (r *runner) note(s string) {
	if !r.notes[s] {
		r.notes[s] = true
		r.order = append(r.order, s)
	}
}

// spec is the daemon spec of node n with config cfg. Node srvK gets the
// DUID-LL of sim.ServerMAC(K-1), as server K of a scenario does.
func (r *runner) spec(n string, cfg server.Config) daemon.Spec {
	i := 0
	if n == "srv2" {
		i = 1
	}
	return daemon.Spec{
		Name:   n,
		Dir:    filepath.Join(r.dir, "servers", n),
		IfName: r.lab.IfName(n),
		MAC:    sim.ServerMAC(i),
		Addrs:  r.lab.Addrs(n),
		Config: cfg,
		Binary: r.opt.Binary,
		// the server's own behaviour, not the adapter's care, is what
		// no-reserved-address judges
		RawPool: true,
	}
}

// startErr is a server that could not be configured or started; Unsupported
// is set when the adapter said the server cannot do what was asked.
type startErr struct {
	err         error
	unsupported bool
}

func (e *startErr) Error() string { return e.err.Error() }
func (e *startErr) Unwrap() error { return e.err }

// ensure makes node n run cfg, alone among the servers unless keep names
// the others that may go on running. A changed config restarts the server
// without state.
func (r *runner) ensure(n string, cfg server.Config, keep ...string) error {
	for name, other := range r.nodes {
		if name != n && other.proc != nil && !contains(keep, name) {
			r.stop(other)
		}
	}
	nd := r.nodes[n]
	if nd.proc != nil && !nd.proc.Exited() && reflect.DeepEqual(nd.cfg, cfg) {
		return nil
	}
	r.stop(nd)
	if nd.inst != nil {
		if err := nd.inst.Wipe(true); err != nil {
			return &startErr{err: fmt.Errorf("wipe %s: %w", n, err)}
		}
	}
	inst, err := daemon.Prepare(r.kind, r.spec(n, cfg))
	if err != nil {
		return &startErr{err: fmt.Errorf("prepare %s: %w", n, err), unsupported: errors.Is(err, daemon.ErrUnsupported)}
	}
	for _, s := range inst.Notes {
		r.note(s)
	}
	nd.inst, nd.cfg = inst, cfg
	return r.start(nd)
}

// restart stops node n and starts it again with the same config; wipe
// removes its state first (keepDUID tells the adapter whether a DUID file
// survives).
func (r *runner) restart(n string, wipe, keepDUID bool) error {
	nd := r.nodes[n]
	if nd.inst == nil {
		return fmt.Errorf("conform: %s never started", n)
	}
	r.stop(nd)
	if wipe {
		if err := nd.inst.Wipe(keepDUID); err != nil {
			return &startErr{err: fmt.Errorf("wipe %s: %w", n, err)}
		}
	}
	return r.start(nd)
}

func (r *runner) stop(nd *node) {
	if nd.proc != nil {
		_ = r.lab.Kill(nd.proc)
		nd.proc = nil
	}
}

func (r *runner) stopAll() {
	for _, nd := range r.nodes {
		r.stop(nd)
		if nd.inst != nil {
			// Kea's control socket, when it lies outside the node's
			// directory (/run/d6lab); every instance of a node uses one.
			_ = daemon.RemoveControlSocket(nd.inst)
		}
	}
}

// startTimeout bounds how long a server may take to listen on port 547.
const startTimeout = 15 * time.Second

// start runs nd's instance and waits until it listens
// (session.StartServer), then a moment more: a server that dies just after
// its bind fails here rather than in the check.
func (r *runner) start(nd *node) error {
	log := filepath.Join(r.dir, "servers", nd.name+".log")
	p, err := session.StartServer(r.ctx, r.lab, nd.name, nd.inst.Command(), log, startTimeout)
	if err != nil {
		if r.ctx.Err() != nil {
			return err
		}
		return &startErr{err: fmt.Errorf("%s: %w", nd.name, err)}
	}
	nd.proc = p
	time.Sleep(100 * time.Millisecond)
	if p.Exited() {
		nd.proc = nil
		return &startErr{err: fmt.Errorf("%s exited just after binding port 547 (log %s)", nd.name, log)}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// base makes srv1 run the base configuration alone (with a PD pool when
// the server takes one).
func (r *runner) base() error {
	if r.pdErr == "" {
		err := r.ensure("srv1", baseConfig("srv1", true))
		var se *startErr
		if err == nil || !errors.As(err, &se) || !se.unsupported {
			return err
		}
		r.pdErr = err.Error()
	}
	return r.ensure("srv1", baseConfig("srv1", false))
}
