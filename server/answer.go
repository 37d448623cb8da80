package server

import (
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/server/lease"
	"d6lab/wire"
)

// The answer: what the stages decide, written once and encoded two ways.
// Handle encodes it with wire into a caller's buffer (no allocation);
// HandleMessage builds insomniacslk values for the virtual engine. Both
// put the options in wire's order (Client ID, Server ID, IA_NAs, IA_PDs,
// Preference, Rapid Commit, Status Code, Client FQDN, then Information
// Refresh Time), so the two give the same bytes. A LEASEQUERY-REPLY
// (RFC 5007) is built whole as an insomniacslk message (leasequery.go):
// it is not on the hot path.

// reply is an answer under construction.
type reply struct {
	typ         dhcpv6.MessageType // 0: no answer yet
	ias         []iaOut
	status      statusCode
	statusMsg   []byte
	hasStatus   bool
	pref        bool // the Preference option (§21.8), the configured value
	rapid       bool // the Rapid Commit option (§21.14)
	infoRefresh bool // the Information Refresh Time option (§21.23), the configured value
	fqdn        []byte
	lq          *dhcpv6.Message // a LEASEQUERY-REPLY, built whole
}

// setStatus puts a Status Code option in the answer (msg nil: the code's
// usual text).
func (r *reply) setStatus(c statusCode, msg []byte) {
	if msg == nil {
		msg = statusText[c]
	}
	r.status, r.statusMsg, r.hasStatus = c, msg, true
}

// begin starts the answer: the transaction ID, the client's Client
// Identifier (if any) and this server's Server Identifier go into every
// answer (RFC 9915 §18.3: MUST always contain both), added when it is
// encoded.
func (s *Server) begin(x *exchange, t dhcpv6.MessageType) {
	x.reply = reply{typ: t, ias: s.outBuf[:0]}
}

// outIA starts the answer's next IA for in, its leases in reused storage.
// Until it is added (answerIA), the next outIA replaces it.
func (s *Server) outIA(x *exchange, in iaIn) iaOut {
	i := len(x.reply.ias)
	if i == len(s.outLeases) {
		s.outLeases = append(s.outLeases, nil)
	}
	return iaOut{sp: in.sp, iaid: in.iaid, leases: s.outLeases[i][:0], slot: i}
}

// answerIA adds an IA to the answer.
func (s *Server) answerIA(x *exchange, o iaOut) {
	s.outLeases[o.slot] = o.leases[:0] // keep what it grew to
	x.reply.ias = append(x.reply.ias, o)
	s.outBuf = x.reply.ias[:0]
}

// appendAnswer encodes x's answer with wire, each Relay-forward level
// answered by a Relay-reply that copies its hop-count, link-address,
// peer-address and Interface-Id option (RFC 9915 §18.3.10, §19.3).
func (s *Server) appendAnswer(b []byte, x *exchange) ([]byte, error) {
	m := &s.out
	m.Reset()
	for _, r := range x.relays {
		m.Relays = append(m.Relays, wire.Relay{
			Type: wire.RelayReply, HopCount: r.hop, LinkAddr: r.link, PeerAddr: r.peer,
			InterfaceID: r.iid, HasInterfaceID: r.hasIID,
		})
	}
	a := &x.reply
	m.Type = wire.MessageType(a.typ)
	m.TransactionID = uint32(x.xid[0])<<16 | uint32(x.xid[1])<<8 | uint32(x.xid[2])
	m.ClientID, m.ServerID = x.duid, s.duid
	s.wireLeases = s.wireLeases[:0]
	for _, o := range a.ias {
		for _, l := range o.leases {
			wl := wire.Lease{Addr: l.p.Addr().As16(), Preferred: seconds(l.preferred), Valid: seconds(l.valid)}
			if o.sp.typ == lease.PD {
				wl.Bits = uint8(l.p.Bits())
			}
			s.wireLeases = append(s.wireLeases, wl)
		}
	}
	at := 0
	for _, o := range a.ias {
		ia := wire.IA{IAID: o.iaid, T1: seconds(o.t1), T2: seconds(o.t2), Leases: s.wireLeases[at : at+len(o.leases)]}
		at += len(o.leases)
		if o.hasSt {
			ia.Status = wire.Status{Present: true, Code: uint16(o.status), Message: statusText[o.status]}
		}
		if o.sp.typ == lease.PD {
			m.IAPD = append(m.IAPD, ia)
		} else {
			m.IANA = append(m.IANA, ia)
		}
	}
	m.HasPreference, m.Preference = a.pref, s.cfg.Preference
	m.RapidCommit = a.rapid
	if a.hasStatus {
		m.Status = wire.Status{Present: true, Code: uint16(a.status), Message: a.statusMsg}
	}
	m.FQDN = a.fqdn
	if a.infoRefresh {
		m.Other = append(m.Other, wire.Option{Code: uint16(dhcpv6.OptionInformationRefreshTime), Value: s.infoRefresh[:]})
	}
	return m.AppendTo(b)
}

