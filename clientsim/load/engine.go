package load

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"d6lab/wire"
)

// Follow-up flags, in the order they run after a completed main exchange.
const (
	fRenew uint8 = 1 << iota
	fRebind
	fRelease
)

// slot is one exchange in flight. Its index is the low bits of every
// transaction ID it sends; gen, the high bits, changes with every message
// so a late answer to an earlier step matches nothing.
type slot struct {
	busy      bool
	main      bool  // still in the main exchange (Solicit/Request step)
	gen       uint8 // transaction-ID generation
	k         kind  // the step awaiting an answer
	follow    uint8 // follow-ups still to run
	client    uint32
	mainStart int64 // ns since the run's start
	sentAt    int64 // ns since the run's start, of the step's message
	lease     grant
}

// counters are the engine's counts, guarded by engine.mu.
type counters struct {
	started, completed, dropped, failed, abandoned uint64
	malformed, unexpected, skipped, sendErrors     uint64
	kind                                           [nKinds]KindStats
}

// engine is the generator's state: the slot table, counters and
// histograms. The sender and receiver goroutines share it under mu; the
// receiver alone owns sids and rng.
type engine struct {
	cfg      Config
	t        *templates
	timeout  int64 // ns
	slotBits uint
	mask     uint32
	genMask  uint8
	na, pd   bool // the IAs asked for (IA_NA when neither is set)

	mu         sync.Mutex
	slots      []slot
	head, tail uint64 // exchanges started; oldest possibly in flight
	c          counters
	main       *hdrhistogram.Histogram
	hist       [nKinds]*hdrhistogram.Histogram
	lastDone   int64 // ns since start of the last completion

	sids [][]byte // interned Server Identifier options (receiver only)
	rng  *rand.Rand
	// Follow-up thresholds on a uniform uint32 draw.
	pRenew, pRebind, pRelease uint64
}

const maxSlotBits = 20

// steps is the most messages one exchange sends.
func steps(cfg *Config) int {
	n := 1
	if cfg.Exchange == FourMessage || cfg.Exchange == RapidCommit {
		n = 2 // a Rapid Commit Solicit may be answered by an Advertise
		for _, f := range []float64{cfg.Renew, cfg.Rebind, cfg.Release} {
			if f > 0 {
				n++
			}
		}
	}
	return n
}

// slotCount sizes the table: every exchange started within the longest
// an exchange can stay in flight (steps × Timeout plus a sweep period)
// needs a slot, with headroom.
func slotCount(cfg *Config) int {
	want := cfg.Slots
	if want <= 0 {
		life := float64(steps(cfg))*cfg.Timeout.Seconds()*1.25 + 0.25
		want = int(math.Min(cfg.Rate*life*1.5, 1<<maxSlotBits))
		if want < 1024 {
			want = 1024
		}
	}
	if want < 16 {
		want = 16
	}
	if want > 1<<maxSlotBits {
		want = 1 << maxSlotBits
	}
	return 1 << bits.Len(uint(want-1))
}

func newEngine(cfg Config) (*engine, error) {
	t, err := newTemplates(&cfg)
	if err != nil {
		return nil, err
	}
	n := slotCount(&cfg)
	e := &engine{
		cfg:      cfg,
		t:        t,
		timeout:  int64(cfg.Timeout),
		slotBits: uint(bits.TrailingZeros(uint(n))),
		mask:     uint32(n - 1),
		slots:    make([]slot, n),
		main:     NewHistogram(),
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x666f6c6c6f77)),
		pRenew:   threshold(cfg.Renew),
		pRebind:  threshold(cfg.Rebind),
		pRelease: threshold(cfg.Release),
		na:       cfg.NA || !cfg.PD,
		pd:       cfg.PD,
	}
	e.genMask = uint8(1<<(24-e.slotBits) - 1)
	for k := range e.hist {
		e.hist[k] = NewHistogram()
	}
	return e, nil
}

func threshold(f float64) uint64 {
	if f <= 0 {
		return 0
	}
	if f >= 1 {
		return 1 << 32
	}
	return uint64(f * (1 << 32))
}

