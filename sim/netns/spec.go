package netns

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
)

// Spec describes a lab: its run prefix, the link prefix and the nodes.
type Spec struct {
	// Prefix names every namespace, link and nftables table the lab
	// makes. It must match ^d6l[a-z0-9]{0,5}$ (interface names are at most
	// 15 bytes). NewPrefix makes a random one.
	Prefix string
	// Link is the client link's prefix, a /64 inside an allowed range.
	Link netip.Prefix
	// Nodes are the server (and relay) namespaces.
	Nodes []NodeSpec
	// Clients is the client population's namespace.
	Clients NodeSpec

	// ServerNet is the server network's prefix, a /64 inside an allowed
	// range; required when Upstream or Relay is set. It is a second bridge,
	// apart from the client link, that only a relay joins to it.
	ServerNet netip.Prefix
	// Upstream are namespaces attached to the server network only (servers
	// behind a relay).
	Upstream []NodeSpec
	// Relay, when set, is one namespace attached to both links: its first
	// interface on the client link, its second on the server network.
	Relay *RelaySpec
}

// RelaySpec is the namespace of a relay agent, attached to both links.
type RelaySpec struct {
	// Name follows NodeSpec's rules.
	Name string
	// Down are global addresses on its client-link interface (a DHCPv6
	// relay needs one there: it becomes the link-address, RFC 9915
	// §19.1.1); Up those on its server-network interface.
	Down, Up []netip.Prefix
}

// NodeSpec is one namespace attached to the link.
type NodeSpec struct {
	// Name is at most 8 characters, ^[a-z][a-z0-9]{0,7}$, and not "link".
	Name string
	// Addrs are global addresses on the node's link interface, such as
	// 2001:db8::1/64. A link-local address is always there as well.
	Addrs []netip.Prefix
	// DAD makes the node a host whose addresses come from a real DHCPv6
	// client: its link interface keeps the kernel's duplicate address
	// detection on (accept_dad=1, dad_transmits=1), so an address a
	// client adds stays tentative until DAD completes and fails DAD when
	// another host on the link already holds it (RFC 4862 §5.4), and it
	// neither accepts Router Advertisements nor autoconfigures addresses
	// (accept_ra=0, autoconf=0), so only DHCPv6 gives it addresses. DAD
	// is turned on once the node's link-local address is usable (it is
	// made of the node's unique MAC); Addrs are still added without DAD.
	DAD bool
}

// PrefixBase starts every run prefix.
const PrefixBase = "d6l"

// MaxNodes bounds the number of namespaces on one link (clients included):
// indexes must fit the interface names.
const MaxNodes = 999

// linkNode is the reserved name of the namespace that holds the bridge.
const linkNode = "link"

var (
	prefixRE = regexp.MustCompile(`^d6l[a-z0-9]{0,5}$`)
	nodeRE   = regexp.MustCompile(`^[a-z][a-z0-9]{0,7}$`)

	// allowed are the only ranges a lab may put on an interface.
	allowed = []netip.Prefix{
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("fd00::/8"),
	}
)

// ErrBadPrefix is returned for a run prefix that is not d6lab's.
var ErrBadPrefix = errors.New("netns: run prefix must match ^d6l[a-z0-9]{0,5}$")

// ErrBadSpec is wrapped by every validation error of a Spec.
var ErrBadSpec = errors.New("netns: invalid lab spec")

// NewPrefix returns "d6l" followed by 4 random hex digits.
func NewPrefix() string {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("netns: crypto/rand: %v", err))
	}
	return PrefixBase + hex.EncodeToString(b[:])
}

// ValidPrefix reports whether p can be a run prefix.
func ValidPrefix(p string) bool { return prefixRE.MatchString(p) }

// AllowedAddr reports whether a is in 2001:db8::/32 or fd00::/8.
func AllowedAddr(a netip.Addr) bool {
	if !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return false
	}
	for _, p := range allowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Validate checks the spec: prefix, names, uniqueness and address ranges.
