package client

// DropReason says why a received message was discarded.
type DropReason uint8

// Reasons a client drops a message silently (RFC 9915 §16 and §18.2.9).
const (
	DropIdle     DropReason = iota // no exchange is waiting for an answer
	DropXID                        // transaction ID differs from the running exchange's (§16.1)
	DropType                       // not the message type the exchange waits for
	DropClientID                   // Client Identifier missing or not ours (§16.3, §16.10)
	DropServerID                   // Server Identifier missing (§16.3, §16.10)
	DropNoAddrs                    // Advertise (or Rapid Commit Reply) with no usable lease, or NoAddrsAvail (§18.2.9)
	DropStatus                     // Reply whose status asks the client to keep retransmitting (UnspecFail, ...) (§18.2.10)
	NumDropReasons
)

var dropNames = [NumDropReasons]string{"idle", "xid", "type", "clientid", "serverid", "noaddrs", "status"}

func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return "drop(?)"
}

// Drops counts dropped messages by reason.
type Drops [NumDropReasons]uint64

// Total is the sum over all reasons.
func (d Drops) Total() uint64 {
	var t uint64
	for _, n := range d {
		t += n
	}
	return t
}

// AddTo adds the non-zero counts to m under the reasons' names.
func (d Drops) AddTo(m map[string]uint64) {
	for i, n := range d {
		if n != 0 {
			m[DropReason(i).String()] += n
		}
	}
}
