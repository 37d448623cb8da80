package history

import (
	"net/netip"
	"strconv"
	"time"
)

// Kind names what happened. Client kinds describe one IA lease (an address
// of an IA_NA or a prefix of an IA_PD); lab kinds describe the harness.
type Kind string

// Client event kinds (emitted by the clientsim state machine).
const (
	Solicited  Kind = "solicited"  // a Solicit was sent (first transmission of an exchange)
	Advertised Kind = "advertised" // an Advertise was accepted for selection
	Bound      Kind = "bound"      // a Reply to Request (or Rapid Commit Solicit) gave a lease
	Renewed    Kind = "renewed"    // a Reply to Renew extended a lease
	Rebound    Kind = "rebound"    // a Reply to Rebind extended the same lease
	Renumbered Kind = "renumbered" // a Reply to Rebind/Renew gave a new lease; Old holds the previous one
	Refused    Kind = "refused"    // NoBinding or zero lifetimes: the lease is gone; Cause says which
	Expired    Kind = "expired"    // the valid lifetime ran out on the client's own clock
	Declined   Kind = "declined"   // the client declined a lease it was told is a duplicate
	Released   Kind = "released"   // the client released a lease
	Confirmed  Kind = "confirmed"  // a Confirm was answered Success (Cause holds NotOnLink otherwise)
	Informed   Kind = "informed"   // a stateless Information-Request was answered
	GaveUp     Kind = "gave_up"    // an exchange ran out of retransmissions (MRC/MRD)
	// NoBinding: a Reply to Renew or Rebind said NoBinding for the IA of
	// Lease. The client keeps the lease while it is valid and sends a
	// Request for the IA to the answering server (RFC 9915 §18.2.10.1);
	// the event ends nothing.
	NoBinding Kind = "nobinding"
	// DADFailed: the client's duplicate address detection found the
	// address of Lease in use (Cause CauseDAD, Peer the holder when it is
	// a client) and the client kept the lease without declining it, as
	// the Debian clients do (client.Deviations.KeepDADFailed; a real
	// client's address log, sim/realclient/trace): the address is not
	// usable, the client goes on renewing it, and it becomes usable only
	// if the client adds it again and that DAD passes (a Restored event;
	// dhclient and dhcpcd do at each Renew). The event ends nothing.
	DADFailed Kind = "dad_failed"
	// Dropped: the client took the address of Lease off its interface
	// while it still holds the lease, as dhcpcd does at carrier loss
	// (client.Deviations.DropOnLinkChange; a real client's address log,
	// sim/realclient/trace). The address carries no traffic from At; the
	// lease goes on (the client may renew it) until a Restored puts the
	// address back or an event or its valid lifetime ends the lease.
	Dropped Kind = "dropped"
	// Restored: the client put the address of Lease back on its
	// interface: one it had Dropped (dhcpcd once its Confirm, or a later
	// Reply, is answered), or one whose DAD had failed (DADFailed; dhclient
	// and dhcpcd at each Renew). Tentative is how long it then stays in
	// duplicate address detection; a DADFailed within it means that DAD
	// failed too.
	Restored Kind = "restored"
)

// Lab event kinds (emitted by engines).
const (
	ServerStarted   Kind = "server_started"
	ServerKilled    Kind = "server_killed"
	ServerFrozen    Kind = "server_frozen"
	ServerThawed    Kind = "server_thawed"
	ServerRestarted Kind = "server_restarted"
	LinkCut         Kind = "link_cut"
	LinkHealed      Kind = "link_healed"
	LinkImpaired    Kind = "link_impaired"
	RunStarted      Kind = "run_started"
	RunEnded        Kind = "run_ended"
	ClientsJoined   Kind = "clients_joined"   // a join wave started (Detail: how many)
	ClientsLeft     Kind = "clients_left"     // clients told to Release and stop (Detail: how many)
	LinkFlapped     Kind = "link_flapped"     // the clients' link went down and up
	AddressOccupied Kind = "address_occupied" // a foreign host took an address (Detail: which)
	// ClientKind labels client Client as a real client of kind Detail
	// ("dhclient", "dhcpcd", ...; sim/realclient), with its version in
	// Cause. Clients without one are the simulated population. It is the
	// one lab event with Client set.
	ClientKind Kind = "client_kind"
	// ServerLoad is the load the server named Server received: Detail
	// holds how many DHCPv6 messages reached it in the one second of the
	// run that ends at At ([At-1s, At); the last second ends at the run's
	// end), in decimal. One event per server per second with traffic; none
	// for a second in which it received nothing. Both engines record it
	// (compact: a count, not the messages): the virtual engine counts what
	// reaches the server's core, the netns engine what reaches its node's
	// link interface for port 547 (sim/lab/load.go).
	ServerLoad Kind = "server_load"
)

