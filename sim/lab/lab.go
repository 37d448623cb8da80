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
	"strconv"
	"strings"
	"sync"
	"time"

	"d6lab/clientsim/population"
	"d6lab/reports/history"
	"d6lab/reports/render"
	"d6lab/scenarios"
	"d6lab/server"
	"d6lab/sim"
	"d6lab/sim/capture"
	"d6lab/sim/netns"
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
const PcapFile = render.PcapFile

// Server is what a run tells the checkers about one server.
type Server struct {
	Name   string
	DUID   string // hex
	Prefix netip.Prefix
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
}

// Run plays sc in a fresh lab and returns its history. The lab is torn down
// before Run returns, whatever happens.
func Run(ctx context.Context, sc *scenarios.Scenario, opt Options) (res *Result, err error) {
	if opt.OutDir == "" {
		return nil, errors.New("lab: no output directory")
	}
	for _, s := range sc.Servers {
		if s.Kind != scenarios.Builtin {
			return nil, fmt.Errorf("lab: server %s: kind %q has no adapter yet (only %q runs)", s.Name, s.Kind, scenarios.Builtin)
		}
	}
	if opt.Binary == "" {
		if opt.Binary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("lab: find the d6lab binary: %w", err)
		}
	}
	if opt.Prefix == "" {
		opt.Prefix = netns.NewPrefix()
	}
	logf := func(format string, a ...any) {
		if opt.Log != nil {
			if opt.Terminal {
				fmt.Fprint(opt.Log, "\r\033[K") // over the progress line
			}
			fmt.Fprintf(opt.Log, format+"\n", a...)
		}
	}
	if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}

	spec := netns.Spec{Prefix: opt.Prefix, Link: sc.Link, Clients: netns.NodeSpec{Name: "clients"}}
	servers := make([]*runServer, len(sc.Servers))
	for i, s := range sc.Servers {
		cfg, err := sim.ServerConfig(sc, i)
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		srv := &runServer{spec: s, node: fmt.Sprintf("srv%d", i+1), cfg: cfg}
		srv.log = filepath.Join(opt.OutDir, "servers", s.Name+".log")
		srv.leases = filepath.Join(opt.OutDir, "servers", s.Name+".leases")
		servers[i] = srv
		spec.Nodes = append(spec.Nodes, netns.NodeSpec{Name: srv.node})
	}

	if sc.Relayed() {
		relayTopology(sc, &spec)
	}

	if err := claim(opt.Prefix); err != nil {
		return nil, err
	}
	defer release(opt.Prefix)
	logf("lab %s: building %d server namespaces and the client link", opt.Prefix, len(servers))
	lab, err := netns.Create(spec)
	if err != nil {
		return nil, fmt.Errorf("lab: build topology: %w", err)
	}
	defer func() {
		if terr := lab.Teardown(); terr != nil {
			err = errors.Join(err, fmt.Errorf("lab: teardown: %w", terr))
		}
	}()

	for _, a := range sc.Timeline {
		if a.Kind == scenarios.Impair && a.Delay > 0 {
			// Refuse before any server starts rather than at the action.
			if err := lab.NetemAvailable(); err != nil {
				return nil, fmt.Errorf("lab: t=%s impair %s delay %s: %w", a.At, a.Target, a.Delay, err)
			}
		}
	}

	// The capture starts before any server, so it holds the whole run, and
	// stops before the teardown above (deferred calls run last-in first-out).
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
		defer func() {
			st, serr := c.Stop()
			if serr != nil {
				err = errors.Join(err, fmt.Errorf("lab: %w", serr))
			}
			if res != nil {
				res.PcapStats = st
			}
		}()
	}

	rec := &recorder{}
	res = &Result{Prefix: opt.Prefix, Pcap: pcapPath}
	for _, srv := range servers {
		srv.argv = serveArgv(opt.Binary, lab.IfName(srv.node), srv.leases, srv.cfg)
		if err := start(ctx, lab, srv); err != nil {
			return nil, err
		}
		rec.lab(history.ServerStarted, srv.spec.Name, fmt.Sprintf("pid %d", srv.proc.PID))
		res.Servers = append(res.Servers, Server{Name: srv.spec.Name, DUID: server.FormatDUID(srv.cfg.DUID), Prefix: srv.spec.Prefix})
	}

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
	res.Start = time.Now()
	rec.add(history.Event{At: res.Start, Kind: history.RunStarted, Client: -1, Detail: sc.Name})
	logf("lab %s: %d clients starting over %s; run lasts %s", opt.Prefix, sc.Clients.Count, sc.Clients.Ramp, sc.Duration)
	ctl := make(chan population.Command, len(sc.Timeline))
	go func() { popDone <- population.RunControlled(popCtx, pop, conn, time.Now, ctl) }()
	defer stopPop()
	if opt.Log != nil {
		prog := startProgress(opt.Log, opt.Terminal, res.Start, sc.Duration, sc.TotalClients(), held)
		defer prog.end()
	}

	byName := map[string]*runServer{}
	for _, s := range servers {
		byName[s.spec.Name] = s
	}
	for _, a := range sc.Timeline {
		if err := sleepUntil(ctx, res.Start.Add(a.At)); err != nil {
			return nil, err
		}
		if a.Kind.ClientAction() {
			logf("lab %s: t=%s %s %s", opt.Prefix, a.At, a.Kind, sim.ClientActionDetail(a))
			ctl <- clientCommand(a)
			rec.lab(sim.ClientActionKind(a.Kind), "", sim.ClientActionDetail(a))
			continue
		}
		srv := byName[a.Target]
		logf("lab %s: t=%s %s %s", opt.Prefix, a.At, a.Kind, a.Target)
		if err := act(ctx, lab, srv, a, rec); err != nil {
			return nil, fmt.Errorf("lab: t=%s %s %s: %w", a.At, a.Kind, a.Target, err)
		}
	}
	if err := sleepUntil(ctx, res.Start.Add(sc.Duration)); err != nil {
		return nil, err
	}
	stopPop()
	if popErr != nil {
		return nil, popErr
	}
	res.End = time.Now()
	rec.add(history.Event{At: res.End, Kind: history.RunEnded, Client: -1, Detail: sc.Name})
	res.Events = rec.snapshot()
	res.ClientStats = pop.Stats()
	logf("lab %s: done, %d events; tearing down", opt.Prefix, len(res.Events))
	return res, nil
}

