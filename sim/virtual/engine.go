package virtual

import (
	"container/heap"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/clientsim/client"
	"d6lab/clientsim/population"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server"
	"d6lab/server/lease"
	"d6lab/sim"
	"d6lab/transport"
)

// Epoch is where virtual time starts unless New is given another start.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// clientAddr is the population's source address on the virtual link.
var clientAddr = netip.AddrPortFrom(netip.MustParseAddr("fe80::c"), transport.ClientPort)

// State is a server's condition on the link.
type State uint8

// Server states.
const (
	Up     State = iota // answering
	Frozen              // alive, answering nothing; datagrams queue until Thaw
	Killed              // gone, state lost unless Restart keeps it
	Cut                 // its link is down (whatever the process does): datagrams are lost
)

func (s State) String() string {
	return [...]string{"up", "frozen", "killed", "cut"}[s]
}

// Server is one in-memory server on the virtual link.
type Server struct {
	Name  string
	Addr  netip.AddrPort
	cfg   server.Config
	core  *server.Server
	store *heldStore
	state State    // Up, Frozen or Killed: the process
	cut   bool     // the link, apart from the process (as in the netns engine)
	queue []queued // datagrams received while frozen
	recv  int      // messages its core handled in the current second (load.go)
	// duidHex is the core's DUID as the clients name the server of a
	// binding (client.Client.Server).
	duidHex string
	// typed: the engine hands this server's core messages, not bytes
	// (Engine.typed and every lifetime it sends a whole number of
	// seconds, which is all the wire can say: typed).
	typed bool
}

// heldStore is a server's lease store as its core holds it: a killed
// server that nothing will restart with its leases has its bindings
// dropped (release), which a million-client run's memory notices, while
// its core and counters stay.
type heldStore struct{ lease.Store }

// release drops the bindings of s, killed for good: its core keeps an
// empty store.
func (s *Server) release() { s.store.Store = lease.NewMemory() }

// queued is a datagram received while frozen: its bytes, or the message.
type queued struct {
	pkt       []byte
	msg       *dhcpv6.Message
	client    int // the sender
	multicast bool
}

// Core is the server's protocol core (its counters, its store).
func (s *Server) Core() *server.Server { return s.core }

// State is the server's condition: Cut while its link is cut, else its
// process's (Up, Frozen or Killed).
func (s *Server) State() State {
	if s.cut {
		return Cut
	}
	return s.state
}

// Engine is one virtual link with servers and a client population.
type Engine struct {
	now     time.Time
	servers []*Server
	byName  map[string]*Server
	pop     *population.Population
	// hist is the history, compact (History): an object of its own, so
	// that whoever keeps the log after the run does not keep the
	// population and the servers with it.
	hist    *history.Log
	actions actionHeap
	seq     int
	out     []population.Outgoing
	load    load // server load sampling (load.go)
	// wire: every message crosses the link encoded and is decoded at the
	// other end (SetWire); otherwise messages cross as Go values where
	// that gives the same run (typed).
	wire bool
	// merge: the history merges renewals (SetMergeRenewals).
	merge bool
	// direct: the population takes each answer for the client that asked
	// (population.Config.Direct).
	direct bool
	// Coasting (coast.go): noCoast turns it off (SetCoasting); renewed
	// lists the clients granted a lease at the current instant; coastAt
	// and leases are room reused.
	noCoast   bool
	coasted   int
	renewed   []int32
	renewing  []int32 // the clients that sent a Renew at the current instant
	coastAt   []time.Time
	duidBuf   []byte // a client's DUID, for a lookup (coast)
	leases    []client.Lease
	receivers []int // loadAhead's
	// delivered, when set, runs on every answer handed over as a value
	// once the population has taken it (Options.delivered: the specs
	// overwrite it there).
	delivered func(*dhcpv6.Message)
	// played, when set, is told the virtual time reached every
	// cancelEvery steps of RunUntilContext (Options.Progress).
	played func(now time.Time)
}

// New returns an engine whose clock starts at start (zero: Epoch).
func New(start time.Time) *Engine {
	if start.IsZero() {
		start = Epoch
	}
	return &Engine{now: start, byName: map[string]*Server{}, hist: &history.Log{}}
}

