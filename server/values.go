package server

import (
	"encoding/binary"
	"net"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/server/lease"
)

// The values path (HandleMessage, for the virtual engine) reads the
// client's insomniacslk message and builds the answer as insomniacslk
// values. What it would allocate per message it keeps here and reuses:
// the DUIDs it reads (always: nothing keeps them past the exchange, as
// on the wire path where they alias a datagram), and, once
// SetAnswerReuse is on, the answer's own values.

// values is the values path's reused storage.
type values struct {
	ids []byte // the exchange's Client and Server Identifier DUIDs, as bytes

	reuse bool // SetAnswerReuse: the answer is built in the storage below
	msg   dhcpv6.Message
	opts  []dhcpv6.Option // msg's options

	// The answer's options, each kept from one answer to the next; n*
	// count how many the answer at hand uses.
	nas                               []*dhcpv6.OptIANA
	pds                               []*dhcpv6.OptIAPD
	addrs                             []*dhcpv6.OptIAAddress
	prefixes                          []*dhcpv6.OptIAPrefix
	statuses                          []*dhcpv6.OptStatusCode
	nNA, nPD, nAddr, nPrefix, nStatus int

	// Options that are the same in every answer, built once.
	pref, rapid, infoRefresh dhcpv6.Option
	fqdn                     dhcpv6.OptionGeneric // its data the answer's
	texts                    map[string]string    // status messages as strings
}

// SetAnswerReuse makes HandleMessage build every answer in storage the
// server reuses: an answer is then valid only until the next call of
// HandleMessage, which overwrites it. For a caller that has read the
// answer before it hands the server another message (the virtual
// engine: the client takes what it keeps out of the Reply before the
// next message is handled); it saves the answer's allocations.
func (s *Server) SetAnswerReuse(on bool) { s.vals.reuse = on }

// appendDUID appends d as insomniacslk's ToBytes writes it, without its
// buffer: the DUID types insomniacslk defines (the DUID interface holds
// them by pointer; a nil one, and any other DUID, go through ToBytes).
func appendDUID(b []byte, d dhcpv6.DUID) []byte {
	switch v := d.(type) {
	case *dhcpv6.DUIDLL:
		if v != nil {
			b = binary.BigEndian.AppendUint16(b, uint16(dhcpv6.DUID_LL))
			b = binary.BigEndian.AppendUint16(b, uint16(v.HWType))
			return append(b, v.LinkLayerAddr...)
		}
	case *dhcpv6.DUIDLLT:
		if v != nil {
			b = binary.BigEndian.AppendUint16(b, uint16(dhcpv6.DUID_LLT))
			b = binary.BigEndian.AppendUint16(b, uint16(v.HWType))
			b = binary.BigEndian.AppendUint32(b, v.Time)
			return append(b, v.LinkLayerAddr...)
		}
	case *dhcpv6.DUIDEN:
		if v != nil {
			b = binary.BigEndian.AppendUint16(b, uint16(dhcpv6.DUID_EN))
			b = binary.BigEndian.AppendUint32(b, v.EnterpriseNumber)
			return append(b, v.EnterpriseIdentifier...)
		}
	case *dhcpv6.DUIDUUID:
		if v != nil {
			return append(binary.BigEndian.AppendUint16(b, uint16(dhcpv6.DUID_UUID)), v.UUID[:]...)
		}
	case *dhcpv6.DUIDOpaque:
		if v != nil {
			return append(binary.BigEndian.AppendUint16(b, uint16(v.Type)), v.Data...)
		}
	}
	return append(b, d.ToBytes()...)
}

// An answer's values come from newAnswer and the *At methods: fresh ones
// each time, or with reuse on the storage's, every field set anew.

// newAnswer starts an answer of type t to x.
func (v *values) newAnswer(x *exchange, t dhcpv6.MessageType) *dhcpv6.Message {
	if !v.reuse {
		return &dhcpv6.Message{MessageType: t, TransactionID: x.xid}
	}
	v.nNA, v.nPD, v.nAddr, v.nPrefix, v.nStatus = 0, 0, 0, 0, 0
	clear(v.opts) // no stale option kept alive
	v.msg = dhcpv6.Message{MessageType: t, TransactionID: x.xid}
	v.msg.Options.Options = v.opts[:0]
	return &v.msg
}

// done records the answer's grown option list for the next one.
func (v *values) done(r *dhcpv6.Message) {
	if v.reuse {
		v.opts = r.Options.Options[:0]
	}
}

// reused returns the storage's next value of a list (allocating it the
// first time) reset by reset, or a fresh one without reuse.
func reused[T any](reuse bool, list *[]*T, n *int, reset func(*T)) *T {
	if !reuse {
		return new(T)
	}
	if *n == len(*list) {
		*list = append(*list, new(T))
	}
	p := (*list)[*n]
	*n++
	reset(p)
	return p
}

// naAt and pdAt are an IA option, its sub-option list's room kept.
func (v *values) naAt() *dhcpv6.OptIANA {
	return reused(v.reuse, &v.nas, &v.nNA, func(o *dhcpv6.OptIANA) {
		*o = dhcpv6.OptIANA{Options: dhcpv6.IdentityOptions{Options: o.Options.Options[:0]}}
	})
}

