package lease

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func bind(duid string, iaid uint32, typ IAType, lease string, valid time.Duration) Binding {
	return Binding{
		DUID: []byte(duid), IAID: iaid, Type: typ, Lease: netip.MustParsePrefix(lease),
		T1: valid / 4, T2: valid / 2, Preferred: valid * 3 / 4, Valid: valid,
		Granted: t0, Expires: t0.Add(valid),
	}
}

func TestPutGet(t *testing.T) {
	m := NewMemory()
	b := bind("\x00\x03\x00\x01abcdef", 1, NA, "2001:db8::1/128", time.Minute)
	if err := m.Put(b); err != nil {
		t.Fatal(err)
	}
	got, ok := m.Get(b.Key())
	if !ok || got.Lease != b.Lease || string(got.DUID) != string(b.DUID) || got.Expires != b.Expires {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
	if got, ok := m.GetByLease(b.Lease); !ok || got.IAID != 1 {
		t.Fatalf("GetByLease = %+v, %v", got, ok)
	}
	// The store copied the DUID.
	b.DUID[0] = 0xff
	if got, _ := m.Get(KeyOf([]byte("\x00\x03\x00\x01abcdef"), 1, NA)); got.DUID[0] != 0 {
		t.Fatal("store shares the caller's DUID bytes")
	}
	// Same DUID and IAID, other IA type: another binding.
	if _, ok := m.Get(KeyOf([]byte("\x00\x03\x00\x01abcdef"), 1, PD)); ok {
		t.Fatal("IA type is not part of the key")
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d", m.Len())
	}
}

func TestPutReplaceMovesLease(t *testing.T) {
	m := NewMemory()
	b := bind("c1", 1, NA, "2001:db8::1/128", time.Minute)
	_ = m.Put(b)
	b.Lease = netip.MustParsePrefix("2001:db8::2/128")
	b.Expires = t0.Add(time.Hour)
	if err := m.Put(b); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.GetByLease(netip.MustParsePrefix("2001:db8::1/128")); ok {
		t.Fatal("old lease still bound after replace")
	}
	if got, ok := m.GetByLease(b.Lease); !ok || got.Expires != b.Expires {
		t.Fatalf("new lease: %+v %v", got, ok)
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d, want 1", m.Len())
	}
}

func TestPutErrors(t *testing.T) {
	m := NewMemory()
	_ = m.Put(bind("c1", 1, NA, "2001:db8::1/128", time.Minute))
	if err := m.Put(bind("c2", 1, NA, "2001:db8::1/128", time.Minute)); !errors.Is(err, ErrConflict) {
		t.Fatalf("same lease, other client: %v, want ErrConflict", err)
	}
	bad := []Binding{
		bind("", 1, NA, "2001:db8::3/128", time.Minute),
		bind("c", 1, 7, "2001:db8::3/128", time.Minute),
		bind("c", 1, NA, "2001:db8::/64", time.Minute),
		bind("c", 1, PD, "2001:db8::1/56", time.Minute),
		bind("c", 1, NA, "10.0.0.1/32", time.Minute),
		{DUID: []byte("c"), IAID: 1, Type: NA, Lease: netip.MustParsePrefix("2001:db8::3/128")},
	}
	for i, b := range bad {
		if err := m.Put(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad binding %d: %v, want ErrInvalid", i, err)
		}
	}
	if err := m.Delete(KeyOf([]byte("nobody"), 9, NA)); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
}

func TestExpire(t *testing.T) {
	m := NewMemory()
	for i := 1; i <= 5; i++ {
		_ = m.Put(bind(fmt.Sprint("c", i), uint32(i), PD, fmt.Sprintf("2001:db8:%x::/48", i), time.Duration(i)*time.Minute))
	}
	// Extend c1 past everyone.
	b, _ := m.Get(KeyOf([]byte("c1"), 1, PD))
	b.Granted, b.Expires = t0.Add(time.Minute), t0.Add(10*time.Minute)
	_ = m.Put(b)

	var gone []uint32
	n, err := m.Expire(t0.Add(3*time.Minute), func(b Binding) { gone = append(gone, b.IAID) })
	if err != nil || n != 2 {
		t.Fatalf("Expire = %d, %v; want 2", n, err)
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i] < gone[j] })
	if fmt.Sprint(gone) != "[2 3]" {
		t.Fatalf("expired %v, want [2 3] (expiry at or before now)", gone)
	}
	if n, _ := m.Expire(t0.Add(3*time.Minute), nil); n != 0 {
		t.Fatalf("second sweep removed %d", n)
	}
	if _, ok := m.GetByLease(netip.MustParsePrefix("2001:db8:2::/48")); ok {
		t.Fatal("expired lease still indexed")
	}
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
}

