// Package load is d6lab's DHCPv6 load generator: an open-loop, batched,
// allocation-free client that starts exchanges (Solicit-Advertise, the
// four-message Solicit-Advertise-Request-Reply, or Rapid Commit, with
// optional Renew, Rebind and Release follow-ups) at a fixed rate over a
// client space of N distinct DUID-LLs, matches replies by transaction ID,
// counts drops after a timeout, and records every completed exchange's
// latency in an HdrHistogram.
//
// Messages are encoded once per kind with wire (Message.AppendTo) and then
// patched in place (transaction ID, DUID, IAID, granted address and
// prefix, and the Server Identifier appended): patching a template costs
// a fraction of encoding each message whole (BenchmarkEncode). Replies
// are decoded with wire (Message.Decode into one Message the receiver
// reuses, so reading an answer allocates nothing; a malformed datagram
// costs the one small allocation of wire's error value); wire's
// differential fuzz target holds it to insomniacslk/dhcp. A reply wire
// rejects as malformed counts as Malformed; one it leaves to insomniacslk
// (ErrNotFastPath: another message type, relays nested deeper than
// wire.MaxRelayDepth, a relay without a Relay Message option) counts as
// Unexpected, like every other answer the generator has no use for. Of a
// reply it reads the type, the transaction ID, Rapid Commit, the Status
// Codes, the Server Identifier and the first lease of the first IA_NA and
// IA_PD.
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