func (v *values) pdAt() *dhcpv6.OptIAPD {
	return reused(v.reuse, &v.pds, &v.nPD, func(o *dhcpv6.OptIAPD) {
		*o = dhcpv6.OptIAPD{Options: dhcpv6.PDOptions{Options: o.Options.Options[:0]}}
	})
}

// addrAt is an IA Address option for l, its address in the option's own
// 16 bytes.
func (v *values) addrAt(l leaseOut) *dhcpv6.OptIAAddress {
	o := reused(v.reuse, &v.addrs, &v.nAddr, func(o *dhcpv6.OptIAAddress) {
		*o = dhcpv6.OptIAAddress{IPv6Addr: o.IPv6Addr[:0]}
	})
	o.IPv6Addr = appendAddr(o.IPv6Addr, l)
	o.PreferredLifetime, o.ValidLifetime = l.preferred, l.valid
	return o
}

// prefixAt is an IA Prefix option for l, its prefix in the option's own
// net.IPNet.
func (v *values) prefixAt(l leaseOut) *dhcpv6.OptIAPrefix {
	o := reused(v.reuse, &v.prefixes, &v.nPrefix, func(o *dhcpv6.OptIAPrefix) {
		*o = dhcpv6.OptIAPrefix{Prefix: o.Prefix}
	})
	n := o.Prefix
	if n == nil {
		n = &net.IPNet{}
	}
	n.IP = appendAddr(n.IP[:0], l)
	n.Mask = appendMask(n.Mask[:0], l.p.Bits())
	o.Prefix = n
	o.PreferredLifetime, o.ValidLifetime = l.preferred, l.valid
	return o
}

// appendAddr appends l's address as net.IP, as netip.Addr.AsSlice gives it.
func appendAddr(ip net.IP, l leaseOut) net.IP {
	a := l.p.Addr()
	if a.Is4() {
		b := a.As4()
		return append(ip, b[:]...)
	}
	b := a.As16()
	return append(ip, b[:]...)
}

// appendMask appends the 16-byte mask of a /bits, as net.CIDRMask(bits,
// 128) gives it.
func appendMask(m net.IPMask, bits int) net.IPMask {
	for range net.IPv6len {
		n := min(max(bits, 0), 8)
		m = append(m, byte(0xff<<(8-n)))
		bits -= n
	}
	return m
}

// shared is an option that is the same in every answer: built once when
// reusing (*o keeps it), else built each time.
func (v *values) shared(o *dhcpv6.Option, build func() dhcpv6.Option) dhcpv6.Option {
	if !v.reuse {
		return build()
	}
	if *o == nil {
		*o = build()
	}
	return *o
}

// fqdnOpt is the Client FQDN option carrying data.
func (v *values) fqdnOpt(data []byte) dhcpv6.Option {
	if !v.reuse {
		return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionFQDN, OptionData: data}
	}
	v.fqdn = dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionFQDN, OptionData: data}
	return &v.fqdn
}

// statusAt is a Status Code option (msg "": the code's usual text).
func (v *values) statusAt(c statusCode, msg []byte) *dhcpv6.OptStatusCode {
	if msg == nil {
		msg = statusText[c]
	}
	o := reused(v.reuse, &v.statuses, &v.nStatus, func(o *dhcpv6.OptStatusCode) { *o = dhcpv6.OptStatusCode{} })
	o.StatusCode, o.StatusMessage = c, v.text(msg)
	return o
}

// text is msg as a string, without a conversion each time when reusing.
func (v *values) text(msg []byte) string {
	if !v.reuse {
		return string(msg)
	}
	if t, ok := v.texts[string(msg)]; ok {
		return t
	}
	if v.texts == nil {
		v.texts = map[string]string{}
	}
	t := string(msg)
	if len(v.texts) < 64 { // a few distinct messages; never grow without bound
		v.texts[t] = t
	}
	return t
}

// addIAs appends the IA options of outs to an answer.
func (v *values) addIAs(r *dhcpv6.Message, outs []iaOut) {
	for _, o := range outs {
		var id [4]byte
		binary.BigEndian.PutUint32(id[:], o.iaid)
		var ia dhcpv6.Option
		var opts *dhcpv6.Options
		leaseOpt := func(l leaseOut) dhcpv6.Option { return v.addrAt(l) }
		if o.sp.typ == lease.PD {
			pd := v.pdAt()
			pd.IaId, pd.T1, pd.T2 = id, o.t1, o.t2
			ia, opts = pd, &pd.Options.Options
			leaseOpt = func(l leaseOut) dhcpv6.Option { return v.prefixAt(l) }
		} else {
			na := v.naAt()
			na.IaId, na.T1, na.T2 = id, o.t1, o.t2
			ia, opts = na, &na.Options.Options
		}
		for _, l := range o.leases {
			opts.Add(leaseOpt(l))
		}
		if o.hasSt {
			opts.Add(v.statusAt(o.status, nil))
		}
		r.AddOption(ia)
	}
}
