package conform

import (
	"encoding/binary"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// client is one simulated client of the probe: a DUID-LL and an IAID.
type client struct {
	n    uint32
	duid dhcpv6.DUID
	raw  []byte
	iaid [4]byte
}

// newClient returns client number n: DUID-LL with MAC 02:c0:nn:nn:nn:nn
// (locally administered), IAID n.
func newClient(n uint32) client {
	mac := net.HardwareAddr{0x02, 0xc0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	d := &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac}
	c := client{n: n, duid: d, raw: d.ToBytes()}
	binary.BigEndian.PutUint32(c.iaid[:], n)
	return c
}

// Option codes the probe asks for. RFC 9915 §18.2.1: a Solicit's ORO MUST
// name SOL_MAX_RT (82); DNS servers (23) is what real clients ask.
var (
	oroPlain = []dhcpv6.OptionCode{dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionSolMaxRT}
	oroPref  = []dhcpv6.OptionCode{dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionSolMaxRT, dhcpv6.OptionPreference}
	oroInfo  = []dhcpv6.OptionCode{dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionInformationRefreshTime, dhcpv6.OptionInfMaxRT}
)

// message returns a client message of type t from c with transaction ID
// xid: Client ID, Elapsed Time (RFC 9915 §21.9: MUST be in every client
// message of an exchange) and the given options.
func (c client) message(t dhcpv6.MessageType, xid dhcpv6.TransactionID, opts ...dhcpv6.Option) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: t, TransactionID: xid}
	m.AddOption(dhcpv6.OptClientID(c.duid))
	m.AddOption(dhcpv6.OptElapsedTime(0))
	for _, o := range opts {
		m.AddOption(o)
	}
	return m
}

// iaNA returns an IA_NA with iaid holding addrs (lifetimes 0: the client
// lets the server choose, RFC 9915 §18.2).
func iaNA(iaid [4]byte, addrs ...netip.Addr) *dhcpv6.OptIANA {
	ia := &dhcpv6.OptIANA{IaId: iaid}
	for _, a := range addrs {
		ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.IP(a.AsSlice())})
	}
	return ia
}

// iaPD returns an IA_PD with iaid holding prefixes.
func iaPD(iaid [4]byte, prefixes ...netip.Prefix) *dhcpv6.OptIAPD {
	ia := &dhcpv6.OptIAPD{IaId: iaid}
	for _, p := range prefixes {
		ia.Options.Add(&dhcpv6.OptIAPrefix{Prefix: &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), 128)}})
	}
	return ia
}

// lease is one address or prefix of an IA in a reply.
type lease struct {
	prefix           netip.Prefix // /128 for an address
	preferred, valid time.Duration
}

// iaResult is what a reply says about one IA.
type iaResult struct {
	found  bool
	t1, t2 time.Duration
	leases []lease
	status *dhcpv6.OptStatusCode // inside the IA
}

// granted returns the leases with a non-zero valid lifetime.
func (r iaResult) granted() []lease {
	var out []lease
	for _, l := range r.leases {
		if l.valid > 0 {
			out = append(out, l)
		}
	}
	return out
}

// statusCode is the IA's status (Success when absent, RFC 9915 §21.13).
func (r iaResult) statusCode() iana.StatusCode {
	if r.status == nil {
		return iana.StatusSuccess
	}
	return r.status.StatusCode
}

// naResult reads the IA_NA with iaid from m.
func naResult(m *dhcpv6.Message, iaid [4]byte) iaResult {
	if m == nil {
		return iaResult{}
	}
	for _, ia := range m.Options.IANA() {
		if ia.IaId != iaid {
			continue
		}
		r := iaResult{found: true, t1: ia.T1, t2: ia.T2, status: ia.Options.Status()}
		for _, a := range ia.Options.Addresses() {
			if addr, ok := netip.AddrFromSlice(a.IPv6Addr); ok {
				r.leases = append(r.leases, lease{netip.PrefixFrom(addr, 128), a.PreferredLifetime, a.ValidLifetime})
			}
		}
		return r
	}
	return iaResult{}
}

