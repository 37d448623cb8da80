package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"d6lab/clientsim/load"
	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/server/daemon"
	"d6lab/sim"
	"d6lab/sim/netns"
	"d6lab/sim/session"
	"d6lab/transport"
)

// The lab's addresses: one /64 link, the server at ::1, the clients' node
// at ::2 (a relay's link-address), the address pool a /80 (2^48
// addresses: no client space exhausts it), delegated prefixes /56 out of a
// /34 (4 Mi prefixes).
var (
	LinkPrefix = netip.MustParsePrefix("2001:db8:be::/64")
	ServerAddr = netip.MustParseAddr("2001:db8:be::1")
	ClientAddr = netip.MustParseAddr("2001:db8:be::2")
	PoolPrefix = netip.MustParsePrefix("2001:db8:be:0:1::/80")
	PDPrefix   = netip.MustParsePrefix("2001:db8:8000::/34")
	PDLen      = 56
)

// Nodes of the lab.
const (
	clientsNode = "clients"
	serverNode  = "srv1"
)

// ErrNeedRoot is returned when the process cannot create namespaces.
var ErrNeedRoot = errors.New("bench: needs root (CAP_NET_ADMIN) to build the lab's network namespaces")

// Check tells, before anything is created, whether the options can run
// here: valid, root, the server and (with Vs) perfdhcp installed. Call it
// after SetDefaults.
func Check(opt Options) error {
	if err := opt.Validate(); err != nil {
		return err
	}
	if opt.Server != Echo {
		a, err := daemon.Lookup(opt.Server)
		if err != nil {
			return err
		}
		if err := a.Installed(); err != nil {
			return err
		}
	}
	if opt.Vs == "perfdhcp" {
		if _, err := os.Stat(opt.Perfdhcp); err != nil {
			return fmt.Errorf("bench: --vs perfdhcp needs %s (Debian package kea-admin): %w", opt.Perfdhcp, err)
		}
	}
	if os.Geteuid() != 0 {
		return ErrNeedRoot
	}
	return nil
}

// bench is one Run's state.
type bench struct {
	opt   Options
	lab   *netns.Lab
	inst  *daemon.Instance // nil for Echo
	argv  []string         // the server's command line
	proc  *netns.Process
	log   string // the server's log
	dir   string // working directory
	rep   *Report
	steps int // steps run so far, all tools
	prog  *session.Progress

	completed, dropped atomic.Uint64 // the step's exchanges so far (stepStatus)

	perfArgv      []string                       // perfdhcp's last command line
	perfExchanges map[float64][]PerfdhcpExchange // perfdhcp's blocks by offered rate
}

