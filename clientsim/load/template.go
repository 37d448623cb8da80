package load

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"d6lab/netaddr6"
	"d6lab/wire"
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

// Sizes and offsets the generator needs (RFC 9915 §9.1, §11.4, §21).
const (
	maxMsg        = 1024    // largest message the generator builds
	maxServerID   = 4 + 130 // a Server Identifier option: header and a DUID of at most 130 octets (§11.1)
	relayPeer     = 18      // offset of a relay message's peer-address: msg-type, hop-count, link-address (§9.1)
	optSolMaxRT   = 82      // SOL_MAX_RT (§21.24)
	interfaceName = "d6lab-load"
)

// template is one message kind encoded once with wire, with the offsets
// of the fields patched per message.
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

// fill is the values encode patches into a template.
type fill struct {
	mac            [6]byte
	naIAID, pdIAID uint32
	naAddr, pdPfx  [16]byte
	pdLen          uint8
}

// shape is one message kind's options.
type shape struct {
	mt                   wire.MessageType
	na, pd, addrs, rapid bool
}

// message encodes the kind with the values f, without a Server
// Identifier (encode appends it).
func (s *shape) message(f *fill) ([]byte, error) {
	m := wire.Message{
		Type: s.mt,
		// DUID-LL (RFC 9915 §11.4), hardware type 1 (Ethernet).
		ClientID:       append([]byte{0, 3, 0, 1}, f.mac[:]...),
		HasElapsedTime: true,
		RapidCommit:    s.rapid,
	}
	if s.mt != wire.Release {
		// RFC 9915 §18.2.1, §18.2.2, §18.2.4, §18.2.5: Solicit, Request,
		// Renew and Rebind MUST carry an Option Request option naming
		// SOL_MAX_RT.
		m.ORO, m.HasORO = []uint16{optSolMaxRT}, true
	}
	if s.na {
		ia := wire.IA{IAID: f.naIAID}
		if s.addrs {
			ia.Leases = []wire.Lease{{Addr: f.naAddr}}
		}
		m.IANA = []wire.IA{ia}
	}
	if s.pd {
		ia := wire.IA{IAID: f.pdIAID}
		if s.addrs {
			ia.Leases = []wire.Lease{{Addr: f.pdPfx, Bits: f.pdLen}}
		}
		m.IAPD = []wire.IA{ia}
	}
	return m.AppendTo(nil)
}

// locate finds a patched field: base and alt are the same message encoded
// with the field's bytes all 0x00 and all 0xff, so they differ exactly in
// the field's width octets. It returns the field's offset.
func locate(base, alt []byte, width int) (int, error) {
	if len(base) != len(alt) {
		return -1, fmt.Errorf("lengths %d and %d", len(base), len(alt))
	}
	at := -1
	for i := range base {
		if base[i] != alt[i] {
			at = i
			break
		}
	}
	if at < 0 || at+width > len(base) {
		return -1, fmt.Errorf("field not found")
	}
	for i := range base {
		if (base[i] != alt[i]) != (i >= at && i < at+width) {
			return -1, fmt.Errorf("field at %d is not %d octets", at, width)
		}
	}
	return at, nil
}

// build encodes one kind's template with wire and finds its patched
// fields.
func (s *shape) build(k kind, withSID bool) (template, error) {
	tp := template{naIAID: -1, naAddr: -1, pdIAID: -1, pdPfx: -1, sid: withSID}
	var f fill
	b, err := s.message(&f)
	if err != nil {
		return tp, err
	}
	tp.b = b
	find := func(at *int, width int, set func(*fill)) error {
		alt := f
		set(&alt)
		ab, err := s.message(&alt)
		if err == nil {
			*at, err = locate(b, ab, width)
		}
		return err
	}
	ff := [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if err := find(&tp.duid, 6, func(f *fill) { copy(f.mac[:], ff[:]) }); err != nil {
		return tp, fmt.Errorf("load: %v template: Client Identifier: %w", k, err)
	}
	if s.na {
		if err := find(&tp.naIAID, 4, func(f *fill) { f.naIAID = ^uint32(0) }); err != nil {
			return tp, fmt.Errorf("load: %v template: IA_NA: %w", k, err)
		}
		if s.addrs {
			if err := find(&tp.naAddr, 16, func(f *fill) { f.naAddr = ff }); err != nil {
				return tp, fmt.Errorf("load: %v template: IAADDR: %w", k, err)
			}
		}
	}
	if s.pd {
		if err := find(&tp.pdIAID, 4, func(f *fill) { f.pdIAID = ^uint32(0) }); err != nil {
			return tp, fmt.Errorf("load: %v template: IA_PD: %w", k, err)
		}
		if s.addrs {
			// The prefix-length and the prefix, one after the other
			// (RFC 9915 §21.22).
			if err := find(&tp.pdPfx, 17, func(f *fill) { f.pdLen, f.pdPfx = 0xff, ff }); err != nil {
				return tp, fmt.Errorf("load: %v template: IAPREFIX: %w", k, err)
			}
		}
	}
	return tp, nil
}

// newTemplates encodes every message kind once with wire.
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
	for _, k := range []struct {
		k     kind
		mt    wire.MessageType
		addrs bool
		sid   bool
	}{
		{kSolicit, wire.Solicit, false, false},
		// RFC 9915 §18.2.2: Request carries the Server Identifier of the
		// chosen server and the IAs (with addresses) from its Advertise.
		{kRequest, wire.Request, true, true},
		// §18.2.4: Renew goes to the granting server (its Server Identifier).
		{kRenew, wire.Renew, true, true},
		// §18.2.5: Rebind carries no Server Identifier.
		{kRebind, wire.Rebind, true, false},
		// §18.2.7: Release carries the Server Identifier and the IAs released.
		{kRelease, wire.Release, true, true},
	} {
		s := shape{mt: k.mt, na: na, pd: pd, addrs: k.addrs, rapid: k.k == kSolicit && cfg.Exchange == RapidCommit}
		var err error
		if t.k[k.k], err = s.build(k.k, k.sid); err != nil {
			return nil, err
		}
	}
	if cfg.Relay {
		link := cfg.LinkAddr
		if !link.IsValid() {
			link = netip.IPv6Unspecified()
		}
		rm := wire.Message{
			Relays: []wire.Relay{{
				Type:           wire.RelayForward,
				LinkAddr:       link.As16(),
				PeerAddr:       netip.MustParseAddr("fe80::1").As16(),
				InterfaceID:    []byte(interfaceName),
				HasInterfaceID: true,
			}},
			Type: wire.Solicit,
		}
		b, err := rm.AppendTo(nil)
		if err != nil {
			return nil, fmt.Errorf("load: relay template: %w", err)
		}
		// AppendTo writes a level's Relay Message option last: the
		// wrapper is everything before the inner message (here a bare
		// 4-octet header), the option's length the 2 octets before it.
		t.relay = b[:len(b)-4]
		t.relayML = len(b) - 4 - 2
	}
	return t, nil
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
		copy(buf[relayPeer:relayPeer+16], ll[:])
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
