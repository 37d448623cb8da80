// Package echo is the lab's ceiling: a DHCPv6 responder that answers every
// client message at once with a fixed answer and does no DHCP work, so that
// `d6lab bench --server echo` measures what the bridge, the veths, the
// sockets and the load generator allow on the machine at hand, and the
// builtin server's rate can be given as a share of it.
//
// Answer is the sans-IO core: from a request's bytes it writes, without
// allocating, an answer the load generator (clientsim/load) accepts as the
// reply to its exchange: the reply type the request calls for (Advertise to
// a Solicit, Reply with Rapid Commit to a Rapid Commit Solicit, Reply to
// every other client message, RFC 9915 §18.3), the request's transaction
// ID, its Client Identifier copied, the echo's Server Identifier, and for
// each IA_NA and IA_PD of the request the same IA (its IAID) holding one
// fixed address (Addr) or prefix (Prefix) with fixed lifetimes. A
// Relay-forward gets a Relay-reply with the same hop count, link and peer
// addresses, its Interface-ID echoed and the answer to the relayed message
// inside (RFC 9915 §19.3). There is no lookup, no allocation and no lease:
// every client is told the same address. The answer's size is that of a
// real server's (about 100 bytes to a Solicit for IA_NA).
//
// Serve is the socket path, the builtin server's (server.Serve): one
// transport.BatchConn, up to server.BatchSize datagrams per recvmmsg, the
// answers of a batch handed to a second goroutine that sends them with one
// sendmmsg while the first reads the next batch; `d6lab serve --echo`
// opens its socket as `d6lab serve` does (the same receive buffer, generic
// receive offload) and runs on as many Ps, so runs of datagrams are
// segmented and coalesced alike.
package echo
