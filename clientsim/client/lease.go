package client

import (
	"net/netip"
	"time"
)

// Lease is one address of the IA_NA (as a /128) or one delegated prefix
// of the IA_PD, as the client holds it.
type Lease struct {
	IA        string       // history.IANA or history.IAPD
	IAID      uint32       //
	Prefix    netip.Prefix // the address as a /128, or the delegated prefix
	Preferred time.Duration
	Valid     time.Duration
	T1, T2    time.Duration // the IA's T1 and T2 when it was last granted (after §14.2 defaults)
	Granted   time.Time     // the Reply that gave or last extended it
	Until     time.Time     // end of the valid lifetime on the client's clock
	Server    string        // DUID (hex) of the server that granted or last extended it
}

// ia is one identity association the client asks for, with its leases.
type ia struct {
	kind   string // history.IANA or history.IAPD
	iaid   uint32
	t1, t2 time.Duration
	t1At   time.Time // when to Renew (zero: no lease)
	t2At   time.Time // when to Rebind
	leases []Lease
}

func (a *ia) find(p netip.Prefix) int {
	for i := range a.leases {
		if a.leases[i].Prefix == p {
			return i
		}
	}
	return -1
}

func (a *ia) remove(i int) Lease {
	l := a.leases[i]
	a.leases = append(a.leases[:i], a.leases[i+1:]...)
	return l
}
