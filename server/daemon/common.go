package daemon

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Program paths of the third-party servers (Debian packages). Variables so
// that tests can point them elsewhere.
var (
	KeaBinary     = "/usr/sbin/kea-dhcp6" // kea-dhcp6-server
	KeaLFCBinary  = "/usr/sbin/kea-lfc"   // kea-dhcp6-server
	DhcpdBinary   = "/usr/sbin/dhcpd"     // isc-dhcp-server
	DnsmasqBinary = "/usr/sbin/dnsmasq"   // dnsmasq-base (dnsmasq)
	WideBinary    = "/usr/sbin/dhcp6s"    // wide-dhcpv6-server
	UnshareBinary = "/usr/bin/unshare"    // util-linux
	MountBinary   = "/usr/bin/mount"      // mount
	ShellBinary   = "/bin/sh"             // dash
	DpkgQuery     = "/usr/bin/dpkg-query" // dpkg
)

// installed returns nil when path is an executable file, or an
// ErrNotInstalled naming the Debian package that provides it.
func installed(path, pkg string) error {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return nil
	}
	return fmt.Errorf("%w: %s missing (install the Debian package %s)", ErrNotInstalled, path, pkg)
}

// duidLL is the DUID-LL (RFC 9915 §11.4) of an Ethernet address: type 3,
// hardware type 1.
func duidLL(mac net.HardwareAddr) []byte {
	return append([]byte{0, 3, 0, 1}, mac...)
}

// checkMAC refuses a spec without a usable hardware address for the DUID.
func checkMAC(k Kind, spec Spec) error {
	if len(spec.MAC) != 6 {
		return fmt.Errorf("daemon: %s: spec.MAC %q: want a 6-byte Ethernet address for the server's DUID-LL", k, spec.MAC)
	}
	return nil
}

// seconds is d in whole seconds, rounded up, at least 1: third-party
// servers take lifetimes as integers. rounded reports a change.
func seconds(d time.Duration) (s int64, rounded bool) {
	s = int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s, time.Duration(s)*time.Second != d
}

// lifetimes renders the four lifetimes in seconds and a note when one had
// to be rounded.
func lifetimes(spec Spec) (t1, t2, pref, valid int64, notes []string) {
	c := spec.Config
	var r [4]bool
	t1, r[0] = seconds(c.T1)
	t2, r[1] = seconds(c.T2)
	pref, r[2] = seconds(c.Preferred)
	valid, r[3] = seconds(c.Valid)
	if r[0] || r[1] || r[2] || r[3] {
		notes = append(notes, fmt.Sprintf("lifetimes rounded up to whole seconds: T1 %d, T2 %d, preferred %d, valid %d", t1, t2, pref, valid))
	}
	return t1, t2, pref, valid, notes
}

// versionCache runs a program's version command once.
type versionCache struct {
	once sync.Once
	v    string
}

// get returns the first line matching parse's pick from argv's output
// (stdout and stderr), or "" when the program is missing or says nothing.
func (c *versionCache) get(parse func(out string) string, argv ...string) string {
	c.once.Do(func() {
		if _, err := os.Stat(argv[0]); err != nil {
			return
		}
		var out bytes.Buffer
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run() // some print their version and exit non-zero
		c.v = parse(out.String())
	})
	return c.v
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// writeFile writes a rendered configuration, creating dir.
func writeFile(dir, path, content string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	return nil
}

// poolRange is the pool's first and last address.
func poolRange(spec Spec) (first, last netip.Addr, err error) {
	p := spec.Config.Pool
	if p.IsZero() {
		return first, last, errors.New("daemon: empty address pool")
	}
	return p.First(), p.Last(), nil
}

// hexColon renders b as "0a:1b:...".
func hexColon(b []byte) string {
	var sb strings.Builder
	for i, x := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", x)
	}
	return sb.String()
}

// parseHexColon reads "0a:1b:..." (also without colons).
func parseHexColon(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if err != nil {
		return nil, fmt.Errorf("bad hex %q: %w", s, err)
	}
	return b, nil
}
