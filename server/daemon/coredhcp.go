package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"d6lab/server/lease"
)

// coreDHCPAdapter runs coredhcp, built from its Go module at a pinned
// version into a cache directory outside the repository.
//
// coredhcp's DHCPv6 plugins are server_id, dns, file (static addresses per
// client MAC), prefix (prefix delegation from a pool), nbp, searchdomains
// and sleep: there is no dynamic address range for IA_NA, no Preference
// and no Rapid Commit. Prepare renders what it can (server_id, prefix, an
// empty static file) and says the rest in Notes.
type coreDHCPAdapter struct{}

func init() { register(coreDHCPAdapter{}) }

// CoreDHCPModule and CoreDHCPVersion pin the build: a pseudo-version of the
// main branch (January 2025).
const (
	CoreDHCPModule  = "github.com/coredhcp/coredhcp"
	CoreDHCPVersion = "v0.0.0-20250113163832-cbc175753a45"
)

// GoBinary builds coredhcp.
var GoBinary = "go"

var coreDHCPBuild struct {
	once sync.Once
	err  error
}

// CoreDHCPBinary is where the pinned build lives:
// ${XDG_CACHE_HOME:-~/.cache}/d6lab/coredhcp/<version>/coredhcp.
func CoreDHCPBinary() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "d6lab", "coredhcp", CoreDHCPVersion, "coredhcp")
}

func (coreDHCPAdapter) Kind() Kind { return CoreDHCP }

// Installed looks for the cached build and, the first time it is missing,
// tries `go install` of the pinned version into the cache.
func (coreDHCPAdapter) Installed() error {
	bin := CoreDHCPBinary()
	if installed(bin, "") == nil {
		return nil
	}
	coreDHCPBuild.once.Do(func() { coreDHCPBuild.err = buildCoreDHCP(bin) })
	if coreDHCPBuild.err != nil {
		return coreDHCPBuild.err
	}
	if err := installed(bin, ""); err != nil {
		return fmt.Errorf("%w: coredhcp: go install succeeded but %s is missing", ErrNotInstalled, bin)
	}
	return nil
}

func buildCoreDHCP(bin string) error {
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return fmt.Errorf("%w: coredhcp: %v", ErrNotInstalled, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pkg := CoreDHCPModule + "/cmds/coredhcp@" + CoreDHCPVersion
	cmd := exec.CommandContext(ctx, GoBinary, "install", pkg)
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(bin), "GOFLAGS=-mod=mod")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if strings.Contains(msg, "403") {
			msg = "the Go module proxy refuses the module (403 Forbidden): " + strings.TrimSpace(lastLine(msg))
		}
		return fmt.Errorf("%w: coredhcp: go install %s: %v: %s", ErrNotInstalled, pkg, err, msg)
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Version is the pinned module version (the binary prints none).
func (coreDHCPAdapter) Version() string {
	if installed(CoreDHCPBinary(), "") != nil {
		return ""
	}
	return "coredhcp " + CoreDHCPVersion
}

func (coreDHCPAdapter) Prepare(spec Spec) (*Instance, error) {
	if err := checkMAC(CoreDHCP, spec); err != nil {
		return nil, err
	}
	c := spec.Config
	static := filepath.Join(spec.Dir, "coredhcp-static.txt")
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# rendered by d6lab for server %s", spec.Name)
	w("server6:")
	w("  listen:")
	w("    - \"[::]%%%s\"", spec.IfName)
	w("  plugins:")
	w("    - server_id: LL %s", hexColon(spec.MAC))
	w("    - file: %q", static)
	if !c.PDPool.IsZero() {
		w("    - prefix: %s %d", c.PDPool.Base(), c.PDPool.Delegated())
	}
	conf := filepath.Join(spec.Dir, "coredhcp.yml")
	if err := writeFile(spec.Dir, conf, b.String()); err != nil {
		return nil, err
	}
	if err := touch(static); err != nil {
		return nil, err
	}
	notes := []string{
		fmt.Sprintf("no dynamic address pool: coredhcp's DHCPv6 side has no range plugin, so the pool %s is not served (IA_NA gets addresses only from the static file, empty here)", c.Pool),
		fmt.Sprintf("Preference %d not sent: coredhcp has no plugin for option 7", c.Preference),
		"lifetimes, T1 and T2 not configurable: coredhcp's prefix plugin uses its own",
		"no Rapid Commit, no Information Refresh Time",
		"no lease file: the prefix plugin keeps its delegations in memory",
		fmt.Sprintf("allocator %q and rebind policy %q not honoured: coredhcp's own behaviour applies", c.Allocator, c.Rebind),
	}
	if c.PDPool.IsZero() {
		notes = append(notes, "no PD pool in the spec: this instance serves nothing dynamic")
	}
	return &Instance{
		Spec:   spec,
		Argv:   []string{CoreDHCPBinary(), "--conf", conf},
		Config: conf,
		DUID:   duidLL(spec.MAC),
		Notes:  notes,
	}, nil
}

func (coreDHCPAdapter) Leases(*Instance) ([]lease.Binding, error) {
	return nil, fmt.Errorf("%w: coredhcp: no lease file (the prefix plugin keeps its delegations in memory)", ErrUnsupported)
}

// Wipe: nothing on disk but the (static, empty) file; the DUID is in the
// configuration.
func (coreDHCPAdapter) Wipe(*Instance, bool) error { return nil }
