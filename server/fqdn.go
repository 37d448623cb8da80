package server

import (
	"bytes"
	"sync/atomic"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/server/ddns"
	"d6lab/server/lease"
)

// The Client FQDN option (RFC 4704) and the DNS changes the server asks
// for when Config.DNS is set. With Config.DNS nil none of this runs: the
// option is ignored as any unknown option, and no change is made.

// Flags of the Client FQDN option (RFC 4704 §4.1): MBZ|N|O|S.
const (
	fqdnS = 0x01 // the server does the AAAA updates
	fqdnO = 0x02 // the server overrode the client's S
	fqdnN = 0x04 // the server does no DNS update at all
)

// maxLabel and maxName are RFC 1035 §2.3.4's limits: 63 octets a label,
// 255 octets a name on the wire.
const (
	maxLabel = 63
	maxName  = 255
)

// dnsState is the server's DNS side: the changes made since they were
// last taken, where they go, and the options it ignored.
type dnsState struct {
	changes []ddns.Change
	sink    func([]ddns.Change)
	ignored atomic.Uint64
}

// TakeDNSChanges appends the DNS changes made since the last call to dst
// and forgets them. Call it from the goroutine that calls Handle (or
// between calls). Without Config.DNS there are never any.
func (s *Server) TakeDNSChanges(dst []ddns.Change) []ddns.Change {
	dst = append(dst, s.dns.changes...)
	clear(s.dns.changes)
	s.dns.changes = s.dns.changes[:0]
	return dst
}

// SetDNSSink has every exchange hand its DNS changes to fn as soon as it
// is handled, on the goroutine that called Handle (or HandleMessage),
// instead of keeping them for TakeDNSChanges. fn must not block nor keep
// the slice. nil keeps them again. Set it before serving.
func (s *Server) SetDNSSink(fn func([]ddns.Change)) { s.dns.sink = fn }

// FQDNIgnored is how many Client FQDN options the server ignored because
// they were malformed (the message was answered as if it had none). Safe
// from any goroutine.
func (s *Server) FQDNIgnored() uint64 { return s.dns.ignored.Load() }

// flushDNS hands the exchange's changes to the sink, if there is one.
func (s *Server) flushDNS() {
	if s.dns.sink != nil && len(s.dns.changes) > 0 {
		s.dns.sink(s.dns.changes)
		clear(s.dns.changes)
		s.dns.changes = s.dns.changes[:0]
	}
}

// clientFQDN reads the Client FQDN option of a Solicit, Request, Renew or
// Rebind (RFC 4704 §5: the only messages a client includes it in) and sets
// x.fqdn, the name the server registers, and x.fqdnReply, the option the
// answer carries back.
//
// The name (RFC 4704 §4.2): a partial name (no terminating zero-length
// label) is qualified with the zone; a fully qualified name inside the
// zone is kept; a fully qualified name outside the zone is replaced by its
// first label in the zone (the server only updates its own zone, and RFC
// 4704 §6 lets the server "modify the supplied name or to substitute a
// different name"); all of it in lower case. An empty name asks the server
// for one: this server makes none up, so it answers N=1 (no updates).
//
// The flags (RFC 4704 §4.1, §6): the server always does the updates,
// AAAA included: S=1, N=0, and O=1 when the client's S was 0 (O "MUST" be
// 1 when the server's S differs from the client's).
//
// A malformed option (a label longer than 63 octets, a compression
// pointer, the N and S bits both set, a name over 255 octets, characters
// other than letters, digits, '-' and '_') is ignored and counted
// (FQDNIgnored): the message is answered as if it had none. RFC 4704 does
// not say what a server does with one; RFC 9915 §16 discards a message
// only for what it lists, and an option the server cannot use is not one
// of those. (A name whose labels run past the option's end does not even
// decode: insomniacslk rejects the whole message, DropMalformed.)
func (s *Server) clientFQDN(x *exchange) {
	switch x.typ {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind:
	default:
		return
	}
	if x.fqdnIn == nil {
		return
	}
	name, flags, ok := qualifyFQDN(x.fqdnIn, s.cfg.DNS.Zone)
	if !ok {
		s.dns.ignored.Add(1)
		return
	}
	out := byte(fqdnS)
	if flags&fqdnS == 0 {
		out |= fqdnO // §4.1: the server overrides the client's S=0
	}
	if name == "" {
		// §4.2: the client asks the server for a name; none is made up
		// here, so no updates: N=1 and S=0 (§4.1: N=1 needs S=0).
		out = fqdnN
		if flags&fqdnS != 0 {
			out |= fqdnO
		}
	}
	x.fqdn = name
	data := make([]byte, 1, 2+len(name))
	data[0] = out
	x.fqdnReply = appendWireName(data, name)
}

