// Package population multiplexes many DHCPv6 clients (package client) over
// one socket. Each client gets a distinct deterministic DUID-LL derived
// from the population's seed and its index, and its own seeded random
// source (a PCG kept inside the client). Replies are demultiplexed by
// transaction ID: the population keeps a table from ID to client (open
// addressing, xids.go) and makes a client draw again when the ID it drew
// is held by another one; unless the link itself says which client each
// answer is for (Config.Direct, DeliverTo: the virtual engine), as each
// host's own socket does, and each client keeps its draw. The clients share what they have in common: one
// copy of their settings (client.Config.Peer), one scratch for what a
// call returns (client.Config.Scratch; the population handles each
// client's Output before it calls the next, and its Sink must not call
// the population back) and their DUIDs' names in hex, a few long strings
// sliced (client.Config.Names, names.go).
//
// Like the client, the core is sans-IO: Deliver hands it a datagram,
// Advance runs every timer due by a given time (a calendar queue with one
// live entry per client, heap.go, so a million clients stay cheap),
// NextTimer says
// when to call Advance next and Outbox drains the encoded datagrams to
// send. With Config.InMemory the outbox holds the messages themselves,
// unencoded, and DeliverMessage takes an answer as a message: the virtual
// engine's link, with no encoding or decoding on either side. A message
// is read until the next Outbox call: from then on the clients build
// their messages in its storage (client.Scratch.Recycle), so a day of
// renewals allocates no message; whoever keeps one longer keeps a
// CopyMessage. Run adapts that core to a transport.Conn and a clock: it sleeps
// until the next timer or the next datagram, never polling.
//
// With Config.DAD set, each client runs duplicate address detection on
// every new address (package client) and the population answers its
// probes (InUse): an address another client of the population holds, or
// one a foreign host took (Occupy), fails DAD and the client Declines it.
// An index from address to the clients granted it keeps the probe cheap
// at a hundred thousand clients.
//
// The lab changes a population while it runs: AddClients (a join wave),
// StopSome (clients leaving, releasing their leases, chosen from the
// seed), Occupy and Decline (an address another host uses, RFC 9915
// §18.2.8) and LinkChanged (a link flap: Confirm, §18.2.3). Both engines
// call them; RunControlled executes them as Commands on its goroutine.
// Coast and CoastRenew let a client play steady renewals, or the
// retransmissions of a Renew nobody answers, without messages
// (client.Client.Coast), counting them as sent and received.
//
// A Population is not safe for concurrent use; Run owns it while it runs.
package population
