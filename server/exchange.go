package server

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/transport"
	"d6lab/wire"
)

// The exchange: one message going through the pipeline, read from either
// decoder. A datagram is decoded by wire (the hot-path messages, without
// allocating) or, for every other message type or shape, by insomniacslk
// (dhcpv6.FromBytes); HandleMessage takes insomniacslk's values directly.
// Both fill the same fields, so the stages (server.go, ia.go) are written
// once and cannot tell the two apart; FuzzHandle holds the two paths to
// the same answer, byte for byte.

// exchange is one message going through the pipeline.
type exchange struct {
	now       time.Time
	multicast bool // how the outermost datagram arrived

	// The client message (the innermost one).
	typ    dhcpv6.MessageType
	xid    dhcpv6.TransactionID
	duid   []byte // raw client DUID (Client Identifier option, §21.2), nil if absent
	sid    []byte // raw DUID of the Server Identifier option (§21.3), nil if absent
	rapid  bool   // a Rapid Commit option (§21.14)
	hasIA  bool   // an IA_NA, IA_TA or IA_PD option (§16.12; read for an Information-request, never on the wire path)
	ias    []iaIn // its IA_NAs, then its IA_PDs (the answer's order)
	fqdnIn []byte // the Client FQDN option's value (RFC 4704 §4), nil if absent
	asked  bool   // the ORO asks for the Client FQDN option (read only when fqdnIn is set)

	relays []relay // Relay-forward levels, outermost first

	// msg is the message as insomniacslk decoded it, nil on the wire
	// path. A LEASEQUERY always has it (leasequery.go reads its query),
	// and the answer to it is built from it (cidOpt: its Client
	// Identifier option).
	msg    *dhcpv6.Message
	cidOpt dhcpv6.Option

	reply reply      // the answer, when a stage answers (reply.typ != 0)
	drop  DropReason // why, when a stage drops

	// What a binding made in this exchange keeps besides the lease
	// (lease.Binding): the client's FQDN as the server registers it in
	// DNS ("" none), and the relay data Bulk Leasequery asks by (relayID
	// and remoteID may alias the datagram: bind copies them).
	fqdn              string
	linkAddr          netip.Addr
	relayID, remoteID []byte
	fqdnReply         []byte // the Client FQDN option value the answer carries (fqdn.go)
}

// relay is one Relay-forward level: what its Relay-reply copies (RFC 9915
// §19.3: hop-count, link-address, peer-address, Interface-Id) and whether
// it asks for the answer on its source port (RFC 8357).
type relay struct {
	hop        uint8
	link, peer [16]byte
	iid        []byte // the Interface-Id option's value, valid when hasIID
	hasIID     bool
	port       bool // a Relay Source Port option (read on the outermost level only)
}

// Option codes the server reads that wire keeps among a level's others.
const (
	optRelayPort = uint16(dhcpv6.OptionRelayPort) // RFC 8357
	optRelayID   = uint16(dhcpv6.OptionRelayID)   // RFC 5460 §5.4.1
	optRemoteID  = uint16(dhcpv6.OptionRemoteID)  // RFC 4649
)

// fromWire fills x from a message wire decoded. x's byte slices alias the
// datagram; x.ias and x.relays reuse the server's storage.
func (s *Server) fromWire(x *exchange, m *wire.Message) (DropReason, bool) {
	x.relays = s.relayBuf[:0]
	for i := range m.Relays {
		r := &m.Relays[i]
		if r.Type != wire.RelayForward {
			return DropNotForServer, false // §16.14
		}
		if r.HopCount > HopCountLimit || len(x.relays) > HopCountLimit {
			return DropHopLimit, false
		}
		x.relays = append(x.relays, relay{
			hop: r.HopCount, link: r.LinkAddr, peer: r.PeerAddr,
			iid: r.InterfaceID, hasIID: r.HasInterfaceID,
		})
	}
	s.relayBuf = x.relays[:0]
	if n := len(m.Relays); n > 0 {
		_, x.relays[0].port = m.Relays[0].Option(optRelayPort) // only the outermost level's counts (replyPort)
		// What Bulk Leasequery asks by (RFC 5460 §5.3), bulk.go.
		r := &m.Relays[n-1]
		relayID, _ := r.Option(optRelayID)
		remoteID, _ := r.Option(optRemoteID)
		x.setRelayData(r.LinkAddr, relayID, remoteID)
	}
	x.typ = dhcpv6.MessageType(m.Type)
	t := m.TransactionID
	x.xid = dhcpv6.TransactionID{byte(t >> 16), byte(t >> 8), byte(t)}
	x.duid, x.sid, x.rapid = m.ClientID, m.ServerID, m.RapidCommit
	x.fqdnIn = m.FQDN
	if x.fqdnIn != nil {
		x.asked = m.Requested(uint16(dhcpv6.OptionFQDN))
	}
	s.startIAs()
	for i := range m.IANA {
		ia := &m.IANA[i]
		s.pushIA(&s.na, ia.IAID)
		for j := range ia.Leases {
			s.pushLease(netip.PrefixFrom(netip.AddrFrom16(ia.Leases[j].Addr), 128))
		}
	}
	for i := range m.IAPD {
		ia := &m.IAPD[i]
		s.pushIA(&s.pd, ia.IAID)
		for j := range ia.Leases {
			l := &ia.Leases[j]
			// insomniacslk reads a length of 0 as no prefix and one past
			// 128 as a prefix without a mask; :: with a length is only a
			// length hint (§18.2.1). None names a prefix.
			addr := netip.AddrFrom16(l.Addr)
			if l.Bits == 0 || l.Bits > 128 || addr.IsUnspecified() {
				continue
			}
			s.pushLease(netip.PrefixFrom(addr, int(l.Bits)).Masked())
		}
	}
	x.ias = s.takeIAs()
	return 0, true
}

