package conform

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
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/sim/capture"
	"d6lab/sim/netns"
	"d6lab/sim/realclient"
	"d6lab/sim/realclient/trace"
	"d6lab/sim/session"
)

// ClientOptions tune a client conformance run (RunClient).
type ClientOptions struct {
	// Kind is the real client kind to check.
	Kind deploy.ClientKind
	// OutDir receives conform.json, pcap/<id>.pcap and each check's
	// client directory (clients/<id>/: its configuration, log, script
	// events and address log, addrs.jsonl).
	OutDir string
	// Timeout is the grace a check gives the client past the latest time
	// the protocol allows for what the check waits for (a bound, a
	// Renew, a Release); 0 means DefaultTimeout.
	Timeout time.Duration
	// Checks selects checks by ID (see ClientIDs); empty runs them all.
	Checks []string
	// Long also runs the checks that take minutes (info-refresh, over
	// 10 minutes: IRT_MINIMUM is 600 s; request-fail, about 4: REQ_MAX_RC
	// Requests); naming one in Checks runs it too.
	// Without either such a check is n/a, saying how to run it.
	Long bool
	// Prefix names the lab's namespaces; default: netns.NewPrefix().
	Prefix string
	// Log receives a progress line per check; nil: silent.
	Log io.Writer
}

// The client lab's addressing: the link, the two scripted servers'
// addresses and pools, the delegated-prefix pool, and the address the
// dad-decline check makes another host hold.
var (
	ClientLink      = netip.MustParsePrefix("2001:db8:c1::/64")
	cSrv1Addr       = netip.MustParseAddr("2001:db8:c1::f1")
	cSrv2Addr       = netip.MustParseAddr("2001:db8:c1::f2")
	cPool1          = mustPool("2001:db8:c1::a:0/112")
	cPool2          = mustPool("2001:db8:c1::b:0/112")
	cPDPool         = mustPrefixPool(netip.MustParsePrefix("2001:db8:c9::/48"), 56)
	cTaken          = netip.MustParseAddr("2001:db8:c1::d:10")
	cDeclinePool, _ = alloc.NewPool(cTaken, netip.MustParseAddr("2001:db8:c1::d:1f"))
)

// serverDUID is scripted server i's DUID (i = 1, 2): a DUID-LL of
// 02:d6:c1:00:00:0i, so that s1's Server ID sorts below s2's.
func serverDUID(i int) []byte {
	d := dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0x02, 0xd6, 0xc1, 0, 0, byte(i)}}
	return d.ToBytes()
}

// clientLabSpec is the client lab: "clients" (another host on the link,
// no DAD: the dad-decline check puts the taken address there), srv1 and
// srv2 (the scripted servers) and one host per check that runs a client,
// h1..hN, each with kernel DAD on (netns.NodeSpec.DAD), so that every
// check starts on an interface no earlier client touched.
func clientLabSpec(prefix string, hosts int) netns.Spec {
	p64 := func(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, 64) }
	s := netns.Spec{
		Prefix:  prefix,
		Link:    ClientLink,
		Clients: netns.NodeSpec{Name: "clients"},
		Nodes: []netns.NodeSpec{
			{Name: "srv1", Addrs: []netip.Prefix{p64(cSrv1Addr)}},
			{Name: "srv2", Addrs: []netip.Prefix{p64(cSrv2Addr)}},
		},
	}
	for i := 1; i <= hosts; i++ {
		s.Nodes = append(s.Nodes, netns.NodeSpec{Name: fmt.Sprintf("h%d", i), DAD: true})
	}
	return s
}

// ErrUnknownClientCheck is returned for a client check ID not in the
// client catalogue.
var ErrUnknownClientCheck = errors.New("conform: unknown client check")

