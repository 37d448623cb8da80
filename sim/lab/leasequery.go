package lab

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"d6lab/clientsim/population"
	"d6lab/deploy"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server/daemon"
	"d6lab/server/lease"
	"d6lab/sim"
	"d6lab/sim/leasequery"
	"d6lab/sim/netns"
	"d6lab/sim/session"
)

// The Leasequery prober (RFC 6853 §7: with the granting server down,
// nobody can say where its clients are bound). It runs in a namespace of
// its own, proberNode, on the network the servers are on (the client
// link, or the server network behind a relay), with sim.ProberAddr; it
// does not use the DNS server's namespace, so it runs with or without a
// dns: block. Every sc.Leasequery.Interval it asks each server that the
// timeline says is running (serverStates: a frozen or killed server is
// not asked) about the sampled clients, the way that server can answer:
//
//   - Kea, when its adapter gave it a control socket (lease_cmds hook):
//     lease6-get-by-duid (history.LQByControl);
//   - the builtin server: an RFC 5007 LEASEQUERY by client ID over UDP,
//     to the server's sim.ServiceAddr when its node has one, else to its
//     link-local address (history.LQByUDP);
//   - any other kind (dhcpd, dnsmasq; Kea without a control socket): its
//     lease file read while it runs (history.LQByFile); wide and coredhcp
//     keep none, so their answers are LQNoAnswer naming why.
//
// Each round records one history.LeasequeryRound (Detail: the servers
// asked) and then, per server and client, one history.LeasequeryAnswer
// per lease named (LQBound), or one LQNone or LQNoAnswer. A round is
// bounded: the servers are asked in parallel, one query waits at most
// lqTimeout, and the round gives up at lqRoundShare of the interval; a
// round that still overruns the interval makes the next one skip (the
// ticker drops it), so rounds never pile up.

// proberName is the prober's namespace.
const proberName = "prober"

// lqTimeout bounds one query (one UDP batch, one control-socket command).
const lqTimeout = 300 * time.Millisecond

// lqRoundShare is the part of the interval a round may take.
const lqRoundShare = 0.8

// proberNode is the prober's namespace when sc has a leasequery: block:
// Run puts it beside the servers (spec.Nodes, or spec.Upstream behind a
// relay), with sim.ProberAddr in sim.ServicePrefix.
func proberNode(sc *scenarios.Scenario) (netns.NodeSpec, bool) {
	if sc.Leasequery == nil {
		return netns.NodeSpec{}, false
	}
	return netns.NodeSpec{
		Name:  proberName,
		Addrs: []netip.Prefix{netip.PrefixFrom(sim.ProberAddr(), sim.ServicePrefix.Bits())},
	}, true
}

// lqClient is one sampled client.
type lqClient struct {
	index int
	duid  []byte
	hex   string
}

// sampleClients picks the clients the prober asks about: every k-th client
// of the simulated population (k = population / clients), their DUIDs as
// the population derives them (population.DUID), the same in every run
// of the scenario.
func sampleClients(sc *scenarios.Scenario) []lqClient {
	cfg := sim.PopulationConfig(sc, nil)
	n := min(sc.Leasequery.Clients, cfg.Count)
	if n <= 0 {
		return nil
	}
	k := cfg.Count / n
	out := make([]lqClient, n)
	for j := range out {
		i := j * k
		d := population.DUID(cfg.Seed, i)
		out[j] = lqClient{index: i, duid: d, hex: hex.EncodeToString(d)}
	}
	return out
}

// lqTarget is one server and how the prober asks it.
type lqTarget struct {
	name   string
	method string // history.LQByUDP, LQByControl, LQByFile
	udp    *leasequery.UDP
	dst    netip.AddrPort
	socket string
	inst   *daemon.Instance
}

// startLeasequery starts the Leasequery prober when sc has a leasequery:
// block: every sc.Leasequery.Interval from start (the run's start) until
// lqTimeout before the run's end, it asks each server that states says is
// running where each sampled client is bound, and records
// history.LeasequeryRound and history.LeasequeryAnswer events in rec. It
// registers its stop with ses.OnClose (which runs before the servers
// stop) and never holds up the end of the run by more than one query's
// timeout.
func startLeasequery(ctx context.Context, ses *session.Session, sc *scenarios.Scenario, servers []*runServer, states *serverStates, rec *recorder, start time.Time) error {
	if sc.Leasequery == nil {
		return nil
	}
	lab := ses.Lab
	clients := sampleClients(sc)
	requestor := proberDUID(lab)
	var targets []*lqTarget
	closeAll := func() {
		for _, t := range targets {
			if t.udp != nil {
				t.udp.Close()
			}
		}
	}
	for i, srv := range servers {
		t, err := newTarget(lab, srv, i, requestor)
		if err != nil {
			closeAll()
			return fmt.Errorf("lab: leasequery: server %s: %w", srv.spec.Name, err)
		}
		targets = append(targets, t)
	}
	var how []string
	for _, t := range targets {
		how = append(how, t.name+" by "+t.method)
	}
	ses.Logf("lab %s: leasequery: %d sampled clients every %s (%s)", lab.Prefix(), len(clients), sc.Leasequery.Interval, strings.Join(how, ", "))

	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p := &prober{clients: clients, targets: targets, states: states, rec: rec, interval: sc.Leasequery.Interval}
		p.run(pctx, start.Add(sc.Duration))
	}()
	ses.OnClose(func() error {
		cancel()
		closeAll() // an Ask under way returns at once
		<-done
		return nil
	})
	return nil
}

// proberDUID is the requestor's own Client Identifier (RFC 5007 §4.3): a
// DUID-LL (RFC 9915 §11.4) of the prober namespace's link-layer address.
func proberDUID(lab *netns.Lab) []byte {
	return append([]byte{0, 3, 0, 1}, lab.MAC(proberName)...)
}