// SetWire makes every message cross the link encoded and be decoded at
// the other end, as on a socket (on), or cross as the Go value itself
// where the encoding would change nothing the other end reads (off, the
// default: no encoding, no decoding, no buffers; the same history, which
// the specs check against on). Call it before SetPopulation.
func (e *Engine) SetWire(on bool) { e.wire = on }

// SetMergeRenewals makes the history merge renewals (on): a Renewed that
// only extends the client's last grant is counted in that grant's event
// (history.Log.AppendMerging) instead of being appended, about one event
// per binding instead of one per T1, and the same report; off (the
// default) keeps every event. Call it before anything is appended.
func (e *Engine) SetMergeRenewals(on bool) { e.merge = on }

// record appends ev to the history, merging renewals when asked.
func (e *Engine) record(ev history.Event) {
	if e.merge {
		e.hist.AppendMerging(ev)
		if ev.Client >= 0 && e.coasting() {
			e.granted(&ev)
		}
	} else {
		e.hist.Append(ev)
	}
}

// Now is the engine's virtual time.
func (e *Engine) Now() time.Time { return e.now }

// Events is the history so far (client and lab events, in time order).
// It is built from History at each call, about 250 bytes an event: for
// small runs and specs; a large run reads History.
func (e *Engine) Events() []history.Event { return e.hist.Slice() }

// History is the history so far as the engine keeps it: a history.Log,
// about 48 bytes an event, that check.AnalyzeSource reads.
// The log holds nothing else of the engine: once the engine is dropped,
// its population and servers can be collected while the log is analysed.
func (e *Engine) History() *history.Log { return e.hist }

// Servers lists the servers in the order they were added.
func (e *Engine) Servers() []*Server { return e.servers }

// Server returns the named server, or nil.
func (e *Engine) Server(name string) *Server { return e.byName[name] }

// Population is the client population, nil before SetPopulation.
func (e *Engine) Population() *population.Population { return e.pop }

// AddServer puts a builtin server with an in-memory lease store on the link.
func (e *Engine) AddServer(name string, cfg server.Config) (*Server, error) {
	if _, dup := e.byName[name]; dup {
		return nil, fmt.Errorf("virtual: server %q added twice", name)
	}
	s := &Server{
		Name: name,
		Addr: netip.AddrPortFrom(netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 14: 0x5e, 15: byte(len(e.servers) + 1)}), transport.ServerPort),
		cfg:  cfg,
	}
	if err := s.boot(&heldStore{lease.NewMemory()}); err != nil {
		return nil, err
	}
	e.servers = append(e.servers, s)
	e.byName[name] = s
	e.lab(history.ServerStarted, name, "")
	return s, nil
}

func (s *Server) boot(store *heldStore) error {
	core, err := server.New(s.cfg, store)
	if err != nil {
		return fmt.Errorf("virtual: server %s: %w", s.Name, err)
	}
	// The answers the core builds as values go to the population at once
	// (toServerMsg) and a client keeps nothing of one (link_test.go
	// overwrites each after delivery): the core may reuse its storage.
	core.SetAnswerReuse(true)
	s.core, s.store, s.state, s.queue = core, store, Up, nil
	s.typed = wholeSeconds(s.cfg.T1, s.cfg.T2, s.cfg.Preferred, s.cfg.Valid, s.cfg.InfoRefresh)
	s.duidHex = hex.EncodeToString(core.DUID())
	return nil
}

// wholeSeconds reports whether every d is what the wire carries: a whole
// number of seconds in 32 bits (RFC 9915 §21.4, §21.6, §21.23). The
// encoder rounds any other value, so a server configured with one must
// take the wire for its answers to read the same at the client.
func wholeSeconds(ds ...time.Duration) bool {
	for _, d := range ds {
		if d < 0 || d%time.Second != 0 || d/time.Second > 1<<32-1 {
			return false
		}
	}
	return true
}

