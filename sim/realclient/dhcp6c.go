package realclient

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"d6lab/deploy"
	"d6lab/server/daemon"
)

// dhcp6cAdapter runs WIDE-DHCPv6's dhcp6c (wide-dhcpv6-client) in the
// foreground: `dhcp6c -f -D -c CONF -p PIDFILE IF`.
//
// dhcp6c keeps its DUID in a file whose path is compiled in,
// /var/lib/dhcpv6/dhcp6c_duid, and creates it when missing (a DUID-LLT of
// the first interface with a link-layer address: in the client's
// namespace, its own). So it runs in a private mount namespace where the
// client's own directory is bound over /var/lib/dhcpv6 and a private file
// over /etc/resolv.conf; -p moves its PID file (default /var/run/
// dhcp6c.pid) into the client's directory. Its control channel (UDP port
// 5546 on ::1, keyed by /etc/wide-dhcpv6/dhcp6cctlkey, read only) stays
// inside the client's network namespace. It configures addresses itself
// (an ioctl, without lifetimes: the kernel holds them forever and dhcp6c
// removes them when their valid lifetime ends), so kernel DAD runs on
// them; the configuration names the lab's script, which only records.
type dhcp6cAdapter struct{}

func init() { register(dhcp6cAdapter{}) }

var dhcp6cVersion daemon.VersionCache

// Dhcp6cStateDir is where dhcp6c keeps its DUID (compiled in).
const Dhcp6cStateDir = "/var/lib/dhcpv6"

func (dhcp6cAdapter) Kind() deploy.ClientKind { return deploy.Dhcp6c }
func (dhcp6cAdapter) Package() string         { return "wide-dhcpv6-client" }
func (dhcp6cAdapter) Lacks(Capability) string { return "" }

func (a dhcp6cAdapter) Installed() error {
	for _, err := range []error{
		installed(Dhcp6cBinary, a.Package()),
		installedDir(Dhcp6cStateDir, a.Package()),
		installed(UnshareBinary, "util-linux"),
		installed(MountBinary, "mount"),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Version is the Debian package's version: dhcp6c has no version option.
func (a dhcp6cAdapter) Version() string { return debVersion(&dhcp6cVersion, a.Package()) }

// dhcp6cScript records each call. dhcp6c's REASON is always "NBI" (its
// manual): the addresses it configures are seen over netlink, not here.
const dhcp6cScript = `
event "${REASON:-script}" $(env | grep -E '^new_' | sort | tr '\n' ' ')
exit 0
`

func (a dhcp6cAdapter) Prepare(spec Spec) (*Instance, error) {
	i, err := newInstance(a, spec)
	if err != nil {
		return nil, err
	}
	spec = i.Spec
	i.Config, i.Script = i.path("dhcp6c.conf"), i.path("script.sh")
	state, resolv, pid := i.path("state"), i.path("resolv.conf"), i.path("dhcp6c.pid")
	// A fresh client: no DUID from an earlier run.
	if err := os.RemoveAll(state); err != nil {
		return nil, fmt.Errorf("realclient: %w", err)
	}
	if err := mkdirs(state); err != nil {
		return nil, err
	}
	if err := writeFile(resolv, "# d6lab: the client's private /etc/resolv.conf\n", 0o644); err != nil {
		return nil, err
	}

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# written by d6lab (sim/realclient) for client %s", spec.Name)
	w("interface %s {", spec.IfName)
	na, pd := spec.wants(IANA), spec.wants(IAPD)
	if na {
		w("\tsend ia-na 1;")
	}
	if pd {
		w("\tsend ia-pd 2;")
	}
	if !na && !pd {
		w("\tinformation-only;")
	}
	w("\tscript %q;", i.Script)
	w("};")
	if na {
		w("id-assoc na 1 { };")
	}
	if pd {
		w("# no prefix-interface: the delegated prefix is recorded, not configured")
		w("id-assoc pd 2 { };")
	}
	if err := writeFile(i.Config, b.String(), 0o644); err != nil {
		return nil, err
	}
	if err := writeFile(i.Script, scriptHead("WIDE dhcp6c", i.Events)+dhcp6cScript, 0o755); err != nil {
		return nil, err
	}
	i.Argv = privately("dhcp6c", []bind{
		{Src: state, Target: Dhcp6cStateDir},
		{Src: resolv, Target: "/etc/resolv.conf", IfExists: true},
	}, []string{Dhcp6cBinary, "-f", "-D", "-c", i.Config, "-p", pid, spec.IfName})
	// SIGTERM: dhcp6c releases every IA (a Release per IA), waits for the
	// Replies, removes its addresses and exits (dhcp6c(8)).
	i.Stop = Stop{Signal: syscall.SIGTERM, Wait: 5 * time.Second}
	i.Notes = append(i.Notes,
		"runs in a private mount namespace (unshare --mount) with the client's directory bound over /var/lib/dhcpv6, where dhcp6c keeps its DUID, and a private /etc/resolv.conf",
		"DUID: a DUID-LLT of the interface's MAC, made by dhcp6c at its first start, kept in state/dhcp6c_duid",
		"addresses are added without lifetimes (kernel: forever); dhcp6c removes them itself when their valid lifetime ends",
		"DAD: dhcp6c does not watch it: an address that fails DAD stays on the interface flagged dadfailed and is renewed as if usable: no Decline",
		"T1 and T2: dhcp6c raises a T2 under 30 s to 30 s and sets T1 to 18 s (DHCP6_DURATION_MIN; its log: \"T1 (..) or T2 (..) is too small\"), so with a valid lifetime under 30 s its bindings expire before it renews",
	)
	return i, nil
}

// DUID reads state/dhcp6c_duid: a 2-byte little-endian length, then the
// DUID.
func (dhcp6cAdapter) DUID(i *Instance) ([]byte, error) {
	b, err := os.ReadFile(i.path("state/dhcp6c_duid"))
	if err != nil {
		return nil, fmt.Errorf("realclient: dhcp6c DUID: %w", err)
	}
	if len(b) < 2 || int(binary.LittleEndian.Uint16(b)) != len(b)-2 {
		return nil, fmt.Errorf("realclient: dhcp6c DUID: %s: malformed (%d bytes)", i.path("state/dhcp6c_duid"), len(b))
	}
	return b[2:], nil
}
