// Package leasequery asks DHCPv6 servers where a client is bound, the
// three ways the lab's Leasequery prober (sim/lab, RFC 6853 §7) can ask
// them:
//
//   - RFC 5007 Leasequery: a LEASEQUERY (message type 14) by client ID,
//     unicast to the server's port 547, answered by a LEASEQUERY-REPLY
//     (15) whose OPTION_CLIENT_DATA lists the client's addresses and
//     prefixes. Encode and Decode are the sans-IO core (no socket, no
//     clock); UDP is the thin wrapper that sends a batch of queries on one
//     socket and matches the replies by transaction ID. The builtin server
//     answers this way.
//   - Kea's control socket with the lease_cmds hook: the JSON command
//     lease6-get-by-duid over a UNIX socket (KeaCommand, ParseKea, and
//     Kea for the round trip). Kea answers RFC 5007 only with ISC's
//     commercial leasequery hook, which Debian does not ship.
//   - The server's own lease file, read while it runs
//     (daemon.Instance.Leases): FromBindings picks a client's leases that
//     are still valid. dhcpd and dnsmasq are asked this way; wide and
//     coredhcp keep no lease file, so nobody can say where their clients
//     are bound.
//
// Every way returns the same Lease values: the lease and the lifetimes
// that remain when the server answered. Nothing here knows the lab: which
// servers run, which clients are sampled and the history events are
// sim/lab's.
package leasequery
