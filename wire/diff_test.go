package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"reflect"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/wire"
)

// reference decodes b with insomniacslk/dhcp, the reference decoder; a
// panic counts as a rejection.
func reference(b []byte) (d dhcpv6.DHCPv6, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("insomniacslk panicked: %v", r)
		}
	}()
	return dhcpv6.FromBytes(b)
}

// differential decodes b with wire and with insomniacslk and returns a
// description of the first disagreement, nil when they agree: both reject
// (wire with an Error), wire leaves it to the general decoder
// (ErrNotFastPath), or both accept and every field wire reads is what
// insomniacslk reads. An accepted message is also encoded again, decoded
// again and compared again, and its encoding must be a fixed point.
func differential(b []byte) error {
	var m wire.Message
	werr := m.Decode(b)
	ref, rerr := reference(b)
	switch {
	case errors.Is(werr, wire.ErrNotFastPath):
		return nil
	case werr != nil && !errors.Is(werr, wire.ErrMalformed):
		return fmt.Errorf("wire returned an untyped error: %v", werr)
	case werr != nil && rerr == nil:
		return fmt.Errorf("wire rejects (%v), insomniacslk accepts", werr)
	case werr == nil && rerr != nil:
		return fmt.Errorf("wire accepts, insomniacslk rejects (%v)", rerr)
	case werr != nil:
		return nil
	}
	if err := sameMessage(&m, ref); err != nil {
		return err
	}
	enc, err := m.AppendTo(nil)
	if err != nil {
		return fmt.Errorf("AppendTo: %v", err)
	}
	var m2 wire.Message
	if err := m2.Decode(enc); err != nil {
		return fmt.Errorf("decoding AppendTo's output %x: %v", enc, err)
	}
	if err := sameMessage(&m2, ref); err != nil {
		return fmt.Errorf("after a round trip: %v", err)
	}
	enc2, err := m2.AppendTo(nil)
	if err != nil || !bytes.Equal(enc, enc2) {
		return fmt.Errorf("encoding is not a fixed point: %x then %x (%v)", enc, enc2, err)
	}
	return nil
}

// sameMessage compares every field of m with insomniacslk's d.
func sameMessage(m *wire.Message, d dhcpv6.DHCPv6) error {
	for i := 0; ; i++ {
		r, ok := d.(*dhcpv6.RelayMessage)
		if !ok {
			if i != len(m.Relays) {
				return fmt.Errorf("wire has %d relay levels, insomniacslk %d", len(m.Relays), i)
			}
			break
		}
		if i >= len(m.Relays) {
			return fmt.Errorf("wire has %d relay levels, insomniacslk more", len(m.Relays))
		}
		if err := sameRelay(&m.Relays[i], r); err != nil {
			return fmt.Errorf("relay level %d: %v", i, err)
		}
		d = r.Options.RelayMessage()
	}
	c, ok := d.(*dhcpv6.Message)
	if !ok || c == nil {
		return fmt.Errorf("insomniacslk's innermost message is %T", d)
	}
	return sameInner(m, c)
}

func sameRelay(w *wire.Relay, r *dhcpv6.RelayMessage) error {
	if uint8(w.Type) != uint8(r.MessageType) || w.HopCount != r.HopCount {
		return fmt.Errorf("type/hop-count %d/%d, insomniacslk %d/%d", w.Type, w.HopCount, r.MessageType, r.HopCount)
	}
	if !net.IP(w.LinkAddr[:]).Equal(r.LinkAddr) || !net.IP(w.PeerAddr[:]).Equal(r.PeerAddr) {
		return fmt.Errorf("link/peer %x/%x, insomniacslk %v/%v", w.LinkAddr, w.PeerAddr, r.LinkAddr, r.PeerAddr)
	}
	iid := r.Options.GetOne(dhcpv6.OptionInterfaceID)
	if w.HasInterfaceID != (iid != nil) || (iid != nil && !bytes.Equal(w.InterfaceID, r.Options.InterfaceID())) {
		return fmt.Errorf("Interface-Id %v %x, insomniacslk %v", w.HasInterfaceID, w.InterfaceID, iid)
	}
	var rest []dhcpv6.Option
	firsts := map[dhcpv6.OptionCode]bool{dhcpv6.OptionRelayMsg: true, dhcpv6.OptionInterfaceID: true}
	for _, o := range r.Options.Options {
		if firsts[o.Code()] {
			delete(firsts, o.Code())
			continue
		}
		rest = append(rest, o)
	}
	return sameOthers("relay", w.Other, rest)
}

