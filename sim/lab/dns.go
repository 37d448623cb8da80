package lab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"d6lab/deploy"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/nameserver"
	"d6lab/sim/netns"
	"d6lab/sim/session"
)

// A scenario's dns: block puts BIND 9 (sim/nameserver) in the lab: a
// namespace "dns" on the network the servers are on (the client link, or
// the server network behind a relay) at sim.DNSServerAddr(), authoritative
// for the forward zone and the servers' ip6.arpa zones, taking RFC 2136
// updates signed with a TSIG key made for the run. Every server node gets
// sim.ServiceAddr(i) beside its own addresses, the source of its updates
// (and where the Leasequery prober asks it). During the run the lab
// transfers the zones every dns.sample and once at the end, and records
// what changed between transfers; at the end it reads the updates named
// logged. reports/check compares the zones with the clients' bindings.

// dnsNode is the DNS server's node name.
const dnsNode = "dns"

// dnsTransferTimeout bounds one zone transfer, so that a DNS server that
// died or hangs never holds the run up.
const dnsTransferTimeout = time.Second

// dnsReadyTimeout is how long named has to load its zones and answer.
const dnsReadyTimeout = 10 * time.Second

// dnsStopGrace is how long named has to exit on SIGTERM at the end.
const dnsStopGrace = 2 * time.Second

// dnsCheck fails, before anything is built, when sc has a dns: block and
// BIND 9 is missing or the zones cannot be derived from the servers'
// prefixes.
func dnsCheck(sc *scenarios.Scenario) error {
	if sc.DNS == nil {
		return nil
	}
	if err := nameserver.Installed(); err != nil {
		return fmt.Errorf("lab: dns: %w", err)
	}
	if _, err := sc.ReverseZones(); err != nil {
		return fmt.Errorf("lab: dns: %w", err)
	}
	return nil
}

// serviceSpec adds what a dns: or leasequery: block needs to spec (after
// relayTopology): sim.ServiceAddr(i) on every server node, after its own
// addresses (the source of its DNS updates, where the prober asks it),
// and with dns: the DNS server's node at sim.DNSServerAddr(), all on the
// network the servers are on. The adapters never see the service address
// (servedAddrs): it is no subnet a server serves, and dhcpd, told of it
// as an empty subnet6 beside its own, refuses an interface that "matches
// multiple shared networks"; at run time every kind leaves it alone (no
// pool lies in it).
func serviceSpec(sc *scenarios.Scenario, spec *netns.Spec, servers []*runServer) {
	if sc.DNS == nil && sc.Leasequery == nil {
		return
	}
	nodes := spec.Nodes
	if sc.Relayed() {
		nodes = spec.Upstream
	}
	for i, srv := range servers {
		for j := range nodes {
			if nodes[j].Name == srv.node {
				nodes[j].Addrs = append(slices.Clip(nodes[j].Addrs), netip.PrefixFrom(sim.ServiceAddr(i), sim.ServicePrefix.Bits()))
			}
		}
	}
	if sc.DNS == nil {
		return
	}
	n := netns.NodeSpec{Name: dnsNode, Addrs: []netip.Prefix{netip.PrefixFrom(sim.DNSServerAddr(), sim.ServicePrefix.Bits())}}
	if sc.Relayed() {
		spec.Upstream = append(spec.Upstream, n)
	} else {
		spec.Nodes = append(spec.Nodes, n)
	}
}

// dnsServer is the lab's running DNS server and its sampler.
type dnsServer struct {
	sc    *scenarios.Scenario
	lab   *netns.Lab
	rec   *recorder
	logf  func(string, ...any)
	cfg   deploy.DNS
	zones []string // forward first
	inst  *nameserver.Instance
	proc  *netns.Process

	mu       sync.Mutex // one transfer at a time; guards prev and stopping
	prev     map[dnsKey]nameserver.Record
	stopping bool // set by close: named's end is no death

	stop chan struct{} // closed to end the sampler and the watch
	done sync.WaitGroup
}

// dnsKey identifies one record of the zones.
type dnsKey struct{ name, typ, data string }

func keyOf(r nameserver.Record) dnsKey {
	d := r.Data
	if r.Type == history.DNSTypeAAAA {
		d = r.Addr.String()
	}
	return dnsKey{r.Name, r.Type, d}
}

