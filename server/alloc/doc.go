// Package alloc chooses which address or delegated prefix a DHCPv6 server
// hands to a client IA.
//
// A Pool is a range of IPv6 addresses (parsed from a prefix or a
// "first-last" range) and a PrefixPool is a prefix cut into delegated
// prefixes of one length. Both present themselves to the allocators as a
// Space: indices 0..Size()-1, some of which are Reserved and never handed
// out (the Subnet-Router anycast address and the RFC 2526 reserved subnet
// anycast addresses of every /64).
//
// An Allocator picks a free index for a client key (DUID, IAID). It learns
// which indices are bound from a taken function given at construction: the
// lease store, not the allocator, is the source of truth about bindings, so
// an allocator can never hand out a bound lease even if it missed a Free.
// Free is only a hint that lets an allocator find free indices faster.
//
// Three strategies, each a struct with its own state (no package globals):
//
//   - hash: deterministic. The same Space and (DUID, IAID) give the same
//     index on every server instance with no shared state; collisions are
//     resolved by double hashing, a probe sequence that depends on the key
//     alone and visits every index once. This is what RFC 6853 §6's
//     "identical" model needs.
//   - sequential: the lowest free index, as iterative allocators do, kept
//     fast with a cursor below which every index is known to be taken. Two
//     independent servers hand the same address to different clients: the
//     warning of RFC 6853 §6.
//   - random: uniform over the Space from a seeded PCG source, redrawn on
//     collision, then a linear probe so that exhaustion is detected.
//
// Allocate returns ErrPoolExhausted when no index is free.
package alloc
