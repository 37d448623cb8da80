package daemon

import (
	"bufio"
	"encoding/binary"
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

// dnsmasqAdapter runs dnsmasq as a DHCPv6-only server (no DNS, no router
// advertisements) in the foreground.
type dnsmasqAdapter struct{}

func init() { register(dnsmasqAdapter{}) }

var dnsmasqVersion VersionCache

func (dnsmasqAdapter) Kind() deploy.Kind { return deploy.Dnsmasq }
func (dnsmasqAdapter) Installed() error  { return installed(DnsmasqBinary, "dnsmasq-base") }
func (dnsmasqAdapter) Version() string {
	// "Dnsmasq version 2.90  Copyright (c) ..." -> "dnsmasq 2.90"
	return dnsmasqVersion.Get(func(out string) string {
		f := strings.Fields(FirstLine(out))
		if len(f) >= 3 && f[1] == "version" {
			return "dnsmasq " + f[2]
		}
		return FirstLine(out)
	}, DnsmasqBinary, "--version")
}

// DnsmasqEnterprise is the enterprise number of the DUID-EN d6lab gives
// dnsmasq (dnsmasq can be told a DUID-EN only): 32473, the number RFC 5612
// reserves for documentation.
const DnsmasqEnterprise = 32473

// dnsmasqDUID is the DUID-EN (RFC 9915 §11.3) dnsmasq sends for a spec:
// type 2, enterprise DnsmasqEnterprise, identifier spec.MAC.
func dnsmasqDUID(spec Spec) []byte {
	d := []byte{0, 2, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(d[2:], DnsmasqEnterprise)
	return append(d, spec.MAC...)
}

func (dnsmasqAdapter) Prepare(spec Spec) (*Instance, error) {
	if err := checkMAC(deploy.Dnsmasq, spec); err != nil {
		return nil, err
	}
	c := spec.Config
	if !c.PDPool.IsZero() {
		return nil, fmt.Errorf("%w: dnsmasq: prefix delegation (pd pool %s): dnsmasq's DHCPv6 server has no IA_PD", ErrUnsupported, c.PDPool)
	}
	ranges, err := poolRanges(spec)
	if err != nil {
		return nil, fmt.Errorf("daemon: dnsmasq: %w", err)
	}
	_, _, _, valid, notes := lifetimes(spec)
	leases := filepath.Join(spec.Dir, "dnsmasq.leases")
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# rendered by d6lab for server %s", spec.Name)
	w("port=0") // no DNS
	w("interface=%s", spec.IfName)
	w("bind-interfaces")
	w("no-resolv")
	w("no-hosts")
	w("log-dhcp")
	w("log-facility=-")
	w("user=root") // so it can write the lease file in spec.Dir
	w("pid-file=%s", filepath.Join(spec.Dir, "dnsmasq.pid"))
	w("dhcp-leasefile=%s", leases)
	// A DUID-EN (dnsmasq takes no DUID-LL): stable, and the same again
	// after a wipe.
	w("dhcp-duid=%d,%s", DnsmasqEnterprise, strings.ReplaceAll(hexColon(spec.MAC), ":", ""))
	// The prefix length must be 64; the lease time is the valid lifetime.
	for _, r := range ranges {
		w("dhcp-range=%s,%s,%d,%d", r.first, r.last, 64, valid)
	}
	if c.RapidCommit {
		w("dhcp-rapid-commit")
	}
	// dnsmasq puts a Preference option in every Advertise by itself: 255
	// with dhcp-authoritative, 0 without, and no setting gives another
	// value. A dhcp-option=option6:7 only adds a second copy (and with
	// dhcp-option-force a malformed one, 8192 bytes long): not used.
	if c.Preference == 255 {
		w("dhcp-authoritative")
	} else if c.Preference != 0 {
		notes = append(notes, fmt.Sprintf("Preference %d not settable: dnsmasq sends 255 (dhcp-authoritative) or 0, so this instance sends 0", c.Preference))
	}
	if c.InfoRefresh > 0 {
		irt, _ := seconds(c.InfoRefresh)
		w("dhcp-option=option6:information-refresh-time,%d", irt)
	}
	conf := filepath.Join(spec.Dir, "dnsmasq.conf")
	if err := writeFile(spec.Dir, conf, b.String()); err != nil {
		return nil, err
	}
	notes = append(notes,
		"DUID: dnsmasq takes a DUID-EN only (dhcp-duid), so its DUID is EN 32473 + MAC, not the DUID-LL the other kinds get",
		"T1, T2 and the preferred lifetime are not configurable: dnsmasq derives them from the lease time (T1 = 1/2, T2 = 7/8 of it, preferred = valid)",
		"lease time: dnsmasq raises any lease time below 120 s to 120 s, so the valid lifetime is max(valid, 120 s)",
		"Rapid Commit: dhcp-rapid-commit is documented for DHCPv4; in DHCPv6 dnsmasq answers a Rapid Commit Solicit with a Reply on its own",
		fmt.Sprintf("allocator %q not settable: dnsmasq picks an address by hashing the client's DUID and IAID into the range (then probing forward)", c.Allocator),
		fmt.Sprintf("rebind policy %q not settable: dnsmasq's own behaviour applies to a Rebind for a binding it does not hold", c.Rebind),
		"runs as root (user=root) so that it can write its lease file in the instance directory",
	)
	if c.DNS != nil {
		notes = append(notes, "does not update DNS (the lab runs it without DDNS): dnsmasq answers for its clients' names in its own DNS server and sends no RFC 2136 updates to another")
	}
	return &Instance{
		Spec:      spec,
		Argv:      []string{DnsmasqBinary, "-k", "--conf-file=" + conf},
		Config:    conf,
		LeaseFile: leases,
		DUID:      dnsmasqDUID(spec),
		Notes:     notes,
	}, nil
}

func (dnsmasqAdapter) Leases(i *Instance) ([]lease.Binding, error) {
	f, err := os.Open(i.LeaseFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("daemon: dnsmasq leases: %w", err)
	}
	defer f.Close()
	c := i.Spec.Config
	return parseDnsmasqLeases(f, c.T1, c.T2, c.Preferred, c.Valid)
}

// Wipe removes the lease file. dnsmasq keeps its DUID in it (the "duid"
// line), but the configuration gives it again (dhcp-duid), so keepDUID
// changes nothing.
func (dnsmasqAdapter) Wipe(i *Instance, _ bool) error { return removeIfExists(i.LeaseFile) }

// parseDnsmasqLeases reads a dnsmasq lease file. IPv6 leases come after a
// "duid SERVER-DUID" line, one per line: "EXPIRY IAID ADDRESS HOSTNAME
// CLIENT-DUID" (EXPIRY in Unix seconds, 0 for infinite; IAID decimal,
// prefixed with T for a temporary address; HOSTNAME "*" when unknown).
// IPv4 lines (before the duid line) are skipped. dnsmasq keeps no T1, T2 or
// lifetimes in the file: t1..valid fill them.
func parseDnsmasqLeases(r io.Reader, t1, t2, preferred, valid time.Duration) ([]lease.Binding, error) {
	sc := bufio.NewScanner(r)
	v6 := false
	var out []lease.Binding
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "duid" {
			v6 = true
			continue
		}
		if !v6 {
			continue
		}
		if len(f) < 5 {
			return nil, fmt.Errorf("daemon: dnsmasq leases: line %d: %d fields, want 5", n, len(f))
		}
		if strings.HasPrefix(f[1], "T") {
			continue // IA_TA
		}
		exp, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("daemon: dnsmasq leases: line %d: expiry %q: %w", n, f[0], err)
		}
		iaid, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("daemon: dnsmasq leases: line %d: iaid %q: %w", n, f[1], err)
		}
		addr, err := netip.ParseAddr(f[2])
		if err != nil {
			return nil, fmt.Errorf("daemon: dnsmasq leases: line %d: %w", n, err)
		}
		duid, err := parseHexColon(f[4])
		if err != nil {
			return nil, fmt.Errorf("daemon: dnsmasq leases: line %d: client duid: %w", n, err)
		}
		b := lease.Binding{
			DUID: duid, IAID: uint32(iaid), Type: lease.NA, Lease: netip.PrefixFrom(addr, 128),
			T1: t1, T2: t2, Preferred: preferred, Valid: valid,
		}
		if exp != 0 {
			b.Expires = time.Unix(exp, 0).UTC()
			b.Granted = b.Expires.Add(-valid)
		}
		out = append(out, b)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("daemon: dnsmasq leases: %w", err)
	}
	return out, nil
}
