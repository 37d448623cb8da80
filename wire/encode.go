package wire

import "encoding/binary"

// AppendTo appends m's wire form to b and returns the extended slice; it
// allocates nothing when b has room. Relays wrap the message outermost
// first, each level's Interface-Id first, its Other options next and its
// Relay Message option last. A message's options go in this order: Client
// ID, Server ID, IA_NA, IA_PD, ORO, Elapsed Time, Preference, Rapid Commit,
// Reconfigure Accept, Status Code, Client FQDN, then Other; inside an IA
// its leases, its Status Code, then its Other; inside a lease its Status
// Code, then its Other. So a message decoded from bytes in that order
// encodes to the same bytes, and any message encodes to bytes that decode
// to it again.
//
// It fails with ErrTooLong when an option's value would not fit its
// 16-bit length; b's content past its original length is then undefined.
func (m *Message) AppendTo(b []byte) ([]byte, error) {
	return m.appendRelays(b, 0)
}

func (m *Message) appendRelays(b []byte, i int) ([]byte, error) {
	if i == len(m.Relays) {
		return m.appendMessage(b)
	}
	r := &m.Relays[i]
	b = append(b, byte(r.Type), r.HopCount)
	b = append(b, r.LinkAddr[:]...)
	b = append(b, r.PeerAddr[:]...)
	var err error
	if r.HasInterfaceID {
		if b, err = appendOption(b, OptInterfaceID, r.InterfaceID); err != nil {
			return b, err
		}
	}
	if b, err = appendOthers(b, r.Other); err != nil {
		return b, err
	}
	at := len(b)
	b = binary.BigEndian.AppendUint16(b, OptRelayMsg)
	b = append(b, 0, 0)
	if b, err = m.appendRelays(b, i+1); err != nil {
		return b, err
	}
	return b, patch(b, at)
}

func (m *Message) appendMessage(b []byte) ([]byte, error) {
	x := m.TransactionID
	b = append(b, byte(m.Type), byte(x>>16), byte(x>>8), byte(x))
	var err error
	if m.ClientID != nil {
		if b, err = appendOption(b, OptClientID, m.ClientID); err != nil {
			return b, err
		}
	}
	if m.ServerID != nil {
		if b, err = appendOption(b, OptServerID, m.ServerID); err != nil {
			return b, err
		}
	}
	for i := range m.IANA {
		if b, err = appendIA(b, OptIANA, &m.IANA[i]); err != nil {
			return b, err
		}
	}
	for i := range m.IAPD {
		if b, err = appendIA(b, OptIAPD, &m.IAPD[i]); err != nil {
			return b, err
		}
	}
	if m.HasORO {
		b = m.appendOROs(b)
	}
	if m.HasElapsedTime {
		b = append(b, 0, byte(OptElapsedTime), 0, 2, byte(m.ElapsedTime>>8), byte(m.ElapsedTime))
	}
	if m.HasPreference {
		b = append(b, 0, byte(OptPreference), 0, 1, m.Preference)
	}
	if m.RapidCommit {
		b = append(b, 0, byte(OptRapidCommit), 0, 0)
	}
	if m.ReconfigureAccept {
		b = append(b, 0, byte(OptReconfAccept), 0, 0)
	}
	if b, err = appendStatus(b, &m.Status); err != nil {
		return b, err
	}
	if m.FQDN != nil {
		if b, err = appendOption(b, OptFQDN, m.FQDN); err != nil {
			return b, err
		}
	}
	return appendOthers(b, m.Other)
}

// appendOROs writes m.ORO as one ORO option, or as several where a code
// repeats (or past 32767 codes): Decode drops a code repeated within one
// ORO and merges ORO options, so what it reads back is m.ORO again.
func (m *Message) appendOROs(b []byte) []byte {
	codes := m.ORO
	for first := true; first || len(codes) > 0; first = false {
		n := m.distinctPrefix(codes)
		b = binary.BigEndian.AppendUint16(b, OptORO)
		b = binary.BigEndian.AppendUint16(b, uint16(2*n))
		for _, c := range codes[:n] {
			b = binary.BigEndian.AppendUint16(b, c)
		}
		codes = codes[n:]
	}
	return b
}

