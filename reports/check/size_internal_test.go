package check

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// A million-client day has two million binding intervals: an interval
// keeps its instants as nanoseconds and its first grant inside it (it
// was 240 bytes and a grant slice of its own, 32 more), and holds no
// pointer, so that the collector never reads the slice of them (it was
// 168 bytes with four pointers).
func TestIntervalSize(t *testing.T) {
	if n := unsafe.Sizeof(interval{}); n > 104 {
		t.Errorf("an interval is %d bytes, more than 104", n)
	}
	if p := pointerIn(reflect.TypeFor[interval](), "interval"); p != "" {
		t.Errorf("an interval holds a pointer: %s", p)
	}
}

// pointerIn names the first field of t that is or holds a pointer, or "".
func pointerIn(t reflect.Type, path string) string {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if p := pointerIn(t.Field(i).Type, path+"."+t.Field(i).Name); p != "" {
				return p
			}
		}
		return ""
	case reflect.Array:
		return pointerIn(t.Elem(), path+"[]")
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return ""
	}
	return path + " (" + t.String() + ")"
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

// A packedPrefix gives its prefix back, zero and invalid lengths too,
// and two are equal when their prefixes are; duplicates sorts leases by
// it (dupKey, 24 bytes) in netip's order: the address (Addr.Compare:
// IPv4 before IPv6), then the length.
func TestPackedPrefix(t *testing.T) {
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
	odd := []netip.Prefix{{}, netip.PrefixFrom(netip.MustParseAddr("2001:db8::1"), 129),
		netip.PrefixFrom(netip.MustParseAddr("192.0.2.1"), 33), netip.PrefixFrom(netip.Addr{}, 0)}
	for _, p := range append(slices.Clone(ps), odd...) {
		pp := packPrefix(p)
		if got := pp.prefix(); got != p {
			t.Errorf("packPrefix(%v).prefix() = %v", p, got)
		}
		for _, q := range append(slices.Clone(ps), odd...) {
			if (packPrefix(q) == pp) != (q == p) {
				t.Errorf("%v and %v: packed equal %v, equal %v", p, q, packPrefix(q) == pp, q == p)
			}
		}
	}
	ks := make([]dupKey, len(ps))
	for i, p := range ps {
		ks[i] = keyOf(p, int32(i))
	}
	slices.SortFunc(ks, func(x, y dupKey) int { return x.compare(&y.packedPrefix) })
	for i, k := range ks {
		if ps[k.i] != byPrefix[i] {
			t.Fatalf("position %d: %v by key, %v by prefix", i, ps[k.i], byPrefix[i])
		}
	}
}
