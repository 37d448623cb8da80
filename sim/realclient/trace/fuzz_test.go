package trace_test

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/reports/history"
	"d6lab/sim/realclient/trace"
)

// The fuzzer's input is a sequence of records, each
//
//	kind byte, length uint16 (big endian), body
//
// after which the clock moves on by (kind >> 4) × 250 ms:
//
//	kind&3 == 0: body is a DHCPv6 message the client sends to ff02::1:2
//	kind&3 == 1: body is a DHCPv6 message server a (kind&4 == 0) or b
//	             sends to the client
//	kind&3 == 2: body is a raw Ethernet frame
//	kind&3 == 3: body is an address change: 16 bytes of address, then a
//	             byte of flags (1 deleted, 2 tentative, 4 DAD failed,
//	             8 deprecated)
const (
	recSent = iota
	recRecv
	recRaw
	recAddr
)

func fuzzInput(data []byte) ([]trace.Frame, []trace.AddrChange) {
	var frames []trace.Frame
	var addrs []trace.AddrChange
	now := t0
	for len(data) >= 3 {
		kind := data[0]
		n := int(binary.BigEndian.Uint16(data[1:3]))
		data = data[3:]
		n = min(n, len(data))
		body := data[:n]
		data = data[n:]
		switch kind & 3 {
		case recSent:
			if b, err := frameBytes(clientMAC, multicastMAC, clientLL, allServers, 546, 547, body); err == nil {
				frames = append(frames, trace.Frame{At: now, Data: b})
			}
		case recRecv:
			srv := "a"
			if kind&4 != 0 {
				srv = "b"
			}
			if b, err := frameBytes(srvMAC[srv], clientMAC, serverLL[srv], clientLL, 547, 546, body); err == nil {
				frames = append(frames, trace.Frame{At: now, Data: b})
			}
		case recRaw:
			frames = append(frames, trace.Frame{At: now, Data: slices.Clone(body)})
		case recAddr:
			if len(body) < 17 {
				break
			}
			a := netip.AddrFrom16([16]byte(body[:16]))
			f := body[16]
			addrs = append(addrs, trace.AddrChange{At: now, Prefix: netip.PrefixFrom(a, 128),
				Deleted: f&1 != 0, Tentative: f&2 != 0, DADFailed: f&4 != 0, Deprecated: f&8 != 0})
		}
		now = now.Add(time.Duration(kind>>4) * 250 * time.Millisecond)
	}
	return frames, addrs
}

// record appends one record to an input; step is the clock's advance
// after it, in 250 ms units (0..15).
func record(in []byte, kind byte, step byte, body []byte) []byte {
	in = append(in, kind|step<<4)
	in = binary.BigEndian.AppendUint16(in, uint16(len(body)))
	return append(in, body...)
}

func addrRecord(in []byte, step byte, p netip.Prefix, flags byte) []byte {
	a := p.Addr().As16()
	return record(in, recAddr, step, append(a[:], flags))
}

