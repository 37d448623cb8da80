// Package bench measures how many DHCPv6 exchanges per second a server
// sustains: the engine behind `d6lab bench`.
//
// Run builds a two-namespace lab (a sim/session on sim/netns: a "clients"
// node and a "srv1" node on one link, torn down by the session's Close), prepares the requested server kind through
// server/daemon with durable leases (the builtin server's as durable as
// Options.LeaseSync says; the echo keeps none), a pool far larger than the client
// space and long lifetimes, starts it and waits until it listens. It then
// drives it from the clients namespace with d6lab's load generator
// (clientsim/load) at a fixed rate, or searches for the highest rate whose
// drops stay within MaxDrops (0.1 % by default) and whose p99 latency stays
// within MaxP99 (10 ms by default): an exponential ramp, then a bisection,
// each step a fresh short run after a settle pause, stopping when the
// bracket is within 5 %. Throughput is judged at a latency bound because a
// server with a large socket buffer otherwise "passes" rates it meets only
// by queueing requests for hundreds of milliseconds. The same steps also
// narrow a second bracket, judged by the drops alone, reported beside the
// headline (Report.DropsOnly). A step that fails on p99 alone is measured
// once more and judged by the better of the two (Options.NoRetry): on a
// machine shared with other work, one stall of another process longer than
// 1 % of a step makes a p99 by itself, while a server's own queueing shows
// again. With Vs set to "perfdhcp" it runs Kea's perfdhcp against the same
// server in the same lab, restarted on a wiped lease file, the same way,
// and reports both side by side with their ratio; perfdhcp prints no
// percentiles, so its steps and the ratio are judged by the drops alone.
//
// Server Echo measures the lab's own ceiling the same way: `d6lab serve
// --echo` (server/echo) answers every message at once through the builtin
// server's socket path with no DHCP work. Summarize puts the reports of one
// `make bench` run side by side with the ratios builtin/Kea and
// builtin/echo at the latency bound, those of the builtin run whose leases
// are as durable as Kea's (Report.Leases) first.
//
// Before a search each tool runs one warm-up step, kept apart and not
// judged (Report.Warmup), at Clients/Step exchanges/s (2,000/s by
// default, at least the first step's rate) so that every client is bound
// once: every judged step then asks for the same work, bindings changed in
// place, where without it the first steps would also create them.
//
// The server is not restarted between the steps of one search: the
// generator (and perfdhcp, with -R) draws its clients from a fixed space of
// Clients DUIDs and the pool is orders of magnitude larger, so the server's
// bindings and lease file grow to at most one binding per client during the
// first steps and then only change in place. Restarting would instead make
// every step pay the server's start-up and an empty cache. Between the
// generator's phase and perfdhcp's the server is restarted on a wiped lease
// file so that neither tool inherits the other's bindings.
//
// The report records, for every step, the offered and achieved rates, the
// drops, the latency percentiles (perfdhcp prints only min/avg/max), whether
// it passed both bounds, the drops alone, and what it broke, the
// server's CPU use and the load tool's own CPU use (getrusage), so that a
// reader can tell whether the harness rather than the server was the
// bottleneck.
package bench
