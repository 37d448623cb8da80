// Package lab runs one scenario in network namespaces: it builds the
// topology (sim/netns), starts each server as a real process inside its
// namespace, runs the simulated client population on a real UDP socket in
// the clients' namespace, plays the fault timeline against the real
// processes and links, and returns the history. The lab's life (the
// claimed prefix, the namespaces, the server processes, the capture, the
// population, the progress line) is a sim/session.Session, whose Close
// tears it all down in its stated order: at the end, on error and when the
// context is cancelled (SIGINT).
//
// A server's companions (daemon.Instance.Companions: Kea's kea-dhcp-ddns)
// run in its namespace and share its fate: started before it, killed,
// frozen, thawed and restarted with it (companion.go). A scenario's dns:
// block adds BIND 9 (sim/nameserver) in a namespace of its own beside the
// servers, started before them and sampled by zone transfer during the
// run (dns.go); its leasequery: block adds the Leasequery prober, which
// asks every running server where sampled clients are bound
// (leasequery.go, sim/leasequery). Both record history events; the
// checkers turn them into the report's dns and leasequery metrics.
//
// A scenario's clients.real adds real DHCPv6 clients (real.go,
// sim/realclient), each in a namespace of its own with the kernel's DAD,
// started over clients.ramp as the simulated clients are; their captures
// and address logs become history events at the end (sim/realclient/trace).
//
// The server-load meter (load.go) counts the DHCPv6 messages that reach
// each server node's link interface (sim/capture.Count), per second of the
// run, for every server kind, and records them as history.ServerLoad
// events, as the virtual engine does: the report's load metric.
package lab