// SelectClient validates ids against the client catalogue.
func SelectClient(ids []string) error {
	for _, id := range ids {
		if !slices.Contains(ClientIDs(), id) {
			return fmt.Errorf("%w %q (valid: %s)", ErrUnknownClientCheck, id, strings.Join(ClientIDs(), ", "))
		}
	}
	return nil
}

// MissingClient returns why client kind k cannot run here ("" when it
// can): no adapter, or not installed (the adapter names the Debian
// package, or for udhcpc6 busybox's missing applet).
func MissingClient(k deploy.ClientKind) string {
	a, err := realclient.Lookup(k)
	if err != nil {
		return "no adapter: " + err.Error()
	}
	if err := a.Installed(); err != nil {
		// The adapter's error says "client not installed" and why.
		return strings.TrimPrefix(err.Error(), "realclient: ")
	}
	return ""
}

// clientRunner runs the checks of one client kind in one lab.
type clientRunner struct {
	ctx  context.Context
	opt  ClientOptions
	kind deploy.ClientKind
	dir  string
	lab  *netns.Lab

	notes map[string]bool
	order []string
}

func (r *clientRunner) note(s string) {
	if !r.notes[s] {
		r.notes[s] = true
		r.order = append(r.order, s)
	}
}

// RunClient checks one real client kind in a fresh lab and writes
// OutDir/conform.json. A kind that cannot run (see MissingClient) gives a
// report with Missing set and every selected check n/a with that reason,
// and no error; so does each check whose capability the kind lacks
// (realclient.Lacks). The lab is torn down before RunClient returns; when
// ctx is cancelled it stops after the check at hand and returns the
// partial report with ctx's error.
func RunClient(ctx context.Context, opt ClientOptions) (rep *Report, err error) {
	if err := SelectClient(opt.Checks); err != nil {
		return nil, err
	}
	if opt.OutDir == "" {
		return nil, errors.New("conform: no output directory")
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	rep = &Report{Client: string(opt.Kind), Checks: []Check{}}
	defs := selectedClient(opt.Checks)
	if a, err := realclient.Lookup(opt.Kind); err == nil {
		rep.Version = a.Version()
	}
	if m := MissingClient(opt.Kind); m != "" {
		rep.Missing = m
		for _, d := range defs {
			rep.Checks = append(rep.Checks, Check{ID: d.id, Name: d.name, Verdict: NA, Detail: m, Evidence: Evidence{Packets: []string{}}})
		}
		return rep, WriteJSON(opt.OutDir, rep)
	}
	logf := func(format string, a ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format+"\n", a...)
		}
	}
	// What runs and what is n/a before anything is built.
	verdicts := make([]*Check, len(defs))
	hosts := 0
	for i, d := range defs {
		if why := d.skip(opt); why != "" {
			verdicts[i] = &Check{ID: d.id, Name: d.name, Verdict: NA, Detail: why, Evidence: Evidence{Packets: []string{}}}
			continue
		}
		if why := realclient.Lacks(opt.Kind, realclient.Spec{Name: d.id, IA: d.ia}); why != "" {
			verdicts[i] = &Check{ID: d.id, Name: d.name, Verdict: NA, Detail: fmt.Sprintf("%s cannot %s: %s", opt.Kind, d.capability(), why), Evidence: Evidence{Packets: []string{}}}
			continue
		}
		hosts++
	}
	if err := os.MkdirAll(filepath.Join(opt.OutDir, "pcap"), 0o755); err != nil {
		return nil, fmt.Errorf("conform: %w", err)
	}
	r := &clientRunner{ctx: ctx, opt: opt, kind: opt.Kind, dir: opt.OutDir, notes: map[string]bool{}}
	if hosts > 0 {
		ses, err := session.Open(session.Options{Name: "conform", Prefix: opt.Prefix})
		if err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, ses.Close()) }()
		opt.Prefix = ses.Prefix
		if err := ses.Create(clientLabSpec(ses.Prefix, hosts+spareHosts)); err != nil {
			return nil, err
		}
		r.lab = ses.Lab
	}
	logf("conform client %s %s: lab %s, %d checks (%d to run), timeout %s", opt.Kind, rep.Version, opt.Prefix, len(defs), hosts, opt.Timeout)
	host, spares := 0, spareHosts
	for i, d := range defs {
		if ctx.Err() != nil {
			break
		}
		var c Check
		if verdicts[i] != nil {
			c = *verdicts[i]
		} else {
			host++
			var step time.Duration
			c, step = r.runCheck(d, fmt.Sprintf("h%d", host))
			if step != 0 && spares > 0 && ctx.Err() == nil {
				// The client's timers and the capture's stamps follow the
				// wall clock: a step makes the timings wrong. Once more,
				// on a fresh host.
				logf("conform client %s %s: the wall clock stepped %+.2f s during the check: running it again", opt.Kind, d.id, step.Seconds())
				spares--
				host++
				c, step = r.runCheck(d, fmt.Sprintf("h%d", host))
			}
			if step != 0 {
				c.Detail += fmt.Sprintf(" [the machine's wall clock stepped %+.2f s during the check: timings across the step are off by that much]", step.Seconds())
			}
		}
		rep.Checks = append(rep.Checks, c)
		logf("conform client %s [%d/%d] %-20s %-4s %s (%.1fs)", opt.Kind, i+1, len(defs), d.id, c.Verdict.Conform(), clip(c.Detail, 160), c.Duration.Seconds())
	}
	rep.Notes = r.order
	if werr := WriteJSON(opt.OutDir, rep); werr != nil {
		return rep, werr
	}
	return rep, ctx.Err()
}

