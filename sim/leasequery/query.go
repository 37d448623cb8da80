package leasequery

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/server/lease"
)

// Lease is one lease a server named for a client: an address (a /128, of
// an IA_NA) or a delegated prefix (of an IA_PD), with the lifetimes that
// remained when the server answered.
type Lease struct {
	Type             lease.IAType
	Prefix           netip.Prefix
	Preferred, Valid time.Duration
}

func (l Lease) String() string { return fmt.Sprintf("%s %s valid %s", l.Type, l.Prefix, l.Valid) }

// queryByClientID is QUERY_BY_CLIENTID (RFC 5007 §4.1.2.1): the
// query-options hold the client's OPTION_CLIENTID.
const queryByClientID = 2

// maxDUID is the longest DUID: 2 octets of type and at most 128 more
// (RFC 9915 §11.1).
const maxDUID = 130

// Encode builds a LEASEQUERY (RFC 5007 §4.1.1, message type 14) asking
// where the client with raw DUID client is bound, from the requestor with
// raw DUID requestor, with transaction ID xid.
func Encode(xid dhcpv6.TransactionID, requestor, client []byte) ([]byte, error) {
	if err := checkDUID("requestor", requestor); err != nil {
		return nil, err
	}
	if err := checkDUID("client", client); err != nil {
		return nil, err
	}
	// §4.1.2.1: OPTION_LQ_QUERY is query-type (1 octet), link-address (16
	// octets) and the query-options. link-address 0::0 ("unspecified"):
	// the server finds the client's link itself (§4.1.2.1: it SHOULD
	// search all of its links; §4.4.1: it MUST).
	q := make([]byte, 0, 1+16+4+len(client))
	q = append(q, queryByClientID)
	q = append(q, netip.IPv6Unspecified().AsSlice()...)
	q = append(q, dhcpv6.Options{&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientID, OptionData: client}}.ToBytes()...)
	m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeLeaseQuery, TransactionID: xid}
	// §4.3.1 (requestor behaviour): the requestor MUST include its own
	// Client Identifier option (a server discards a LEASEQUERY without
	// one, §4.2.1) and an OPTION_LQ_QUERY.
	m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientID, OptionData: requestor})
	m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery, OptionData: q})
	return m.ToBytes(), nil
}

func checkDUID(who string, d []byte) error {
	if len(d) < 3 || len(d) > maxDUID {
		return fmt.Errorf("leasequery: %s DUID %q: %d octets, want 3 to %d (RFC 9915 §11.1)", who, hex.EncodeToString(d), len(d), maxDUID)
	}
	return nil
}

// ErrNotOurs: the datagram is not the LEASEQUERY-REPLY to the query being
// decoded (another message type, another transaction ID, another
// requestor): an IO loop skips it and goes on waiting.
var ErrNotOurs = errors.New("leasequery: not the reply to this query")

