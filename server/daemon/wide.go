package daemon

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"

	"d6lab/deploy"
	"d6lab/server/lease"
)

// wideAdapter runs WIDE-DHCPv6's dhcp6s in the foreground.
//
// dhcp6s keeps its DUID in a file whose path is compiled in,
// /var/lib/dhcpv6/dhcp6s_duid, and creates it (a DUID-LLT of the first
// interface it finds) when missing. Two instances must not share it and
// the lab must not touch the host's copy, so each instance runs through
// unshare(1) in a mount namespace of its own, where spec.Dir/duid is
// bind-mounted over /var/lib/dhcpv6 (mount propagation private: nothing
// reaches the host's mount table). The adapter writes the DUID file there
// first, a DUID-LL of spec.MAC, so the DUID is chosen and stable.
type wideAdapter struct{}

func init() { register(wideAdapter{}) }

var wideVersion VersionCache

// WideDUIDDir is the directory dhcp6s reads its DUID file from.
const WideDUIDDir = "/var/lib/dhcpv6"

func (wideAdapter) Kind() deploy.Kind { return deploy.Wide }
func (wideAdapter) Installed() error {
	if err := installed(WideBinary, "wide-dhcpv6-server"); err != nil {
		return err
	}
	return installed(UnshareBinary, "util-linux")
}

// Version is the Debian package's version: dhcp6s has no version option.
func (wideAdapter) Version() string {
	return wideVersion.Get(func(out string) string {
		if v := FirstLine(out); v != "" && !strings.Contains(v, "no packages") {
			return "wide-dhcpv6-server " + v
		}
		return ""
	}, DpkgQuery, "-W", "-f", "${Version}", "wide-dhcpv6-server")
}

func (wideAdapter) Prepare(spec Spec) (*Instance, error) {
	if err := checkMAC(deploy.Wide, spec); err != nil {
		return nil, err
	}
	c := spec.Config
	if !c.PDPool.IsZero() {
		return nil, fmt.Errorf("%w: wide: prefix delegation from a pool (pd pool %s): dhcp6s delegates only prefixes configured per host", ErrUnsupported, c.PDPool)
	}
	ranges, err := poolRanges(spec)
	if err != nil {
		return nil, fmt.Errorf("daemon: wide: %w", err)
	}
	_, _, pref, valid, notes := lifetimes(spec)
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# rendered by d6lab for server %s", spec.Name)
	if c.InfoRefresh > 0 {
		irt, _ := seconds(c.InfoRefresh)
		w("option refreshtime %d;", irt)
	}
	w("interface %s {", spec.IfName)
	w("\tpreference %d;", c.Preference)
	if c.RapidCommit {
		w("\tallow rapid-commit;")
	}
	w("\taddress-pool pool1 %d %d;", pref, valid)
	w("};")
	w("pool pool1 {")
	// dhcp6s takes one range per pool: the largest run of the pool
	// without reserved addresses (a note says what is left out).
	big := ranges[0]
	for _, r := range ranges[1:] {
		if rangeLess(big, r) {
			big = r
		}
	}
	w("\trange %s to %s;", big.first, big.last)
	w("};")
	conf := filepath.Join(spec.Dir, "dhcp6s.conf")
	if err := writeFile(spec.Dir, conf, b.String()); err != nil {
		return nil, err
	}
	duidDir := filepath.Join(spec.Dir, "duid")
	duid := duidLL(spec.MAC)
	if err := writeWideDUID(duidDir, duid); err != nil {
		return nil, err
	}
	pid := filepath.Join(spec.Dir, "dhcp6s.pid")
	// sh runs inside the new mount namespace: bind the DUID directory, then
	// exec dhcp6s (the PID stays the one the lab started).
	script := fmt.Sprintf(`%s --bind "$1" %s && exec "$2" -f -c "$3" -P "$4" -k "$5" "$6"`, MountBinary, WideDUIDDir)
	notes = append(notes,
		"T1 and T2 are not configurable: dhcp6s derives them from the preferred lifetime",
		"no lease file: dhcp6s keeps its bindings in memory only (server-side bindings cannot be read, and a restart always loses them)",
		"runs in a private mount namespace (unshare --mount) with the instance directory bound over /var/lib/dhcpv6, where dhcp6s keeps its DUID",
		fmt.Sprintf("allocator %q not settable: dhcp6s hands out the first free address of the range (like sequential)", c.Allocator),
		fmt.Sprintf("rebind policy %q not settable: dhcp6s does not answer a Rebind for a binding it does not hold (measured by d6lab compare: like silent)", c.Rebind),
	)
	if c.DNS != nil {
		notes = append(notes, "does not update DNS (the lab runs it without DDNS): dhcp6s has no Client FQDN option and no RFC 2136 updates")
	}
	if len(ranges) > 1 {
		notes = append(notes, fmt.Sprintf("dhcp6s takes one range per pool: given %s-%s, the largest of the %d runs of the pool between reserved anycast addresses", big.first, big.last, len(ranges)))
	}
	return &Instance{
		Spec: spec,
		Argv: []string{UnshareBinary, "--mount", "--propagation", "private", "--",
			ShellBinary, "-c", script, "dhcp6s",
			duidDir, WideBinary, conf, pid, filepath.Join(spec.Dir, "dhcp6sctlkey"), spec.IfName},
		Config: conf,
		DUID:   duid,
		Notes:  notes,
	}, nil
}

// writeWideDUID writes dhcp6s's DUID file: a 16-bit length in host byte
// order (little-endian here) and the DUID.
func writeWideDUID(dir string, duid []byte) error {
	b := binary.LittleEndian.AppendUint16(nil, uint16(len(duid)))
	return writeFile(dir, filepath.Join(dir, "dhcp6s_duid"), string(append(b, duid...)))
}

func (wideAdapter) Leases(*Instance) ([]lease.Binding, error) {
	return nil, fmt.Errorf("%w: wide: dhcp6s keeps no lease file", ErrUnsupported)
}

// Wipe: dhcp6s keeps no bindings on disk. Without keepDUID the DUID file
// is removed, and dhcp6s makes a new DUID-LLT at its next start.
func (wideAdapter) Wipe(i *Instance, keepDUID bool) error {
	if keepDUID {
		return nil
	}
	if err := removeIfExists(filepath.Join(i.Spec.Dir, "duid", "dhcp6s_duid")); err != nil {
		return err
	}
	i.DUID = nil
	return nil
}
