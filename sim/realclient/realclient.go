package realclient

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"d6lab/clientsim/client"
	"d6lab/clientsim/profile"
	"d6lab/deploy"
)

// Program paths of the real clients and the tools their wrappers and
// scripts run (Debian packages). Only this package reads them and nothing
// in d6lab sets them; they are variables so that a caller on a host that
// installs them elsewhere can.
var (
	DhclientBinary = "/usr/sbin/dhclient"  // isc-dhcp-client
	DhcpcdBinary   = "/usr/sbin/dhcpcd"    // dhcpcd-base
	Dhcp6cBinary   = "/usr/sbin/dhcp6c"    // wide-dhcpv6-client
	BusyboxBinary  = "/usr/bin/busybox"    // busybox (udhcpc6 is one of its applets)
	UnshareBinary  = "/usr/bin/unshare"    // util-linux
	MountBinary    = "/usr/bin/mount"      // mount
	ShellBinary    = "/bin/sh"             // dash
	IPBinary       = "/usr/sbin/ip"        // iproute2: the client scripts configure addresses with it
	DateBinary     = "/usr/bin/date"       // coreutils: the client scripts stamp their events
	DpkgQuery      = "/usr/bin/dpkg-query" // dpkg
)

// IA types a Spec may ask for.
const (
	IANA = "na" // IA_NA: an address (RFC 9915 §21.4)
	IAPD = "pd" // IA_PD: a delegated prefix (§21.21)
)

// Spec is one real client, resolved: everything an adapter needs to
// prepare it.
type Spec struct {
	// Name is the client's name in the run (for messages and notes).
	Name string
	// Dir is the client's own directory in the run directory: Prepare
	// creates it and writes there everything the client reads or writes
	// (configuration, script, lease, PID and DUID files, its private
	// /run and /etc/resolv.conf). Two clients must never share one.
	Dir string
	// Namespace is the name of the client's network namespace
	// (netns.Lab.Namespace of its node). One client per namespace: the
	// kinds make their DUIDs of the interface's MAC.
	Namespace string
	// IfName is the client's interface inside that namespace.
	IfName string
	// IA lists what the client asks for: IANA, IAPD or both; empty, it
	// is stateless (an Information-request only, RFC 9915 §18.2.6).
	IA []string
	// DADWait, for dhclient only, runs it the way ISC's own
	// dhclient-script does rather than Debian's: dhclient is started with
	// --dad-wait-time (whole seconds, rounded up) and the lab's script
	// waits that long for DAD on each address it adds and exits 3 when
	// DAD failed, so that dhclient Declines the address (RFC 9915
	// §18.2.8). Zero, the default, does what Debian 12's
	// /sbin/dhclient-script does: add the address and return at once, so
	// a DAD failure never reaches dhclient. The other kinds ignore it.
	DADWait time.Duration
}

// Capability is what a client can be asked to do.
type Capability string

// Capabilities a kind may lack.
const (
	CapNA        Capability = "na"        // IA_NA alone
	CapPD        Capability = "pd"        // IA_PD alone
	CapNAPD      Capability = "na+pd"     // IA_NA and IA_PD in the same exchanges
	CapStateless Capability = "stateless" // Information-request, no IA
)

// Capabilities lists every capability.
var Capabilities = []Capability{CapNA, CapPD, CapNAPD, CapStateless}

// Capability is what s asks for, or an error for an IA list with an
// unknown or repeated entry.
func (s Spec) Capability() (Capability, error) {
	var na, pd bool
	for _, ia := range s.IA {
		switch {
		case ia == IANA && !na:
			na = true
		case ia == IAPD && !pd:
			pd = true
		default:
			return "", fmt.Errorf("realclient: %s: IA %q: want %q or %q, each at most once (got %v)", s.Name, ia, IANA, IAPD, s.IA)
		}
	}
	switch {
	case na && pd:
		return CapNAPD, nil
	case na:
		return CapNA, nil
	case pd:
		return CapPD, nil
	}
	return CapStateless, nil
}

func (s Spec) wants(ia string) bool { return slices.Contains(s.IA, ia) }

// Stop is how to stop a running client cleanly, so that it releases what
// it holds (a Release, RFC 9915 §18.2.7) and deconfigures its interface.
type Stop struct {
	// Signal is sent to the client's process when Argv is empty.
	Signal syscall.Signal
	// Argv, when set, is run in the client's namespace instead: a command
	// that makes the running client release and exit.
	Argv []string
	// Wait bounds the clean stop: after it the client is killed (a client
	// whose server is gone retransmits its Release for up to half a
	// minute).
	Wait time.Duration
}

// Instance is a prepared client: its command line and files.
type Instance struct {
	Spec Spec
	Kind deploy.ClientKind
	// Argv runs the client in the foreground (the lab tracks its PID and
	// kills its process group at teardown), in Spec.Namespace.
	Argv []string
	// Log is where the client's output should go (Spec.Dir/client.log).
	Log string
	// Config is the client's configuration file; Script the lab's client
	// script, which configures the addresses (for a kind that leaves that
	// to its script) and appends one line per call to Events: the time
	// (Unix seconds), the reason, and what the client passed about its
	// IAs.
	Config, Script, Events string
	// Stop stops it cleanly.
	Stop Stop
	// Notes say where the client, as run, differs from a plain Debian
	// install, or what it does not do (a Decline after DAD failed).
	Notes []string

	adapter Adapter
}