// StatusError is a LEASEQUERY-REPLY that carries a Status Code option
// other than Success (RFC 5007 §4.1.3: UnknownQueryType, MalformedQuery,
// NotConfigured, NotAllowed).
type StatusError struct {
	Code    iana.StatusCode
	Message string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("leasequery: server answered status %s (%d)", e.Code, uint16(e.Code))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Decode reads the answer b to the LEASEQUERY with transaction ID xid
// from requestor about client (Encode's arguments). It returns the
// client's leases, none when the server knows no binding of the client,
// ErrNotOurs (wrapped) when b answers something else, a *StatusError for a
// status other than Success, and an error naming what is wrong otherwise.
func Decode(b []byte, xid dhcpv6.TransactionID, requestor, client []byte) ([]Lease, error) {
	d, err := dhcpv6.FromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w: undecodable: %v", ErrNotOurs, err)
	}
	m, ok := d.(*dhcpv6.Message)
	if !ok || m.MessageType != dhcpv6.MessageTypeLeaseQueryReply {
		return nil, fmt.Errorf("%w: a %s, not a LEASEQUERY-REPLY", ErrNotOurs, d.Type())
	}
	if m.TransactionID != xid {
		return nil, fmt.Errorf("%w: transaction ID %s, want %s", ErrNotOurs, m.TransactionID, xid)
	}
	// §4.2.2: a requestor MUST discard a LEASEQUERY-REPLY without an
	// OPTION_CLIENTID, or whose OPTION_CLIENTID is not the requestor's
	// DUID: it answers someone else.
	if id := m.Options.GetOne(dhcpv6.OptionClientID); id == nil || !bytes.Equal(id.ToBytes(), requestor) {
		return nil, fmt.Errorf("%w: the reply's Client Identifier is not the requestor's", ErrNotOurs)
	}
	// §4.2.2: ... and one without an OPTION_SERVERID.
	if m.Options.GetOne(dhcpv6.OptionServerID) == nil {
		return nil, fmt.Errorf("%w: the reply has no Server Identifier", ErrNotOurs)
	}
	// §4.1.3: a Status Code other than Success says why the query was not
	// answered.
	if o := m.Options.GetOne(dhcpv6.OptionStatusCode); o != nil {
		var st dhcpv6.OptStatusCode
		if err := st.FromBytes(o.ToBytes()); err != nil {
			return nil, fmt.Errorf("leasequery: malformed Status Code option: %v", err)
		}
		if st.StatusCode != iana.StatusSuccess {
			return nil, &StatusError{Code: st.StatusCode, Message: st.StatusMessage}
		}
	}
	var out []Lease
	datas := m.Options.Get(dhcpv6.OptionClientData)
	for _, o := range datas {
		ls, err := clientData(o.ToBytes(), client)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	// §4.4.1: a query by client ID with link-address 0::0 for a client
	// bound on several links is answered with OPTION_LQ_CLIENT_LINK (the
	// links, §4.1.2.5) instead of client data; the requestor must ask
	// again per link. The lab's servers serve one link each.
	if len(datas) == 0 {
		if o := m.Options.GetOne(dhcpv6.OptionLQClientLink); o != nil {
			return nil, fmt.Errorf("leasequery: the client is bound on several links (%s): the prober asks with link-address 0::0 only", links(o.ToBytes()))
		}
	}
	return out, nil
}

// clientData decodes one OPTION_CLIENT_DATA (RFC 5007 §4.1.2.2): the
// client's OPTION_CLIENTID, its OPTION_IAADDR and OPTION_IAPREFIX options
// with their remaining lifetimes, OPTION_CLT_TIME.
func clientData(b, client []byte) ([]Lease, error) {
	var opts dhcpv6.Options
	if err := opts.FromBytes(b); err != nil {
		return nil, fmt.Errorf("leasequery: malformed OPTION_CLIENT_DATA: %v", err)
	}
	// §4.4.2: the client data MUST minimally hold the client's
	// OPTION_CLIENTID.
	id := opts.GetOne(dhcpv6.OptionClientID)
	if id == nil {
		return nil, errors.New("leasequery: OPTION_CLIENT_DATA without the client's OPTION_CLIENTID")
	}
	if !bytes.Equal(id.ToBytes(), client) {
		return nil, fmt.Errorf("leasequery: OPTION_CLIENT_DATA for client %s, asked about %s", hex.EncodeToString(id.ToBytes()), hex.EncodeToString(client))
	}
	var out []Lease
	for _, o := range opts {
		switch o := o.(type) {
		case *dhcpv6.OptIAAddress:
			a, ok := netip.AddrFromSlice(o.IPv6Addr)
			if !ok {
				return nil, fmt.Errorf("leasequery: OPTION_IAADDR with address %v", o.IPv6Addr)
			}
			out = append(out, Lease{Type: lease.NA, Prefix: netip.PrefixFrom(a.Unmap(), 128), Preferred: o.PreferredLifetime, Valid: o.ValidLifetime})
		case *dhcpv6.OptIAPrefix:
			if o.Prefix == nil {
				return nil, errors.New("leasequery: OPTION_IAPREFIX without a prefix")
			}
			a, ok := netip.AddrFromSlice(o.Prefix.IP)
			bits, _ := o.Prefix.Mask.Size()
			if !ok {
				return nil, fmt.Errorf("leasequery: OPTION_IAPREFIX with prefix %v", o.Prefix)
			}
			out = append(out, Lease{Type: lease.PD, Prefix: netip.PrefixFrom(a.Unmap(), bits), Preferred: o.PreferredLifetime, Valid: o.ValidLifetime})
		}
	}
	return out, nil
}

// links lists the addresses of an OPTION_LQ_CLIENT_LINK (RFC 5007
// §4.1.2.5: link-address fields, 16 octets each).
func links(b []byte) string {
	var s []string
	for ; len(b) >= 16; b = b[16:] {
		s = append(s, netip.AddrFrom16([16]byte(b[:16])).String())
	}
	return strings.Join(s, ", ")
}
