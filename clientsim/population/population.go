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
	Epoch       time.Time     // an instant of the clock the population will be given: its clients' timers count from it (client.Config.Epoch)
	Timescale   float64       // multiplies every RFC constant (see client.Config)
	RapidCommit bool
	// DAD, DADDelay and Jitter are each client's duplicate address
	// detection and T1/T2 jitter (client.Config). With DAD on, the
	// population answers the clients' probes: an address another client
	// holds, or one Occupy took, fails DAD.
	DAD, DADDelay time.Duration
	Jitter        float64
	// Deviations make every client behave as a real client kind where it
	// departs from RFC 9915 (client.Deviations; clientsim/profile fills
	// them from a profile). The zero value is RFC 9915.
	Deviations client.Deviations
	Sink       func(history.Event) // receives every client event, in order; may be nil; must not call the Population
	// Dst is where clients send; zero means transport.AllServersPort.
	// Ignored in relay mode.
	Dst netip.AddrPort
	// Relay, when set, puts the population behind its own relay agent
	// (see RelayConfig): the socket then talks to the servers, not to
	// the client link.
	Relay *RelayConfig

	// For Run: when its context ends, release every lease (StopAll) and
	// keep running until all clients have stopped or StopGrace (default
	// 20 s times Timescale) has passed. Without it Run returns at once.
	ReleaseOnStop bool
	StopGrace     time.Duration

	// SendFQDN has client i send history.HostName(i) ("h7") as a partial
	// name in a Client FQDN option (RFC 4704 §4.2) with S=1 in every
	// Solicit, Request, Renew and Rebind (client.Config.FQDN), for the
	// servers to register in their zone.
	SendFQDN bool

	// InMemory hands each datagram over as the message itself
	// (Outgoing.Msg), unencoded, for an in-memory link whose other end
	// reads messages (the virtual engine): Outgoing.Payload is then nil.
	// It applies without a Relay only; a relayed population encodes.
	InMemory bool

	// Direct: the link names the client each answer is for (DeliverTo,
	// DeliverMessageTo), as each host's own socket does, so there is no
	// table of transaction IDs: a client's ID is its own draw, never drawn
	// again because another client holds it. Without a Relay only (a
	// relay's Relay-reply names no client but by the ID).
	Direct bool
}

// Outgoing is one datagram to send: encoded in Payload, or, with
// Config.InMemory, the client's message in Msg (Payload nil). Msg belongs
// to the client that sent it and to the receiver: neither changes it, and
// it is read until the next call to Outbox, whose clients then build
// their messages in its storage (client.Scratch.Recycle); a receiver that
// keeps one longer keeps a CopyMessage of it.
type Outgoing struct {
	Payload []byte
	Msg     *dhcpv6.Message
	Dst     netip.AddrPort
	Client  int // index of the sending client
}

// Reasons the population drops a datagram before any client sees it.
const (
	DropMalformed     = "malformed"      // not a decodable DHCPv6 client/server message
	DropRelay         = "relay"          // a relay message: this population is not a relay
	DropUnknownXID    = "unknown-xid"    // no client holds the transaction ID
	DropNotRelayed    = "not-relayed"    // relay mode: anything but a Relay-reply
	DropRelayMismatch = "relay-mismatch" // relay mode: Interface-ID or peer-address not ours
)

// Indexes of Population.dropped, in dropNames order.
const (
	dropMalformed = iota
	dropRelay
	dropUnknownXID
	dropNotRelayed
	dropRelayMismatch
	dropKinds
)

var dropNames = [dropKinds]string{DropMalformed, DropRelay, DropUnknownXID, DropNotRelayed, DropRelayMismatch}

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
	timers  *timers
	scratch *client.Scratch // the clients' (called one at a time)
	names   *names          // the clients' DUIDs in hex (client.Config.Names)
	xids    *xidTable       // transaction ID -> client (empty when Direct)
	cur     []uint32        // per client: its claimed ID | 1<<24, 0 when none (nil when Direct)

	churn    *rand.Rand          // StopSome's choices
	occupied map[netip.Addr]bool // addresses another host uses (Occupy)
	declines []pendingDecline    // DAD off: leases granted on occupied addresses, to decline
	// holders maps an IA_NA address to the clients that were granted it
	// (DAD on only). An entry may be stale; InUse checks the client's
	// current leases and prunes.
	holders *holderIndex
	// held[i] is an address (its 16 bytes) holders lists client i under
	// (the last one added), so that a renewal of it skips the index;
	// pruning client i from that address's entry clears it.
	held [][16]byte

	started bool
	start   time.Time
	stopped int // clients in state Stopped

	outbox     []Outgoing
	lastSender int32 // the client that sent last, -1 before any
	sent, recv uint64
	sendErrors uint64
	dropped    [dropKinds]uint64
}

