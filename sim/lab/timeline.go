package lab

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"d6lab/clientsim/population"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/netns"
)

// timeline is the netns engine's sim.Actions: what a scenario's timeline
// does to a running lab. Server actions act on the processes and links of
// lab; client actions go to the population's goroutine as commands (ctl,
// population.RunControlled). Each action is recorded in rec as it is done.
// It keeps the state the timeline put each server and link in, to refuse
// what scenario validation refuses (thaw a server that is not frozen, ...).
type timeline struct {
	ctx     context.Context
	lab     *netns.Lab
	servers map[string]*runServer
	ctl     chan<- population.Command
	rec     *recorder
	state   *serverStates     // "running", "frozen", "killed"
	link    map[string]string // "up", "cut", "impaired"
	real    []*realHost       // the real clients: flap and occupy reach them too
}

var _ sim.Actions = (*timeline)(nil)

func newTimeline(ctx context.Context, lab *netns.Lab, servers []*runServer, states *serverStates, ctl chan<- population.Command, rec *recorder) *timeline {
	t := &timeline{ctx: ctx, lab: lab, servers: map[string]*runServer{}, ctl: ctl, rec: rec,
		state: states, link: map[string]string{}}
	for _, s := range servers {
		t.servers[s.spec.Name] = s
		t.state.set(s.spec.Name, "running")
		t.link[s.spec.Name] = "up"
	}
	return t
}

// serverStates is the state the timeline put each server in ("running",
// "frozen", "killed"), safe for concurrent use: the timeline writes it,
// probes running beside it (the Leasequery prober) read it.
type serverStates struct {
	mu sync.Mutex
	m  map[string]string
}

func newServerStates() *serverStates { return &serverStates{m: map[string]string{}} }

func (s *serverStates) set(name, st string) {
	s.mu.Lock()
	s.m[name] = st
	s.mu.Unlock()
}

func (s *serverStates) get(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[name]
}

func (t *timeline) server(name string) (*runServer, error) {
	srv, ok := t.servers[name]
	if !ok {
		return nil, sim.UnknownServer(name)
	}
	return srv, nil
}

func (t *timeline) Kill(name string) error {
	srv, err := t.server(name)
	if err != nil {
		return err
	}
	if t.state.get(name) == "killed" {
		return fmt.Errorf("cannot kill %s: it is already killed", name)
	}
	srv.noteUsage()
	if err := t.lab.Kill(srv.proc); err != nil {
		return err
	}
	// The host dies: its companions with it.
	if err := killCompanions(t.lab, srv); err != nil {
		return err
	}
	t.state.set(name, "killed")
	t.rec.lab(history.ServerKilled, name, "SIGKILL")
	return nil
}

func (t *timeline) Freeze(name string) error {
	srv, err := t.server(name)
	if err != nil {
		return err
	}
	if st := t.state.get(name); st != "running" {
		return fmt.Errorf("cannot freeze %s: it is %s, not running", name, st)
	}
	if err := t.lab.Freeze(srv.proc); err != nil {
		return err
	}
	if err := freezeCompanions(t.lab, srv); err != nil {
		return err
	}
	t.state.set(name, "frozen")
	t.rec.lab(history.ServerFrozen, name, "SIGSTOP")
	return nil
}

func (t *timeline) Thaw(name string) error {
	srv, err := t.server(name)
	if err != nil {
		return err
	}
	if st := t.state.get(name); st != "frozen" {
		return fmt.Errorf("cannot thaw %s: it is %s, not frozen", name, st)
	}
	// The companions first: ready for what the server sends them.
	if err := thawCompanions(t.lab, srv); err != nil {
		return err
	}
	if err := t.lab.Thaw(srv.proc); err != nil {
		return err
	}
	t.state.set(name, "running")
	t.rec.lab(history.ServerThawed, name, "SIGCONT")
	return nil
}

