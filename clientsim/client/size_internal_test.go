package client

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"d6lab/reports/history"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// A million clients are a million Clients: the struct, with its first
// IA inside, stays in the 256-byte size class of Go's allocator (at or
// under 512 bytes an object with pointers needs no header). It was 1,024
// bytes and its IA another 160; then 768, until what it holds only for a
// while went aside; then 640, until its times became instants and its
// servers were shared; then 480, until its IA no longer kept the option
// of its last Renew, its drop counts became 16-bit, its SOL_MAX_RT or
// INF_MAX_RT was kept only when a server set it, its wait for a Renew and
// a stateless client's for its refresh became one, and its DUID was kept
// only in its Client Identifier option; then 320, until its exchange's
// parameters were shared (settings.params), its IAs were no slice, its
// Scratch joined its settings and its DUID's name came from its
// population (Config.Names).
func TestClientSize(t *testing.T) {
	if n := unsafe.Sizeof(Client{}); n > 256 {
		t.Fatalf("a Client is %d bytes, more than 256", n)
	}
}

// Each client holds a lease or two: as held, in the 96-byte size class
// (a Lease, its times as time.Time and its IA as a string, takes 200
// bytes and the 208 class). It was 128, until its prefix became 16 bytes
// and a length and its server a pointer to the shared serverID.
func TestHeldSize(t *testing.T) {
	if n := unsafe.Sizeof(held{}); n > 96 {
		t.Fatalf("a held lease is %d bytes, more than 96", n)
	}
}

// A held lease gives back the prefix it was given, whatever it is: an
// IPv6 address or prefix, an IPv4 or IPv4-mapped one, none at all, a
// length out of range.
func TestHeldPrefix(t *testing.T) {
	for _, p := range []netip.Prefix{
		netip.MustParsePrefix("2001:db8::1:2/128"),
		netip.MustParsePrefix("2001:db8:1:200::/56"),
		netip.MustParsePrefix("::/0"),
		netip.MustParsePrefix("::ffff:192.0.2.1/128"),
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.PrefixFrom(netip.MustParseAddr("2001:db8::1"), 129),
		netip.PrefixFrom(netip.MustParseAddr("192.0.2.1"), 33),
		netip.PrefixFrom(netip.Addr{}, 0),
		{},
	} {
		l := newHeld(IAIDNA, p, 0)
		if got := l.prefix(); got != p || l.addr() != p.Addr() {
			t.Errorf("%v (valid %v): got %v (valid %v), address %v", p, p.IsValid(), got, got.IsValid(), l.addr())
		}
	}
}

// Clients made with Config.Peer share its settings when the rest of
// their Config is the same, and keep their own when it is not.
func TestPeerSharesSettings(t *testing.T) {
	cfg := Config{Index: 0, DUID: []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}, IANA: true, Jitter: 0.1, Scratch: NewScratch()}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Index, cfg.DUID, cfg.Peer = 1, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 2}, a
	b, _ := New(cfg)
	cfg.Jitter = 0.2
	c, _ := New(cfg)
	cfg.Jitter, cfg.Scratch = 0.1, nil // a client with its own Scratch keeps its own settings
	d, _ := New(cfg)
	if b.cfg != a.cfg || c.cfg == a.cfg || c.cfg.Jitter != 0.2 || b.index != 1 || d.cfg == a.cfg || d.cfg.scr == a.cfg.scr {
		t.Fatalf("shared: b %v, c %v (jitter %v), d %v (scratch %v)", b.cfg == a.cfg, c.cfg == a.cfg, c.cfg.Jitter, d.cfg == a.cfg, d.cfg.scr == a.cfg.scr)
	}
}