func sameInner(m *wire.Message, c *dhcpv6.Message) error {
	if uint8(m.Type) != uint8(c.MessageType) {
		return fmt.Errorf("type %d, insomniacslk %d", m.Type, c.MessageType)
	}
	x := c.TransactionID
	if m.TransactionID != uint32(x[0])<<16|uint32(x[1])<<8|uint32(x[2]) {
		return fmt.Errorf("transaction ID %06x, insomniacslk %x", m.TransactionID, x)
	}
	o := c.Options
	if err := sameDUID("Client ID", m.ClientID, o.ClientID()); err != nil {
		return err
	}
	if err := sameDUID("Server ID", m.ServerID, o.ServerID()); err != nil {
		return err
	}
	oro := o.RequestedOptions()
	if m.HasORO != (len(o.Get(dhcpv6.OptionORO)) > 0) || len(m.ORO) != len(oro) {
		return fmt.Errorf("ORO %v %v, insomniacslk %v", m.HasORO, m.ORO, oro)
	}
	for i, code := range oro {
		if m.ORO[i] != uint16(code) {
			return fmt.Errorf("ORO %v, insomniacslk %v", m.ORO, oro)
		}
	}
	if e := o.GetOne(dhcpv6.OptionElapsedTime); m.HasElapsedTime != (e != nil) ||
		time.Duration(m.ElapsedTime)*10*time.Millisecond != o.ElapsedTime() {
		return fmt.Errorf("elapsed time %v %d, insomniacslk %v", m.HasElapsedTime, m.ElapsedTime, o.ElapsedTime())
	}
	if p := o.GetOne(dhcpv6.OptionPreference); m.HasPreference != (p != nil) || m.Preference != o.Preference() {
		return fmt.Errorf("preference %v %d, insomniacslk %d", m.HasPreference, m.Preference, o.Preference())
	}
	if m.RapidCommit != (o.GetOne(dhcpv6.OptionRapidCommit) != nil) {
		return fmt.Errorf("Rapid Commit %v, insomniacslk not", m.RapidCommit)
	}
	if m.ReconfigureAccept != (o.GetOne(dhcpv6.OptionReconfAccept) != nil) {
		return fmt.Errorf("Reconfigure Accept %v, insomniacslk not", m.ReconfigureAccept)
	}
	if err := sameStatus("message", m.Status, o.Status()); err != nil {
		return err
	}
	if f := o.GetOne(dhcpv6.OptionFQDN); (m.FQDN != nil) != (f != nil) {
		return fmt.Errorf("Client FQDN %x, insomniacslk %v", m.FQDN, f)
	} else if f != nil {
		if err := sameParsed(dhcpv6.OptionFQDN, m.FQDN, f); err != nil {
			return err
		}
	}
	na, pd := o.IANA(), o.IAPD()
	if len(m.IANA) != len(na) || len(m.IAPD) != len(pd) {
		return fmt.Errorf("%d IA_NA and %d IA_PD, insomniacslk %d and %d", len(m.IANA), len(m.IAPD), len(na), len(pd))
	}
	for i, ia := range na {
		if err := sameIA(&m.IANA[i], ia.IaId, ia.T1, ia.T2, ia.Options.Options, dhcpv6.OptionIAAddr); err != nil {
			return fmt.Errorf("IA_NA %d: %v", i, err)
		}
	}
	for i, ia := range pd {
		if err := sameIA(&m.IAPD[i], ia.IaId, ia.T1, ia.T2, ia.Options.Options, dhcpv6.OptionIAPrefix); err != nil {
			return fmt.Errorf("IA_PD %d: %v", i, err)
		}
	}
	var rest []dhcpv6.Option
	firsts := map[dhcpv6.OptionCode]bool{
		dhcpv6.OptionClientID: true, dhcpv6.OptionServerID: true, dhcpv6.OptionElapsedTime: true,
		dhcpv6.OptionPreference: true, dhcpv6.OptionRapidCommit: true, dhcpv6.OptionReconfAccept: true,
		dhcpv6.OptionStatusCode: true, dhcpv6.OptionFQDN: true,
	}
	for _, opt := range o.Options {
		switch code := opt.Code(); {
		case code == dhcpv6.OptionIANA || code == dhcpv6.OptionIAPD || code == dhcpv6.OptionORO:
		case firsts[code]:
			delete(firsts, code)
		default:
			rest = append(rest, opt)
		}
	}
	return sameOthers("message", m.Other, rest)
}

func sameDUID(what string, w []byte, d dhcpv6.DUID) error {
	if (w != nil) != (d != nil) || (d != nil && !bytes.Equal(w, d.ToBytes())) {
		return fmt.Errorf("%s %x, insomniacslk %v", what, w, d)
	}
	return nil
}

func sameStatus(where string, w wire.Status, s *dhcpv6.OptStatusCode) error {
	if w.Present != (s != nil) || (s != nil && (w.Code != uint16(s.StatusCode) || string(w.Message) != s.StatusMessage)) {
		return fmt.Errorf("%s status %+v, insomniacslk %v", where, w, s)
	}
	return nil
}