func (e *engine) xid(i uint32) uint32 {
	return uint32(e.slots[i].gen)<<e.slotBits | i
}

// start begins the next exchange at now, writing its Solicit into buf.
// It returns the message length, or 0 when every slot is busy (counted as
// skipped). Called with mu held.
func (e *engine) start(now int64, buf []byte) int {
	i := uint32(e.head) & e.mask
	s := &e.slots[i]
	if s.busy {
		e.c.skipped++
		return 0
	}
	client := uint32(0)
	if e.cfg.Clients > 0 {
		client = uint32(e.head % uint64(e.cfg.Clients))
	}
	e.head++
	e.c.started++
	e.c.kind[kSolicit].Sent++
	*s = slot{busy: true, main: true, gen: (s.gen + 1) & e.genMask, k: kSolicit, client: client, mainStart: now, sentAt: now}
	return e.t.encode(buf, kSolicit, e.xid(i), client, nil, nil, e.cfg.Relay)
}

// sweep counts the steps unanswered after Timeout as drops and frees
// their slots. Called with mu held.
func (e *engine) sweep(now int64) {
	for q := e.tail; q < e.head; q++ {
		s := &e.slots[uint32(q)&e.mask]
		if s.busy && now-s.sentAt >= e.timeout {
			e.c.kind[s.k].Dropped++
			if s.main {
				e.c.dropped++
			}
			s.busy = false
		}
	}
	e.advance()
}

func (e *engine) advance() {
	for e.tail < e.head && !e.slots[uint32(e.tail)&e.mask].busy {
		e.tail++
	}
}

// abandon frees every slot still in flight (ctx cancelled). Called with mu held.
func (e *engine) abandon() {
	for q := e.tail; q < e.head; q++ {
		s := &e.slots[uint32(q)&e.mask]
		if s.busy {
			if s.main {
				e.c.abandoned++
			}
			s.busy = false
		}
	}
	e.advance()
}

// inFlight reports whether any exchange awaits an answer. Called with mu held.
func (e *engine) inFlight() bool {
	e.advance()
	return e.tail < e.head
}

// intern returns the index of the Server Identifier option carrying
// duid, adding it when new (the only allocation, once per server). ok is
// false when more than 255 servers answered.
func (e *engine) intern(duid []byte) (uint8, bool) {
	for i, s := range e.sids {
		if bytes.Equal(s[4:], duid) {
			return uint8(i), true
		}
	}
	if len(e.sids) >= 255 || 4+len(duid) > maxServerID {
		return 0, false
	}
	opt := make([]byte, 4, 4+len(duid))
	binary.BigEndian.PutUint16(opt, wire.OptServerID)
	binary.BigEndian.PutUint16(opt[2:], uint16(len(duid)))
	e.sids = append(e.sids, append(opt, duid...))
	return uint8(len(e.sids) - 1), true
}

// refused reports whether a Status Code option says anything but Success
// (RFC 9915 §21.13: 0 is Success).
func refused(s *wire.Status) bool { return s.Present && s.Code != 0 }

// leased returns the first lease of the first IA in ias when the IA
// grants it: no refusing Status Code on the IA or on the lease, and a
// valid-lifetime above 0 (RFC 9915 §18.2.10: an IA without a usable
// address or prefix is a refusal); nil otherwise.
func leased(ias []wire.IA) *wire.Lease {
	if len(ias) == 0 || refused(&ias[0].Status) || len(ias[0].Leases) == 0 {
		return nil
	}
	l := &ias[0].Leases[0]
	if refused(&l.Status) || l.Valid == 0 {
		return nil
	}
	return l
}

