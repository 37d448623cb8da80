package wire

// MessageType is a DHCPv6 message type (RFC 9915 §7.3).
type MessageType uint8

// The message types on the fast path (RFC 9915 §7.3). Decode returns
// ErrNotFastPath for any other.
const (
	Solicit      MessageType = 1
	Advertise    MessageType = 2
	Request      MessageType = 3
	Renew        MessageType = 5
	Rebind       MessageType = 6
	Reply        MessageType = 7
	Release      MessageType = 8
	RelayForward MessageType = 12
	RelayReply   MessageType = 13
)

// FastPath reports whether Decode handles messages of type t: the client
// and server messages above, or a relay message around them.
func FastPath(t MessageType) bool {
	switch t {
	case Solicit, Advertise, Request, Renew, Rebind, Reply, Release, RelayForward, RelayReply:
		return true
	}
	return false
}

// IsRelay reports whether t is Relay-forward or Relay-reply (§9).
func (t MessageType) IsRelay() bool { return t == RelayForward || t == RelayReply }

// Option codes (RFC 9915 §24, RFC 4704 for the Client FQDN) that Message
// interprets; every other option lands in an Other list.
const (
	OptClientID     uint16 = 1  // §21.2
	OptServerID     uint16 = 2  // §21.3
	OptIANA         uint16 = 3  // §21.4
	OptIATA         uint16 = 4  // §21.5 (kept raw, validated)
	OptIAAddr       uint16 = 5  // §21.6
	OptORO          uint16 = 6  // §21.7
	OptPreference   uint16 = 7  // §21.8
	OptElapsedTime  uint16 = 8  // §21.9
	OptRelayMsg     uint16 = 9  // §21.10
	OptStatusCode   uint16 = 13 // §21.13
	OptRapidCommit  uint16 = 14 // §21.14
	OptInterfaceID  uint16 = 18 // §21.18
	OptReconfAccept uint16 = 20 // §21.20
	OptIAPD         uint16 = 25 // §21.21
	OptIAPrefix     uint16 = 26 // §21.22
	OptFQDN         uint16 = 39 // RFC 4704 §4
)

// MaxRelayDepth is how many Relay-forward or Relay-reply levels Decode
// unwraps; a deeper message is ErrNotFastPath. RFC 9915 §7.6 sets
// HOP_COUNT_LIMIT to 8, so a server can be handed at most nine levels
// (hop-counts 0 to 8); 32 is RFC 3315's HOP_COUNT_LIMIT, room for any
// message a server of either generation can accept.
const MaxRelayDepth = 32

// Option is an option the Message does not interpret: its code and its
// value (option-len bytes, RFC 9915 §21.1). A decoded Value aliases the
// input.
type Option struct {
	Code  uint16
	Value []byte
}

// Status is a Status Code option (RFC 9915 §21.13).
type Status struct {
	// Present is false when the container had no Status Code option.
	Present bool
	Code    uint16
	// Message is the UTF-8 status-message (aliases the input).
	Message []byte
}

// Lease is an IA Address option (§21.6) inside an IA_NA or an IA Prefix
// option (§21.22) inside an IA_PD.
type Lease struct {
	// Addr is the IPv6 address, or the prefix's address.
	Addr [16]byte
	// Bits is the prefix-length of an IA Prefix (0 to 255 as received;
	// RFC 9915 §21.22 allows 0 to 128); 0 in an IA Address.
	Bits      uint8
	Preferred uint32 // preferred-lifetime, seconds
	Valid     uint32 // valid-lifetime, seconds
	// Status is the option's own first Status Code option.
	Status Status
	// Other holds the rest of its options in order.
	Other []Option

	oLo, oHi int
}

// IA is an IA_NA (§21.4) or IA_PD (§21.21).
type IA struct {
	IAID   uint32
	T1, T2 uint32 // seconds
	// Leases holds its IA Address (IA_NA) or IA Prefix (IA_PD) options in
	// order.
	Leases []Lease
	// Status is the IA's first Status Code option.
	Status Status
	// Other holds the rest of its options in order (a second Status Code,
	// an IA Prefix inside an IA_NA, ...).
	Other []Option

	lLo, lHi, oLo, oHi int
}