// SetPopulation puts the clients on the link; they start at the engine's
// current time. Events go to the engine's history (and cfg.Sink, if set).
func (e *Engine) SetPopulation(cfg population.Config) error {
	sink := cfg.Sink
	cfg.Sink = func(ev history.Event) {
		e.record(ev)
		if sink != nil {
			sink(ev)
		}
	}
	// Messages cross as values unless SetWire asked for the wire. A
	// relayed population encodes its Relay-forwards itself, and a Client
	// FQDN option reads differently once decoded (insomniacslk parses it
	// into a domain name and writes it back fully qualified), so those
	// take the wire too.
	cfg.InMemory = !e.wire && cfg.Relay == nil && !cfg.SendFQDN
	// Each answer goes to the client that asked, as to a host's own
	// socket, unless the population's relay stands between.
	cfg.Direct = cfg.Relay == nil
	e.direct = cfg.Direct
	cfg.Epoch = e.now
	p, err := population.New(cfg)
	if err != nil {
		return err
	}
	e.pop = p
	p.Start(e.now)
	return nil
}

func (e *Engine) lab(kind history.Kind, server, detail string) {
	e.record(history.Event{At: e.now, Kind: kind, Client: -1, Server: server, Detail: detail})
}

// At schedules fn at offset d from now (in virtual time). Actions due at the
// same instant as client timers run first, in the order they were added.
func (e *Engine) At(d time.Duration, fn func()) {
	e.seq++
	heap.Push(&e.actions, action{at: e.now.Add(d), seq: e.seq, fn: fn})
}

// Kill drops the server: it answers nothing, and its leases are gone unless
// a Restart keeps them. It is an error to kill a server already killed.
func (e *Engine) Kill(name string) error {
	s, err := e.server(name)
	if err != nil {
		return err
	}
	if s.state == Killed {
		return fmt.Errorf("virtual: cannot kill %s: it is already killed", name)
	}
	s.state, s.queue = Killed, nil
	e.lab(history.ServerKilled, name, "")
	return nil
}

// Freeze stops a running server answering; what reaches it queues until
// Thaw.
func (e *Engine) Freeze(name string) error {
	s, err := e.server(name)
	if err != nil {
		return err
	}
	if s.state != Up {
		return fmt.Errorf("virtual: cannot freeze %s: it is %s, not running", name, s.state)
	}
	s.state = Frozen
	e.lab(history.ServerFrozen, name, "")
	return nil
}

// Thaw resumes a frozen server, which then answers its queued datagrams.
func (e *Engine) Thaw(name string) error {
	s, err := e.server(name)
	if err != nil {
		return err
	}
	if s.state != Frozen {
		return fmt.Errorf("virtual: cannot thaw %s: it is %s, not frozen", name, s.state)
	}
	q := s.queue
	s.state, s.queue = Up, nil
	e.lab(history.ServerThawed, name, "")
	for _, d := range q {
		if d.msg != nil {
			e.toServerMsg(s, d.msg, d.client, d.multicast)
		} else {
			e.toServer(s, d.pkt, d.client, d.multicast)
		}
	}
	return nil
}

// Cut drops everything to and from the server until Heal; the server
// itself goes on as it was (running, frozen or killed).
func (e *Engine) Cut(name string) error {
	s, err := e.server(name)
	if err != nil {
		return err
	}
	if s.cut {
		return fmt.Errorf("virtual: cannot cut %s's link: it is already cut", name)
	}
	s.cut = true
	e.lab(history.LinkCut, name, "")
	return nil
}

// CutLink is Cut.
func (e *Engine) CutLink(name string) error { return e.Cut(name) }

// Heal brings a cut server's link back.
func (e *Engine) Heal(name string) error {
	s, err := e.server(name)
	if err != nil {
		return err
	}
	if !s.cut {
		return fmt.Errorf("virtual: nothing to heal: %s's link is not cut", name)
	}
	s.cut = false
	e.lab(history.LinkHealed, name, "")
	return nil
}

// Impair is not supported: the virtual link delivers every datagram at
// once. It returns an error naming the netns engine.
func (e *Engine) Impair(name string, loss float64, delay time.Duration) error {
	if _, err := e.server(name); err != nil {
		return err
	}
	return fmt.Errorf("virtual: impair %s: %w", name, ErrNoImpairment)
}

