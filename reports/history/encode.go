package history

import (
	"net/netip"
	"strconv"
	"time"
)

// appendEvent appends e as encoding/json writes it with HTML escaping off
// (Writer), without its newline, for the events that need nothing
// unusual: every string printable ASCII without a quote or backslash, a
// year from 0 to 9999, valid prefixes. ok is false for any other event,
// which the Writer hands to encoding/json. A history is mostly such
// events; this is several times faster than reflection and allocates
// nothing. TestAppendEventMatchesJSON holds it to encoding/json byte for
// byte.
func appendEvent(b []byte, e *Event) (_ []byte, ok bool) {
	if y := e.At.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if y := e.Extended.Year(); !e.Extended.IsZero() && (y < 0 || y > 9999) {
		return b, false
	}
	if !plain(string(e.Kind)) || !plain(e.DUID) || !plain(e.Server) || !plain(e.IA) || !plain(e.Cause) || !plain(e.Detail) {
		return b, false
	}
	if e.Lease != (netip.Prefix{}) && !e.Lease.IsValid() || e.Old != (netip.Prefix{}) && !e.Old.IsValid() {
		return b, false
	}
	b = append(b, `{"at":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","kind":"`...)
	b = append(b, e.Kind...)
	b = append(b, `","client":`...)
	b = strconv.AppendInt(b, int64(e.Client), 10)
	b = appendString(b, `,"duid":"`, e.DUID)
	b = appendString(b, `,"server":"`, e.Server)
	b = appendString(b, `,"ia":"`, e.IA)
	if e.IAID != 0 {
		b = append(b, `,"iaid":`...)
		b = strconv.AppendUint(b, uint64(e.IAID), 10)
	}
	b = appendPrefix(b, `,"lease":"`, e.Lease)
	b = appendPrefix(b, `,"old":"`, e.Old)
	b = appendInt(b, `,"t1":`, int64(e.T1))
	b = appendInt(b, `,"t2":`, int64(e.T2))
	b = appendInt(b, `,"preferred":`, int64(e.Preferred))
	b = appendInt(b, `,"valid":`, int64(e.Valid))
	b = appendInt(b, `,"tentative":`, int64(e.Tentative))
	if e.Peer != nil {
		b = append(b, `,"peer":`...)
		b = strconv.AppendInt(b, int64(*e.Peer), 10)
	}
	b = appendString(b, `,"cause":"`, e.Cause)
	b = appendString(b, `,"detail":"`, e.Detail)
	b = appendInt(b, `,"renewals":`, int64(e.Renewals))
	if !e.Extended.IsZero() {
		b = append(b, `,"extended":"`...)
		b = e.Extended.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	return append(b, '}'), true
}

// plain reports whether encoding/json writes s as it is: printable ASCII
// without '"' or '\'.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendString appends key and s and the closing quote, unless s is
// empty (omitempty).
func appendString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	b = append(b, s...)
	return append(b, '"')
}

// appendInt appends key and v unless v is 0 (omitempty).
func appendInt(b []byte, key string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, v, 10)
}

// appendPrefix appends key and p as text unless p is zero (omitzero).
func appendPrefix(b []byte, key string, p netip.Prefix) []byte {
	if p == (netip.Prefix{}) {
		return b
	}
	b = append(b, key...)
	b = p.AppendTo(b)
	return append(b, '"')
}
