package wire

import "encoding/binary"

const (
	msgHeaderLen   = 4  // msg-type, transaction-id (§8)
	relayHeaderLen = 34 // msg-type, hop-count, link-address, peer-address (§9)
)

// Decode decodes b into m, reusing m's storage: in steady state it
// allocates nothing. m's byte slices alias b afterwards.
//
// It returns an Error (errors.Is(err, ErrMalformed)) for a message
// insomniacslk/dhcp would reject too, and ErrNotFastPath for one it leaves
// to that general decoder (see ErrNotFastPath). After an error m holds no
// meaningful message.
func (m *Message) Decode(b []byte) error {
	m.Reset()
	for {
		if len(b) < 1 {
			return malformed(ShortHeader, 0)
		}
		t := MessageType(b[0])
		if !FastPath(t) {
			return ErrNotFastPath
		}
		if !t.IsRelay() {
			break
		}
		if len(m.Relays) == MaxRelayDepth {
			return ErrNotFastPath
		}
		inner, err := m.decodeRelay(b)
		if err != nil {
			return err
		}
		b = inner
	}
	if err := m.decodeMessage(b); err != nil {
		return err
	}
	m.windows()
	return nil
}

// decodeRelay decodes one relay level (§9.1, §9.2) onto m.Relays and
// returns its Relay Message option's value.
func (m *Message) decodeRelay(b []byte) (inner []byte, err error) {
	if len(b) < relayHeaderLen {
		return nil, malformed(ShortHeader, 0)
	}
	r := Relay{Type: MessageType(b[0]), HopCount: b[1], oLo: len(m.relayOther)}
	copy(r.LinkAddr[:], b[2:18])
	copy(r.PeerAddr[:], b[18:34])
	found := false
	for opts := b[relayHeaderLen:]; len(opts) > 0; {
		code, v, rest, err := nextOption(opts)
		if err != nil {
			return nil, err
		}
		switch {
		case code == OptRelayMsg:
			if found {
				return nil, ErrNotFastPath // two messages: the general decoder's
			}
			inner, found = v, true
		case code == OptInterfaceID && !r.HasInterfaceID:
			r.InterfaceID, r.HasInterfaceID = v, true
		default:
			if err := checkOption(code, v, 0); err != nil {
				return nil, err
			}
			m.relayOther = append(m.relayOther, Option{Code: code, Value: v})
		}
		opts = rest
	}
	if !found {
		// insomniacslk accepts a relay without a message (the server
		// then drops it with its own counter): the general decoder's.
		return nil, ErrNotFastPath
	}
	r.oHi = len(m.relayOther)
	m.Relays = append(m.Relays, r)
	return inner, nil
}

// decodeMessage decodes a client or server message (§8) into m's fields.
func (m *Message) decodeMessage(b []byte) error {
	if len(b) < msgHeaderLen {
		return malformed(ShortHeader, 0)
	}
	m.Type = MessageType(b[0])
	m.TransactionID = uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	for opts := b[msgHeaderLen:]; len(opts) > 0; {
		code, v, rest, err := nextOption(opts)
		if err != nil {
			return err
		}
		if err := m.topOption(code, v); err != nil {
			return err
		}
		opts = rest
	}
	return nil
}

// topOption interprets one top-level option of a client or server
// message, or keeps it in Other.
func (m *Message) topOption(code uint16, v []byte) error {
	switch code {
	case OptIANA:
		m.IANA = append(m.IANA, IA{})
		return m.decodeIA(&m.IANA[len(m.IANA)-1], code, v)
	case OptIAPD:
		m.IAPD = append(m.IAPD, IA{})
		return m.decodeIA(&m.IAPD[len(m.IAPD)-1], code, v)
	case OptORO:
		// insomniacslk's RequestedOptions merges every ORO (some clients
		// send more than one); so does wire.
		if err := checkOption(code, v, 0); err != nil {
			return err
		}
		m.appendORO(v)
		m.HasORO = true
		return nil
	}
	if err := checkOption(code, v, 0); err != nil {
		return err
	}
	switch {
	case code == OptClientID && m.ClientID == nil:
		m.ClientID = v
	case code == OptServerID && m.ServerID == nil:
		m.ServerID = v
	case code == OptElapsedTime && !m.HasElapsedTime:
		m.ElapsedTime, m.HasElapsedTime = binary.BigEndian.Uint16(v), true
	case code == OptPreference && !m.HasPreference:
		m.Preference, m.HasPreference = v[0], true
	case code == OptRapidCommit && !m.RapidCommit:
		m.RapidCommit = true // any length, as insomniacslk (§21.14 says 0)
	case code == OptReconfAccept && !m.ReconfigureAccept:
		m.ReconfigureAccept = true // any length, as insomniacslk (§21.20 says 0)
	case code == OptStatusCode && !m.Status.Present:
		m.Status = status(v)
	case code == OptFQDN && m.FQDN == nil:
		m.FQDN = v
	default:
		m.msgOther = append(m.msgOther, Option{Code: code, Value: v})
	}
	return nil
}