// ErrNoImpairment is the error of Impair (wrapped).
var ErrNoImpairment = errors.New("the virtual engine has no impairment; use the netns engine")

// Restart brings the server back, with its leases (keep) or without (wipe:
// a new store and fresh allocator state). A cut link stays cut.
func (e *Engine) Restart(name string, keep bool) error {
	s, err := e.server(name)
	if err != nil {
		return err
	}
	store := s.store
	detail := "state keep"
	if !keep {
		store, detail = &heldStore{lease.NewMemory()}, "state wipe"
	}
	if err := s.boot(store); err != nil {
		return err
	}
	e.lab(history.ServerRestarted, name, detail)
	return nil
}

// Join adds n clients to the population, starting over [now, now+ramp).
func (e *Engine) Join(n int, ramp time.Duration) error {
	if e.pop == nil {
		return fmt.Errorf("virtual: join before the population is set")
	}
	if _, err := e.pop.AddClients(e.now, n, ramp); err != nil {
		return fmt.Errorf("virtual: join %d: %w", n, err)
	}
	e.clientAction(scenarios.Action{Kind: scenarios.Join, Count: n})
	return nil
}

// Leave makes n clients release their leases and stop (population.StopSome).
func (e *Engine) Leave(n int) error {
	if e.pop == nil {
		return fmt.Errorf("virtual: leave before the population is set")
	}
	e.pop.StopSome(e.now, n)
	e.clientAction(scenarios.Action{Kind: scenarios.Leave, Count: n})
	return nil
}

// Flap takes the clients' link down for down and up again: once it is
// back each client confirms, rebinds or asks for its configuration again
// (population.Flap).
func (e *Engine) Flap(down time.Duration) error {
	if e.pop == nil {
		return fmt.Errorf("virtual: flap before the population is set")
	}
	e.pop.Flap(e.now, down)
	e.clientAction(scenarios.Action{Kind: scenarios.Flap, Down: down})
	return nil
}

// Occupy puts a host using addr on the link (population.Occupy).
func (e *Engine) Occupy(addr netip.Addr) error {
	if e.pop == nil {
		return fmt.Errorf("virtual: occupy before the population is set")
	}
	e.pop.Occupy(e.now, addr)
	e.clientAction(scenarios.Action{Kind: scenarios.Occupy, Address: addr})
	return nil
}

// clientAction records a client action as every engine does.
func (e *Engine) clientAction(a scenarios.Action) {
	e.lab(sim.ClientActionKind(a.Kind), "", sim.ClientActionDetail(a))
}

// server is the named server, or an error when there is none.
func (e *Engine) server(name string) (*Server, error) {
	s, ok := e.byName[name]
	if !ok {
		return nil, sim.UnknownServer(name)
	}
	return s, nil
}

// RunFor advances virtual time by d, running every timer and action due.
func (e *Engine) RunFor(d time.Duration) { e.RunUntil(e.now.Add(d)) }

// RunUntil advances virtual time to end.
func (e *Engine) RunUntil(end time.Time) { _ = e.RunUntilContext(context.Background(), end) }

// cancelEvery is how many steps of virtual time RunUntilContext takes
// between two looks at its context (and two reports of its progress):
// cheap against a step, and far under a second of wall time on a large
// run.
const cancelEvery = 1 << 12

// RunUntilContext advances virtual time to end, or until ctx is done (a
// run interrupted by SIGINT or SIGTERM): then it returns ctx's error with
// virtual time where it stopped.
func (e *Engine) RunUntilContext(ctx context.Context, end time.Time) error {
	for n := 0; ; n++ {
		if n%cancelEvery == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if e.played != nil {
				e.played(e.now)
			}
		}
		next, ok := e.next()
		if !ok || next.After(end) {
			break
		}
		e.load.tick(e, next)
		e.now = next
		for len(e.actions) > 0 && !e.actions[0].at.After(e.now) {
			a := heap.Pop(&e.actions).(action)
			a.fn()
		}
		if e.pop != nil {
			e.pop.Advance(e.now)
		}
		e.flush()
		if len(e.renewed) > 0 || len(e.renewing) > 0 {
			until := end
			if len(e.actions) > 0 && e.actions[0].at.Before(until) {
				until = e.actions[0].at
			}
			e.coast(until)
		}
	}
	e.load.catchUp(e, end)
	if end.After(e.now) {
		e.now = end
	}
	return nil
}

