package load

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

func TestParseReply(t *testing.T) {
	noAddrs := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 9}}
	noAddrs.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoAddrsAvail})
	for _, c := range []struct {
		name    string
		b       []byte
		typ     uint8
		na, pd  bool
		status  int32
		naSt    int32
		relayed int
		rapid   bool
	}{
		{"advertise-na", answer(dhcpv6.MessageTypeAdvertise, 0x123456, true, false), msgAdvertise, true, false, -1, -1, 0, false},
		{"reply-pd", answer(dhcpv6.MessageTypeReply, 0x123456, false, true), msgReply, false, true, -1, -1, 0, false},
		{"reply-both-rapid", answer(dhcpv6.MessageTypeReply, 0x123456, true, true, &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}), msgReply, true, true, -1, -1, 0, true},
		{"relayed", relayed(answer(dhcpv6.MessageTypeAdvertise, 0x123456, true, true)), msgAdvertise, true, true, -1, -1, 1, false},
		{"twice-relayed", relayed(relayed(answer(dhcpv6.MessageTypeReply, 0x123456, true, false))), msgReply, true, false, -1, -1, 2, false},
		{"status", answer(dhcpv6.MessageTypeReply, 0x123456, false, false, &dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding}), msgReply, false, false, int32(iana.StatusNoBinding), -1, 0, false},
		{"ia-status", answer(dhcpv6.MessageTypeAdvertise, 0x123456, false, false, noAddrs), msgAdvertise, true, false, -1, int32(iana.StatusNoAddrsAvail), 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r reply
			if err := parseReply(c.b, &r); err != nil {
				t.Fatal(err)
			}
			if r.msgType != c.typ || r.xid != 0x123456 || r.relayed != c.relayed || r.rapid != c.rapid || r.status != c.status {
				t.Errorf("got type %d xid %x relayed %d rapid %v status %d", r.msgType, r.xid, r.relayed, r.rapid, r.status)
			}
			if !bytes.Equal(r.sid, testSID) {
				t.Errorf("sid %x, want %x", r.sid, testSID)
			}
			if r.na.present != c.na || r.pd.present != c.pd || r.na.status != c.naSt {
				t.Errorf("na %+v pd %+v", r.na, r.pd)
			}
			if c.na && c.naSt < 0 {
				if !r.na.hasAddr || netip.AddrFrom16(r.na.addr) != netip.MustParseAddr("2001:db8:1::42") || r.na.iaid != 7 || r.na.valid != 7200 || r.na.pref != 3600 || r.na.t1 != 60 {
					t.Errorf("na %+v", r.na)
				}
			}
			if c.pd {
				if !r.pd.hasAddr || netip.AddrFrom16(r.pd.addr) != netip.MustParseAddr("2001:db8:100:4200::") || r.pd.plen != 56 || r.pd.iaid != 0x80000007 {
					t.Errorf("pd %+v", r.pd)
				}
			}
		})
	}
}

// TestParseMalformed reads testdata/malformed/*.hex (one message in hex,
// '#' comments): the reader must reject each.
func TestParseMalformed(t *testing.T) {
	files, err := filepath.Glob("testdata/malformed/*.hex")
	if err != nil || len(files) == 0 {
		t.Fatalf("no malformed inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b := readHex(t, f)
			var r reply
			if err := parseReply(b, &r); err == nil {
				t.Errorf("accepted: %+v", r)
			}
		})
	}
}

func readHex(t *testing.T, f string) []byte {
	t.Helper()
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParseReply cross-checks the zero-allocation reader against
// insomniacslk/dhcp: it never panics, and whenever dhcpv6.FromBytes
// accepts an input the reader accepts it too and extracts the same
// fields.
func FuzzParseReply(f *testing.F) {
	f.Add(answer(dhcpv6.MessageTypeAdvertise, 1, true, true))
	f.Add(answer(dhcpv6.MessageTypeReply, 2, false, true, &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}))
	f.Add(relayed(answer(dhcpv6.MessageTypeReply, 3, true, false, &dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding})))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r reply
		err := parseReply(b, &r)
		d, derr := dhcpv6.FromBytes(b)
		if derr != nil {
			return
		}
		depth := 0
		for {
			rm, ok := d.(*dhcpv6.RelayMessage)
			if !ok {
				break
			}
			depth++
			if d, derr = dhcpv6.DecapsulateRelay(rm); derr != nil {
				return
			}
		}
		m, ok := d.(*dhcpv6.Message)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("insomniacslk accepts %x (%v), the reader rejects it: %v", b, m, err)
		}
		if depth > maxRelayDepth {
			return
		}
		compareReply(t, &r, m, depth)
	})
}

