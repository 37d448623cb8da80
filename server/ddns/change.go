package ddns

import (
	"net/netip"
	"strings"
)

// Op is what a Change does.
type Op uint8

// Ops.
const (
	// Add registers FQDN for Addr: AAAA and DHCID in the forward zone, PTR
	// in the reverse zone.
	Add Op = iota + 1
	// Remove takes the records Add made for FQDN and Addr away.
	Remove
)

func (o Op) String() string {
	switch o {
	case Add:
		return "add"
	case Remove:
		return "remove"
	}
	return "op?"
}

// Change is one DNS change the server core asks for: what the IO side
// turns into updates. Only IA_NA addresses have one (a delegated prefix
// has no AAAA or PTR).
type Change struct {
	Op Op
	// FQDN is the client's name, lower case and fully qualified (with the
	// final dot), inside the forward zone.
	FQDN string
	// DUID is the client's DUID, the identity in the DHCID RR (RFC 4701
	// §3.3). It is shared with the server's binding: never modified.
	DUID []byte
	// Addr is the leased address.
	Addr netip.Addr
}

func (c Change) String() string {
	return c.Op.String() + " " + c.FQDN + " " + c.Addr.String()
}

// InZone reports whether name (fully qualified, lower case) lies in zone
// (fully qualified), the zone apex included.
func InZone(name, zone string) bool {
	name, zone = strings.ToLower(name), strings.ToLower(zone)
	if zone == "." {
		return true
	}
	return name == zone || strings.HasSuffix(name, "."+zone)
}