// prepareDNS makes the run's TSIG key and writes named's configuration and
// zones into OutDir/dns (nameserver.Prepare checks them with
// named-checkconf): nothing runs yet. Its error means a bad DNS
// configuration, before the lab exists.
func prepareDNS(sc *scenarios.Scenario, prefix, outDir string) (*dnsServer, error) {
	reverse, err := sc.ReverseZones()
	if err != nil {
		return nil, fmt.Errorf("lab: dns: %w", err)
	}
	key, err := nameserver.NewKey("d6lab-" + prefix + ".")
	if err != nil {
		return nil, fmt.Errorf("lab: dns: %w", err)
	}
	d := &dnsServer{sc: sc, zones: append([]string{sc.DNS.Zone}, reverse...), stop: make(chan struct{})}
	d.cfg = deploy.DNS{
		Server:       netip.AddrPortFrom(sim.DNSServerAddr(), 53),
		Zone:         sc.DNS.Zone,
		ReverseZones: reverse,
		TTL:          sc.DNS.TTL,
		Key:          key,
	}
	dir := filepath.Join(outDir, "dns")
	// A journal an earlier run left would put its records back in the
	// zones: the zone files are written afresh, their journals must go.
	if jnl, _ := filepath.Glob(filepath.Join(dir, "*.jnl")); len(jnl) > 0 {
		for _, f := range jnl {
			if err := os.Remove(f); err != nil {
				return nil, fmt.Errorf("lab: dns: clear an earlier run's journal: %w", err)
			}
		}
	}
	for _, f := range []string{nameserver.UpdateLogFile, nameserver.LogFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lab: dns: clear an earlier run's log: %w", err)
		}
	}
	d.inst, err = nameserver.Prepare(nameserver.Config{
		Dir: dir, Listen: sim.DNSServerAddr(), Zones: d.zones, TTL: sc.DNS.TTL, Key: key,
	})
	if err != nil {
		return nil, fmt.Errorf("lab: dns: %w", err)
	}
	return d, nil
}

// start runs named in the dns node and waits until it answers for every
// zone; ses.OnClose stops it (after the DHCP servers, which are
// registered later, so that their last updates reach it).
func (d *dnsServer) start(ctx context.Context, ses *session.Session, rec *recorder) error {
	d.lab, d.rec, d.logf = ses.Lab, rec, ses.Logf
	out := filepath.Join(d.inst.Config.Dir, "named.out")
	p, err := d.lab.Start(dnsNode, d.inst.Argv, out)
	if err != nil {
		return fmt.Errorf("lab: dns: start named: %w", err)
	}
	d.proc = p
	ses.OnClose(d.close)
	rctx, cancel := context.WithTimeout(ctx, dnsReadyTimeout)
	defer cancel()
	go func() {
		select {
		case <-p.Done(): // named gave up: stop waiting for it
			cancel()
		case <-rctx.Done():
		}
	}()
	addr := d.cfg.Server
	err = d.lab.Do(dnsNode, func() error {
		for _, z := range d.zones {
			if err := nameserver.Ready(rctx, addr, z); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p.Exited() {
			return fmt.Errorf("lab: dns: named exited at start (see %s and %s): %s", out, d.inst.Log, tail(out))
		}
		return fmt.Errorf("lab: dns: named not ready after %s (see %s): %w", dnsReadyTimeout, d.inst.Log, err)
	}
	ses.Logf("lab %s: DNS server %s (%s) at %s for %s", ses.Prefix, nameserver.Version(), "named", addr.Addr(), strings.Join(d.zones, " "))
	return nil
}

// servedAddrs is a server node's addresses without the service address
// (sim.ServicePrefix): the addresses its adapter renders (daemon.Spec.Addrs).
func servedAddrs(addrs []netip.Prefix) []netip.Prefix {
	return slices.DeleteFunc(addrs, func(p netip.Prefix) bool { return sim.ServicePrefix.Contains(p.Addr()) })
}

// tail is the end of a file on one line, for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "nothing logged"
	}
	if len(s) > 400 {
		s = "…" + s[len(s)-400:]
	}
	return s
}

// run starts the sampler and the watch on named; call it once the run
// has started (RunStarted is recorded): nothing DNS is recorded before.
func (d *dnsServer) run() {
	d.done.Add(2)
	go func() {
		defer d.done.Done()
		select {
		case <-d.proc.Done():
			d.mu.Lock()
			stopping := d.stopping
			d.mu.Unlock()
			if stopping {
				return
			}
			status := "exit status 0"
			if err := d.proc.Wait(); err != nil {
				status = err.Error()
			}
			d.rec.lab(history.DNSServerDied, "", status)
			d.logf("lab %s: the DNS server (named) died mid-run: %s; the run goes on, zone transfers fail from now on (see %s)",
				d.lab.Prefix(), status, d.inst.Log)
		case <-d.stop:
		}
	}()
	go func() {
		defer d.done.Done()
		t := time.NewTicker(d.sc.DNS.Sample)
		defer t.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-t.C:
				d.sample()
			}
		}
	}()
}

// finish stops the sampler, transfers the zones one last time, and
// records the updates named logged; the run's clients have stopped, its
// servers still run.
func (d *dnsServer) finish() {
	d.halt()
	d.sample()
	d.readUpdates()
}

// halt ends the sampler and the watch (once) and waits for them.
func (d *dnsServer) halt() {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	d.done.Wait()
}

