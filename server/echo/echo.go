package echo

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
)

// Message types (RFC 9915 §7.3) and options (§21) the echo reads or writes.
const (
	msgSolicit   = 1
	msgAdvertise = 2
	msgRequest   = 3
	msgConfirm   = 4
	msgRenew     = 5
	msgRebind    = 6
	msgReply     = 7
	msgRelease   = 8
	msgDecline   = 9
	msgInfoReq   = 11
	msgRelayForw = 12
	msgRelayRepl = 13

	optClientID    = 1
	optServerID    = 2
	optIANA        = 3
	optIAAddr      = 5
	optRelayMsg    = 9
	optRapidCommit = 14
	optInterfaceID = 18
	optIAPD        = 25
	optIAPrefix    = 26

	relayHdrLen = 34 // msg-type, hop-count, link-address, peer-address (§9)
	// maxDepth bounds the Relay-forward nesting it unwraps (HOP_COUNT_LIMIT, §7.6).
	maxDepth = 8
)

// What every answer grants: one address, one prefix, the lifetimes the
// bench's own servers hand out (day-long: no client comes back within a
// run).
var (
	Addr   = netip.MustParseAddr("2001:db8:ec::1")
	Prefix = netip.MustParsePrefix("2001:db8:ec00:100::/56")
)

const (
	t1, t2, preferred, valid = 12 * time.Hour, 19 * time.Hour, 24 * time.Hour, 48 * time.Hour
)

// Echo answers requests; it holds its Server Identifier option. Answer
// may be called from several goroutines.
type Echo struct {
	sid []byte // the whole Server Identifier option, header included
}

// ErrDUID is returned by New for a DUID that cannot be a Server Identifier.
var ErrDUID = errors.New("echo: a DUID is 1..128 bytes (RFC 9915 §11.1)")

// New returns an Echo that identifies itself with duid.
func New(duid []byte) (*Echo, error) {
	if len(duid) < 1 || len(duid) > 128 {
		return nil, ErrDUID
	}
	sid := make([]byte, 4+len(duid))
	binary.BigEndian.PutUint16(sid, optServerID)
	binary.BigEndian.PutUint16(sid[2:], uint16(len(duid)))
	copy(sid[4:], duid)
	return &Echo{sid: sid}, nil
}

// MaxAnswer is the room an answer may need beyond its request: the
// Server Identifier and, per IA, an IAADDR or IAPREFIX. A dst of
// len(req)+MaxAnswer+len(duid) always suffices for a request with one IA
// of each kind; Answer returns 0 rather than overrun a smaller one.
const MaxAnswer = 256

// Answer writes into dst the answer to req, a datagram received on port
// 547, and returns its length; 0 means no answer (not a client or relay
// message, malformed, relayed deeper than 8, or dst too small). It does
// not allocate.
func (e *Echo) Answer(dst, req []byte) int {
	return e.answer(dst, req, 0)
}

func (e *Echo) answer(dst, req []byte, depth int) int {
	if len(req) < 4 {
		return 0
	}
	switch req[0] {
	case msgRelayForw:
		return e.relay(dst, req, depth)
	case msgSolicit, msgRequest, msgConfirm, msgRenew, msgRebind, msgRelease, msgDecline, msgInfoReq:
		return e.client(dst, req)
	}
	return 0
}

