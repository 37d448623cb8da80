package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"d6lab/clientsim/population"
	"d6lab/deploy"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server"
	"d6lab/server/daemon"
	"d6lab/server/lease"
	"d6lab/sim"
	"d6lab/sim/capture"
	"d6lab/sim/netns"
	"d6lab/sim/session"
	"d6lab/transport"
)

// Options tune a run. The zero value is usable except for OutDir.
type Options struct {
	// OutDir receives the servers' logs and lease files (required).
	OutDir string
	// Binary is the d6lab executable that runs builtin servers
	// (`d6lab serve`); default: the running executable.
	Binary string
	// Prefix names every namespace and link of the run; default: a fresh
	// netns.NewPrefix().
	Prefix string
	// Log receives progress lines (phases, bound clients); nil: silent.
	Log io.Writer
	// Terminal redraws the progress line in place with a bar; otherwise a
	// plain line is written every 10 s.
	Terminal bool
	// PcapMax caps the size of <OutDir>/clients.pcap, the capture of the
	// clients' DHCPv6 traffic on the client link (sim/capture): 0 means
	// DefaultPcapMax, a negative value means no capture.
	PcapMax int64
}

// DefaultPcapMax is the size cap of the clients' capture when
// Options.PcapMax is 0.
const DefaultPcapMax = 64 << 20

// PcapFile is the name of the clients' capture in the output directory,
// the name the reports link.
const PcapFile = history.PcapFile

// Server is what a run tells the checkers and the reports about one server.
type Server struct {
	Name   string
	DUID   string // hex; sim.ServerDUID's unless the server chose its own
	Prefix netip.Prefix
	// Kind, Version and Notes describe the implementation that ran
	// (daemon.Instance): Notes name what it could not be told.
	Kind    string
	Version string
	Notes   []string
	// Bindings are the server's own bindings read from its lease file
	// after the run (daemon.Instance.Leases), its processes stopped;
	// LeasesError says why there are none when they could not be read
	// (a server without a lease file, say).
	Bindings    []lease.Binding
	LeasesError string
	// Usage is the CPU time and peak memory of the server's processes
	// (summed over restarts; the peak is the largest of them), read just
	// before each was stopped or killed.
	Usage netns.Usage
}

// Result is what a run recorded.
type Result struct {
	Prefix     string
	Start, End time.Time
	Servers    []Server
	Events     []history.Event
	// ClientStats are the population's counters (sent, received,
	// dropped by reason).
	ClientStats population.Stats
	// Pcap is the path of the clients' capture ("" when disabled) and
	// PcapStats its counters (packets written, bytes, dropped by the cap).
	Pcap      string
	PcapStats capture.Stats
	// ClientUsage is this process's CPU time during the run (the client
	// population, the capture and the lab's own work) and its peak memory.
	ClientUsage netns.Usage
	// RealClients are the scenario's real clients (clients.real), in
	// index order; their events are in Events.
	RealClients []RealClient
}

// recorder is the run's append-only history, shared by the population's
// goroutine and the timeline.
type recorder struct {
	mu     sync.Mutex
	events []history.Event
}

func (r *recorder) add(e history.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) lab(kind history.Kind, server, detail string) {
	r.add(history.Event{At: time.Now(), Kind: kind, Client: -1, Server: server, Detail: detail})
}

func (r *recorder) snapshot() []history.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]history.Event(nil), r.events...)
}

// runServer is one running server of the run.
type runServer struct {
	spec   scenarios.Server
	node   string
	cfg    server.Config
	argv   []string
	log    string
	leases string
	proc   *netns.Process
	inst   *daemon.Instance // nil in tests that start d6lab serve by hand
	usage  netns.Usage      // of its processes so far (noteUsage)
	comps  []*companion     // its companions' processes (companion.go)
}

// ServerAddrIID is the interface identifier, plus the server's index, of
// the address a third-party server gets on the client link in its own
// prefix: dhcpd and dnsmasq serve only a subnet that one of the
// interface's addresses lies in. It is one of the RFC 2526 reserved
// anycast identifiers (fdff:ffff:ffff:ff81, ...), which no pool leases
// (alloc.ReservedIID). The builtin server needs none and gets none.
const ServerAddrIID = 0xfdff_ffff_ffff_ff81