// DUID reads the client's DUID from its state in Spec.Dir (nil and an
// error before the client has written it).
func (i *Instance) DUID() ([]byte, error) { return i.adapter.DUID(i) }

// Adapter knows one kind of real client.
type Adapter interface {
	Kind() deploy.ClientKind
	// Package is the Debian package that provides the client.
	Package() string
	// Installed returns nil when the client can run here, or an error
	// (ErrNotInstalled) naming what is missing: the Debian package, or
	// for udhcpc6 the applet Debian's busybox is built without.
	Installed() error
	// Version is the client's own version string ("" when not installed).
	Version() string
	// Lacks returns "" when the client can do c, or the reason it cannot
	// (a report's "n/a").
	Lacks(c Capability) string
	// Prepare writes everything the client needs into spec.Dir and
	// returns the instance. It fails with ErrUnsupported (wrapped, with
	// Lacks' reason) for a capability the client lacks.
	Prepare(spec Spec) (*Instance, error)
	// DUID backs Instance.DUID.
	DUID(i *Instance) ([]byte, error)
}

// ErrUnsupported: the client cannot do what the spec asks.
var ErrUnsupported = errors.New("realclient: not supported by this client")

// ErrNotInstalled: the client cannot run on this host.
var ErrNotInstalled = errors.New("realclient: client not installed")

var adapters = map[deploy.ClientKind]Adapter{}

// register adds an adapter; each kind's file calls it from init.
func register(a Adapter) { adapters[a.Kind()] = a }

// Lookup returns the adapter of kind k.
func Lookup(k deploy.ClientKind) (Adapter, error) {
	a, ok := adapters[k]
	if !ok {
		return nil, fmt.Errorf("realclient: unknown client kind %q (valid: %v)", k, Kinds())
	}
	return a, nil
}

// Kinds lists every kind with an adapter, sorted.
func Kinds() []deploy.ClientKind {
	var ks []deploy.ClientKind
	for k := range adapters {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// Usable returns nil when kind k can do what spec asks, or why not: the
// kind unknown, not installed here (ErrNotInstalled), the IA list
// malformed, or the capability missing.
func Usable(k deploy.ClientKind, spec Spec) error {
	a, err := Lookup(k)
	if err != nil {
		return err
	}
	if err := a.Installed(); err != nil {
		return err
	}
	c, err := spec.Capability()
	if err != nil {
		return err
	}
	if why := a.Lacks(c); why != "" {
		return errors.New(why)
	}
	return nil
}

// Lacks is Usable's reason as text, "" when there is none: what a report
// says for "n/a".
func Lacks(k deploy.ClientKind, spec Spec) string {
	if err := Usable(k, spec); err != nil {
		return err.Error()
	}
	return ""
}

// Deviations is what the client profile of kind k says the real client
// does where it departs from RFC 9915 (clientsim/profile; the profile of a
// kind has the kind's name), and none for a kind without a profile. Its
// MinT2: WIDE dhcp6c raises a T2 under 30 s to 30 s and its T1 to 18 s.
func Deviations(k deploy.ClientKind) client.Deviations {
	p, err := profile.Lookup(string(k))
	if err != nil {
		return client.Deviations{}
	}
	return p.Deviations
}

// Prepare looks up kind k's adapter, checks that the client is installed
// and can do what spec asks, and prepares the instance.
func Prepare(k deploy.ClientKind, spec Spec) (*Instance, error) {
	a, err := Lookup(k)
	if err != nil {
		return nil, err
	}
	if err := a.Installed(); err != nil {
		return nil, err
	}
	if err := check(a, spec); err != nil {
		return nil, err
	}
	inst, err := a.Prepare(spec)
	if err != nil {
		return nil, err
	}
	inst.adapter = a
	inst.Kind = k
	return inst, nil
}

// check validates what every adapter needs of a spec and refuses a
// capability the adapter lacks.
func check(a Adapter, spec Spec) error {
	switch {
	case spec.Dir == "":
		return fmt.Errorf("realclient: %s: %s: no directory", a.Kind(), spec.Name)
	case spec.IfName == "":
		return fmt.Errorf("realclient: %s: %s: no interface", a.Kind(), spec.Name)
	case strings.ContainsAny(spec.IfName, " \t\n'\"\\;{}/"):
		return fmt.Errorf("realclient: %s: %s: interface name %q", a.Kind(), spec.Name, spec.IfName)
	}
	c, err := spec.Capability()
	if err != nil {
		return err
	}
	if why := a.Lacks(c); why != "" {
		return fmt.Errorf("%w: %s: %s", ErrUnsupported, a.Kind(), why)
	}
	return nil
}

// installed returns nil when path is an executable file, or an
// ErrNotInstalled naming the Debian package that provides it.
func installed(path, pkg string) error {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return nil
	}
	return fmt.Errorf("%w: %s missing (install the Debian package %s)", ErrNotInstalled, path, pkg)
}

// installedDir returns nil when path is a directory (a state directory the
// package ships, which the private mount binds over), or an
// ErrNotInstalled naming the package.
func installedDir(path, pkg string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil
	}
	return fmt.Errorf("%w: %s missing (it comes with the Debian package %s)", ErrNotInstalled, path, pkg)
}