// qualifyFQDN decodes a Client FQDN option's payload (flags, then the
// domain name in RFC 1035 §3.1 wire form, fully qualified or partial) and
// returns the name the server registers: lower case, fully qualified with
// the final dot, in zone ("" for an empty name).
func qualifyFQDN(p []byte, zone string) (name string, flags byte, ok bool) {
	if len(p) < 1 {
		return "", 0, false
	}
	flags, p = p[0], p[1:]
	if flags&fqdnN != 0 && flags&fqdnS != 0 {
		return "", flags, false // §4.1: "If the N bit is 1, the S bit MUST be 0."
	}
	if len(p) == 0 {
		return "", flags, true
	}
	b := make([]byte, 0, len(p)+len(zone)) // the name and, for a partial one, the zone
	first := -1                            // end of the first label in b
	full := false
	for i := 0; i < len(p); {
		l := int(p[i])
		i++
		if l == 0 {
			if i != len(p) {
				return "", flags, false // something after the root label
			}
			full = true
			break
		}
		if l > maxLabel || i+l > len(p) { // a compression pointer has l >= 0xc0
			return "", flags, false
		}
		for _, c := range p[i : i+l] {
			switch {
			case 'A' <= c && c <= 'Z':
				b = append(b, c+'a'-'A')
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
				b = append(b, c)
			default:
				return "", flags, false
			}
		}
		if first < 0 {
			first = len(b)
		}
		b = append(b, '.')
		i += l
	}
	if len(b) == 0 {
		return "", flags, true // only the root label: an empty name
	}
	switch {
	case !full:
		b = append(b, zone...) // §4.2: a partial name; the server completes it
	case ddns.InZone(string(b), zone):
	default:
		b = append(b[:first+1], zone...) // outside the zone: its host label in the zone
	}
	n := string(b)
	if len(n)+1 > maxName {
		return "", flags, false
	}
	return n, flags, true
}

// appendWireName appends a fully qualified text name (letters, digits,
// '-', '_' and dots) in wire form, uncompressed; "" appends nothing.
func appendWireName(b []byte, name string) []byte {
	if name == "" {
		return b
	}
	start := 0
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, name[start:i]...)
			start = i + 1
		}
	}
	return append(b, 0)
}

// The DNS changes of the binding operations. Only IA_NA addresses get
// AAAA and PTR records: a delegated prefix has no name of its own.

// dnsBound records the changes of binding b (replacing old when had).
func (s *Server) dnsBound(old lease.Binding, had bool, b lease.Binding) {
	if s.cfg.DNS == nil || b.Type != lease.NA {
		return
	}
	if had && old.Lease == b.Lease && old.FQDN == b.FQDN {
		return // extended: the records stand
	}
	if had {
		s.dnsRemove(old) // renumbered, or renamed
	}
	if b.FQDN != "" {
		// b.DUID may alias the datagram: the change outlives it.
		s.dns.changes = append(s.dns.changes, ddns.Change{Op: ddns.Add, FQDN: b.FQDN, DUID: bytes.Clone(b.DUID), Addr: b.Lease.Addr()})
	}
}

// dnsRemove records the removal of b's records (released, declined,
// expired, or replaced).
func (s *Server) dnsRemove(b lease.Binding) {
	if s.cfg.DNS == nil || b.Type != lease.NA || b.FQDN == "" {
		return
	}
	s.dns.changes = append(s.dns.changes, ddns.Change{Op: ddns.Remove, FQDN: b.FQDN, DUID: b.DUID, Addr: b.Lease.Addr()})
}
