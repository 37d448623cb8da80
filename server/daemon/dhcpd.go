package daemon

import (
	"bufio"
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
	"d6lab/netaddr6"
	"d6lab/server/lease"
)

// dhcpdRange is one range6 statement: a prefix, or first and last.
type dhcpdRange struct {
	prefix      netip.Prefix
	first, last netip.Addr
}

// dhcpdRanges are the range6 statements for spec's pool. A pool that is
// exactly a prefix goes as that prefix, one pool inside dhcpd, as an
// operator would write it for the identical model: dhcpd hashes the
// client's DUID and IAID into the pool's host bits (server/mdb6.c,
// create_lease6), the same on every server, and skips the Subnet-Router
// anycast and RFC 2526 identifiers itself there. A range dhcpd splits into
// CIDR blocks, each a pool of its own, and it starts each allocation in
// the block it last used, moving on after a collision (server/dhcpv6.c,
// pick_v6_address): servers whose histories differ (a newcomer after a
// kill) pick different blocks, and small blocks collide (README: the
// identical model with dhcpd). Other pools go as poolRanges gives them.
func dhcpdRanges(spec Spec) ([]dhcpdRange, error) {
	pool := netaddr6.Pool{First: spec.Config.Pool.First(), Last: spec.Config.Pool.Last()}
	if p, ok := pool.Prefix(); ok {
		return []dhcpdRange{{prefix: p}}, nil
	}
	rs, err := poolRanges(spec)
	if err != nil {
		return nil, err
	}
	out := make([]dhcpdRange, len(rs))
	for i, r := range rs {
		out[i] = dhcpdRange{first: r.first, last: r.last}
	}
	return out, nil
}

// dhcpdAdapter runs ISC dhcpd in DHCPv6 mode (dhcpd -6), in the foreground.
type dhcpdAdapter struct{}

func init() { register(dhcpdAdapter{}) }

var dhcpdVersion VersionCache

func (dhcpdAdapter) Kind() deploy.Kind { return deploy.Dhcpd }
func (dhcpdAdapter) Installed() error  { return installed(DhcpdBinary, "isc-dhcp-server") }
func (dhcpdAdapter) Version() string {
	return dhcpdVersion.Get(FirstLine, DhcpdBinary, "--version")
}

func (dhcpdAdapter) Prepare(spec Spec) (*Instance, error) {
	if err := checkMAC(deploy.Dhcpd, spec); err != nil {
		return nil, err
	}
	ranges, err := dhcpdRanges(spec)
	if err != nil {
		return nil, fmt.Errorf("daemon: dhcpd: %w", err)
	}
	c := spec.Config
	t1, t2, pref, valid, notes := lifetimes(spec)
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# rendered by d6lab for server %s", spec.Name)
	w("ddns-update-style none;")
	w("authoritative;")
	// A DUID-LL of spec.MAC. A server-duid in the lease file would win over
	// this one (dhcpd.conf(5)); dhcpd writes back the configured one.
	w("server-duid LL ethernet %s;", hexColon(spec.MAC))
	// dhcpd -6 takes the valid lifetime from default-lease-time and T1/T2
	// from the DHCPv4 renewal and rebinding options (dhcpd.conf(5)).
	w("default-lease-time %d;", valid)
	w("max-lease-time %d;", valid)
	w("min-lease-time %d;", valid)
	w("preferred-lifetime %d;", pref)
	w("option dhcp-renewal-time %d;", t1)
	w("option dhcp-rebinding-time %d;", t2)
	// Preference is among the options dhcpd puts in every Advertise
	// whatever the client's Option Request option says (required_opts_solicit
	// in dhcpv6.c), so configuring it is enough.
	w("option dhcp6.preference %d;", c.Preference)
	if c.RapidCommit {
		// In scope, this lets dhcpd answer a Solicit with Rapid Commit by a
		// committed Reply (RFC 9915 §18.3.1).
		w("option dhcp6.rapid-commit;")
	}
	if c.InfoRefresh > 0 {
		irt, _ := seconds(c.InfoRefresh)
		w("option dhcp6.info-refresh-time %d;", irt)
		notes = append(notes, "info-refresh-time is sent only to clients that name it in their Option Request option")
	}
	// dhcpd listens on an interface only when one of its addresses lies in
	// a declared subnet6: declare the others empty.
	declared := c.Prefix.Masked()
	for _, a := range spec.Addrs {
		if p := a.Masked(); p != declared && p.Addr().Is6() && !p.Addr().IsLinkLocalUnicast() {
			w("subnet6 %s { }", p)
		}
	}
	w("subnet6 %s {", declared)
	for _, r := range ranges {
		if r.prefix.IsValid() {
			w("\trange6 %s;", r.prefix)
		} else {
			w("\trange6 %s %s;", r.first, r.last)
		}
	}
	if !c.PDPool.IsZero() {
		base := c.PDPool.Base()
		w("\tprefix6 %s %s /%d;", base.Addr(), lastPrefix(base, c.PDPool.Delegated()), c.PDPool.Delegated())
	}
	w("}")
	conf := filepath.Join(spec.Dir, "dhcpd6.conf")
	if err := writeFile(spec.Dir, conf, b.String()); err != nil {
		return nil, err
	}
	leases := filepath.Join(spec.Dir, "dhcpd6.leases")
	if err := touch(leases); err != nil {
		return nil, err
	}
	notes = append(notes,
		fmt.Sprintf("allocator %q not settable: dhcpd picks an address by hashing the client's DUID and IAID (retrying with a new hash when taken), the same on every server with the same range", c.Allocator),
		fmt.Sprintf("rebind policy %q not settable: for a Rebind of a binding it does not hold dhcpd extends the address when it is in its range and free, else gives a new one (measured by d6lab compare: like create)", c.Rebind),
	)
	if c.DNS != nil {
		notes = append(notes, "does not update DNS (the lab runs it without DDNS): dhcpd 4.4 could (ddns-update-style standard, a key and zone statements for the forward and ip6.arpa zones, RFC 4703 DHCIDs), which this adapter does not render")
	}
	return &Instance{
		Spec: spec,
		Argv: []string{DhcpdBinary, "-6", "-f", "-d",
			"-cf", conf, "-lf", leases, "-pf", filepath.Join(spec.Dir, "dhcpd6.pid"),
			spec.IfName},
		Config:    conf,
		LeaseFile: leases,
		DUID:      duidLL(spec.MAC),
		Notes:     notes,
	}, nil
}