// DNS and Leasequery event kinds (emitted by the netns engine when a
// scenario has dns: or leasequery:; RFC 6853 §7). They are lab events
// (Client -1) unless they say otherwise.
const (
	// DNSTransfer: the lab transferred the zones (AXFR) from the lab's
	// DNS server; Detail holds the number of records, Cause the error when
	// the transfer failed (the DNS server down or not answering). Every
	// sample of the zones is one.
	DNSTransfer Kind = "dns_transfer"
	// DNSAdded and DNSRemoved: a record appeared in or left the zones
	// between two transfers (At: the transfer that saw it). Detail is the
	// owner name (lower case, fully qualified, with the final dot); Cause
	// the RR type (DNSTypeAAAA, DNSTypePTR, DNSTypeDHCID); Lease the
	// address (an AAAA's, or the one a PTR's owner name spells) as a /128,
	// zero for a DHCID; Client the population client whose name it is
	// (HostName), -1 for a PTR or a name no client has. DUID: for a DHCID,
	// its RDATA in hex.
	DNSAdded   Kind = "dns_added"
	DNSRemoved Kind = "dns_removed"
	// DNSUpdate: the DNS server processed an RFC 2136 update (read from
	// its log at the end of the run). Server is the lab name of the DHCP
	// server that sent it ("" when the source is not a server's), Detail
	// the name updated, Cause DNSUpdateOK, DNSUpdateConflict or the RCODE
	// that refused it in lower case ("refused", "notauth", ...).
	DNSUpdate Kind = "dns_update"
	// DNSServerDied: the DNS server's process ended during the run
	// (Detail: its exit status). The run goes on; transfers then fail.
	DNSServerDied Kind = "dns_died"
	// LeasequeryAnswer: the lab's prober asked the server named Server
	// where client Client (DUID) is bound. Cause is LQBound (Lease holds
	// a lease the server named, one event per lease), LQNone (the server
	// knows no binding of the client) or LQNoAnswer (no answer in time,
	// or an error: Detail says); Detail otherwise names how it was asked
	// (LQByUDP, LQByControl, LQByFile). A server that is down or frozen is
	// not asked.
	LeasequeryAnswer Kind = "lq_answer"
	// LeasequeryRound: the prober started a round; Detail lists the
	// servers it asks (the live ones), comma-separated, "" for none.
	LeasequeryRound Kind = "lq_round"
)

// RR types in DNSAdded and DNSRemoved's Cause.
const (
	DNSTypeAAAA  = "AAAA"
	DNSTypePTR   = "PTR"
	DNSTypeDHCID = "DHCID"
)

// Outcomes of a DNSUpdate (Cause).
const (
	DNSUpdateOK = "ok"
	// DNSUpdateConflict: the update's DHCID prerequisite failed: the name
	// belongs to another client (RFC 4703 §5.3.2), so nothing changed.
	DNSUpdateConflict = "conflict"
)

// Leasequery answers (LeasequeryAnswer's Cause) and how a server was asked
// (its Detail).
const (
	LQBound    = "bound"
	LQNone     = "none"
	LQNoAnswer = "no_answer"

	LQByUDP     = "rfc5007"    // a LEASEQUERY message (RFC 5007) to port 547
	LQByControl = "lease_cmds" // Kea's control socket, lease_cmds hook (lease6-get-by-duid)
	LQByFile    = "lease-file" // the server's own lease file, read while it runs
)