// seeds are fuzz inputs: the hand-built exchanges of the specs and the
// recorded goldens (their frames raw, their address logs as records).
func seeds(tb testing.TB) [][]byte {
	sol := msg(dhcpv6.MessageTypeSolicit, xidSolicit, clientDUID, "", dhcpv6.OptElapsedTime(0), ianaOpt(0, 0, nil), iapdOpt(0, 0, nil))
	adv := msg(dhcpv6.MessageTypeAdvertise, xidSolicit, clientDUID, "a", dhcpv6.OptPreference(7), ianaOpt(2, 3, nil, lease(addrA, 5, 8)), iapdOpt(2, 3, nil, lease(prefixA, 5, 8)))
	req := msg(dhcpv6.MessageTypeRequest, xidRequest, clientDUID, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)), iapdOpt(0, 0, nil, lease(prefixA, 0, 0)))
	rep := msg(dhcpv6.MessageTypeReply, xidRequest, clientDUID, "a", ianaOpt(2, 3, nil, lease(addrA, 5, 8)), iapdOpt(2, 3, nil, lease(prefixA, 5, 8)))
	ren := msg(dhcpv6.MessageTypeRenew, xidRenew, clientDUID, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)), iapdOpt(0, 0, nil, lease(prefixA, 0, 0)))
	nob := msg(dhcpv6.MessageTypeReply, xidRenew, clientDUID, "a", ianaOpt(0, 0, status(iana.StatusNoBinding)), iapdOpt(2, 3, nil, lease(prefixA, 5, 8)))
	reb := msg(dhcpv6.MessageTypeRebind, xidRebind, clientDUID, "", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))
	rnm := msg(dhcpv6.MessageTypeReply, xidRebind, clientDUID, "b", ianaOpt(2, 3, nil, lease(addrB, 5, 8), lease(addrA, 0, 0)))
	dec := msg(dhcpv6.MessageTypeDecline, xidDecline, clientDUID, "b", ianaOpt(0, 0, nil, lease(addrB, 0, 0)))
	rel := msg(dhcpv6.MessageTypeRelease, xidRelease, clientDUID, "a", iapdOpt(0, 0, nil, lease(prefixA, 0, 0)))
	cnf := msg(dhcpv6.MessageTypeConfirm, xidConfirm, clientDUID, "", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))
	nol := msg(dhcpv6.MessageTypeReply, xidConfirm, clientDUID, "a", status(iana.StatusNotOnLink))
	inf := msg(dhcpv6.MessageTypeInformationRequest, xidInfo, nil, "")
	irp := msg(dhcpv6.MessageTypeReply, xidInfo, nil, "a", dhcpv6.OptInformationRefreshTime(time.Hour))

	var full []byte
	full = record(full, recSent, 0, sol.ToBytes())
	full = record(full, recSent, 4, sol.ToBytes()) // a retransmission
	full = record(full, recRecv, 0, adv.ToBytes())
	full = record(full, recSent, 0, req.ToBytes())
	full = record(full, recRecv, 0, rep.ToBytes())
	full = addrRecord(full, 4, addrA, 2)
	full = addrRecord(full, 4, addrA, 0)
	full = record(full, recSent, 0, ren.ToBytes())
	full = record(full, recRecv, 1, nob.ToBytes())
	full = record(full, recSent, 0, reb.ToBytes())
	full = record(full, recRecv|4, 0, rnm.ToBytes())
	full = addrRecord(full, 1, addrB, 2|4|1)
	full = record(full, recSent, 1, dec.ToBytes())
	full = record(full, recSent, 1, cnf.ToBytes())
	full = record(full, recRecv, 1, nol.ToBytes())
	full = record(full, recSent, 15, rel.ToBytes())
	full = addrRecord(full, 15, addrA, 1)
	full = record(full, recSent, 0, inf.ToBytes())
	full = record(full, recRecv, 0, irp.ToBytes())
	full = record(full, recRaw, 0, []byte{1, 2, 3})
	out := [][]byte{full, full[:len(full)/2], nil}

	names, err := filepath.Glob(filepath.Join("testdata", "*.pcap"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no golden captures: %v", err)
	}
	for _, name := range names {
		frames, err := trace.ReadPcap(name)
		if err != nil {
			tb.Fatal(err)
		}
		base := name[:len(name)-len(".pcap")]
		f, err := os.Open(base + ".addrs.jsonl")
		if err != nil {
			tb.Fatal(err)
		}
		addrs, err := trace.ReadAddrs(f)
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
		// both in time order; the clock steps by 250 ms
		type item struct {
			at   time.Time
			kind byte
			body []byte
		}
		var items []item
		for _, fr := range frames {
			items = append(items, item{fr.At, recRaw, fr.Data})
		}
		for _, c := range addrs {
			var fl byte
			for k, b := range []bool{c.Deleted, c.Tentative, c.DADFailed, c.Deprecated} {
				if b {
					fl |= 1 << k
				}
			}
			a := c.Prefix.Addr().As16()
			items = append(items, item{c.At, recAddr, append(a[:], fl)})
		}
		slices.SortStableFunc(items, func(x, y item) int { return x.at.Compare(y.at) })
		var in []byte
		for k, it := range items {
			var step time.Duration
			if k+1 < len(items) {
				step = min(items[k+1].at.Sub(it.at)/(250*time.Millisecond), 15)
			}
			in = record(in, it.kind, byte(step), it.body)
		}
		out = append(out, in)
	}
	return out
}

