package client

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/reports/history"
)

// Option Request option contents (§21.7). Preference is not requested: it
// is not an option a client may put in an ORO (§21.8, §24). SOL_MAX_RT
// and INF_MAX_RT MUST be requested in the messages that may carry them
// (§18.2.1, §18.2.2, §18.2.4-§18.2.6), and an Information-request asks
// for the Information Refresh Time (§21.23).
var (
	oroStateful = dhcpv6.OptRequestedOption(dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionSolMaxRT)
	// oroFQDN is oroStateful for a client that sends a Client FQDN option:
	// it asks for the option too, or the server sends none back (RFC 4704
	// §6: "only ... if ... the Client FQDN option is requested by the
	// Option Request option").
	oroFQDN      = dhcpv6.OptRequestedOption(dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionSolMaxRT, dhcpv6.OptionFQDN)
	oroStateless = dhcpv6.OptRequestedOption(dhcpv6.OptionDNSRecursiveNameServer,
		dhcpv6.OptionInformationRefreshTime, dhcpv6.OptionInfMaxRT)
	optRapidCommit = &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}
	// elapsedZero is the Elapsed Time of a first transmission (§21.9).
	elapsedZero = dhcpv6.OptElapsedTime(0)
)

// sendsFQDN: RFC 4704 §5, a client includes the Client FQDN option only in
// a Solicit, Request, Renew or Rebind (the messages the server registers or
// refreshes a name by).
func sendsFQDN(t dhcpv6.MessageType) bool {
	switch t {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind:
		return true
	}
	return false
}

func iaidBytes(id uint32) [4]byte {
	return [4]byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
}

