package wire

import "encoding/binary"

// The checks on options wire keeps raw. insomniacslk/dhcp parses every
// option it knows wherever it occurs (top level, inside an IA, an IA
// Address, ...) and rejects the whole message when one is malformed; to
// accept and reject the same messages, wire checks those formats too,
// without keeping what it reads. The rules are insomniacslk's, which are
// its RFCs' fixed parts (cited per case).

// maxNest bounds options nested in options (an IA_NA in an IA_NA, ...):
// deeper is ErrNotFastPath. No valid message nests more than three
// (IA_NA, IA Address, Status Code).
const maxNest = 8

// Option codes wire does not interpret but checks as insomniacslk does.
const (
	optUserClass      = 15  // RFC 9915 §21.15
	optVendorClass    = 16  // §21.16
	optVendorOpts     = 17  // §21.17
	optDNSServers     = 23  // RFC 3646 §3
	optDomainList     = 24  // RFC 3646 §4
	optSNTPServers    = 31  // RFC 4075 §4
	optInfoRefresh    = 32  // §21.23
	optRemoteID       = 37  // RFC 4649 §3
	optNTPServer      = 56  // RFC 5908 §4
	optBootfileParam  = 60  // RFC 5970 §3.2
	optClientArchType = 61  // RFC 5970 §3.3
	optNII            = 62  // RFC 5970 §3.4
	optClientLLAddr   = 79  // RFC 6939 §4
	optDHCPv4Msg      = 87  // RFC 7341 §6.1
	optDHCP4o6Servers = 88  // RFC 7341 §6.2
	opt4RD            = 97  // RFC 7600 §4.9
	opt4RDMapRule     = 98  // RFC 7600 §4.9
	opt4RDNonMapRule  = 99  // RFC 7600 §4.9
	optRelayPort      = 135 // RFC 8357 §5.2
)

// nextOption reads the option at the start of b (§21.1): its code, its
// value (aliasing b) and what follows it.
func nextOption(b []byte) (code uint16, v, rest []byte, err error) {
	if len(b) < 4 {
		return 0, nil, nil, malformed(OptionHeader, 0)
	}
	code = binary.BigEndian.Uint16(b)
	l := int(binary.BigEndian.Uint16(b[2:]))
	if len(b)-4 < l {
		return code, nil, nil, malformed(OptionLength, code)
	}
	return code, b[4 : 4+l], b[4+l:], nil
}