// pdResult reads the IA_PD with iaid from m.
func pdResult(m *dhcpv6.Message, iaid [4]byte) iaResult {
	if m == nil {
		return iaResult{}
	}
	for _, ia := range m.Options.IAPD() {
		if ia.IaId != iaid {
			continue
		}
		r := iaResult{found: true, t1: ia.T1, t2: ia.T2, status: ia.Options.Status()}
		for _, p := range ia.Options.Prefixes() {
			if p.Prefix == nil {
				continue
			}
			addr, ok := netip.AddrFromSlice(p.Prefix.IP)
			ones, _ := p.Prefix.Mask.Size()
			if ok {
				r.leases = append(r.leases, lease{netip.PrefixFrom(addr.Unmap(), ones), p.PreferredLifetime, p.ValidLifetime})
			}
		}
		return r
	}
	return iaResult{}
}

// topStatus is m's message-level status (Success when absent).
func topStatus(m *dhcpv6.Message) iana.StatusCode {
	if s := m.Options.Status(); s != nil {
		return s.StatusCode
	}
	return iana.StatusSuccess
}

// preference returns m's Preference option and whether it is present
// (MessageOptions.Preference reads a missing option as 0).
func preference(m *dhcpv6.Message) (uint8, bool) {
	o := m.GetOneOption(dhcpv6.OptionPreference)
	if o == nil {
		return 0, false
	}
	b := o.ToBytes()
	if len(b) != 1 {
		return 0, false
	}
	return b[0], true
}

// serverID returns the raw Server ID of m (nil when absent).
func serverID(m *dhcpv6.Message) []byte {
	if d := m.Options.ServerID(); d != nil {
		return d.ToBytes()
	}
	return nil
}

// clientIDIs reports whether m carries c's Client ID.
func clientIDIs(m *dhcpv6.Message, c client) bool {
	d := m.Options.ClientID()
	return d != nil && string(d.ToBytes()) == string(c.raw)
}

// Leasequery (RFC 5007). The library knows the message types (14, 15) and
// option codes but has no builder for OPTION_LQ_QUERY, so it is encoded by
// hand from RFC 5007 §4.1.2.1: query-type (1 octet), link-address (16
// octets), query-options (options, here an IAADDR option).
const (
	queryByAddress = 1 // RFC 5007 §4.1.2.1 QUERY_BY_ADDRESS
)

// lqQuery is the OPTION_LQ_QUERY option of a query by address.
func lqQuery(link, addr netip.Addr) dhcpv6.Option {
	b := []byte{queryByAddress}
	b = append(b, link.AsSlice()...)
	qo := dhcpv6.Options{&dhcpv6.OptIAAddress{IPv6Addr: net.IP(addr.AsSlice())}}
	b = append(b, qo.ToBytes()...)
	return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery, OptionData: b}
}

// clientData decodes the OPTION_CLIENT_DATA options of a LEASEQUERY-REPLY
// (RFC 5007 §4.1.2.2): the Client ID and addresses of each binding.
func clientData(m *dhcpv6.Message) (ids [][]byte, addrs []netip.Addr) {
	for _, o := range m.Options.Get(dhcpv6.OptionClientData) {
		var opts dhcpv6.Options
		if err := opts.FromBytes(o.ToBytes()); err != nil {
			continue
		}
		for _, so := range opts {
			switch so.Code() {
			case dhcpv6.OptionClientID:
				ids = append(ids, so.ToBytes())
			case dhcpv6.OptionIAAddr:
				if a, ok := so.(*dhcpv6.OptIAAddress); ok {
					if ip, ok := netip.AddrFromSlice(a.IPv6Addr); ok {
						addrs = append(addrs, ip)
					}
				}
			}
		}
	}
	return ids, addrs
}
