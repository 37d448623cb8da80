package lease

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// A slot stays small: two million of them are a million clients of two
// servers.
func TestSlotSize(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n > 112 {
		t.Fatalf("a slot is %d bytes, more than 112", n)
	}
}

// Memory gives back every field of every binding as it was put (deeply
// equal: nil and empty relay payloads, an Expires that Granted + its
// length would not give back), through Get, GetByLease, All and Expire,
// and its side table lets go of what a binding no longer has.
func TestSlotRoundTrip(t *testing.T) {
	plain := bind("\x00\x03\x00\x01abcdef", 1, NA, "2001:db8::1/128", time.Hour)
	withAll := bind("\x00\x03\x00\x01abcdeg", 2, PD, "2001:db8:1::/56", time.Hour)
	withAll.FQDN = "host.example.org."
	withAll.LinkAddr = netip.MustParseAddr("2001:db8:ffff::1")
	withAll.RelayID, withAll.RemoteID = []byte{1, 2}, []byte{}
	zeroGranted := bind("\x00\x03\x00\x01abcdeh", 3, NA, "2001:db8::3/128", time.Hour)
	zeroGranted.Granted = time.Time{}
	otherZone := bind("\x00\x03\x00\x01abcdei", 4, NA, "2001:db8::4/128", time.Hour)
	otherZone.Expires = otherZone.Expires.In(time.FixedZone("x", 3600))
	monotonic := bind("\x00\x03\x00\x01abcdej", 5, NA, "2001:db8::5/128", time.Hour)
	monotonic.Granted = time.Now()
	monotonic.Expires = monotonic.Granted.Round(0).Add(time.Hour)
	all := []Binding{plain, withAll, zeroGranted, otherZone, monotonic}

	m := NewMemory()
	for _, b := range all {
		if err := m.Put(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range all {
		if got, ok := m.Get(b.Key()); !ok || !reflect.DeepEqual(got, b) {
			t.Errorf("Get:\n got %#v\nwant %#v", got, b)
		}
		if got, ok := m.GetByLease(b.Lease); !ok || !reflect.DeepEqual(got, b) {
			t.Errorf("GetByLease:\n got %#v\nwant %#v", got, b)
		}
	}
	n := 0
	for got := range m.All() {
		n++
		if b, _ := m.Get(got.Key()); !reflect.DeepEqual(got, b) {
			t.Errorf("All:\n got %#v\nwant %#v", got, b)
		}
	}
	if n != len(all) {
		t.Errorf("All gave %d bindings, want %d", n, len(all))
	}
	if len(m.extras)-len(m.freeExtras) != 4 {
		t.Errorf("%d side entries in use, want 4 (all but the plain binding)", len(m.extras)-len(m.freeExtras))
	}

	// Renewed as a plain binding, withAll gives its side entry back.
	renewed := bind("\x00\x03\x00\x01abcdeg", 2, PD, "2001:db8:1::/56", 2*time.Hour)
	if err := m.Put(renewed); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(renewed.Key()); !reflect.DeepEqual(got, renewed) {
		t.Errorf("after renewal:\n got %#v\nwant %#v", got, renewed)
	}
	if len(m.extras)-len(m.freeExtras) != 3 {
		t.Errorf("%d side entries in use after the renewal, want 3", len(m.extras)-len(m.freeExtras))
	}

	var gone []Binding
	if _, err := m.Expire(t0.Add(90*time.Minute), func(b Binding) { gone = append(gone, b) }); err != nil {
		t.Fatal(err)
	}
	want := map[uint32]Binding{1: plain, 3: zeroGranted, 4: otherZone}
	if len(gone) != len(want) {
		t.Fatalf("expired %d bindings, want %d", len(gone), len(want))
	}
	for _, g := range gone {
		if !reflect.DeepEqual(g, want[g.IAID]) {
			t.Errorf("Expire:\n got %#v\nwant %#v", g, want[g.IAID])
		}
	}
	if len(m.extras)-len(m.freeExtras) != 1 {
		t.Errorf("%d side entries in use after the expiry, want 1 (the monotonic binding's)", len(m.extras)-len(m.freeExtras))
	}
	m.check(t)
}