// Run builds the lab, runs the benchmark and tears the lab down before it
// returns, whatever happens. A cancelled ctx stops it between or inside
// steps and returns ctx's error.
func Run(ctx context.Context, opt Options) (rep *Report, err error) {
	opt.SetDefaults()
	if err := Check(opt); err != nil {
		return nil, err
	}
	b := &bench{opt: opt}
	if opt.OutDir == "" {
		if b.dir, err = os.MkdirTemp("", "d6lab-bench-"); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(b.dir)
	} else {
		b.dir = opt.OutDir
		if err := os.MkdirAll(b.dir, 0o755); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	b.rep = &Report{
		Server: string(opt.Server), Version: serverVersion(opt.Server), Mode: "rate", Leases: leasesKept(opt),
		Params: Params{
			Exchange: opt.Exchange.String(), NA: opt.NA, PD: opt.PD, Clients: opt.Clients,
			Renew: opt.Renew, Rebind: opt.Rebind, Release: opt.Release, Relay: opt.Relay,
			Offload:   (opt.Server == deploy.Builtin || opt.Server == Echo) && !opt.NoOffload,
			DurationS: opt.Duration.Seconds(), TimeoutS: opt.Timeout.Seconds(), MaxDrops: opt.MaxDrops, MaxP99Ms: ms(opt.MaxP99), Seed: opt.Seed,
		},
		Machine: thisMachine(), Start: time.Now(), Steps: []Step{},
	}
	if opt.Search {
		b.rep.Mode = "search"
		b.rep.Params.DurationS = opt.Step.Seconds()
	}
	defer func() { b.rep.ElapsedS = time.Since(b.rep.Start).Seconds() }()

	// The session claims the prefix, builds the lab and tears it down
	// (Close: the progress bar, every process, the namespaces, the claim).
	ses, err := session.Open(session.Options{
		Name: "bench", Binary: opt.Binary, FindBinary: opt.Server == deploy.Builtin || opt.Server == Echo, Prefix: opt.Prefix,
		Log: opt.Log, Terminal: opt.Terminal,
	})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, ses.Close()) }()
	b.opt.Binary, b.opt.Prefix, b.rep.Prefix, b.prog = ses.Binary, ses.Prefix, ses.Prefix, ses.Progress()
	b.logf("lab %s: building the clients and %s namespaces", ses.Prefix, serverNode)
	if err := ses.Create(netns.Spec{
		Link:    LinkPrefix,
		Clients: netns.NodeSpec{Name: clientsNode, Addrs: []netip.Prefix{netip.PrefixFrom(ClientAddr, 64)}},
		Nodes:   []netns.NodeSpec{{Name: serverNode, Addrs: []netip.Prefix{netip.PrefixFrom(ServerAddr, 64)}}},
	}); err != nil {
		return nil, err
	}
	b.lab = ses.Lab

	if err := b.prepare(); err != nil {
		return nil, err
	}
	// Kea's control socket, when it lies outside the run directory
	// (/run/d6lab), goes with the lab (after the server: last-first).
	ses.OnClose(func() error {
		if b.inst == nil {
			return nil
		}
		return daemon.RemoveControlSocket(b.inst)
	})
	if err := b.startServer(ctx); err != nil {
		return nil, err
	}
	b.logf("%s %s listening (pid %d); %s", b.opt.Server, b.rep.Version, b.proc.PID, b.describe())

	if err := b.phase(ctx, "d6lab", b.generatorStep); err != nil {
		return nil, err
	}
	if opt.Vs == "perfdhcp" {
		// Fairness: perfdhcp meets the server as the generator did, freshly
		// started on an empty lease file.
		b.logf("restarting %s on a wiped lease file for perfdhcp", opt.Server)
		if err := b.restartServer(ctx); err != nil {
			return nil, err
		}
		if err := b.phase(ctx, "perfdhcp", b.perfdhcpStep); err != nil {
			return nil, err
		}
	}
	b.noteMaxRSS()
	if opt.ServerCPUProfile != "" {
		// The server writes its profile as it exits: stop it gracefully
		// here, not with the lab's kill.
		if err := b.stopServer(); err != nil {
			return nil, fmt.Errorf("bench: stop %s for its profile: %w", opt.Server, err)
		}
	}
	b.summarize()
	return b.rep, nil
}

func (b *bench) describe() string {
	if b.opt.Search {
		return fmt.Sprintf("searching for the highest rate with drops <= %s and p99 <= %v (and with drops alone), steps of %s", pct(b.opt.MaxDrops), b.opt.MaxP99, b.opt.Step)
	}
	return fmt.Sprintf("%.0f exchanges/s for %s", b.opt.Rate, b.opt.Duration)
}

func (b *bench) logf(format string, a ...any) {
	b.prog.Logf(format, a...)
}