// seconds is a lifetime on the wire: whole seconds, rounded, as
// insomniacslk's Duration.Marshal writes it.
func seconds(d time.Duration) uint32 { return uint32(d.Round(time.Second) / time.Second) }

// message builds x's answer as insomniacslk values, wrapped in one
// Relay-reply per Relay-forward level (as appendAnswer). The values share
// option values with the request and the server: read-only. With
// SetAnswerReuse they are the server's reused storage (values.go).
func (s *Server) message(x *exchange) dhcpv6.DHCPv6 {
	var out dhcpv6.DHCPv6 = x.reply.lq
	if x.reply.lq == nil {
		v := &s.vals
		r := v.newAnswer(x, x.reply.typ)
		s.addIDs(r, x)
		a := &x.reply
		v.addIAs(r, a.ias)
		if a.pref {
			r.AddOption(v.shared(&v.pref, func() dhcpv6.Option { return dhcpv6.OptPreference(s.cfg.Preference) }))
		}
		if a.rapid {
			r.AddOption(v.shared(&v.rapid, func() dhcpv6.Option { return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit} }))
		}
		if a.hasStatus {
			r.AddOption(v.statusAt(a.status, a.statusMsg))
		}
		if a.fqdn != nil {
			r.AddOption(v.fqdnOpt(a.fqdn))
		}
		if a.infoRefresh {
			r.AddOption(v.shared(&v.infoRefresh, func() dhcpv6.Option { return dhcpv6.OptInformationRefreshTime(s.cfg.InfoRefresh) }))
		}
		v.done(r)
		out = r
	}
	for i := len(x.relays) - 1; i >= 0; i-- {
		r := &x.relays[i]
		rr := &dhcpv6.RelayMessage{
			MessageType: dhcpv6.MessageTypeRelayReply,
			HopCount:    r.hop,
			LinkAddr:    net.IP(append([]byte(nil), r.link[:]...)),
			PeerAddr:    net.IP(append([]byte(nil), r.peer[:]...)),
		}
		if r.hasIID {
			rr.AddOption(dhcpv6.OptInterfaceID(r.iid))
		}
		rr.AddOption(dhcpv6.OptRelayMessage(out))
		out = rr
	}
	return out
}

// newMessage starts an insomniacslk answer with the client's Client
// Identifier option (if any) and this server's Server Identifier.
func (s *Server) newMessage(x *exchange, t dhcpv6.MessageType) *dhcpv6.Message {
	r := &dhcpv6.Message{MessageType: t, TransactionID: x.xid}
	s.addIDs(r, x)
	return r
}

// addIDs adds the client's Client Identifier option (if any) and this
// server's Server Identifier to an answer.
func (s *Server) addIDs(r *dhcpv6.Message, x *exchange) {
	switch {
	case x.cidOpt != nil:
		r.AddOption(x.cidOpt)
	case x.duid != nil:
		if d, err := dhcpv6.DUIDFromBytes(x.duid); err == nil {
			r.AddOption(dhcpv6.OptClientID(d))
		}
	}
	r.AddOption(s.sid)
}
