package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/deploy"
	"d6lab/server/alloc"
	"d6lab/server/ddns"
	"d6lab/server/lease"
	"d6lab/wire"
)

// HopCountLimit is HOP_COUNT_LIMIT (RFC 9915 §7.6). A relay discards a
// Relay-forward whose hop-count is already at the limit (§19.1.2), so the
// outermost Relay-forward a server can receive has hop-count 8 and wraps
// nine levels; the server accepts no more than that.
const HopCountLimit = 8

// Server is the builtin DHCPv6 server core: it turns a received message
// (and the time) into an answer or a counted drop, and keeps the bindings
// in a lease.Store. It never reads the clock or a socket.
//
// Handle, HandleMessage and Serve must be called from one goroutine at a
// time. Counters may be called from any goroutine at any time.
type Server struct {
	cfg   Config
	duid  []byte
	sid   dhcpv6.Option // this server's Server Identifier option, shared by every answer
	store lease.Store

	na, pd space

	declined map[netip.Prefix]time.Time // held declined addresses, until when
	declineQ []held                     // the same, in expiry order (one hold time: FIFO)

	pending []netip.Prefix // leases offered (not bound) in the exchange at hand

	// The exchange at hand and the storage it reuses, so that a hot-path
	// message allocates nothing (exchange.go, answer.go).
	x           exchange
	wm, out     wire.Message   // the datagram as wire decoded it; the answer to encode
	relayBuf    []relay        // x.relays
	iaBuf       []iaIn         // x.ias
	leaseBuf    []netip.Prefix // their leases
	outBuf      []iaOut        // x.reply.ias
	outLeases   [][]leaseOut   // their leases, one slice per IA of the answer
	wireLeases  []wire.Lease   // the answer's leases as wire encodes them
	infoRefresh [4]byte        // Config.InfoRefresh as the option's value

	expireFn func(lease.Binding)
	stages   []stage
	ctr      counters

	dns dnsState // Client FQDN and DNS changes, when cfg.DNS is set (fqdn.go)

	vals values // the values path's reused storage (values.go)
}

type held struct {
	lease netip.Prefix
	until time.Time
}

// space is one kind of lease (addresses or delegated prefixes) with its
// pool and allocator.
type space struct {
	typ      lease.IAType
	alloc    alloc.Allocator
	index    func(netip.Prefix) (uint64, bool) // lease -> pool index
	at       func(uint64) netip.Prefix         // pool index -> lease
	reserved func(uint64) bool
	onLink   func(netip.Prefix) bool // "appropriate to the link" (RFC 9915 §4.2)
	none     statusCode              // NoAddrsAvail or NoPrefixAvail
}

