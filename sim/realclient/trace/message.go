package trace

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/reports/history"
)

// Client is the real client a capture and an address log belong to.
type Client struct {
	// Index is the client's index in the run, copied into every event
	// (history.Event.Client).
	Index int
	// MAC is the link-layer address of the client's interface: frames
	// from it are what the client sent, frames to it what it received.
	// The capture on its interface also sees other clients' multicast
	// (their Solicits, Rebinds...): those come from other addresses and
	// are ignored. Without a MAC the UDP ports decide (from 546: sent, to
	// 546: received) and only the DUID keeps other clients out.
	MAC net.HardwareAddr
	// Kind names the implementation ("dhclient", "dhcpcd", "dhcp6c"). It
	// changes nothing in the translation (every client is held to RFC
	// 9915 alike); it is kept for the caller's reports.
	Kind string
	// DUID is the client's DUID when the caller knows it; empty: it is
	// learned from the Client Identifier of the first message the client
	// sent.
	DUID []byte
	// End is when the observation ended (the run's end): leases whose
	// valid lifetime runs out after it get no expired event. Zero: the
	// last frame or address change.
	End time.Time
}

// Direction says whether the client sent a message or received it.
type Direction uint8

// Directions.
const (
	Sent Direction = iota + 1
	Received
)

func (d Direction) String() string {
	switch d {
	case Sent:
		return "sent"
	case Received:
		return "received"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Status is a Status Code option (RFC 9915 §21.13). Present false: the
// option was absent, which means Success.
type Status struct {
	Present bool
	Code    iana.StatusCode
	Text    string
}

// OK reports whether the status is Success (or absent).
func (s Status) OK() bool { return !s.Present || s.Code == iana.StatusSuccess }

func statusOf(o *dhcpv6.OptStatusCode) Status {
	if o == nil {
		return Status{}
	}
	return Status{Present: true, Code: o.StatusCode, Text: o.StatusMessage}
}

// IA type of an IA_TA (history has none: temporary addresses are not
// leases d6lab follows).
const IATA = "ta"

// IA is one identity association of a message (IA_NA, IA_PD or IA_TA).
type IA struct {
	Type   string // history.IANA, history.IAPD or IATA
	IAID   uint32
	T1, T2 time.Duration // zero for an IA_TA
	Status Status
	Leases []Lease
}

// Lease is one address (as a /128) or prefix of an IA, as the message
// gives it.
type Lease struct {
	Prefix           netip.Prefix
	Preferred, Valid time.Duration
	Status           Status
}

// Message is one DHCPv6 message of the client, sent or received, with the
// facts conformance checks and Translate read.
type Message struct {
	At   time.Time
	Dir  Direction
	Type dhcpv6.MessageType
	XID  dhcpv6.TransactionID
	// Src and Dst are the IPv6 addresses and UDP ports (Dst is
	// ff02::1:2 for a message to all servers).
	Src, Dst netip.AddrPort
	// ClientID and ServerID are the raw DUIDs; nil when absent.
	ClientID, ServerID []byte
	// Elapsed is the Elapsed Time option (RFC 9915 §21.9), when HasElapsed.
	Elapsed    time.Duration
	HasElapsed bool
	// Preference is the Preference option (§21.8); -1 when absent.
	Preference int
	// RapidCommit: the message carries a Rapid Commit option (§21.14).
	RapidCommit bool
	// InfoRefresh is the Information Refresh Time option (§21.23), when
	// HasInfoRefresh.
	InfoRefresh    time.Duration
	HasInfoRefresh bool
	// Status is the message-level Status Code.
	Status Status
	// IAs in the order the message lists them.
	IAs []IA
	// Msg is the decoded message, for what the fields above leave out.
	Msg *dhcpv6.Message
}

// ClientHex is the Client Identifier in hex, as history events carry it
// ("" when absent).
func (m *Message) ClientHex() string { return hex.EncodeToString(m.ClientID) }

// ServerHex is the Server Identifier in hex ("" when absent).
func (m *Message) ServerHex() string { return hex.EncodeToString(m.ServerID) }

// Stats counts what the decoder and the translator left out or could not
// observe. Every field counts messages (or leases, where it says so).
type Stats struct {
	Frames int // frames handed in
	// Malformed frames: not Ethernet/IPv6/UDP, truncated, or a DHCPv6
	// payload the library cannot decode. Dropped.
	Malformed int
	// NotDHCP: well-formed UDP frames that are neither client-to-server
	// (546 to 547) nor server-to-client (547 to 546) traffic.
	NotDHCP int
	// Relay: Relay-forward or Relay-reply messages, not expected on the
	// client's link.
	Relay int
	// Foreign: messages neither from nor to the client's MAC (other
	// clients' multicast).
	Foreign int
	// OtherClient: messages of another DUID: received ones whose Client
	// Identifier is not the client's, sent ones with another Client
	// Identifier than the one learned.
	OtherClient int
	// WrongDirection: a server message type the client sent, or a client
	// message type it received.
	WrongDirection int
	// Sent and Received: the client's own messages, kept.
	Sent, Received int

	// Unmatched: received messages that answer no exchange the client
	// was running (another transaction ID than its last message's, an
	// Advertise to no Solicit, a Reply to Solicit without Rapid Commit,
	// a Reconfigure) or without a Server Identifier: no event.
	Unmatched int
	// DiscardedIAs: IAs of a Reply not taken: not asked for in the
	// message answered, an IA_TA, or T1 > T2 (RFC 9915 §21.4).
	DiscardedIAs int
	// Unconfigured: bound IA_NA addresses that never showed up in the
	// address log: their Tentative is left unset.
	Unconfigured int
	// DeclinedWithoutDAD: addresses the client declined while the address
	// log shows no DAD failure for them: declined without Cause dad.
	DeclinedWithoutDAD int
	// DADNotDeclined: addresses whose DAD failed (per the address log)
	// and that the client never declined (each a dad_failed event).
	DADNotDeclined int
	// UnknownLeases: leases in a Release or Decline the client did not
	// hold per the capture (already ended, or never granted): no event.
	UnknownLeases int
	// EarlyRemovals: held addresses removed from the interface before
	// their valid lifetime ended with no Release, Decline or negative
	// answer to explain it: a Dropped event each (the lease goes on).
	EarlyRemovals int
	// LateRemovals: addresses still on the interface more than
	// ExpirySlack after their valid lifetime ended.
	LateRemovals int
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	s.Frames += o.Frames
	s.Malformed += o.Malformed
	s.NotDHCP += o.NotDHCP
	s.Relay += o.Relay
	s.Foreign += o.Foreign
	s.OtherClient += o.OtherClient
	s.WrongDirection += o.WrongDirection
	s.Sent += o.Sent
	s.Received += o.Received
	s.Unmatched += o.Unmatched
	s.DiscardedIAs += o.DiscardedIAs
	s.Unconfigured += o.Unconfigured
	s.DeclinedWithoutDAD += o.DeclinedWithoutDAD
	s.DADNotDeclined += o.DADNotDeclined
	s.UnknownLeases += o.UnknownLeases
	s.EarlyRemovals += o.EarlyRemovals
	s.LateRemovals += o.LateRemovals
}

const (
	clientPort = 546
	serverPort = 547
)

// Messages decodes the client's DHCPv6 messages from frames (taken in
// time order), keeping what it sent and what it received with its own
// Client Identifier, and counting the rest in Stats. It never panics on
// malformed input.
func Messages(c Client, frames []Frame) ([]Message, Stats) {
	frames = sortFrames(frames)
	st := Stats{Frames: len(frames)}
	d := newDecoder()
	all := make([]Message, 0, len(frames))
	for i := range frames {
		m, ok := d.decode(c, &frames[i], &st)
		if ok {
			all = append(all, m)
		}
	}
	duid := c.DUID
	if len(duid) == 0 {
		for i := range all {
			if all[i].Dir == Sent && all[i].ClientID != nil {
				duid = all[i].ClientID
				break
			}
		}
	}
	// XIDs of sent messages without a Client Identifier (an
	// Information-request may omit it, RFC 9915 §18.2.6): their Replies
	// carry none either.
	anon := map[dhcpv6.TransactionID]bool{}
	out := all[:0]
	for _, m := range all {
		switch {
		case m.Dir == Sent && m.ClientID == nil:
			anon[m.XID] = true
		case bytes.Equal(m.ClientID, duid):
		case m.Dir == Received && m.ClientID == nil && anon[m.XID]:
		default:
			st.OtherClient++
			continue
		}
		if m.Dir == Sent {
			st.Sent++
		} else {
			st.Received++
		}
		out = append(out, m)
	}
	return out, st
}

// decoder decodes frames with one reusable layer parser.
type decoder struct {
	eth     layers.Ethernet
	ip6     layers.IPv6
	udp     layers.UDP
	payload gopacket.Payload
	parser  *gopacket.DecodingLayerParser
	layers  []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.ip6, &d.udp, &d.payload)
	d.parser.IgnoreUnsupported = true
	return d
}

// decode turns one frame into a Message of the client's link, counting
// what it drops.
func (d *decoder) decode(c Client, f *Frame, st *Stats) (m Message, ok bool) {
	defer func() {
		if recover() != nil { // a decoder bug must not end the translation
			st.Malformed++
			m, ok = Message{}, false
		}
	}()
	d.layers = d.layers[:0]
	err := d.parser.DecodeLayers(f.Data, &d.layers)
	if d.parser.Truncated {
		st.Malformed++
		return Message{}, false
	}
	hasUDP := false
	for _, l := range d.layers {
		if l == layers.LayerTypeUDP {
			hasUDP = true
		}
	}
	if !hasUDP {
		if err != nil || len(d.layers) == 0 {
			st.Malformed++ // a header too short or inconsistent
		} else {
			st.NotDHCP++ // no IPv6 UDP (the capture's filter keeps these out)
		}
		return Message{}, false
	}
	if int(d.udp.Length) != 8+len(d.udp.Payload) {
		st.Malformed++ // UDP length and IPv6 payload disagree
		return Message{}, false
	}
	sp, dp := uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
	var dir Direction
	switch {
	case len(c.MAC) > 0 && bytes.Equal(d.eth.SrcMAC, c.MAC):
		dir = Sent
	case len(c.MAC) > 0 && bytes.Equal(d.eth.DstMAC, c.MAC):
		dir = Received
	case len(c.MAC) > 0:
		dir = 0
	case sp == clientPort:
		dir = Sent
	case dp == clientPort:
		dir = Received
	}
	switch {
	case sp == clientPort && dp == serverPort, sp == serverPort && dp == clientPort:
	case sp == serverPort && dp == serverPort:
		// relay to server or server to relay
	default:
		st.NotDHCP++
		return Message{}, false
	}
	raw := d.udp.Payload
	if len(raw) == 0 {
		st.Malformed++
		return Message{}, false
	}
	if t := dhcpv6.MessageType(raw[0]); t == dhcpv6.MessageTypeRelayForward || t == dhcpv6.MessageTypeRelayReply {
		st.Relay++
		return Message{}, false
	}
	if dir == 0 {
		st.Foreign++
		return Message{}, false
	}
	msg, err := dhcpv6.MessageFromBytes(raw)
	if err != nil {
		st.Malformed++
		return Message{}, false
	}
	if serverType(msg.MessageType) == (dir == Sent) || (dir == Sent) != (sp == clientPort) {
		st.WrongDirection++
		return Message{}, false
	}
	src, _ := netip.AddrFromSlice(d.ip6.SrcIP.To16())
	dst, _ := netip.AddrFromSlice(d.ip6.DstIP.To16())
	m = Message{
		At:         f.At,
		Dir:        dir,
		Type:       msg.MessageType,
		XID:        msg.TransactionID,
		Src:        netip.AddrPortFrom(src, sp),
		Dst:        netip.AddrPortFrom(dst, dp),
		Preference: -1,
		Msg:        msg,
	}
	fill(&m, msg)
	return m, true
}

// serverType reports whether t is a message servers send.
func serverType(t dhcpv6.MessageType) bool {
	switch t {
	case dhcpv6.MessageTypeAdvertise, dhcpv6.MessageTypeReply, dhcpv6.MessageTypeReconfigure:
		return true
	}
	return false
}

// fill copies the options of msg into m.
func fill(m *Message, msg *dhcpv6.Message) {
	for _, o := range msg.Options.Options {
		switch o := o.(type) {
		case *dhcpv6.OptStatusCode:
			if !m.Status.Present {
				m.Status = statusOf(o)
			}
		case *dhcpv6.OptIANA:
			ia := IA{Type: history.IANA, IAID: binary.BigEndian.Uint32(o.IaId[:]), T1: o.T1, T2: o.T2, Status: statusOf(o.Options.Status())}
			ia.Leases = addrLeases(o.Options.Options, ia.Leases)
			m.IAs = append(m.IAs, ia)
		case *dhcpv6.OptIATA:
			ia := IA{Type: IATA, IAID: binary.BigEndian.Uint32(o.IaId[:]), Status: statusOf(o.Options.Status())}
			ia.Leases = addrLeases(o.Options.Options, ia.Leases)
			m.IAs = append(m.IAs, ia)
		case *dhcpv6.OptIAPD:
			ia := IA{Type: history.IAPD, IAID: binary.BigEndian.Uint32(o.IaId[:]), T1: o.T1, T2: o.T2, Status: statusOf(o.Options.Status())}
			for _, so := range o.Options.Options {
				p, ok := so.(*dhcpv6.OptIAPrefix)
				if !ok || p.Prefix == nil {
					continue
				}
				addr, ok := netip.AddrFromSlice(p.Prefix.IP.To16())
				ones, bits := p.Prefix.Mask.Size()
				if !ok || bits != 128 {
					continue
				}
				ia.Leases = append(ia.Leases, Lease{
					Prefix:    netip.PrefixFrom(addr, ones).Masked(),
					Preferred: p.PreferredLifetime,
					Valid:     p.ValidLifetime,
					Status:    statusOf(p.Options.Status()),
				})
			}
			m.IAs = append(m.IAs, ia)
		}
	}
	if d := msg.Options.ClientID(); d != nil {
		m.ClientID = d.ToBytes()
	}
	if d := msg.Options.ServerID(); d != nil {
		m.ServerID = d.ToBytes()
	}
	if o := msg.GetOneOption(dhcpv6.OptionElapsedTime); o != nil {
		m.Elapsed, m.HasElapsed = msg.Options.ElapsedTime(), true
	}
	if o := msg.GetOneOption(dhcpv6.OptionPreference); o != nil {
		m.Preference = int(msg.Options.Preference())
	}
	if o := msg.GetOneOption(dhcpv6.OptionInformationRefreshTime); o != nil {
		m.InfoRefresh, m.HasInfoRefresh = msg.Options.InformationRefreshTime(0), true
	}
	m.RapidCommit = msg.GetOneOption(dhcpv6.OptionRapidCommit) != nil
}

func addrLeases(opts []dhcpv6.Option, dst []Lease) []Lease {
	for _, so := range opts {
		a, ok := so.(*dhcpv6.OptIAAddress)
		if !ok {
			continue
		}
		addr, ok := netip.AddrFromSlice(a.IPv6Addr.To16())
		if !ok {
			continue
		}
		dst = append(dst, Lease{
			Prefix:    netip.PrefixFrom(addr, 128),
			Preferred: a.PreferredLifetime,
			Valid:     a.ValidLifetime,
			Status:    statusOf(a.Options.Status()),
		})
	}
	return dst
}