// serverConfig is the server's protocol configuration: a pool far larger
// than the client space, day-long lifetimes (no client comes back within
// a run), Preference 255 and Rapid Commit when the exchange asks for it.
func (b *bench) serverConfig() (server.Config, error) {
	cfg := server.DefaultConfig()
	cfg.Name = "bench-" + serverNode
	duid, err := server.DeriveDUID(cfg.Name, "ll")
	if err != nil {
		return cfg, err
	}
	cfg.DUID = duid
	cfg.Prefix = LinkPrefix
	if cfg.Pool, err = alloc.PoolFromPrefix(PoolPrefix); err != nil {
		return cfg, err
	}
	if b.opt.PD {
		if cfg.PDPool, err = alloc.NewPrefixPool(PDPrefix, PDLen); err != nil {
			return cfg, err
		}
	}
	cfg.Preference = 255
	cfg.T1, cfg.T2, cfg.Preferred, cfg.Valid = 12*time.Hour, 19*time.Hour, 24*time.Hour, 48*time.Hour
	cfg.RapidCommit = b.opt.Exchange == load.RapidCommit
	return cfg, cfg.Validate()
}

// prepare renders the server's configuration through its adapter, with
// its lease file in dir/server (durable: the builtin server's bbolt file,
// Kea's memfile with persist).
func (b *bench) prepare() error {
	if b.opt.Server == Echo {
		return b.prepareEcho()
	}
	cfg, err := b.serverConfig()
	if err != nil {
		return fmt.Errorf("bench: server config: %w", err)
	}
	ifname := b.lab.IfName(serverNode)
	dir := filepath.Join(b.dir, "server")
	b.log = filepath.Join(dir, "server.log")
	b.inst, err = daemon.Prepare(b.opt.Server, daemon.Spec{
		Name: serverNode, Dir: dir, IfName: ifname, MAC: sim.ServerMAC(0),
		Addrs:  []netip.Prefix{netip.PrefixFrom(ServerAddr, 64)},
		Config: cfg, Binary: b.opt.Binary, LeaseSync: b.opt.LeaseSync,
	})
	if err != nil {
		return fmt.Errorf("bench: prepare %s: %w", b.opt.Server, err)
	}
	// A previous benchmark in the same --out must not hand its bindings on.
	if err := b.inst.Wipe(true); err != nil {
		return fmt.Errorf("bench: wipe %s's leases: %w", b.opt.Server, err)
	}
	b.rep.Notes = append(b.rep.Notes, b.inst.Notes...)
	b.argv = b.inst.Command()
	if b.rep.Params.Offload {
		// Its clients share the generator's socket, as clients behind one
		// relay share its address: runs of answers go to one destination.
		b.argv = append(b.argv, "--offload")
	}
	if b.opt.ServerCPUProfile != "" {
		// the server's working directory is not necessarily ours
		abs, err := filepath.Abs(b.opt.ServerCPUProfile)
		if err != nil {
			return fmt.Errorf("bench: --server-cpuprofile: %w", err)
		}
		b.argv = append(b.argv, "--cpuprofile", abs)
	}
	return nil
}

// startServer starts the prepared server in its namespace and waits until
// it listens on port 547 (session.StartServer, up to 20 s).
func (b *bench) startServer(ctx context.Context) error {
	p, err := session.StartServer(ctx, b.lab, serverNode, b.argv, b.log, 20*time.Second)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", b.opt.Server, err)
	}
	b.proc = p
	return nil
}

