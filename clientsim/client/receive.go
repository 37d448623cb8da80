package client

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/reports/history"
)

// Receive hands the client a message addressed to it. Messages that fail
// validation (§16) or that no exchange waits for are dropped silently and
// counted in Drops.
func (c *Client) Receive(now time.Time, m *dhcpv6.Message) Output {
	c.begin()
	c.expire(now)
	c.receive(now, m)
	return c.finish()
}

func (c *Client) drop(r DropReason) {
	if c.drops[r] != math.MaxUint16 {
		c.drops[r]++
	}
}

func (c *Client) receive(now time.Time, m *dhcpv6.Message) {
	if m == nil || !c.ex.active() || c.ex.count == 0 {
		c.drop(DropIdle)
		return
	}
	// §16.1: the transaction ID MUST match the exchange's.
	if m.TransactionID != c.ex.xid {
		c.drop(DropXID)
		return
	}
	switch {
	case m.MessageType == dhcpv6.MessageTypeAdvertise && c.ex.kind == dhcpv6.MessageTypeSolicit:
	case m.MessageType == dhcpv6.MessageTypeReply && c.ex.kind != dhcpv6.MessageTypeSolicit:
	case m.MessageType == dhcpv6.MessageTypeReply && c.cfg.RapidCommit &&
		m.GetOneOption(dhcpv6.OptionRapidCommit) != nil:
		// §18.2.1: a Reply to Solicit is only taken with Rapid Commit.
	default:
		c.drop(DropType)
		return
	}
	// §16.3, §16.10: the client MUST discard an Advertise or Reply that
	// has no Client Identifier matching its own, or no Server Identifier.
	cid := m.Options.ClientID()
	if cid == nil || !c.duid().Equal(cid) {
		c.drop(DropClientID)
		return
	}
	sid := m.Options.ServerID()
	if sid == nil {
		c.drop(DropServerID)
		return
	}
	// The server of the binding answers most (Equal compares every field
	// ToBytes writes).
	srv := c.server
	if srv == nil || !srv.duid.Equal(sid) {
		srv = c.cfg.scr.serverOf(sid)
	}
	c.takeMaxRT(m)
	switch c.ex.kind {
	case dhcpv6.MessageTypeSolicit:
		if m.MessageType == dhcpv6.MessageTypeAdvertise {
			c.advertise(now, m, srv)
		} else {
			c.requestReply(now, m, srv, true)
		}
	case dhcpv6.MessageTypeRequest:
		c.requestReply(now, m, srv, false)
	case dhcpv6.MessageTypeRenew:
		c.extendReply(now, m, srv, ctxRenew)
	case dhcpv6.MessageTypeRebind:
		c.extendReply(now, m, srv, ctxRebind)
	case dhcpv6.MessageTypeConfirm:
		c.confirmReply(now, m, srv)
	case dhcpv6.MessageTypeDecline:
		// §18.2.10.1: a valid Reply to Decline completes the exchange,
		// whatever its status.
		c.afterDecline(now)
	case dhcpv6.MessageTypeRelease:
		// §18.2.10.1: likewise for Release.
		c.stop()
	case dhcpv6.MessageTypeInformationRequest:
		c.infoReply(now, m, srv)
	}
}

func status(m *dhcpv6.Message) iana.StatusCode {
	if s := m.Options.Status(); s != nil {
		return s.StatusCode
	}
	return iana.StatusSuccess // §21.13: no Status Code option means Success
}

// takeMaxRT applies a SOL_MAX_RT or INF_MAX_RT option (§18.2.9,
// §18.2.10: the client MUST process them; §21.24, §21.25: values outside
// [60, 86400] MUST be ignored): the one the client's kind uses
// (Client.maxRT). It replaces an RFC constant, so Timescale scales it.
func (c *Client) takeMaxRT(m *dhcpv6.Message) {
	if c.cfg.Deviations.IgnoreMaxRTOptions {
		return // Deviations.IgnoreMaxRTOptions (ISC dhclient 4.4), not RFC 9915
	}
	code, kind := dhcpv6.OptionSolMaxRT, dhcpv6.MessageTypeSolicit
	if c.Stateless() {
		code, kind = dhcpv6.OptionInfMaxRT, dhcpv6.MessageTypeInformationRequest
	}
	o, ok := m.GetOneOption(code).(*dhcpv6.OptionGeneric)
	if !ok || len(o.OptionData) != 4 {
		return
	}
	d := o.OptionData
	secs := uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3])
	if v := time.Duration(secs) * time.Second; v < MaxRTOptionMin || v > MaxRTOptionMax {
		return // MaxRTOptionMin is above 0: a 0 kept means none set
	}
	c.maxRTSecs = secs
	if c.ex.kind == kind {
		c.ex.p = c.cfg.scr.withMRT(c.ex.p, c.maxRT())
	}
}