// HostName is the host name simulated client i sends in its Client FQDN
// option (RFC 4704 §4.2, a partial name the server completes with its
// zone): "h" and the index, so that a DNS name maps back to its client.
func HostName(i int) string { return "h" + strconv.Itoa(i) }

// ClientOfHost returns the client index a name made by HostName spells,
// given its first label; ok is false for any other label.
func ClientOfHost(label string) (int, bool) {
	if len(label) < 2 || label[0] != 'h' || label[1] < '0' || label[1] > '9' || (label[1] == '0' && len(label) > 2) {
		return 0, false
	}
	i, err := strconv.Atoi(label[1:])
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}

// IA types of a lease.
const (
	IANA = "na"
	IAPD = "pd"
)

// Causes for Refused (and other events that need one).
const (
	CauseNoBinding    = "nobinding"
	CauseZeroLifetime = "zero"
	CauseNoAddrsAvail = "noaddrsavail"
	CauseNotOnLink    = "notonlink"
	// CauseDAD on Declined and DADFailed: the client's duplicate address
	// detection (RFC 4862 §5.4) found the address in use; Peer names the
	// holder.
	CauseDAD = "dad"
	// CauseOldKept on Renumbered: the Reply gave a new lease without
	// mentioning Old, so the client keeps Old until its own valid
	// lifetime ends or a later event ends it (RFC 9915 §18.2.10.1:
	// "leave unchanged" the leases a Reply does not include). Without it,
	// Renumbered ends Old at At.
	CauseOldKept = "kept"
)

// Event is one line of a history. Client events fill Client, DUID and,
// where a lease is involved, IA, IAID, Lease and the lifetimes; Server is
// the granting or answering server's DUID in hex. Lab events fill Server
// with the server's lab name and leave the client fields zero.
type Event struct {
	At     time.Time `json:"at"`
	Kind   Kind      `json:"kind"`
	Client int       `json:"client"`           // index of the client in its population
	DUID   string    `json:"duid,omitempty"`   // client DUID, hex
	Server string    `json:"server,omitempty"` // server DUID (hex) for client events, server name for lab events

	IA        string        `json:"ia,omitempty"` // "na" or "pd"
	IAID      uint32        `json:"iaid,omitempty"`
	Lease     netip.Prefix  `json:"lease,omitzero"` // address as a /128, or delegated prefix
	Old       netip.Prefix  `json:"old,omitzero"`   // previous lease, for Renumbered
	T1        time.Duration `json:"t1,omitempty"`   // lifetimes as granted (JSON: nanoseconds)
	T2        time.Duration `json:"t2,omitempty"`
	Preferred time.Duration `json:"preferred,omitempty"`
	Valid     time.Duration `json:"valid,omitempty"`
	// Tentative, on Bound and Renumbered of an IA_NA address the client
	// did not hold before, and on Restored: how long after At the address
	// stays tentative while duplicate address detection runs (RFC 4862
	// §5.4), unusable for traffic. 0: usable at once (DAD off, or a
	// delegated prefix).
	Tentative time.Duration `json:"tentative,omitempty"`
	// Peer, on Declined with Cause dad: the index of the population
	// client whose address DAD found; nil when the holder is a host
	// outside the population (an occupy action).
	Peer *int `json:"peer,omitempty"`

	Cause  string `json:"cause,omitempty"`
	Detail string `json:"detail,omitempty"`

	// Renewals and Extended, in a history that merges renewals
	// (Log.AppendMerging; `d6lab run --engine virtual --history
	// merge-renewals`), on a Bound, Renewed, Rebound or Renumbered (its
	// new lease): how many later
	// Renewed events of the same binding were merged into this event
	// instead of being appended, and the time of the last of them, from
	// which the lease's valid lifetime then runs. A merged renewal
	// changed nothing but the time (same client, DUID, server, IA, IAID,
	// lease and lifetimes; no other event of the client and no lab event
	// but a load sample since). 0 and zero in a history of every event.
	Renewals int       `json:"renewals,omitempty"`
	Extended time.Time `json:"extended,omitzero"`
}
