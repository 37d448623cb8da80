package daemon

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"d6lab/deploy"
	"d6lab/server/lease"
)

// keaAdapter runs ISC Kea's kea-dhcp6 with a memfile lease database in the
// instance's directory.
type keaAdapter struct{}

func init() { register(keaAdapter{}) }

var keaVersion VersionCache

func (keaAdapter) Kind() deploy.Kind { return deploy.Kea }
func (keaAdapter) Installed() error  { return installed(KeaBinary, "kea-dhcp6-server") }
func (keaAdapter) Version() string {
	return keaVersion.Get(func(out string) string {
		if v := FirstLine(out); v != "" {
			return "kea-dhcp6 " + v
		}
		return ""
	}, KeaBinary, "-v")
}

// KeaLeaseFile is the memfile lease file's name in the instance directory.
const KeaLeaseFile = "kea-leases6.csv"

func (keaAdapter) Prepare(spec Spec) (*Instance, error) {
	if err := checkMAC(deploy.Kea, spec); err != nil {
		return nil, err
	}
	ranges, err := poolRanges(spec)
	if err != nil {
		return nil, fmt.Errorf("daemon: kea: %w", err)
	}
	c := spec.Config
	t1, t2, pref, valid, notes := lifetimes(spec)
	leases := filepath.Join(spec.Dir, KeaLeaseFile)
	duid := duidLL(spec.MAC)

	subnet := map[string]any{
		"id":        1,
		"subnet":    c.Prefix.Masked().String(),
		"interface": spec.IfName,
		"pools":     keaPools(ranges),
		// RFC 9915 §21.8: sent in every Advertise, asked for or not.
		"option-data": []any{map[string]any{
			"name": "preference", "data": strconv.Itoa(int(c.Preference)), "always-send": true,
		}},
		"rapid-commit": c.RapidCommit,
	}
	if !c.PDPool.IsZero() {
		base := c.PDPool.Base()
		subnet["pd-pools"] = []any{map[string]any{
			"prefix":        base.Addr().String(),
			"prefix-len":    base.Bits(),
			"delegated-len": c.PDPool.Delegated(),
		}}
	}
	dhcp6 := map[string]any{
		"interfaces-config": map[string]any{"interfaces": keaInterfaces(spec)},
		"data-directory":    spec.Dir,
		// A DUID-LL of spec.MAC: stable across restarts and wipes, and
		// never written to a file (persist false).
		"server-id": map[string]any{
			"type": "LL", "htype": 1, "identifier": strings.ReplaceAll(hexColon(spec.MAC), ":", ""), "persist": false,
		},
		"lease-database": map[string]any{
			"type": "memfile", "persist": true, "name": leases, "lfc-interval": 0,
		},
		"renew-timer":        t1,
		"rebind-timer":       t2,
		"preferred-lifetime": pref,
		"valid-lifetime":     valid,
		"subnet6":            []any{subnet},
		// Multi-threaded packet processing, which Kea 2.4 and later turn
		// on by default and 2.2 does not: one thread per core (0: auto),
		// a queue of 256 packets. `d6lab bench --search` against Kea
		// 2.2.0 here, three runs each, alternating: 6,747 / 6,998 /
		// 7,247 exchanges/s single-threaded, 7,998 / 7,747 / 10,496/s
		// with this.
		"multi-threading": map[string]any{
			"enable-multi-threading": true, "thread-pool-size": 0, "packet-queue-size": 256,
		},
		// WARN, not Kea's usual INFO: at INFO Kea writes two log lines
		// per exchange (DHCP6_LEASE_ADVERT, DHCP6_LEASE_ALLOC), a cost
		// a tuned deployment does not pay and d6lab's history and pcap
		// make redundant.
		"loggers": []any{map[string]any{
			"name": "kea-dhcp6", "severity": "WARN",
			"output_options": []any{map[string]any{"output": "stdout"}},
		}},
	}
	if c.InfoRefresh > 0 {
		irt, _ := seconds(c.InfoRefresh)
		dhcp6["option-data"] = []any{map[string]any{"name": "information-refresh-time", "data": strconv.FormatInt(irt, 10)}}
		notes = append(notes, "information-refresh-time is sent only to clients that name it in their Option Request option (RFC 9915 §21.23 makes them ask)")
	}
	b, err := json.MarshalIndent(map[string]any{"Dhcp6": dhcp6}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("daemon: kea: %w", err)
	}
	conf := filepath.Join(spec.Dir, "kea-dhcp6.conf")
	if err := writeFile(spec.Dir, conf, string(b)+"\n"); err != nil {
		return nil, err
	}
	notes = append(notes, keaNotes(spec)...)
	return &Instance{
		Spec: spec,
		Argv: []string{KeaBinary, "-c", conf},
		Env: []string{
			"KEA_PIDFILE_DIR=" + spec.Dir,
			"KEA_LOCKFILE_DIR=" + spec.Dir,
			"KEA_LFC_EXECUTABLE=" + KeaLFCBinary,
		},
		Config:    conf,
		LeaseFile: leases,
		DUID:      duid,
		Notes:     notes,
	}, nil
}