// advertise handles a valid Advertise while soliciting (§18.2.9).
func (c *Client) advertise(now time.Time, m *dhcpv6.Message, srv *serverID) {
	// §18.2.9: the client MUST ignore an Advertise that has no address in
	// its IA_NAs and no prefix in its IA_PDs. A NoAddrsAvail status alone
	// does not make it ignored: it may still carry prefixes, or addresses
	// in another IA, that the client asked for.
	x := c.wr()
	lo := len(x.offerHints)
	for i := range c.ias() {
		a := &c.ias()[i]
		c.cfg.scr.entries = iaEntries(m, a, c.cfg.scr.entries[:0], nil)
		for _, e := range c.cfg.scr.entries {
			if e.valid > 0 {
				x.offerHints = append(x.offerHints, hint{iaid: a.iaid, p: e.p})
			}
		}
	}
	if len(x.offerHints) == lo {
		c.drop(DropNoAddrs)
		return
	}
	pref := int(m.Options.Preference()) // §21.8: no Preference option means 0
	ev := c.event(now, history.Advertised)
	ev.Server = srv.hex
	ev.Detail = "preference=" + strconv.Itoa(pref)
	c.cfg.scr.out.Events = append(c.cfg.scr.out.Events, ev)
	c.keepOffer(pref, srv, lo)
	// §18.2.1, §18.2.9: Preference 255 makes the client Request at once;
	// after the first RT the first valid Advertise is taken.
	// Deviations.TakeFirstAdvertise (dhcpcd 9.4.1, not RFC 9915): the
	// first valid Advertise is taken at once, whatever its Preference.
	if pref == 255 || c.ex.count > 1 || c.cfg.Deviations.TakeFirstAdvertise {
		c.offerAt = 0
		c.startRequest(now)
	}
}

// keepOffer stores an Advertise among the exchange's others, best first
// (§18.2.1: highest preference, then first received; §18.2.9: the client
// keeps them in case the chosen server does not answer). Its hints are
// c.offerHints[lo:]. A second Advertise from the same server is dropped.
func (c *Client) keepOffer(pref int, srv *serverID, lo int) {
	x := c.wr()
	at := len(x.offers)
	for k := range x.offers {
		if x.offers[k].server.hex == srv.hex {
			x.offerHints = x.offerHints[:lo]
			return
		}
		if at == len(x.offers) && c.before(pref, srv.hex, &x.offers[k]) {
			at = k
		}
	}
	x.offers = append(x.offers, offer{})
	copy(x.offers[at+1:], x.offers[at:])
	x.offers[at] = offer{pref: pref, server: srv, lo: int32(lo), hi: int32(len(x.offerHints))}
}

// before reports whether an Advertise of preference pref from the server
// shex goes before the stored offer o: a higher preference does (§18.2.1);
// on equal preference the one received first stays first, unless
// Deviations.LowestServerIDFirst (ISC dhclient 4.4, dhc6_best_lease) puts
// the binary lower Server Identifier first: a shorter one, or the lower
// of two as long (their hex strings compare the same way).
func (c *Client) before(pref int, shex string, o *offer) bool {
	if pref != o.pref || !c.cfg.Deviations.LowestServerIDFirst {
		return pref > o.pref
	}
	if oh := o.server.hex; len(shex) != len(oh) {
		return len(shex) < len(oh)
	}
	return shex < o.server.hex
}

// requestReply handles the Reply to a Request, or a Rapid Commit Reply to
// a Solicit (§18.2.10, §18.2.10.1).
func (c *Client) requestReply(now time.Time, m *dhcpv6.Message, srv *serverID, rapid bool) {
	switch status(m) {
	case iana.StatusSuccess:
	case iana.StatusUseMulticast:
		c.useMulticast(now)
		return
	case iana.StatusNotOnLink, iana.StatusNoAddrsAvail:
		if rapid {
			c.drop(DropNoAddrs)
			return
		}
		// §18.2.10.1: NotOnLink or NoAddrsAvail to a Request: start over
		// with Solicit; a client that still holds leases (a Request after
		// NoBinding) goes on with them.
		c.endRequest(now)
		return
	default:
		// §18.2.10: UnspecFail and the like: keep retransmitting (the
		// retransmission timer limits the rate).
		c.drop(DropStatus)
		return
	}
	if rapid && !c.offersLeases(m) {
		// §18.2.1 with §18.2.9: nothing usable, keep soliciting.
		c.drop(DropNoAddrs)
		return
	}
	c.apply(now, m, ctxRequest, srv)
	if c.leaseCount() == 0 {
		// §18.2.10.1: NoAddrsAvail for every IA: keep soliciting.
		c.endRequest(now)
		return
	}
	c.clearOffers()
	c.server = srv
	c.retryAfterNoBinding(now)
	c.bound(now)
}