// lastPrefix is the last prefix of length bits inside p.
func lastPrefix(p netip.Prefix, bits int) netip.Addr {
	a := p.Masked().Addr().As16()
	for i := p.Bits(); i < bits; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(a)
}

func touch(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	return f.Close()
}

func (dhcpdAdapter) Leases(i *Instance) ([]lease.Binding, error) {
	f, err := os.Open(i.LeaseFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("daemon: dhcpd leases: %w", err)
	}
	defer f.Close()
	return parseDhcpdLeases(f, i.Spec.Config.T1, i.Spec.Config.T2)
}

// Wipe removes the lease file (which also holds the server-duid line: the
// configuration sets the same one again, so keepDUID changes nothing) and
// leaves an empty one, as dhcpd wants.
func (dhcpdAdapter) Wipe(i *Instance, _ bool) error {
	if err := removeIfExists(i.LeaseFile); err != nil {
		return err
	}
	if err := removeIfExists(i.LeaseFile + "~"); err != nil {
		return err
	}
	return touch(i.LeaseFile)
}

// parseDhcpdLeases reads a dhcpd -6 lease file: ia-na and ia-pd blocks
// keyed by the IAID (4 bytes, in the writer's byte order: little-endian on
// the machines the lab runs on) followed by the client's DUID, holding
// iaaddr / iaprefix blocks with a binding state, lifetimes and an end. The
// file is a journal: the last block for an IA wins. Only active leases are
// bindings.
func parseDhcpdLeases(r io.Reader, t1, t2 time.Duration) ([]lease.Binding, error) {
	type iaKey struct {
		id string
		t  lease.IAType
	}
	var order []iaKey
	byIA := map[iaKey][]lease.Binding{}

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lineNo := 0
	var (
		cur     *iaKey
		duid    []byte
		iaid    uint32
		curTyp  lease.IAType
		inAddr  bool
		b       lease.Binding
		active  bool
		list    []lease.Binding
		cltt    time.Time
		hasCLTT bool
	)
	bad := func(format string, a ...any) error {
		return fmt.Errorf("daemon: dhcpd leases: line %d: %s", lineNo, fmt.Sprintf(format, a...))
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		switch {
		case cur == nil && (strings.HasPrefix(line, "ia-na ") || strings.HasPrefix(line, "ia-pd ")):
			curTyp = lease.NA
			if strings.HasPrefix(line, "ia-pd ") {
				curTyp = lease.PD
			}
			raw, err := dhcpdString(strings.TrimSuffix(strings.TrimSpace(line[6:]), "{"))
			if err != nil {
				return nil, bad("%v", err)
			}
			if len(raw) < 5 {
				return nil, bad("IA key of %d bytes", len(raw))
			}
			iaid = uint32(raw[0]) | uint32(raw[1])<<8 | uint32(raw[2])<<16 | uint32(raw[3])<<24
			duid = append([]byte(nil), raw[4:]...)
			cur = &iaKey{string(raw), curTyp}
			list, hasCLTT = nil, false
		case cur == nil:
			// server-duid, authoring-byte-order, lease (v4) ...: not ours.
			if strings.HasPrefix(line, "authoring-byte-order") && strings.Contains(line, "big-endian") {
				return nil, bad("big-endian lease file not supported")
			}
		case !inAddr && strings.HasPrefix(line, "cltt "):
			t, err := dhcpdTime(line)
			if err != nil {
				return nil, bad("%v", err)
			}
			cltt, hasCLTT = t, true
		case !inAddr && (strings.HasPrefix(line, "iaaddr ") || strings.HasPrefix(line, "iaprefix ")):
			f := strings.Fields(line)
			if len(f) < 2 {
				return nil, bad("%q", line)
			}
			var p netip.Prefix
			var err error
			if f[0] == "iaaddr" {
				var a netip.Addr
				a, err = netip.ParseAddr(f[1])
				p = netip.PrefixFrom(a, 128)
			} else {
				p, err = netip.ParsePrefix(f[1])
			}
			if err != nil {
				return nil, bad("%v", err)
			}
			inAddr, active = true, true
			b = lease.Binding{DUID: duid, IAID: iaid, Type: curTyp, Lease: p, T1: t1, T2: t2}
		case inAddr && strings.HasPrefix(line, "binding state "):
			active = strings.TrimSuffix(strings.TrimPrefix(line, "binding state "), ";") == "active"
		case inAddr && strings.HasPrefix(line, "preferred-life "):
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.Fields(line)[1], ";"), 10, 64)
			if err != nil {
				return nil, bad("%v", err)
			}
			b.Preferred = time.Duration(n) * time.Second
		case inAddr && strings.HasPrefix(line, "max-life "):
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.Fields(line)[1], ";"), 10, 64)
			if err != nil {
				return nil, bad("%v", err)
			}
			b.Valid = time.Duration(n) * time.Second
		case inAddr && strings.HasPrefix(line, "ends "):
			if strings.Contains(line, "never") {
				continue
			}
			t, err := dhcpdTime(line)
			if err != nil {
				return nil, bad("%v", err)
			}
			b.Expires = t
		case inAddr && line == "}":
			inAddr = false
			if active {
				switch {
				case !b.Expires.IsZero() && b.Valid > 0:
					b.Granted = b.Expires.Add(-b.Valid)
				case hasCLTT:
					b.Granted = cltt
				}
				list = append(list, b)
			}
		case !inAddr && line == "}":
			if _, seen := byIA[*cur]; !seen {
				order = append(order, *cur)
			}
			byIA[*cur] = list
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("daemon: dhcpd leases: %w", err)
	}
	if cur != nil {
		return nil, bad("unterminated IA block")
	}
	var out []lease.Binding
	for _, k := range order {
		out = append(out, byIA[k]...)
	}
	return out, nil
}