func (e *Engine) next() (time.Time, bool) {
	var t time.Time
	ok := false
	if e.pop != nil {
		t, ok = e.pop.NextTimer()
	}
	if len(e.actions) > 0 && (!ok || e.actions[0].at.Before(t)) {
		return e.actions[0].at, true
	}
	return t, ok
}

// flush carries the population's datagrams to the servers and the answers
// back, until nobody has anything left to send.
func (e *Engine) flush() {
	if e.pop == nil {
		return
	}
	for {
		e.out = e.pop.Outbox(e.out[:0])
		if len(e.out) == 0 {
			return
		}
		coast := e.coasting()
		for k := range e.out {
			o := &e.out[k]
			if coast {
				e.sent(o)
			}
			mc := o.Dst.Addr().IsMulticast()
			for _, s := range e.servers {
				if mc && o.Dst.Port() == transport.ServerPort || o.Dst == s.Addr {
					if o.Msg != nil {
						e.toServerMsg(s, o.Msg, o.Client, mc)
					} else {
						e.toServer(s, o.Payload, o.Client, mc)
					}
				}
			}
		}
	}
}

// toServer hands server s a datagram client from sent (mc: to a multicast
// address), and its answer back: to the sender when the population is
// Direct, else to whoever holds the transaction ID.
func (e *Engine) toServer(s *Server, pkt []byte, from int, mc bool) {
	if s.cut {
		return
	}
	switch s.state {
	case Killed:
		return
	case Frozen:
		s.queue = append(s.queue, queued{pkt: append([]byte(nil), pkt...), client: from, multicast: mc})
		return
	}
	s.recv++
	reply, dst, ok := s.core.Handle(e.now, pkt, clientAddr, mc)
	if !ok || dst.Addr() != clientAddr.Addr() {
		return
	}
	if e.direct {
		e.pop.DeliverTo(e.now, from, reply)
	} else {
		e.pop.Deliver(e.now, reply, s.Addr)
	}
}

// toServerMsg is toServer for a client's message handed over as a value
// (population.Config.InMemory): a server whose answers the wire would
// change (typed false) gets it encoded, and its answer goes back decoded.
func (e *Engine) toServerMsg(s *Server, m *dhcpv6.Message, from int, mc bool) {
	if !s.typed {
		e.toServer(s, m.ToBytes(), from, mc)
		return
	}
	if s.cut || s.state == Killed {
		return
	}
	if s.state == Frozen {
		// Its socket buffer keeps the message past the next Outbox, which
		// recycles it (population.Outgoing).
		s.queue = append(s.queue, queued{msg: population.CopyMessage(m), client: from, multicast: mc})
		return
	}
	s.recv++
	out, ok := s.core.HandleMessage(e.now, m, mc)
	if !ok || server.ReplyAddr(clientAddr, m).Addr() != clientAddr.Addr() {
		return
	}
	r, isMsg := out.(*dhcpv6.Message)
	switch {
	case !isMsg && e.direct:
		e.pop.DeliverTo(e.now, from, out.ToBytes())
	case !isMsg:
		e.pop.Deliver(e.now, out.ToBytes(), s.Addr)
	case e.direct:
		e.pop.DeliverMessageTo(e.now, from, r)
	default:
		e.pop.DeliverMessage(e.now, r, s.Addr)
	}
	if isMsg && e.delivered != nil {
		e.delivered(r)
	}
}

type action struct {
	at  time.Time
	seq int
	fn  func()
}

type actionHeap []action

func (h actionHeap) Len() int { return len(h) }
func (h actionHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h actionHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *actionHeap) Push(x any)   { *h = append(*h, x.(action)) }
func (h *actionHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
