package population

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/clientsim/client"
	"d6lab/reports/history"
)

// Config describes a population.
type Config struct {
	Count       int           // number of clients
	Seed        uint64        // DUIDs, transaction IDs and every random draw derive from it
	IANA, IAPD  bool          // what each client asks for; neither: stateless clients
	Ramp        time.Duration // client i starts at Start's time + Ramp*i/Count
	Timescale   float64       // multiplies every RFC constant (see client.Config)
	RapidCommit bool
	Sink        func(history.Event) // receives every client event, in order; may be nil
	// Dst is where clients send; zero means transport.AllServersPort.
	Dst netip.AddrPort

	// For Run: when its context ends, release every lease (StopAll) and
	// keep running until all clients have stopped or StopGrace (default
	// 20 s times Timescale) has passed. Without it Run returns at once.
	ReleaseOnStop bool
	StopGrace     time.Duration
}

// Outgoing is one encoded datagram to send.
type Outgoing struct {
	Payload []byte
	Dst     netip.AddrPort
	Client  int // index of the sending client
}

// Reasons the population drops a datagram before any client sees it.
const (
	DropMalformed  = "malformed"   // not a decodable DHCPv6 client/server message
	DropRelay      = "relay"       // a relay message: this population is not a relay
	DropUnknownXID = "unknown-xid" // no client holds the transaction ID
)

// Stats is a snapshot of the population's counters.
type Stats struct {
	Clients    int
	Sent       uint64            // datagrams put in the outbox
	Received   uint64            // datagrams handed to Deliver
	SendErrors uint64            // writes that failed in Run
	Dropped    map[string]uint64 // population and client drop reasons
	States     map[string]int    // clients per state
}

// Errors of New.
var ErrCount = errors.New("population: Count must be positive")

// Population is N clients behind one socket.
type Population struct {
	cfg     Config
	clients []*client.Client
	begun   []bool
	timers  *timers
	xids    map[uint32]int32 // transaction ID -> client
	cur     []uint32         // per client: its claimed ID | 1<<24, 0 when none

	started bool
	start   time.Time
	stopped int // clients in state Stopped

	outbox     []Outgoing
	sent, recv uint64
	sendErrors uint64
	dropped    [3]uint64
}

// New builds the clients; none starts before Start.
func New(cfg Config) (*Population, error) {
	if cfg.Count <= 0 {
		return nil, ErrCount
	}
	if cfg.Timescale <= 0 {
		cfg.Timescale = 1
	}
	p := &Population{
		cfg:     cfg,
		clients: make([]*client.Client, cfg.Count),
		begun:   make([]bool, cfg.Count),
		timers:  newTimers(cfg.Count),
		xids:    make(map[uint32]int32, cfg.Count),
		cur:     make([]uint32, cfg.Count),
	}
	rs := splitmix64(cfg.Seed ^ 0x5eed5eed5eed5eed)
	for i := range p.clients {
		c, err := client.New(client.Config{
			Index:       i,
			DUID:        DUID(cfg.Seed, i),
			IANA:        cfg.IANA,
			IAPD:        cfg.IAPD,
			RapidCommit: cfg.RapidCommit,
			Timescale:   cfg.Timescale,
			Rand:        rand.New(rand.NewPCG(rs, uint64(i))),
			Dst:         cfg.Dst,
			XIDs:        p,
		})
		if err != nil {
			return nil, fmt.Errorf("population: client %d: %w", i, err)
		}
		p.clients[i] = c
	}
	return p, nil
}

// Len is the number of clients.
func (p *Population) Len() int { return len(p.clients) }

// Client returns client i.
func (p *Population) Client(i int) *client.Client { return p.clients[i] }

// Started reports whether Start was called.
func (p *Population) Started() bool { return p.started }

// AllStopped reports whether every client has stopped.
func (p *Population) AllStopped() bool { return p.stopped == len(p.clients) }

// ClaimXID implements client.XIDClaimer: it refuses an ID another client
// holds, and otherwise moves client c's claim to xid.
func (p *Population) ClaimXID(c int, xid dhcpv6.TransactionID) bool {
	k := uint32(xid[0])<<16 | uint32(xid[1])<<8 | uint32(xid[2])
	if owner, ok := p.xids[k]; ok && int(owner) != c {
		return false
	}
	if old := p.cur[c]; old != 0 {
		if k0 := old &^ (1 << 24); k0 != k {
			delete(p.xids, k0)
		}
	}
	p.xids[k] = int32(c)
	p.cur[c] = k | 1<<24
	return true
}

// Start schedules every client's start, spread evenly over Ramp from now.
// Calling it again does nothing.
func (p *Population) Start(now time.Time) {
	if p.started {
		return
	}
	p.started, p.start = true, now
	n := len(p.clients)
	for i := range p.clients {
		off := time.Duration(float64(p.cfg.Ramp) * float64(i) / float64(n))
		p.timers.set(i, now.Add(off))
	}
}