// clientCommand turns a client action into a command the population's
// goroutine executes (population.RunControlled).
func clientCommand(a scenarios.Action) population.Command {
	return func(p *population.Population, now time.Time) {
		switch a.Kind {
		case scenarios.Join:
			_, _ = p.AddClients(now, a.Count, a.Ramp) // Count >= 1: validated
		case scenarios.Leave:
			p.StopSome(now, a.Count)
		case scenarios.Flap:
			p.LinkChanged(now)
		case scenarios.Occupy:
			p.Occupy(now, a.Address)
		}
	}
}

// act applies one timeline action to srv.
func act(ctx context.Context, lab *netns.Lab, srv *runServer, a scenarios.Action, rec *recorder) error {
	name := srv.spec.Name
	switch a.Kind {
	case scenarios.Kill:
		if err := lab.Kill(srv.proc); err != nil {
			return err
		}
		rec.lab(history.ServerKilled, name, "SIGKILL")
	case scenarios.Freeze:
		if err := lab.Freeze(srv.proc); err != nil {
			return err
		}
		rec.lab(history.ServerFrozen, name, "SIGSTOP")
	case scenarios.Thaw:
		if err := lab.Thaw(srv.proc); err != nil {
			return err
		}
		rec.lab(history.ServerThawed, name, "SIGCONT")
	case scenarios.Restart:
		if !srv.proc.Exited() {
			// A restart of a running server is an abrupt one: what was not
			// persisted is lost, as in a crash.
			if err := lab.Kill(srv.proc); err != nil {
				return err
			}
		}
		if a.State == scenarios.Wipe {
			if err := os.Remove(srv.leases); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("wipe leases: %w", err)
			}
		}
		// Recorded before the start: the new process may answer clients
		// before start sees its ready line, and no grant of it may come
		// earlier in the history than its restart.
		rec.lab(history.ServerRestarted, name, "state "+string(a.State))
		if err := start(ctx, lab, srv); err != nil {
			return err
		}
	case scenarios.Cut:
		if err := lab.Cut(srv.node); err != nil {
			return err
		}
		rec.lab(history.LinkCut, name, "")
	case scenarios.Heal:
		if err := lab.Unimpair(srv.node); err != nil {
			return err
		}
		if err := lab.Heal(srv.node); err != nil {
			return err
		}
		rec.lab(history.LinkHealed, name, "")
	case scenarios.Impair:
		if err := lab.Impair(srv.node, a.Loss, a.Delay); err != nil {
			return err
		}
		rec.lab(history.LinkImpaired, name, fmt.Sprintf("loss %.3f delay %s", a.Loss, a.Delay))
	default:
		return fmt.Errorf("unknown action %q", a.Kind)
	}
	return nil
}

// start launches srv's process and waits until it listens.
func start(ctx context.Context, lab *netns.Lab, srv *runServer) error {
	before := logSize(srv.log)
	p, err := lab.Start(srv.node, srv.argv, srv.log)
	if err != nil {
		return fmt.Errorf("lab: start server %s: %w", srv.spec.Name, err)
	}
	srv.proc = p
	deadline := time.Now().Add(10 * time.Second)
	for {
		if out := readFrom(srv.log, before); strings.Contains(out, ReadyLine) {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("lab: server %s exited at start (see %s): %s", srv.spec.Name, srv.log, strings.TrimSpace(readFrom(srv.log, before)))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: server %s not listening after 10s (see %s)", srv.spec.Name, srv.log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ReadyLine is what `d6lab serve` prints once its socket is open.
const ReadyLine = "listening on"

func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func readFrom(path string, off int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < off {
		return ""
	}
	return string(b[off:])
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

// serveArgv is the `d6lab serve` command line that runs cfg on ifname.
func serveArgv(bin, ifname, leases string, cfg server.Config) []string {
	argv := []string{bin, "serve",
		"--iface", ifname,
		"--prefix", cfg.Prefix.String(),
		"--pool", cfg.Pool.String(),
		"--preference", strconv.Itoa(int(cfg.Preference)),
		"--t1", cfg.T1.String(), "--t2", cfg.T2.String(),
		"--preferred", cfg.Preferred.String(), "--valid", cfg.Valid.String(),
		"--allocator", cfg.Allocator,
		"--rebind", cfg.Rebind.String(),
		"--duid", server.FormatDUID(cfg.DUID),
		"--seed", strconv.FormatUint(cfg.Seed, 10),
		"--leases", leases,
	}
	if !cfg.PDPool.IsZero() {
		argv = append(argv, "--pd-pool", cfg.PDPool.Base().String(), "--pd-len", strconv.Itoa(cfg.PDPool.Delegated()))
	}
	if cfg.RapidCommit {
		argv = append(argv, "--rapid-commit")
	}
	if cfg.InfoRefresh > 0 {
		argv = append(argv, "--info-refresh", cfg.InfoRefresh.String())
	}
	return argv
}
