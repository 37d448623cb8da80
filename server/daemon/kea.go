package daemon

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"d6lab/deploy"
	"d6lab/server/lease"
)

// keaAdapter runs ISC Kea's kea-dhcp6 with a memfile lease database in the
// instance's directory and the lease_cmds hook on a control socket
// (Instance.ControlSocket); with DNS (spec.Config.DNS) kea-dhcp-ddns runs
// beside it as a companion and sends the DNS updates.
type keaAdapter struct{}

func init() { register(keaAdapter{}) }

var keaVersion VersionCache

func (keaAdapter) Kind() deploy.Kind { return deploy.Kea }

// Installed checks kea-dhcp6 and its lease_cmds hook, which every instance
// loads; kea-dhcp-ddns is checked by Prepare, for a spec with DNS.
func (keaAdapter) Installed() error {
	if err := installed(KeaBinary, "kea-dhcp6-server"); err != nil {
		return err
	}
	if fi, err := os.Stat(KeaLeaseCmdsHook); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s missing (install the Debian package kea-dhcp6-server)", ErrNotInstalled, KeaLeaseCmdsHook)
	}
	return nil
}

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
	// The lease_cmds hook on a UNIX control socket, with or without DNS:
	// the lab's Leasequery prober asks Kea by client DUID
	// (lease6-get-by-duid) there, Kea 2.2 having no RFC 5007 Leasequery
	// of its own (that hook is ISC's premium package).
	sock := keaControlSocket(spec.Dir)
	if filepath.Dir(sock) == KeaSocketDir {
		if err := os.MkdirAll(KeaSocketDir, 0o755); err != nil {
			return nil, fmt.Errorf("daemon: kea: control socket directory: %w", err)
		}
	}
	conf := filepath.Join(spec.Dir, "kea-dhcp6.conf")
	dhcp6["control-socket"] = map[string]any{"socket-type": "unix", "socket-name": sock}
	dhcp6["hooks-libraries"] = []any{map[string]any{"library": KeaLeaseCmdsHook}}
	inst := &Instance{
		Spec: spec,
		Argv: []string{KeaBinary, "-c", conf},
		Env: []string{
			"KEA_PIDFILE_DIR=" + spec.Dir,
			"KEA_LOCKFILE_DIR=" + spec.Dir,
			"KEA_LFC_EXECUTABLE=" + KeaLFCBinary,
		},
		Config:        conf,
		LeaseFile:     leases,
		DUID:          duid,
		ControlSocket: sock,
	}
	if c.DNS != nil {
		n, err := keaDDNS(spec, dhcp6, inst)
		if err != nil {
			return nil, err
		}
		notes = append(notes, n...)
	}
	b, err := json.MarshalIndent(map[string]any{"Dhcp6": dhcp6}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("daemon: kea: %w", err)
	}
	if err := writeFile(spec.Dir, conf, string(b)+"\n"); err != nil {
		return nil, err
	}
	inst.Notes = append(notes, keaNotes(spec)...)
	return inst, nil
}

// Where Kea's DNS side and its lease commands live (Debian packages).
var (
	KeaDDNSBinary    = "/usr/sbin/kea-dhcp-ddns"                                   // kea-dhcp-ddns-server
	KeaLeaseCmdsHook = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" // kea-dhcp6-server
)

// KeaDDNSPort is where kea-dhcp-ddns (D2) takes kea-dhcp6's
// NameChangeRequests, on the loopback address of the server's namespace
// (::1): Kea's default port, free in a namespace of its own.
const KeaDDNSPort = 53001

// KeaControlSocketName is the control socket's name in the instance
// directory.
const KeaControlSocketName = "kea6-ctrl.sock"

// maxSocketPath is the longest UNIX socket path Linux takes: sun_path's
// 108 bytes less the terminating NUL.
const maxSocketPath = 107

// keaControlSocket is the control socket's path: in dir when it fits a
// UNIX socket address, else a short name under KeaSocketDir made from
// dir's hash (distinct per instance directory). Kea removes a stale
// socket itself at start (it holds "<socket>.lock" while it runs);
// RemoveControlSocket removes one outside dir.
func keaControlSocket(dir string) string {
	p := filepath.Join(dir, KeaControlSocketName)
	if len(p)+len(".lock") <= maxSocketPath {
		return p
	}
	h := sha256.Sum256([]byte(dir))
	return filepath.Join(KeaSocketDir, "kea6-"+hex.EncodeToString(h[:6])+".sock")
}

// KeaSocketDir holds the control sockets whose path in the instance
// directory would be too long (the lab's run directory: /run/d6lab).
var KeaSocketDir = "/run/d6lab"

