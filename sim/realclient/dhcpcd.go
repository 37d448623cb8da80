package realclient

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"d6lab/deploy"
	"d6lab/server/daemon"
)

// dhcpcdAdapter runs dhcpcd 9 (dhcpcd-base) DHCPv6-only in the foreground:
// `dhcpcd -6 -B -d -f CONF -c SCRIPT IF`.
//
// dhcpcd has no option for its state directory (/var/lib/dhcpcd: DUID,
// lease, secret) nor its run directory (/run/dhcpcd: PID file, control
// sockets), both compiled in, and its privilege separation (dhcpcd 9.4
// is built with PRIVSEP: a root "privileged proxy", the rest as user
// dhcpcd chrooted to its home, /usr/lib/dhcpcd) works as is in a
// namespace. So it runs in a private mount namespace where the client's
// own directories are bound over /run (dhcpcd creates /run/dhcpcd, which
// the host may lack) and /var/lib/dhcpcd, and a private file over
// /etc/resolv.conf. -c replaces dhcpcd-run-hooks (and so every hook,
// resolv.conf's included) with the lab's script, which only records.
type dhcpcdAdapter struct{}

func init() { register(dhcpcdAdapter{}) }

var dhcpcdVersion daemon.VersionCache

// DhcpcdStateDir and DhcpcdRunDir are dhcpcd's compiled-in directories.
const (
	DhcpcdStateDir = "/var/lib/dhcpcd"
	DhcpcdRunDir   = "/run"
)

func (dhcpcdAdapter) Kind() deploy.ClientKind { return deploy.Dhcpcd }
func (dhcpcdAdapter) Package() string         { return "dhcpcd-base" }
func (dhcpcdAdapter) Lacks(Capability) string { return "" }

func (a dhcpcdAdapter) Installed() error {
	for _, err := range []error{
		installed(DhcpcdBinary, a.Package()),
		installedDir(DhcpcdStateDir, a.Package()),
		installed(UnshareBinary, "util-linux"),
		installed(MountBinary, "mount"),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Version is dhcpcd's own first line, "dhcpcd 9.4.1".
func (dhcpcdAdapter) Version() string {
	return dhcpcdVersion.Get(daemon.FirstLine, DhcpcdBinary, "--version")
}

// dhcpcdScript records each call: dhcpcd configures addresses itself.
const dhcpcdScript = `
event "$reason" $(env | grep -E '^(new|old)_dhcp6_ia_(na|pd)[0-9]+_(ia_addr|prefix)[0-9]+(_length|_pltime|_vltime)?=' | sort | tr '\n' ' ')
exit 0
`

func (a dhcpcdAdapter) Prepare(spec Spec) (*Instance, error) {
	i, err := newInstance(a, spec)
	if err != nil {
		return nil, err
	}
	spec = i.Spec
	i.Config, i.Script = i.path("dhcpcd.conf"), i.path("script.sh")
	state, run, resolv := i.path("state"), i.path("run"), i.path("resolv.conf")
	// A fresh client: no lease nor DUID from an earlier run.
	for _, d := range []string{state, run} {
		if err := os.RemoveAll(d); err != nil {
			return nil, fmt.Errorf("realclient: %w", err)
		}
	}
	if err := mkdirs(state, run); err != nil {
		return nil, err
	}
	if err := writeFile(resolv, "# d6lab: the client's private /etc/resolv.conf\n", 0o644); err != nil {
		return nil, err
	}

	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\n") }
	w("# written by d6lab (sim/realclient) for client " + spec.Name)
	w("# no /dev management module: the lab's interfaces are not udev's")
	w("nodev")
	w("# no Router Solicitation: DHCPv6 starts on its own (ia_na, ia_pd or inform6)")
	w("noipv6rs")
	w("# a DUID-LL of the interface's MAC: dhcpcd's default would be the machine's")
	w("# DUID-UUID where it has one, the same for every client")
	w("duid ll")
	w("# as Debian's /etc/dhcpcd.conf")
	w("option rapid_commit")
	if !spec.wants(IANA) && !spec.wants(IAPD) {
		w("# stateless: an Information-request only")
		w("inform6")
	}
	w("interface " + spec.IfName)
	if spec.wants(IANA) {
		w("  ia_na 1")
	}
	if spec.wants(IAPD) {
		w("  # delegated to no interface: the prefix is recorded, not configured")
		w("  ia_pd 2 -")
	}
	if err := writeFile(i.Config, b.String(), 0o644); err != nil {
		return nil, err
	}
	if err := writeFile(i.Script, scriptHead("dhcpcd", i.Events)+dhcpcdScript, 0o755); err != nil {
		return nil, err
	}
	i.Argv = privately("dhcpcd", []bind{
		{Src: run, Target: DhcpcdRunDir},
		{Src: state, Target: DhcpcdStateDir},
		{Src: resolv, Target: "/etc/resolv.conf", IfExists: true},
	}, []string{DhcpcdBinary, "-6", "-B", "-d", "-f", i.Config, "-c", i.Script, spec.IfName})
	// SIGTERM stops without a Release; SIGALRM releases, then exits.
	i.Stop = Stop{Signal: syscall.SIGALRM, Wait: 5 * time.Second}
	i.Notes = append(i.Notes,
		"runs in a private mount namespace (unshare --mount) with the client's directories bound over /run and /var/lib/dhcpcd and a private /etc/resolv.conf",
		"DUID: a DUID-LL of the interface's MAC (duid ll), kept in state/duid",
		"DAD: dhcpcd 9.4.1 Declines an address the kernel flags as duplicate, but on Linux the kernel deletes an address with finite lifetimes when DAD fails, so dhcpcd only logs the deletion, waits for DAD, and adds the address again at its next Renew: no Decline",
		"a clean stop is SIGALRM (Release, then exit); SIGTERM would exit without one",
	)
	if spec.wants(IAPD) {
		i.Notes = append(i.Notes, "PD: dhcpcd installs an unreachable route for the delegated prefix (on lo, in the client's namespace) and logs \"cannot delegate to -\"")
	}
	return i, nil
}

// DUID reads state/duid: the DUID as colon-separated hex.
func (dhcpcdAdapter) DUID(i *Instance) ([]byte, error) {
	b, err := os.ReadFile(i.path("state/duid"))
	if err != nil {
		return nil, fmt.Errorf("realclient: dhcpcd DUID: %w", err)
	}
	return hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(string(b)), ":", ""))
}