func selectedClient(ids []string) []clientDef {
	if len(ids) == 0 {
		return clientCatalogue
	}
	var out []clientDef
	for _, d := range clientCatalogue {
		if slices.Contains(ids, d.id) {
			out = append(out, d)
		}
	}
	return out
}

// spareHosts are hosts beyond one per check, for a check run again after
// the wall clock stepped under it.
const spareHosts = 2

// clockStep is how far the wall clock may move against the monotonic one
// during a check before the check counts as disturbed: a slewing clock
// (adjtime, at most 500 ppm) moves 25 ms in a 50 s check.
const clockStep = 200 * time.Millisecond

// clientPcapMax caps each check's capture.
const clientPcapMax = 16 << 20

// ckRun is one client check in progress: its host, its scripted servers,
// the client, the capture on the client's interface and its address log.
type ckRun struct {
	r    *clientRunner
	def  clientDef
	node string
	dir  string // the client's directory, clients/<id>
	pcap string // the capture, pcap/<id>.pcap

	capt      *capture.Capture
	stopWatch func() error
	addrLog   *os.File

	mu    sync.Mutex
	addrs []trace.AddrChange

	srv  [2]*scripted
	inst *realclient.Instance
	cl   *realclient.Client

	began       time.Time // the check started (with the monotonic reading)
	start, mark time.Time // the client started; the check's own instant
	cut         time.Time // the cable was pulled (flap)
	taken       bool      // the dad-decline check put cTaken on "clients"
	notes       []string  // what the run saw besides the messages
	clean       bool      // a clean stop was asked for (release)
	done        bool
}