// The compact forms the client keeps for the server to read (one
// allocation each) are the same options on the wire as insomniacslk's
// own: an IA_NA with one address, and a DUID-LL; a DUID-LL with a longer
// address, and another DUID type, are kept as parsed.
func TestCompactFormsSameBytes(t *testing.T) {
	addr := netip.MustParseAddr("2001:db8::1:2")
	want := &dhcpv6.OptIANA{IaId: iaidBytes(IAIDNA)}
	want.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.IP(addr.AsSlice())})
	var got dhcpv6.Option
	if n := testing.AllocsPerRun(10, func() { got = iaNAOne(IAIDNA, addr) }); n != 1 {
		t.Errorf("iaNAOne: %v allocations, want 1", n)
	}
	if !bytes.Equal(got.ToBytes(), want.ToBytes()) {
		t.Errorf("iaNAOne: % x, want % x", got.ToBytes(), want.ToBytes())
	}
	for _, raw := range [][]byte{
		{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}, // DUID-LL, Ethernet
		{0, 3, 0, 1},                   // DUID-LL, no address
		append([]byte{0, 3, 0, 1}, bytes.Repeat([]byte{7}, 20)...), // DUID-LL, 20 bytes of address: kept
		{0, 1, 0, 1, 0, 0, 0, 9, 2, 0, 0, 0, 0, 1},                 // DUID-LLT: kept
		{0, 2, 0, 0, 0, 9, 1, 2, 3},                                // DUID-EN: kept
	} {
		d, err := dhcpv6.DUIDFromBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		c := compactDUID(d)
		if !bytes.Equal(c.ToBytes(), raw) || !c.Equal(d) || !d.Equal(c) {
			t.Errorf("compactDUID(% x) = % x", raw, c.ToBytes())
		}
		if ll, ok := d.(*dhcpv6.DUIDLL); ok && len(ll.LinkLayerAddr) <= 16 {
			if n := testing.AllocsPerRun(10, func() { c = compactDUID(d) }); n != 1 {
				t.Errorf("compactDUID(% x): %v allocations, want 1", raw, n)
			}
		} else if c != d {
			t.Errorf("compactDUID(% x) made a new DUID", raw)
		}
	}
}

// A Client keeps its DUID only in its Client Identifier option: DUID and
// AppendDUID give back the bytes it was made with, a DUID-LL's without
// an allocation when the buffer has room (the virtual engine looks a
// coasting client's binding up by it).
func TestAppendDUID(t *testing.T) {
	for _, raw := range [][]byte{
		{0, 3, 0, 1, 2, 0, 0, 0, 0, 1},                             // DUID-LL, Ethernet (population.DUID's form)
		append([]byte{0, 3, 0, 1}, bytes.Repeat([]byte{7}, 20)...), // DUID-LL, 20 bytes of address
		{0, 1, 0, 1, 0, 0, 0, 9, 2, 0, 0, 0, 0, 1},                 // DUID-LLT
		{0, 2, 0, 0, 0, 9, 1, 2, 3},                                // DUID-EN
	} {
		c, err := New(Config{DUID: raw, IANA: true})
		if err != nil {
			t.Fatal(err)
		}
		want := bytes.Clone(raw)
		raw[len(raw)-1] ^= 0xff // the client keeps its own copy
		if got := c.DUID(); !bytes.Equal(got, want) {
			t.Errorf("DUID() = % x, want % x", got, want)
		}
		raw[len(raw)-1] ^= 0xff
		buf := make([]byte, 0, 64)
		if got := c.AppendDUID(buf); !bytes.Equal(got, raw) {
			t.Errorf("AppendDUID = % x, want % x", got, raw)
		}
		if raw[1] == 3 {
			if n := testing.AllocsPerRun(10, func() { buf = c.AppendDUID(buf[:0]) }); n != 0 {
				t.Errorf("AppendDUID(% x): %v allocations, want 0", raw, n)
			}
		}
	}
}

// fixedName is a Namer that names every client alike.
type fixedName string

func (n fixedName) DUIDHex(int) string { return string(n) }

// A client made with Names keeps no name of its own and names its DUID
// in its events as one made without does; New refuses Names that name
// another DUID.
func TestNames(t *testing.T) {
	raw := []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}
	const name = "00030001020000000001"
	own, err := New(Config{Index: 1, DUID: raw, IANA: true})
	if err != nil {
		t.Fatal(err)
	}
	named, err := New(Config{Index: 1, DUID: raw, IANA: true, Names: fixedName(name)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1, 0)
	for _, c := range []*Client{own, named} {
		if got, ev := c.DUIDHex(), c.event(now, history.Solicited).DUID; got != name || ev != name {
			t.Errorf("DUIDHex %q, event's DUID %q; want %q", got, ev, name)
		}
	}
	for _, bad := range []string{"00030001020000000002", "0003000102000000000", "00030001020000000001 ", "00030001020000000A01"} {
		if _, err := New(Config{Index: 1, DUID: raw, IANA: true, Names: fixedName(bad)}); err == nil {
			t.Errorf("Names %q for DUID %x: no error", bad, raw)
		}
	}
}
