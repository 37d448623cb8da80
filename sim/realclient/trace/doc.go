// Package trace turns what a real DHCPv6 client did into the history events
// d6lab's simulated clients emit (reports/history), so the same checkers
// judge both: the client's messages from a capture on its own interface
// (sim/capture's pcap) and its address state from the kernel (AddrChange,
// recorded over netlink while it ran). It is sans-IO apart from the readers
// of those two files: Translate takes the frames and the address changes
// and returns events.
//
// # Decoding
//
// ReadPcap reads the frames; Messages decodes them (Ethernet, IPv6, UDP
// 546/547, then github.com/insomniacslk/dhcp/dhcpv6) into Message, the
// per-message facts (time, direction, type, transaction ID, DUIDs, Elapsed
// Time, Preference, status codes, IAs with their leases and lifetimes,
// destination) that conformance checks read; Translate builds on the same
// decoder. A frame from Client.MAC is sent, one to it received; other
// frames (other clients' multicast) are ignored. The client's DUID is
// Client.DUID or the Client Identifier of the first message it sent; a
// received message with another Client Identifier is another client's.
// Malformed frames, relay messages, foreign traffic are dropped and
// counted in Stats; nothing panics (FuzzTranslate).
//
// # What maps to what
//
// Translate follows the client's exchanges: each message it sends starts
// one unless it repeats the type and transaction ID of the running one (a
// retransmission, RFC 9915 §15). A received message counts when it
// answers the running exchange (same transaction ID, a type that answers
// it, a Server Identifier); the first Reply taken ends the exchange
// (later Replies to it, say from a second server answering a Rebind, are
// Unmatched: a client takes one). The leases are then kept as the
// simulated client keeps them (clientsim/client apply.go), so the events
// mean what its events mean:
//
//   - solicited: the first transmission of each Solicit exchange (Server
//     empty).
//   - advertised: an Advertise to the running Solicit with at least one
//     address or prefix (valid lifetime > 0) for an IA the Solicit asked
//     for (§18.2.9); Server is the advertiser, Detail "preference=N".
//   - bound: each lease new to its IA in a Reply (to Request, to a
//     Solicit when both carry Rapid Commit, to Renew or Rebind) that is
//     not a renumbering (below): the address as a /128 of an IA_NA, the
//     prefix of an IA_PD, with IAID,
//     lifetimes, the replying server's DUID and the client's. T1 and T2
//     are the server's; a zero one is replaced by §14.2's 0.5 and 0.8
//     times the shortest preferred lifetime, as the simulated client
//     stamps them (what the real client adopted shows in when it renews:
//     WIDE dhcp6c raises small ones). Tentative: below.
//   - renewed / rebound: a held lease the Reply to Renew / Rebind gives
//     again with a valid lifetime (a Reply to Request that gives a held
//     lease again is renewed too, as in the simulated client).
//   - renumbered: a lease new to an IA that held another, paired with the
//     held ones in order: Old is one the Reply returned with valid
//     lifetime 0 (no Cause: Old ends at At), else one the Reply did not
//     mention (Cause kept: the client keeps Old until it expires or a
//     later event ends it, §18.2.10.1). A Request's Reply after NoBinding
//     (or, as ISC dhclient does, after a new Solicit) renumbers the same
//     way.
//   - refused, Cause zero: a held lease the Reply returned with valid
//     lifetime 0 and nothing new to pair it with. Cause nobinding or
//     noaddrsavail: the simulated client never ends a lease on those
//     answers (it keeps it while valid and Requests); a real one may drop
//     it, and the only evidence is the address leaving the interface: an
//     IA_NA address removed (address log) before its valid lifetime ends,
//     after a NoBinding (Reply to Renew, Rebind or Request) or
//     NoAddrsAvail/NoPrefixAvail answer for its IA and before any new
//     grant, is refused with that cause at the removal.
//   - nobinding: each lease held in an IA that a Reply to Renew or Rebind
//     answers NoBinding, with the answering server; it ends nothing.
//   - expired: a lease whose valid lifetime (from the last Reply that
//     granted or extended it) ran out with no later Reply extending it,
//     by Client.End (or the last frame or address change). For an address
//     the address log's deletion of it is taken instead of the computed
//     instant when it lies within ExpirySlack of it (and before the next
//     message): that is when the host stopped using it, and real clients
//     keep lease times in whole seconds. A deletion later than that, or an
//     address still on the interface then, is counted (LateRemovals).
//   - declined: each held lease in a Decline the client sent (first
//     transmission), at its time, with the lease's server; Cause dad when
//     the address log shows DAD failed for the address after it was
//     granted (Peer nil: the lab cannot name the holder), else no Cause
//     and DeclinedWithoutDAD counts it.
//   - dad_failed: an IA_NA address the address log shows DAD failed for
//     after its first grant and that the client never declined, at the
//     first such change, Cause dad, Peer nil, with the lease as first
//     granted (DADNotDeclined counts them): what the Debian clients do
//     (the simulated client's Deviations.KeepDADFailed; dhclient and dhcpcd
//     add such an address again at every Renew, a new DAD each time:
//     restored, below, which the analysis takes as usable once a DAD
//     passes).
//   - released: each held lease in a Release the client sent, at its
//     time (the client stops using it then, §18.2.7; ISC dhclient -r
//     removes the address a few milliseconds before it sends, which is
//     not counted as an early removal).
//   - confirmed: each held address when a Reply to Confirm says Success;
//     a NotOnLink Reply waits, as in the simulated client, for a Success
//     from another server until the client's next exchange, then ends
//     every held address with Cause notonlink at the NotOnLink Reply's
//     time.
//   - dropped: an IA_NA address the address log shows removed before its
//     valid lifetime ends, with nothing to explain it (no negative answer
//     before it, no DAD failure, no Release or Decline within a second
//     after it; a Reply in between does not explain it), at the removal
//     (EarlyRemovals counts it too): the lease
//     is still held (dhcpcd at carrier loss keeps it and Confirms it once
//     the carrier is back; dhcpcd also removes its addresses on SIGTERM
//     without a Release).
//     A client that gives a lease up without a word (dhcpcd's dhcp6_fail
//     after a failed Request or Confirm, which the simulated client
//     models as an Expired "dropped: ..." under Deviations.FailDrops)
//     shows here as a drop never restored: the address is unusable from
//     the same instant, so outages agree; the lease ends at its expiry.
//   - restored: the next addition of an address the log showed removed
//     (dropped, or deleted by the kernel when its DAD failed) to the
//     interface before its lease ends, at the addition, Tentative how long
//     it then stayed tentative (below; its valid lifetime or more when DAD
//     failed again); the log is then read for a removal after it (another
//     drop or DAD failure, or the expiry).
//   - informed: a Success Reply to Information-request; Detail
//     "refresh=D", the refresh time §21.23 asks the client to adopt (the
//     server's Information Refresh Time, at least IRT_MINIMUM, or
//     IRT_DEFAULT without one).
//
// # Tentative
//
// On bound and renumbered of an IA_NA address, Tentative is how long after
// the Reply the address stayed tentative per the address log: until the
// first change of it without the Tentative flag; 0 when it was already on
// the interface and usable. An address that never became usable (DAD
// failed, or it was removed, or the log ended while it was tentative) is
// tentative for its valid lifetime or until the end of the observation,
// whichever is longer, so that a Declined dad comes before it is usable
// as the checkers expect. An address that never shows up on the interface
// has no Tentative (0) and is counted (Unconfigured). Delegated prefixes
// are never tentative. The log's times are those of the recorder reading
// netlink, a few milliseconds after the kernel's.
//
// # What cannot be observed, and how it is handled
//
//   - What the client decided is seen only through what it sent next and
//     what it did to its addresses: an Advertise or Reply it may have
//     discarded is taken if RFC 9915 says it should be (the first Reply;
//     leases with a non-Success status or preferred > valid, IAs with T1 >
//     T2 or not asked for are left out, DiscardedIAs).
//   - Delegated prefixes have no address log: their ends are protocol
//     ends only (expired at the computed instant, never refused on a
//     removal).
//   - gave_up (a client running out of retransmissions) is not emitted:
//     silence on the wire does not say whether the client gave up.
//   - A lease whose address the log shows removed before it expires, with
//     no Release, Decline or negative answer to explain it, is not ended
//     by the removal: the client may put the address back (dropped,
//     restored above), and the lease ends per the protocol. A Decline
//     without DAD evidence has no Cause (DeclinedWithoutDAD),
//     and a Release or Decline of a lease the client does not
//     hold per the capture (ISC dhclient releases the address it was
//     renumbered from) has none (UnknownLeases).
//   - Tentative is measured at the grant and at a restore only; the
//     dad_failed event is the first failure's, and a later one shows as a
//     restore that never became usable.
//
// The golden captures in testdata were recorded with ISC dhclient 4.4.3,
// dhcpcd 9.4.1 and WIDE dhcp6c against d6lab serve in a lab of network
// namespaces (each .json says how); the specs check what Translate makes
// of them.
package trace
