package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"

	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/lease"
)

// Spec is one server instance, resolved: everything an adapter needs to
// render a configuration. Fields an adapter cannot honour are reported in
// Instance.Notes, never silently ignored.
type Spec struct {
	// Name is the instance's name in the scenario (s1, s2, ...).
	Name string
	// Dir is the instance's private working directory: configuration,
	// lease file, DUID file, pid file. Prepare creates it. It survives a
	// restart; Instance.Wipe removes the state kept in it.
	Dir string
	// IfName is the server's interface inside its namespace and Addrs its
	// global addresses (the link's prefix plus the server's own host
	// address).
	IfName string
	Addrs  []netip.Prefix
	// MAC is the hardware address the server's DUID-LL (RFC 9915 §11.4) is
	// made of, for servers that can be told their DUID. It need not be
	// the interface's: the lab passes sim.ServerDUID's, so that server i
	// has the same DUID in every engine and with every kind.
	MAC net.HardwareAddr
	// Config carries the protocol settings: Prefix (the link's /64), Pool,
	// PDPool, Preference, T1/T2/Preferred/Valid, InfoRefresh, RapidCommit,
	// and for the builtin server also DUID, Allocator, Rebind and Seed.
	Config server.Config
	// Binary is the d6lab executable that runs the builtin server.
	Binary string
	// RawPool gives a third-party server the pool exactly as configured.
	// By default the adapters leave out the addresses no server may lease
	// (the Subnet-Router anycast and the RFC 2526 reserved identifiers),
	// which some servers would hand out; d6lab conform sets RawPool to
	// see what the server itself does.
	RawPool bool
	// LeaseSync is what the builtin server's Replies wait for: their
	// bindings on disk (lease.OnDisk, the default) or written to the
	// kernel (lease.InKernel, Kea's memfile's durability). Other kinds
	// keep leases their own way.
	LeaseSync lease.Durability
}

// Instance is a prepared server: its command line and files.
type Instance struct {
	Spec Spec
	Kind deploy.Kind
	// Argv runs the server in the foreground (it must not daemonize), in
	// the namespace the caller chooses.
	Argv []string
	// Env is added to the process environment (may be nil).
	Env []string
	// Config is the main rendered configuration file ("" for builtin,
	// which takes flags).
	Config string
	// LeaseFile is where the server keeps its bindings ("" for a server
	// that keeps none on disk).
	LeaseFile string
	// DUID is the server's DUID as it will send it in Server Identifier
	// options, or nil when the server picks it itself and the caller must
	// learn it from the first Advertise or Reply.
	DUID []byte
	// Notes say where the running server differs from the Spec: a DUID it
	// chooses itself, a rebind behaviour it cannot be told, an option it
	// only sends when asked. Reports print them.
	Notes []string
	// Companions are processes that belong to the server and run beside
	// it in its namespace (Kea's kea-dhcp-ddns, which sends its DNS
	// updates): the lab starts them before Argv and stops, kills, freezes
	// and thaws them with it, as one host.
	Companions []Companion
	// ControlSocket is the server's control channel where it has one that
	// answers lease queries (Kea's UNIX socket with the lease_cmds hook);
	// "" otherwise.
	ControlSocket string

	adapter Adapter
}

// Companion is one process of a server besides its main one.
type Companion struct {
	Name string   // for logs: "kea-dhcp-ddns"
	Argv []string // runs in the foreground
	Log  string   // where its output goes
}

// Command is the command line to start: Argv, run through env(1) with
// Env added when Env is set (the process keeps env's PID: env execs).
func (i *Instance) Command() []string {
	if len(i.Env) == 0 {
		return append([]string(nil), i.Argv...)
	}
	argv := append([]string{EnvBinary}, i.Env...)
	return append(argv, i.Argv...)
}

// EnvBinary is env(1), which Command puts in front of a server that needs
// environment variables.
var EnvBinary = "/usr/bin/env"

// Leases reads the server's lease file: the bindings it holds now (as far
// as the file tells; expired ones included when the file keeps them).
func (i *Instance) Leases() ([]lease.Binding, error) { return i.adapter.Leases(i) }

// Wipe removes the state the server keeps between runs (lease file, and
// for servers that keep one, the DUID file only when keepDUID is false),
// for a restart "without state".
func (i *Instance) Wipe(keepDUID bool) error { return i.adapter.Wipe(i, keepDUID) }

// Adapter knows one kind of server.
type Adapter interface {
	Kind() deploy.Kind
	// Installed returns nil when the server's program is present, or an
	// error naming what is missing (the Debian package, or the build).
	Installed() error
	// Version is the server's own version string ("" when not installed).
	Version() string
	// Prepare renders the configuration into spec.Dir and returns the
	// instance. It fails with ErrUnsupported (wrapped) when the spec asks
	// for something the server cannot do at all (a PD pool for a server
	// without PD, say).
	Prepare(spec Spec) (*Instance, error)
	// Leases and Wipe back the Instance methods.
	Leases(i *Instance) ([]lease.Binding, error)
	Wipe(i *Instance, keepDUID bool) error
}

// Installer is an Adapter whose server d6lab installs itself rather than
// a Debian package (coredhcp, built from its Go module). Install does
// nothing when the server is already there.
type Installer interface {
	Adapter
	Install() error
}

// ErrUnsupported: the server cannot do what the spec asks.
var ErrUnsupported = errors.New("daemon: not supported by this server")

// ErrNotInstalled: the server's program is missing.
var ErrNotInstalled = errors.New("daemon: server not installed")

var adapters = map[deploy.Kind]Adapter{}

// register adds an adapter; each kind's file calls it from init.
func register(a Adapter) { adapters[a.Kind()] = a }

// Lookup returns the adapter of kind k.
func Lookup(k deploy.Kind) (Adapter, error) {
	a, ok := adapters[k]
	if !ok {
		return nil, fmt.Errorf("daemon: unknown server kind %q (valid: %v)", k, Kinds())
	}
	return a, nil
}

// Kinds lists every kind with an adapter, builtin first.
func Kinds() []deploy.Kind {
	var ks []deploy.Kind
	for k := range adapters {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if (ks[i] == deploy.Builtin) != (ks[j] == deploy.Builtin) {
			return ks[i] == deploy.Builtin
		}
		return ks[i] < ks[j]
	})
	return ks
}

// Prepare looks up spec's adapter and prepares the instance.
func Prepare(k deploy.Kind, spec Spec) (*Instance, error) {
	a, err := Lookup(k)
	if err != nil {
		return nil, err
	}
	if err := a.Installed(); err != nil {
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
