package deploy

import (
	"net/netip"
	"time"
)

// DNS is what a DHCPv6 server needs to keep its clients' names in DNS
// (RFC 4704 FQDNs, RFC 2136 updates signed with TSIG, RFC 4703's DHCID
// conflict rules): the lab's DNS server and the zones it is authoritative
// for. A server kind that cannot update DNS says so in its notes.
type DNS struct {
	// Server is the authoritative server that takes the updates (port 53).
	Server netip.AddrPort
	// Zone is the forward zone, fully qualified ("lab.example."): a
	// client's name is its host name and the zone.
	Zone string
	// ReverseZones are the ip6.arpa zones of the prefixes the servers
	// lease from, one per /64, fully qualified.
	ReverseZones []string
	// TTL of the AAAA, PTR and DHCID records a server adds.
	TTL time.Duration
	// Key signs every update (RFC 8945).
	Key TSIG
}

// TSIG is a shared secret key (RFC 8945 §4.1): its name, its algorithm as
// a fully qualified name ("hmac-sha256.") and its secret in base64.
type TSIG struct {
	Name, Algorithm, Secret string
}
