package wire

import (
	"errors"
	"fmt"
)

// ErrNotFastPath is Decode's answer for a message it leaves to the general
// decoder (insomniacslk/dhcp): a message type not on the fast path, relays
// nested deeper than MaxRelayDepth, a relay level without a Relay Message
// option or with two, a Relay Message option outside a relay, an option
// whose format wire does not check (DHCPv4-message, the 4RD options), or
// options nested more than 8 deep. It says nothing about whether the
// message is well formed.
var ErrNotFastPath = errors.New("wire: not on the fast path")

// ErrTooLong is AppendTo's answer for an option or message whose length
// does not fit its 16-bit length field.
var ErrTooLong = errors.New("wire: option longer than 65535 octets")

// Reason is why Decode rejected a message as malformed.
type Reason uint8

// The reasons, each a rule insomniacslk/dhcp applies too (doc.go).
const (
	// ShortHeader: shorter than the message header (4 octets, §8) or the
	// relay header (34 octets, §9).
	ShortHeader Reason = iota + 1
	// OptionHeader: 1 to 3 octets left where an option header (4 octets,
	// §21.1) should start.
	OptionHeader
	// OptionLength: an option-len running past the end of its container.
	OptionLength
	// ShortOption: an option shorter than its fixed part (IA_NA and IA_PD
	// 12, IA Address 24, IA Prefix 25, Status Code 2, a DUID 2, ...).
	ShortOption
	// BadLength: an option whose length must be exact or a multiple and is
	// not (Elapsed Time 2, Preference 1, an ORO of odd length, ...).
	BadLength
	// BadDUID: a DUID whose type's fixed part is missing (DUID-LLT 8
	// octets, DUID-EN 6, DUID-LL 4, DUID-UUID exactly 18).
	BadDUID
	// BadName: a domain name (RFC 1035 §3.1, as the Client FQDN carries it)
	// with a label past the end or a bad compression pointer.
	BadName
	// BadList: a list of length-prefixed items that does not fill its
	// option exactly, or is empty where it may not be.
	BadList
)

var reasonText = [...]string{
	ShortHeader:  "shorter than its header",
	OptionHeader: "option header cut off",
	OptionLength: "option length past the end of its container",
	ShortOption:  "option shorter than its fixed part",
	BadLength:    "option of the wrong length",
	BadDUID:      "DUID shorter than its type's fixed part",
	BadName:      "malformed domain name",
	BadList:      "malformed list of items",
}

func (r Reason) String() string {
	if int(r) < len(reasonText) && reasonText[r] != "" {
		return reasonText[r]
	}
	return fmt.Sprintf("reason %d", uint8(r))
}

// Error is a malformed message: the rule it broke and the option (code,
// 0 for a header) where. Decode returns it as a value.
type Error struct {
	Reason Reason
	// Option is the code of the option at fault, 0 for a message or relay
	// header.
	Option uint16
}

func (e Error) Error() string {
	if e.Option == 0 {
		return "wire: malformed DHCPv6 message: " + e.Reason.String()
	}
	return fmt.Sprintf("wire: malformed DHCPv6 message: option %d: %s", e.Option, e.Reason)
}

// ErrMalformed matches every Error with errors.Is.
var ErrMalformed = errors.New("wire: malformed DHCPv6 message")

// Is makes errors.Is(err, ErrMalformed) true for every Error.
func (e Error) Is(target error) bool { return target == ErrMalformed }

func malformed(r Reason, code uint16) error { return Error{Reason: r, Option: code} }
