package check

import (
	"net/netip"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// A million-client day has two million binding intervals: an interval
// keeps its instants as nanoseconds and its first grant inside it (it
// was 240 bytes and a grant slice of its own, 32 more).
func TestIntervalSize(t *testing.T) {
	if n := unsafe.Sizeof(interval{}); n > 160 {
		t.Fatalf("an interval is %d bytes, more than 160", n)
	}
}

// A stamp gives back the instant, the zero time and neverUsable, and
// keeps order; times beyond its range come back as its nearest.
func TestStampRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 1, 5, time.UTC)
	for _, tm := range []time.Time{at, {}, neverUsable, time.Unix(0, 0)} {
		if got := stampOf(tm).time(); !got.Equal(tm) {
			t.Errorf("stampOf(%v).time() = %v", tm, got)
		}
	}
	if !(stampOf(time.Time{}) < stampOf(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)) &&
		stampOf(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)) < stampOf(at) &&
		stampOf(at) < stampOf(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) &&
		stampOf(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) < stampOf(neverUsable)) {
		t.Error("stamps out of order")
	}
}

// duplicates sorts leases by dupKey, 24 bytes, in netip's order: the
// address (Addr.Compare: IPv4 before IPv6), then the length; and gets
// each prefix back from its key.
func TestDupKeyOrder(t *testing.T) {
	if n := unsafe.Sizeof(dupKey{}); n > 24 {
		t.Errorf("a dupKey is %d bytes, more than 24", n)
	}
	var ps []netip.Prefix
	for _, s := range []string{
		"2001:db8::1/128", "2001:db8::/64", "2001:db8::/48", "2001:db8::2/128", "2001:db8:0:1::/64",
		"::/0", "::ffff:192.0.2.1/128", "::ffff:192.0.2.0/120", "192.0.2.1/32", "192.0.2.0/24",
		"0.0.0.0/0", "10.0.0.0/8", "fd00::/8", "ff02::1:2/128", "2001:db8::1/127",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	byPrefix := slices.Clone(ps)
	slices.SortFunc(byPrefix, func(x, y netip.Prefix) int {
		if c := x.Addr().Compare(y.Addr()); c != 0 {
			return c
		}
		return x.Bits() - y.Bits()
	})
	ks := make([]dupKey, len(ps))
	for i, p := range ps {
		ks[i] = keyOf(p, int32(i))
		if got := ks[i].prefix(); got != p {
			t.Errorf("keyOf(%v).prefix() = %v", p, got)
		}
	}
	slices.SortFunc(ks, func(x, y dupKey) int { return x.compare(&y) })
	for i, k := range ks {
		if ps[k.i] != byPrefix[i] {
			t.Fatalf("position %d: %v by key, %v by prefix", i, ps[k.i], byPrefix[i])
		}
	}
}