func (c *Client) offersLeases(m *dhcpv6.Message) bool {
	for i := range c.ias() {
		c.cfg.scr.entries = iaEntries(m, &c.ias()[i], c.cfg.scr.entries[:0], nil)
		for _, e := range c.cfg.scr.entries {
			if e.valid > 0 {
				return true
			}
		}
	}
	return false
}

// extendReply handles the Reply to a Renew or Rebind (§18.2.10.1).
func (c *Client) extendReply(now time.Time, m *dhcpv6.Message, srv *serverID, ctx replyCtx) {
	switch status(m) {
	case iana.StatusSuccess:
	case iana.StatusUseMulticast:
		c.useMulticast(now)
		return
	default:
		c.drop(DropStatus)
		return
	}
	res := c.apply(now, m, ctx, srv)
	d := &c.cfg.Deviations
	if res.usable == 0 && (res.noBinding && d.NoBinding == NoBindingSolicit || res.noAddrs && d.NoAddrsSolicit) {
		// Not RFC 9915: no usable IA in the Reply (NoBinding with
		// Deviations.NoBindingSolicit, dhcpcd 9.4.1; NoAddrsAvail or
		// NoPrefixAvail with Deviations.NoAddrsSolicit, dhcpcd 9.4.1 and
		// ISC dhclient 4.4): Solicit, keeping the leases until they
		// expire.
		c.startSolicit(now, d.SolicitDelayEvery)
		return
	}
	if res.noBinding {
		// §18.2.10.1: NoBinding for an IA in a Reply to Renew or Rebind:
		// the client sends a Request, with IA options for all its IAs, to
		// the server that responded, and goes on using the leases still
		// valid meanwhile.
		var deadline instant
		switch d.NoBinding {
		case NoBindingRequest:
			c.server = srv
		case NoBindingRequestOnce:
			// Not RFC 9915 (ISC dhclient 4.4): to the server of the
			// binding, once, and nothing more until the leases expire.
			deadline = c.lastUntil()
		case NoBindingSolicit:
			// Not RFC 9915 (dhcpcd 9.4.1, another IA was usable): to the
			// server of the binding.
		}
		c.reqFromOffer = false
		c.state = Requesting
		c.newExchange(dhcpv6.MessageTypeRequest, &c.cfg.params[pRequest], deadline)
		c.ex.once = deadline != 0
		c.launch(now, false)
		return
	}
	if c.leaseCount() == 0 {
		// Every lease refused with zero lifetimes: start over with
		// Solicit (§18.2.10.1; a Decline that waits goes first).
		c.settle(now)
		return
	}
	if res.missing && c.outstanding(now) {
		// §18.2.10.1: an IA missing from the Reply and still due: go on
		// as if no Reply had come for it, at the normal retransmission
		// pace. The leases may have changed: the exchange's end follows
		// them (§18.2.5: Rebind runs until the valid lifetimes end).
		c.leasesChanged(now)
		return
	}
	// The answering server now holds the binding: Renew goes there.
	c.server = srv
	c.bound(now)
}

// confirmReply handles the Reply to a Confirm (§18.2.10.1).
func (c *Client) confirmReply(now time.Time, m *dhcpv6.Message, srv *serverID) {
	switch status(m) {
	case iana.StatusSuccess:
		// §18.2.10.1: any Success lets the client keep its addresses,
		// ignoring NotOnLink answers.
		for i := range c.ias() {
			a := &c.ias()[i]
			if a.kind() != history.IANA {
				continue
			}
			for _, l := range a.leases {
				l.server = srv
				c.leaseEvent(now, history.Confirmed, a, l, "")
			}
			for j := range a.leases {
				c.readd(now, a, &a.leases[j]) // DropOnLinkChange, ReaddKept
			}
		}
		c.forgetNotOnLink()
		c.bound(now)
	case iana.StatusNotOnLink:
		// Wait for the end of the current RT in case another server
		// answers Success.
		if !c.notOnLink {
			c.notOnLink, c.wr().notOnLinkBy = true, srv
		}
	default:
		c.drop(DropStatus)
	}
}

