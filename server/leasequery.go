package server

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/server/lease"
)

// DHCPv6 Leasequery (RFC 5007). A requestor (a relay agent or an access
// concentrator, not a DHCP client) asks the server which client holds an
// address, or which leases a client holds; the server answers from its
// bindings and changes nothing.
//
// insomniacslk knows the message types (14, 15) and option codes (44 to
// 46) but has no typed options for them: OPTION_LQ_QUERY is parsed here,
// with bounds checks, and OPTION_CLIENT_DATA and OPTION_CLT_TIME are built
// as dhcpv6.OptionGeneric (which the fast encoder writes byte for byte).

// Query types (RFC 5007 §4.1.2.1).
const (
	queryByAddress  = 1 // QUERY_BY_ADDRESS: query-options hold an OPTION_IAADDR
	queryByClientID = 2 // QUERY_BY_CLIENTID: query-options hold an OPTION_CLIENTID
)

// lqFixed is the fixed part of OPTION_LQ_QUERY: query-type (1 octet) and
// link-address (16 octets); option-len is 17 + the query-options
// (RFC 5007 §4.1.2.1).
const lqFixed = 1 + net.IPv6len

// iaAddrMin is the payload of an OPTION_IAADDR without options: address and
// two lifetimes (RFC 9915 §21.6).
const iaAddrMin = net.IPv6len + 8

// Leasequery status codes (RFC 5007 §4.1.3; 7 to 10, IANA "DHCPv6 Status
// Codes").
const (
	statusUnknownQueryType = iana.StatusUnknownQueryType // 7
	statusMalformedQuery   = iana.StatusMalformedQuery   // 8
	statusNotConfigured    = iana.StatusNotConfigured    // 9
	statusNotAllowed       = iana.StatusNotAllowed       // 10
)

// lqQuery is a decoded OPTION_LQ_QUERY.
type lqQuery struct {
	typ  uint8
	link netip.Addr
	opts []byte // query-options, raw
}

// parseLQQuery decodes an OPTION_LQ_QUERY payload; ok is false when it is
// shorter than its fixed part.
func parseLQQuery(b []byte) (q lqQuery, ok bool) {
	if len(b) < lqFixed {
		return q, false
	}
	q.typ = b[0]
	q.link = netip.AddrFrom16([16]byte(b[1:lqFixed]))
	q.opts = b[lqFixed:]
	return q, true
}

// findOption returns the payload of the first option with code c in the
// raw option list b; ok is false when b is not a well-formed list of
// options (a length running past the end), found when c is absent.
func findOption(b []byte, c dhcpv6.OptionCode) (payload []byte, found, ok bool) {
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, false, false
		}
		code := dhcpv6.OptionCode(binary.BigEndian.Uint16(b))
		n := int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+n {
			return nil, false, false
		}
		if code == c && !found {
			payload, found = b[4:4+n], true
		}
		b = b[4+n:]
	}
	return payload, found, true
}

// checkLeasequery applies RFC 5007 §4.2.1 to a LEASEQUERY. It runs in
// checkIDs, after the Client Identifier (if any) is on x.
func (s *Server) checkLeasequery(x *exchange) verdict {
	// §4.2.1: servers MUST discard a LEASEQUERY without a Client
	// Identifier option (the requestor's).
	if x.duid == nil {
		x.drop = DropLeasequeryNoClientID
		return drop
	}
	// §4.2.1: and one whose Server Identifier option does not match the
	// server's own identifier (a query for a given server may carry it).
	if x.sid != nil && string(x.sid) != string(s.duid) {
		x.drop = DropLeasequeryOtherServer
		return drop
	}
	// §4.2.1: and one that does not include an OPTION_LQ_QUERY. A query
	// option that is present but truncated is answered MalformedQuery
	// (leasequery below).
	if x.msg.Options.GetOne(dhcpv6.OptionLQQuery) == nil {
		x.drop = DropLeasequeryNoQuery
		return drop
	}
	return next
}

