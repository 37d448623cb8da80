package leasequery

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"d6lab/server/lease"
)

// Kea's control channel (the lease_cmds hook library, Kea ARM "lease_cmds:
// Lease Commands"): the command lease6-get-by-duid returns every IPv6
// lease of a DUID. Over the UNIX socket of kea-dhcp6 itself (not the
// Control Agent) the answer is one JSON object {"result", "text",
// "arguments": {"leases": [...]}}; the server closes the connection
// after it.

// Kea's command result codes (Kea ARM "Management API": CONTROL_RESULT_*).
const (
	keaSuccess = 0
	keaEmpty   = 3 // the command found nothing: no lease of that DUID
)

// Kea's lease states (Kea ARM, lease_cmds: "state": 0 default, 1
// declined, 2 expired-reclaimed).
const keaStateDefault = 0

// KeaCommand is the lease6-get-by-duid command for the client with raw
// DUID duid (Kea writes DUIDs as colon-separated hex octets).
func KeaCommand(duid []byte) []byte {
	h := make([]string, len(duid))
	for i, b := range duid {
		h[i] = hex.EncodeToString([]byte{b})
	}
	cmd := map[string]any{
		"command":   "lease6-get-by-duid",
		"arguments": map[string]string{"duid": strings.Join(h, ":")},
	}
	b, err := json.Marshal(cmd)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return b
}

type keaResponse struct {
	Result    *int   `json:"result"`
	Text      string `json:"text"`
	Arguments struct {
		Leases []keaLease `json:"leases"`
	} `json:"arguments"`
}

type keaLease struct {
	Address   string `json:"ip-address"`
	PrefixLen *int   `json:"prefix-len"`
	Type      string `json:"type"`
	DUID      string `json:"duid"`
	CLTT      int64  `json:"cltt"`
	Valid     int64  `json:"valid-lft"`
	Preferred int64  `json:"preferred-lft"`
	State     int    `json:"state"`
}

// ParseKea reads Kea's answer b to KeaCommand(duid) at now: result 0 gives
// the leases that are still bound at now (state default and cltt +
// valid-lft after now; Kea keeps a lease past its expiry until it
// reclaims it), result 3 none; any other result is an error with Kea's
// text. The answer may come as the object kea-dhcp6 sends or as the
// one-element list the Control Agent sends.
func ParseKea(b []byte, duid []byte, now time.Time) ([]Lease, error) {
	b = bytes.TrimSpace(b)
	var r keaResponse
	if len(b) > 0 && b[0] == '[' {
		var rs []keaResponse
		if err := json.Unmarshal(b, &rs); err != nil {
			return nil, fmt.Errorf("leasequery: kea: answer is not JSON: %v", err)
		}
		if len(rs) != 1 {
			return nil, fmt.Errorf("leasequery: kea: %d answers in the list, want 1", len(rs))
		}
		r = rs[0]
	} else if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("leasequery: kea: answer is not JSON: %v", err)
	}
	if r.Result == nil {
		return nil, fmt.Errorf("leasequery: kea: answer without a result: %.200s", b)
	}
	switch *r.Result {
	case keaEmpty:
		return nil, nil
	case keaSuccess:
	default:
		return nil, fmt.Errorf("leasequery: kea: lease6-get-by-duid failed, result %d: %s", *r.Result, r.Text)
	}
	var out []Lease
	for _, l := range r.Arguments.Leases {
		if d := strings.ReplaceAll(l.DUID, ":", ""); d != "" && !strings.EqualFold(d, hex.EncodeToString(duid)) {
			return nil, fmt.Errorf("leasequery: kea: a lease of DUID %s in the answer about %s", l.DUID, hex.EncodeToString(duid))
		}
		if l.State != keaStateDefault {
			continue
		}
		expires := time.Unix(l.CLTT+l.Valid, 0)
		if !now.Before(expires) {
			continue
		}
		a, err := netip.ParseAddr(l.Address)
		if err != nil {
			return nil, fmt.Errorf("leasequery: kea: lease address %q: %v", l.Address, err)
		}
		x := Lease{Type: lease.NA, Prefix: netip.PrefixFrom(a, 128)}
		switch l.Type {
		case "IA_NA":
		case "IA_PD":
			if l.PrefixLen == nil || *l.PrefixLen < 0 || *l.PrefixLen > 128 {
				return nil, fmt.Errorf("leasequery: kea: IA_PD lease %s without a valid prefix-len", l.Address)
			}
			x.Type, x.Prefix = lease.PD, netip.PrefixFrom(a, *l.PrefixLen)
		default:
			continue // IA_TA and the like: not a binding the lab makes
		}
		x.Valid = expires.Sub(now).Truncate(time.Second)
		x.Preferred = max(0, time.Unix(l.CLTT+l.Preferred, 0).Sub(now).Truncate(time.Second))
		out = append(out, x)
	}
	return out, nil
}

// Kea sends KeaCommand(duid) to the control socket at path and parses the
// answer (ParseKea at the time it arrived). The whole exchange, connect
// included, is bounded by timeout.
func Kea(path string, duid []byte, timeout time.Duration) ([]Lease, error) {
	deadline := time.Now().Add(timeout)
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, fmt.Errorf("leasequery: kea: %w", err)
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("leasequery: kea: %w", err)
	}
	if _, err := c.Write(KeaCommand(duid)); err != nil {
		return nil, fmt.Errorf("leasequery: kea: send to %s: %w", path, err)
	}
	// One JSON value is the answer, whether or not Kea has closed the
	// connection yet.
	var raw json.RawMessage
	if err := json.NewDecoder(c).Decode(&raw); err != nil {
		return nil, fmt.Errorf("leasequery: kea: read the answer from %s: %w", path, err)
	}
	return ParseKea(raw, duid, time.Now())
}