// sample transfers every zone and records one DNSTransfer event, and the
// records that appeared and left since the last transfer that worked
// (DNSAdded, DNSRemoved, at the transfer's instant, in a fixed order).
// A failed transfer records its error and changes nothing.
func (d *dnsServer) sample() {
	d.mu.Lock()
	defer d.mu.Unlock()
	var recs []nameserver.Record
	err := d.lab.Do(dnsNode, func() error {
		var errs []error
		for _, z := range d.zones {
			rs, err := nameserver.Transfer(d.cfg.Server, z, d.cfg.Key, dnsTransferTimeout)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", z, err))
				continue
			}
			recs = append(recs, rs...)
		}
		return errors.Join(errs...)
	})
	at := time.Now()
	if err != nil {
		d.rec.add(history.Event{At: at, Kind: history.DNSTransfer, Client: -1, Detail: "0", Cause: oneLine(err)})
		return
	}
	d.rec.add(history.Event{At: at, Kind: history.DNSTransfer, Client: -1, Detail: strconv.Itoa(len(recs))})
	cur := make(map[dnsKey]nameserver.Record, len(recs))
	for _, r := range recs {
		switch r.Type {
		case history.DNSTypeAAAA, history.DNSTypePTR, history.DNSTypeDHCID:
			cur[keyOf(r)] = r
		}
	}
	var gone, added []nameserver.Record
	for k, r := range d.prev {
		if _, ok := cur[k]; !ok {
			gone = append(gone, r)
		}
	}
	for k, r := range cur {
		if _, ok := d.prev[k]; !ok {
			added = append(added, r)
		}
	}
	byKey := func(a, b nameserver.Record) int {
		ka, kb := keyOf(a), keyOf(b)
		return cmp.Or(cmp.Compare(ka.name, kb.name), cmp.Compare(ka.typ, kb.typ), cmp.Compare(ka.data, kb.data))
	}
	slices.SortFunc(gone, byKey)
	slices.SortFunc(added, byKey)
	for _, r := range gone {
		d.rec.add(d.event(history.DNSRemoved, at, r))
	}
	for _, r := range added {
		d.rec.add(d.event(history.DNSAdded, at, r))
	}
	d.prev = cur
}

// event is a DNSAdded or DNSRemoved of r as history.DNSAdded documents it.
func (d *dnsServer) event(kind history.Kind, at time.Time, r nameserver.Record) history.Event {
	e := history.Event{At: at, Kind: kind, Client: -1, Detail: r.Name, Cause: r.Type}
	if r.Type != history.DNSTypeDHCID && r.Addr.IsValid() {
		e.Lease = netip.PrefixFrom(r.Addr, 128)
	}
	if r.Type == history.DNSTypeDHCID {
		e.DUID = r.Data
	}
	if r.Type != history.DNSTypePTR {
		if c, ok := clientOfName(r.Name, d.sc.DNS.Zone); ok {
			e.Client = c
		}
	}
	return e
}

// clientOfName is the client whose name (history.HostName in zone) name
// is: the first label of a name directly in the forward zone.
func clientOfName(name, zone string) (int, bool) {
	label, rest, ok := strings.Cut(name, ".")
	if !ok || rest != zone {
		return 0, false
	}
	return history.ClientOfHost(label)
}

// readUpdates records the RFC 2136 updates named logged, each at the time
// it logged it, from the server whose service address sent it.
func (d *dnsServer) readUpdates() {
	ups, skipped, err := nameserver.ReadUpdates(d.inst.UpdateLog)
	if err != nil {
		d.logf("lab %s: dns: the updates named logged cannot be read: %v", d.lab.Prefix(), err)
		return
	}
	if skipped > 0 {
		d.logf("lab %s: dns: %d lines of %s not understood (skipped)", d.lab.Prefix(), skipped, d.inst.UpdateLog)
	}
	for _, u := range ups {
		srv := ""
		if i, ok := sim.ServerOfServiceAddr(u.Source); ok && i < len(d.sc.Servers) {
			srv = d.sc.Servers[i].Name
		}
		d.rec.add(history.Event{At: u.At, Kind: history.DNSUpdate, Client: -1, Server: srv, Detail: u.Name, Cause: u.Outcome})
	}
}

// close stops the sampler and named (SIGTERM, SIGKILL after
// dnsStopGrace): ses.Close runs it after the DHCP servers stopped.
func (d *dnsServer) close() error {
	d.halt()
	d.mu.Lock()
	d.stopping = true
	d.mu.Unlock()
	p := d.proc
	if p == nil || p.Exited() {
		return nil
	}
	if err := p.Signal(syscall.SIGTERM); err == nil {
		select {
		case <-p.Done():
		case <-time.After(dnsStopGrace):
		}
	}
	if err := d.lab.Kill(p); err != nil {
		return fmt.Errorf("lab: dns: stop named: %w", err)
	}
	return nil
}

// oneLine joins an error's lines for an event's Cause.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