// fromMessage fills x from an insomniacslk message, peeling its
// Relay-forward levels (RFC 9915 §19.3: the server records each level to
// build the Relay-reply).
func (s *Server) fromMessage(x *exchange, m dhcpv6.DHCPv6) (DropReason, bool) {
	x.relays = s.relayBuf[:0]
	for {
		switch v := m.(type) {
		case *dhcpv6.Message:
			if v == nil {
				return DropMalformed, false
			}
			s.relayBuf = x.relays[:0]
			s.vals.ids = readMessageInto(x, v, s.vals.ids)
			s.readIAs(x, v)
			return 0, true
		case *dhcpv6.RelayMessage:
			if v == nil {
				return DropMalformed, false
			}
			if v.MessageType != dhcpv6.MessageTypeRelayForward {
				return DropNotForServer, false // §16.14
			}
			if v.HopCount > HopCountLimit || len(x.relays) > HopCountLimit {
				return DropHopLimit, false
			}
			r := relay{hop: v.HopCount, port: v.GetOneOption(dhcpv6.OptionRelayPort) != nil}
			copy(r.link[:], v.LinkAddr.To16())
			copy(r.peer[:], v.PeerAddr.To16())
			if iid := v.GetOneOption(dhcpv6.OptionInterfaceID); iid != nil {
				r.iid, r.hasIID = iid.ToBytes(), true
			}
			x.relays = append(x.relays, r)
			var relayID, remoteID []byte
			if o := v.Options.GetOne(dhcpv6.OptionRelayID); o != nil {
				relayID = o.ToBytes()
			}
			if o := v.Options.GetOne(dhcpv6.OptionRemoteID); o != nil {
				remoteID = o.ToBytes()
			}
			x.setRelayData([16]byte(r.link), relayID, remoteID) // the innermost level's wins
			if m = v.Options.RelayMessage(); m == nil {
				return DropRelayNoMessage, false
			}
		default:
			return DropMalformed, false
		}
	}
}

// readMessage fills x's client-message fields from m, all but the IAs.
// It uses nothing of the server's (Bulk Leasequery calls it on its own
// goroutine): x's DUIDs are new bytes.
func readMessage(x *exchange, m *dhcpv6.Message) { readMessageInto(x, m, nil) }

// readMessageInto is readMessage writing x's DUIDs into ids[:0] (the
// server's reused storage on the values path), which it returns grown.
// One pass over the options, none of them copied: the first of each
// kind counts, as GetOne gives it.
func readMessageInto(x *exchange, m *dhcpv6.Message, ids []byte) []byte {
	x.msg, x.typ, x.xid = m, m.MessageType, m.TransactionID
	opts := m.Options
	ids = ids[:0]
	var fqdn dhcpv6.Option
	var cid, sid bool // the first Client (Server) Identifier option is read
	for _, o := range opts.Options {
		switch o.Code() {
		case dhcpv6.OptionClientID:
			if !cid {
				cid = true
				if d := opts.ClientID(); d != nil {
					x.cidOpt = o
					n := len(ids) // a Server Identifier may come first
					ids = appendDUID(ids, d)
					x.duid = ids[n:len(ids):len(ids)]
				}
			}
		case dhcpv6.OptionServerID:
			if !sid {
				sid = true
				if d := opts.ServerID(); d != nil {
					n := len(ids)
					ids = appendDUID(ids, d)
					x.sid = ids[n:len(ids):len(ids)]
				}
			}
		case dhcpv6.OptionRapidCommit:
			x.rapid = true
		case dhcpv6.OptionFQDN:
			if fqdn == nil {
				fqdn = o
			}
		}
	}
	if fqdn != nil {
		x.fqdnIn = fqdn.ToBytes()
		for _, c := range opts.RequestedOptions() {
			x.asked = x.asked || c == dhcpv6.OptionFQDN
		}
	}
	return ids
}

