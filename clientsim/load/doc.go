// Package load is d6lab's DHCPv6 load generator: an open-loop, batched,
// allocation-free client that starts exchanges (Solicit-Advertise, the
// four-message Solicit-Advertise-Request-Reply, or Rapid Commit, with
// optional Renew, Rebind and Release follow-ups) at a fixed rate over a
// client space of N distinct DUID-LLs, matches replies by transaction ID,
// counts drops after a timeout, and records every completed exchange's
// latency in an HdrHistogram.
//
// Messages are encoded once per kind with insomniacslk/dhcp and then
// patched in place (transaction ID, DUID, IAID, Server Identifier); replies
// are read with a small zero-allocation option walker (see reader.go) that
// a fuzz test cross-checks against dhcpv6.FromBytes.
//
// Run owns the socket it is given for its duration: a sender goroutine
// starts exchanges open loop (exchange q is due at start + q/Rate whatever
// came back) and sends them in batches with sendmmsg(2); a
// receiver goroutine reads with recvmmsg and matches answers by
// transaction ID to a preallocated slot table (the ID's low bits are the
// slot, its high bits a generation), and sends the next message of each
// exchange; a sweep counts a step unanswered after Timeout as a drop.
// Extra answers (a second server's Advertise, a late duplicate) count as
// Unexpected.
//
// It is a measuring tool, not an RFC 9915 client: it never retransmits
// (RFC 9915 §15 retransmission is deliberately off, a lost message is a
// drop) and it does not act on the lease it obtains beyond echoing the
// Server Identifier and the granted addresses/prefixes in Request, Renew,
// Rebind and Release (RFC 9915 §18.2.2, §18.2.4, §18.2.5, §18.2.7).
package load
