package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/ddns"
	"d6lab/server/lease"
)

// builtinAdapter runs `d6lab serve` with a durable bbolt lease file.
type builtinAdapter struct{}

func init() { register(builtinAdapter{}) }

func (builtinAdapter) Kind() deploy.Kind { return deploy.Builtin }
func (builtinAdapter) Installed() error  { return nil }
func (builtinAdapter) Version() string   { return "d6lab" }

func (builtinAdapter) Prepare(spec Spec) (*Instance, error) {
	if spec.Binary == "" {
		return nil, errors.New("daemon: builtin: no d6lab binary")
	}
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	leases := filepath.Join(spec.Dir, "leases.db")
	if d := spec.Config.DNS; d != nil {
		// The TSIG secret goes in a file only its owner reads, never on
		// the command line (ps shows argv to everyone).
		if err := ddns.WriteKeyFile(DNSKeyFile(leases), d.Key); err != nil {
			return nil, fmt.Errorf("daemon: builtin: %w", err)
		}
	}
	return &Instance{
		Spec:      spec,
		Argv:      ServeArgv(spec.Binary, spec.IfName, leases, spec.LeaseSync, spec.Config),
		LeaseFile: leases,
		DUID:      append([]byte(nil), spec.Config.DUID...),
	}, nil
}

func (builtinAdapter) Leases(i *Instance) ([]lease.Binding, error) {
	st, err := lease.OpenBolt(i.LeaseFile)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return slices.Collect(st.All()), nil
}

func (builtinAdapter) Wipe(i *Instance, _ bool) error {
	// The builtin server's DUID comes from its flags, never from a file.
	return removeIfExists(i.LeaseFile)
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("daemon: %w", err)
	}
	return nil
}

// DNSKeyFile is where the builtin server's TSIG key file lies: beside its
// lease file leases (Prepare writes it when the config has DNS).
func DNSKeyFile(leases string) string { return filepath.Join(filepath.Dir(leases), "ddns.key") }

// ServeArgv is the `d6lab serve` command line that runs cfg on ifname with
// its bindings in the bbolt file leases ("" keeps them in memory), each
// Reply sent once its binding is as durable as sync says. With
// cfg.DNS it adds the --ddns-* flags, the key by its file (DNSKeyFile,
// which the caller writes: Prepare does).
func ServeArgv(bin, ifname, leases string, sync lease.Durability, cfg server.Config) []string {
	argv := []string{bin, "serve",
		"--iface", ifname,
		"--prefix", cfg.Prefix.String(),
		"--pool", cfg.Pool.String(),
		"--preference", strconv.Itoa(int(cfg.Preference)),
		"--t1", cfg.T1.String(), "--t2", cfg.T2.String(),
		"--preferred", cfg.Preferred.String(), "--valid", cfg.Valid.String(),
		"--allocator", string(cfg.Allocator),
		"--rebind", cfg.Rebind.String(),
		"--duid", server.FormatDUID(cfg.DUID),
		"--seed", strconv.FormatUint(cfg.Seed, 10),
	}
	if leases != "" {
		argv = append(argv, "--leases", leases)
		if sync != lease.OnDisk {
			argv = append(argv, "--leases-sync", sync.String())
		}
	}
	if !cfg.PDPool.IsZero() {
		argv = append(argv, "--pd-pool", cfg.PDPool.Base().String(), "--pd-len", strconv.Itoa(cfg.PDPool.Delegated()))
	}
	if cfg.RapidCommit {
		argv = append(argv, "--rapid-commit")
	}
	if cfg.InfoRefresh > 0 {
		argv = append(argv, "--info-refresh", cfg.InfoRefresh.String())
	}
	if d := cfg.DNS; d != nil {
		argv = append(argv, "--ddns-server", d.Server.String(), "--ddns-zone", d.Zone,
			"--ddns-ttl", d.TTL.String(), "--ddns-key-file", DNSKeyFile(leases))
		if len(d.ReverseZones) > 0 {
			argv = append(argv, "--ddns-reverse", strings.Join(d.ReverseZones, ","))
		}
	}
	return argv
}
