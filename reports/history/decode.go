package history

import (
	"bytes"
	"net/netip"
	"time"
)

// parseEvent decodes line into e (zero on entry) when line is an event as
// appendEvent writes it: one JSON object, no white space, keys among
// Event's in the order of its fields, each at most once, strings printable
// ASCII without a quote or backslash, integers in plain decimal, times
// UTC in RFC 3339 with at most nine fractional digits. Whatever it
// accepts, encoding/json decodes to the same Event (FuzzParseMatchesJSON);
// ok is false for anything else, which the reader hands to encoding/json
// (ScanJSONL). A history written by d6lab is such lines but for its rare
// unusual events. It is several times faster than reflection; it
// allocates the strings it keeps, and those it has seen before in st
// not again.
//
// Libraries were measured first, on 20,800 lines of a million-client
// day: encoding/json 3,950 ns a line, goccy/go-json 1,180, bytedance/sonic
// 1,160. Neither was taken: go-json has open reports of panics on
// malformed input (goccy/go-json#575, #604), and a history is a file a
// user hands `d6lab report`; sonic compiles decoders at run time and
// falls back to encoding/json off amd64 and arm64.
func parseEvent(line []byte, e *Event, st *strTable) bool {
	p := parser{b: line}
	if !p.lit('{') {
		return false
	}
	if p.lit('}') {
		return p.end()
	}
	next := 0 // the first key allowed next (eventKeys' order)
	for {
		if !p.lit('"') {
			return false
		}
		k := p.key(next)
		if k < 0 || !p.lit(':') {
			return false
		}
		next = k + 1
		ok := false
		switch k {
		case kAt, kExtended:
			t := &e.At
			if k == kExtended {
				t = &e.Extended
			}
			*t, ok = p.time()
		case kKind:
			var s string
			s, ok = p.str(st)
			e.Kind = Kind(s)
		case kDUID: // a client's own: seldom seen twice
			e.DUID, ok = p.str(nil)
		case kServer, kIA, kCause, kDetail:
			*e.text(k), ok = p.str(st)
		case kClient, kRenewals:
			var v int64
			v, ok = p.int()
			*e.count(k) = int(v)
		case kPeer:
			var v int64
			if v, ok = p.int(); ok {
				e.Peer = new(int(v))
			}
		case kIAID:
			var v int64
			neg := p.i < len(p.b) && p.b[p.i] == '-' // even "-0": strconv.ParseUint's to refuse
			v, ok = p.int()
			ok = ok && !neg && v <= 1<<32-1
			e.IAID = uint32(v)
		case kLease, kOld:
			pf := &e.Lease
			if k == kOld {
				pf = &e.Old
			}
			*pf, ok = p.prefix()
		default: // the lifetimes
			var v int64
			v, ok = p.int()
			*e.lifetime(k) = time.Duration(v)
		}
		if !ok {
			return false
		}
		if p.lit('}') {
			return p.end()
		}
		if !p.lit(',') {
			return false
		}
	}
}

// The keys of Event's JSON, in the order of its fields (appendEvent's).
const (
	kAt = iota
	kKind
	kClient
	kDUID
	kServer
	kIA
	kIAID
	kLease
	kOld
	kT1
	kT2
	kPreferred
	kValid
	kTentative
	kPeer
	kCause
	kDetail
	kRenewals
	kExtended
)

var eventKeys = [...]string{
	kAt: "at", kKind: "kind", kClient: "client", kDUID: "duid", kServer: "server", kIA: "ia", kIAID: "iaid",
	kLease: "lease", kOld: "old", kT1: "t1", kT2: "t2", kPreferred: "preferred", kValid: "valid",
	kTentative: "tentative", kPeer: "peer", kCause: "cause", kDetail: "detail", kRenewals: "renewals",
	kExtended: "extended",
}

// text, count and lifetime are the fields of e that key k names, among
// its strings, its integers and its lifetimes.
func (e *Event) text(k int) *string {
	switch k {
	case kServer:
		return &e.Server
	case kIA:
		return &e.IA
	case kCause:
		return &e.Cause
	}
	return &e.Detail
}

