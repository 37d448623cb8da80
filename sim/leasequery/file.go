package leasequery

import (
	"bytes"
	"slices"
	"time"

	"d6lab/server/lease"
)

// FromBindings answers a query about the client with raw DUID duid from a
// server's bindings as its lease file holds them (daemon.Instance.Leases,
// read while the server runs): the client's leases still valid at now,
// with the lifetimes that remain, addresses before prefixes, each in
// address order. A file keeps expired bindings until the server rewrites
// it; they are not bindings any more and are left out.
func FromBindings(bs []lease.Binding, duid []byte, now time.Time) []Lease {
	var out []Lease
	for _, b := range bs {
		if !bytes.Equal(b.DUID, duid) || b.Expired(now) {
			continue
		}
		out = append(out, Lease{
			Type:      b.Type,
			Prefix:    b.Lease,
			Preferred: max(0, b.Granted.Add(b.Preferred).Sub(now).Truncate(time.Second)),
			Valid:     b.Expires.Sub(now).Truncate(time.Second),
		})
	}
	slices.SortFunc(out, func(a, b Lease) int {
		if a.Type != b.Type {
			return int(a.Type) - int(b.Type)
		}
		return a.Prefix.Addr().Compare(b.Prefix.Addr())
	})
	return out
}