func (t *timeline) Restart(name string, keep bool) error {
	srv, err := t.server(name)
	if err != nil {
		return err
	}
	if !srv.proc.Exited() {
		// A restart of a running server is an abrupt one: what was not
		// persisted is lost, as in a crash.
		srv.noteUsage()
		if err := t.lab.Kill(srv.proc); err != nil {
			return err
		}
	}
	if err := killCompanions(t.lab, srv); err != nil { // start starts them again
		return err
	}
	t.state.set(name, "killed")
	state := scenarios.Keep
	if !keep {
		state = scenarios.Wipe
		// A restarted server keeps its identity: only its bindings go.
		if err := srv.wipe(); err != nil {
			return fmt.Errorf("wipe leases: %w", err)
		}
	}
	// Recorded before the start: the new process may answer clients
	// before start sees its ready line, and no grant of it may come
	// earlier in the history than its restart.
	t.rec.lab(history.ServerRestarted, name, "state "+string(state))
	if err := start(t.ctx, t.lab, srv); err != nil {
		return err
	}
	t.state.set(name, "running")
	return nil
}

func (t *timeline) Cut(name string) error {
	srv, err := t.server(name)
	if err != nil {
		return err
	}
	if t.link[name] == "cut" {
		return fmt.Errorf("cannot cut %s's link: it is already cut", name)
	}
	if err := t.lab.Cut(srv.node); err != nil {
		return err
	}
	t.link[name] = "cut"
	t.rec.lab(history.LinkCut, name, "")
	return nil
}

func (t *timeline) Heal(name string) error {
	srv, err := t.server(name)
	if err != nil {
		return err
	}
	if t.link[name] == "up" {
		return fmt.Errorf("nothing to heal: %s's link is neither cut nor impaired", name)
	}
	if err := t.lab.Unimpair(srv.node); err != nil {
		return err
	}
	if err := t.lab.Heal(srv.node); err != nil {
		return err
	}
	t.link[name] = "up"
	t.rec.lab(history.LinkHealed, name, "")
	return nil
}

func (t *timeline) Impair(name string, loss float64, delay time.Duration) error {
	srv, err := t.server(name)
	if err != nil {
		return err
	}
	if t.link[name] == "cut" {
		return fmt.Errorf("cannot impair %s's link: it is cut (heal it first)", name)
	}
	if err := t.lab.Impair(srv.node, loss, delay); err != nil {
		return err
	}
	t.link[name] = "impaired"
	t.rec.lab(history.LinkImpaired, name, fmt.Sprintf("loss %.3f delay %s", loss, delay))
	return nil
}

func (t *timeline) Join(count int, ramp time.Duration) error {
	if count < 1 {
		return fmt.Errorf("join %d clients: want at least 1", count)
	}
	return t.clients(scenarios.Action{Kind: scenarios.Join, Count: count}, func(p *population.Population, now time.Time) {
		_, _ = p.AddClients(now, count, ramp) // count >= 1, checked above
	})
}

func (t *timeline) Leave(count int) error {
	return t.clients(scenarios.Action{Kind: scenarios.Leave, Count: count}, func(p *population.Population, now time.Time) {
		p.StopSome(now, count)
	})
}

func (t *timeline) Flap(down time.Duration) error {
	if err := t.clients(scenarios.Action{Kind: scenarios.Flap, Down: down}, func(p *population.Population, now time.Time) {
		p.Flap(now, down)
	}); err != nil {
		return err
	}
	return flapAll(t.lab, t.real, down)
}

// Occupy takes addr for the simulated clients' DAD (the population's
// prober) and, with real clients in the run, for real: the population's
// namespace holds it, so a real client's kernel DAD finds it.
func (t *timeline) Occupy(addr netip.Addr) error {
	if err := t.clients(scenarios.Action{Kind: scenarios.Occupy, Address: addr}, func(p *population.Population, now time.Time) {
		p.Occupy(now, addr)
	}); err != nil {
		return err
	}
	if len(t.real) == 0 {
		return nil
	}
	return occupyReal(t.lab, addr)
}

// clients hands cmd to the population's goroutine (the channel holds one
// command per timeline action, so this does not block) and records a.
func (t *timeline) clients(a scenarios.Action, cmd population.Command) error {
	select {
	case t.ctl <- cmd:
	case <-t.ctx.Done():
		return t.ctx.Err()
	}
	t.rec.lab(sim.ClientActionKind(a.Kind), "", sim.ClientActionDetail(a))
	return nil
}
