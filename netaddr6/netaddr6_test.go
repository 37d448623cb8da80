package netaddr6_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"d6lab/netaddr6"
)

func TestParsePool(t *testing.T) {
	for _, tc := range []struct {
		in, str     string
		first, last string
		size        uint64
		prefix      bool
	}{
		{"2001:db8:1:1::/65", "2001:db8:1:1::/65", "2001:db8:1:1::", "2001:db8:1:1:7fff:ffff:ffff:ffff", 1 << 63, true},
		{"2001:db8:1:1::/64", "2001:db8:1:1::/64", "2001:db8:1:1::", "2001:db8:1:1:ffff:ffff:ffff:ffff", ^uint64(0), true},
		{"2001:db8::/128", "2001:db8::/128", "2001:db8::", "2001:db8::", 1, true},
		{"::/0", "::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ^uint64(0), true},
		{"fd00::/8", "fd00::/8", "fd00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ^uint64(0), true},
		{"2001:db8::100-2001:db8::1ff", "2001:db8::100/120", "2001:db8::100", "2001:db8::1ff", 256, true},
		{" 2001:db8::1 - 2001:db8::10 ", "2001:db8::1-2001:db8::10", "2001:db8::1", "2001:db8::10", 16, false},
		{"2001:db8::5-2001:db8::5", "2001:db8::5/128", "2001:db8::5", "2001:db8::5", 1, true},
		{"2001:db8::-2001:db8::ffff:ffff:ffff:ffff", "2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", ^uint64(0), true},
		{"2001:db8:1:0:ffff:ffff:ffff:ff00-2001:db8:1:1::ff", "2001:db8:1:0:ffff:ffff:ffff:ff00-2001:db8:1:1::ff",
			"2001:db8:1:0:ffff:ffff:ffff:ff00", "2001:db8:1:1::ff", 512, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := netaddr6.ParsePool(tc.in)
			if err != nil {
				t.Fatalf("ParsePool(%q): %v", tc.in, err)
			}
			if p.First.String() != tc.first || p.Last.String() != tc.last {
				t.Errorf("ParsePool(%q) = %s..%s, want %s..%s", tc.in, p.First, p.Last, tc.first, tc.last)
			}
			if got := p.String(); got != tc.str {
				t.Errorf("String() = %q, want %q", got, tc.str)
			}
			if got := p.Size(); got != tc.size {
				t.Errorf("Size() = %d, want %d", got, tc.size)
			}
			if _, ok := p.Prefix(); ok != tc.prefix {
				t.Errorf("Prefix() ok = %v, want %v", ok, tc.prefix)
			}
			b, _ := p.MarshalText()
			var q netaddr6.Pool
			if err := q.UnmarshalText(b); err != nil || q != p {
				t.Errorf("text round trip of %v: %v, %v", p, q, err)
			}
		})
	}
}

func TestParsePoolErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // a part of the error message
	}{
		{"empty", "", `"" is not an IPv6 prefix`},
		{"garbage", "garbage", `"garbage" is not an IPv6 prefix`},
		{"no length", "2001:db8::/", "is not an IPv6 prefix"},
		{"too long", "2001:db8::/129", "is not an IPv6 prefix"},
		{"IPv4 prefix", "10.0.0.0/8", `"10.0.0.0/8" is not an IPv6 prefix`},
		{"IPv4-mapped prefix", "::ffff:10.0.0.0/104", "is not an IPv6 prefix"},
		{"host bits /64", "2001:db8::5/64", `"2001:db8::5/64" has host bits set (did you mean 2001:db8::/64?)`},
		{"host bits /120", "2001:db8:1::5/120", `"2001:db8:1::5/120" has host bits set (did you mean 2001:db8:1::/120?)`},
		{"reversed range", "2001:db8::9-2001:db8::1", "range 2001:db8::9-2001:db8::1 ends before it starts"},
		{"IPv4 end", "2001:db8::1-10.0.0.1", `"10.0.0.1" is not a plain IPv6 address`},
		{"IPv4-mapped end", "::ffff:10.0.0.1-::ffff:10.0.0.2", `"::ffff:10.0.0.1" is not a plain IPv6 address`},
		{"zone", "fe80::1%eth0-fe80::2", `"fe80::1%eth0" is not a plain IPv6 address`},
		{"empty end", "2001:db8::1-", `"" is not an IPv6 address`},
		{"words", "x-y", `"x" is not an IPv6 address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := netaddr6.ParsePool(tc.in)
			if err == nil {
				t.Fatalf("ParsePool(%q) = %v, want an error", tc.in, p)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParsePool(%q) error %q, want it to contain %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestNewPool(t *testing.T) {
	a, b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	if p, err := netaddr6.NewPool(a, b); err != nil || p.Size() != 2 {
		t.Errorf("NewPool(%s, %s) = %v, %v", a, b, p, err)
	}
	for _, tc := range []struct{ first, last string }{
		{"2001:db8::2", "2001:db8::1"},
		{"10.0.0.1", "10.0.0.2"},
		{"fe80::1%eth0", "fe80::2%eth0"},
	} {
		if p, err := netaddr6.NewPool(netip.MustParseAddr(tc.first), netip.MustParseAddr(tc.last)); err == nil {
			t.Errorf("NewPool(%s, %s) = %v, want an error", tc.first, tc.last, p)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2001:db8:1:1::/64", true},
		{"2001:db8::/32", true},
		{"2001:db8::1/128", true},
		{"2001:db8::1/64", false},
		{"10.0.0.0/8", false},
		{"::ffff:10.0.0.0/104", false},
		{"2001:db8::", false},
	} {
		p, err := netaddr6.ParsePrefix(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParsePrefix(%q) = %v, %v; want ok %v", tc.in, p, err, tc.ok)
		}
		if pp, perr := netip.ParsePrefix(tc.in); perr == nil {
			if cerr := netaddr6.CheckPrefix(pp); (cerr == nil) != tc.ok {
				t.Errorf("CheckPrefix(%s) = %v; want ok %v", pp, cerr, tc.ok)
			}
		}
	}
}

func TestPoolRelations(t *testing.T) {
	half := func(s string) netaddr6.Pool { return netaddr6.PoolOf(netip.MustParsePrefix(s)) }
	a, b := half("2001:db8:1:1::/65"), half("2001:db8:1:1:8000::/65")
	link := netip.MustParsePrefix("2001:db8:1:1::/64")
	if a.Overlaps(b) || b.Overlaps(a) {
		t.Error("the two /65 halves overlap")
	}
	if !a.Within(link) || !b.Within(link) {
		t.Error("a /65 half is not within its /64")
	}
	edge, _ := netaddr6.ParsePool("2001:db8:1:1:7fff:ffff:ffff:ffff-2001:db8:1:1:8000::")
	if !edge.Overlaps(a) || !edge.Overlaps(b) {
		t.Error("a range straddling the halves must overlap both")
	}
	if !a.Contains(netip.MustParseAddr("2001:db8:1:1:7fff:ffff:ffff:ffff")) || a.Contains(netip.MustParseAddr("2001:db8:1:1:8000::")) {
		t.Error("Contains is wrong at the /65 boundary")
	}
	if half("2001:db8:1:2::/64").Within(link) {
		t.Error("another /64 is within the link")
	}
	if got := half("2001:db8::5/64").String(); got != "2001:db8::/64" {
		t.Errorf("PoolOf masks its prefix: got %s", got)
	}
	var zero netaddr6.Pool
	if zero.IsValid() || zero.Overlaps(a) || zero.Within(link) || zero.Size() != 0 || zero.String() != "invalid pool" {
		t.Error("the zero Pool must be invalid and relate to nothing")
	}
	if b, _ := zero.MarshalText(); len(b) != 0 {
		t.Errorf("zero Pool marshals to %q, want empty", b)
	}
}

func TestSubprefix(t *testing.T) {
	p := netip.MustParsePrefix("2001:db8:1:1::/64")
	for _, tc := range []struct {
		n    int
		k    int
		last string
	}{
		{1, 0, "2001:db8:1:1::/64"},
		{2, 1, "2001:db8:1:1:8000::/65"},
		{3, 2, "2001:db8:1:1:8000::/66"},
		{4, 2, "2001:db8:1:1:c000::/66"},
		{8, 3, "2001:db8:1:1:e000::/67"},
		{9, 4, "2001:db8:1:1:8000::/68"},
		{64, 6, "2001:db8:1:1:fc00::/70"},
	} {
		if k := netaddr6.SliceBits(tc.n); k != tc.k {
			t.Errorf("SliceBits(%d) = %d, want %d", tc.n, k, tc.k)
		}
		got := netaddr6.Subprefix(p, p.Bits()+tc.k, uint64(tc.n-1))
		if got.String() != tc.last {
			t.Errorf("slice %d of %d = %s, want %s", tc.n-1, tc.n, got, tc.last)
		}
		if i, ok := netaddr6.SubprefixIndex(p, got); !ok || i != uint64(tc.n-1) {
			t.Errorf("SubprefixIndex(%s, %s) = %d, %v; want %d", p, got, i, ok, tc.n-1)
		}
	}
	pd := netip.MustParsePrefix("2001:db8:100::/40")
	for i, want := range map[uint64]string{0: "2001:db8:100::/56", 1: "2001:db8:100:100::/56", 65535: "2001:db8:1ff:ff00::/56"} {
		if got := netaddr6.Subprefix(pd, 56, i).String(); got != want {
			t.Errorf("Subprefix(%s, 56, %d) = %s, want %s", pd, i, got, want)
		}
	}
	if _, ok := netaddr6.SubprefixIndex(pd, netip.MustParsePrefix("2001:db8:200::/56")); ok {
		t.Error("SubprefixIndex of a prefix outside")
	}
	if _, ok := netaddr6.SubprefixIndex(netip.MustParsePrefix("::/0"), netip.MustParsePrefix("8000::/128")); ok {
		t.Error("SubprefixIndex past 2^64 must say it does not fit")
	}
}

func TestUint128(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::ffff:ffff:ffff:ffff")
	x := netaddr6.FromAddr(a)
	if got := x.Add64(1).Addr().String(); got != "2001:db8:0:1::" {
		t.Errorf("carry: %s", got)
	}
	if got := x.Add64(1).Sub(x); got != (netaddr6.Uint128{Lo: 1}) {
		t.Errorf("borrow: %v", got)
	}
	if !x.Less(x.Add64(1)) || x.Less(x) {
		t.Error("Less")
	}
	if got := (netaddr6.Uint128{Lo: 1}).Shl(100).Shr(100); got != (netaddr6.Uint128{Lo: 1}) {
		t.Errorf("Shl/Shr: %v", got)
	}
	if got := netaddr6.HostMask(64); got != (netaddr6.Uint128{Lo: ^uint64(0)}) || netaddr6.HostMask(128) != (netaddr6.Uint128{}) || netaddr6.HostMask(0).OnesCount() != 128 {
		t.Errorf("HostMask: %v", got)
	}
	if got := x.Add(x.Not()); got != (netaddr6.Uint128{^uint64(0), ^uint64(0)}) {
		t.Errorf("x + ^x = %v", got)
	}
}

func TestLinkLocal(t *testing.T) {
	for _, tc := range []struct {
		mac  string
		want string
	}{
		{"02:d6:00:00:00:01", "fe80::d6:ff:fe00:1"},       // locally administered: U/L bit cleared
		{"00:1b:21:3a:4f:5c", "fe80::21b:21ff:fe3a:4f5c"}, // universal: U/L bit set
		{"ff:ff:ff:ff:ff:ff", "fe80::fdff:ffff:feff:ffff"},
	} {
		hw, err := net.ParseMAC(tc.mac)
		if err != nil {
			t.Fatal(err)
		}
		if got := netaddr6.LinkLocal([6]byte(hw)); got.String() != tc.want {
			t.Errorf("LinkLocal(%s) = %s, want %s", tc.mac, got, tc.want)
		}
	}
}

func TestReverseNames(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::567:89ab")
	const want = "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
	if got := netaddr6.ReverseName(a); got != want {
		t.Fatalf("netaddr6.ReverseName(%s) = %s, want %s (RFC 3596 §2.5)", a, got, want)
	}
	for _, n := range []string{want, strings.ToUpper(want), strings.TrimSuffix(want, ".")} {
		if got, ok := netaddr6.AddrOfReverse(n); !ok || got != a {
			t.Fatalf("netaddr6.AddrOfReverse(%s) = %s, %v; want %s", n, got, ok, a)
		}
	}
	for _, bad := range []string{"", "ip6.arpa.", "x.lab.example.", "b.a.9.8.ip6.arpa.", strings.Replace(want, "b.a", "g.a", 1), strings.Replace(want, "b.a", "ba.", 1)} {
		if got, ok := netaddr6.AddrOfReverse(bad); ok {
			t.Fatalf("AddrOfReverse(%q) = %s, want not ok", bad, got)
		}
	}
	z, err := netaddr6.ReverseZone(netip.MustParsePrefix("2001:db8:0:1::/64"))
	if err != nil || z != "1.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa." {
		t.Fatalf("ReverseZone = %q, %v", z, err)
	}
	if !strings.HasSuffix(netaddr6.ReverseName(netip.MustParseAddr("2001:db8:0:1::5")), "."+z) {
		t.Fatal("an address's name is not under its /64's zone")
	}
	for _, bad := range []string{"2001:db8::/62", "2001:db8::1/64", "10.0.0.0/8"} {
		if _, err := netaddr6.ReverseZone(netip.MustParsePrefix(bad)); err == nil {
			t.Fatalf("netaddr6.ReverseZone(%s): no error", bad)
		}
	}
}