func iaidOf(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// build makes the exchange's option template. Every message carries the
// Client Identifier (§18.2: the client MUST include it, §21.2), the
// Elapsed Time (§21.9: MUST be included) and an Option Request.
func (c *Client) build() {
	r := c.ex.room
	if r == nil {
		return // lent back (lendsRoom): built at the next transmission
	}
	c.cfg.scr.retireNA(r.na) // a message sent may still hold it
	r.na = nil
	t := r.opts[:0]
	t = append(t, c.cidOpt)
	switch c.ex.kind {
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew,
		dhcpv6.MessageTypeRelease:
		// §18.2.2, §18.2.4, §18.2.7: the client MUST include the Server
		// Identifier of the server it talks to. Solicit, Confirm, Rebind
		// and Information-request go to all servers without one
		// (§18.2.1, §18.2.3, §18.2.5, §18.2.6).
		if c.server != nil {
			t = append(t, c.server.opt)
		}
	case dhcpv6.MessageTypeDecline:
		// §18.2.8: the Server Identifier of the server that granted the
		// declined addresses.
		if sid := c.rd().declSid; sid != nil {
			t = append(t, sid)
		}
	}
	c.ex.elapsedIdx = uint8(len(t))
	t = append(t, elapsedZero)
	switch {
	case c.ex.kind == dhcpv6.MessageTypeInformationRequest:
		t = append(t, oroStateless)
	case c.fqdnOpt != nil && sendsFQDN(c.ex.kind):
		t = append(t, oroFQDN)
	default:
		t = append(t, oroStateful)
	}
	switch c.ex.kind {
	case dhcpv6.MessageTypeSolicit:
		// §18.2.1: an IA option for each IA the client wants.
		for i := range c.ias() {
			t = append(t, iaOption(&c.ias()[i], nil))
		}
		if c.cfg.RapidCommit {
			t = append(t, optRapidCommit) // §18.2.1, §21.14
		}
	case dhcpv6.MessageTypeRequest:
		// §18.2.2: the IAs, with the advertised leases as hints (or the
		// held ones, for all IAs, when a Renew or Rebind was answered
		// NoBinding, §18.2.10.1).
		for i := range c.ias() {
			if x := c.rd(); c.reqFromOffer && int(c.offerAt) < len(x.offers) {
				o := &x.offers[c.offerAt]
				t = append(t, iaOptionHints(&c.ias()[i], x.offerHints[o.lo:o.hi]))
			} else {
				t = append(t, c.iaOption(&c.ias()[i], c.ias()[i].leases))
			}
		}
	case dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind:
		// §18.2.4, §18.2.5: the IAs with the leases to extend.
		for i := range c.ias() {
			t = append(t, c.iaOption(&c.ias()[i], c.ias()[i].leases))
		}
	case dhcpv6.MessageTypeConfirm:
		// §18.2.3: the IA_NAs with all the addresses to confirm.
		for i := range c.ias() {
			if c.ias()[i].kind() == history.IANA && len(c.ias()[i].leases) > 0 {
				t = append(t, c.iaOption(&c.ias()[i], c.ias()[i].leases))
			}
		}
	case dhcpv6.MessageTypeRelease:
		// §18.2.7: the IAs with the leases released.
		t = c.appendIAsFor(t, c.rd().releasing)
	case dhcpv6.MessageTypeDecline:
		// §18.2.8: the IA_NA with the addresses declined.
		t = c.appendIAsFor(t, c.rd().declining)
	}
	if c.fqdnOpt != nil && sendsFQDN(c.ex.kind) {
		t = append(t, c.fqdnOpt)
	}
	r.opts = t
}

// fqdnFlagS is the Client FQDN option's S bit (RFC 4704 §4.1): the client
// asks the server to do the AAAA (forward) update.
const fqdnFlagS = 0x01

// FQDNOption is the Client FQDN option (RFC 4704 §4) with flags S=1 and
// name: a partial name unless it ends with a dot (§4.2), in RFC 1035
// §3.1 wire form, uncompressed. Each label is 1 to 63 octets and the
// name at most 255 on the wire.
func FQDNOption(name string) (dhcpv6.Option, error) {
	full := strings.HasSuffix(name, ".")
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	data := []byte{fqdnFlagS}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 {
			return nil, fmt.Errorf("FQDN %q: label %q: want 1 to 63 octets", name, l)
		}
		data = append(data, byte(len(l)))
		data = append(data, l...)
	}
	if full {
		data = append(data, 0)
	}
	if len(data)-1 > 255 {
		return nil, fmt.Errorf("FQDN %q: %d octets, want at most 255", name, len(data)-1)
	}
	return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionFQDN, OptionData: data}, nil
}

// appendIAsFor adds one IA option per IA that has leases in ls.
func (c *Client) appendIAsFor(t []dhcpv6.Option, ls []held) []dhcpv6.Option {
	for i := range c.ias() {
		a := &c.ias()[i]
		var mine []held
		for _, l := range ls {
			if l.IAID == a.iaid { // and so the same kind (kindOf)
				mine = append(mine, l)
			}
		}
		if len(mine) > 0 {
			t = append(t, iaOption(a, mine))
		}
	}
	return t
}

// iaOptionHints builds an IA_NA or IA_PD with the hints of it (same IAID)
// among hs.
func iaOptionHints(a *ia, hs []hint) dhcpv6.Option {
	var pd *dhcpv6.OptIAPD
	var na *dhcpv6.OptIANA
	if a.kind() == history.IAPD {
		pd = &dhcpv6.OptIAPD{IaId: iaidBytes(a.iaid)}
	} else {
		na = &dhcpv6.OptIANA{IaId: iaidBytes(a.iaid)}
	}
	for _, h := range hs {
		switch {
		case h.iaid != a.iaid:
		case pd != nil:
			pd.Options.Add(prefixHint(h.p))
		default:
			na.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.IP(h.p.Addr().AsSlice())})
		}
	}
	if pd != nil {
		return pd
	}
	return na
}