// dhcpdTime parses "ends 4 2026/11/27 05:30:30;" (UTC) or
// "ends epoch 1795760000; # ...".
func dhcpdTime(line string) (time.Time, error) {
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(line)
	if len(f) == 3 && f[1] == "epoch" {
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", line, err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if len(f) != 4 {
		return time.Time{}, fmt.Errorf("time %q", line)
	}
	t, err := time.Parse("2006/01/02 15:04:05", f[2]+" "+f[3])
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", line, err)
	}
	return t, nil
}

// dhcpdString decodes a lease-file identifier: a quoted string with octal
// escapes ("\001\000...", lease-id-format octal, the default) or
// colon-separated hex (lease-id-format hex).
func dhcpdString(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, `"`) {
		return parseHexColon(s)
	}
	if len(s) < 2 || !strings.HasSuffix(s, `"`) {
		return nil, fmt.Errorf("unterminated string %s", s)
	}
	s = s[1 : len(s)-1]
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("trailing backslash in %q", s)
		}
		if n := s[i+1]; n >= '0' && n <= '7' {
			if i+4 > len(s) {
				return nil, fmt.Errorf("short octal escape in %q", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
			if err != nil {
				return nil, fmt.Errorf("octal escape in %q: %w", s, err)
			}
			out = append(out, byte(v))
			i += 3
			continue
		}
		out = append(out, s[i+1]) // \" \\ and friends
		i++
	}
	return out, nil
}