// New builds the clients; none starts before Start.
func New(cfg Config) (*Population, error) {
	if cfg.Count <= 0 {
		return nil, ErrCount
	}
	if cfg.Timescale <= 0 {
		cfg.Timescale = 1
	}
	if cfg.Relay != nil {
		if err := cfg.Relay.validate(); err != nil {
			return nil, err
		}
	}
	p := &Population{
		cfg:        cfg,
		clients:    make([]*client.Client, cfg.Count),
		timers:     newTimers(cfg.Count),
		scratch:    client.NewScratch(),
		names:      &names{seed: cfg.Seed, count: cfg.Count},
		lastSender: -1,
	}
	if cfg.Direct { // no transaction IDs to look up (the clients claim none)
		p.xids = newXIDTable(0)
	} else {
		p.xids, p.cur = newXIDTable(cfg.Count), make([]uint32, cfg.Count)
	}
	if cfg.DAD > 0 {
		p.holders = newHolderIndex(cfg.Count)
		p.held = make([][16]byte, cfg.Count)
	}
	p.churn = rand.New(rand.NewPCG(cfg.Seed, 0xc4a7e))
	for i := range p.clients {
		if err := p.build(i); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// build makes client i; its random source depends only on the seed and i,
// so a client added later is the one a larger Count would have made.
func (p *Population) build(i int) error {
	rs := splitmix64(p.cfg.Seed ^ 0x5eed5eed5eed5eed)
	cfg := client.Config{
		Index:       i,
		DUID:        DUID(p.cfg.Seed, i),
		IANA:        p.cfg.IANA,
		IAPD:        p.cfg.IAPD,
		RapidCommit: p.cfg.RapidCommit,
		Timescale:   p.cfg.Timescale,
		PCG:         rand.NewPCG(rs, uint64(i)), // the client keeps a copy
		Dst:         p.cfg.Dst,
		Scratch:     p.scratch,
		Names:       p.names,
		DAD:         p.cfg.DAD,
		DADDelay:    p.cfg.DADDelay,
		Jitter:      p.cfg.Jitter,
		Deviations:  p.cfg.Deviations,
		Epoch:       p.cfg.Epoch,
	}
	if p.cfg.SendFQDN {
		cfg.FQDN = history.HostName(i)
	}
	if !p.cfg.Direct {
		cfg.XIDs = p
	}
	if i > 0 {
		cfg.Peer = p.clients[0] // one copy of what every client has in common
	}
	if p.cfg.DAD > 0 {
		cfg.Prober = p
	}
	c, err := client.New(cfg)
	if err != nil {
		return fmt.Errorf("population: client %d: %w", i, err)
	}
	p.clients[i] = c
	return nil
}

// AddClients adds n clients (churn: a join wave) and schedules their
// starts spread evenly over [now, now+ramp). They take the next indexes;
// AddClients returns the first. It may be called before or after Start.
func (p *Population) AddClients(now time.Time, n int, ramp time.Duration) (first int, err error) {
	if n <= 0 {
		return len(p.clients), ErrCount
	}
	first = len(p.clients)
	p.clients = append(p.clients, make([]*client.Client, n)...)
	if p.cur != nil {
		p.cur = append(p.cur, make([]uint32, n)...)
	}
	if p.held != nil {
		p.held = append(p.held, make([][16]byte, n)...)
	}
	p.timers.grow(n)
	p.names.count = first + n // each chunk of names written once for the wave
	for i := first; i < first+n; i++ {
		if err := p.build(i); err != nil {
			p.clients = p.clients[:first]
			if p.cur != nil {
				p.cur = p.cur[:first]
			}
			if p.held != nil {
				p.held = p.held[:first]
			}
			p.timers.truncate(first)
			return first, err
		}
	}
	for k := range n {
		off := time.Duration(float64(ramp) * float64(k) / float64(n))
		p.timers.set(first+k, now.Add(off))
	}
	return first, nil
}

// StopSome stops n clients (churn: clients leaving the link) and returns
// their indexes. Those holding leases are chosen first, then the other
// running clients, then those not started yet; within each group the
// choice is drawn from the population's seeded source, so a run with the
// same seed and the same history picks the same clients. A chosen client
// releases its leases (RFC 9915 §18.2.7) and stops; one not started never
// starts. Fewer than n are stopped when fewer remain.
func (p *Population) StopSome(now time.Time, n int) []int {
	var holding, running, pending []int
	for i, c := range p.clients {
		switch st := c.State(); {
		case st == client.Stopped || st == client.Releasing:
		case st == client.Idle: // not started
			pending = append(pending, i)
		case st.HoldsLeases() && len(c.Leases()) > 0:
			holding = append(holding, i)
		default:
			running = append(running, i)
		}
	}
	var chosen []int
	for _, group := range [][]int{holding, running, pending} {
		for len(chosen) < n && len(group) > 0 {
			j := p.churn.IntN(len(group))
			chosen = append(chosen, group[j])
			group[j] = group[len(group)-1]
			group = group[:len(group)-1]
		}
	}
	for _, i := range chosen {
		c := p.clients[i]
		prev := c.State()
		p.handle(i, prev, c.Stop(now), now)
	}
	return chosen
}

// Decline tells client i that addr is in use by someone else on the link:
// the client declines it (RFC 9915 §18.2.8). It reports whether client i
// held addr.
func (p *Population) Decline(now time.Time, i int, addr netip.Addr) bool {
	if i < 0 || i >= len(p.clients) {
		return false
	}
	c := p.clients[i]
	held := false
	for _, l := range c.Leases() {
		if l.Prefix.Bits() == 128 && l.Prefix.Addr() == addr {
			held = true
		}
	}
	if !held {
		return false
	}
	prev := c.State()
	p.handle(i, prev, c.Decline(now, addr), now)
	return true
}

type pendingDecline struct {
	client int
	addr   netip.Addr
}

// Occupy records that a host outside the population uses addr on the
// link from now on. The client holding addr, if any, declines it now (the
// lab tells it, as an operator would). A client given it later finds it
// the way a real host does: with DAD on, its probe fails and it declines
// (RFC 4862 §5.4.3, RFC 9915 §18.2.8); with DAD off the lab declines it as
// soon as it is granted. It returns the number of clients that declined
// it now.
func (p *Population) Occupy(now time.Time, addr netip.Addr) int {
	if p.occupied == nil {
		p.occupied = map[netip.Addr]bool{}
	}
	p.occupied[addr] = true
	n := 0
	for i := p.Holder(addr); i >= 0; i = p.Holder(addr) {
		if !p.Decline(now, i, addr) {
			break
		}
		n++
	}
	return n
}

// Holder returns the index of a client holding addr as an IA_NA address
// (one its DAD did not find in use, on its interface), or -1.
func (p *Population) Holder(addr netip.Addr) int {
	if p.holders != nil {
		return p.holder(addr, -1)
	}
	for i, c := range p.clients {
		if !c.State().HoldsLeases() {
			continue
		}
		for _, l := range c.Leases() {
			if l.Prefix.Bits() == 128 && l.Prefix.Addr() == addr && !l.DADFailed && !l.Dropped {
				return i
			}
		}
	}
	return -1
}

// holder is a client other than not that holds addr now (DAD on: from
// the holders index, pruning stale entries), or -1.
func (p *Population) holder(addr netip.Addr, not int) int {
	key := addr.As16()
	hs := p.holders.get(key)
	found := -1
	k := 0
	for _, j := range hs {
		if !p.holds(int(j), addr) {
			if p.held[j] == key {
				p.held[j] = [16]byte{}
			}
			continue // released, expired, declined or renumbered away
		}
		hs[k] = j
		k++
		if int(j) != not && found < 0 {
			found = int(j)
		}
	}
	if k < len(hs) {
		clear(hs[k:])
		p.holders.set(key, hs[:k])
	}
	return found
}

// holds tells whether client i holds addr as an IA_NA address now, one
// its DAD did not find in use and on its interface: a client that kept
// such an address (client.Deviations.KeepDADFailed) or took it off its
// interface (Deviations.DropOnLinkChange) does not defend it (RFC 4862
// §5.4.3: only an address assigned to the interface answers a probe).
func (p *Population) holds(i int, addr netip.Addr) bool {
	l, ok := p.clients[i].LeaseOf(addr)
	return ok && !l.DADFailed && !l.Dropped
}

// InUse implements client.DADProber: client i's duplicate address
// detection probe for addr (RFC 4862 §5.4.2) fails when another client
// of the population holds addr, tentative or not, or when a host outside
// the population took it (Occupy; holder -1). Two probes of one tentative
// address make both nodes give it up (RFC 4862 §5.4.3); the lab lets the
// earlier holder keep it, so it counts one conflict, not two.
func (p *Population) InUse(i int, addr netip.Addr) (holder int, inUse bool) {
	if p.occupied[addr] {
		return -1, true
	}
	if j := p.holder(addr, i); j >= 0 {
		return j, true
	}
	return 0, false
}

// Flap tells every started client that the link goes down now and comes
// back up after down (a link flap; 0: at once): each does what it does at
// carrier loss (client.Client.LinkDown), and once the link is back
// confirms its addresses, rebinds its prefixes or asks for its
// configuration again (RFC 9915 §18.2.3, §18.2.12).
func (p *Population) Flap(now time.Time, down time.Duration) {
	for i, c := range p.clients {
		if c.State() == client.Idle { // not started
			continue
		}
		prev := c.State()
		p.handle(i, prev, c.LinkDown(now, now.Add(down)), now)
	}
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
	if owner, ok := p.xids.get(k); ok && int(owner) != c {
		return false
	}
	if old := p.cur[c]; old != 0 {
		if k0 := old &^ (1 << 24); k0 != k {
			p.xids.del(k0)
		}
	}
	p.xids.put(k, int32(c))
	p.cur[c] = k | 1<<24
	return true
}

// Start schedules the start of the Count clients New made, spread evenly
// over Ramp from now.
// Calling it again does nothing.
func (p *Population) Start(now time.Time) {
	if p.started {
		return
	}
	p.started, p.start = true, now
	n := p.cfg.Count // clients added later have their own start times
	for i := range n {
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
		if prev == client.Idle { // its start (Stop moves an idle client to Stopped)
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
	if p.cfg.Relay != nil {
		p.deliverRelayed(now, pkt)
		return
	}
	m, err := decode(pkt)
	if err != nil {
		if errors.Is(err, errRelay) {
			p.dropped[dropRelay]++
		} else {
			p.dropped[dropMalformed]++
		}
		return
	}
	p.deliver(now, m)
}

// DeliverMessage is Deliver for a message already decoded (an in-memory
// link: the virtual engine). m is read, never changed, and may share its
// options with the sender: the client keeps none of them to change later.
// In relay mode the population takes datagrams only (Deliver).
func (p *Population) DeliverMessage(now time.Time, m *dhcpv6.Message, src netip.AddrPort) {
	p.recv++
	if p.cfg.Relay != nil {
		p.dropped[dropNotRelayed]++
		return
	}
	p.deliver(now, m)
}

// deliver gives m to the client holding its transaction ID: most often
// the client that sent last (an in-memory link answers at once), which
// holds it exactly when its exchange has that ID (ClaimXID's table says
// the same then), without a look in the table.
func (p *Population) deliver(now time.Time, m *dhcpv6.Message) {
	k := uint32(m.TransactionID[0])<<16 | uint32(m.TransactionID[1])<<8 | uint32(m.TransactionID[2])
	i, ok := p.lastSender, false
	if i >= 0 && int(i) < len(p.clients) && p.clients[i].XID() == m.TransactionID {
		ok = true
	} else if i, ok = p.xids.get(k); !ok {
		p.dropped[dropUnknownXID]++
		return
	}
	p.receive(now, int(i), m)
}

// DeliverTo is Deliver for a datagram the link says is for client i
// (Config.Direct).
func (p *Population) DeliverTo(now time.Time, i int, pkt []byte) {
	p.recv++
	m, err := decode(pkt)
	if err != nil {
		p.dropped[dropMalformed]++
		return
	}
	p.receive(now, i, m)
}

// DeliverMessageTo is DeliverMessage for a message the link says is for
// client i (Config.Direct).
func (p *Population) DeliverMessageTo(now time.Time, i int, m *dhcpv6.Message) {
	p.recv++
	p.receive(now, i, m)
}

// receive gives m to client i.
func (p *Population) receive(now time.Time, i int, m *dhcpv6.Message) {
	c := p.clients[i]
	prev := c.State()
	p.handle(i, prev, c.Receive(now, m), now)
}

// CoastRenew has client i play the retransmissions of its running Renew
// before until without messages (client.Client.CoastRenew: nobody will
// answer them) and counts each as a datagram sent; its timer moves to
// what comes after them. It appends the instants to at.
func (p *Population) CoastRenew(i int, until time.Time, at []time.Time) []time.Time {
	n := len(at)
	c := p.clients[i]
	if at = c.CoastRenew(until, at); len(at) > n {
		p.sent += uint64(len(at) - n)
		p.timers.set(i, c.NextTimer())
	}
	return at
}

// Coast has client i play its steady renewals before until without
// messages (client.Client.Coast, with g the server's answer) and counts
// each as a datagram sent and one received; its timer moves to what comes
// after them. It appends the instants of the renewals to at. A client on
// an address another host occupies is left alone: its renewals decline.
func (p *Population) Coast(i int, until time.Time, g client.Grant, at []time.Time) []time.Time {
	if len(p.occupied) > 0 {
		return at
	}
	n := len(at)
	c := p.clients[i]
	if at = c.Coast(until, g, at); len(at) > n {
		k := uint64(len(at) - n)
		p.sent += k
		p.recv += k
		p.timers.set(i, c.NextTimer())
	}
	return at
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
		prev := c.State()
		p.handle(i, prev, c.Stop(now), now)
	}
}

// Outbox appends the datagrams waiting to be sent to dst and empties it.
// The messages of the datagrams the previous call returned (Outgoing.Msg)
// are not read any more: the clients build their next messages in them.
func (p *Population) Outbox(dst []Outgoing) []Outgoing {
	dst = append(dst, p.outbox...)
	clear(p.outbox)
	p.outbox = p.outbox[:0]
	p.scratch.Recycle()
	return dst
}

// CopyMessage is a copy of m that outlives the next calls to Outbox
// (client.CopyMessage: the message, its list of options and its IA_NA
// options, whose storage the clients' scratch uses again).
func CopyMessage(m *dhcpv6.Message) *dhcpv6.Message { return client.CopyMessage(m) }

// CountSendError records a write that failed (for adapters).
func (p *Population) CountSendError() { p.sendErrors++ }

// handle takes what client i produced at now. A timer before now (a
// client answered a datagram while one of its timers was overdue) runs
// at now: a client's clock never goes back.
func (p *Population) handle(i int, prev client.State, out client.Output, now time.Time) {
	for _, d := range out.Send {
		if p.cfg.Relay != nil {
			p.relayForward(i, d.Msg)
			p.sent += uint64(len(p.cfg.Relay.Servers))
			continue
		}
		p.lastSender = int32(i)
		if p.cfg.InMemory {
			p.outbox = append(p.outbox, Outgoing{Msg: d.Msg, Dst: d.Dst, Client: i})
		} else {
			p.outbox = append(p.outbox, Outgoing{Payload: d.Msg.ToBytes(), Dst: d.Dst, Client: i})
		}
		p.sent++
	}
	if p.cfg.Sink != nil {
		for _, e := range out.Events {
			p.cfg.Sink(e)
		}
	}
	if p.holders != nil {
		for _, e := range out.Events {
			switch e.Kind {
			case history.Bound, history.Renewed, history.Rebound, history.Renumbered, history.Restored:
				if e.Lease.Bits() == 128 {
					p.addHolder(e.Lease.Addr(), i)
				}
			}
		}
	}
	if len(p.occupied) > 0 && p.holders == nil {
		for _, e := range out.Events {
			switch e.Kind {
			case history.Bound, history.Renewed, history.Rebound, history.Renumbered, history.Restored:
				if e.Lease.Bits() == 128 && p.occupied[e.Lease.Addr()] {
					p.declines = append(p.declines, pendingDecline{i, e.Lease.Addr()})
				}
			}
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
	// A lease on an occupied address fails duplicate address detection:
	// decline it (its Declined event ends it; no recursion comes back here
	// with a grant).
	for len(p.declines) > 0 {
		d := p.declines[0]
		p.declines = p.declines[1:]
		p.Decline(now, d.client, d.addr)
	}
}

func (p *Population) addHolder(addr netip.Addr, i int) {
	key := addr.As16()
	if p.held[i] == key {
		return // listed already
	}
	p.held[i] = key
	hs := p.holders.get(key)
	for _, j := range hs {
		if int(j) == i {
			return
		}
	}
	p.holders.set(key, append(hs, int32(i)))
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
	for j, name := range dropNames {
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