// appendORO appends an ORO's codes to m.oro, each once: like
// insomniacslk, which drops a code repeated within one ORO (its
// OptionCodes.Add), not across two. A long ORO is deduplicated with a
// bitset, in linear time.
func (m *Message) appendORO(v []byte) {
	lo := len(m.oro)
	if len(v) <= 2*shortORO {
	next:
		for i := 0; i < len(v); i += 2 {
			c := binary.BigEndian.Uint16(v[i:])
			for _, d := range m.oro[lo:] {
				if d == c {
					continue next
				}
			}
			m.oro = append(m.oro, c)
		}
		return
	}
	if m.seen == nil {
		m.seen = new([1 << 10]uint64)
	}
	for i := 0; i < len(v); i += 2 {
		c := binary.BigEndian.Uint16(v[i:])
		if m.seen[c>>6]&(1<<(c&63)) == 0 {
			m.seen[c>>6] |= 1 << (c & 63)
			m.oro = append(m.oro, c)
		}
	}
	for _, c := range m.oro[lo:] {
		m.seen[c>>6] = 0
	}
}

// shortORO is the longest ORO (in codes) deduplicated by scanning.
const shortORO = 32

func status(v []byte) Status {
	return Status{Present: true, Code: binary.BigEndian.Uint16(v), Message: v[2:]}
}

// decodeIA decodes an IA_NA or IA_PD's value (§21.4, §21.21) into ia, the
// entry just appended to m.IANA or m.IAPD: filled in place, as the leases
// are, rather than returned and copied (the copies showed in profiles).
func (m *Message) decodeIA(ia *IA, code uint16, v []byte) error {
	if len(v) < 12 {
		return malformed(ShortOption, code)
	}
	ia.IAID = binary.BigEndian.Uint32(v)
	ia.T1 = binary.BigEndian.Uint32(v[4:])
	ia.T2 = binary.BigEndian.Uint32(v[8:])
	ia.lLo, ia.oLo = len(m.leases), len(m.iaOther)
	leaseCode := OptIAAddr
	if code == OptIAPD {
		leaseCode = OptIAPrefix
	}
	for opts := v[12:]; len(opts) > 0; {
		c, s, rest, err := nextOption(opts)
		if err != nil {
			return err
		}
		if err := checkOption(c, s, 1); err != nil {
			return err
		}
		switch {
		case c == leaseCode:
			m.leases = append(m.leases, Lease{})
			m.decodeLease(&m.leases[len(m.leases)-1], c, s)
		case c == OptStatusCode && !ia.Status.Present:
			ia.Status = status(s)
		default:
			m.iaOther = append(m.iaOther, Option{Code: c, Value: s})
		}
		opts = rest
	}
	ia.lHi, ia.oHi = len(m.leases), len(m.iaOther)
	return nil
}

// decodeLease decodes an IA Address (§21.6) or IA Prefix (§21.22) that
// checkOption has passed into l, the entry just appended to m.leases.
func (m *Message) decodeLease(l *Lease, code uint16, s []byte) {
	var opts []byte
	if code == OptIAAddr {
		copy(l.Addr[:], s[:16])
		l.Preferred = binary.BigEndian.Uint32(s[16:])
		l.Valid = binary.BigEndian.Uint32(s[20:])
		opts = s[24:]
	} else {
		l.Preferred = binary.BigEndian.Uint32(s)
		l.Valid = binary.BigEndian.Uint32(s[4:])
		l.Bits = s[8]
		copy(l.Addr[:], s[9:25])
		opts = s[25:]
	}
	l.oLo = len(m.leaseOther)
	for len(opts) > 0 {
		c, v, rest, _ := nextOption(opts) // checked
		if c == OptStatusCode && !l.Status.Present {
			l.Status = status(v)
		} else {
			m.leaseOther = append(m.leaseOther, Option{Code: c, Value: v})
		}
		opts = rest
	}
	l.oHi = len(m.leaseOther)
}

// windows points the exported slices at the pools, once they have stopped
// growing.
func (m *Message) windows() {
	for i := range m.Relays {
		r := &m.Relays[i]
		r.Other = m.relayOther[r.oLo:r.oHi:r.oHi]
	}
	m.Other = m.msgOther[:len(m.msgOther):len(m.msgOther)]
	if m.HasORO {
		m.ORO = m.oro[:len(m.oro):len(m.oro)]
	}
	for i := range m.leases {
		l := &m.leases[i]
		l.Other = m.leaseOther[l.oLo:l.oHi:l.oHi]
	}
	for _, ias := range [2][]IA{m.IANA, m.IAPD} {
		for i := range ias {
			ia := &ias[i]
			ia.Leases = m.leases[ia.lLo:ia.lHi:ia.lHi]
			ia.Other = m.iaOther[ia.oLo:ia.oHi:ia.oHi]
		}
	}
}