// keaInterfaces names spec's interface, and with it its first global
// address: Kea binds to the link-local address and ff02::1:2 only, unless
// told one unicast address ("if/addr"), which a relay's Relay-forward
// messages are sent to.
func keaInterfaces(spec Spec) []string {
	ifs := []string{spec.IfName}
	for _, a := range spec.Addrs {
		if a.Addr().Is6() && !a.Addr().IsLinkLocalUnicast() {
			return append(ifs, spec.IfName+"/"+a.Addr().String())
		}
	}
	return ifs
}

func keaNotes(spec Spec) []string {
	c := spec.Config
	var n []string
	if c.Allocator != "sequential" {
		n = append(n, fmt.Sprintf("allocator %q not honoured: Kea 2.2 has only its iterative allocator (the next free address after the last one given, like sequential)", c.Allocator))
	}
	return append(n,
		fmt.Sprintf("rebind policy %q not settable: Kea's own behaviour applies (for a binding it does not hold it makes a new one, returning the old address with lifetimes 0 when it is not its own: like create)", c.Rebind))
}

func (keaAdapter) Leases(i *Instance) ([]lease.Binding, error) {
	f, err := os.Open(i.LeaseFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil // no client yet: Kea writes the file on the first lease
		}
		return nil, fmt.Errorf("daemon: kea leases: %w", err)
	}
	defer f.Close()
	return parseKeaLeases(f, i.Spec.Config.T1, i.Spec.Config.T2)
}

// parseKeaLeases reads a Kea memfile lease6 CSV (header address, duid,
// valid_lifetime, expire, subnet_id, pref_lifetime, lease_type, iaid,
// prefix_len, ..., state, ...). The file is a journal: a later row for the
// same lease replaces an earlier one, and a row with valid lifetime 0 (a
// release) or state other than 0 (declined, expired-reclaimed) removes it.
// Kea does not write T1 and T2; t1 and t2 fill them.
func parseKeaLeases(r io.Reader, t1, t2 time.Duration) ([]lease.Binding, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("daemon: kea leases: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"address", "duid", "valid_lifetime", "expire", "pref_lifetime", "lease_type", "iaid", "prefix_len"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("daemon: kea leases: header lacks %q", need)
		}
	}
	type key struct {
		addr string
		t    lease.IAType
	}
	var order []key
	byKey := map[key]lease.Binding{}
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("daemon: kea leases: line %d: %w", line, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		bad := func(field string, err error) error {
			return fmt.Errorf("daemon: kea leases: line %d: %s %q: %v", line, field, get(field), err)
		}
		var t lease.IAType
		switch get("lease_type") {
		case "0":
			t = lease.NA
		case "2":
			t = lease.PD
		default:
			continue // temporary addresses (1) are not bindings the lab tracks
		}
		addr, err := netip.ParseAddr(get("address"))
		if err != nil {
			return nil, bad("address", err)
		}
		plen, err := strconv.Atoi(get("prefix_len"))
		if err != nil || plen < 0 || plen > 128 {
			return nil, bad("prefix_len", err)
		}
		if t == lease.NA {
			plen = 128
		}
		duid, err := parseHexColon(get("duid"))
		if err != nil {
			return nil, bad("duid", err)
		}
		iaid, err := strconv.ParseUint(get("iaid"), 10, 32)
		if err != nil {
			return nil, bad("iaid", err)
		}
		valid, err := strconv.ParseInt(get("valid_lifetime"), 10, 64)
		if err != nil {
			return nil, bad("valid_lifetime", err)
		}
		pref, err := strconv.ParseInt(get("pref_lifetime"), 10, 64)
		if err != nil {
			return nil, bad("pref_lifetime", err)
		}
		expire, err := strconv.ParseInt(get("expire"), 10, 64)
		if err != nil {
			return nil, bad("expire", err)
		}
		k := key{addr.String(), t}
		if _, seen := byKey[k]; !seen {
			order = append(order, k)
		}
		if valid == 0 || (get("state") != "" && get("state") != "0") {
			byKey[k] = lease.Binding{} // gone; the slot keeps the order
			continue
		}
		exp := time.Unix(expire, 0).UTC()
		byKey[k] = lease.Binding{
			DUID: duid, IAID: uint32(iaid), Type: t,
			Lease: netip.PrefixFrom(addr, plen),
			T1:    t1, T2: t2,
			Preferred: time.Duration(pref) * time.Second,
			Valid:     time.Duration(valid) * time.Second,
			Granted:   exp.Add(-time.Duration(valid) * time.Second),
			Expires:   exp,
		}
	}
	var out []lease.Binding
	for _, k := range order {
		if b := byKey[k]; len(b.DUID) > 0 {
			out = append(out, b)
		}
	}
	return out, nil
}

func (keaAdapter) Wipe(i *Instance, _ bool) error {
	// The DUID is in the configuration (server-id, persist false), never
	// in a file: keepDUID changes nothing. Memfile may leave its LFC
	// companions (.1, .2, .completed) beside the lease file.
	for _, suffix := range []string{"", ".1", ".2", ".completed"} {
		if err := removeIfExists(i.LeaseFile + suffix); err != nil {
			return err
		}
	}
	return nil
}

// keaPools renders the pool's ranges as Kea's subnet6 "pools".
func keaPools(ranges []addrRange) []any {
	pools := make([]any, len(ranges))
	for i, r := range ranges {
		pools[i] = map[string]any{"pool": r.first.String() + " - " + r.last.String()}
	}
	return pools
}