// runCheck runs one check on host node. step is how far the wall clock
// moved against the monotonic one during it, when more than clockStep
// (0 otherwise).
func (r *clientRunner) runCheck(d clientDef, node string) (c Check, step time.Duration) {
	c = Check{ID: d.id, Name: d.name}
	k := &ckRun{r: r, def: d, node: node,
		dir:  filepath.Join(r.dir, "clients", d.id),
		pcap: filepath.Join(r.dir, "pcap", d.id+".pcap")}
	k.began = time.Now()
	err := k.run()
	o, ferr := k.finish()
	c.Duration = time.Since(k.began)
	if drift := wallDrift(k.began, time.Now()); absDur(drift) > clockStep {
		step = drift
	}
	var lacks *lacksError
	switch {
	case errors.As(err, &lacks):
		c.Verdict, c.Detail = NA, err.Error()
	case err != nil:
		c.Verdict, c.Detail = Fail, "the lab could not run the check: "+err.Error()
	default:
		c.Verdict, c.Detail = d.judge(o)
	}
	if ferr != nil {
		k.noteOnce("taking the check down: " + ferr.Error())
	}
	if len(k.notes) > 0 {
		c.Detail += " [" + strings.Join(k.notes, "; ") + "]"
	}
	c.Evidence = Evidence{Packets: o.lines()}
	if _, serr := os.Stat(k.pcap); serr == nil {
		c.Evidence.Pcap = filepath.Join("pcap", d.id+".pcap")
	}
	if r.ctx.Err() != nil && c.Verdict != Pass {
		c.Verdict, c.Detail = NA, "interrupted: "+c.Detail
	}
	return c, step
}

// wallDrift is how much more the wall clock advanced than the monotonic
// one from a to b (both read with time.Now).
func wallDrift(a, b time.Time) time.Duration {
	return b.Round(0).Sub(a.Round(0)) - b.Sub(a)
}

// lacksError: the client cannot be prepared for the check
// (realclient.ErrUnsupported).
type lacksError struct{ err error }

func (e *lacksError) Error() string { return e.err.Error() }
func (e *lacksError) Unwrap() error { return e.err }

// run sets the check up and drives it; finish takes it down.
func (k *ckRun) run() (err error) {
	if err := os.RemoveAll(k.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(k.dir, 0o755); err != nil {
		return err
	}
	if k.capt, err = capture.Start(k.r.lab, k.node, k.pcap, clientPcapMax); err != nil {
		return err
	}
	if k.addrLog, err = os.Create(filepath.Join(k.dir, "addrs.jsonl")); err != nil {
		return err
	}
	if k.stopWatch, err = k.r.lab.WatchAddrs(k.node, k.observe); err != nil {
		return err
	}
	return k.def.drive(k)
}

func (k *ckRun) observe(c trace.AddrChange) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.addrs = append(k.addrs, c)
	_ = trace.WriteAddrs(k.addrLog, c)
}

func (k *ckRun) addrLogCopy() []trace.AddrChange {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]trace.AddrChange(nil), k.addrs...)
}

// plan is how one scripted server behaves in a check.
type plan struct {
	pref   uint8
	timers Lifetimes
	pool   alloc.Pool       // zero: the server's own (cPool1, cPool2)
	alloc  deploy.Allocator // "": hash
	rebind deploy.RebindPolicy
	pd     bool          // a delegated-prefix pool (cPDPool)
	info   time.Duration // Information Refresh Time (0: none)
	script script        // nil: the core's answers at once
}

// config is the core's configuration for scripted server i (1, 2).
func (p plan) config(i int) server.Config {
	c := server.DefaultConfig()
	c.Name = fmt.Sprintf("s%d", i)
	c.DUID = serverDUID(i)
	c.Prefix = ClientLink
	c.Pool = p.pool
	if c.Pool.IsZero() {
		c.Pool = cPool1
		if i == 2 {
			c.Pool = cPool2
		}
	}
	if p.pd {
		c.PDPool = cPDPool
	}
	c.Preference = p.pref
	t := p.timers
	if t == (Lifetimes{}) {
		t = longTimers
	}
	c.T1, c.T2, c.Preferred, c.Valid = t.T1, t.T2, t.Preferred, t.Valid
	c.Allocator = p.alloc
	if c.Allocator == "" {
		c.Allocator = deploy.AllocHash
	}
	c.Rebind = p.rebind.Or()
	c.InfoRefresh = p.info
	c.Seed = 1
	return c
}

