// Package netaddr6 is the lab's one vocabulary for IPv6 addresses beyond
// net/netip: pools (inclusive ranges of addresses a server hands out),
// their one parser and rules, sub-prefix arithmetic on 128-bit integers and
// the modified EUI-64 link-local address of a MAC, and the ip6.arpa names
// of addresses and prefixes (RFC 3596 §2.5).
//
// The rules, shared by scenario files, `d6lab serve` and the daemons'
// configurations:
//
//   - a pool is written as a prefix ("2001:db8:1:1::/65") or as an
//     inclusive range "first-last" ("2001:db8::100-2001:db8::1ff");
//   - both ends are plain IPv6 (no IPv4, no IPv4-mapped addresses, no
//     zones) and first <= last;
//   - a prefix has no host bits set: "2001:db8::5/64" is an error that
//     names the value and suggests 2001:db8::/64, never silently masked.
//
// Which prefixes a deployment may use (2001:db8::/32, fd00::/8), and which
// addresses of a pool an allocator skips (RFC 4291 §2.6.1, RFC 2526), are
// the callers' concern. The package imports only the standard library.
package netaddr6