// New returns a server for cfg keeping its bindings in store (a new
// lease.Memory if nil). Bindings already in store are honoured.
func New(cfg Config, store lease.Store) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		store = lease.NewMemory()
	}
	if !cfg.Prefix.IsValid() {
		cfg.Prefix = netip.PrefixFrom(cfg.Pool.First(), 64).Masked()
	}
	if cfg.Allocator == "" {
		cfg.Allocator = deploy.AllocHash
	}
	if cfg.DeclineHold == 0 {
		cfg.DeclineHold = cfg.Valid
	}
	if cfg.DNS != nil {
		if err := ddns.Validate(*cfg.DNS); err != nil {
			return nil, &ConfigError{Field: "DNS", Msg: err.Error()}
		}
		d := *cfg.DNS // the server's own copy, its zone in lower case
		d.Zone = strings.ToLower(d.Zone)
		cfg.DNS = &d
	}
	s := &Server{cfg: cfg, store: store, declined: make(map[netip.Prefix]time.Time)}
	s.duid = append([]byte(nil), cfg.DUID...)
	if len(s.duid) == 0 {
		d, err := DeriveDUID(cfg.Name, cfg.DUIDType)
		if err != nil {
			return nil, &ConfigError{Field: "DUIDType", Msg: err.Error()}
		}
		s.duid = d
	}
	duid, err := dhcpv6.DUIDFromBytes(s.duid)
	if err != nil {
		return nil, &ConfigError{Field: "DUID", Msg: err.Error()}
	}
	s.sid = dhcpv6.OptServerID(duid)
	binary.BigEndian.PutUint32(s.infoRefresh[:], seconds(cfg.InfoRefresh))
	s.cfg.DUID = s.duid

	strategy := cfg.Allocator
	pool := cfg.Pool
	s.na = space{
		typ:      lease.NA,
		index:    func(p netip.Prefix) (uint64, bool) { return poolIndex(pool, p) },
		at:       func(i uint64) netip.Prefix { return netip.PrefixFrom(pool.Addr(i), 128) },
		reserved: pool.Reserved,
		onLink: func(p netip.Prefix) bool {
			return p.Bits() == 128 && (cfg.Prefix.Contains(p.Addr()) || pool.Contains(p.Addr()))
		},
		none: statusNoAddrsAvail,
	}
	if s.na.alloc, err = alloc.New(strategy, pool, cfg.Seed, s.takenFunc(&s.na)); err != nil {
		return nil, &ConfigError{Field: "Allocator", Msg: err.Error()}
	}
	pd := cfg.PDPool
	s.pd = space{
		typ:      lease.PD,
		index:    pd.Index,
		at:       pd.Prefix,
		reserved: pd.Reserved,
		onLink: func(p netip.Prefix) bool {
			// Without a PD pool the server has no explicit information
			// about delegated prefixes (§18.3.5) and calls none wrong.
			return pd.IsZero() || pd.Contains(p)
		},
		none: statusNoPrefixAvail,
	}
	if s.pd.alloc, err = alloc.New(strategy, pd, cfg.Seed^0x7064, s.takenFunc(&s.pd)); err != nil {
		return nil, &ConfigError{Field: "Allocator", Msg: err.Error()}
	}
	s.expireFn = s.expired
	s.stages = []stage{(*Server).sweep, (*Server).checkType, (*Server).checkIDs, (*Server).checkUnicast, (*Server).answer}
	return s, nil
}

func poolIndex(p alloc.Pool, l netip.Prefix) (uint64, bool) {
	if l.Bits() != 128 {
		return 0, false
	}
	return p.Index(l.Addr())
}

// takenFunc reports whether a pool index is bound in the store or held
// after a Decline. The store is the source of truth.
func (s *Server) takenFunc(sp *space) func(uint64) bool {
	return func(i uint64) bool {
		p := sp.at(i)
		if _, ok := s.store.GetByLease(p); ok {
			return true
		}
		_, ok := s.declined[p]
		return ok || s.isPending(p)
	}
}

// Config returns the server's config with defaults filled (Prefix, DUID,
// Allocator, DeclineHold).
func (s *Server) Config() Config {
	c := s.cfg
	c.DUID = s.DUID()
	return c
}

// DUID returns the server's raw DUID.
func (s *Server) DUID() []byte { return append([]byte(nil), s.duid...) }

// Store returns the server's lease store.
func (s *Server) Store() lease.Store { return s.store }

// Counters returns a snapshot of the message counters. It is safe to call
// from any goroutine; while a message is being handled Received may run
// one ahead of Answered plus Dropped.
func (s *Server) Counters() Counters { return s.ctr.snapshot() }

// answerCap is the initial capacity of the buffer Handle encodes an answer
// into: a Reply with one IA_NA and one IA_PD fits.
const answerCap = 256

// Handle runs the whole pipeline on one datagram: decode, validate,
// answer. src is the datagram's source and multicast whether it was sent
// to a multicast group. ok is false when the message is dropped (the
// counters say why). dst is where the answer goes (ReplyAddr).
func (s *Server) Handle(now time.Time, pkt []byte, src netip.AddrPort, multicast bool) (reply []byte, dst netip.AddrPort, ok bool) {
	reply, dst, ok = s.AppendAnswer(make([]byte, 0, answerCap), now, pkt, src, multicast)
	if !ok {
		reply = nil
	}
	return reply, dst, ok
}