func compareReply(t *testing.T, r *reply, m *dhcpv6.Message, depth int) {
	t.Helper()
	if r.relayed != depth || r.msgType != uint8(m.MessageType) || r.xid != uint32(m.TransactionID[0])<<16|uint32(m.TransactionID[1])<<8|uint32(m.TransactionID[2]) {
		t.Fatalf("header: reader %d/%x/%d, insomniacslk %v/%v/%d", r.msgType, r.xid, r.relayed, m.MessageType, m.TransactionID, depth)
	}
	if o := m.GetOneOption(dhcpv6.OptionServerID); (o == nil) != (r.sid == nil) || o != nil && !bytes.Equal(o.ToBytes(), r.sid[4:]) {
		t.Fatalf("server id: reader %x, insomniacslk %v", r.sid, o)
	}
	if st := m.Options.Status(); st == nil && r.status != -1 || st != nil && int32(st.StatusCode) != r.status {
		t.Fatalf("status: reader %d, insomniacslk %v", r.status, st)
	}
	if rc := m.GetOneOption(dhcpv6.OptionRapidCommit) != nil; rc != r.rapid {
		t.Fatalf("rapid commit: reader %v, insomniacslk %v", r.rapid, rc)
	}
	secs := func(d time.Duration) uint32 { return uint32(d / time.Second) }
	status := func(st *dhcpv6.OptStatusCode) int32 {
		if st == nil {
			return -1
		}
		return int32(st.StatusCode)
	}
	na := m.Options.OneIANA()
	if (na != nil) != r.na.present {
		t.Fatalf("IA_NA: reader %v, insomniacslk %v", r.na.present, na)
	}
	if na != nil {
		if binary.BigEndian.Uint32(na.IaId[:]) != r.na.iaid || secs(na.T1) != r.na.t1 || secs(na.T2) != r.na.t2 || status(na.Options.Status()) != r.na.status {
			t.Fatalf("IA_NA: reader %+v, insomniacslk %v", r.na, na)
		}
		a := na.Options.OneAddress()
		if (a != nil) != r.na.hasAddr {
			t.Fatalf("IAADDR: reader %+v, insomniacslk %v", r.na, a)
		}
		if a != nil && (!bytes.Equal(a.IPv6Addr.To16(), r.na.addr[:]) || secs(a.PreferredLifetime) != r.na.pref || secs(a.ValidLifetime) != r.na.valid || status(a.Options.Status()) != r.na.addrStatus) {
			t.Fatalf("IAADDR: reader %+v, insomniacslk %v", r.na, a)
		}
	}
	pd := m.Options.OneIAPD()
	if (pd != nil) != r.pd.present {
		t.Fatalf("IA_PD: reader %v, insomniacslk %v", r.pd.present, pd)
	}
	if pd != nil {
		if binary.BigEndian.Uint32(pd.IaId[:]) != r.pd.iaid || secs(pd.T1) != r.pd.t1 || secs(pd.T2) != r.pd.t2 || status(pd.Options.Status()) != r.pd.status {
			t.Fatalf("IA_PD: reader %+v, insomniacslk %v", r.pd, pd)
		}
		ps := pd.Options.Prefixes()
		if (len(ps) > 0) != r.pd.hasAddr {
			t.Fatalf("IAPREFIX: reader %+v, insomniacslk %v", r.pd, ps)
		}
		if len(ps) > 0 {
			p := ps[0]
			if secs(p.PreferredLifetime) != r.pd.pref || secs(p.ValidLifetime) != r.pd.valid || status(p.Options.Status()) != r.pd.addrStatus {
				t.Fatalf("IAPREFIX: reader %+v, insomniacslk %v", r.pd, p)
			}
			if (p.Prefix == nil) != (r.pd.plen == 0) {
				t.Fatalf("IAPREFIX length: reader %d, insomniacslk %v", r.pd.plen, p.Prefix)
			}
			if p.Prefix != nil && !bytes.Equal(p.Prefix.IP.To16(), r.pd.addr[:]) {
				t.Fatalf("IAPREFIX prefix: reader %x, insomniacslk %v", r.pd.addr, p.Prefix.IP)
			}
			if ones, _ := p.Prefix.Mask.Size(); p.Prefix != nil && r.pd.plen <= 128 && ones != int(r.pd.plen) {
				t.Fatalf("IAPREFIX length: reader %d, insomniacslk %d", r.pd.plen, ones)
			}
		}
	}
}