// NextTimer is the earliest time at which Advance has work.
func (p *Population) NextTimer() (time.Time, bool) { return p.timers.min() }

// Advance runs every timer due at or before now, each at its own time and
// in time order (ties by client index), as if the caller had stepped
// through them one by one: a client's start, then whatever its timers
// bring. The clients thus see the same times however the caller steps.
func (p *Population) Advance(now time.Time) {
	for {
		at, ok := p.timers.min()
		if !ok || at.After(now) {
			return
		}
		i := p.timers.popMin()
		c := p.clients[i]
		prev := c.State()
		var out client.Output
		if !p.begun[i] {
			p.begun[i] = true
			out = c.Start(at)
		} else {
			out = c.Timer(at)
		}
		if !out.Timer.IsZero() && !out.Timer.After(at) {
			// A client runs everything due when its timer fires, so it
			// never asks for the same instant again; should one do so,
			// a nanosecond later keeps Advance from spinning.
			out.Timer = at.Add(1)
		}
		p.handle(i, prev, out, at)
	}
}

// Deliver hands the population a datagram received from src. It is
// decoded, given to the client holding its transaction ID, and dropped
// (counted) when it cannot be decoded or no client holds the ID.
func (p *Population) Deliver(now time.Time, pkt []byte, src netip.AddrPort) {
	p.recv++
	m, err := decode(pkt)
	if err != nil {
		if errors.Is(err, errRelay) {
			p.dropped[1]++
		} else {
			p.dropped[0]++
		}
		return
	}
	k := uint32(m.TransactionID[0])<<16 | uint32(m.TransactionID[1])<<8 | uint32(m.TransactionID[2])
	i, ok := p.xids[k]
	if !ok {
		p.dropped[2]++
		return
	}
	c := p.clients[i]
	prev := c.State()
	p.handle(int(i), prev, c.Receive(now, m), now)
}

var (
	errShort = errors.New("population: datagram shorter than a DHCPv6 header")
	errRelay = errors.New("population: relay message")
)

func decode(b []byte) (m *dhcpv6.Message, err error) {
	if len(b) < dhcpv6.MessageHeaderSize {
		return nil, errShort
	}
	switch dhcpv6.MessageType(b[0]) {
	case dhcpv6.MessageTypeRelayForward, dhcpv6.MessageTypeRelayReply:
		return nil, errRelay
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("population: decoding panicked: %v", r)
		}
	}()
	return dhcpv6.MessageFromBytes(b)
}

// StopAll stops every client: those holding leases release them
// (RFC 9915 §18.2.7), the others stop at once. Clients that had not
// started yet never will.
func (p *Population) StopAll(now time.Time) {
	for i, c := range p.clients {
		p.begun[i] = true
		prev := c.State()
		p.handle(i, prev, c.Stop(now), now)
	}
}

// Outbox appends the datagrams waiting to be sent to dst and empties it.
func (p *Population) Outbox(dst []Outgoing) []Outgoing {
	dst = append(dst, p.outbox...)
	clear(p.outbox)
	p.outbox = p.outbox[:0]
	return dst
}

// CountSendError records a write that failed (for adapters).
func (p *Population) CountSendError() { p.sendErrors++ }

// handle takes what client i produced at now. A timer before now (a
// client answered a datagram while one of its timers was overdue) runs
// at now: a client's clock never goes back.
func (p *Population) handle(i int, prev client.State, out client.Output, now time.Time) {
	for _, d := range out.Send {
		p.outbox = append(p.outbox, Outgoing{Payload: d.Msg.ToBytes(), Dst: d.Dst, Client: i})
	}
	p.sent += uint64(len(out.Send))
	if p.cfg.Sink != nil {
		for _, e := range out.Events {
			p.cfg.Sink(e)
		}
	}
	t := out.Timer
	if !t.IsZero() && t.Before(now) {
		t = now
	}
	p.timers.set(i, t)
	if st := p.clients[i].State(); st != prev {
		if prev == client.Stopped {
			p.stopped--
		}
		if st == client.Stopped {
			p.stopped++
		}
	}
}

// Stats returns the population's counters, with the clients' drop
// reasons summed in and the number of clients in each state.
func (p *Population) Stats() Stats {
	s := Stats{
		Clients:    len(p.clients),
		Sent:       p.sent,
		Received:   p.recv,
		SendErrors: p.sendErrors,
		Dropped:    map[string]uint64{},
		States:     map[string]int{},
	}
	for j, name := range [3]string{DropMalformed, DropRelay, DropUnknownXID} {
		if p.dropped[j] != 0 {
			s.Dropped[name] = p.dropped[j]
		}
	}
	for _, c := range p.clients {
		c.Drops().AddTo(s.Dropped)
		s.States[c.State().String()]++
	}
	return s
}