// serve starts both scripted servers.
func (k *ckRun) serve(p1, p2 plan) error {
	for i, p := range []plan{p1, p2} {
		s, err := startScripted(k.r.lab, fmt.Sprintf("srv%d", i+1), fmt.Sprintf("s%d", i+1), p.config(i+1), p.script)
		if err != nil {
			return err
		}
		k.srv[i] = s
	}
	return nil
}

// startClient prepares a fresh client of the run's kind asking for ia
// (nil: stateless) in the check's directory and starts it.
func (k *ckRun) startClient(ia ...string) error {
	inst, err := realclient.Prepare(k.r.kind, realclient.Spec{
		Name: k.def.id, Dir: k.dir, Namespace: k.r.lab.Namespace(k.node), IfName: k.r.lab.IfName(k.node), IA: ia,
	})
	if err != nil {
		if errors.Is(err, realclient.ErrUnsupported) {
			return &lacksError{err}
		}
		return err
	}
	for _, n := range inst.Notes {
		k.r.note(n)
	}
	k.inst = inst
	k.start = time.Now()
	k.cl, err = realclient.Start(k.r.lab, k.node, inst)
	return err
}

// pollEvery is how often a check looks at what happened.
const pollEvery = 20 * time.Millisecond

// wait returns once done reports true (true), after max (false), when
// the run is cancelled or the client exited (false; the exit is noted).
func (k *ckRun) wait(max time.Duration, done func() bool) bool {
	deadline := time.Now().Add(max)
	for {
		if done() {
			return true
		}
		if k.r.ctx.Err() != nil || !time.Now().Before(deadline) {
			return false
		}
		if k.cl != nil && k.cl.Proc.Exited() && !k.clean {
			k.noteOnce(fmt.Sprintf("the client exited by itself %.1f s after its start (see %s)", time.Since(k.start).Seconds(), filepath.Join("clients", k.def.id, "client.log")))
			return done()
		}
		time.Sleep(pollEvery)
	}
}

// sleep waits d (less when the run is cancelled).
func (k *ckRun) sleep(d time.Duration) { k.wait(d, func() bool { return false }) }

func (k *ckRun) noteOnce(s string) {
	if !slices.Contains(k.notes, s) {
		k.notes = append(k.notes, s)
	}
}

// seen returns when either server first received a message of type t at
// or after since.
func (k *ckRun) seen(t dhcpv6.MessageType, since time.Time) (time.Time, bool) {
	var first time.Time
	for _, s := range k.srv {
		if s == nil {
			continue
		}
		if w, ok := s.received(t, since); ok && (first.IsZero() || w.At.Before(first)) {
			first = w.At
		}
	}
	return first, !first.IsZero()
}