// Run plays sc in a fresh lab and returns its history. The lab is torn down
// before Run returns, whatever happens.
func Run(ctx context.Context, sc *scenarios.Scenario, opt Options) (res *Result, err error) {
	if opt.OutDir == "" {
		return nil, errors.New("lab: no output directory")
	}
	for _, s := range sc.Servers {
		a, err := daemon.Lookup(deploy.Kind(s.Kind))
		if err != nil {
			return nil, fmt.Errorf("lab: server %s: %w", s.Name, err)
		}
		if err := a.Installed(); err != nil {
			return nil, fmt.Errorf("lab: server %s: %w", s.Name, err)
		}
	}
	if err := dnsCheck(sc); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}

	spec := netns.Spec{Link: sc.Link, Clients: netns.NodeSpec{Name: "clients"}}
	servers := make([]*runServer, len(sc.Servers))
	for i, s := range sc.Servers {
		cfg, err := sim.ServerConfig(sc, i)
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		srv := &runServer{spec: s, node: fmt.Sprintf("srv%d", i+1), cfg: cfg}
		srv.log = filepath.Join(opt.OutDir, "servers", s.Name+".log")
		servers[i] = srv
		n := netns.NodeSpec{Name: srv.node}
		if s.Kind != deploy.Builtin {
			n.Addrs = []netip.Prefix{sim.WithIID(s.Prefix, ServerAddrIID+uint64(i))}
		}
		spec.Nodes = append(spec.Nodes, n)
	}

	if sc.Relayed() {
		relayTopology(sc, &spec)
	}
	hosts, realNodes, err := realHosts(sc, opt.OutDir)
	if err != nil {
		return nil, err
	}
	spec.Nodes = append(spec.Nodes, realNodes...)
	serviceSpec(sc, &spec, servers) // dns: and leasequery: (dns.go)
	// The Leasequery prober's namespace, on the network the servers are on.
	if n, ok := proberNode(sc); ok {
		if sc.Relayed() {
			spec.Upstream = append(spec.Upstream, n)
		} else {
			spec.Nodes = append(spec.Nodes, n)
		}
	}

	// The session claims the prefix and owns the lab: everything below
	// that must be undone is registered with ses.OnClose, and Close tears
	// it all down in its stated order (session.Session.Close) on every
	// path: the progress line, the clients, the servers, the capture, the
	// namespaces, the claim.
	ses, err := session.Open(session.Options{
		Name: "lab", Binary: opt.Binary, FindBinary: true, Prefix: opt.Prefix,
		Log: opt.Log, Terminal: opt.Terminal,
	})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, ses.Close()) }()
	opt.Binary, opt.Prefix = ses.Binary, ses.Prefix
	logf := ses.Logf
	// The DNS server's key and files, checked by named-checkconf before
	// anything is built; every server updates it (cfg.DNS).
	var dnsSrv *dnsServer
	if sc.DNS != nil {
		if dnsSrv, err = prepareDNS(sc, opt.Prefix, opt.OutDir); err != nil {
			return nil, err
		}
		for _, srv := range servers {
			c := dnsSrv.cfg
			srv.cfg.DNS = &c
		}
	}
	logf("lab %s: building %d server namespaces and the client link", opt.Prefix, len(servers))
	if err := ses.Create(spec); err != nil {
		return nil, err
	}
	lab := ses.Lab

	for _, a := range sc.Timeline {
		if a.Kind == scenarios.Impair && a.Delay > 0 {
			// Refuse before any server starts rather than at the action.
			if err := lab.NetemAvailable(); err != nil {
				return nil, fmt.Errorf("lab: t=%s impair %s delay %s: %w", a.At, a.Target, a.Delay, err)
			}
		}
	}

	// The capture starts before any server, so it holds the whole run, and
	// stops after them, before the namespaces go (ses.Close).
	var pcapPath string
	if opt.PcapMax < 0 {
		// No capture: a file left by an earlier run in OutDir would be
		// mistaken for this run's (the report links it).
		if err := os.Remove(filepath.Join(opt.OutDir, PcapFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lab: %w", err)
		}
	} else {
		limit := opt.PcapMax
		if limit == 0 {
			limit = DefaultPcapMax
		}
		pcapPath = filepath.Join(opt.OutDir, PcapFile)
		c, err := capture.Start(lab, "clients", pcapPath, limit)
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		ses.OnClose(func() error {
			st, serr := c.Stop()
			if res != nil {
				res.PcapStats = st
			}
			if serr != nil {
				return fmt.Errorf("lab: %w", serr)
			}
			return nil
		})
	}

	rec := &recorder{}
	res = &Result{Prefix: opt.Prefix, Pcap: pcapPath}
	states := newServerStates()
	meter, err := startLoad(lab, servers, states) // server load (load.go), from before the servers start
	if err != nil {
		return nil, err
	}
	ses.OnClose(func() error { _, err := meter.stop(); return err })
	if dnsSrv != nil {
		// Before any DHCP server: they update it from their first
		// binding on. Stopped after them (ses.OnClose order).
		if err := dnsSrv.start(ctx, ses, rec); err != nil {
			return nil, err
		}
	}
	for i, srv := range servers {
		if err := prepare(lab, srv, i, opt); err != nil {
			return nil, err
		}
		// On every path, not only at the end (collectBindings): Kea's
		// control socket when it lies outside the run directory.
		inst := srv.inst
		ses.OnClose(func() error { return daemon.RemoveControlSocket(inst) })
		if err := start(ctx, lab, srv); err != nil {
			return nil, err
		}
		rec.lab(history.ServerStarted, srv.spec.Name, fmt.Sprintf("pid %d", srv.proc.PID))
		duid := srv.cfg.DUID
		if srv.inst.DUID != nil {
			duid = srv.inst.DUID
		}
		a, _ := daemon.Lookup(srv.inst.Kind)
		res.Servers = append(res.Servers, Server{
			Name: srv.spec.Name, DUID: server.FormatDUID(duid), Prefix: srv.spec.Prefix,
			Kind: string(srv.inst.Kind), Version: a.Version(), Notes: srv.inst.Notes,
		})
		if srv.inst.Kind != deploy.Builtin {
			logf("lab %s: server %s is %s (%s)", opt.Prefix, srv.spec.Name, srv.inst.Kind, a.Version())
			for _, n := range srv.inst.Notes {
				logf("lab %s:   note: %s", opt.Prefix, n)
			}
		}
	}
	// After the run, before the teardown: stop the servers and read their
	// lease files (ses.Close runs this after the clients stop, before the
	// capture stops and the lab is torn down). err is Run's result.
	ses.OnClose(func() error {
		if res == nil || err != nil {
			return nil
		}
		for i, srv := range servers {
			if i < len(res.Servers) {
				collectBindings(lab, srv, &res.Servers[i])
			}
		}
		return nil
	})

	if sc.Relay == scenarios.Dhcrelay {
		p, err := startDhcrelay(ctx, sc, lab, opt.OutDir)
		if err != nil {
			return nil, err
		}
		logf("lab %s: dhcrelay -6 relaying to %d servers (pid %d)", opt.Prefix, len(servers), p.PID)
	}

	var conn *transport.UDP
	if sc.Relay == scenarios.OwnRelay {
		conn, err = listenOwnRelay(lab)
	} else {
		err = lab.Do("clients", func() error {
			var err error
			conn, err = transport.ListenUDP(lab.IfName("clients"), transport.ClientPort)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("lab: client socket: %w", err)
	}
	held := &holding{}
	pcfg := sim.PopulationConfig(sc, func(e history.Event) {
		rec.add(e)
		held.observe(e)
	})
	if sc.Relay == scenarios.OwnRelay {
		pcfg.Relay = sim.OwnRelay(sc, lab.IfName(relayNode))
	}
	pcfg.Epoch = time.Now() // the clock RunControlled gives the clients
	pop, err := population.New(pcfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("lab: client population: %w", err)
	}

	popCtx, cancelPop := context.WithCancel(ctx)
	popDone := make(chan error, 1)
	var popErr error
	stopPop := sync.OnceFunc(func() {
		cancelPop()
		conn.Close()
		if err := <-popDone; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, net.ErrClosed) {
			popErr = fmt.Errorf("lab: client population: %w", err)
		}
	})
	cpu0 := netns.Rusage(unix.RUSAGE_SELF).CPU
	res.Start = time.Now()
	meter.begin(res.Start)
	rec.add(history.Event{At: res.Start, Kind: history.RunStarted, Client: -1, Detail: sc.Name})
	if dnsSrv != nil {
		dnsSrv.run() // zone samples and the watch on named, from now on
	}
	logf("lab %s: %d clients starting over %s; run lasts %s", opt.Prefix, sc.Clients.Count, sc.Clients.Ramp, sc.Duration)
	ctl := make(chan population.Command, len(sc.Timeline))
	go func() { popDone <- population.RunControlled(popCtx, pop, conn, time.Now, ctl) }()
	ses.OnClose(func() error { stopPop(); return nil })

	// The real clients start over the ramp, as the population does
	// (realStarts); finishReal stops them,
	// their watches and captures, and translates what they did (at the
	// end, or on any other path through ses.Close).
	var realDone bool
	finishReal := func(end time.Time) error {
		if realDone {
			return nil
		}
		realDone = true
		var errs []error
		for _, h := range hosts {
			rc, evs, err := h.finish(lab, end)
			errs = append(errs, err)
			if res == nil {
				continue // the run failed or was interrupted: stopped, nothing to report
			}
			for _, e := range evs {
				rec.add(e)
			}
			res.RealClients = append(res.RealClients, rc)
			logf("lab %s: real client %s", opt.Prefix, rc.summary())
		}
		return errors.Join(errs...)
	}
	ses.OnClose(func() error { return finishReal(time.Now()) })
	for _, h := range hosts {
		if err := h.prepare(lab); err != nil {
			return nil, err
		}
	}
	// launch starts the real clients due by offset d from the start, each
	// at its time.
	launchAt, launched := realStarts(len(hosts), sc.Clients.Ramp), 0
	launch := func(d time.Duration) error {
		for ; launched < len(hosts) && launchAt[launched] <= d; launched++ {
			if err := sleepUntil(ctx, res.Start.Add(launchAt[launched])); err != nil {
				return err
			}
			if err := hosts[launched].launch(lab, rec); err != nil {
				return err
			}
		}
		return nil
	}
	if len(hosts) > 0 {
		logf("lab %s: %d real clients starting over %s (%s)", opt.Prefix, len(hosts), sc.Clients.Ramp, realKinds(sc))
	}
	if err := startLeasequery(ctx, ses, sc, servers, states, rec, res.Start); err != nil {
		return nil, err
	}
	ses.Progress().Start(sc.Duration, progressEvery, runStatus(res.Start, sc.Duration, sc.TotalClients(), held))

	tl := newTimeline(ctx, lab, servers, states, ctl, rec)
	tl.real = hosts
	for _, a := range sc.Timeline {
		if err := launch(a.At); err != nil {
			return nil, err
		}
		if err := sleepUntil(ctx, res.Start.Add(a.At)); err != nil {
			return nil, err
		}
		what := a.Target
		if a.Kind.ClientAction() {
			what = sim.ClientActionDetail(a)
		}
		logf("lab %s: t=%s %s %s", opt.Prefix, a.At, a.Kind, what)
		if err := sim.Apply(tl, a); err != nil {
			return nil, fmt.Errorf("lab: t=%s %s %s: %w", a.At, a.Kind, what, err)
		}
	}
	if err := launch(sc.Duration); err != nil {
		return nil, err
	}
	if err := sleepUntil(ctx, res.Start.Add(sc.Duration)); err != nil {
		return nil, err
	}
	stopPop()
	if popErr != nil {
		return nil, popErr
	}
	if dnsSrv != nil {
		// The last sample of the zones and the updates named logged:
		// the clients have stopped, the servers still run.
		dnsSrv.finish()
	}
	res.End = time.Now()
	load, warn, err := meter.finish(res.End)
	if err != nil {
		return nil, err
	}
	for _, w := range warn {
		logf("lab %s: %s", opt.Prefix, w)
	}
	if err := finishReal(res.End); err != nil {
		return nil, err
	}
	self := netns.Rusage(unix.RUSAGE_SELF)
	res.ClientUsage = netns.Usage{CPU: self.CPU - cpu0, MaxRSSKiB: self.MaxRSSKiB}
	rec.add(history.Event{At: res.End, Kind: history.RunEnded, Client: -1, Detail: sc.Name})
	res.Events = mergeLoad(rec.snapshot(), load)
	if len(hosts) > 0 || dnsSrv != nil {
		// The real clients' events were translated at the end, and the
		// DNS updates read from named's log: put them in time order
		// among the others (a stable sort keeps the order of events at
		// the same instant).
		slices.SortStableFunc(res.Events, func(a, b history.Event) int { return a.At.Compare(b.At) })
	}
	res.ClientStats = pop.Stats()
	logf("lab %s: done, %d events; tearing down", opt.Prefix, len(res.Events))
	return res, nil
}

// prepare renders server i's configuration through its kind's adapter
// (daemon.Prepare) into OutDir/servers/<name>/ and clears the state an
// earlier run in the same directory left.
func prepare(lab *netns.Lab, srv *runServer, i int, opt Options) error {
	inst, err := daemon.Prepare(deploy.Kind(srv.spec.Kind), daemon.Spec{
		Name:   srv.spec.Name,
		Dir:    filepath.Join(opt.OutDir, "servers", srv.spec.Name),
		IfName: lab.IfName(srv.node),
		Addrs:  servedAddrs(lab.Addrs(srv.node)), // not the service address (dns.go)
		MAC:    sim.ServerMAC(i),
		Config: srv.cfg,
		Binary: opt.Binary,
	})
	if err != nil {
		return fmt.Errorf("lab: server %s: %w", srv.spec.Name, err)
	}
	if err := inst.Wipe(true); err != nil {
		return fmt.Errorf("lab: server %s: clear an earlier run's leases: %w", srv.spec.Name, err)
	}
	srv.inst, srv.argv, srv.leases = inst, inst.Command(), inst.LeaseFile
	return nil
}

// wipe removes the server's bindings, keeping its DUID.
func (srv *runServer) wipe() error {
	if srv.inst != nil {
		return srv.inst.Wipe(true)
	}
	if err := os.Remove(srv.leases); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// stopGrace is how long a server has to exit on SIGTERM at the end of a
// run before it is killed.
const stopGrace = 2 * time.Second

// collectBindings stops srv (SIGTERM, SIGKILL after stopGrace) so that its
// lease file is complete and unlocked, then reads it into out. A failure is
// recorded in out, never returned: the run itself succeeded.
func collectBindings(lab *netns.Lab, srv *runServer, out *Server) {
	srv.noteUsage()
	srv.noteCompanionUsage()
	out.Usage = srv.usage
	// The companions stop after the server, which may have asked them
	// something last (companion.go).
	defer func() {
		if err := stopCompanions(lab, srv); err != nil && out.LeasesError == "" {
			out.LeasesError = fmt.Sprintf("stop %s: %v", srv.spec.Name, err)
		}
	}()
	if p := srv.proc; p != nil && !p.Exited() {
		_ = lab.Thaw(p) // a frozen server cannot act on SIGTERM
		if err := p.Signal(syscall.SIGTERM); err == nil {
			select {
			case <-p.Done():
			case <-time.After(stopGrace):
			}
		}
		if err := lab.Kill(p); err != nil {
			out.LeasesError = fmt.Sprintf("stop %s: %v", srv.spec.Name, err)
			return
		}
	}
	if srv.inst == nil {
		return
	}
	b, err := srv.inst.Leases()
	if err != nil {
		out.LeasesError = err.Error()
		return
	}
	out.Bindings = b
}

// start launches srv's companions, ready, then its process
// (session.StartServer, up to 10 s to listen); companions left from an
// earlier start are killed first (companion.go).
func start(ctx context.Context, lab *netns.Lab, srv *runServer) error {
	if err := startCompanions(ctx, lab, srv); err != nil {
		return fmt.Errorf("lab: server %s: %w", srv.spec.Name, err)
	}
	p, err := session.StartServer(ctx, lab, srv.node, srv.argv, srv.log, 10*time.Second)
	if err != nil {
		return errors.Join(fmt.Errorf("lab: server %s: %w", srv.spec.Name, err), killCompanions(lab, srv))
	}
	srv.proc = p
	return nil
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// noteUsage adds the running process's CPU time and peak memory to srv's
// totals; called before the process is stopped or killed.
func (srv *runServer) noteUsage() {
	p := srv.proc
	if p == nil || p.Exited() {
		return
	}
	if u, err := p.Usage(); err == nil {
		srv.usage.CPU += u.CPU
		srv.usage.MaxRSSKiB = max(srv.usage.MaxRSSKiB, u.MaxRSSKiB)
	}
}
