package lease

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// Renewals as a server makes them (Get, then Put of the same key with
// the expiry one valid lifetime from now), with deletions, new clients,
// clocks set back now and then and sweeps between: the store stays equal
// to a plain map, each sweep removes exactly the due bindings, in order
// of expiry, and the queue's invariants hold (check). With 300 clients
// the slots fit the first chunk; with 2,500 clients and longer leases
// they fill two chunks and part of a third.
func TestMemoryRenewalsModel(t *testing.T) {
	for _, c := range []struct {
		clients int
		valid   time.Duration
	}{{300, 10 * time.Minute}, {2500, 20 * time.Hour}} {
		t.Run(fmt.Sprint(c.clients), func(t *testing.T) {
			m := renewalsModel(t, c.clients, c.valid)
			if c.clients > 2*chunkSize && len(m.chunks) < 3 {
				t.Errorf("%d clients made %d slots: %d chunks, want 3 or more", c.clients, len(m.gens), len(m.chunks))
			}
		})
	}
}

func renewalsModel(t *testing.T, clients int, valid time.Duration) *Memory {
	rng := rand.New(rand.NewPCG(3, 4))
	m := NewMemory()
	model := map[Key]Binding{}
	now := t0
	for step := range 30000 {
		k := rng.IntN(clients)
		key := KeyOf([]byte(fmt.Sprint("c", k)), uint32(k), NA)
		switch op := rng.IntN(20); {
		case op < 12: // a renewal, or a new binding
			b, ok := m.Get(key)
			if !ok {
				b = bind(fmt.Sprint("c", k), uint32(k), NA, fmt.Sprintf("2001:db8::%x/128", k+1), valid)
			}
			if _, inModel := model[key]; ok != inModel {
				t.Fatalf("step %d: Get %v, model %v", step, ok, inModel)
			}
			b.Granted, b.Expires = now, now.Add(valid)
			if op == 0 { // now and then another lease
				b.Lease = netip.MustParsePrefix(fmt.Sprintf("2001:db8:1::%x/128", rng.IntN(1000)+1))
			}
			putModel(t, step, m, model, key, b)
		case op < 14:
			_ = m.Delete(key)
			delete(model, key)
		case op < 15: // the clock set back: what is put now comes out of order
			now = now.Add(-time.Duration(rng.IntN(300)) * time.Second)
		default:
			now = now.Add(time.Duration(rng.IntN(20)) * time.Second)
			want := expireModel(model, now)
			var last time.Time
			n, _ := m.Expire(now, func(b Binding) {
				if b.Expires.Before(last) {
					t.Fatalf("step %d: expired %v after %v", step, b.Expires, last)
				}
				last = b.Expires
			})
			if n != want {
				t.Fatalf("step %d: Expire removed %d, model %d", step, n, want)
			}
		}
		if step%97 == 0 {
			m.check(t)
		}
		if m.Len() != len(model) {
			t.Fatalf("step %d: Len %d, model %d", step, m.Len(), len(model))
		}
	}
	m.check(t)
	for k, mb := range model {
		b, ok := m.Get(k)
		if !ok || b.Lease != mb.Lease || b.Expires != mb.Expires {
			t.Fatalf("%v: store %+v %v, model %+v", k, b, ok, mb)
		}
	}
	return m
}

// The queue keeps a few items a binding, not one per renewal: a day of
// renewals of 1,000 bindings leaves it near their number.
func TestMemoryQueueBounded(t *testing.T) {
	m := NewMemory()
	const n, valid = 1000, 2 * time.Hour
	now := t0
	for i := range n {
		b := bind(fmt.Sprint("c", i), uint32(i), NA, fmt.Sprintf("2001:db8::%x/128", i+1), valid)
		b.Granted, b.Expires = now, now.Add(valid)
		if err := m.Put(b); err != nil {
			t.Fatal(err)
		}
	}
	for range 48 { // a renewal each half hour
		now = now.Add(30 * time.Minute)
		for i := range n {
			b, _ := m.Get(KeyOf([]byte(fmt.Sprint("c", i)), uint32(i), NA))
			b.Granted, b.Expires = now, now.Add(valid)
			if err := m.Put(b); err != nil {
				t.Fatal(err)
			}
		}
		m.Expire(now, nil)
	}
	m.check(t)
	if m.Len() != n || len(m.fifo)-m.head > 4*n+1024 || len(m.early) != 0 {
		t.Fatalf("%d bindings, %d items queued, %d early", m.Len(), len(m.fifo)-m.head, len(m.early))
	}
}

// A renewal (Get, then Put of the same key) allocates nothing, and
// neither does a sweep with nothing due.
func TestMemoryRenewalAllocs(t *testing.T) {
	m := NewMemory()
	for i := range 100 {
		_ = m.Put(bind(fmt.Sprint("c", i), uint32(i), NA, fmt.Sprintf("2001:db8::%x/128", i+1), time.Hour))
	}
	keys := make([]Key, 100)
	for i := range keys {
		keys[i] = KeyOf([]byte(fmt.Sprint("c", i)), uint32(i), NA)
	}
	now, j := t0, 0
	allocs := testing.AllocsPerRun(10000, func() {
		now = now.Add(time.Second)
		b, _ := m.Get(keys[j%len(keys)])
		j++
		b.Granted, b.Expires = now, now.Add(time.Hour)
		_ = m.Put(b)
		m.Expire(now, nil)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per renewal", allocs)
	}
}
