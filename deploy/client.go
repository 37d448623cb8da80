package deploy

import (
	"fmt"
	"slices"
)

// ClientKind names a real DHCPv6 client, a Debian package the netns engine
// runs in a namespace of its own beside the simulated population
// (sim/realclient holds an adapter per kind; a spec there checks that every
// kind in ClientKinds has one).
type ClientKind string

// Real client kinds.
const (
	Dhclient ClientKind = "dhclient" // ISC dhclient -6 (isc-dhcp-client)
	Dhcpcd   ClientKind = "dhcpcd"   // dhcpcd (dhcpcd-base)
	Dhcp6c   ClientKind = "dhcp6c"   // WIDE dhcp6c (wide-dhcpv6-client)
	Udhcpc6  ClientKind = "udhcpc6"  // busybox udhcpc6 (busybox)
)

// ClientKinds lists the valid real client kinds.
var ClientKinds = []ClientKind{Dhclient, Dhcpcd, Dhcp6c, Udhcpc6}

// ParseClientKind returns the client kind named s.
func ParseClientKind(s string) (ClientKind, error) {
	if k := ClientKind(s); slices.Contains(ClientKinds, k) {
		return k, nil
	}
	return "", fmt.Errorf("unknown client kind %q (valid: %s)", s, join(ClientKinds))
}

// Profile names how the simulated clients behave where real clients differ
// from RFC 9915: ProfileRFC follows the RFC; the others follow what d6lab
// conform --client measured of that real client (their parameters and the
// run they came from are in clientsim/profile; a spec there checks that
// every profile here has them).
type Profile string

// Client profiles.
const (
	ProfileRFC      Profile = "rfc"
	ProfileDhclient Profile = "dhclient"
	ProfileDhcpcd   Profile = "dhcpcd"
	ProfileDhcp6c   Profile = "dhcp6c"
)

// Profiles lists the valid client profiles.
var Profiles = []Profile{ProfileRFC, ProfileDhclient, ProfileDhcpcd, ProfileDhcp6c}
