package load

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/netaddr6"
)

// kind is one message kind the generator sends (and the reply it waits for).
type kind uint8

const (
	kSolicit kind = iota // Solicit -> Advertise (or Reply with Rapid Commit)
	kRequest             // Request -> Reply
	kRenew               // Renew -> Reply
	kRebind              // Rebind -> Reply
	kRelease             // Release -> Reply
	nKinds
)

var kindNames = [nKinds]string{"solicit", "request", "renew", "rebind", "release"}

func (k kind) String() string { return kindNames[k] }

// DHCPv6 wire constants the hot path needs (RFC 9915 §7.3, §21).
const (
	msgAdvertise  = 2
	msgReply      = 7
	msgRelayForw  = 12
	msgRelayRepl  = 13
	optClientID   = 1
	optServerID   = 2
	optIANA       = 3
	optIAAddr     = 5
	optElapsed    = 8
	optRelayMsg   = 9
	optStatus     = 13
	optRapid      = 14
	optInterface  = 18
	optIAPD       = 25
	optIAPrefix   = 26
	maxMsg        = 1024 // largest message the generator builds
	maxServerID   = 4 + 130
	duidLLLen     = 10 // type(2) hwtype(2) MAC(6)
	relayHdrLen   = 34
	interfaceName = "d6lab-load"
)

// template is one message kind encoded once by insomniacslk/dhcp, with the
// offsets of the fields patched per message.
type template struct {
	b      []byte // the message without the Server Identifier option
	duid   int    // offset of the DUID-LL's MAC (6 bytes)
	naIAID int    // offset of IA_NA's IAID, or -1
	naAddr int    // offset of IAADDR's address, or -1
	pdIAID int    // offset of IA_PD's IAID, or -1
	pdPfx  int    // offset of IAPREFIX's prefix-length byte (prefix follows), or -1
	sid    bool   // a Server Identifier option is appended (RFC 9915 §18.2.2, §18.2.4, §18.2.7)
}

// templates holds every kind's template and the relay wrapper.
type templates struct {
	k       [nKinds]template
	relay   []byte // Relay-forward header + Interface-ID + Relay Message option header
	relayML int    // offset of the Relay Message option's length
	macBase [6]byte
}

// clientMAC is client n's link-layer address: locally administered, a
// seeded 40-bit base plus n.
func (t *templates) clientMAC(n uint32, mac *[6]byte) {
	*mac = t.macBase
	v := binary.BigEndian.Uint32(mac[2:]) + n
	binary.BigEndian.PutUint32(mac[2:], v)
}

// newTemplates encodes every message kind once with insomniacslk/dhcp.
func newTemplates(cfg *Config) (*templates, error) {
	t := &templates{}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f6164))
	binary.BigEndian.PutUint32(t.macBase[2:], r.Uint32()&0x7fffffff)
	t.macBase[0] = 0x02 // locally administered, unicast
	t.macBase[1] = byte(r.Uint32())
	na, pd := cfg.NA, cfg.PD
	if !na && !pd {
		na = true
	}
	zeroSID := &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: make(net.HardwareAddr, 6)}
	build := func(mt dhcpv6.MessageType, withAddr, withSID, rapid bool) (template, error) {
		m := &dhcpv6.Message{MessageType: mt}
		m.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: make(net.HardwareAddr, 6)}))
		m.AddOption(dhcpv6.OptElapsedTime(0))
		if mt != dhcpv6.MessageTypeRelease {
			// RFC 9915 §18.2.1, §18.2.2, §18.2.4, §18.2.5: Solicit,
			// Request, Renew and Rebind MUST carry an Option Request
			// option naming SOL_MAX_RT.
			m.AddOption(dhcpv6.OptRequestedOption(dhcpv6.OptionSolMaxRT))
		}
		if rapid {
			dhcpv6.WithRapidCommit(m)
		}
		if na {
			ia := &dhcpv6.OptIANA{IaId: [4]byte{0xff, 0xff, 0xff, 0xff}}
			if withAddr {
				ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8::1")})
			}
			m.AddOption(ia)
		}
		if pd {
			ia := &dhcpv6.OptIAPD{IaId: [4]byte{0xff, 0xff, 0xff, 0xfe}}
			if withAddr {
				_, p, _ := net.ParseCIDR("2001:db8:100::/56")
				ia.Options.Add(&dhcpv6.OptIAPrefix{Prefix: p})
			}
			m.AddOption(ia)
		}
		if withSID {
			m.AddOption(dhcpv6.OptServerID(zeroSID))
		}
		b := m.ToBytes()
		tp := template{naIAID: -1, naAddr: -1, pdIAID: -1, pdPfx: -1, sid: withSID}
		opts := b[4:]
		if o := findOpt(opts, optClientID); o >= 0 {
			tp.duid = 4 + o + 4 + 4
		} else {
			return tp, fmt.Errorf("load: template %s: no Client Identifier", mt)
		}
		if o := findOpt(opts, optIANA); o >= 0 {
			tp.naIAID = 4 + o + 4
			if withAddr {
				s := findOpt(opts[o+4+12:], optIAAddr)
				if s < 0 {
					return tp, fmt.Errorf("load: template %s: no IAADDR", mt)
				}
				tp.naAddr = 4 + o + 4 + 12 + s + 4
			}
		}
		if o := findOpt(opts, optIAPD); o >= 0 {
			tp.pdIAID = 4 + o + 4
			if withAddr {
				s := findOpt(opts[o+4+12:], optIAPrefix)
				if s < 0 {
					return tp, fmt.Errorf("load: template %s: no IAPREFIX", mt)
				}
				tp.pdPfx = 4 + o + 4 + 12 + s + 4 + 8
			}
		}
		if withSID {
			o := findOpt(opts, optServerID)
			if o < 0 || 4+o+4+duidLLLen != len(b) {
				return tp, fmt.Errorf("load: template %s: Server Identifier not last", mt)
			}
			b = b[:4+o]
		}
		tp.b = b
		return tp, nil
	}
	var err error
	if t.k[kSolicit], err = build(dhcpv6.MessageTypeSolicit, false, false, cfg.Exchange == RapidCommit); err != nil {
		return nil, err
	}
	// RFC 9915 §18.2.2: Request carries the Server Identifier of the
	// chosen server and the IAs (with addresses) from its Advertise.
	if t.k[kRequest], err = build(dhcpv6.MessageTypeRequest, true, true, false); err != nil {
		return nil, err
	}
	// §18.2.4: Renew goes to the granting server (its Server Identifier).
	if t.k[kRenew], err = build(dhcpv6.MessageTypeRenew, true, true, false); err != nil {
		return nil, err
	}
	// §18.2.5: Rebind carries no Server Identifier.
	if t.k[kRebind], err = build(dhcpv6.MessageTypeRebind, true, false, false); err != nil {
		return nil, err
	}
	// §18.2.7: Release carries the Server Identifier and the IAs released.
	if t.k[kRelease], err = build(dhcpv6.MessageTypeRelease, true, true, false); err != nil {
		return nil, err
	}
	if cfg.Relay {
		link := cfg.LinkAddr
		if !link.IsValid() {
			link = netip.IPv6Unspecified()
		}
		rm := &dhcpv6.RelayMessage{
			MessageType: dhcpv6.MessageTypeRelayForward,
			LinkAddr:    net.IP(link.AsSlice()),
			PeerAddr:    net.ParseIP("fe80::1"),
		}
		rm.Options.Add(dhcpv6.OptInterfaceID([]byte(interfaceName)))
		rm.Options.Add(dhcpv6.OptRelayMessage(&dhcpv6.Message{MessageType: dhcpv6.MessageTypeSolicit}))
		b := rm.ToBytes()
		o := findOpt(b[relayHdrLen:], optRelayMsg)
		if o < 0 {
			return nil, fmt.Errorf("load: relay template: no Relay Message option")
		}
		t.relay = b[:relayHdrLen+o+4]
		t.relayML = relayHdrLen + o + 2
	}
	return t, nil
}

