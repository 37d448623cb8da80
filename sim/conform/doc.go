// Package conform checks a DHCPv6 server against what RFC 6853 (BCP 180)
// §5 and its three deployment models (§6: split, unique and identical
// prefixes) need from it, requirement by requirement, with the packets that
// prove each verdict.
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
// does not answer makes a check fail or n/a, never hang.
//
// Each Check has a stable kebab-case ID, a check.Verdict (written pass,
// fail or n/a), a Detail sentence with the measured values, and Evidence:
// the pcap of the check (sim/capture on the clients' interface,
// DIR/pcap/<id>.pcap) and a decoded one-line summary per packet the probe
// sent or received.
//
// The verdict logic works on decoded replies and needs no root; the unit
// specs exercise it on crafted messages. Report writers give a terminal
// matrix (one row per check, one column per server), conform.json and
// JUnit XML.
package conform