// checkOptions checks every option of an option list that wire keeps raw
// inside it (the options of an IA_TA, an IA Address inside an IA_PD, ...).
func checkOptions(b []byte, nest int) error {
	if nest > maxNest {
		return ErrNotFastPath
	}
	for len(b) > 0 {
		code, v, rest, err := nextOption(b)
		if err != nil {
			return err
		}
		if err := checkOption(code, v, nest); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// checkOption checks one option's value as insomniacslk's parser for its
// code does. nest is the depth of the list holding it.
func checkOption(code uint16, v []byte, nest int) error {
	n := len(v)
	bad := func(r Reason) error { return malformed(r, code) }
	switch code {
	case OptClientID, OptServerID:
		return checkDUID(code, v)
	case OptIANA, OptIAPD: // §21.4, §21.21: IAID, T1, T2
		if n < 12 {
			return bad(ShortOption)
		}
		return checkOptions(v[12:], nest+1)
	case OptIATA: // §21.5: IAID
		if n < 4 {
			return bad(ShortOption)
		}
		return checkOptions(v[4:], nest+1)
	case OptIAAddr: // §21.6: address, two lifetimes
		if n < 24 {
			return bad(ShortOption)
		}
		return checkOptions(v[24:], nest+1)
	case OptIAPrefix: // §21.22: two lifetimes, length, prefix
		if n < 25 {
			return bad(ShortOption)
		}
		return checkOptions(v[25:], nest+1)
	case OptORO: // §21.7: 2-octet codes
		if n%2 != 0 {
			return bad(BadLength)
		}
	case OptPreference: // §21.8
		if n != 1 {
			return bad(BadLength)
		}
	case OptElapsedTime: // §21.9
		if n != 2 {
			return bad(BadLength)
		}
	case OptRelayMsg, optDHCPv4Msg, opt4RD, opt4RDMapRule, opt4RDNonMapRule:
		// A whole message, or formats wire does not check: the general
		// decoder's business.
		return ErrNotFastPath
	case OptStatusCode: // §21.13: 2-octet code
		if n < 2 {
			return bad(ShortOption)
		}
	case optUserClass: // §21.15: at least one length-prefixed item
		if n == 0 || !itemList(v) {
			return bad(BadList)
		}
	case optVendorClass: // §21.16: enterprise number, at least one item
		if n < 4 {
			return bad(ShortOption)
		}
		if n == 4 || !itemList(v[4:]) {
			return bad(BadList)
		}
	case optVendorOpts: // §21.17: enterprise number, then options kept opaque
		if n < 4 {
			return bad(ShortOption)
		}
		for b := v[4:]; len(b) > 0; {
			_, _, rest, err := nextOption(b)
			if err != nil {
				return err
			}
			b = rest
		}
	case optDNSServers, optSNTPServers, optDHCP4o6Servers: // IPv6 addresses
		if n%16 != 0 {
			return bad(BadLength)
		}
	case optDomainList:
		if !checkName(v) {
			return bad(BadName)
		}
	case OptFQDN: // RFC 4704 §4: flags, then the domain name
		if n < 1 {
			return bad(ShortOption)
		}
		if !checkName(v[1:]) {
			return bad(BadName)
		}
	case optInfoRefresh: // §21.23
		if n != 4 {
			return bad(BadLength)
		}
	case optRemoteID: // RFC 4649 §3: enterprise number first
		if n < 4 {
			return bad(ShortOption)
		}
	case optNTPServer: // RFC 5908 §4: suboptions
		return checkNTP(v)
	case optBootfileParam: // RFC 5970 §3.2: length-prefixed parameters
		if !itemList(v) {
			return bad(BadList)
		}
	case optClientArchType: // RFC 5970 §3.3: at least one 2-octet type
		if n == 0 || n%2 != 0 {
			return bad(BadLength)
		}
	case optNII: // RFC 5970 §3.4: type, major, minor
		if n != 3 {
			return bad(BadLength)
		}
	case optClientLLAddr: // RFC 6939 §4: link-layer type first
		if n < 2 {
			return bad(ShortOption)
		}
	case optRelayPort: // RFC 8357 §5.2
		if n != 2 {
			return bad(BadLength)
		}
	}
	return nil
}

// checkDUID applies insomniacslk's DUID rules (RFC 9915 §11): a 2-octet
// type, then the fixed part of the known types. RFC 9915 §11.1's upper
// bound (128 octets after the type) is not checked, as insomniacslk does
// not.
func checkDUID(code uint16, v []byte) error {
	if len(v) < 2 {
		return malformed(ShortOption, code)
	}
	n := len(v) - 2
	ok := true
	switch binary.BigEndian.Uint16(v) {
	case 1: // DUID-LLT §11.2: hardware type, time
		ok = n >= 6
	case 2: // DUID-EN §11.3: enterprise number
		ok = n >= 4
	case 3: // DUID-LL §11.4: hardware type
		ok = n >= 2
	case 4: // DUID-UUID §11.5: exactly 16 octets
		ok = n == 16
	}
	if !ok {
		return malformed(BadDUID, code)
	}
	return nil
}

// itemList reports whether b is a sequence of items each a 2-octet length
// and that many octets, filling b exactly.
func itemList(b []byte) bool {
	for len(b) >= 2 {
		l := int(binary.BigEndian.Uint16(b))
		if len(b)-2 < l {
			return false
		}
		b = b[2+l:]
	}
	return len(b) == 0
}

// checkNTP checks an NTP Server option's suboptions (RFC 5908 §4): an
// address (1) or multicast address (2) exactly 16 octets, an FQDN (3) a
// domain name.
func checkNTP(v []byte) error {
	for len(v) > 0 {
		code, s, rest, err := nextOption(v)
		if err != nil {
			return malformed(err.(Error).Reason, optNTPServer)
		}
		switch code {
		case 1, 2:
			if len(s) != 16 {
				return malformed(BadLength, optNTPServer)
			}
		case 3:
			if !checkName(s) {
				return malformed(BadName, optNTPServer)
			}
		}
		v = rest
	}
	return nil
}

// checkName reports whether b decodes as insomniacslk's rfc1035label does:
// labels, each a length octet and that many octets, the whole name
// running to the end of b; a compression pointer (two octets, top bits
// 11, RFC 1035 §4.1.4) may be followed once but not from inside a
// pointed-to name, and must not be cut off. A label running past the end
// is an error; a pointer past the end ends the name.
func checkName(b []byte) bool {
	pos, back, inPointer := 0, 0, false
	for pos < len(b) {
		l := int(b[pos])
		pos++
		switch {
		case l == 0:
			if inPointer {
				pos, inPointer = back, false
			}
		case l&0xc0 == 0xc0:
			if inPointer || pos+1 > len(b) {
				return false
			}
			off := int(b[pos-1]&^0xc0)<<8 | int(b[pos])
			inPointer, back, pos = true, pos+1, off
		default:
			if pos+l > len(b) {
				return false
			}
			pos += l
		}
	}
	return true
}
