package daemon

import (
	"bytes"
	"d6lab/deploy"
	"d6lab/server/alloc"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Program paths of the third-party servers and the tools the adapters run
// (Debian packages). Only this package reads them and nothing in d6lab sets
// them; they are variables so that a caller on a host that installs them
// elsewhere can.
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
func checkMAC(k deploy.Kind, spec Spec) error {
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

// VersionCache runs a program's version command once (the adapters here
// and sim/realclient's use it).
type VersionCache struct {
	once sync.Once
	v    string
}

// Get returns parse's pick from argv's output (stdout and stderr), or ""
// when the program is missing or says nothing.
func (c *VersionCache) Get(parse func(out string) string, argv ...string) string {
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

// FirstLine is s's first line, trimmed: the usual parse for Get.
func FirstLine(s string) string {
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

// addrRange is an inclusive range of addresses.
type addrRange struct{ first, last netip.Addr }

// rangeLess reports whether a holds fewer addresses than b.
func rangeLess(a, b addrRange) bool {
	return rangeSize(a).Cmp(rangeSize(b)) < 0
}

func rangeSize(r addrRange) *big.Int {
	f, l := r.first.As16(), r.last.As16()
	n := new(big.Int).Sub(new(big.Int).SetBytes(l[:]), new(big.Int).SetBytes(f[:]))
	return n.Add(n, big.NewInt(1))
}

// poolRanges are the ranges a third-party server is given for the pool:
// the pool without the addresses no server may lease, which kea, wide and
// dnsmasq would otherwise hand out (d6lab conform, no-reserved-address):
// the Subnet-Router anycast address (RFC 4291 §2.6.1, interface identifier
// 0) and the RFC 2526 reserved anycast identifiers
// (fdff:ffff:ffff:ff80-ffff) of every /64 the pool touches. A /65 split
// pool starts with the first and the upper /65 holds the second in its
// middle. The builtin server skips them itself.
func poolRanges(spec Spec) ([]addrRange, error) {
	p := spec.Config.Pool
	if p.IsZero() {
		return nil, errors.New("daemon: empty address pool")
	}
	if spec.RawPool {
		return []addrRange{{p.First(), p.Last()}}, nil
	}
	var out []addrRange
	cur, last := p.First(), p.Last()
	for n := 0; ; n++ {
		if n > 1024 {
			return nil, fmt.Errorf("daemon: pool %s spans too many /64s to render", p)
		}
		for alloc.ReservedAddr(cur) && cur.Less(last) {
			cur = cur.Next()
		}
		if alloc.ReservedAddr(cur) {
			break
		}
		// the end of this run: the address before the next reserved one
		// in cur's /64, or last
		end := last
		b := cur.As16()
		copy(b[8:], []byte{0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
		if r := netip.AddrFrom16(b); cur.Less(r) || cur == r {
			if r.Less(end) {
				end = r
			}
		} else {
			b = cur.As16()
			copy(b[8:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			if r := netip.AddrFrom16(b); r.Less(end) {
				end = r
			}
		}
		out = append(out, addrRange{cur, end})
		if end == last {
			break
		}
		cur = end.Next()
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("daemon: pool %s holds only reserved addresses", p)
	}
	return out, nil
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