func prefixHint(p netip.Prefix) *dhcpv6.OptIAPrefix {
	return &dhcpv6.OptIAPrefix{Prefix: &net.IPNet{
		IP:   net.IP(p.Addr().AsSlice()),
		Mask: net.CIDRMask(p.Bits(), 128),
	}}
}

// iaOption builds an IA_NA or IA_PD with the given leases. T1, T2 and the
// lifetimes are 0: in messages from a client they SHOULD be 0 and servers
// MUST ignore them (§21.4, §21.6, §21.21, §21.22). It is built for each
// exchange and kept only in its template (its retransmissions send the
// same value; a built option is never changed, since what was sent may
// still be read: a frozen server queues it). A client does not keep one
// between exchanges: a million clients holding one through a failover
// held 136 MB for it, and a Renew every T1 builds one small object.
func iaOption(a *ia, leases []held) dhcpv6.Option {
	if a.kind() == history.IAPD {
		o := &dhcpv6.OptIAPD{IaId: iaidBytes(a.iaid)}
		for _, l := range leases {
			o.Options.Add(prefixHint(l.prefix()))
		}
		return o
	}
	if len(leases) == 1 && leases[0].addr().Is6() {
		return iaNAOne(a.iaid, leases[0].addr())
	}
	o := &dhcpv6.OptIANA{IaId: iaidBytes(a.iaid)}
	for _, l := range leases {
		o.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.IP(l.addr().AsSlice())})
	}
	return o
}

// oneAddress is an IA_NA with one IA Address in one allocation: the
// option, its list, the IA Address option and the address's bytes. A
// server reading a Renew then follows its pointers within a few cache
// lines, not to four objects of four size classes (a cache miss each at a
// million clients in the virtual engine, where the server reads the
// client's values).
type oneAddress struct {
	na   dhcpv6.OptIANA
	addr dhcpv6.OptIAAddress
	list [1]dhcpv6.Option
	ip   [16]byte
}

// iaNAOne is iaOption of an IA_NA with the one address addr, as
// oneAddress.
func iaNAOne(iaid uint32, addr netip.Addr) *dhcpv6.OptIANA {
	return new(oneAddress).fill(iaid, addr)
}

// fill makes o the IA_NA iaid with the one address addr.
func (o *oneAddress) fill(iaid uint32, addr netip.Addr) *dhcpv6.OptIANA {
	*o = oneAddress{ip: addr.As16()}
	o.addr.IPv6Addr = o.ip[:]
	o.list[0] = &o.addr
	o.na.IaId = iaidBytes(iaid)
	o.na.Options.Options = o.list[:]
	return &o.na
}

// iaOption is iaOption(a, leases) for the exchange being built: an IA_NA
// with one address takes its storage from the scratch (Scratch.takeNA)
// and the exchange's room keeps it, so that a client renewing every T1
// keeps no option between its Renews and, once its scratch recycles,
// allocates none for them either.
func (c *Client) iaOption(a *ia, leases []held) dhcpv6.Option {
	r := c.ex.room
	if r.na != nil || a.kind() != history.IANA || len(leases) != 1 || !leases[0].addr().Is6() {
		return iaOption(a, leases)
	}
	r.na = c.cfg.scr.takeNA()
	return r.na.fill(a.iaid, leases[0].addr())
}

// room is an exchange's template: the options of its message (the values
// each transmission sends, the Elapsed Time replaced), in buf unless they
// outgrow it, and the IA_NA built for it from the scratch's storage, if
// any. A client holds one only while an exchange runs (finish gives it
// back to the scratch).
type room struct {
	opts []dhcpv6.Option
	na   *oneAddress
	buf  [7]dhcpv6.Option // as many as a sent holds (a Solicit with both IAs, Rapid Commit and FQDN has 7)
}

// newRoom is an empty room, its options in its buf: one allocation, where
// a template grown by append took four.
func newRoom() *room {
	r := new(room)
	r.opts = r.buf[:0]
	return r
}
