package realclient

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"d6lab/deploy"
	"d6lab/server/daemon"
)

// udhcpc6Adapter runs busybox's udhcpc6 in the foreground:
// `busybox udhcpc6 -f -R -i IF -s SCRIPT -p PIDFILE [-d] [-r no] [-l]`.
// It keeps no state file (its DUID is a DUID-LL of the interface's MAC,
// made at each start) and leaves configuring addresses to its script, so
// it needs no private mount namespace.
//
// Debian's busybox 1.35 is built without the udhcpc6 applet (upstream's
// default config has it, Debian's does not): Installed finds that out at
// run time (`busybox --list`) and says so, which makes every use of the
// kind n/a with that reason. The adapter is written against busybox
// 1.35's networking/udhcp/d6_dhcpc.c for a busybox that has the applet.
type udhcpc6Adapter struct{}

func init() { register(udhcpc6Adapter{}) }

var busyboxVersion daemon.VersionCache

// ErrNoUdhcpc6 is wrapped by udhcpc6's Installed when busybox lacks the
// applet.
var ErrNoUdhcpc6 = fmt.Errorf("%w: Debian's busybox 1.35 is built without the udhcpc6 applet (busybox --list has no udhcpc6)", ErrNotInstalled)

// applets caches `busybox --list`.
var applets struct {
	once sync.Once
	list []string
	err  error
}

func (udhcpc6Adapter) Kind() deploy.ClientKind { return deploy.Udhcpc6 }
func (udhcpc6Adapter) Package() string         { return "busybox" }
func (udhcpc6Adapter) Lacks(Capability) string { return "" }

func (a udhcpc6Adapter) Installed() error {
	if err := installed(BusyboxBinary, a.Package()); err != nil {
		return err
	}
	applets.once.Do(func() {
		out, err := exec.Command(BusyboxBinary, "--list").Output()
		if err != nil {
			applets.err = fmt.Errorf("%w: %s --list: %v", ErrNotInstalled, BusyboxBinary, err)
			return
		}
		applets.list = strings.Fields(string(out))
	})
	if applets.err != nil {
		return applets.err
	}
	for _, x := range applets.list {
		if x == "udhcpc6" {
			return nil
		}
	}
	return ErrNoUdhcpc6
}

// Version is busybox's banner's first words, "BusyBox v1.35.0 (Debian
// 1:1.35.0-4+deb12u1+b1)".
func (udhcpc6Adapter) Version() string {
	return busyboxVersion.Get(func(out string) string {
		v := daemon.FirstLine(out)
		if i := strings.Index(v, " multi-call"); i >= 0 {
			v = v[:i]
		}
		return v
	}, BusyboxBinary)
}

// udhcpc6Script configures the address udhcpc6 passes ($ipv6, with its
// valid lifetime $lease, the only one it passes) and removes global
// addresses at deconfig, as busybox's examples/udhcp/simple.script does
// for DHCPv6; a delegated prefix ($ipv6prefix) is not configured.
const udhcpc6Script = `
event "$1" "new=${ipv6:+$ipv6/128}" "prefix=$ipv6prefix" "valid=$lease"
case "$1" in
deconfig)
	$ip link set dev "$interface" up
	$ip -6 addr flush dev "$interface" scope global
	;;
bound|renew)
	if [ -n "$ipv6" ]; then
		$ip -6 addr replace "$ipv6/128" dev "$interface" scope global \
			valid_lft "${lease:-forever}" preferred_lft "${lease:-forever}"
	fi
	;;
esac
exit 0
`

func (a udhcpc6Adapter) Prepare(spec Spec) (*Instance, error) {
	i, err := newInstance(a, spec)
	if err != nil {
		return nil, err
	}
	spec = i.Spec
	i.Script = i.path("script.sh")
	if err := writeFile(i.Script, scriptHead("busybox udhcpc6", i.Events)+udhcpc6Script, 0o755); err != nil {
		return nil, err
	}
	// -R: release on exit (SIGTERM); -f: foreground.
	i.Argv = []string{BusyboxBinary, "udhcpc6", "-f", "-R", "-i", spec.IfName, "-s", i.Script, "-p", i.path("udhcpc6.pid")}
	na, pd := spec.wants(IANA), spec.wants(IAPD)
	switch {
	case !na && !pd:
		i.Argv = append(i.Argv, "-l") // Information-request instead of Solicit
	case !na:
		i.Argv = append(i.Argv, "-r", "no", "-d") // no IA_NA, an IA_PD
	case pd:
		i.Argv = append(i.Argv, "-d")
	}
	i.Stop = Stop{Signal: syscall.SIGTERM, Wait: 5 * time.Second}
	i.Notes = append(i.Notes,
		"DUID: a DUID-LL of the interface's MAC, made at each start (no DUID file)",
		"the script sets the preferred lifetime to the valid one: udhcpc6 passes only the valid lifetime ($lease)",
		"DAD: udhcpc6 does not watch it: no Decline",
	)
	return i, nil
}

// DUID: udhcpc6 keeps none on disk.
func (udhcpc6Adapter) DUID(*Instance) ([]byte, error) {
	return nil, errors.New("realclient: udhcpc6 keeps no DUID file: its DUID is a DUID-LL of the interface's MAC")
}