func (s Spec) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadSpec, fmt.Sprintf(format, args...))
	}
	if !ValidPrefix(s.Prefix) {
		return bad("prefix %q must match ^d6l[a-z0-9]{0,5}$", s.Prefix)
	}
	if !s.Link.IsValid() || s.Link.Bits() != 64 || !AllowedAddr(s.Link.Addr()) {
		return bad("link prefix %v must be a /64 inside 2001:db8::/32 or fd00::/8", s.Link)
	}
	if len(s.Upstream) > 0 || s.Relay != nil {
		if !s.ServerNet.IsValid() || s.ServerNet.Bits() != 64 || !AllowedAddr(s.ServerNet.Addr()) {
			return bad("server network prefix %v must be a /64 inside 2001:db8::/32 or fd00::/8", s.ServerNet)
		}
		if s.ServerNet.Masked() == s.Link.Masked() {
			return bad("server network %v is the client link", s.ServerNet)
		}
	}
	all := append(append([]NodeSpec{s.Clients}, s.Nodes...), s.Upstream...)
	if s.Relay != nil {
		all = append(all, NodeSpec{Name: s.Relay.Name, Addrs: append(append([]netip.Prefix(nil), s.Relay.Down...), s.Relay.Up...)})
	}
	if s.interfaces() > MaxNodes {
		return bad("%d interfaces: at most %d", s.interfaces(), MaxNodes)
	}
	seen := map[string]bool{}
	addrs := map[netip.Addr]string{}
	for _, n := range all {
		if !nodeRE.MatchString(n.Name) || n.Name == linkNode {
			return bad("node name %q must match ^[a-z][a-z0-9]{0,7}$ and not be %q", n.Name, linkNode)
		}
		if seen[n.Name] {
			return bad("node name %q used twice", n.Name)
		}
		seen[n.Name] = true
		for _, a := range n.Addrs {
			if !a.IsValid() || !AllowedAddr(a.Addr()) {
				return bad("node %s: address %v is not inside 2001:db8::/32 or fd00::/8", n.Name, a)
			}
			if other, dup := addrs[a.Addr()]; dup {
				return bad("address %v on both %s and %s", a.Addr(), other, n.Name)
			}
			addrs[a.Addr()] = n.Name
		}
	}
	return nil
}

// interfaces counts the lab's veth pairs: one per node, two for a relay.
func (s Spec) interfaces() int {
	n := 1 + len(s.Nodes) + len(s.Upstream)
	if s.Relay != nil {
		n += 2
	}
	return n
}

// Names of things, all derived from the prefix.
func nsName(prefix, node string) string { return prefix + "-" + node }
func bridgeName(prefix string) string   { return prefix + "-br" }
func upBridgeName(prefix string) string { return prefix + "-bu" }
func portName(prefix string, i int) string {
	return fmt.Sprintf("%s-b%d", prefix, i)
}
func nodeIfName(prefix string, i int) string {
	return fmt.Sprintf("%s-n%d", prefix, i)
}
func probeName(prefix string) string { return prefix + "-nq" }

// Deterministic, locally administered unicast MACs: 02:d6:<kind>:00:<i+1>.
func mac(kind byte, i int) net.HardwareAddr {
	n := i + 1
	return net.HardwareAddr{0x02, 0xd6, kind, 0x00, byte(n >> 8), byte(n)}
}

const (
	macNode   = 0x00
	macPort   = 0x01
	macBridge = 0xff
)

// ownedBy reports whether a namespace or link name belongs to prefix: the
// prefix itself followed by "-". The bare base "d6l" owns every d6l* name
// (that is what `d6lab clean` without a run uses).
func ownedBy(prefix, name string) bool {
	if prefix == PrefixBase {
		return len(name) >= len(PrefixBase) && name[:len(PrefixBase)] == PrefixBase
	}
	return len(name) > len(prefix) && name[:len(prefix)] == prefix && name[len(prefix)] == '-'
}