// stopServer stops the server gracefully (SIGTERM, then SIGKILL after 5 s)
// and records its peak memory first.
func (b *bench) stopServer() error {
	if b.proc == nil || b.proc.Exited() {
		return nil
	}
	b.noteMaxRSS()
	if err := b.proc.Signal(syscall.SIGTERM); err == nil {
		select {
		case <-b.proc.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
	return b.lab.Kill(b.proc)
}

func (b *bench) restartServer(ctx context.Context) error {
	if err := b.stopServer(); err != nil {
		return fmt.Errorf("bench: stop %s: %w", b.opt.Server, err)
	}
	if b.inst != nil {
		if err := b.inst.Wipe(true); err != nil {
			return fmt.Errorf("bench: wipe %s's leases: %w", b.opt.Server, err)
		}
	}
	return b.startServer(ctx)
}

func (b *bench) noteMaxRSS() {
	if b.proc == nil || b.proc.Exited() {
		return
	}
	if kb, err := netns.ProcessMaxRSS(b.proc.PID); err == nil && kb > b.rep.CPU.ServerMaxRSSKiB {
		b.rep.CPU.ServerMaxRSSKiB = kb
	}
}

// stepFunc measures one step of a tool at an offered rate for d.
type stepFunc func(ctx context.Context, rate float64, d time.Duration) (Step, error)

// phase runs one tool: a single run at Rate, or a search. Steps go into
// the report (rep.Steps or rep.Perfdhcp.Steps).
func (b *bench) phase(ctx context.Context, tool string, run stepFunc) error {
	var steps *[]Step
	if tool == "d6lab" {
		steps = &b.rep.Steps
	} else {
		b.rep.Perfdhcp = &PerfdhcpSummary{Steps: []Step{}}
		steps = &b.rep.Perfdhcp.Steps
	}
	first, warming := true, false
	var measure func(ctx context.Context, rate float64) (Verdict, error)
	// warmUp runs one step that binds every client once, before a search,
	// and keeps it apart (Report.Warmup), so that every judged step meets
	// a server that already holds a binding for each client and only
	// changes them in place, as the search assumes: without it the first
	// steps create bindings and the later ones do not.
	warmUp := func(ctx context.Context) error {
		cfg := b.opt.SearchConfig
		rate := math.Round(math.Min(math.Max(cfg.Start, float64(b.opt.Clients)/b.opt.Step.Seconds()), cfg.MaxRate))
		b.logf("%s: warm-up at %.0f/s for %s, binding the %d clients once (not judged)", tool, rate, b.opt.Step, b.opt.Clients)
		judged := steps
		warm := []Step{}
		steps, warming = &warm, true
		_, err := measure(ctx, rate)
		steps, warming = judged, false
		b.rep.Warmup = append(b.rep.Warmup, warm...)
		return err
	}
	measure = func(ctx context.Context, rate float64) (Verdict, error) {
		d := b.opt.Duration
		if b.opt.Search {
			d = b.opt.Step
		}
		if !first {
			if err := sleep(ctx, b.opt.Settle); err != nil {
				return Verdict{}, err
			}
		}
		first = false
		if b.proc.Exited() {
			b.logf("%s had exited (see %s); restarting it on its lease file", b.opt.Server, b.log)
			if err := b.startServer(ctx); err != nil {
				return Verdict{}, err
			}
		}
		quiet, err := b.quiesce(ctx)
		if err != nil {
			return Verdict{}, err
		}
		b.steps++
		b.prog.Start(d, 0, b.stepStatus(tool, len(*steps)+1, rate, d))
		cpu0, t0 := netns.ProcessCPU(b.proc.PID)
		srv0, e0 := b.lab.UDPStats(serverNode)
		cli0, f0 := b.lab.UDPStats(clientsNode)
		start := time.Now()
		s, err := run(ctx, rate, d)
		b.prog.End()
		if err != nil {
			return Verdict{}, err
		}
		if cpu1, t1 := netns.ProcessCPU(b.proc.PID); t0 == nil && t1 == nil {
			s.ServerCPU = (cpu1 - cpu0).Seconds() / time.Since(start).Seconds()
		}
		if srv1, e1 := b.lab.UDPStats(serverNode); e0 == nil && e1 == nil {
			s.ServerSocketDrops = srv1.Sub(srv0).RcvbufErrors
		}
		if cli1, f1 := b.lab.UDPStats(clientsNode); f0 == nil && f1 == nil {
			s.ClientSocketDrops = cli1.Sub(cli0).RcvbufErrors
		}
		s.Tool, s.Offered, s.QuietS = tool, rate, quiet.Seconds()
		s.Limited = float64(s.Started) < 0.95*rate*math.Ceil(d.Seconds()*1000)/1000
		v := judge(&s, b.opt.MaxDrops, b.opt.MaxP99)
		s.Warmup = warming
		*steps = append(*steps, s)
		b.logf("%s", stepLine(len(*steps), s))
		b.noteMaxRSS()
		return v, nil
	}
	if !b.opt.Search {
		_, err := measure(ctx, math.Round(b.opt.Rate))
		return err
	}
	// A step that fails on p99 alone is measured once more and judged by
	// the better of the two (both stay in the report, the second marked
	// Retry): on a shared machine one stall of another process longer than
	// 1 % of a step (50 ms of 5 s) makes a p99 alone, where a server's own
	// queueing shows again in the second measurement.
	searchStep := func(ctx context.Context, rate float64) (Verdict, error) {
		v, err := measure(ctx, rate)
		if err != nil || b.opt.NoRetry || !v.Drops || v.Latency {
			return v, err
		}
		b.logf("%s: p99 alone failed at %.0f/s; measuring it once more", tool, rate)
		v2, err := measure(ctx, rate)
		if err != nil {
			return v2, err
		}
		(*steps)[len(*steps)-1].Retry = true
		if v2.Pass() {
			return v2, nil
		}
		return v, nil
	}
	if err := warmUp(ctx); err != nil {
		return err
	}
	res, err := Search(ctx, b.opt.SearchConfig, searchStep)
	if tool == "d6lab" {
		b.rep.Search = &res
	} else {
		b.rep.Perfdhcp.Search = &res
	}
	if err != nil {
		return err
	}
	if tool == "perfdhcp" {
		b.logf("perfdhcp search %s after %d steps: highest rate with drops <= %s %.0f/s (lowest failing %.0f/s)",
			res.DropsOnly.Outcome, res.Steps, pct(b.opt.MaxDrops), res.DropsOnly.Pass, res.DropsOnly.Fail)
		return nil
	}
	b.logf("%s search after %d steps: highest rate with drops <= %s and p99 <= %v %.0f/s (%s, lowest failing %.0f/s); with drops alone %.0f/s (%s, lowest failing %.0f/s)",
		tool, res.Steps, pct(b.opt.MaxDrops), b.opt.MaxP99, res.Pass, res.Outcome, res.Fail, res.DropsOnly.Pass, res.DropsOnly.Outcome, res.DropsOnly.Fail)
	return nil
}

// judge sets s.PassDrops, s.Pass and s.Failed and returns the verdict:
// drops within maxDrops with the offered rate kept, and p99 latency within
// maxP99. A step without a latency distribution (perfdhcp prints only
// min/avg/max and the standard deviation per message pair, nothing a p99
// can be read from) is judged by its drops alone.
func judge(s *Step, maxDrops float64, maxP99 time.Duration) Verdict {
	v := Verdict{
		Drops:   !s.Limited && s.Drops <= maxDrops,
		Latency: s.LatencyMs == nil || s.LatencyMs.P99 <= ms(maxP99),
	}
	var why []string
	switch {
	case s.Limited:
		why = append(why, "tool-limited")
	case !v.Drops:
		why = append(why, "drops")
	}
	if !v.Latency {
		why = append(why, "p99")
	}
	s.PassDrops, s.Pass, s.Failed = v.Drops, v.Pass(), strings.Join(why, "+")
	return v
}

// best picks the reported step: the highest offered rate that passes
// (pass(s)), or with none passing the last step.
func best(steps []Step, pass func(Step) bool) (Step, bool) {
	var b Step
	found := false
	for _, s := range steps {
		if pass(s) && (!found || s.Offered > b.Offered) {
			b, found = s, true
		}
	}
	if !found && len(steps) > 0 {
		return steps[len(steps)-1], false
	}
	return b, found
}

func passed(s Step) bool      { return s.Pass }
func passedDrops(s Step) bool { return s.PassDrops }

func (b *bench) summarize() {
	r := b.rep
	if s, ok := best(r.Steps, passed); len(r.Steps) > 0 {
		r.Rate, r.Drops, r.MeanMs = s.Rate, s.Drops, s.MeanMs
		if s.LatencyMs != nil {
			r.LatencyMs = *s.LatencyMs
		}
		r.CPU.ServerCores, r.CPU.GeneratorCores = s.ServerCPU, s.ToolCPU
		if !ok && r.Mode == "search" {
			r.Rate = 0
			r.Notes = append(r.Notes, fmt.Sprintf("the generator passed at no rate (drops <= %s and p99 <= %v): the figures are those of its last step", pct(b.opt.MaxDrops), b.opt.MaxP99))
		}
		if s.Limited {
			r.Notes = append(r.Notes, "the generator could not keep the offered rate at its reported step: the harness, not the server, was the limit there")
		}
	}
	if s, ok := best(r.Steps, passedDrops); r.Mode == "search" && len(r.Steps) > 0 {
		r.DropsOnly = &RateAt{Offered: s.Offered, Rate: s.Rate, Drops: s.Drops}
		if s.LatencyMs != nil {
			r.DropsOnly.P99Ms = s.LatencyMs.P99
		}
		if !ok {
			r.DropsOnly.Rate = 0
		}
	}
	if p := r.Perfdhcp; p != nil {
		if s, ok := best(p.Steps, passedDrops); len(p.Steps) > 0 {
			p.Rate, p.Drops, p.AvgMs = s.Rate, s.Drops, s.MeanMs
			p.Exchanges = b.perfExchanges[s.Offered]
			r.CPU.PerfdhcpServerCores, r.CPU.PerfdhcpCores = s.ServerCPU, s.ToolCPU
			if !ok && r.Mode == "search" {
				p.Rate = 0
			}
		}
		p.Argv = b.perfArgv
		gen := r.Rate
		if r.DropsOnly != nil {
			gen = r.DropsOnly.Rate
		}
		if p.Rate > 0 {
			r.Ratio = gen / p.Rate
		}
		if b.opt.Rebind > 0 {
			r.Notes = append(r.Notes, "perfdhcp cannot Rebind: its runs have no Rebind mix")
		}
	}
}

// clientConn opens the generator's socket in the clients namespace: port
// 546 (547 as a relay, where servers send Relay-replies), multicast out of
// the link interface, large buffers.
func (b *bench) clientConn() (*net.UDPConn, error) {
	port := transport.ClientPort
	if b.opt.Relay {
		port = transport.ServerPort
	}
	ifname := b.lab.IfName(clientsNode)
	var c *net.UDPConn
	err := b.lab.Do(clientsNode, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		c, err = net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: port, Zone: ifname})
		if err != nil {
			return err
		}
		pc := ipv6.NewPacketConn(c)
		if err := pc.SetMulticastInterface(ifi); err != nil {
			c.Close()
			return err
		}
		_ = pc.SetMulticastLoopback(false)
		_ = pc.SetMulticastHopLimit(1)
		forceBuffers(c, 8<<20)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: client socket on %s port %d: %w", ifname, port, err)
	}
	return c, nil
}

