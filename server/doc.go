// Package server is d6lab's builtin DHCPv6 server core, written to RFC 9915
// (which keeps RFC 8415's section numbers for the parts used here).
//
// It is sans-IO: Server.Handle takes the time, a datagram, its source and
// whether it arrived by multicast, and returns the answer and where to send
// it (AppendAnswer writes it into the caller's buffer); Server.HandleMessage
// does the same on decoded messages (for the virtual engine). Serve is the
// thin loop that couples a Server to a transport.Conn with a clock.
//
// Two decoders feed one pipeline (exchange.go): a datagram is decoded by
// d6lab/wire when it is a hot-path message (Solicit, Request, Renew,
// Rebind, Release, bare or relayed) and by insomniacslk/dhcp otherwise
// (HandleMessage reads the decoded message in one pass, values.go); all
// fill the same exchange, and the answer (answer.go) is encoded by wire,
// or built as insomniacslk values for HandleMessage, with the options in
// the same order (with SetAnswerReuse, in values it reuses: an answer is
// then valid until the next message). On the hot path, with a
// lease.Memory and a bound client, a message costs no allocation
// (zeroalloc_test.go, values_test.go), and FuzzHandle holds the two paths
// to the same answer byte for byte.
//
// A message goes through a pipeline of stages (the contract is on the
// verdict type): lazy reclaim of expired bindings and Decline holds,
// message-type and identifier validation (§16), the unicast policy, and
// the answer for its type (§18.3): Solicit (Advertise, or Reply under Rapid
// Commit), Request, Renew, Rebind (with a configurable policy for IAs the
// server holds no binding for), Release, Decline, Confirm and
// Information-request, each possibly inside nested Relay-forward messages
// (§19.3). IA_NA and IA_PD are served, several per message. It also
// answers DHCPv6 Leasequery (RFC 5007, leasequery.go): a requestor's
// LEASEQUERY by address or by client ID gets a LEASEQUERY-REPLY with the
// holder's client data, read from the bindings without changing them.
// Bulk Leasequery (RFC 5460, bulk.go) answers the same queries and those
// by relay ID, link address and remote ID over TCP: HandleBulk is its
// sans-IO core (a frame in, the LEASEQUERY-REPLY, -DATA and -DONE frames
// out), BulkServer the listener beside Serve (at most BULK_LQ_MAX_CONNS
// connections, BULK_LQ_DATA_TIMEOUT, one query at a time), which reads
// one snapshot of the store per query and nothing else Serve changes.
// Each dropped message is counted under a DropReason.
//
// With Config.DNS the server keeps its clients' names in DNS (fqdn.go):
// it answers the Client FQDN option (RFC 4704) of a Solicit, Request,
// Renew or Rebind with the name it registers (a partial name completed
// with the zone) and S=1, keeps the name in the binding, and records a
// DNS change, without any IO, when an IA_NA binding is made, renumbered,
// renamed, released, declined or expires; TakeDNSChanges (or a sink set
// with SetDNSSink) hands them to server/ddns, which sends the RFC 2136
// updates. Without it the option is ignored.
//
// Sub-packages: alloc (pools and allocation strategies), lease (the
// binding store), ddns (the RFC 4703 DNS updater and its UDP runner), echo
// (the lab's throughput ceiling: a responder that does no DHCP work) and
// daemon (one adapter per server kind, the builtin one
// and the third-party ones: it renders a kind's configuration, gives the
// command line that runs it and reads its lease file back;
// sim/session.StartServer starts the process).
package server
