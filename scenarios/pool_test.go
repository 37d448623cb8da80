package scenarios

import (
	"net/netip"
	"testing"
)

func TestParsePool(t *testing.T) {
	for _, tc := range []struct {
		in, str string
		size    uint64
		prefix  bool
	}{
		{"2001:db8:1:1::/65", "2001:db8:1:1::/65", 1 << 63, true},
		{"2001:db8:1:1::/64", "2001:db8:1:1::/64", ^uint64(0), true},
		{"2001:db8::/128", "2001:db8::/128", 1, true},
		{"2001:db8::100-2001:db8::1ff", "2001:db8::100/120", 256, true},
		{" 2001:db8::1 - 2001:db8::10 ", "2001:db8::1-2001:db8::10", 16, false},
		{"2001:db8::5-2001:db8::5", "2001:db8::5/128", 1, true},
		{"2001:db8::-2001:db8::ffff:ffff:ffff:ffff", "2001:db8::/64", ^uint64(0), true},
		{"fd00::/8", "fd00::/8", ^uint64(0), true},
	} {
		p, err := ParsePool(tc.in)
		if err != nil {
			t.Errorf("ParsePool(%q): %v", tc.in, err)
			continue
		}
		if got := p.String(); got != tc.str {
			t.Errorf("ParsePool(%q).String() = %q, want %q", tc.in, got, tc.str)
		}
		if got := p.Size(); got != tc.size {
			t.Errorf("ParsePool(%q).Size() = %d, want %d", tc.in, got, tc.size)
		}
		if _, ok := p.Prefix(); ok != tc.prefix {
			t.Errorf("ParsePool(%q).Prefix() ok = %v, want %v", tc.in, ok, tc.prefix)
		}
		b, _ := p.MarshalText()
		var q Pool
		if err := q.UnmarshalText(b); err != nil || q != p {
			t.Errorf("text round trip of %v: %v, %v", p, q, err)
		}
	}
	for _, bad := range []string{"", "2001:db8::/", "10.0.0.0/8", "::ffff:10.0.0.0/104", "2001:db8::1/64",
		"2001:db8::9-2001:db8::1", "2001:db8::1-10.0.0.1", "fe80::1%eth0-fe80::2", "x-y", "2001:db8::1-"} {
		if p, err := ParsePool(bad); err == nil {
			t.Errorf("ParsePool(%q) = %v, want an error", bad, p)
		}
	}
}

func TestPoolRelations(t *testing.T) {
	half := func(s string) Pool { return PoolOf(netip.MustParsePrefix(s)) }
	a, b := half("2001:db8:1:1::/65"), half("2001:db8:1:1:8000::/65")
	link := netip.MustParsePrefix("2001:db8:1:1::/64")
	if a.Overlaps(b) || b.Overlaps(a) {
		t.Error("the two /65 halves overlap")
	}
	if !a.Within(link) || !b.Within(link) {
		t.Error("a /65 half is not within its /64")
	}
	edge, _ := ParsePool("2001:db8:1:1:7fff:ffff:ffff:ffff-2001:db8:1:1:8000::")
	if !edge.Overlaps(a) || !edge.Overlaps(b) {
		t.Error("a range straddling the halves must overlap both")
	}
	if !a.Contains(netip.MustParseAddr("2001:db8:1:1:7fff:ffff:ffff:ffff")) || a.Contains(netip.MustParseAddr("2001:db8:1:1:8000::")) {
		t.Error("Contains is wrong at the /65 boundary")
	}
	if half("2001:db8:1:2::/64").Within(link) {
		t.Error("another /64 is within the link")
	}
	var zero Pool
	if zero.IsValid() || zero.Overlaps(a) || zero.Within(link) || zero.Size() != 0 {
		t.Error("the zero Pool must be invalid and relate to nothing")
	}
}

func TestSlice(t *testing.T) {
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
		if k := sliceBits(tc.n); k != tc.k {
			t.Errorf("sliceBits(%d) = %d, want %d", tc.n, k, tc.k)
		}
		if got := slice(p, tc.k, tc.n-1).String(); got != tc.last {
			t.Errorf("slice %d of %d = %s, want %s", tc.n-1, tc.n, got, tc.last)
		}
	}
	if got := slice(netip.MustParsePrefix("2001:db8:100::/40"), 1, 1).String(); got != "2001:db8:180::/41" {
		t.Errorf("second /41 of 2001:db8:100::/40 = %s", got)
	}
}

func TestBump64(t *testing.T) {
	p := netip.MustParsePrefix("2001:db8:1:1::/64")
	if got, ok := bump64(p, 1); !ok || got.String() != "2001:db8:1:2::/64" {
		t.Errorf("bump64(+1) = %v %v", got, ok)
	}
	if got, ok := bump64(netip.MustParsePrefix("2001:db8:1:fffe::/64"), 1); !ok || got.String() != "2001:db8:1:ffff::/64" {
		t.Errorf("bump64 to ffff = %v %v", got, ok)
	}
	if _, ok := bump64(netip.MustParsePrefix("2001:db8:1:ffff::/64"), 1); ok {
		t.Error("bump64 past ffff must fail, not carry into the 3rd group")
	}
}