// forceBuffers sets the socket buffers past net.core.[rw]mem_max (root
// may), falling back to the capped setters.
func forceBuffers(c *net.UDPConn, n int) {
	raw, err := c.SyscallConn()
	if err == nil {
		_ = raw.Control(func(fd uintptr) {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
				_ = c.SetReadBuffer(n)
			}
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, n) != nil {
				_ = c.SetWriteBuffer(n)
			}
		})
	}
}

// generatorStep runs clientsim/load for d at rate on a fresh socket.
func (b *bench) generatorStep(ctx context.Context, rate float64, d time.Duration) (Step, error) {
	conn, err := b.clientConn()
	if err != nil {
		return Step{}, err
	}
	defer conn.Close()
	cfg := load.Config{
		Clients: b.opt.Clients, Seed: b.opt.Seed, Exchange: b.opt.Exchange, NA: b.opt.NA, PD: b.opt.PD,
		Renew: b.opt.Renew, Rebind: b.opt.Rebind, Release: b.opt.Release,
		Rate: rate, Duration: d, Timeout: b.opt.Timeout,
	}
	if b.opt.Relay {
		cfg.Relay, cfg.LinkAddr = true, ClientAddr
		cfg.Server = netip.AddrPortFrom(ServerAddr, transport.ServerPort)
	} else {
		zone := strconv.Itoa(b.lab.IfIndex(clientsNode))
		cfg.Server = netip.AddrPortFrom(transport.AllServersPort.Addr().WithZone(zone), transport.ServerPort)
	}
	cpu0 := netns.Rusage(unix.RUSAGE_SELF).CPU
	start := time.Now()
	res, err := load.Run(ctx, conn, cfg, func(s load.Snapshot) { b.completed.Store(s.Completed); b.dropped.Store(s.Dropped) })
	el := time.Since(start)
	if err != nil {
		return Step{}, fmt.Errorf("bench: load generator at %.0f/s: %w", rate, err)
	}
	if err := ctx.Err(); err != nil {
		return Step{}, err
	}
	st := res.Stats
	lost, tried := st.Dropped+st.Skipped, st.Started+st.Skipped
	s := Step{
		Rate: res.Rate, Started: int64(tried), Completed: int64(st.Completed),
		ElapsedS: el.Seconds(), ToolCPU: (netns.Rusage(unix.RUSAGE_SELF).CPU - cpu0).Seconds() / el.Seconds(),
		LatencyMs: &Latency{
			P50: ms(res.Percentile(50)), P90: ms(res.Percentile(90)), P99: ms(res.Percentile(99)),
			P999: ms(res.Percentile(99.9)), Max: ms(res.Max()),
		},
	}
	if tried > 0 {
		s.Drops = float64(lost) / float64(tried)
	}
	if res.Latency != nil && res.Latency.TotalCount() > 0 {
		s.MeanMs = res.Latency.Mean() / 1000
	}
	var extra []string
	if st.Skipped > 0 {
		extra = append(extra, fmt.Sprintf("%d not started (no free slot)", st.Skipped))
	}
	if st.SendErrors > 0 {
		extra = append(extra, fmt.Sprintf("%d send errors", st.SendErrors))
	}
	if st.Malformed+st.Unexpected > 0 {
		extra = append(extra, fmt.Sprintf("%d malformed, %d unexpected answers", st.Malformed, st.Unexpected))
	}
	s.Detail = strings.Join(extra, "; ")
	return s, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// perfdhcpStep runs perfdhcp in the clients namespace for d at rate.
func (b *bench) perfdhcpStep(ctx context.Context, rate float64, d time.Duration) (Step, error) {
	args := PerfdhcpArgs{
		IfName: b.lab.IfName(clientsNode), Clients: b.opt.Clients, Rate: rate, Period: d,
		Exchange: b.opt.Exchange, NA: b.opt.NA, PD: b.opt.PD,
		Renew: b.opt.Renew, Release: b.opt.Release, Relay: b.opt.Relay,
		Seed: b.opt.Seed + 1, DropTime: b.opt.Timeout,
	}
	if b.opt.Relay {
		args.Server = ServerAddr
	}
	argv := args.Argv(b.opt.Perfdhcp)
	b.perfArgv = argv
	log := filepath.Join(b.dir, "perfdhcp", fmt.Sprintf("step%02d-%.0f.log", len(b.rep.Perfdhcp.Steps)+1, rate))
	cpu0 := netns.Rusage(unix.RUSAGE_CHILDREN).CPU
	start := time.Now()
	p, err := b.lab.Start(clientsNode, argv, log)
	if err != nil {
		return Step{}, fmt.Errorf("bench: start perfdhcp: %w", err)
	}
	period := time.Duration(math.Ceil(d.Seconds())) * time.Second
	limit := time.After(period + 60*time.Second)
wait:
	for {
		select {
		case <-p.Done():
			break wait
		case <-ctx.Done():
			_ = b.lab.Kill(p)
			return Step{}, ctx.Err()
		case <-limit:
			_ = b.lab.Kill(p)
			return Step{}, fmt.Errorf("bench: perfdhcp still running %s after its %s period (see %s)", time.Minute, period, log)
		}
	}
	el := time.Since(start)
	out := readFile(log)
	// Exit 0: every exchange completed; 3: some did not. Anything else is
	// a failure to run.
	if werr := p.Wait(); werr != nil {
		var ee *exec.ExitError
		if !errors.As(werr, &ee) || ee.ExitCode() != 3 {
			return Step{}, fmt.Errorf("bench: perfdhcp %s: %v:\n%s", strings.Join(argv[1:], " "), werr, tail(out, 800))
		}
	}
	po, err := ParsePerfdhcp(out)
	if err != nil {
		return Step{}, fmt.Errorf("bench: perfdhcp at %.0f/s (see %s): %w", rate, log, err)
	}
	if b.perfExchanges == nil {
		b.perfExchanges = map[float64][]PerfdhcpExchange{}
	}
	b.perfExchanges[rate] = po.Exchanges
	last := po.Exchanges[len(po.Exchanges)-1]
	for _, e := range po.Exchanges {
		if e.Name == "REQUEST-REPLY" {
			last = e
		}
	}
	// The rate over the sending period: perfdhcp's own "Rate" divides by
	// its whole run, the -W wait for answers still in flight included.
	s := Step{
		Rate: float64(last.Received) / period.Seconds(), Drops: po.Drops(), Started: po.Started(), Completed: last.Received,
		MeanMs: po.AvgMs(), ElapsedS: el.Seconds(),
		ToolCPU: (netns.Rusage(unix.RUSAGE_CHILDREN).CPU - cpu0).Seconds() / el.Seconds(),
	}
	if po.Malformed > 0 {
		s.Detail = fmt.Sprintf("%d malformed answers", po.Malformed)
	}
	return s, nil
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// Quiescence: a step starts once the server has used under quietCPU of
// a core over a quietWindow, waiting at most maxQuiet.
const (
	quietWindow = 250 * time.Millisecond
	quietCPU    = 0.05
	maxQuiet    = 15 * time.Second
)

// quiesce waits until the server is idle. A step that follows an
// overloaded one would otherwise start while the server still answers the
// backlog in its socket, or folds its lease log into the database, and
// measure that rather than the rate it offers; the search's answer would
// depend on the order of its steps. It returns how long it waited; a
// server still busy after maxQuiet is measured anyway, and the log says so.
func (b *bench) quiesce(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		c0, err := netns.ProcessCPU(b.proc.PID)
		if err != nil {
			return time.Since(start), nil // it exited: the step will say so
		}
		if err := sleep(ctx, quietWindow); err != nil {
			return 0, err
		}
		c1, err := netns.ProcessCPU(b.proc.PID)
		if err != nil || float64(c1-c0) < quietCPU*float64(quietWindow) {
			return time.Since(start), nil
		}
		if waited := time.Since(start); waited >= maxQuiet {
			b.logf("%s still busy after %v (%.2f cores); measuring anyway", b.opt.Server, waited.Round(time.Second), float64(c1-c0)/float64(quietWindow))
			return waited, nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// stepStatus is the progress of a step under way: the tool, the step, the
// offered rate, the time and, for the generator, its completed and
// dropped exchanges so far.
func (b *bench) stepStatus(tool string, n int, rate float64, d time.Duration) func(time.Duration) string {
	b.completed.Store(0)
	b.dropped.Store(0)
	return func(el time.Duration) string {
		extra := ""
		if c, x := b.completed.Load(), b.dropped.Load(); c+x > 0 {
			extra = fmt.Sprintf("  completed %d  dropped %d", c, x)
		}
		return fmt.Sprintf("%s step %d at %.0f/s  t=%s/%s%s", tool, n, rate, min(el, d).Truncate(100*time.Millisecond), d, extra)
	}
}