// onReply handles one datagram received at now, decoded into m (the
// receiver's, reused). When the exchange goes on, it writes the next
// message into out and returns its length. Called with mu held; it does
// not allocate, beyond interning a new server's identifier and the error
// value wire returns for a malformed datagram (TestRejectAllocs).
func (e *engine) onReply(b []byte, now int64, m *wire.Message, out []byte) int {
	if err := m.Decode(b); err != nil {
		if errors.Is(err, wire.ErrNotFastPath) {
			// Well formed as far as wire can tell, and no Advertise or
			// Reply it reads: another message type, or a shape left to
			// insomniacslk/dhcp (wire's doc).
			e.c.unexpected++
		} else {
			e.c.malformed++
		}
		return 0
	}
	if m.Type != wire.Advertise && m.Type != wire.Reply {
		e.c.unexpected++
		return 0
	}
	i := m.TransactionID & e.mask
	s := &e.slots[i]
	if !s.busy || uint8(m.TransactionID>>e.slotBits) != s.gen {
		e.c.unexpected++
		return 0
	}
	k := s.k
	// Which answer each step expects (RFC 9915 §18.2.1: a Rapid Commit
	// Solicit may still be answered with an Advertise).
	switch {
	case k == kSolicit && m.Type == wire.Advertise:
	case k == kSolicit && m.Type == wire.Reply && m.RapidCommit && e.cfg.Exchange == RapidCommit:
	case k != kSolicit && m.Type == wire.Reply:
	default:
		e.c.unexpected++
		return 0
	}
	e.c.kind[k].Completed++
	e.hist[k].RecordValue(elapsedMicros(time.Duration(now - s.sentAt)))
	// RFC 9915 §18.2.1, §18.2.10: a Status Code other than Success, or an
	// IA asked for without a usable address or prefix, is a refusal.
	var na, pd *wire.Lease
	ok := !refused(&m.Status)
	if ok && k != kRelease {
		if e.na {
			na = leased(m.IANA)
			ok = na != nil
		}
		if e.pd && ok {
			pd = leased(m.IAPD)
			ok = pd != nil
		}
	}
	if !ok {
		e.c.kind[k].Failed++
		if s.main {
			e.c.failed++
		}
		s.busy = false
		return 0
	}
	if k != kRelease {
		// Keep what was granted, and who granted it, to echo in later
		// messages (after a Rebind, the server that answered: §18.2.10.1).
		if m.ServerID != nil {
			idx, ok := e.intern(m.ServerID)
			if !ok {
				e.c.unexpected++
				s.busy = false
				return 0
			}
			s.lease.sid = idx
		}
		if na != nil {
			s.lease.naAddr = na.Addr
		}
		if pd != nil {
			s.lease.pdPfx, s.lease.pdLen = pd.Addr, pd.Bits
		}
	}
	var next kind
	switch {
	case k == kSolicit && m.Type == wire.Advertise && e.cfg.Exchange != SolicitAdvertise:
		next = kRequest
	case s.main:
		// The main exchange is complete.
		s.main = false
		e.c.completed++
		e.lastDone = now
		e.main.RecordValue(elapsedMicros(time.Duration(now - s.mainStart)))
		if e.cfg.Exchange == SolicitAdvertise {
			s.busy = false
			return 0
		}
		s.follow = 0
		if e.pRenew > 0 && uint64(e.rng.Uint32()) < e.pRenew {
			s.follow |= fRenew
		}
		if e.pRebind > 0 && uint64(e.rng.Uint32()) < e.pRebind {
			s.follow |= fRebind
		}
		if e.pRelease > 0 && uint64(e.rng.Uint32()) < e.pRelease {
			s.follow |= fRelease
		}
		next = e.nextFollow(s)
	default:
		next = e.nextFollow(s)
	}
	if next == nKinds {
		s.busy = false
		return 0
	}
	s.k = next
	s.gen = (s.gen + 1) & e.genMask
	s.sentAt = now
	e.c.kind[next].Sent++
	var sid []byte
	if int(s.lease.sid) < len(e.sids) {
		sid = e.sids[s.lease.sid]
	}
	return e.t.encode(out, next, e.xid(i), s.client, &s.lease, sid, e.cfg.Relay)
}

// nextFollow pops the next follow-up, or returns nKinds when none is left.
func (e *engine) nextFollow(s *slot) kind {
	switch {
	case s.follow&fRenew != 0:
		s.follow &^= fRenew
		return kRenew
	case s.follow&fRebind != 0:
		s.follow &^= fRebind
		return kRebind
	case s.follow&fRelease != 0:
		s.follow &^= fRelease
		return kRelease
	}
	return nKinds
}
