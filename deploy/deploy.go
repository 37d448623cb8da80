package deploy

import (
	"fmt"
	"slices"
	"strings"
)

// Kind names a server implementation.
//
// Each kind runs in the netns engine through its adapter in server/daemon
// (the third-party ones from their Debian packages, coredhcp from a cached
// build); the virtual engine runs every server as the builtin core. A kind
// that cannot honour a setting (allocator, rebind policy, Preference, ...)
// says so in its notes, printed at the start of a run. A new kind is added
// to Kinds and given an adapter (a test in sim checks that every kind has
// one).
type Kind string

// Server kinds.
const (
	Builtin  Kind = "builtin"
	Kea      Kind = "kea"
	Dhcpd    Kind = "dhcpd"
	Dnsmasq  Kind = "dnsmasq"
	Wide     Kind = "wide"
	CoreDHCP Kind = "coredhcp"
)

// Kinds lists the valid server kinds.
var Kinds = []Kind{Builtin, Kea, Dhcpd, Dnsmasq, Wide, CoreDHCP}

// Allocator is how a server picks an address (or prefix) from its pool.
type Allocator string

// Allocators. AllocHash is deterministic: the same (DUID, IAID) gets the same
// address on every server with the same pool, with no shared state, which is
// what RFC 6853 §7 asks of the identical model.
const (
	AllocHash       Allocator = "hash"
	AllocSequential Allocator = "sequential"
	AllocRandom     Allocator = "random"
)

// Allocators lists the valid allocators.
var Allocators = []Allocator{AllocHash, AllocSequential, AllocRandom}

// ParseAllocator returns the allocator named s.
func ParseAllocator(s string) (Allocator, error) {
	if a := Allocator(s); slices.Contains(Allocators, a) {
		return a, nil
	}
	return "", fmt.Errorf("unknown allocator %q (valid: %s)", s, join(Allocators))
}

// RebindPolicy is what a server does with a Rebind for an IA it holds no
// binding for (RFC 9915 §18.3.5 leaves it to server policy). The zero value
// "" means RebindCreate, and String writes it so.
type RebindPolicy string

// Rebind policies.
const (
	// RebindCreate makes a binding: the client's address if it lies in the
	// server's pool and is free, otherwise a new one from the pool; the
	// addresses not granted go back in the same IA with lifetimes 0 (what
	// Kea does). Out of leases: NoAddrsAvail/NoPrefixAvail in the IA.
	RebindCreate RebindPolicy = "create"
	// RebindZero returns the IA's addresses/prefixes with lifetimes 0, as
	// if they were not appropriate for the link.
	RebindZero RebindPolicy = "zero"
	// RebindNoBinding returns status NoBinding in the IA.
	RebindNoBinding RebindPolicy = "nobinding"
	// RebindSilent does not answer.
	RebindSilent RebindPolicy = "silent"
)

// RebindPolicies lists the valid rebind policies.
var RebindPolicies = []RebindPolicy{RebindCreate, RebindZero, RebindNoBinding, RebindSilent}

// ParseRebindPolicy parses "create", "zero", "nobinding" or "silent".
func ParseRebindPolicy(s string) (RebindPolicy, error) {
	if p := RebindPolicy(s); slices.Contains(RebindPolicies, p) {
		return p, nil
	}
	return "", fmt.Errorf("unknown rebind policy %q (valid: %s)", s, join(RebindPolicies))
}

// Or returns p, or RebindCreate for the zero value.
func (p RebindPolicy) Or() RebindPolicy {
	if p == "" {
		return RebindCreate
	}
	return p
}

// String is the policy's name; the zero value is "create".
func (p RebindPolicy) String() string { return string(p.Or()) }

// Valid reports whether p is one of RebindPolicies or the zero value.
func (p RebindPolicy) Valid() bool { return slices.Contains(RebindPolicies, p.Or()) }

// Set implements flag.Value and pflag.Value.
func (p *RebindPolicy) Set(s string) error {
	q, err := ParseRebindPolicy(s)
	if err == nil {
		*p = q
	}
	return err
}

// Type implements pflag.Value.
func (*RebindPolicy) Type() string { return "rebind-policy" }

// MarshalText implements encoding.TextMarshaler (String's form).
func (p RebindPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *RebindPolicy) UnmarshalText(b []byte) error { return p.Set(string(b)) }

func join[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