// relay answers a Relay-forward (RFC 9915 §19.3): a Relay-reply with the
// same hop count, link-address and peer-address, the Interface-ID option
// copied (§21.18) and the answer to the relayed message.
func (e *Echo) relay(dst, req []byte, depth int) int {
	if depth >= maxDepth || len(req) < relayHdrLen || len(dst) < relayHdrLen {
		return 0
	}
	var inner, ifid []byte
	opts := req[relayHdrLen:]
	for i := 0; i < len(opts); {
		code, v, next, ok := option(opts, i)
		if !ok {
			return 0
		}
		switch {
		case code == optRelayMsg && inner == nil:
			inner = v
		case code == optInterfaceID && ifid == nil:
			ifid = opts[i:next]
		}
		i = next
	}
	if inner == nil {
		return 0
	}
	copy(dst, req[:relayHdrLen])
	dst[0] = msgRelayRepl
	n := relayHdrLen
	if ifid != nil {
		if len(dst)-n < len(ifid) {
			return 0
		}
		n += copy(dst[n:], ifid)
	}
	if len(dst)-n < 4 {
		return 0
	}
	m := e.answer(dst[n+4:], inner, depth+1)
	if m == 0 || m > 0xffff {
		return 0
	}
	binary.BigEndian.PutUint16(dst[n:], optRelayMsg)
	binary.BigEndian.PutUint16(dst[n+2:], uint16(m))
	return n + 4 + m
}

// client answers a client message: the reply type, the transaction ID,
// the Client Identifier, the Server Identifier, and each IA with the fixed
// address or prefix.
func (e *Echo) client(dst, req []byte) int {
	opts := req[4:]
	rapid := false
	for i := 0; i < len(opts); {
		code, _, next, ok := option(opts, i)
		if !ok {
			return 0
		}
		if code == optRapidCommit {
			rapid = true
		}
		i = next
	}
	w := writer{b: dst}
	typ := byte(msgReply)
	if req[0] == msgSolicit && !rapid {
		typ = msgAdvertise
	}
	w.put(typ, req[1], req[2], req[3])
	for i := 0; i < len(opts); {
		code, _, next, _ := option(opts, i)
		if code == optClientID {
			w.put(opts[i:next]...)
			break
		}
		i = next
	}
	w.put(e.sid...)
	for i := 0; i < len(opts); {
		code, v, next, _ := option(opts, i)
		i = next
		if (code != optIANA && code != optIAPD) || len(v) < 12 {
			continue
		}
		w.u16(code)
		if code == optIANA {
			w.u16(12 + 4 + 24) // IAID, T1, T2 and one IAADDR
		} else {
			w.u16(12 + 4 + 25) // IAID, T1, T2 and one IAPREFIX
		}
		w.put(v[:4]...) // IAID
		w.u32(secs(t1))
		w.u32(secs(t2))
		if code == optIANA {
			w.u16(optIAAddr)
			w.u16(24)
			a := Addr.As16()
			w.put(a[:]...)
			w.u32(secs(preferred))
			w.u32(secs(valid))
		} else {
			w.u16(optIAPrefix)
			w.u16(25)
			w.u32(secs(preferred))
			w.u32(secs(valid))
			w.put(byte(Prefix.Bits()))
			a := Prefix.Addr().As16()
			w.put(a[:]...)
		}
	}
	if typ == msgReply && req[0] == msgSolicit {
		w.u16(optRapidCommit) // §18.3.1: a Rapid Commit Reply carries the option
		w.u16(0)
	}
	if w.short {
		return 0
	}
	return w.n
}

// option reads the option at opts[i] (§21.1): its code, value and the
// index after it; ok is false when it overruns opts.
func option(opts []byte, i int) (code uint16, v []byte, next int, ok bool) {
	if len(opts)-i < 4 {
		return 0, nil, 0, false
	}
	code = binary.BigEndian.Uint16(opts[i:])
	l := int(binary.BigEndian.Uint16(opts[i+2:]))
	if len(opts)-i-4 < l {
		return 0, nil, 0, false
	}
	return code, opts[i+4 : i+4+l], i + 4 + l, true
}

// writer appends to a fixed buffer, remembering an overrun instead of
// growing.
type writer struct {
	b     []byte
	n     int
	short bool
}

func (w *writer) put(p ...byte) {
	if w.short || len(w.b)-w.n < len(p) {
		w.short = true
		return
	}
	w.n += copy(w.b[w.n:], p)
}

func (w *writer) u16(v uint16) { w.put(byte(v>>8), byte(v)) }
func (w *writer) u32(v uint32) { w.put(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)) }

func secs(d time.Duration) uint32 { return uint32(d / time.Second) }
