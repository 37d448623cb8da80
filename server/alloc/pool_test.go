package alloc

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParsePool(t *testing.T) {
	tests := []struct {
		in          string
		first, last string
		size        uint64
		str         string
	}{
		{"2001:db8:1::/65", "2001:db8:1::", "2001:db8:1:0:7fff:ffff:ffff:ffff", 1 << 63, "2001:db8:1::/65"},
		{"2001:db8:1::100-2001:db8:1::1ff", "2001:db8:1::100", "2001:db8:1::1ff", 256, "2001:db8:1::100-2001:db8:1::1ff"},
		{" 2001:db8:1::100 - 2001:db8:1::100 ", "2001:db8:1::100", "2001:db8:1::100", 1, "2001:db8:1::100-2001:db8:1::100"},
		{"2001:db8:1::/64", "2001:db8:1::", "2001:db8:1:0:ffff:ffff:ffff:ffff", MaxSize, "2001:db8:1::/64"},
		{"fd00::/48", "fd00::", "fd00::ffff:ffff:ffff:ffff:ffff", MaxSize, "fd00::/48"},
		{"2001:db8::1/128", "2001:db8::1", "2001:db8::1", 1, "2001:db8::1/128"},
		{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", MaxSize, "::/0"},
	}
	for _, tc := range tests {
		p, err := ParsePool(tc.in)
		if err != nil {
			t.Errorf("ParsePool(%q): %v", tc.in, err)
			continue
		}
		if p.First().String() != tc.first || p.Last().String() != tc.last || p.Size() != tc.size || p.String() != tc.str {
			t.Errorf("ParsePool(%q) = %s..%s size %d str %q; want %s..%s size %d str %q",
				tc.in, p.First(), p.Last(), p.Size(), p.String(), tc.first, tc.last, tc.size, tc.str)
		}
		again, err := ParsePool(p.String())
		if err != nil || again != p {
			t.Errorf("ParsePool(%q).String() does not round-trip: %v %v", tc.in, again, err)
		}
	}
}

func TestParsePoolErrors(t *testing.T) {
	for _, in := range []string{
		"", "garbage", "10.0.0.0/8", "::ffff:10.0.0.1/128", "2001:db8::2-2001:db8::1",
		"2001:db8::1-10.0.0.1", "2001:db8::1-", "fe80::1%eth0-fe80::2%eth0", "2001:db8::/129",
		"2001:db8::5/64", "2001:db8:1::5/120", // host bits set: an error, never masked
	} {
		if _, err := ParsePool(in); !errors.Is(err, ErrInvalidPool) {
			t.Errorf("ParsePool(%q) error = %v, want ErrInvalidPool", in, err)
		}
	}
}

func TestPoolHostBits(t *testing.T) {
	_, err := ParsePool("2001:db8::5/64")
	if err == nil || !strings.Contains(err.Error(), `"2001:db8::5/64" has host bits set (did you mean 2001:db8::/64?)`) {
		t.Errorf("ParsePool with host bits: %v", err)
	}
	if _, err := PoolFromPrefix(netip.MustParsePrefix("2001:db8::5/64")); !errors.Is(err, ErrInvalidPool) {
		t.Errorf("PoolFromPrefix with host bits: %v, want ErrInvalidPool", err)
	}
	if _, err := NewPrefixPool(netip.MustParsePrefix("2001:db8:100::1/40"), 56); !errors.Is(err, ErrInvalidPool) {
		t.Errorf("NewPrefixPool with host bits: %v, want ErrInvalidPool", err)
	}
}

func TestPoolIndexRoundTrip(t *testing.T) {
	p, err := ParsePool("2001:db8:1:0:ffff:ffff:ffff:ff00-2001:db8:1:1::ff") // spans two /64s
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != 512 {
		t.Fatalf("size %d, want 512", p.Size())
	}
	for i := uint64(0); i < p.Size(); i++ {
		a := p.Addr(i)
		j, ok := p.Index(a)
		if !ok || j != i {
			t.Fatalf("Index(Addr(%d)=%s) = %d, %v", i, a, j, ok)
		}
	}
	for _, out := range []string{"2001:db8:1:0:ffff:ffff:ffff:feff", "2001:db8:1:1::100", "10.0.0.1", "::ffff:10.0.0.1"} {
		if p.Contains(netip.MustParseAddr(out)) {
			t.Errorf("pool contains %s", out)
		}
	}
	if (Pool{}).Contains(netip.MustParseAddr("::")) {
		t.Error("zero pool contains ::")
	}
}

func TestReserved(t *testing.T) {
	p, err := ParsePool("2001:db8:1::/64")
	if err != nil {
		t.Fatal(err)
	}
	reserved := map[string]bool{
		"2001:db8:1::":                         true, // Subnet-Router anycast (RFC 4291 §2.6.1)
		"2001:db8:1::1":                        false,
		"2001:db8:1:0:fdff:ffff:ffff:ff7f":     false,
		"2001:db8:1:0:fdff:ffff:ffff:ff80":     true, // RFC 2526 §2 first reserved
		"2001:db8:1:0:fdff:ffff:ffff:ffc0":     true,
		"2001:db8:1:0:fdff:ffff:ffff:fffe":     true, // Mobile IPv6 home-agents anycast
		"2001:db8:1:0:fdff:ffff:ffff:ffff":     true,
		"2001:db8:1:0:fe00::":                  false,
		"2001:db8:1:0:ffff:ffff:ffff:fffe":     false,
		"2001:db8:1:0:fdff:ffff:ffff:ff80%eth": true,
	}
	for s, want := range reserved {
		a := netip.MustParseAddr(s)
		if got := ReservedAddr(a); got != want {
			t.Errorf("ReservedAddr(%s) = %v, want %v", s, got, want)
		}
		if a.Zone() != "" {
			continue
		}
		i, ok := p.Index(a)
		if !ok {
			t.Fatalf("%s not in pool", s)
		}
		if got := p.Reserved(i); got != want {
			t.Errorf("Reserved(index of %s) = %v, want %v", s, got, want)
		}
	}
	// A /64 holds 2^64 addresses; the index space stops one short (MaxSize).
	if p.Contains(netip.MustParseAddr("2001:db8:1:0:ffff:ffff:ffff:ffff")) {
		t.Error("the 2^64th address of a /64 is indexed; MaxSize caps the index space")
	}
	if ReservedAddr(netip.MustParseAddr("2001:db8:1:0:ffff:ffff:ffff:ffff")) {
		t.Error("ffff:ffff:ffff:ffff is not an RFC 2526 reserved identifier")
	}
	// A pool spanning /64 boundaries reserves the anycast addresses of each /64.
	q, err := ParsePool("2001:db8:1:0:ffff:ffff:ffff:fffe-2001:db8:1:1::1")
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, false, true, false}
	for i, w := range want {
		if q.Reserved(uint64(i)) != w {
			t.Errorf("spanning pool Reserved(%d [%s]) = %v, want %v", i, q.Addr(uint64(i)), !w, w)
		}
	}
}

