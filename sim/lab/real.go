package lab

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"d6lab/deploy"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim/capture"
	"d6lab/sim/netns"
	"d6lab/sim/realclient"
	"d6lab/sim/realclient/trace"
)

// realPcapMax caps each real client's capture.
const realPcapMax = 16 << 20

// realHost is one real client of the run (scenario clients.real): its
// node, the client process, the capture on its interface and its
// address log.
type realHost struct {
	index int // history.Event.Client: after every simulated client
	kind  deploy.ClientKind
	name  string // kind-n, its directory under OutDir/clients
	node  string
	ia    []string
	dir   string

	inst    *realclient.Instance
	client  *realclient.Client
	capture *capture.Capture
	stopW   func() error

	mu    sync.Mutex
	addrs []trace.AddrChange
	log   *os.File
}

// RealClient is what a run tells about one real client: where its files
// are and what its translation could not observe.
type RealClient struct {
	Index   int
	Kind    string
	Version string
	Name    string
	Dir     string // its directory: config, script, log, client.pcap, addrs.jsonl
	Events  int    // history events translated from it
	Trace   trace.Stats
	// Running: the client was still running at the end (a real client
	// that exited by itself mid-run is a finding, not a lab error).
	Running bool
}

// realHosts lays out the scenario's real clients: one node each
// ("rc1", "rc2", ...) with kernel DAD on, indexed after the simulated
// clients. It checks that every kind can run here and do what it is
// asked before anything is created.
func realHosts(sc *scenarios.Scenario, outDir string) ([]*realHost, []netns.NodeSpec, error) {
	var hosts []*realHost
	var nodes []netns.NodeSpec
	next := sc.TotalClients()
	perKind := map[deploy.ClientKind]int{}
	for _, r := range sc.Clients.Real {
		ia := make([]string, len(r.IA))
		for i, x := range r.IA {
			ia[i] = string(x)
		}
		if err := realclient.Usable(r.Kind, realclient.Spec{IA: ia}); err != nil {
			return nil, nil, fmt.Errorf("lab: clients.real %s: %w", r.Kind, err)
		}
		if d := realclient.Deviations(r.Kind); d.MinT2 > 0 && len(ia) > 0 && sc.Lifetimes.Valid <= d.MinT2T1() {
			return nil, nil, fmt.Errorf("lab: clients.real %s: it raises a T2 under %s to %s and T1 to %s, so with lifetimes.valid %s its bindings would expire before it renews; give a valid lifetime above %s",
				r.Kind, d.MinT2, d.MinT2, d.MinT2T1(), sc.Lifetimes.Valid, d.MinT2T1())
		}
		for range r.Count {
			perKind[r.Kind]++
			h := &realHost{
				index: next, kind: r.Kind, ia: ia,
				name: fmt.Sprintf("%s-%d", r.Kind, perKind[r.Kind]),
				node: fmt.Sprintf("rc%d", len(hosts)+1),
			}
			h.dir = filepath.Join(outDir, "clients", h.name)
			hosts = append(hosts, h)
			nodes = append(nodes, netns.NodeSpec{Name: h.node, DAD: true})
			next++
		}
	}
	return hosts, nodes, nil
}

// realStarts is when each of n real clients starts, from the run's
// start: spread evenly over the ramp, each in the middle of its share,
// as the simulated clients are spread over it (population.Start). Had
// they all started at once, they would arrive a ramp's half earlier
// than the simulated clients on average, and every time measured from
// the fault would compare a different arrival with the same fault: with
// split-kill's 2 s ramp the real dhclients' first Replies came at 0.80 s
// (p50) against the simulated clients' 1.52 s.
func realStarts(n int, ramp time.Duration) []time.Duration {
	at := make([]time.Duration, n)
	for k := range at {
		at[k] = time.Duration(float64(ramp) * (float64(k) + 0.5) / float64(n))
	}
	return at
}

// prepare readies h in its own directory (an earlier run's files there
// are removed first) and starts the capture on its interface and the
// watch of its addresses; launch starts the client itself.
func (h *realHost) prepare(lab *netns.Lab) error {
	if err := os.RemoveAll(h.dir); err != nil {
		return fmt.Errorf("lab: real client %s: %w", h.name, err)
	}
	inst, err := realclient.Prepare(h.kind, realclient.Spec{
		Name: h.name, Dir: h.dir, Namespace: lab.Namespace(h.node), IfName: lab.IfName(h.node), IA: h.ia,
	})
	if err != nil {
		return fmt.Errorf("lab: real client %s: %w", h.name, err)
	}
	h.inst = inst
	if h.capture, err = capture.Start(lab, h.node, filepath.Join(h.dir, history.PcapFile), realPcapMax); err != nil {
		return fmt.Errorf("lab: real client %s: %w", h.name, err)
	}
	if h.log, err = os.Create(filepath.Join(h.dir, "addrs.jsonl")); err != nil {
		return fmt.Errorf("lab: real client %s: %w", h.name, err)
	}
	if h.stopW, err = lab.WatchAddrs(h.node, h.observe); err != nil {
		return fmt.Errorf("lab: real client %s: %w", h.name, err)
	}
	return nil
}