// confirmNotOnLink acts on a NotOnLink answer (§18.2.10.1): the addresses
// are not for this link; the client drops them and solicits.
func (c *Client) confirmNotOnLink(now time.Time) {
	for i := range c.ias() {
		a := &c.ias()[i]
		if a.kind() != history.IANA {
			continue
		}
		for _, l := range a.leases {
			l.server = c.rd().notOnLinkBy
			c.leaseEvent(now, history.Confirmed, a, l, history.CauseNotOnLink)
		}
		a.leases = a.leases[:0]
	}
	c.forgetNotOnLink()
	c.ex.kind = dhcpv6.MessageTypeNone
	c.settle(now)
}

// infoReply handles the Reply to an Information-request (§18.2.10.1,
// §21.23).
func (c *Client) infoReply(now time.Time, m *dhcpv6.Message, srv *serverID) {
	if status(m) != iana.StatusSuccess {
		c.drop(DropStatus)
		return
	}
	// §21.23: no option means IRT_DEFAULT; less than IRT_MINIMUM means
	// IRT_MINIMUM. A server's value is not scaled; the defaults are.
	refresh := c.cfg.irtDefault
	if o := m.GetOneOption(dhcpv6.OptionInformationRefreshTime); o != nil {
		refresh = m.Options.InformationRefreshTime(c.cfg.irtDefault)
	}
	if refresh < c.cfg.irtMin {
		refresh = c.cfg.irtMin
	}
	ev := c.event(now, history.Informed)
	ev.Server = srv.hex
	ev.Detail = "refresh=" + refresh.String()
	c.cfg.scr.out.Events = append(c.cfg.scr.out.Events, ev)
	c.waitAt = c.cfg.at(now.Add(refresh))
	c.ex.kind = dhcpv6.MessageTypeNone
	c.state = Informed
}

// useMulticast handles a UseMulticast status (§18.2.10): send to the
// servers' multicast address from now on, and resend the message now.
func (c *Client) useMulticast(now time.Time) {
	c.toAll = true
	c.transmit(now)
}

// entry is one address or prefix as a server's message gives it.
type entry struct {
	p           netip.Prefix
	pref, valid time.Duration
}

// iaEntries appends the usable leases of the IA in m that matches a (same
// type and IAID). info, when not nil, receives T1, T2, the IA's status and
// whether it was found. Leases with a non-Success status, or whose
// preferred lifetime exceeds the valid one, are skipped (§21.6, §21.22:
// the client MUST discard them).
func iaEntries(m *dhcpv6.Message, a *ia, dst []entry, info *iaInfo) []entry {
	if a.kind() == history.IAPD {
		for _, o := range m.Options.Options {
			pd, ok := o.(*dhcpv6.OptIAPD)
			if !ok || iaidOf(pd.IaId) != a.iaid {
				continue
			}
			if info != nil {
				info.found, info.t1, info.t2 = true, pd.T1, pd.T2
				if s := pd.Options.Status(); s != nil {
					info.status = s.StatusCode
				}
			}
			for _, so := range pd.Options.Options {
				p, ok := so.(*dhcpv6.OptIAPrefix)
				if !ok || p.Prefix == nil {
					continue
				}
				if s := p.Options.Status(); s != nil && s.StatusCode != iana.StatusSuccess {
					continue
				}
				if p.PreferredLifetime > p.ValidLifetime {
					continue
				}
				addr, ok := netip.AddrFromSlice(p.Prefix.IP.To16())
				bits, _ := p.Prefix.Mask.Size()
				if !ok {
					continue
				}
				dst = append(dst, entry{p: netip.PrefixFrom(addr, bits).Masked(), pref: p.PreferredLifetime, valid: p.ValidLifetime})
			}
			return dst
		}
		return dst
	}
	for _, o := range m.Options.Options {
		na, ok := o.(*dhcpv6.OptIANA)
		if !ok || iaidOf(na.IaId) != a.iaid {
			continue
		}
		if info != nil {
			info.found, info.t1, info.t2 = true, na.T1, na.T2
			if s := na.Options.Status(); s != nil {
				info.status = s.StatusCode
			}
		}
		for _, so := range na.Options.Options {
			ad, ok := so.(*dhcpv6.OptIAAddress)
			if !ok {
				continue
			}
			if s := ad.Options.Status(); s != nil && s.StatusCode != iana.StatusSuccess {
				continue
			}
			if ad.PreferredLifetime > ad.ValidLifetime {
				continue
			}
			addr, ok := netip.AddrFromSlice(ad.IPv6Addr.To16())
			if !ok {
				continue
			}
			dst = append(dst, entry{p: netip.PrefixFrom(addr, 128), pref: ad.PreferredLifetime, valid: ad.ValidLifetime})
		}
		return dst
	}
	return dst
}

type iaInfo struct {
	found  bool
	t1, t2 time.Duration
	status iana.StatusCode
}
