package conform

import (
	"fmt"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// solicit multicasts a Solicit from c with the IAs in opts and returns
// the first Advertise (or Reply) to it, nil after the timeout.
func (r *runner) solicit(c client, oro []dhcpv6.OptionCode, ias ...dhcpv6.Option) (*dhcpv6.Message, error) {
	reply, _, err := r.solicitX(c, oro, ias...)
	return reply, err
}

// solicitX is solicit that also says what was wrong with an answer that
// did not decode.
func (r *runner) solicitX(c client, oro []dhcpv6.OptionCode, ias ...dhcpv6.Option) (*dhcpv6.Message, string, error) {
	opts := append([]dhcpv6.Option{dhcpv6.OptRequestedOption(oro...)}, ias...)
	m := c.message(dhcpv6.MessageTypeSolicit, r.xid(), opts...)
	reply, _, err := r.p.exchange(m, allServers)
	return reply, r.p.malformedAnswer(m.TransactionID), err
}

// requestFor builds c's Request for what adv offered: the offered
// addresses and prefixes, the server's ID (RFC 9915 §18.2.2).
func (r *runner) requestFor(c client, adv *dhcpv6.Message, sid []byte) *dhcpv6.Message {
	var opts []dhcpv6.Option
	if sid != nil {
		if d, err := dhcpv6.DUIDFromBytes(sid); err == nil {
			opts = append(opts, dhcpv6.OptServerID(d))
		}
	}
	opts = append(opts, dhcpv6.OptRequestedOption(oroPlain...))
	for _, ia := range adv.Options.IANA() {
		var addrs []netip.Addr
		for _, l := range naResult(adv, ia.IaId).granted() {
			addrs = append(addrs, l.prefix.Addr())
		}
		opts = append(opts, iaNA(ia.IaId, addrs...))
	}
	for _, ia := range adv.Options.IAPD() {
		var ps []netip.Prefix
		for _, l := range pdResult(adv, ia.IaId).granted() {
			ps = append(ps, l.prefix)
		}
		opts = append(opts, iaPD(ia.IaId, ps...))
	}
	return c.message(dhcpv6.MessageTypeRequest, r.xid(), opts...)
}

// acquire runs Solicit, Advertise, Request, Reply for one IA_NA of c
// (with hints) and returns the address bound, the Reply and the server's
// ID, or why there is none.
func (r *runner) acquire(c client, hints ...netip.Addr) (netip.Addr, *dhcpv6.Message, []byte, string) {
	adv, err := r.solicit(c, oroPlain, iaNA(c.iaid, hints...))
	if err != nil {
		return netip.Addr{}, nil, nil, err.Error()
	}
	if adv == nil {
		return netip.Addr{}, nil, nil, fmt.Sprintf("no Advertise within %s", r.opt.Timeout)
	}
	sid := serverID(adv)
	if sid == nil {
		// RFC 9915 §16.3 (Advertise), §16.10 (Reply): the client MUST
		// discard a message without a Server Identifier.
		return netip.Addr{}, nil, nil, fmt.Sprintf("the %s has no Server Identifier (RFC 9915 §16.3: the client discards it)", adv.MessageType)
	}
	if adv.MessageType == dhcpv6.MessageTypeReply { // Rapid Commit: already bound
		return firstAddr(adv, c), adv, sid, whyNone(adv, c)
	}
	if len(naResult(adv, c.iaid).granted()) == 0 {
		return netip.Addr{}, adv, sid, "Advertise without an address: " + whyNone(adv, c)
	}
	reply, _, err := r.p.exchange(r.requestFor(c, adv, sid), allServers)
	if err != nil {
		return netip.Addr{}, nil, sid, err.Error()
	}
	if reply == nil {
		return netip.Addr{}, nil, sid, fmt.Sprintf("no Reply to the Request within %s", r.opt.Timeout)
	}
	return firstAddr(reply, c), reply, sid, whyNone(reply, c)
}

func firstAddr(m *dhcpv6.Message, c client) netip.Addr {
	if g := naResult(m, c.iaid).granted(); len(g) > 0 {
		return g[0].prefix.Addr()
	}
	return netip.Addr{}
}

func whyNone(m *dhcpv6.Message, c client) string {
	if len(naResult(m, c.iaid).granted()) > 0 {
		return ""
	}
	res := naResult(m, c.iaid)
	if !res.found {
		return fmt.Sprintf("no IA_NA (status %s)", topStatus(m))
	}
	return fmt.Sprintf("IA_NA status %s", res.statusCode())
}

// bulkAcquire binds an address for each client, in the given order, a
// batch at a time (Solicits of a batch, then its Requests). It returns
// client index -> address. It stops early when a batch gets no answer at
// all twice in a row (a silent server).
func (r *runner) bulkAcquire(cs []client, order []int, batch int) map[int]netip.Addr {
	out := map[int]netip.Addr{}
	silent := 0
	for start := 0; start < len(order); start += batch {
		if r.ctx.Err() != nil {
			return out
		}
		idx := order[start:min(start+batch, len(order))]
		sol := map[dhcpv6.TransactionID]int{}
		for _, i := range idx {
			x := r.xid()
			sol[x] = i
			_ = r.p.send(cs[i].message(dhcpv6.MessageTypeSolicit, x, dhcpv6.OptRequestedOption(oroPlain...), iaNA(cs[i].iaid)), allServers, false)
		}
		advs := map[int]*dhcpv6.Message{}
		r.p.collect(r.opt.Timeout, func(pk packet) bool {
			m, ok := pk.msg.(*dhcpv6.Message)
			if !ok || pk.relay {
				return false
			}
			i, ok := sol[m.TransactionID]
			if ok && advs[i] == nil {
				advs[i] = m
				return true
			}
			return false
		}, func(ps []packet) bool { return len(ps) == len(idx) })
		if len(advs) == 0 {
			silent++
			if silent >= 2 {
				return out
			}
			continue
		}
		silent = 0
		req := map[dhcpv6.TransactionID]int{}
		for _, i := range idx {
			adv := advs[i]
			if adv == nil {
				continue
			}
			if adv.MessageType == dhcpv6.MessageTypeReply {
				if a := firstAddr(adv, cs[i]); a.IsValid() {
					out[i] = a
				}
				continue
			}
			if len(naResult(adv, cs[i].iaid).granted()) == 0 {
				continue
			}
			m := r.requestFor(cs[i], adv, serverID(adv))
			req[m.TransactionID] = i
			_ = r.p.send(m, allServers, false)
		}
		if len(req) > 0 {
			r.p.collect(r.opt.Timeout, func(pk packet) bool {
				m, ok := pk.msg.(*dhcpv6.Message)
				if !ok || pk.relay || m.MessageType != dhcpv6.MessageTypeReply {
					return false
				}
				i, ok := req[m.TransactionID]
				if !ok {
					return false
				}
				delete(req, m.TransactionID)
				if a := firstAddr(m, cs[i]); a.IsValid() {
					out[i] = a
				}
				return true
			}, func([]packet) bool { return len(req) == 0 })
		}
	}
	return out
}