// leasequery answers a LEASEQUERY with a LEASEQUERY-REPLY (RFC 5007 §4.4).
// It only reads the store: no binding is created, extended or removed, so
// in Serve's group commit its answer never waits for a Sync.
func (s *Server) leasequery(x *exchange) {
	// §4.4.1: the reply copies the transaction-id; it carries the
	// server's Server Identifier and the requestor's Client Identifier
	// (newMessage), without which a requestor MUST discard it (§4.2.2).
	r := s.newMessage(x, dhcpv6.MessageTypeLeaseQueryReply)
	x.reply = reply{typ: r.MessageType, lq: r}
	fail := func(c statusCode, msg string) { r.AddOption(status(c, msg)) }

	o := x.msg.Options.GetOne(dhcpv6.OptionLQQuery)
	q, ok := parseLQQuery(o.ToBytes())
	if !ok {
		fail(statusMalformedQuery, "OPTION_LQ_QUERY shorter than query-type and link-address")
		return
	}
	// §4.1.2.1: an unsupported query-type SHOULD get UnknownQueryType.
	var want dhcpv6.OptionCode
	switch q.typ {
	case queryByAddress:
		want = dhcpv6.OptionIAAddr
	case queryByClientID:
		want = dhcpv6.OptionClientID
	case queryByRelayID, queryByLinkAddress, queryByRemoteID:
		// RFC 5460 §4: a server that implements Bulk Leasequery and
		// permits UDP queries MUST NOT accept its query-types in a UDP
		// LEASEQUERY and MUST answer NotAllowed. (Over TCP, bulk.go
		// answers them before this runs.)
		fail(statusNotAllowed, "query-type only allowed over Bulk Leasequery (TCP)")
		return
	default:
		fail(statusUnknownQueryType, "unknown query-type")
		return
	}
	// §4.1.2.1: a supported query-type whose query-options lack the
	// required option SHOULD get MalformedQuery; so do query-options that
	// are not a list of options.
	payload, found, ok := findOption(q.opts, want)
	switch {
	case !ok:
		fail(statusMalformedQuery, "query-options do not parse")
		return
	case !found:
		fail(statusMalformedQuery, "query-options lack the option the query-type requires")
		return
	case want == dhcpv6.OptionIAAddr && len(payload) < iaAddrMin:
		fail(statusMalformedQuery, "OPTION_IAADDR too short")
		return
	case want == dhcpv6.OptionClientID && len(payload) == 0:
		fail(statusMalformedQuery, "empty OPTION_CLIENTID")
		return
	}
	// §4.4.1: a non-zero link-address MUST be used to find the client's
	// link. The server has one link (Config.Prefix, and the pool): any
	// other link-address names a link it has no configuration for
	// (NotConfigured, §4.1.3).
	if !q.link.IsUnspecified() && !s.na.onLink(netip.PrefixFrom(q.link, 128)) {
		fail(statusNotConfigured, "link-address is not a link of this server")
		return
	}

	var duid []byte
	if q.typ == queryByAddress {
		addr := netip.AddrFrom16([16]byte(payload[:net.IPv6len]))
		// §4.4.1: with link-address 0::0 the server finds the link from
		// the queried address; one outside the link and the PD pool
		// names no link this server knows.
		b, known := s.holder(x.now, addr)
		if !known {
			fail(statusNotConfigured, "address is on no link of this server")
			return
		}
		if b == nil {
			fail(statusSuccess, "no active binding for that address")
			return
		}
		duid = b.DUID
	} else {
		duid = payload
	}
	if cd := s.clientData(x.now, duid); cd != nil {
		r.AddOption(cd)
		return
	}
	fail(statusSuccess, "no active binding for that client")
}