// FuzzTranslate feeds Translate frames and address logs made from
// arbitrary bytes: it must not panic, must account for every frame, and
// must give well-formed events, the same ones twice.
func FuzzTranslate(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, addrs := fuzzInput(data)
		c := client0
		evs, st := trace.Translate(c, frames, addrs)
		if st.Frames != len(frames) {
			t.Fatalf("Stats.Frames %d, %d frames", st.Frames, len(frames))
		}
		if n := st.Malformed + st.NotDHCP + st.Relay + st.Foreign + st.OtherClient + st.WrongDirection + st.Sent + st.Received; n != len(frames) {
			t.Fatalf("%d frames, %d accounted for: %+v", len(frames), n, st)
		}
		duid := ""
		off := map[netip.Prefix]bool{}  // leases whose address is off (dropped, not restored)
		kept := map[netip.Prefix]bool{} // leases DAD found in use, which the client may add again
		for i, e := range evs {
			if i > 0 && e.At.Before(evs[i-1].At) {
				t.Fatalf("event %d (%s) before the one ahead of it", i, e.Kind)
			}
			if e.Client != c.Index {
				t.Fatalf("event %d for client %d", i, e.Client)
			}
			if e.DUID != "" {
				if duid != "" && e.DUID != duid {
					t.Fatalf("two DUIDs: %s, %s", duid, e.DUID)
				}
				duid = e.DUID
			}
			switch e.Kind {
			case history.Solicited, history.Advertised, history.Informed:
				if e.Lease.IsValid() {
					t.Fatalf("%s with a lease", e.Kind)
				}
			case history.Bound, history.Renewed, history.Rebound, history.Renumbered, history.Refused,
				history.Expired, history.Declined, history.Released, history.Confirmed, history.NoBinding, history.DADFailed,
				history.Dropped, history.Restored:
				if !e.Lease.IsValid() || (e.IA != history.IANA && e.IA != history.IAPD) {
					t.Fatalf("%s without a lease: %+v", e.Kind, e)
				}
				if e.IA == history.IANA && e.Lease.Bits() != 128 {
					t.Fatalf("an IA_NA lease %s", e.Lease)
				}
				if e.Kind == history.Renumbered && (!e.Old.IsValid() || e.Old == e.Lease) {
					t.Fatalf("renumbered from %v to %v", e.Old, e.Lease)
				}
				if e.Tentative < 0 || (e.Tentative > 0 && e.IA != history.IANA) {
					t.Fatalf("tentative %v on %s %s", e.Tentative, e.IA, e.Lease)
				}
				switch e.Kind {
				case history.Dropped:
					// an address leaves and comes back in turn, or comes
					// back again after DAD found it in use
					if e.IA != history.IANA || off[e.Lease] {
						t.Fatalf("dropped %s %s, off already", e.IA, e.Lease)
					}
					off[e.Lease] = true
				case history.Restored:
					if e.IA != history.IANA || !off[e.Lease] && !kept[e.Lease] {
						t.Fatalf("restored %s %s, neither off nor kept", e.IA, e.Lease)
					}
					off[e.Lease] = false
				case history.DADFailed:
					kept[e.Lease] = true
				case history.Bound, history.Renumbered:
					off[e.Lease], kept[e.Lease] = false, false
				}
			default:
				t.Fatalf("unexpected kind %s", e.Kind)
			}
		}
		again, st2 := trace.Translate(c, frames, addrs)
		if !reflect.DeepEqual(again, evs) || st2 != st {
			t.Fatal("two translations differ")
		}
		msgs, mst := trace.Messages(c, frames)
		if mst.Sent+mst.Received != len(msgs) || mst.Sent != st.Sent || mst.Received != st.Received {
			t.Fatalf("Messages: %d messages, %+v", len(msgs), mst)
		}
	})
}