func seconds(s uint32) time.Duration { return time.Duration(s) * time.Second }

func sameIA(w *wire.IA, iaid [4]byte, t1, t2 time.Duration, opts dhcpv6.Options, leaseCode dhcpv6.OptionCode) error {
	if w.IAID != uint32(iaid[0])<<24|uint32(iaid[1])<<16|uint32(iaid[2])<<8|uint32(iaid[3]) ||
		seconds(w.T1) != t1 || seconds(w.T2) != t2 {
		return fmt.Errorf("IAID/T1/T2 %d/%d/%d, insomniacslk %x/%v/%v", w.IAID, w.T1, w.T2, iaid, t1, t2)
	}
	var rest []dhcpv6.Option
	var status *dhcpv6.OptStatusCode
	n := 0
	for _, o := range opts {
		switch {
		case o.Code() == leaseCode:
			if n >= len(w.Leases) {
				return fmt.Errorf("%d leases, insomniacslk more", len(w.Leases))
			}
			if err := sameLease(&w.Leases[n], o); err != nil {
				return fmt.Errorf("lease %d: %v", n, err)
			}
			n++
		case o.Code() == dhcpv6.OptionStatusCode && status == nil:
			status = o.(*dhcpv6.OptStatusCode)
		default:
			rest = append(rest, o)
		}
	}
	if n != len(w.Leases) {
		return fmt.Errorf("%d leases, insomniacslk %d", len(w.Leases), n)
	}
	if err := sameStatus("IA", w.Status, status); err != nil {
		return err
	}
	return sameOthers("IA", w.Other, rest)
}

func sameLease(w *wire.Lease, o dhcpv6.Option) error {
	var opts dhcpv6.Options
	switch a := o.(type) {
	case *dhcpv6.OptIAAddress:
		if !net.IP(w.Addr[:]).Equal(a.IPv6Addr) || seconds(w.Preferred) != a.PreferredLifetime || seconds(w.Valid) != a.ValidLifetime || w.Bits != 0 {
			return fmt.Errorf("IA Address %x %d/%d, insomniacslk %v", w.Addr, w.Preferred, w.Valid, a)
		}
		opts = a.Options.Options
	case *dhcpv6.OptIAPrefix:
		if seconds(w.Preferred) != a.PreferredLifetime || seconds(w.Valid) != a.ValidLifetime {
			return fmt.Errorf("IA Prefix lifetimes %d/%d, insomniacslk %v", w.Preferred, w.Valid, a)
		}
		if a.Prefix == nil {
			if w.Bits != 0 {
				return fmt.Errorf("IA Prefix /%d, insomniacslk none", w.Bits)
			}
		} else if !net.IP(w.Addr[:]).Equal(a.Prefix.IP) || !bytes.Equal(a.Prefix.Mask, net.CIDRMask(int(w.Bits), 128)) {
			return fmt.Errorf("IA Prefix %x/%d, insomniacslk %v", w.Addr, w.Bits, a.Prefix)
		}
		opts = a.Options.Options
	default:
		return fmt.Errorf("insomniacslk's lease is %T", o)
	}
	var rest []dhcpv6.Option
	var status *dhcpv6.OptStatusCode
	for _, so := range opts {
		if so.Code() == dhcpv6.OptionStatusCode && status == nil {
			status = so.(*dhcpv6.OptStatusCode)
			continue
		}
		rest = append(rest, so)
	}
	if err := sameStatus("lease", w.Status, status); err != nil {
		return err
	}
	return sameOthers("lease", w.Other, rest)
}

// sameOthers compares options wire keeps raw with insomniacslk's, in
// order: the same code and the raw value parsing to a deeply equal option.
func sameOthers(where string, w []wire.Option, ref []dhcpv6.Option) error {
	if len(w) != len(ref) {
		codes := make([]dhcpv6.OptionCode, len(ref))
		for i, o := range ref {
			codes[i] = o.Code()
		}
		return fmt.Errorf("%s: other options %v, insomniacslk %v", where, w, codes)
	}
	for i, o := range ref {
		if w[i].Code != uint16(o.Code()) {
			return fmt.Errorf("%s: other option %d is %d, insomniacslk %v", where, i, w[i].Code, o.Code())
		}
		if err := sameParsed(o.Code(), w[i].Value, o); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
	}
	return nil
}

// sameParsed reports whether value parses (by insomniacslk) to an option
// deeply equal to ref.
func sameParsed(code dhcpv6.OptionCode, value []byte, ref dhcpv6.Option) error {
	got, err := dhcpv6.ParseOption(code, value)
	if err != nil || !reflect.DeepEqual(got, ref) {
		return fmt.Errorf("option %v: value %x parses to %v (%v), insomniacslk has %v", code, value, got, err, ref)
	}
	return nil
}
