// Package check turns a history (reports/history) into the metrics of
// README's "Reports" field table (report.json): binding intervals, duplicate
// assignments, DAD conflicts, affected clients, rebind outcomes,
// re-acquisition and outage times, continuity and binding share, and,
// when the lab had them, its DNS zones against the bindings (dns.go) and
// what its Leasequery prober heard (leasequery.go), and where the run met
// what the simulated clients' profile does not model, sized (gaps.go,
// Report.Gaps). It decides after the
// fact, the Jepsen/porcupine way: engines only record, Analyze judges.
//
// One definition is used everywhere:
//
//   - A binding interval is one client's hold on one lease (an address as a
//     /128, or a delegated prefix). It opens at the event that gave the lease
//     (Bound, Renumbered's new lease, or a Renewed/Rebound with no open
//     interval) and ends at the earliest of Released, Declined, Refused,
//     a Confirmed answered NotOnLink, Renumbered-away (Old, unless the
//     event's Cause is "kept": then the client keeps Old and its interval
//     goes on), Expired, and the valid-lifetime expiry as the client
//     computes it (last grant time + Valid). Renewed/Rebound extend it.
//     NoBinding ends nothing (the client keeps the lease and sends a
//     Request). A grant with Valid 0 is taken to have no known expiry (the
//     field was not filled); it ends at an explicit event or at the end of
//     the run. Intervals still valid at the end of the run are clipped to
//     it. A grant whose event counts merged renewals (history.Event's
//     Renewals, a history that merges renewals) is that grant and then
//     their extension from the same server: its lease expires Valid after
//     the last of them (Extended), and each counts in the report's events.
//   - Its usable part starts at the opening event plus its Tentative (the
//     duplicate address detection time of a new address, RFC 4862 §5.4);
//     an interval that ends before then was never usable, nor is one
//     whose address a DADFailed event found in use while tentative (the
//     client kept it without declining it) until a Restored event adds it
//     again and that DAD passes (usable from the Restored plus its
//     Tentative; a DADFailed within it takes that back; DAD failing again
//     is the same conflict). A Dropped event takes the
//     address off (dhcpcd at carrier loss): the interval goes on, but is
//     not usable from it until the Restored event that puts it back plus
//     that event's Tentative (drops.go); the outage, the recovery and
//     continuity read it so, and Life times each drop. Duplicates still
//     read the whole interval: the lease is held, and a server that gives
//     its address to another client meanwhile is what they exist to catch.
//   - A duplicate is two different clients whose usable intervals for the
//     same address, or for overlapping prefixes, overlap in time
//     (half-open: back-to-back intervals do not overlap). An address
//     declined during its tentative time was never used: it is no
//     duplicate.
//   - A conflict is a Declined with Cause dad, or a DADFailed (kept): DAD
//     saw another holder (a population client, or a host outside it). Its
//     delay runs from the grant of the address to the first instant, at or
//     after the event, at which the client holds another usable lease of
//     the same IA type, or the kept one usable again (conflicts.go).
//   - The fault is the first ServerKilled, ServerFrozen or LinkCut of the
//     history, together with any other of those at the same instant. A
//     LinkCut with no server name cuts every server off.
//   - An affected client held, when the fault happened, a lease whose last
//     grant or extension came from a faulted server. Its affected IA types
//     are the types ("na", "pd") of those leases.
//   - Its rebind outcome is the first, over its affected leases, of: a
//     grant of that lease after the fault (extended: by a server the fault
//     did not hit, extended_survivor, or by a faulted server once back,
//     extended_recovered), a Renumbered naming it as Old, kept or not
//     (renumbered), Refused or a Confirm answered NotOnLink (refused, by
//     cause), Expired or lifetime expiry (silent), Released or Declined
//     (released: the client gave it up itself). A client with none of
//     these by the end is undecided. Decided = affected - undecided -
//     released; failure rate = (decided - extended) / decided, the share of
//     decided clients that did not keep their address (extended by either
//     kind of server is no failure); unknown when decided is 0.
//     rebind.nobinding counts the affected clients that got a NoBinding
//     answer after the fault, whatever their outcome.
//   - Recovery of one affected IA type: the first instant at or after the
//     fault at which the client holds a usable (no longer tentative)
//     binding of that type whose last grant came from a server that is up
//     at that moment. Re-acquisition time runs from the fault to the
//     latest of the client's per-type recovery instants: a client with an
//     IA_NA and an IA_PD has recovered when both are held again; if one
//     type never recovers, the client is unrecovered. (A tentative address
//     does not count as re-acquired: it cannot carry traffic, and a
//     declined one never does.)
//   - Outage is the part of [fault, re-acquisition) during which the
//     client lacked a usable lease of at least one affected type: no valid
//     lease of that type, or only tentative ones. For a client with one IA
//     type that is "no usable address at all"; for an NA+PD client losing
//     the prefix while the address stays is an outage too (its LAN is
//     down). outage_tentative_s is the part of each outage that was only
//     tentative time: the outage minus the outage computed with tentative
//     leases counted as usable.
//   - Continuity is the share of affected clients that, for every affected
//     type at that type's recovery instant, hold (usable, from an up
//     server) one of the leases they held at the fault. Unrecovered
//     clients did not keep it.
//   - per_ia gives, for "na" and "pd" apart, the clients with an affected
//     lease of that type, their recovery (re-acquisition) times, outage
//     of that type alone up to its recovery, unrecovered count and
//     continuity of that type.
//   - With no affected client (no fault, or nobody held a lease from a
//     faulted server), the shares and times of affected clients (failure
//     rate, continuity, re-acquisition, outage, and per_ia's) are unknown:
//     nil, JSON null, and an `expect:` bound on them fails saying so.
//     Counts (affected, unrecovered, rebind.*) stay 0.
//
// Analyze is O(n log n) in the number of events: events are sorted once and
// every later step works on per-lease intervals. An interval keeps one grant
// per run of grants from one server on one side of the fault, so a client
// that renews with the same server all day costs one, not one per renewal,
// and keeps its instants as nanoseconds and its first grant inside it, in
// 104 bytes and no pointer (its IA type and cause index a table of names,
// its lease is packed, its later grants index a table of their own): the
// collector never reads the two million of a million-client day.
// AnalyzeSource reads any history.Source: a slice, or the
// history.Log the virtual engine keeps (48 bytes an event instead of 280);
// the passes that want a few kinds read Source.Kind first and build only
// those events. A log gives the report a slice of the same events gives,
// byte for byte (sim/virtual's specs).
package check