// holder returns the binding that holds addr at now (RFC 5007 §4.1.2.1:
// the client that has a lease for the address or was delegated a prefix
// that contains it), by the store's lease index: O(1). known is false when
// addr lies on no link of this server (outside the link prefix, the
// address pool and the PD pool).
func (s *Server) holder(now time.Time, addr netip.Addr) (b *lease.Binding, known bool) {
	pd := s.cfg.PDPool
	inPD := !pd.IsZero() && pd.Base().Contains(addr)
	if !inPD && !s.na.onLink(netip.PrefixFrom(addr, 128)) {
		return nil, false
	}
	if got, ok := s.store.GetByLease(netip.PrefixFrom(addr, 128)); ok && !got.Expired(now) {
		return &got, true
	}
	if inPD {
		if got, ok := s.store.GetByLease(netip.PrefixFrom(addr, pd.Delegated()).Masked()); ok && !got.Expired(now) {
			return &got, true
		}
	}
	return nil, true
}

// clientData builds the OPTION_CLIENT_DATA for the client with raw DUID
// duid at now, or nil when it holds no lease that is still valid.
//
// RFC 5007 §4.1.2.2: one OPTION_CLIENT_DATA per client and link; the
// server MUST return all of the client's statefully assigned addresses
// and delegated prefixes with a non-zero valid lifetime on the link.
// §4.4.2: it MUST minimally hold the OPTION_CLIENTID, the OPTION_IAADDR
// and/or OPTION_IAPREFIX options and OPTION_CLT_TIME. Lifetimes are what
// remains at now.
//
// The store has no index by DUID, so this scans All(): O(bindings).
// Leasequery is rare (a relay or access concentrator recovering state),
// and a query by address only scans once it has found the holder in O(1).
func (s *Server) clientData(now time.Time, duid []byte) dhcpv6.Option {
	var held []lease.Binding
	for b := range s.store.All() {
		if bytes.Equal(b.DUID, duid) && !b.Expired(now) {
			held = append(held, b)
		}
	}
	return clientDataOf(now, held)
}

// clientDataOf builds the OPTION_CLIENT_DATA of one client from held, its
// bindings (one DUID, none expired at now; sorted here in place), or nil
// when held is empty. Bulk Leasequery (bulk.go) builds each client's from
// one snapshot of the store through it.
func clientDataOf(now time.Time, held []lease.Binding) dhcpv6.Option {
	if len(held) == 0 {
		return nil
	}
	slices.SortFunc(held, func(a, b lease.Binding) int {
		if a.Type != b.Type {
			return int(a.Type) - int(b.Type)
		}
		return a.Lease.Addr().Compare(b.Lease.Addr())
	})
	opts := dhcpv6.Options{&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientID, OptionData: held[0].DUID}}
	var last time.Time
	for _, b := range held {
		preferred, valid := remaining(b.Granted.Add(b.Preferred), now), remaining(b.Expires, now)
		ip := net.IP(b.Lease.Addr().AsSlice())
		if b.Type == lease.PD {
			opts = append(opts, &dhcpv6.OptIAPrefix{
				PreferredLifetime: preferred, ValidLifetime: valid,
				Prefix: &net.IPNet{IP: ip, Mask: net.CIDRMask(b.Lease.Bits(), 128)},
			})
		} else {
			opts = append(opts, &dhcpv6.OptIAAddress{IPv6Addr: ip, PreferredLifetime: preferred, ValidLifetime: valid})
		}
		if b.Granted.After(last) {
			last = b.Granted
		}
	}
	// §4.1.2.3: client-last-transaction-time, seconds since the server
	// last communicated with the client: the latest grant or extension.
	var clt [4]byte
	binary.BigEndian.PutUint32(clt[:], uint32(remaining(now, last)/time.Second))
	opts = append(opts, &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionCLTTime, OptionData: clt[:]})
	return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientData, OptionData: opts.ToBytes()}
}

// remaining is until - now in whole seconds (rounded down, so a lifetime
// is never overstated), and zero once until has passed.
func remaining(until, now time.Time) time.Duration {
	d := until.Sub(now)
	if d <= 0 {
		return 0
	}
	return d.Truncate(time.Second)
}
