// Package sim holds d6lab's engines. Its sub-packages are:
//
//   - netns: the network-namespace topology (namespaces, a bridge, veth
//     pairs, addresses, processes, faults) built with netlink;
//   - lab: a scenario run on that topology with real server processes
//     and the simulated client population, recorded as a history;
//   - virtual: the same protocol cores on an in-memory link driven by a
//     virtual clock, seeded and deterministic, for tests and large runs;
//   - capture: the client link's DHCPv6 traffic written to a pcap file;
//   - conform: `d6lab conform`, one server kind checked against what
//     RFC 6853 and RFC 9915 require of it, with packets as evidence;
//   - bench: `d6lab bench`, one server driven by the load generator (and
//     perfdhcp beside it) at a rate or up to its highest drop-free rate;
//   - session: one lab's life (claim, build, start servers and their
//     companions, tear down in one order, the progress bar);
//   - realclient and realclient/trace: real DHCPv6 clients (Debian
//     packages) in the lab, and their capture as history events;
//   - nameserver: BIND 9 as the lab's authoritative DNS server (dns:);
//   - leasequery: the Leasequery prober's query clients (leasequery:);
//   - sweep: `d6lab sweep`, a grid of lifetimes x models on either
//     engine, with the server load against outage and re-acquisition;
//   - advice: `d6lab advise`, an operator's bounds answered from a sweep.
//
// The package itself maps a resolved scenario to what every engine needs:
// each server's configuration and DUID, the client population, and the
// checkers' description of the lab, and the service /64 (service.go)
// where the DNS server and the prober meet the servers.
package sim