// AppendAnswer is Handle appending the answer to b: the answer is
// out[len(b):], and nothing is allocated for a hot-path message (Solicit,
// Request, Renew, Rebind, Release, bare or relayed, decoded by wire) when
// b has room, the store is a lease.Memory and the client's binding
// exists. When the message is dropped, out is b.
func (s *Server) AppendAnswer(b []byte, now time.Time, pkt []byte, src netip.AddrPort, multicast bool) (out []byte, dst netip.AddrPort, ok bool) {
	s.ctr.received.Add(1)
	var err error
	defer func() {
		if r := recover(); r != nil { // a decoder or encoder bug: drop, never crash
			s.ctr.dropped[DropPanic].Add(1)
			out, dst, ok = b, netip.AddrPort{}, false
		}
	}()
	x := s.start(now, multicast)
	var reason DropReason
	switch err = s.wm.Decode(pkt); {
	case err == nil:
		reason, ok = s.fromWire(x, &s.wm)
	case errors.Is(err, wire.ErrNotFastPath):
		msg, err := dhcpv6.FromBytes(pkt)
		if err != nil {
			reason = DropMalformed
			break
		}
		reason, ok = s.fromMessage(x, msg)
	default:
		reason = DropMalformed
	}
	if !ok {
		s.ctr.dropped[reason].Add(1)
		return b, netip.AddrPort{}, false
	}
	if !s.run(x) {
		return b, netip.AddrPort{}, false
	}
	if x.reply.lq != nil {
		out = append(b, s.message(x).ToBytes()...)
	} else if out, err = s.appendAnswer(b, x); err != nil {
		s.ctr.dropped[DropPanic].Add(1) // an answer too long to encode: a bug
		return b, netip.AddrPort{}, false
	}
	s.ctr.answered.Add(1)
	relayed := len(x.relays) > 0
	port := replyPort(src.Port(), relayed, relayed && x.relays[0].port, x.typ == dhcpv6.MessageTypeLeaseQuery)
	return out, netip.AddrPortFrom(src.Addr(), port), true
}

// ReplyAddr is where the answer to req, received from src, goes: back to
// the source address (RFC 9915 §18.3.10), on the port replyPort gives.
func ReplyAddr(src netip.AddrPort, req dhcpv6.DHCPv6) netip.AddrPort {
	var relayed, relayPort, leasequery bool
	switch r := req.(type) {
	case *dhcpv6.RelayMessage:
		if r != nil {
			relayed, relayPort = true, r.GetOneOption(dhcpv6.OptionRelayPort) != nil
		}
	case *dhcpv6.Message:
		leasequery = r != nil && r.MessageType == dhcpv6.MessageTypeLeaseQuery
	}
	return netip.AddrPortFrom(src.Addr(), replyPort(src.Port(), relayed, relayPort, leasequery))
}

// HandleMessage is Handle without the encoding, for the virtual engine and
// tests: it takes a decoded message (a client message or a Relay-forward)
// and returns the answer (a client message or a Relay-reply). The answer
// shares option values with msg and with the server: treat it as read-only.
func (s *Server) HandleMessage(now time.Time, msg dhcpv6.DHCPv6, multicast bool) (out dhcpv6.DHCPv6, ok bool) {
	s.ctr.received.Add(1)
	defer func() {
		if r := recover(); r != nil { // never let one message take the server down
			s.ctr.dropped[DropPanic].Add(1)
			out, ok = nil, false
		}
	}()
	x := s.start(now, multicast)
	if reason, ok := s.fromMessage(x, msg); !ok {
		s.ctr.dropped[reason].Add(1)
		return nil, false
	}
	if !s.run(x) {
		return nil, false
	}
	out = s.message(x)
	s.ctr.answered.Add(1)
	return out, true
}

// verdict is what a pipeline stage decides.
type verdict uint8

// The pipeline contract (after coredhcp's handler chain). Stages run in
// order on an exchange:
//
//   - next: the stage has done its part (it may have filled in state on
//     the exchange); the following stage runs.
//   - answer: stop; x.reply is the answer and later stages do not run.
//   - drop: stop; nothing is sent and x.drop names the reason, which is
//     counted.
//
// A stage that stops must set x.reply (answer) or x.drop (drop). A stage
// must not keep x after it returns. The last stage always stops.
const (
	next verdict = iota
	answer
	drop
)

