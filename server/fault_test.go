package server

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/server/lease"
)

// faultyStore fails or panics on demand.
type faultyStore struct {
	*lease.Memory
	failPut, failExpire, panicGet bool
}

var errDisk = errors.New("disk on fire")

func (f *faultyStore) Put(b lease.Binding) error {
	if f.failPut {
		return errDisk
	}
	return f.Memory.Put(b)
}

func (f *faultyStore) Expire(now time.Time, fn func(lease.Binding)) (int, error) {
	if f.failExpire {
		return 0, errDisk
	}
	return f.Memory.Expire(now, fn)
}

func (f *faultyStore) GetByLease(p netip.Prefix) (lease.Binding, bool) {
	if f.panicGet {
		panic("boom")
	}
	return f.Memory.GetByLease(p)
}

func TestStoreFaults(t *testing.T) {
	st := &faultyStore{Memory: lease.NewMemory()}
	s, err := New(testConfig("faulty"), st)
	if err != nil {
		t.Fatal(err)
	}
	req := newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), naOpt(1))

	st.failPut = true
	if send(s, t0, req) != nil {
		t.Fatal("answered although the store could not record the binding")
	}
	st.failPut, st.failExpire = false, true
	if send(s, t0, req) != nil {
		t.Fatal("answered although the expiry sweep failed")
	}
	st.failExpire, st.panicGet = false, true
	if send(s, t0, req) != nil {
		t.Fatal("answered although the store panicked")
	}
	st.panicGet = false
	if send(s, t0, req) == nil {
		t.Fatal("a healthy store again: no answer")
	}
	c := s.Counters()
	if c.Dropped[DropStoreError] != 2 || c.Dropped[DropPanic] != 1 || c.Answered != 1 {
		t.Fatalf("counters %+v", c)
	}
	counterInvariant(t, s)

	// HandleMessage recovers too.
	st.panicGet = true
	if _, ok := s.HandleMessage(t0, newMsg(dhcpv6.MessageTypeSolicit, cid(2), naOpt(1)), true); ok {
		t.Fatal("HandleMessage answered through a panic")
	}
	if s.Counters().Dropped[DropPanic] != 2 {
		t.Fatalf("panic not counted: %+v", s.Counters())
	}
	counterInvariant(t, s)
}