func (e *Event) count(k int) *int {
	if k == kClient {
		return &e.Client
	}
	return &e.Renewals
}

func (e *Event) lifetime(k int) *time.Duration {
	return [...]*time.Duration{kT1: &e.T1, kT2: &e.T2, kPreferred: &e.Preferred, kValid: &e.Valid, kTentative: &e.Tentative}[k]
}

// strTable keeps the strings a reader has made, so that a value seen
// again (a kind, a server's DUID, a cause) is not allocated again. It
// stops growing at strTableMax; later strings are made each time.
type strTable struct{ m map[string]string }

const strTableMax = 1 << 12

// get returns b as a string, st's copy when it has one.
func (st *strTable) get(b []byte) string {
	if s, ok := st.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(st.m) < strTableMax {
		if st.m == nil {
			st.m = make(map[string]string)
		}
		st.m[s] = s
	}
	return s
}

// parser reads one line; i is the next byte.
type parser struct {
	b []byte
	i int
}

func (p *parser) lit(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) end() bool { return p.i == len(p.b) }

// key reads a key after its opening quote, with its closing quote, and
// returns its index in eventKeys, at or after from; -1 for any other.
func (p *parser) key(from int) int {
	j := bytes.IndexByte(p.b[p.i:], '"')
	if j < 0 {
		return -1
	}
	k := p.b[p.i : p.i+j]
	for x := from; x < len(eventKeys); x++ {
		if string(k) == eventKeys[x] {
			p.i += j + 1
			return x
		}
	}
	return -1
}

// raw reads a quoted string of printable ASCII without a quote or
// backslash (what encoding/json gives back unchanged) and returns its
// bytes.
func (p *parser) raw() ([]byte, bool) {
	if !p.lit('"') {
		return nil, false
	}
	for j := p.i; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[p.i:j]
			p.i = j + 1
			return s, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// str reads a string (raw), made through st unless st is nil.
func (p *parser) str(st *strTable) (string, bool) {
	b, ok := p.raw()
	if !ok {
		return "", false
	}
	if st == nil || len(b) == 0 {
		return string(b), true
	}
	return st.get(b), true
}

// int reads -?(0|[1-9][0-9]*) within int64 (encoding/json's grammar and
// strconv.ParseInt's range). A fraction or an exponent after it is left
// unread, and the event then refused: its next byte is neither ',' nor
// '}'.
func (p *parser) int() (int64, bool) {
	neg := p.lit('-')
	start := p.i
	var u uint64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		if p.i-start >= 19 { // 20 digits are past int64 either way
			return 0, false
		}
		u = u*10 + uint64(p.b[p.i]-'0')
		p.i++
	}
	if n := p.i - start; n == 0 || n > 1 && p.b[start] == '0' {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// prefix reads a quoted prefix (netip.Prefix's text).
func (p *parser) prefix() (netip.Prefix, bool) {
	b, ok := p.raw()
	if !ok || len(b) == 0 {
		return netip.Prefix{}, false
	}
	pf, err := netip.ParsePrefix(string(b))
	return pf, err == nil
}

// time reads a quoted UTC time, "YYYY-MM-DDTHH:MM:SS[.F]Z" with one to
// nine fractional digits, each field within its range (time.Time's
// UnmarshalJSON reads the same instant, in UTC, from it).
func (p *parser) time() (time.Time, bool) {
	b, ok := p.raw()
	if !ok || len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if f := b[19 : len(b)-1]; len(f) > 0 {
		if len(f) < 2 || len(f) > 10 || f[0] != '.' {
			return time.Time{}, false
		}
		v, ok := digits(f[1:])
		if !ok {
			return time.Time{}, false
		}
		nsec = v
		for range 10 - len(f) {
			nsec *= 10
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// digits reads b, decimal digits only.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int((m-1)%7%2)
}
