// Package conform is d6lab's conformance matrix, both sides of it: it
// checks a DHCPv6 server against what RFC 6853 (BCP 180) §5 and its three
// deployment models (§6: split, unique and identical prefixes) need from
// it (Run), and a real DHCPv6 client against what RFC 9915 asks of a
// client (RunClient), requirement by requirement, with the packets that
// prove each verdict.
//
// # The server side
//
// Run builds a small lab of network namespaces (a sim/session on
// sim/netns, torn down by its Close) for one server kind: a clients node
// and two server nodes on the link 2001:db8:c0::/64. It starts the server
// through its adapter (server/daemon.Prepare, then session.StartServer,
// which waits until it listens), restarting it with another
// configuration when a check needs one (another Preference, a tiny pool),
// and drives it with a probe client: DHCPv6 messages crafted with the
// insomniacslk/dhcp library and sent from the clients' namespace, to
// ff02::1:2 like a client, or by unicast from port 547 like a relay agent.
// Every wait for an answer is bounded by Options.Timeout, so a server that
// does not answer makes a check fail or n/a, never hang. The Bulk
// Leasequery checks (RFC 5460, bulk.go) make bindings through a relay the
// probe plays (Relay-forwards with Relay-ID and Remote-ID options) and
// query srv1 over TCP port 547 from the clients' namespace: by relay ID,
// link address and remote ID, for an unknown relay, and with one
// connection more than BULK_LQ_MAX_CONNS; a server that refuses the TCP
// connection does not offer it, and those checks are n/a.
//
// # The client side
//
// RunClient builds one lab per real client kind (sim/realclient: dhclient,
// dhcpcd, dhcp6c, udhcpc6) on 2001:db8:c1::/64: two server nodes, srv1
// and srv2, a "clients" node (another host, which the dad-decline check
// makes hold the address the client is given), and one host per check,
// h1..hN, with the kernel's DAD on (netns.NodeSpec.DAD), so that every
// check starts a fresh client (realclient.Prepare into OUT/clients/<id>/,
// realclient.Start) on an interface no earlier client touched. The
// servers are scripted and in-process: a UDP socket on port 547 in each
// server node's namespace, joined to ff02::1:2, in front of the builtin
// core (package server: sans-IO, leases in memory, DUID-LL
// 02:d6:c1:00:00:0i for si, so s1's Server ID sorts first), with a script
// per check that may hold an answer, drop messages (go silent after the
// first Reply: the server died), rewrite the Reply to a Renew (lifetime
// 0, NoBinding), answer only Rebinds (with the core's create policy: a new
// address and the old one at lifetime 0, as Kea does), or set the
// Preference, the pool, T1, T2, the lifetimes, the Information Refresh
// Time. Each check captures the client's interface (sim/capture,
// OUT/pcap/<id>.pcap, the evidence) and records its addresses
// (netns.Lab.WatchAddrs, OUT/clients/<id>/addrs.jsonl), runs its script
// until what it waits for happened (each wait bounded by the latest time
// the protocol allows plus ClientOptions.Timeout), stops the client (the
// clean way, Instance.Stop, where the check needs a Release; killed
// otherwise), and judges. Short lifetimes keep the checks fast (T1 4 s,
// T2 6 s, valid 20 s); a kind that raises a T2 that short (WIDE dhcp6c,
// to 30 s) gets a T2 it keeps in the checks around T2, and renew-t1 shows
// the raise. A check whose capability the kind lacks (realclient.Lacks:
// IA_PD, stateless) is n/a with that reason; a kind not installed gives a
// report with Missing set and every check n/a with the adapter's reason.
// info-refresh takes over 10 minutes (IRT_MINIMUM is 600 s) and
// request-fail about 4 (REQ_MAX_RC Requests nobody answers): they run only
// with ClientOptions.Long or when named in ClientOptions.Checks.
//
// The client judges are pure functions over what trace.Messages decodes
// from the check's pcap and over the address log (clientObs); the unit
// specs exercise them on hand-built message lists and on the recorded
// real clients in sim/realclient/trace/testdata. Their bounds are in
// clientjudge.go, each with its reason: 50 ms of scheduling slack, a
// second either side of a timer (RFC 9915 gives times in whole seconds
// and clients keep their lease clocks so), §15's retransmission bounds.
// Every detail carries the measured values (how late a Rebind came past
// T2, when an address left the interface) and cites the RFC 9915
// section. The judges compare times on the wall clock, as the capture
// stamps frames; a check during which the machine's wall clock stepped
// runs again once, on a spare host, and says so if it stepped again.
//
// # Outputs
//
// Each Check has a stable kebab-case ID, a check.Verdict (written pass,
// fail or n/a), a Detail sentence with the measured values, and Evidence:
// the pcap of the check and a decoded one-line summary per packet (the
// server side: what the probe sent, →, and received, ←; the client side:
// what the client sent and received, stamped with the time since its
// start, and each change of its addresses). A Report is one server kind's
// (Server) or one client kind's (Client); the one set of writers gives a
// terminal matrix (one row per check, one column per kind), conform.json
// and JUnit XML for both.
package conform