// findOpt returns the offset in opts of the first option with code, or -1.
func findOpt(opts []byte, code uint16) int {
	for i := 0; i < len(opts); {
		c, _, next, err := nextOption(opts, i)
		if err != nil {
			return -1
		}
		if c == code {
			return i
		}
		i = next
	}
	return -1
}

// grant is what a client echoes back from an Advertise or Reply.
type grant struct {
	naAddr [16]byte
	pdPfx  [16]byte
	pdLen  uint8
	sid    uint8 // index into the interned Server Identifiers
}

// encode writes message k for client n (xid, IAIDs n and n|1<<31) into buf
// and returns its length. sid is the raw Server Identifier option (header
// included), used by kinds that carry one. In relay mode the message is
// wrapped in a Relay-forward whose peer-address is the client's EUI-64
// link-local address. It does not allocate.
func (t *templates) encode(buf []byte, k kind, xid uint32, n uint32, l *grant, sid []byte, relay bool) int {
	off := 0
	var mac [6]byte
	t.clientMAC(n, &mac)
	if relay {
		off = copy(buf, t.relay)
		// peer-address: fe80::EUI-64(mac)
		ll := netaddr6.LinkLocal(mac).As16()
		copy(buf[18:34], ll[:])
	}
	tp := &t.k[k]
	m := buf[off:]
	n0 := copy(m, tp.b)
	m[1], m[2], m[3] = byte(xid>>16), byte(xid>>8), byte(xid)
	copy(m[tp.duid:tp.duid+6], mac[:])
	if tp.naIAID >= 0 {
		binary.BigEndian.PutUint32(m[tp.naIAID:], n)
	}
	if tp.pdIAID >= 0 {
		binary.BigEndian.PutUint32(m[tp.pdIAID:], n|1<<31)
	}
	if l != nil {
		if tp.naAddr >= 0 {
			copy(m[tp.naAddr:tp.naAddr+16], l.naAddr[:])
		}
		if tp.pdPfx >= 0 {
			m[tp.pdPfx] = l.pdLen
			copy(m[tp.pdPfx+1:tp.pdPfx+17], l.pdPfx[:])
		}
	}
	if tp.sid {
		n0 += copy(m[n0:], sid)
	}
	if relay {
		binary.BigEndian.PutUint16(buf[t.relayML:], uint16(n0))
	}
	return off + n0
}

// elapsedMicros converts a duration to histogram microseconds, clamped to
// the histogram's range.
func elapsedMicros(d time.Duration) int64 {
	us := d.Microseconds()
	if us < histMin {
		return histMin
	}
	if us > histMax {
		return histMax
	}
	return us
}
