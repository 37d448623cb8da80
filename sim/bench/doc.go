// Package bench measures how many DHCPv6 exchanges per second a server
// sustains: the engine behind `d6lab bench`.
//
// Run builds a two-namespace lab (a sim/session on sim/netns: a "clients"
// node and a "srv1" node on one link, torn down by the session's Close), prepares the requested server kind through
// server/daemon with durable leases, a pool far larger than the client
// space and long lifetimes, starts it and waits until it listens. It then
// drives it from the clients namespace with d6lab's load generator
// (clientsim/load) at a fixed rate, or searches for the highest rate whose
// drops stay within MaxDrops (0.1 % by default): an exponential ramp, then
// a bisection, each step a fresh short run after a settle pause, stopping
// when the bracket is within 5 %. With Vs set to "perfdhcp" it runs Kea's
// perfdhcp against the same server in the same lab, restarted on a wiped
// lease file, the same way, and reports both side by side with their ratio.
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
// drops, the latency percentiles (perfdhcp prints only min/avg/max), the
// server's CPU use and the load tool's own CPU use (getrusage), so that a
// reader can tell whether the harness rather than the server was the
// bottleneck.
package bench
