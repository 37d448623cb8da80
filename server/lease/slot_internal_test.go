package lease

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
	"unsafe"
)

// A million bindings are a million slots: 88 bytes each, no pointers.
func TestSlotSize(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n > 88 {
		t.Fatalf("a slot is %d bytes, more than 88", n)
	}
}

// A binding comes back as it was put: what most bindings lack (an FQDN,
// relay data) and times a slot cannot hold as nanoseconds (another
// location than the store's, a year beyond 2262, a zero Granted) are
// kept beside the slot, and freed when a Put no longer needs them; a
// monotonic reading is dropped, the instant kept.
func TestSlotKeepsEveryField(t *testing.T) {
	m := NewMemory()
	plain := bind("\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01", 1, NA, "2001:db8::1/128", time.Hour)
	rich := bind("\x00\x01\x00\x01\x2f\x00\x00\x00\x02\x00\x00\x00\x00\x02", 7, PD, "2001:db8:100::/56", time.Hour)
	rich.FQDN, rich.LinkAddr = "host.example.", netip.MustParseAddr("2001:db8:1::1")
	rich.RelayID, rich.RemoteID = []byte{0, 1, 2}, []byte("port-7")
	zone := bind("c-zone", 2, NA, "2001:db8::2/128", time.Hour)
	zone.Granted, zone.Expires = zone.Granted.In(time.FixedZone("X", 3600)), zone.Expires.In(time.FixedZone("X", 3600))
	far := bind("c-far", 3, NA, "2001:db8::3/128", time.Hour)
	far.Granted, far.Expires = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 1, 0, 0, 0, time.UTC)
	never := bind("c-never", 4, NA, "2001:db8::4/128", time.Hour)
	never.Granted = time.Time{}
	for _, b := range []Binding{plain, rich, zone, far, never} {
		if err := m.Put(b); err != nil {
			t.Fatal(err)
		}
		got, ok := m.Get(b.Key())
		if !ok || fmt.Sprint(got) != fmt.Sprint(b) || got.Granted != b.Granted || got.Expires != b.Expires {
			t.Errorf("put  %+v\ngot  %+v", b, got)
		}
	}
	if len(m.extras)-1-len(m.freeX) != 3 {
		t.Errorf("%d extras in use, want 3 (rich, zone, far)", len(m.extras)-1-len(m.freeX))
	}
	rich.FQDN, rich.LinkAddr, rich.RelayID, rich.RemoteID = "", netip.Addr{}, nil, nil
	if err := m.Put(rich); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(rich.Key()); fmt.Sprint(got) != fmt.Sprint(rich) {
		t.Errorf("after dropping its extras: %+v", got)
	}
	if n := len(m.extras) - 1 - len(m.freeX); n != 2 {
		t.Errorf("%d extras in use after rich lost its own, want 2", n)
	}
	mono := bind("c-mono", 5, NA, "2001:db8::5/128", time.Hour)
	mono.Granted = time.Now().UTC()
	mono.Expires = mono.Granted.Add(time.Hour)
	if err := m.Put(mono); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.GetByLease(mono.Lease); !got.Expires.Equal(mono.Expires) || got.Expires != mono.Expires.Round(0) {
		t.Errorf("monotonic: put %v, got %v", mono.Expires, got.Expires)
	}
	_ = m.Delete(zone.Key())
	m.check(t)
}

// A DUID handed out stays as it was after its binding is gone and the
// arena has compacted (the store never writes over bytes it gave out),
// and the compaction keeps every live binding's DUID.
func TestArenaCompactsWithoutMovingHandedOut(t *testing.T) {
	m := NewMemory()
	first := bind("first-client-duid", 1, NA, "2001:db8::1/128", time.Minute)
	_ = m.Put(first)
	held, _ := m.Get(first.Key())
	_ = m.Delete(first.Key())
	before := m.duids.chunks[0]
	for round := range 40 {
		for i := range 400 {
			b := bind(fmt.Sprintf("client-%03d-%04d", round, i), 1, NA, fmt.Sprintf("2001:db8::%x:%x/128", round+1, i+1), time.Minute)
			if err := m.Put(b); err != nil {
				t.Fatal(err)
			}
			if i%4 != 0 {
				_ = m.Delete(b.Key())
			}
		}
	}
	if &m.duids.chunks[0][:1][0] == &before[:1][0] {
		t.Fatal("the arena never compacted: the test shows nothing")
	}
	if string(held.DUID) != "first-client-duid" {
		t.Fatalf("a DUID handed out changed to %q", held.DUID)
	}
	if m.duids.used > 2*m.duids.live+arenaChunk {
		t.Fatalf("arena: %d bytes used for %d live", m.duids.used, m.duids.live)
	}
	n := 0
	for b := range m.All() {
		want := fmt.Sprintf("client-%03d-%04d", int(b.Lease.Addr().As16()[13])-1, int(b.Lease.Addr().As16()[15])-1+256*int(b.Lease.Addr().As16()[14]))
		if string(b.DUID) != want {
			t.Fatalf("lease %s: DUID %q, want %q", b.Lease, b.DUID, want)
		}
		n++
	}
	if n != 40*100 {
		t.Fatalf("%d bindings, want %d", n, 40*100)
	}
	m.check(t)
}
