// Package check turns a history (reports/history) into the metrics that
// DESIGN.md defines under "Metrics": binding intervals, duplicate
// assignments, affected clients, rebind outcomes, re-acquisition and outage
// times, continuity and binding share. It decides after the fact, the
// Jepsen/porcupine way: engines only record, Analyze judges.
//
// One definition is used everywhere:
//
//   - A binding interval is one client's hold on one lease (an address as a
//     /128, or a delegated prefix). It opens at the event that gave the lease
//     (Bound, Renumbered's new lease, or a Renewed/Rebound with no open
//     interval) and ends at the earliest of Released, Declined, Refused,
//     Renumbered-away (Old), Expired, and the valid-lifetime expiry as the
//     client computes it (last grant time + Valid). Renewed/Rebound extend
//     it. A grant with Valid 0 is taken to have no known expiry (the field
//     was not filled); it ends at an explicit event or at the end of the run.
//     Intervals still valid at the end of the run are clipped to it.
//   - A duplicate is two different clients whose intervals for the same
//     address, or for overlapping prefixes, overlap in time (half-open:
//     back-to-back intervals do not overlap).
//   - The fault is the first ServerKilled, ServerFrozen or LinkCut of the
//     history, together with any other of those at the same instant. A
//     LinkCut with no server name cuts every server off.
//   - An affected client held, when the fault happened, a lease whose last
//     grant or extension came from a faulted server.
//   - Its rebind outcome is the first of: a grant of that lease after the
//     fault (extended), Renumbered away from it (renumbered), Refused
//     (refused, by cause), Expired or lifetime expiry (silent). A client
//     with none of these by the end (or that released the lease) is
//     undecided. Failure rate = (affected - extended) / affected.
//   - Re-acquisition time runs from the fault to the first moment the
//     client holds a valid binding (of the affected IA types) whose last
//     grant came from a server that is up at that moment; outage is the part
//     of it during which the client held no valid lease at all.
//   - Continuity is the share of affected clients that, at that moment,
//     hold one of the leases they held at the fault.
//
// Analyze is O(n log n) in the number of events: events are sorted once and
// every later step works on per-lease intervals.
package check