// launch starts h's client, prepared, and records its kind.
func (h *realHost) launch(lab *netns.Lab, rec *recorder) error {
	a, _ := realclient.Lookup(h.kind)
	rec.add(history.Event{At: time.Now(), Kind: history.ClientKind, Client: h.index, Detail: string(h.kind), Cause: a.Version()})
	var err error
	if h.client, err = realclient.Start(lab, h.node, h.inst); err != nil {
		return fmt.Errorf("lab: real client %s: %w", h.name, err)
	}
	return nil
}

// observe keeps one address change (and writes it to addrs.jsonl).
func (h *realHost) observe(c trace.AddrChange) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addrs = append(h.addrs, c)
	_ = trace.WriteAddrs(h.log, c)
}

// finish ends h at the run's end as the simulated clients end, without a
// Release (the process is killed), stops its watch and capture, and
// translates what they saw into history events. It is safe on a host
// that never fully started.
func (h *realHost) finish(lab *netns.Lab, end time.Time) (RealClient, []history.Event, error) {
	out := RealClient{Index: h.index, Kind: string(h.kind), Name: h.name, Dir: h.dir}
	if a, err := realclient.Lookup(h.kind); err == nil {
		out.Version = a.Version()
	}
	var errs []error
	if h.client != nil {
		out.Running = !h.client.Proc.Exited()
		errs = append(errs, lab.Kill(h.client.Proc))
	}
	if h.stopW != nil {
		if err := h.stopW(); err != nil {
			errs = append(errs, fmt.Errorf("address watch: %w", err))
		}
		h.stopW = nil
	}
	if h.log != nil {
		errs = append(errs, h.log.Close())
		h.log = nil
	}
	if h.capture == nil {
		return out, nil, wrapReal(h.name, errs)
	}
	if _, err := h.capture.Stop(); err != nil {
		errs = append(errs, err)
	}
	h.capture = nil
	frames, err := trace.ReadPcap(filepath.Join(h.dir, history.PcapFile))
	if err != nil {
		errs = append(errs, err)
	}
	h.mu.Lock()
	addrs := append([]trace.AddrChange(nil), h.addrs...)
	h.mu.Unlock()
	tc := trace.Client{Index: h.index, MAC: lab.MAC(h.node), Kind: string(h.kind), End: end}
	if h.inst != nil {
		if duid, err := h.inst.DUID(); err == nil {
			tc.DUID = duid
		}
	}
	events, st := trace.Translate(tc, frames, addrs)
	out.Events, out.Trace = len(events), st
	return out, events, wrapReal(h.name, errs)
}

func wrapReal(name string, errs []error) error {
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab: real client %s: %w", name, err)
	}
	return nil
}

// flap pulls h's cable for down and plugs it back (netns.Lab.Cut,
// Heal): the carrier goes down and up under the real client, as a flap
// does to the simulated ones.
func (h *realHost) flap(lab *netns.Lab, down time.Duration) error {
	if err := lab.Cut(h.node); err != nil {
		return err
	}
	time.Sleep(down)
	return lab.Heal(h.node)
}

// flapAll flaps every real client at once, each for down.
func flapAll(lab *netns.Lab, hosts []*realHost, down time.Duration) error {
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() { errs[i] = h.flap(lab, down) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// occupyReal makes addr really in use on the client link for the real
// clients: the population's namespace gets it (without DAD), so its
// kernel answers a real client's DAD probe for it.
func occupyReal(lab *netns.Lab, addr netip.Addr) error {
	return lab.AddAddr("clients", netip.PrefixFrom(addr, 128))
}

// summary is a one-line account of a real client for the run's log.
func (r RealClient) summary() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s (%s %s): %d events", r.Name, r.Kind, r.Version, r.Events)
	if !r.Running {
		b.WriteString("; it had exited before the end (see its log)")
	}
	if n := r.Trace.Malformed; n > 0 {
		fmt.Fprintf(&b, "; %d malformed frames", n)
	}
	if n := r.Trace.DADNotDeclined; n > 0 {
		fmt.Fprintf(&b, "; %d DAD failures not declined", n)
	}
	if n := r.Trace.Unconfigured; n > 0 {
		fmt.Fprintf(&b, "; %d bound addresses never configured", n)
	}
	return b.String()
}

// realKinds names the scenario's real clients: "5 dhclient, 5 dhcpcd".
func realKinds(sc *scenarios.Scenario) string {
	var b bytes.Buffer
	for i, r := range sc.Clients.Real {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", r.Count, r.Kind)
	}
	return b.String()
}