// distinctPrefix is the length of the longest prefix of codes, at most
// 32767 long, in which no code repeats.
func (m *Message) distinctPrefix(codes []uint16) int {
	codes = codes[:min(len(codes), 0xffff/2)]
	if len(codes) <= shortORO {
		for i, c := range codes {
			for _, d := range codes[:i] {
				if d == c {
					return i
				}
			}
		}
		return len(codes)
	}
	if m.seen == nil {
		m.seen = new([1 << 10]uint64)
	}
	n := len(codes)
	for i, c := range codes {
		if m.seen[c>>6]&(1<<(c&63)) != 0 {
			n = i
			break
		}
		m.seen[c>>6] |= 1 << (c & 63)
	}
	for _, c := range codes[:n] {
		m.seen[c>>6] = 0
	}
	return n
}

func appendIA(b []byte, code uint16, ia *IA) ([]byte, error) {
	at := len(b)
	b = binary.BigEndian.AppendUint16(b, code)
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint32(b, ia.IAID)
	b = binary.BigEndian.AppendUint32(b, ia.T1)
	b = binary.BigEndian.AppendUint32(b, ia.T2)
	var err error
	for i := range ia.Leases {
		if b, err = appendLease(b, code, &ia.Leases[i]); err != nil {
			return b, err
		}
	}
	if b, err = appendStatus(b, &ia.Status); err != nil {
		return b, err
	}
	if b, err = appendOthers(b, ia.Other); err != nil {
		return b, err
	}
	return b, patch(b, at)
}

// appendLease appends an IA Address (in an IA_NA) or IA Prefix (in an
// IA_PD) option.
func appendLease(b []byte, iaCode uint16, l *Lease) ([]byte, error) {
	at := len(b)
	if iaCode == OptIANA {
		b = binary.BigEndian.AppendUint16(b, OptIAAddr)
		b = append(b, 0, 0)
		b = append(b, l.Addr[:]...)
		b = binary.BigEndian.AppendUint32(b, l.Preferred)
		b = binary.BigEndian.AppendUint32(b, l.Valid)
	} else {
		b = binary.BigEndian.AppendUint16(b, OptIAPrefix)
		b = append(b, 0, 0)
		b = binary.BigEndian.AppendUint32(b, l.Preferred)
		b = binary.BigEndian.AppendUint32(b, l.Valid)
		b = append(b, l.Bits)
		b = append(b, l.Addr[:]...)
	}
	var err error
	if b, err = appendStatus(b, &l.Status); err != nil {
		return b, err
	}
	if b, err = appendOthers(b, l.Other); err != nil {
		return b, err
	}
	return b, patch(b, at)
}

func appendStatus(b []byte, s *Status) ([]byte, error) {
	if !s.Present {
		return b, nil
	}
	if len(s.Message) > 0xffff-2 {
		return b, ErrTooLong
	}
	b = binary.BigEndian.AppendUint16(b, OptStatusCode)
	b = binary.BigEndian.AppendUint16(b, uint16(2+len(s.Message)))
	b = binary.BigEndian.AppendUint16(b, s.Code)
	return append(b, s.Message...), nil
}

func appendOthers(b []byte, opts []Option) ([]byte, error) {
	var err error
	for _, o := range opts {
		if b, err = appendOption(b, o.Code, o.Value); err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendOption(b []byte, code uint16, v []byte) ([]byte, error) {
	if len(v) > 0xffff {
		return b, ErrTooLong
	}
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...), nil
}

// patch writes the length of the option whose header starts at b[at].
func patch(b []byte, at int) error {
	n := len(b) - at - 4
	if n > 0xffff {
		return ErrTooLong
	}
	binary.BigEndian.PutUint16(b[at+2:], uint16(n))
	return nil
}
