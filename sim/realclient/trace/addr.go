package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// AddrChange is one change of an address on a real client's interface as
// the kernel reported it over netlink (RTM_NEWADDR, RTM_DELADDR), recorded
// by the lab while the client runs and written one JSON object per line
// (WriteAddrs, ReadAddrs).
type AddrChange struct {
	At     time.Time    `json:"at"`
	Prefix netip.Prefix `json:"prefix"` // the address with its prefix length as configured
	// Deleted: RTM_DELADDR, the address is gone (expired, removed by the
	// client, or after DAD failed).
	Deleted bool `json:"deleted,omitempty"`
	// Kernel flags (IFA_F_*) at this change: Tentative while DAD runs
	// (RFC 4862 §5.4), DADFailed once DAD found a duplicate, Deprecated
	// once the preferred lifetime ran out.
	Tentative  bool `json:"tentative,omitempty"`
	DADFailed  bool `json:"dadfailed,omitempty"`
	Deprecated bool `json:"deprecated,omitempty"`
	// Remaining lifetimes (IFA_CACHEINFO); Forever for an infinite one.
	Preferred time.Duration `json:"preferred,omitempty"`
	Valid     time.Duration `json:"valid,omitempty"`
}

// Forever is a lifetime the kernel holds as infinite (0xffffffff s).
const Forever = time.Duration(-1)

// WriteAddrs writes changes one JSON object per line.
func WriteAddrs(w io.Writer, changes ...AddrChange) error {
	enc := json.NewEncoder(w)
	for _, c := range changes {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	return nil
}

// ReadAddrs reads what WriteAddrs wrote; a malformed line is an error
// naming its number.
func ReadAddrs(r io.Reader) ([]AddrChange, error) {
	var out []AddrChange
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var c AddrChange
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("trace: address log line %d: %w", line, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}