// readIAs fills x.ias (and x.hasIA) from m.
func (s *Server) readIAs(x *exchange, m *dhcpv6.Message) {
	opts := m.Options
	s.startIAs()
	for _, o := range opts.Options {
		switch ia := o.(type) {
		case *dhcpv6.OptIANA:
			s.pushIA(&s.na, binary.BigEndian.Uint32(ia.IaId[:]))
			for _, so := range ia.Options.Options {
				if a, ok := so.(*dhcpv6.OptIAAddress); ok {
					if addr, ok := netip.AddrFromSlice(a.IPv6Addr); ok && addr.Is6() {
						s.pushLease(netip.PrefixFrom(addr, 128))
					}
				}
			}
		case *dhcpv6.OptIATA:
			x.hasIA = true
		}
	}
	for _, o := range opts.Options {
		ia, ok := o.(*dhcpv6.OptIAPD)
		if !ok {
			continue
		}
		s.pushIA(&s.pd, binary.BigEndian.Uint32(ia.IaId[:]))
		for _, so := range ia.Options.Options {
			p, ok := so.(*dhcpv6.OptIAPrefix)
			if !ok || p.Prefix == nil {
				continue
			}
			ones, bits := p.Prefix.Mask.Size()
			addr, ok := netip.AddrFromSlice(p.Prefix.IP)
			if !ok || bits != 128 || !addr.Is6() || addr.IsUnspecified() { // :: with a length is only a length hint
				continue
			}
			s.pushLease(netip.PrefixFrom(addr, ones).Masked())
		}
	}
	x.ias = s.takeIAs()
	x.hasIA = x.hasIA || len(x.ias) > 0
}

// setRelayData records on x the relay data a binding keeps for Bulk
// Leasequery (RFC 5460 §5.3), from a relay level: its link-address
// (§5.3.2; none when it is ::) and the payloads of its Relay-ID (§5.4.1)
// and Remote-ID (RFC 4649 §3) options. Called for each level, outermost
// first, so the level closest to the client wins. A message that came
// directly has none. The bytes may alias the datagram: bind copies them.
func (x *exchange) setRelayData(link [16]byte, relayID, remoteID []byte) {
	x.linkAddr = netip.Addr{}
	if a := netip.AddrFrom16(link); !a.IsUnspecified() {
		x.linkAddr = a.Unmap()
	}
	x.relayID, x.remoteID = relayID, remoteID
}

// The IA lists of a message are built in the server's reused storage:
// startIAs, then pushIA and pushLease in message order, then takeIAs.

func (s *Server) startIAs() {
	s.iaBuf, s.leaseBuf = s.iaBuf[:0], s.leaseBuf[:0]
}

func (s *Server) pushIA(sp *space, id uint32) {
	n := len(s.leaseBuf)
	s.iaBuf = append(s.iaBuf, iaIn{sp: sp, iaid: id, lo: n, hi: n})
}

func (s *Server) pushLease(p netip.Prefix) {
	s.leaseBuf = append(s.leaseBuf, p)
	s.iaBuf[len(s.iaBuf)-1].hi = len(s.leaseBuf)
}

func (s *Server) takeIAs() []iaIn {
	for i := range s.iaBuf {
		in := &s.iaBuf[i]
		in.leases = s.leaseBuf[in.lo:in.hi:in.hi]
	}
	return s.iaBuf
}

// replyPort is where an answer goes (RFC 9915 §7.2: servers MUST send to
// port 546 for a client message and 547 for a Relay-reply), given the
// request's source port: a relay's own source port when the outermost
// Relay-forward carries a Relay Source Port option (RFC 8357), and the
// requestor's for a LEASEQUERY received directly (RFC 5007 §4.4: the
// reply is unicast to the requestor, a relay agent or an access
// concentrator, not a client on 546).
func replyPort(src uint16, relayed, relayPort, leasequery bool) uint16 {
	switch {
	case relayed && relayPort:
		return src
	case relayed:
		return transport.ServerPort
	case leasequery && src != 0:
		return src
	}
	return transport.ClientPort
}
