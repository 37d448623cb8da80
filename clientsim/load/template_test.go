package load

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

func TestParseExchange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Exchange
		ok   bool
	}{
		{"sa", SolicitAdvertise, true}, {"sarr", FourMessage, true}, {"rapid", RapidCommit, true},
		{" SARR ", FourMessage, true}, {"", 0, false}, {"four-ish", 0, false},
	} {
		got, err := ParseExchange(c.in)
		if (err == nil) != c.ok || c.ok && got != c.want {
			t.Errorf("ParseExchange(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
		if c.ok && got.String() != map[Exchange]string{SolicitAdvertise: "sa", FourMessage: "sarr", RapidCommit: "rapid"}[c.want] {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

// TestTemplatesDecode decodes every patched template with
// dhcpv6.FromBytes and checks each patched field.
func TestTemplatesDecode(t *testing.T) {
	l := &grant{pdLen: 56}
	copy(l.naAddr[:], net.ParseIP("2001:db8:1::99"))
	copy(l.pdPfx[:], net.ParseIP("2001:db8:100:9900::"))
	for _, ex := range []Exchange{FourMessage, RapidCommit} {
		for _, ia := range []struct{ na, pd bool }{{true, false}, {false, true}, {true, true}} {
			for _, relay := range []bool{false, true} {
				cfg := Config{Seed: 42, Exchange: ex, NA: ia.na, PD: ia.pd, Relay: relay, LinkAddr: linkAddr}
				tp, err := newTemplates(&cfg)
				if err != nil {
					t.Fatal(err)
				}
				for k := kind(0); k < nKinds; k++ {
					name := fmt.Sprintf("%v/na=%v/pd=%v/relay=%v/%v", ex, ia.na, ia.pd, relay, k)
					t.Run(name, func(t *testing.T) {
						buf := make([]byte, maxMsg)
						const xid, client = 0xabcdef, 12345
						n := tp.encode(buf, k, xid, client, l, testSID, relay)
						checkTemplate(t, tp, buf[:n], k, ex, ia.na, ia.pd, relay, l)
					})
				}
			}
		}
	}
}

func checkTemplate(t *testing.T, tp *templates, b []byte, k kind, ex Exchange, na, pd, relay bool, l *grant) {
	t.Helper()
	d, err := dhcpv6.FromBytes(b)
	if err != nil {
		t.Fatalf("FromBytes: %v", err)
	}
	var mac [6]byte
	tp.clientMAC(12345, &mac)
	if relay {
		rm, ok := d.(*dhcpv6.RelayMessage)
		if !ok || rm.MessageType != dhcpv6.MessageTypeRelayForward {
			t.Fatalf("not a Relay-forward: %v", d)
		}
		if !rm.LinkAddr.Equal(net.IP(linkAddr.AsSlice())) {
			t.Errorf("link-address %v", rm.LinkAddr)
		}
		peer := net.IP{0xfe, 0x80, 0, 0, 0, 0, 0, 0, mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]}
		if !rm.PeerAddr.Equal(peer) {
			t.Errorf("peer-address %v, want %v", rm.PeerAddr, peer)
		}
		if iid := rm.Options.InterfaceID(); string(iid) != interfaceName {
			t.Errorf("Interface-ID %q", iid)
		}
		if d, err = rm.GetInnerMessage(); err != nil {
			t.Fatal(err)
		}
	}
	m, ok := d.(*dhcpv6.Message)
	if !ok {
		t.Fatalf("not a client message: %T", d)
	}
	want := [nKinds]dhcpv6.MessageType{dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeRelease}[k]
	if m.MessageType != want {
		t.Errorf("type %v, want %v", m.MessageType, want)
	}
	if m.TransactionID != (dhcpv6.TransactionID{0xab, 0xcd, 0xef}) {
		t.Errorf("xid %v", m.TransactionID)
	}
	cid := m.Options.ClientID()
	ll, ok := cid.(*dhcpv6.DUIDLL)
	if !ok || !bytes.Equal(ll.LinkLayerAddr, mac[:]) {
		t.Errorf("Client Identifier %v, want DUID-LL %x", cid, mac)
	}
	if m.Options.ElapsedTime() != 0 {
		t.Errorf("elapsed %v", m.Options.ElapsedTime())
	}
	if rc := m.GetOneOption(dhcpv6.OptionRapidCommit) != nil; rc != (k == kSolicit && ex == RapidCommit) {
		t.Errorf("Rapid Commit present=%v", rc)
	}
	sid := m.Options.ServerID()
	if hasSID := k == kRequest || k == kRenew || k == kRelease; hasSID {
		if sid == nil || !bytes.Equal(sid.ToBytes(), testSID[4:]) {
			t.Errorf("Server Identifier %v, want %x", sid, testSID[4:])
		}
	} else if sid != nil {
		t.Errorf("unexpected Server Identifier %v", sid)
	}
	withAddr := k != kSolicit
	if ia := m.Options.OneIANA(); (ia != nil) != na {
		t.Errorf("IA_NA present=%v", ia != nil)
	} else if ia != nil {
		if binary.BigEndian.Uint32(ia.IaId[:]) != 12345 {
			t.Errorf("IA_NA IAID %x", ia.IaId)
		}
		a := ia.Options.OneAddress()
		if (a != nil) != withAddr || a != nil && !a.IPv6Addr.Equal(net.IP(l.naAddr[:])) {
			t.Errorf("IAADDR %v", a)
		}
	}
	if ia := m.Options.OneIAPD(); (ia != nil) != pd {
		t.Errorf("IA_PD present=%v", ia != nil)
	} else if ia != nil {
		if binary.BigEndian.Uint32(ia.IaId[:]) != 12345|1<<31 {
			t.Errorf("IA_PD IAID %x", ia.IaId)
		}
		ps := ia.Options.Prefixes()
		if (len(ps) == 1) != withAddr {
			t.Errorf("IAPREFIX %v", ps)
		} else if withAddr {
			got, _ := netip.AddrFromSlice(ps[0].Prefix.IP)
			ones, _ := ps[0].Prefix.Mask.Size()
			if got != netip.AddrFrom16(l.pdPfx) || ones != int(l.pdLen) {
				t.Errorf("IAPREFIX %v", ps[0].Prefix)
			}
		}
	}
}

func TestClientsDistinct(t *testing.T) {
	cfg := Config{Seed: 7}
	tp, err := newTemplates(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[6]byte]bool{}
	for n := uint32(0); n < 10000; n++ {
		var mac [6]byte
		tp.clientMAC(n, &mac)
		if seen[mac] {
			t.Fatalf("client %d repeats MAC %x", n, mac)
		}
		seen[mac] = true
	}
	cfg2 := Config{Seed: 8}
	tp2, _ := newTemplates(&cfg2)
	if tp2.macBase == tp.macBase {
		t.Errorf("seeds 7 and 8 give the same DUID space")
	}
}

func TestExchangeFlag(t *testing.T) {
	var e Exchange
	if err := e.Set("rapid"); err != nil || e != RapidCommit || e.Type() != "exchange" {
		t.Fatalf("Set: %v %v", e, err)
	}
	if err := e.Set("bogus"); err == nil {
		t.Fatal("Set accepted bogus")
	}
	b, _ := FourMessage.MarshalText()
	var back Exchange
	if err := back.UnmarshalText(b); err != nil || back != FourMessage {
		t.Fatalf("round trip %q -> %v %v", b, back, err)
	}
}

// TestLocate: a patched field is found only where the two encodings
// differ in exactly its width.
func TestLocate(t *testing.T) {
	base := []byte{1, 2, 3, 4, 5}
	if at, err := locate(base, []byte{1, 0xff, 0xff, 4, 5}, 2); at != 1 || err != nil {
		t.Errorf("locate = %d, %v; want 1", at, err)
	}
	for _, c := range []struct {
		alt   []byte
		width int
	}{
		{[]byte{1, 0xff, 0xff, 4, 5}, 1}, // wider than said
		{[]byte{1, 0xff, 3, 0xff, 5}, 3}, // not contiguous
		{[]byte{1, 2, 3, 4, 5}, 1},       // nowhere
		{[]byte{1, 2, 3, 4, 0xff}, 2},    // past the end
		{[]byte{1, 2}, 1},                // another length
	} {
		if at, err := locate(base, c.alt, c.width); err == nil {
			t.Errorf("locate(%x, %d) = %d, want an error", c.alt, c.width, at)
		}
	}
}