type stage func(s *Server, x *exchange) verdict

// start resets the server's exchange for a new message.
func (s *Server) start(now time.Time, multicast bool) *exchange {
	s.x = exchange{now: now, multicast: multicast}
	s.pending = s.pending[:0]
	return &s.x
}

// run runs the stages on x and reports whether it is answered; a drop is
// counted.
func (s *Server) run(x *exchange) bool {
	v := next
	for _, st := range s.stages {
		if v = st(s, x); v != next {
			break
		}
	}
	s.flushDNS() // the store changed even if the answer is dropped
	switch {
	case v == drop:
		s.ctr.dropped[x.drop].Add(1)
		return false
	case v != answer || x.reply.typ == 0: // a stage broke the contract: a bug
		s.ctr.dropped[DropPanic].Add(1)
		return false
	}
	return true
}

// sweep reclaims expired bindings and lapsed Decline holds, lazily, with
// the time of the message at hand. A LEASEQUERY skips it: answering one
// must not write the store (its answer then leaves Serve at once, without
// waiting for a Sync), and leasequery reads past expired bindings itself.
func (s *Server) sweep(x *exchange) verdict {
	if x.typ == dhcpv6.MessageTypeLeaseQuery {
		return next
	}
	for len(s.declineQ) > 0 && !x.now.Before(s.declineQ[0].until) {
		h := s.declineQ[0]
		s.declineQ = s.declineQ[1:]
		if until, ok := s.declined[h.lease]; ok && until.Equal(h.until) {
			delete(s.declined, h.lease)
			s.free(&s.na, h.lease)
		}
	}
	if len(s.declineQ) == 0 {
		s.declineQ = nil // let the backing array go
	}
	if _, err := s.store.Expire(x.now, s.expireFn); err != nil {
		x.drop = DropStoreError
		return drop
	}
	return next
}

func (s *Server) expired(b lease.Binding) {
	s.dnsRemove(b)
	if b.Type == lease.PD {
		s.free(&s.pd, b.Lease)
	} else {
		s.free(&s.na, b.Lease)
	}
}

// free tells sp's allocator that lease l is free again.
func (s *Server) free(sp *space, l netip.Prefix) {
	if i, ok := sp.index(l); ok {
		sp.alloc.Free(i)
	}
}

// checkType discards what a server must not answer (RFC 9915 §16).
func (s *Server) checkType(x *exchange) verdict {
	switch x.typ {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeConfirm,
		dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeRelease,
		dhcpv6.MessageTypeDecline, dhcpv6.MessageTypeInformationRequest,
		dhcpv6.MessageTypeLeaseQuery: // RFC 5007 §4.1.1
		return next
	case dhcpv6.MessageTypeAdvertise, dhcpv6.MessageTypeReply, dhcpv6.MessageTypeReconfigure,
		dhcpv6.MessageTypeRelayForward, dhcpv6.MessageTypeRelayReply,
		dhcpv6.MessageTypeLeaseQueryReply:
		// §16.3, §16.10, §16.11, §16.14: servers MUST discard these. (A
		// Relay-forward type inside a plain message cannot be unwrapped.)
		// RFC 5007 §4.2.2: servers MUST discard a LEASEQUERY-REPLY.
		x.drop = DropNotForServer
	default:
		x.drop = DropUnknownType // §16: MUST discard unknown message types
	}
	return drop
}

