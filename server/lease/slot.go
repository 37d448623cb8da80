package lease

import (
	"net/netip"
	"time"
	"unsafe"
)

// slot is a binding as Memory keeps it: 112 bytes where a Binding is 232.
// A million clients of two servers are two million bindings, most of them
// renewed every T1 and nothing else: what only some bindings have (an
// FQDN, how a relay reached the server, an expiry that is not Granted +
// the time it was granted for) waits in a side table (Memory.extras).
type slot struct {
	duid    string        // the store's copy of the DUID, which its key shares; "" when free
	granted time.Time     // Binding.Granted
	life    time.Duration // Binding.Expires - Binding.Granted, when granted.Add(life) gives Expires back exactly
	t1, t2  time.Duration
	pref    time.Duration
	valid   time.Duration
	addr    [16]byte // Binding.Lease's address (an IPv6 address: Validate)
	iaid    uint32
	extra   int32 // 1 + the index of the binding's slotExtra in Memory.extras, 0 none
	bits    uint8 // Binding.Lease's prefix length
	typ     IAType
}

// slotExtra is what a slot does not hold of a binding.
type slotExtra struct {
	fqdn              string
	linkAddr          netip.Addr
	relayID, remoteID []byte
	expires           time.Time // Binding.Expires, when hasExpires
	hasExpires        bool
}

// needsExtra reports whether b has anything a slot cannot hold (extra),
// and whether that includes its Expires (own: Granted + life does not
// give it back, for a zero Granted, times in other zones or with
// monotonic readings).
func needsExtra(b *Binding) (life time.Duration, own, extra bool) {
	life = b.Expires.Sub(b.Granted)
	own = b.Granted.Add(life) != b.Expires
	return life, own, own || b.FQDN != "" || b.LinkAddr != (netip.Addr{}) || b.RelayID != nil || b.RemoteID != nil
}

// lease is the slot's Binding.Lease.
func (s *slot) lease() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom16(s.addr), int(s.bits))
}

// holdsLease reports whether the slot's lease is p.
func (s *slot) holdsLease(p netip.Prefix) bool {
	return s.addr == p.Addr().As16() && int(s.bits) == p.Bits()
}

// expires is the slot's Binding.Expires.
func (m *Memory) expires(s *slot) time.Time {
	if s.extra != 0 {
		if x := &m.extras[s.extra-1]; x.hasExpires {
			return x.expires
		}
	}
	return s.granted.Add(s.life)
}

// binding writes slot s's binding to *b.
func (m *Memory) binding(s *slot, b *Binding) {
	*b = Binding{
		DUID:      unsafe.Slice(unsafe.StringData(s.duid), len(s.duid)),
		IAID:      s.iaid,
		Type:      s.typ,
		Lease:     s.lease(),
		T1:        s.t1,
		T2:        s.t2,
		Preferred: s.pref,
		Valid:     s.valid,
		Granted:   s.granted,
		Expires:   s.granted.Add(s.life),
	}
	if s.extra != 0 {
		x := &m.extras[s.extra-1]
		if x.hasExpires {
			b.Expires = x.expires
		}
		b.FQDN, b.LinkAddr, b.RelayID, b.RemoteID = x.fqdn, x.linkAddr, x.relayID, x.remoteID
	}
}

// store writes *b (valid, its DUID the store's copy) to slot s, with its
// side entry when it needs one.
func (m *Memory) store(s *slot, b *Binding) {
	life, own, extra := needsExtra(b)
	old := s.extra
	*s = slot{
		duid:    unsafe.String(unsafe.SliceData(b.DUID), len(b.DUID)),
		granted: b.Granted,
		life:    life,
		t1:      b.T1,
		t2:      b.T2,
		pref:    b.Preferred,
		valid:   b.Valid,
		addr:    b.Lease.Addr().As16(),
		iaid:    b.IAID,
		bits:    uint8(b.Lease.Bits()),
		typ:     b.Type,
	}
	switch {
	case !extra:
		m.freeExtra(old)
		return
	case old == 0:
		if n := len(m.freeExtras); n > 0 {
			old = m.freeExtras[n-1]
			m.freeExtras = m.freeExtras[:n-1]
		} else {
			m.extras = append(m.extras, slotExtra{})
			old = int32(len(m.extras))
		}
	}
	s.extra = old
	x := &m.extras[old-1]
	*x = slotExtra{fqdn: b.FQDN, linkAddr: b.LinkAddr, relayID: b.RelayID, remoteID: b.RemoteID}
	if own {
		x.expires, x.hasExpires = b.Expires, true
	}
}

// freeExtra returns side entry e (1 + its index; 0 none) to the free list.
func (m *Memory) freeExtra(e int32) {
	if e != 0 {
		m.extras[e-1] = slotExtra{} // nothing kept alive
		m.freeExtras = append(m.freeExtras, e)
	}
}