func TestPrefixPool(t *testing.T) {
	p, err := ParsePrefixPool("2001:db8:100::/40/56")
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != 65536 || p.Delegated() != 56 || p.String() != "2001:db8:100::/40/56" {
		t.Fatalf("got size %d delegated %d str %q", p.Size(), p.Delegated(), p)
	}
	cases := map[uint64]string{0: "2001:db8:100::/56", 1: "2001:db8:100:100::/56", 65535: "2001:db8:1ff:ff00::/56"}
	for i, want := range cases {
		got := p.Prefix(i)
		if got.String() != want {
			t.Errorf("Prefix(%d) = %s, want %s", i, got, want)
		}
		j, ok := p.Index(got)
		if !ok || j != i {
			t.Errorf("Index(%s) = %d, %v; want %d", got, j, ok, i)
		}
	}
	for _, bad := range []string{"2001:db8:200::/56", "2001:db8:100::/64", "2001:db8:100::/48"} {
		if _, ok := p.Index(netip.MustParsePrefix(bad)); ok {
			t.Errorf("Index(%s) ok, want not in pool", bad)
		}
	}
	if !p.Contains(netip.MustParsePrefix("2001:db8:100:100::/64")) || p.Contains(netip.MustParsePrefix("2001:db8::/32")) {
		t.Error("Contains wrong")
	}
	// Delegating /64 out of a /64 gives one prefix; /128 out of ::/0 caps.
	one, err := NewPrefixPool(netip.MustParsePrefix("2001:db8:5::/64"), 64)
	if err != nil || one.Size() != 1 || one.Prefix(0).String() != "2001:db8:5::/64" {
		t.Errorf("one-prefix pool: %v %v", one, err)
	}
	big, err := NewPrefixPool(netip.MustParsePrefix("::/0"), 128)
	if err != nil || big.Size() != MaxSize {
		t.Errorf("::/0 delegating /128: size %d, %v", big.Size(), err)
	}
	for _, in := range []string{"2001:db8::/40", "2001:db8::/40/32", "2001:db8::/40/129", "10.0.0.0/8/16", "2001:db8::/40/x", "2001:db8:100::1/40/56"} {
		if _, err := ParsePrefixPool(in); !errors.Is(err, ErrInvalidPool) {
			t.Errorf("ParsePrefixPool(%q) error = %v, want ErrInvalidPool", in, err)
		}
	}
}

func TestPoolFlagValue(t *testing.T) {
	var p Pool
	if err := p.Set("2001:db8::/120"); err != nil || p.Size() != 256 || p.Type() != "pool" {
		t.Fatalf("Set: %v %v", p, err)
	}
	b, _ := p.MarshalText()
	var q Pool
	if err := q.UnmarshalText(b); err != nil || q != p {
		t.Fatalf("text round trip: %v %v", q, err)
	}
	var pd PrefixPool
	if err := pd.Set("2001:db8:100::/40/56"); err != nil || pd.Type() != "pdpool" {
		t.Fatalf("PrefixPool.Set: %v", err)
	}
	b, _ = pd.MarshalText()
	var pd2 PrefixPool
	if err := pd2.UnmarshalText(b); err != nil || pd2 != pd {
		t.Fatalf("PrefixPool text round trip: %v %v", pd2, err)
	}
}
