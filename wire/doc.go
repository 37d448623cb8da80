// Package wire decodes and encodes the DHCPv6 messages on d6lab's hot path
// without allocating: Solicit, Advertise, Request, Renew, Rebind, Reply
// and Release (RFC 9915 §7.3), bare or inside Relay-forward and
// Relay-reply levels (§9), up to MaxRelayDepth of them.
//
// In the style of gopacket's DecodingLayer, a Message is decoded in place
// and kept for the next datagram:
//
//	var m wire.Message
//	err := m.Decode(b) // m's byte slices alias b
//	out, err := m.AppendTo(buf[:0])
//
// Decode reuses m's slices (relays, IAs, leases, the ORO, the lists of
// other options), so once they have grown to the traffic's shape it
// allocates nothing; option values are sub-slices of the input. AppendTo
// allocates nothing when its buffer has room. The specs prove both with
// testing.AllocsPerRun for each message type and for a relayed Request.
//
// Message interprets the fields the builtin server and the clients read:
// the message type and transaction ID; Client and Server Identifier (raw
// DUIDs); the ORO; Elapsed Time; Rapid Commit; Preference; Status Code;
// Reconfigure Accept; IA_NA with its IA Addresses and IA_PD with its IA
// Prefixes, each with lifetimes and own Status Code; the Client FQDN (raw,
// RFC 4704); and for each relay level its hop-count, link and peer
// addresses and Interface-Id. Every other option is kept as a raw (code,
// value) in an Other list of its container, so nothing received is lost.
//
// # Agreement with insomniacslk/dhcp
//
// insomniacslk/dhcp stays the reference and the path for everything else.
// Decode accepts exactly the messages dhcpv6.FromBytes accepts and reads
// the same values from them, or returns ErrNotFastPath, which means "ask
// the general decoder" and is never a disagreement. FuzzDecodeDifferential
// holds the two to that: the same bytes to both, every field compared.
// So Decode is strict exactly where insomniacslk is:
//
//   - every option list must be filled exactly by options (§21.1): 1 to 3
//     trailing octets, or a length past the container's end, reject the
//     message;
//   - every option insomniacslk knows is checked wherever it occurs, even
//     the ones wire keeps raw (validate.go): fixed parts (IA_NA and IA_PD
//     12 octets, IA_TA 4, IA Address 24, IA Prefix 25, Status Code 2,
//     Remote-ID 4, ...), exact lengths (Elapsed Time 2, Preference 1,
//     Information Refresh Time 4, Relay Source Port 2, ...), multiples
//     (ORO 2, DNS and SNTP servers 16), DUID fixed parts, domain names
//     (Client FQDN, Domain Search List) as insomniacslk's rfc1035label
//     reads them, and length-prefixed lists (User and Vendor Class);
//   - options insomniacslk does not know pass with any length, and so do
//     Rapid Commit and Reconfigure Accept, which RFC 9915 §21.14 and
//     §21.20 give length 0: insomniacslk reads them as generic options.
//     Neither checks a DUID's upper bound (128 octets after the type,
//     §11.1).
//
// Where they differ, Decode says ErrNotFastPath rather than disagree:
// relays nested deeper than MaxRelayDepth (insomniacslk recurses without
// bound), a relay level without a Relay Message option (insomniacslk
// accepts it; the server then drops it) or with two, a Relay Message
// option anywhere but in a relay, options nested more than 8 deep,
// and the DHCPv4-message (RFC 7341) and 4RD (RFC 7600) options, whose
// formats wire does not check. Values read differ in representation
// only: an IA Prefix keeps its prefix-length and address as received
// where insomniacslk drops the address of a length-0 prefix; lifetimes
// and the elapsed time stay integers.
//
// Where an option that may occur once occurs again, Message interprets
// the first, as insomniacslk's accessors do, and keeps the others in
// Other; the ORO is the exception: like insomniacslk's RequestedOptions,
// Message.ORO merges every ORO received, and like its ORO parser it keeps
// a code repeated within one ORO once (in linear time where insomniacslk's
// is quadratic). AppendTo writes the ORO so that Decode reads it back
// unchanged (a second ORO option where a code repeats).
//
// Found by fuzzing and now seeds: a code repeated within one ORO
// (found-oro-repeated-code).
//
// The package is a leaf: it imports nothing of d6lab and only the
// standard library outside its tests.
package wire