// checkIDs applies RFC 9915 §16's Client and Server Identifier rules.
func (s *Server) checkIDs(x *exchange) verdict {
	sid := x.sid
	ours := sid != nil && string(sid) == string(s.duid)
	switch x.typ {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeConfirm, dhcpv6.MessageTypeRebind:
		// §16.2, §16.5, §16.7: MUST discard without a Client Identifier
		// or with a Server Identifier.
		if x.duid == nil {
			x.drop = DropNoClientID
			return drop
		}
		if sid != nil {
			x.drop = DropServerID
			return drop
		}
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeDecline, dhcpv6.MessageTypeRelease:
		// §16.4, §16.6, §16.8, §16.9: MUST discard without a Server
		// Identifier, with another server's, or without a Client
		// Identifier.
		switch {
		case sid == nil:
			x.drop = DropNoServerID
		case !ours:
			x.drop = DropOtherServer
		case x.duid == nil:
			x.drop = DropNoClientID
		default:
			return next
		}
		return drop
	case dhcpv6.MessageTypeLeaseQuery:
		return s.checkLeasequery(x) // RFC 5007 §4.2.1
	case dhcpv6.MessageTypeInformationRequest:
		// §16.12: MUST discard with another server's Server Identifier or
		// with an IA option.
		if sid != nil && !ours {
			x.drop = DropOtherServer
			return drop
		}
		if x.hasIA {
			x.drop = DropIAInInformationRequest
			return drop
		}
	}
	return next
}

// checkUnicast applies the UnicastPolicy to client messages that reached
// the server directly by unicast. Relayed messages are exempt: relays
// unicast to servers by design (§19). So is a LEASEQUERY: it is not a
// client message but a requestor's (a relay agent or an access
// concentrator), unicast to the server (RFC 5007 §4.3, requestor
// behaviour).
func (s *Server) checkUnicast(x *exchange) verdict {
	if x.multicast || len(x.relays) > 0 || s.cfg.Unicast == UnicastAccept ||
		x.typ == dhcpv6.MessageTypeLeaseQuery {
		return next
	}
	if s.cfg.Unicast == UnicastUseMulticast {
		switch x.typ {
		case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline:
			// RFC 8415 §18.4 (obsoleted by RFC 9915): Reply with only
			// Server ID, Client ID and status UseMulticast.
			s.begin(x, dhcpv6.MessageTypeReply)
			x.reply.setStatus(statusUseMulticast, nil)
			return answer
		}
	}
	x.drop = DropUnicast // RFC 9915 §16: servers SHOULD NOT accept unicast from clients
	return drop
}

// answer builds the answer for the message type (RFC 9915 §18.3).
func (s *Server) answer(x *exchange) verdict {
	var err error
	v := answer
	if s.cfg.DNS != nil {
		s.clientFQDN(x) // RFC 4704, before any binding is made
	}
	switch x.typ {
	case dhcpv6.MessageTypeSolicit:
		err = s.solicit(x)
	case dhcpv6.MessageTypeRequest:
		err = s.request(x)
	case dhcpv6.MessageTypeRenew:
		err = s.renew(x)
	case dhcpv6.MessageTypeRebind:
		v, err = s.rebind(x)
	case dhcpv6.MessageTypeRelease:
		err = s.release(x)
	case dhcpv6.MessageTypeDecline:
		err = s.decline(x)
	case dhcpv6.MessageTypeConfirm:
		v = s.confirm(x)
	case dhcpv6.MessageTypeInformationRequest:
		s.begin(x, dhcpv6.MessageTypeReply) // §18.3.6
		// §21.23: only in a Reply to an Information-request.
		x.reply.infoRefresh = s.cfg.InfoRefresh > 0
	case dhcpv6.MessageTypeLeaseQuery:
		s.leasequery(x) // RFC 5007 §4.4
	default:
		x.drop = DropUnknownType
		return drop
	}
	if err != nil {
		x.drop = DropStoreError
		return drop
	}
	if x.fqdnReply != nil && v == answer && x.asked {
		// RFC 4704 §6: "Servers MUST only include a Client FQDN option in
		// ADVERTISE and REPLY messages if the client included a Client FQDN
		// option and the Client FQDN option is requested by the Option
		// Request option". The name is registered either way.
		x.reply.fqdn = x.fqdnReply
	}
	return v
}

var errStore = errors.New("server: lease store")

func storeErr(op string, err error) error { return fmt.Errorf("%w: %s: %w", errStore, op, err) }
