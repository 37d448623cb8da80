// Package ddns keeps a DHCPv6 server's clients in DNS: RFC 2136 dynamic
// updates of AAAA, PTR and DHCID records, signed with TSIG (RFC 8945),
// under RFC 4703's conflict rules, with the client identity of RFC 4701.
//
// The server core (package server) produces Changes, without any IO: add a
// name for an address after a binding is made, remove it when the binding
// ends. Updater is the sans-IO state machine that turns Changes into
// update messages, one job per name at a time: Submit, Receive and Expire
// take the time and return the messages to send; NextDeadline says when
// the next retransmission is due. It builds the messages with
// github.com/miekg/dns and leaves signing to the IO side.
//
// Adding a name (RFC 4703 §5.3.1, §5.3.2, §5.4): an update with the
// prerequisite "name is not in use" adds the AAAA and the DHCID; on
// YXDOMAIN a second one with the prerequisite "a DHCID with this client's
// value exists" replaces the AAAA RRset; NXRRSET there is a conflict (the
// name belongs to another client, RFC 4703 §5.3.3): counted, and the name
// is left alone.
// Then the PTR in the reverse zone is replaced (the server owns it). A
// forward update that fails or conflicts leaves the PTR alone.
//
// Removing a name (RFC 4703 §5.5): the AAAA of the address is deleted
// under the prerequisite that the DHCID matches; then, if no A or AAAA
// records are left, the DHCID (all of the name's records) goes; the PTR is
// deleted under the prerequisite that it still names the client.
//
// Runner is the IO side for `d6lab serve`: one goroutine driving an
// Updater over UDP to the DNS server, with a bounded queue in front
// (Offer never blocks: a full queue drops the change and counts it, so a
// dead DNS server never holds up the DHCP path), and its socket reader. It
// signs every update with the TSIG key, verifies the answers' TSIG, writes
// one log line per update outcome and keeps the counters (Stats). When it
// is stopped it goes on for a short drain time (DefaultDrain) to finish
// the changes already queued: the Releases of clients that stop just
// before their server.
package ddns
