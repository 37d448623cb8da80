package history

import (
	"net/netip"
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
)

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

	Cause  string `json:"cause,omitempty"`
	Detail string `json:"detail,omitempty"`
}