// Relay is one Relay-forward or Relay-reply level (RFC 9915 §9).
type Relay struct {
	Type     MessageType
	HopCount uint8
	LinkAddr [16]byte
	PeerAddr [16]byte
	// InterfaceID is the Interface-Id option's value (§21.18), valid when
	// HasInterfaceID.
	InterfaceID    []byte
	HasInterfaceID bool
	// Other holds the level's other options in order (Remote-ID, Relay-ID,
	// Relay Source Port, ...), not its Relay Message option, whose content
	// is the next level or the Message itself.
	Other []Option

	oLo, oHi int
}

// Option returns the value of the first option with code among r.Other.
func (r *Relay) Option(code uint16) ([]byte, bool) { return find(r.Other, code) }

// Message is a DHCPv6 message on the fast path, decoded in place: Decode
// fills it, reusing its slices, so a Message kept for the next datagram
// decodes without allocating. Byte slices alias the decoded input, so the
// input must outlive their use.
//
// A relayed message is its Relays, outermost first, around the innermost
// client or server message, whose fields are the rest of the struct.
//
// Options that may occur once are interpreted from their first instance;
// a second instance of any of them goes to Other, so nothing received is
// dropped.
type Message struct {
	Relays []Relay

	Type MessageType
	// TransactionID is the 24-bit transaction-id (§8).
	TransactionID uint32

	// ClientID and ServerID are the raw DUIDs (§11) of the Client and
	// Server Identifier options, nil when absent (a DUID has at least its
	// 2-octet type, so present is never empty).
	ClientID, ServerID []byte

	// ORO lists the Option Request option's codes (§21.7), valid when
	// HasORO: every ORO's codes in order, a code repeated within one ORO
	// once (as insomniacslk reads them).
	ORO    []uint16
	HasORO bool

	// ElapsedTime is the Elapsed Time option (§21.9) in hundredths of a
	// second, valid when HasElapsedTime.
	ElapsedTime    uint16
	HasElapsedTime bool

	// Preference is the Preference option (§21.8), valid when
	// HasPreference.
	Preference    uint8
	HasPreference bool

	RapidCommit       bool // a Rapid Commit option (§21.14) is present
	ReconfigureAccept bool // a Reconfigure Accept option (§21.20) is present

	// Status is the message's first Status Code option.
	Status Status

	IANA []IA
	IAPD []IA

	// FQDN is the Client FQDN option's raw value (RFC 4704 §4: flags,
	// then the domain name), nil when absent (present is never empty).
	FQDN []byte

	// Other holds every other top-level option in order.
	Other []Option

	// Pools reused across Decode calls; the exported slices above are
	// windows on them.
	leases               []Lease
	msgOther, relayOther []Option
	iaOther, leaseOther  []Option
	oro                  []uint16
	seen                 *[1 << 10]uint64 // appendORO's bitset, all zero between calls
}

// Option returns the value of the first option with code among m.Other.
func (m *Message) Option(code uint16) ([]byte, bool) { return find(m.Other, code) }

// Requested reports whether the ORO asks for code.
func (m *Message) Requested(code uint16) bool {
	for _, c := range m.ORO {
		if c == code {
			return true
		}
	}
	return false
}

// Reset empties m for building a message, keeping its slices' storage.
func (m *Message) Reset() {
	*m = Message{
		Relays:     m.Relays[:0],
		IANA:       m.IANA[:0],
		IAPD:       m.IAPD[:0],
		Other:      m.msgOther[:0],
		leases:     m.leases[:0],
		msgOther:   m.msgOther[:0],
		relayOther: m.relayOther[:0],
		iaOther:    m.iaOther[:0],
		leaseOther: m.leaseOther[:0],
		oro:        m.oro[:0],
		seen:       m.seen,
	}
}

func find(opts []Option, code uint16) ([]byte, bool) {
	for _, o := range opts {
		if o.Code == code {
			return o.Value, true
		}
	}
	return nil, false
}