// RemoveControlSocket removes i's control socket and its lock file when
// they lie outside the instance directory (a short path under
// KeaSocketDir), once the server has stopped; one in the directory goes
// with it. It does nothing for a server without one.
func RemoveControlSocket(i *Instance) error {
	s := i.ControlSocket
	if s == "" || strings.HasPrefix(s, filepath.Clean(i.Spec.Dir)+string(filepath.Separator)) {
		return nil
	}
	return errors.Join(removeIfExists(s), removeIfExists(s+".lock"))
}

// keaTSIGAlgorithms maps an RFC 8945 algorithm name to D2's spelling.
var keaTSIGAlgorithms = map[string]string{
	"hmac-md5.sig-alg.reg.int.": "HMAC-MD5",
	"hmac-sha1.":                "HMAC-SHA1",
	"hmac-sha224.":              "HMAC-SHA224",
	"hmac-sha256.":              "HMAC-SHA256",
	"hmac-sha384.":              "HMAC-SHA384",
	"hmac-sha512.":              "HMAC-SHA512",
}

// keaDDNS turns on DNS updates for spec.Config.DNS: kea-dhcp6 sends a
// NameChangeRequest per lease change to kea-dhcp-ddns (D2) on ::1, and D2,
// rendered here too and added to inst as a companion, sends the RFC 2136
// updates, TSIG-signed, to the DNS server. It returns the notes on where
// Kea differs from the spec.
func keaDDNS(spec Spec, dhcp6 map[string]any, inst *Instance) ([]string, error) {
	d := spec.Config.DNS
	if err := installed(KeaDDNSBinary, "kea-dhcp-ddns-server"); err != nil {
		return nil, fmt.Errorf("daemon: kea with DNS: %w", err)
	}
	if !d.Server.IsValid() || d.Server.Port() == 0 {
		return nil, fmt.Errorf("daemon: kea: DNS server %q: want an address and port", d.Server)
	}
	if d.Zone == "" || !strings.HasSuffix(d.Zone, ".") {
		return nil, fmt.Errorf("daemon: kea: DNS zone %q: want a fully qualified name", d.Zone)
	}
	alg, ok := keaTSIGAlgorithms[strings.ToLower(d.Key.Algorithm)]
	if !ok {
		return nil, fmt.Errorf("daemon: kea: TSIG algorithm %q: D2 takes only %v", d.Key.Algorithm, slices.Sorted(maps.Keys(keaTSIGAlgorithms)))
	}
	if d.Key.Name == "" || d.Key.Secret == "" {
		return nil, fmt.Errorf("daemon: kea: TSIG key %q: want a name and a secret", d.Key.Name)
	}
	if _, err := base64.StdEncoding.DecodeString(d.Key.Secret); err != nil {
		return nil, fmt.Errorf("daemon: kea: TSIG key %q: secret is not base64: %w", d.Key.Name, err)
	}

	dhcp6["dhcp-ddns"] = map[string]any{
		"enable-updates": true,
		"server-ip":      "::1", "server-port": KeaDDNSPort,
		"sender-ip": "::1", "sender-port": 0,
		"max-queue-size": 1024,
		"ncr-protocol":   "UDP", "ncr-format": "JSON",
	}
	// RFC 4704 §4.2: the simulated clients send S=1 (the server updates
	// AAAA and PTR), which Kea honours as it is; a client sending S=0
	// (it would update its AAAA itself) is overridden, so that Kea adds
	// the AAAA for every client, answering O=1.
	dhcp6["ddns-send-updates"] = true
	dhcp6["ddns-override-client-update"] = true
	dhcp6["ddns-override-no-update"] = false
	dhcp6["ddns-replace-client-name"] = "never"
	// A host name without a dot ("c17") becomes c17.<zone>.
	dhcp6["ddns-qualifying-suffix"] = d.Zone
	// RFC 4703's DHCID rules in D2 (Kea 2.2 spells it with a boolean;
	// ddns-conflict-resolution-mode came in 2.5). Kea computes the
	// DHCID RR per RFC 4701 §3.3 from the client's DUID (identifier
	// type 2, digest type 1: SHA-256 of the DUID and the FQDN in wire
	// form; D2Dhcid::fromDUID in Kea 2.2's src/lib/dhcp_ddns/ncr_msg.cc),
	// as RFC 4703 §5.2 asks of a DHCPv6 server; sim/lab's Kea DNS spec
	// checks the records it leaves in BIND against that computation.
	// D2 puts a DHCID beside the PTR as well as beside the AAAA.
	dhcp6["ddns-use-conflict-resolution"] = true
	// No update when a lease is only extended (a Renew, or a Rebind the
	// server answers with the same address and name): Kea 2.2 with
	// ddns-update-on-renew true sends a remove and then an add for every
	// renewal (Dhcpv6Srv::createNameChangeRequests), so the records
	// would vanish for a moment at each T1 (measured: dns.converge_s
	// p99 25 s instead of 3 s in a split kill with T1 4 s). A record lost
	// meanwhile (the DNS server down at the grant) then stays missing
	// until the address changes, as with the builtin server.
	dhcp6["ddns-update-on-renew"] = false
	// Removal: a Release sends a remove at once; an expired lease is
	// reclaimed (its records removed) by a timer, every second here
	// rather than Kea's 10 s, so that expiry removes the records about
	// when the valid lifetime ends.
	dhcp6["expired-leases-processing"] = map[string]any{
		"reclaim-timer-wait-time": 1, "flush-reclaimed-timer-wait-time": 25,
		"hold-reclaimed-time": 3600, "max-reclaim-leases": 0, "max-reclaim-time": 0,
		"unwarned-reclaim-cycles": 5,
	}

	server := func() []any {
		return []any{map[string]any{"ip-address": d.Server.Addr().String(), "port": int(d.Server.Port())}}
	}
	domain := func(name string) map[string]any {
		return map[string]any{"name": name, "key-name": d.Key.Name, "dns-servers": server()}
	}
	var reverse []any
	for _, z := range d.ReverseZones {
		reverse = append(reverse, domain(z))
	}
	if reverse == nil {
		reverse = []any{}
	}
	d2 := map[string]any{
		"ip-address": "::1", "port": KeaDDNSPort,
		// Per DNS message, in ms: D2 tries each server 3 times.
		"dns-server-timeout": 500,
		"ncr-protocol":       "UDP", "ncr-format": "JSON",
		"tsig-keys": []any{map[string]any{
			// D2 signs with the key under this name: it must be the DNS
			// server's name for the key.
			"name": d.Key.Name, "algorithm": alg, "secret": d.Key.Secret,
		}},
		"forward-ddns": map[string]any{"ddns-domains": []any{domain(d.Zone)}},
		"reverse-ddns": map[string]any{"ddns-domains": reverse},
		// INFO: one line per update D2 carries out or fails
		// (DHCP_DDNS_ADD_SUCCEEDED, ..._REJECTED), the record of what
		// reached the DNS server.
		"loggers": []any{map[string]any{
			"name": "kea-dhcp-ddns", "severity": "INFO",
			"output_options": []any{map[string]any{"output": "stdout"}},
		}},
	}
	b, err := json.MarshalIndent(map[string]any{"DhcpDdns": d2}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("daemon: kea: %w", err)
	}
	conf := filepath.Join(spec.Dir, "kea-dhcp-ddns.conf")
	if err := writeFile(spec.Dir, conf, string(b)+"\n"); err != nil {
		return nil, err
	}
	inst.Companions = append(inst.Companions, Companion{
		Name: "kea-dhcp-ddns",
		// In the foreground (D2 does not daemonize); its pid file and
		// logger lock in the instance directory, like kea-dhcp6's.
		Argv: []string{EnvBinary, "KEA_PIDFILE_DIR=" + spec.Dir, "KEA_LOCKFILE_DIR=" + spec.Dir, KeaDDNSBinary, "-c", conf},
		Log:  filepath.Join(spec.Dir, "kea-dhcp-ddns.log"),
	})

	ttl, _ := seconds(spec.Config.Valid)
	notes := []string{
		fmt.Sprintf("DNS: kea-dhcp-ddns runs beside kea-dhcp6 (same host: killed, frozen and restarted with it) and updates %s through %s, TSIG key %s", d.Zone, d.Server, d.Key.Name),
		fmt.Sprintf("DNS TTL %s not settable: Kea 2.2 gives its records a third of the valid lifetime, at least 600 s (RFC 4702 §5), so %d s here", d.TTL, keaDDNSTTL(ttl)),
		"DNS: no records for delegated prefixes (Kea sends NameChangeRequests for addresses only, and for the first address of an IA)",
		"DNS: kea-dhcp-ddns adds a DHCID beside each PTR as well as beside each AAAA (four records per client)",
		"DNS: expired leases are reclaimed (records removed) every 1 s, not at the instant the valid lifetime ends",
		// Kea 2.2's src/bin/d2/nc_remove.cc, removingFwdRRsHandler: any
		// RCODE but NOERROR and NXRRSET ends the transaction; Kea's
		// commit 75ea2bbb1e ("[#4437] Avoid orphaning PTR records")
		// later took YXRRSET as success.
		"DNS: kea-dhcp-ddns 2.2 gives up a removal when the name still has another AAAA (YXRRSET at RFC 4703 §5.5's DHCID step: another server renumbered the client) and then leaves the PTR of the address it was removing (later Kea goes on: isc-projects/kea#4437); measured in a split kill-and-return run, where the returning server's 50 PTRs stayed",
	}
	return notes, nil
}

// keaDDNSTTL is the TTL Kea 2.2 gives the records of a lease with a valid
// lifetime of valid seconds (calculateDdnsTtl in src/lib/dhcpsrv/
// ncr_generator.cc: a third of it, at least 600).
func keaDDNSTTL(valid int64) int64 {
	if valid < 1800 {
		return 600
	}
	return valid / 3
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