// A random sequence of operations keeps the store equal to a plain map
// model and Expire removes exactly the due bindings.
func TestMemoryModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewMemory()
	model := map[Key]Binding{}
	now := t0
	for step := 0; step < 20000; step++ {
		k := rng.IntN(200)
		key := KeyOf([]byte(fmt.Sprint("c", k)), uint32(k), NA)
		switch op := rng.IntN(10); {
		case op < 6:
			b := bind(fmt.Sprint("c", k), uint32(k), NA, fmt.Sprintf("2001:db8::%x/128", rng.IntN(400)+1), time.Duration(rng.IntN(600)+1)*time.Second)
			b.Granted, b.Expires = now, now.Add(b.Valid)
			putModel(t, step, m, model, key, b)
		case op < 8:
			_ = m.Delete(key)
			delete(model, key)
		default:
			now = now.Add(time.Duration(rng.IntN(60)) * time.Second)
			want := expireModel(model, now)
			if n, _ := m.Expire(now, nil); n != want {
				t.Fatalf("step %d: Expire removed %d, model %d", step, n, want)
			}
		}
		m.check(t)
		if m.Len() != len(model) {
			t.Fatalf("step %d: Len %d, model %d", step, m.Len(), len(model))
		}
	}
	seen := 0
	for b := range m.All() {
		mb, ok := model[b.Key()]
		if !ok || mb.Lease != b.Lease || mb.Expires != b.Expires {
			t.Fatalf("All yields %+v, model %+v", b, mb)
		}
		if got, ok := m.GetByLease(b.Lease); !ok || got.Key() != b.Key() {
			t.Fatalf("lease index out of step for %s", b.Lease)
		}
		seen++
	}
	if seen != len(model) {
		t.Fatalf("All yielded %d, model %d", seen, len(model))
	}
}

func TestAllSnapshotAllowsMutation(t *testing.T) {
	m := NewMemory()
	for i := 1; i <= 3; i++ {
		_ = m.Put(bind(fmt.Sprint("c", i), uint32(i), NA, fmt.Sprintf("2001:db8::%d/128", i), time.Minute))
	}
	n := 0
	for b := range m.All() {
		_ = m.Delete(b.Key()) // would deadlock or skip without a snapshot
		n++
	}
	if n != 3 || m.Len() != 0 {
		t.Fatalf("iterated %d, left %d", n, m.Len())
	}
	if NA.String() != "na" || PD.String() != "pd" {
		t.Fatal("IA type names must match history.IANA/IAPD")
	}
}

// putModel puts b in m and in the model, and fails unless m refuses it
// exactly when the model binds its lease to another key.
func putModel(t *testing.T, step int, m *Memory, model map[Key]Binding, key Key, b Binding) {
	t.Helper()
	err := m.Put(b)
	conflict := false
	for mk, mb := range model {
		if mb.Lease == b.Lease && mk != key {
			conflict = true
		}
	}
	if conflict != errors.Is(err, ErrConflict) || (!conflict && err != nil) {
		t.Fatalf("step %d: Put err %v, model conflict %v", step, err, conflict)
	}
	if err == nil {
		model[key] = b
	}
}

// expireModel removes the model's bindings due at now and counts them.
func expireModel(model map[Key]Binding, now time.Time) int {
	n := 0
	for k, b := range model {
		if !now.Before(b.Expires) {
			delete(model, k)
			n++
		}
	}
	return n
}
