// Package client is one DHCPv6 client (RFC 9915 §18.2) as a pure state
// machine. It never reads the wall clock, a socket or the global random
// source: callers hand it the time and the messages it receives, and it
// hands back the messages to send, the one time at which it wants its
// Timer method called, and the history events of every transition. Every
// random draw (retransmission RAND, initial delays, transaction IDs, DAD
// delays, T1/T2 jitter) comes from the client's own seeded source, so the
// same seed gives the same run.
//
// A message the client hands over is never changed afterwards, nor are
// its option values, which later messages may share (a Request's
// retransmission sends the options of the one before): whoever holds one
// (a frozen server's queue, the virtual link) reads what was sent.
// One message is one allocation, unless the clients' Scratch recycles
// them (Scratch.Recycle: a population's, once a message has been read);
// a Renew and its Reply cost the client nothing else. Between exchanges a
// bound client keeps little: the room of an exchange's options is the
// Scratch's, lent while the exchange runs (a Solicit, Renew, Rebind or
// Information-request gives it back after each transmission and builds
// its options again for the next, so that a client waiting minutes for an
// answer holds none), with the IA_NA option built for it in storage the
// Scratch uses again once no message sent reads it,
// and what it holds only for a while (a Solicit's Advertises, the leases
// it declines or releases) is made when needed and dropped when empty. It
// keeps its times as 8-byte instants counted from Config.Epoch's clock,
// its leases in a compact form (a Lease is what it shows), its DUID only
// in its Client Identifier option and its DUID's name in its Namer's
// (Config.Names), and the clients of a Scratch share one record of each
// server they heard from and of each exchange's parameters: a million
// clients are a million 256-byte Clients and their 96-byte leases.
//
// The client asks for one IA_NA (IAID 1), one IA_PD (IAID 2), both, or
// neither (stateless: Information-request). It follows RFC 9915 §15 for
// retransmission, §16 for validation of what it receives and §18.2 for
// each exchange; the constants live in constants.go with their sections.
//
// Server selection (§18.2.1, §18.2.9): the client keeps every usable
// Advertise of its Solicit, best first (highest preference, then first
// received); an Advertise is ignored only when it has no address and no
// prefix for the IAs asked for. When the chosen server does not answer
// the Request, the client Requests from the next stored one, and solicits
// again only when none is left.
//
// Replies (§18.2.10.1): T1/T2 of 0 are the client's to choose (0.5 and
// 0.8 times the shortest preferred lifetime, kept on the right side of a
// non-zero value the server gave); non-zero ones are used as given.
// Leases a Reply does not mention are left unchanged: a new lease next to
// such an old one is reported Renumbered with Cause kept (the old one
// stays until it expires), a new lease next to one returned with valid
// lifetime 0 is Renumbered with no cause. NoBinding for an IA in a Reply
// to Renew or Rebind emits a NoBinding event per lease, keeps the leases
// and sends a Request for all IAs to the server that answered; when that
// Request gives nothing the client goes on with what it holds (the next
// Renew/Rebind at least REN_TIMEOUT later) and solicits once nothing is
// left. Renew runs until T2 and Rebind until the valid lifetimes of the
// leases still held end (§18.2.4, §18.2.5): both follow the leases as
// they change, and end when no IA they are for is due any more.
//
// Duplicate address detection (Config.DAD, DADDelay, Prober; RFC 4862
// §5.4): each IA_NA address the client did not hold before is tentative
// for a random delay in [0, DADDelay) plus DAD (Lease.UsableAt, the
// Tentative field of its Bound or Renumbered event); delegated prefixes
// and extensions never are. At the probe time the client asks the Prober;
// an address in use is declined (§18.2.8) to the server that granted it,
// with a Declined event of cause dad naming the holder in Peer (kept,
// unusable, with a DADFailed event instead, under
// Deviations.KeepDADFailed, and added again at each Renew under
// Deviations.ReaddKept). A Decline
// that arises during another exchange waits for it to end.
//
// A link flap (LinkDown: the link goes now and comes back at a given
// instant, which the client's own timer keeps; LinkChanged: gone and back
// at once; RFC 9915 §18.2.3, §18.2.12): once the link is back the client
// Confirms its addresses or Rebinds its prefixes. Under Deviations.DropOnLinkChange it
// takes its addresses off at the loss (Dropped events) and puts each back,
// through DAD again, when an answer keeps it (Restored, with its
// Tentative).
//
// Every RFC constant is multiplied by Config.Timescale (0.1 runs ten times
// faster than real DHCPv6) so that a lab fits in seconds; lifetimes granted by
// servers are never scaled (the lab configures short ones instead), nor are
// DAD and DADDelay (host constants). Config.Jitter spreads T1 and T2 the way
// real clients do; it is a model of them, not an RFC rule.
//
// Config.Deviations makes the client depart from RFC 9915 where a real
// client kind does (ISC dhclient 4.4, dhcpcd 9.4.1): taking the first
// Advertise, a late Rebind, what NoBinding or NoAddrsAvail to a Renew or
// Rebind leads to, Solicit delays, dropping leases when an exchange fails,
// and more. Its zero value is RFC 9915 and everything above holds; each
// field documents what it changes and the client code it models.
// clientsim/profile fills it from the profile a scenario names.
//
// Coasting (coast.go): a caller that knows what the servers will do may
// have a steady client play its renewals (Coast: each answered at once
// with the same lease and lifetimes) or the retransmissions of a Renew
// nobody answers (CoastRenew) up to a given time without messages. The
// client draws, and ends, exactly as after the last of them; the virtual
// engine does this between the events of a run, and its specs hold the
// history to the one every message played gives, byte for byte.
package client