// newTarget decides how server srv (index i) is asked and, for RFC 5007,
// opens the prober's socket for it in the prober's namespace.
func newTarget(lab *netns.Lab, srv *runServer, i int, requestor []byte) (*lqTarget, error) {
	t := &lqTarget{name: srv.spec.Name, inst: srv.inst}
	kind := deploy.Kind(srv.spec.Kind)
	switch {
	case srv.inst != nil && srv.inst.ControlSocket != "":
		t.method, t.socket = history.LQByControl, srv.inst.ControlSocket
		return t, nil
	case kind == deploy.Builtin:
		t.method = history.LQByUDP
	default:
		t.method = history.LQByFile
		return t, nil
	}
	// The builtin server listens on [::]:547 on its interface: any of its
	// addresses reaches it. Its service address when the lab gave it one,
	// otherwise its link-local address (the prober is on the same link).
	addr := lab.LinkLocal(srv.node)
	for _, p := range lab.Addrs(srv.node) {
		if p.Addr() == sim.ServiceAddr(i) {
			addr = p.Addr()
		}
	}
	if !addr.IsValid() {
		return nil, fmt.Errorf("node %s has no address to ask", srv.node)
	}
	t.dst = netip.AddrPortFrom(addr, leasequery.ServerPort)
	err := lab.Do(proberName, func() error {
		var err error
		t.udp, err = leasequery.ListenUDP(requestor, lab.IfIndex(proberName))
		return err
	})
	return t, err
}

// prober is the running prober.
type prober struct {
	clients  []lqClient
	targets  []*lqTarget
	states   *serverStates
	rec      *recorder
	interval time.Duration
}

func (p *prober) run(ctx context.Context, end time.Time) {
	tk := time.NewTicker(p.interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			// The tick's own time may be old (a round that overran):
			// the round starts now. It ends before the run does: no
			// answer comes after the run's last event.
			now := time.Now()
			if !now.Add(lqTimeout).Before(end) {
				return
			}
			deadline := now.Add(time.Duration(float64(p.interval) * lqRoundShare))
			if deadline.After(end) {
				deadline = end
			}
			p.round(ctx, deadline)
		}
	}
}

// round asks every running server about every sampled client, the servers
// in parallel, and records the round and its answers.
func (p *prober) round(ctx context.Context, deadline time.Time) {
	var asked []*lqTarget
	var names []string
	for _, t := range p.targets {
		if p.states.get(t.name) == "running" {
			asked = append(asked, t)
			names = append(names, t.name)
		}
	}
	p.rec.lab(history.LeasequeryRound, "", strings.Join(names, ","))
	var wg sync.WaitGroup
	for _, t := range asked {
		wg.Go(func() {
			res, at := p.ask(ctx, t, deadline)
			if ctx.Err() != nil {
				return // stopped: the run is over, its answers are not recorded
			}
			for i, r := range res {
				for _, e := range answerEvents(at, t, p.clients[i], r) {
					p.rec.add(e)
				}
			}
		})
	}
	wg.Wait()
}

// ask asks t about every sampled client; at is when the answers came.
func (p *prober) ask(ctx context.Context, t *lqTarget, deadline time.Time) (res []leasequery.Result, at time.Time) {
	switch t.method {
	case history.LQByUDP:
		duids := make([][]byte, len(p.clients))
		for i, c := range p.clients {
			duids[i] = c.duid
		}
		res = t.udp.Ask(t.dst, duids, lqTimeout)
		return res, time.Now()
	case history.LQByControl:
		res = make([]leasequery.Result, len(p.clients))
		for i, c := range p.clients {
			if ctx.Err() != nil || !time.Now().Before(deadline) {
				res[i].Err = errRoundOver
				continue
			}
			res[i].Leases, res[i].Err = leasequery.Kea(t.socket, c.duid, min(lqTimeout, time.Until(deadline)))
		}
		return res, time.Now()
	default:
		res = make([]leasequery.Result, len(p.clients))
		bs, err := readLeases(t)
		now := time.Now()
		for i, c := range p.clients {
			if err != nil {
				res[i].Err = err
				continue
			}
			res[i].Leases = leasequery.FromBindings(bs, c.duid, now)
		}
		return res, now
	}
}

// errRoundOver: the round's share of the interval ran out before this
// query was sent.
var errRoundOver = errors.New("leasequery: the round's time ran out before this query")

// readLeases reads t's lease file as it is now (the server running).
func readLeases(t *lqTarget) ([]lease.Binding, error) {
	if t.inst == nil {
		return nil, errors.New("leasequery: no lease file to read (no server instance)")
	}
	return t.inst.Leases()
}

// answerEvents are the history events of one answer of server t about
// client c: one LQBound per lease named, else one LQNone or LQNoAnswer
// (Detail: how it was asked, and for LQNoAnswer why there is no answer).
func answerEvents(at time.Time, t *lqTarget, c lqClient, r leasequery.Result) []history.Event {
	e := history.Event{At: at, Kind: history.LeasequeryAnswer, Client: c.index, DUID: c.hex, Server: t.name, Detail: t.method}
	switch {
	case r.Err != nil:
		e.Cause, e.Detail = history.LQNoAnswer, t.method+": "+r.Err.Error()
		return []history.Event{e}
	case len(r.Leases) == 0:
		e.Cause = history.LQNone
		return []history.Event{e}
	}
	out := make([]history.Event, 0, len(r.Leases))
	for _, l := range r.Leases {
		x := e
		x.Cause, x.Lease, x.IA = history.LQBound, l.Prefix, l.Type.String()
		x.Preferred, x.Valid = l.Preferred, l.Valid
		out = append(out, x)
	}
	return out
}
