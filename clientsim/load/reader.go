package load

import (
	"encoding/binary"
	"errors"
)

// Reader errors. They are values, so a failed read does not allocate.
var (
	errShort    = errors.New("load: message shorter than its header")
	errOption   = errors.New("load: option overruns its container")
	errIA       = errors.New("load: IA option too short")
	errSubopt   = errors.New("load: IAADDR/IAPREFIX/Status Code option too short")
	errRelay    = errors.New("load: Relay-reply without a Relay Message option")
	errDepth    = errors.New("load: relay messages nested too deep")
	errNotReply = errors.New("load: not a server-to-client message")
)

// maxRelayDepth bounds Relay-reply unwrapping (RFC 9915 §7.6 HOP_COUNT_LIMIT is 8).
const maxRelayDepth = 32

// iaInfo is what the reader extracts from the first IA_NA or IA_PD.
type iaInfo struct {
	present bool
	iaid    uint32
	t1, t2  uint32
	status  int32 // the IA's Status Code, -1 when absent
	// The first IAADDR (IA_NA) or IAPREFIX (IA_PD).
	hasAddr     bool
	addr        [16]byte
	plen        uint8 // IAPREFIX prefix length
	pref, valid uint32
	addrStatus  int32 // the IAADDR/IAPREFIX's own Status Code, -1 when absent
}

// reply is what the reader extracts from a server message: the fields the
// generator needs and the fuzz test cross-checks.
type reply struct {
	msgType uint8
	xid     uint32
	sid     []byte // the first Server Identifier option, header included (aliases the input)
	status  int32  // the message's Status Code, -1 when absent
	rapid   bool   // a Rapid Commit option is present
	relayed int    // Relay-reply levels unwrapped
	na, pd  iaInfo
}

// parseReply reads a server message (unwrapping Relay-replies to the
// Relay Message option inside, RFC 9915 §9.2) into r without allocating.
// Only the first of each option counts, as in dhcpv6.Options.GetOne.
func parseReply(b []byte, r *reply) error {
	*r = reply{status: -1}
	r.na.status, r.na.addrStatus = -1, -1
	r.pd.status, r.pd.addrStatus = -1, -1
	for {
		if len(b) < 4 {
			return errShort
		}
		if b[0] != msgRelayRepl && b[0] != msgRelayForw {
			break
		}
		if len(b) < relayHdrLen {
			return errShort
		}
		var inner []byte
		found := false
		for opts, i := b[relayHdrLen:], 0; i < len(opts); {
			code, v, next, err := nextOption(opts, i)
			if err != nil {
				return err
			}
			if code == optRelayMsg && !found {
				inner, found = v, true
			}
			i = next
		}
		if !found {
			return errRelay
		}
		r.relayed++
		if r.relayed > maxRelayDepth {
			return errDepth
		}
		b = inner
	}
	r.msgType = b[0]
	r.xid = uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	opts := b[4:]
	for i := 0; i < len(opts); {
		code, v, next, err := nextOption(opts, i)
		if err != nil {
			return err
		}
		switch code {
		case optServerID:
			if r.sid == nil {
				r.sid = opts[i:next]
			}
		case optStatus:
			if r.status < 0 {
				if len(v) < 2 {
					return errSubopt
				}
				r.status = int32(binary.BigEndian.Uint16(v))
			}
		case optRapid:
			r.rapid = true
		case optIANA:
			if !r.na.present {
				if err := parseIA(v, &r.na, optIAAddr); err != nil {
					return err
				}
			}
		case optIAPD:
			if !r.pd.present {
				if err := parseIA(v, &r.pd, optIAPrefix); err != nil {
					return err
				}
			}
		}
		i = next
	}
	return nil
}

// nextOption reads the option that starts at opts[i] (RFC 9915 §21.1:
// 16-bit code, 16-bit length, value): its code, its value (aliasing opts)
// and the index of the option after it. It fails with errOption when the
// header or the value overruns opts. Every option loop of the reader uses
// it; it allocates nothing.
func nextOption(opts []byte, i int) (code uint16, v []byte, next int, err error) {
	if len(opts)-i < 4 {
		return 0, nil, 0, errOption
	}
	code = binary.BigEndian.Uint16(opts[i:])
	l := int(binary.BigEndian.Uint16(opts[i+2:]))
	if len(opts)-i-4 < l {
		return 0, nil, 0, errOption
	}
	return code, opts[i+4 : i+4+l], i + 4 + l, nil
}

// parseIA reads an IA_NA or IA_PD body (RFC 9915 §21.4, §21.21): IAID,
// T1, T2, then options, of which the first Status Code and the first
// IAADDR (§21.6) or IAPREFIX (§21.22) count.
func parseIA(v []byte, ia *iaInfo, sub uint16) error {
	if len(v) < 12 {
		return errIA
	}
	ia.present = true
	ia.iaid = binary.BigEndian.Uint32(v)
	ia.t1 = binary.BigEndian.Uint32(v[4:])
	ia.t2 = binary.BigEndian.Uint32(v[8:])
	opts := v[12:]
	for i := 0; i < len(opts); {
		code, s, next, err := nextOption(opts, i)
		if err != nil {
			return err
		}
		l := len(s)
		switch {
		case code == optStatus:
			if ia.status < 0 {
				if l < 2 {
					return errSubopt
				}
				ia.status = int32(binary.BigEndian.Uint16(s))
			}
		case code == sub && !ia.hasAddr:
			var rest []byte
			if sub == optIAAddr {
				if l < 24 {
					return errSubopt
				}
				copy(ia.addr[:], s[:16])
				ia.pref = binary.BigEndian.Uint32(s[16:])
				ia.valid = binary.BigEndian.Uint32(s[20:])
				rest = s[24:]
			} else {
				if l < 25 {
					return errSubopt
				}
				ia.pref = binary.BigEndian.Uint32(s)
				ia.valid = binary.BigEndian.Uint32(s[4:])
				ia.plen = s[8]
				copy(ia.addr[:], s[9:25])
				rest = s[25:]
			}
			ia.hasAddr = true
			if err := addrStatus(rest, ia); err != nil {
				return err
			}
		}
		i = next
	}
	return nil
}

// addrStatus reads the first Status Code among an IAADDR's or IAPREFIX's options.
func addrStatus(opts []byte, ia *iaInfo) error {
	for i := 0; i < len(opts); {
		code, v, next, err := nextOption(opts, i)
		if err != nil {
			return err
		}
		if code == optStatus && ia.addrStatus < 0 {
			if len(v) < 2 {
				return errSubopt
			}
			ia.addrStatus = int32(binary.BigEndian.Uint16(v))
		}
		i = next
	}
	return nil
}
