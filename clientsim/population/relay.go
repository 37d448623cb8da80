package population

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/netaddr6"
)

// RelayConfig puts a population behind its own relay agent (RFC 9915 §19,
// RFC 6853 §5.2): every client message is wrapped in a Relay-forward and
// unicast to each of Servers; Relay-replies are unwrapped and handed to the
// client they name.
type RelayConfig struct {
	// Servers are the unicast server addresses (port 547). RFC 6853 §5.2:
	// a relay must be configured with every server, and it forwards each
	// client message to all of them.
	Servers []netip.AddrPort
	// LinkAddr is a global address on the client link (RFC 9915 §19.1.1:
	// the link-address servers use to identify the client's link).
	LinkAddr netip.Addr
	// InterfaceID is sent in every Relay-forward (RFC 9915 §21.18) and
	// must come back in the Relay-reply.
	InterfaceID []byte
}

// Errors of New for a relay configuration.
var (
	ErrRelayServers  = errors.New("population: relay mode needs at least one server address")
	ErrRelayLinkAddr = errors.New("population: relay link-address must be a global IPv6 address")
)

func (r *RelayConfig) validate() error {
	if len(r.Servers) == 0 {
		return ErrRelayServers
	}
	for _, s := range r.Servers {
		if !s.IsValid() || !s.Addr().Is6() || s.Addr().IsMulticast() {
			return fmt.Errorf("population: relay server %v must be a unicast IPv6 address and port", s)
		}
	}
	if !r.LinkAddr.Is6() || r.LinkAddr.Is4In6() || !r.LinkAddr.IsGlobalUnicast() {
		return fmt.Errorf("%w: %v", ErrRelayLinkAddr, r.LinkAddr)
	}
	return nil
}

// PeerAddr is the link-local address of client index in a population seeded
// with seed: fe80::/64 with the modified EUI-64 interface identifier of its
// MAC (RFC 4291 §2.5.1, Appendix A). The relay puts it in the peer-address
// field of each Relay-forward (RFC 9915 §19.1.1: the client's source address).
func PeerAddr(seed uint64, index int) netip.Addr {
	return netaddr6.LinkLocal(MAC(seed, index))
}

// relayForward wraps client i's message as a relay agent does (RFC 9915
// §19.1.1): hop-count 0 (the message came from a client), link-address,
// peer-address the client's link-local, Interface-ID, Relay Message, and
// queues one copy for each server.
func (p *Population) relayForward(i int, m dhcpv6.DHCPv6) {
	r := p.cfg.Relay
	fw := &dhcpv6.RelayMessage{
		MessageType: dhcpv6.MessageTypeRelayForward,
		HopCount:    0,
		LinkAddr:    net.IP(r.LinkAddr.AsSlice()),
		PeerAddr:    net.IP(PeerAddr(p.cfg.Seed, i).AsSlice()),
	}
	if len(r.InterfaceID) > 0 {
		fw.AddOption(dhcpv6.OptInterfaceID(r.InterfaceID))
	}
	fw.AddOption(dhcpv6.OptRelayMessage(m))
	b := fw.ToBytes()
	for _, s := range r.Servers {
		p.outbox = append(p.outbox, Outgoing{Payload: b, Dst: s, Client: i})
	}
}

// deliverRelayed unwraps a Relay-reply (RFC 9915 §19.2: the relay extracts
// the Relay Message and sends it to the peer-address) and hands the inner
// message to the client whose peer-address and transaction ID it carries.
func (p *Population) deliverRelayed(now time.Time, pkt []byte) {
	if len(pkt) < 1 || dhcpv6.MessageType(pkt[0]) != dhcpv6.MessageTypeRelayReply {
		p.dropped[dropNotRelayed]++
		return
	}
	rr, err := decodeRelay(pkt)
	if err != nil {
		p.dropped[dropMalformed]++
		return
	}
	if !bytes.Equal(rr.Options.InterfaceID(), p.cfg.Relay.InterfaceID) {
		p.dropped[dropRelayMismatch]++
		return
	}
	inner, ok := rr.Options.RelayMessage().(*dhcpv6.Message)
	if !ok || inner == nil {
		p.dropped[dropMalformed]++
		return
	}
	k := uint32(inner.TransactionID[0])<<16 | uint32(inner.TransactionID[1])<<8 | uint32(inner.TransactionID[2])
	i, ok := p.xids.get(k)
	if !ok {
		p.dropped[dropUnknownXID]++
		return
	}
	peer, ok := netip.AddrFromSlice(rr.PeerAddr)
	if !ok || peer != PeerAddr(p.cfg.Seed, int(i)) {
		p.dropped[dropRelayMismatch]++
		return
	}
	c := p.clients[i]
	prev := c.State()
	p.handle(int(i), prev, c.Receive(now, inner), now)
}

func decodeRelay(b []byte) (r *dhcpv6.RelayMessage, err error) {
	defer func() {
		if x := recover(); x != nil {
			r, err = nil, fmt.Errorf("population: decoding panicked: %v", x)
		}
	}()
	m, err := dhcpv6.FromBytes(b)
	if err != nil {
		return nil, err
	}
	r, ok := m.(*dhcpv6.RelayMessage)
	if !ok {
		return nil, errors.New("population: not a relay message")
	}
	return r, nil
}