// granted returns when a server first granted the client a lease.
func (k *ckRun) granted() (time.Time, bool) {
	var first time.Time
	for _, s := range k.srv {
		if s == nil {
			continue
		}
		if at, ok := s.granted(); ok && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, !first.IsZero()
}

// bindWithin is how long a check waits for the client's first binding:
// SOL_MAX_DELAY and the first three Solicit RTs (1 + 1.1 + 2.3 + 4.6 s),
// a Request and DAD, plus the run's grace.
func (k *ckRun) bindWithin() time.Duration { return 10*time.Second + k.r.opt.Timeout }

// waitBound waits for the client's first binding and returns when the
// server granted it, or an error saying it never came.
func (k *ckRun) waitBound() (time.Time, bool) {
	var at time.Time
	ok := k.wait(k.bindWithin(), func() bool {
		var ok bool
		at, ok = k.granted()
		return ok
	})
	if !ok {
		k.noteOnce(fmt.Sprintf("no lease granted within %s of the client's start", k.bindWithin()))
	}
	return at, ok
}

// usable waits until an address of the client went through DAD (reported
// tentative, then neither tentative nor failed) and returns it.
func (k *ckRun) usable(max time.Duration) (netip.Addr, bool) {
	var got netip.Addr
	k.wait(max, func() bool {
		tentative := map[netip.Addr]bool{}
		for _, c := range k.addrLogCopy() {
			a := c.Prefix.Addr()
			switch {
			case c.Deleted:
				delete(tentative, a)
			case c.Tentative:
				tentative[a] = true
			case tentative[a] && !c.DADFailed:
				got = a
				return true
			}
		}
		return false
	})
	return got, got.IsValid()
}

// stopClean stops the client the clean way (Instance.Stop) and marks the
// instant.
func (k *ckRun) stopClean() {
	k.clean = true
	k.mark = time.Now()
	clean, err := k.cl.Stop()
	if err != nil {
		k.noteOnce("clean stop: " + err.Error())
	} else if !clean {
		k.noteOnce(fmt.Sprintf("the client did not exit within %s of its clean stop: killed", k.inst.Stop.Wait))
	}
}

// flap pulls the client's cable for down and plugs it back; mark is when
// the link is up again.
func (k *ckRun) flap(down time.Duration) error {
	k.cut = time.Now()
	if err := k.r.lab.Cut(k.node); err != nil {
		return err
	}
	time.Sleep(down)
	if err := k.r.lab.Heal(k.node); err != nil {
		return err
	}
	k.mark = time.Now()
	return nil
}

// occupy puts cTaken on the "clients" node (no DAD): a host already using
// it, whose kernel answers the client's DAD probe.
func (k *ckRun) occupy() error {
	if err := k.r.lab.AddAddr("clients", netip.PrefixFrom(cTaken, 128)); err != nil {
		return err
	}
	k.taken = true
	return nil
}

// finish stops everything the check started (the client killed unless it
// was stopped cleanly), reads the capture and returns what was observed.
func (k *ckRun) finish() (clientObs, error) {
	// Every time the judges compare is on the wall clock, as the
	// capture's stamps are (Round(0) drops the monotonic reading).
	o := clientObs{start: k.start.Round(0), mark: k.mark.Round(0), cut: k.cut.Round(0), timers: k.def.timers(k.r.kind), names: map[string]string{}}
	if k.done {
		return o, nil
	}
	k.done = true
	var errs []error
	if k.cl != nil && !k.cl.Proc.Exited() {
		errs = append(errs, k.r.lab.Kill(k.cl.Proc))
	}
	o.end = time.Now().Round(0)
	for i, s := range k.srv {
		if s != nil {
			if err := s.close(); err != nil {
				k.noteOnce("server " + err.Error())
			}
		}
		o.names[fmt.Sprintf("%x", serverDUID(i+1))] = fmt.Sprintf("s%d", i+1)
	}
	if k.stopWatch != nil {
		if err := k.stopWatch(); err != nil {
			errs = append(errs, fmt.Errorf("address watch: %w", err))
		}
	}
	if k.addrLog != nil {
		errs = append(errs, k.addrLog.Close())
	}
	if k.taken {
		errs = append(errs, k.r.lab.DelAddr("clients", netip.PrefixFrom(cTaken, 128)))
	}
	if k.capt != nil {
		if _, err := k.capt.Stop(); err != nil {
			errs = append(errs, err)
		}
		frames, err := trace.ReadPcap(k.pcap)
		if err != nil {
			errs = append(errs, err)
		}
		tc := trace.Client{MAC: k.r.lab.MAC(k.node), Kind: string(k.r.kind)}
		if k.inst != nil {
			if duid, err := k.inst.DUID(); err == nil {
				tc.DUID = duid
			}
		}
		o.msgs, _ = trace.Messages(tc, frames)
	}
	o.addrs = k.addrLogCopy()
	for i := range o.addrs {
		o.addrs[i].At = o.addrs[i].At.Round(0)
	}
	sort.SliceStable(o.addrs, func(i, j int) bool { return o.addrs[i].At.Before(o.addrs[j].At) })
	return o, errors.Join(errs...)
}
