package server

import (
	"fmt"
	"sync/atomic"
)

// DropReason says why a message got no answer.
type DropReason uint8

// Drop reasons. Each names the rule that discards the message.
const (
	// DropMalformed: the datagram does not decode as a DHCPv6 message.
	DropMalformed DropReason = iota
	// DropNotForServer: a message only servers send (Advertise, Reply,
	// Reconfigure, Relay-reply), RFC 9915 §16.3, §16.10, §16.11, §16.14.
	DropNotForServer
	// DropUnknownType: a message type this server does not know, §16.
	DropUnknownType
	// DropHopLimit: relay nesting beyond HOP_COUNT_LIMIT (§7.6, §19.1.2).
	DropHopLimit
	// DropRelayNoMessage: a Relay-forward without a Relay Message option
	// (§21.10).
	DropRelayNoMessage
	// DropNoClientID: no Client Identifier option where one is required
	// (§16.2, §16.4 to §16.9).
	DropNoClientID
	// DropServerID: a Server Identifier option in a Solicit, Confirm or
	// Rebind (§16.2, §16.5, §16.7).
	DropServerID
	// DropNoServerID: no Server Identifier option in a Request, Renew,
	// Decline or Release (§16.4, §16.6, §16.8, §16.9).
	DropNoServerID
	// DropOtherServer: a Server Identifier option that is not this
	// server's (§16.4, §16.6, §16.8, §16.9, §16.12).
	DropOtherServer
	// DropIAInInformationRequest: an IA option in an Information-request
	// (§16.12).
	DropIAInInformationRequest
	// DropUnicast: a client message received by unicast (§16; see
	// UnicastPolicy).
	DropUnicast
	// DropConfirmNoAddresses: a Confirm with no addresses in its IAs
	// (§18.3.3: the server MUST NOT send a Reply).
	DropConfirmNoAddresses
	// DropRebindSilent: a Rebind for IAs without a binding under
	// RebindSilent.
	DropRebindSilent
	// DropRebindEmpty: a Rebind whose Reply would hold no IA (§18.3.5: the
	// server does not send a Reply).
	DropRebindEmpty
	// DropStoreError: the lease store failed.
	DropStoreError
	// DropPanic: a bug recovered while handling the message.
	DropPanic
	// DropLeasequeryNoClientID: a LEASEQUERY without the requestor's
	// Client Identifier option (RFC 5007 §4.2.1).
	DropLeasequeryNoClientID
	// DropLeasequeryOtherServer: a LEASEQUERY with a Server Identifier
	// option that is not this server's (RFC 5007 §4.2.1).
	DropLeasequeryOtherServer
	// DropLeasequeryNoQuery: a LEASEQUERY without an OPTION_LQ_QUERY
	// (RFC 5007 §4.2.1).
	DropLeasequeryNoQuery

	numDropReasons
)

var dropNames = [numDropReasons]string{
	"malformed", "not-for-server", "unknown-type", "hop-limit", "relay-no-message",
	"no-client-id", "server-id", "no-server-id", "other-server", "ia-in-information-request",
	"unicast", "confirm-no-addresses", "rebind-silent", "rebind-empty", "store-error", "panic",
	"lq-no-client-id", "lq-other-server", "lq-no-query",
}

// DropReasons lists every drop reason.
func DropReasons() []DropReason {
	r := make([]DropReason, numDropReasons)
	for i := range r {
		r[i] = DropReason(i)
	}
	return r
}

func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return fmt.Sprintf("DropReason(%d)", uint8(r))
}

// MarshalText implements encoding.TextMarshaler (JSON map keys).
func (r DropReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *DropReason) UnmarshalText(b []byte) error {
	for i, n := range dropNames {
		if n == string(b) {
			*r = DropReason(i)
			return nil
		}
	}
	return fmt.Errorf("server: unknown drop reason %q", b)
}

// Counters is a snapshot of a server's message counters. Received equals
// Answered plus the sum of Dropped.
type Counters struct {
	Received uint64                `json:"received"`
	Answered uint64                `json:"answered"`
	Dropped  map[DropReason]uint64 `json:"dropped,omitempty"` // reasons with a non-zero count
	// WriteErrors counts answers Serve failed to send (they are counted in
	// Answered too).
	WriteErrors uint64 `json:"write_errors,omitempty"`
}

// DroppedTotal is the sum of Dropped.
func (c Counters) DroppedTotal() uint64 {
	var n uint64
	for _, v := range c.Dropped {
		n += v
	}
	return n
}

type counters struct {
	received, answered, writeErrors atomic.Uint64
	dropped                         [numDropReasons]atomic.Uint64
}

func (c *counters) snapshot() Counters {
	s := Counters{
		Received:    c.received.Load(),
		Answered:    c.answered.Load(),
		WriteErrors: c.writeErrors.Load(),
		Dropped:     map[DropReason]uint64{},
	}
	for i := range c.dropped {
		if v := c.dropped[i].Load(); v != 0 {
			s.Dropped[DropReason(i)] = v
		}
	}
	return s
}
