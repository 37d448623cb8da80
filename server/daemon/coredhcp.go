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

	"d6lab/deploy"
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

func (coreDHCPAdapter) Kind() deploy.Kind { return deploy.CoreDHCP }

// Installed looks for the cached build. It never builds: that takes a
// minute or two of both cores, which no run, conform or test should spend
// by surprise. Install (`d6lab servers --install`, which make test's setup
// runs) does.
func (coreDHCPAdapter) Installed() error {
	bin := CoreDHCPBinary()
	if installed(bin, "") == nil {
		return nil
	}
	why := ""
	if b, err := os.ReadFile(coreDHCPBuildLog(bin)); err == nil {
		why = "; the last build failed: " + strings.TrimSpace(string(b))
	}
	return fmt.Errorf("%w: coredhcp: %s not built (`d6lab servers --install` builds %s@%s there)%s",
		ErrNotInstalled, bin, CoreDHCPModule, CoreDHCPVersion, why)
}

// coreDHCPBuildLog keeps why the last build failed, for Installed to say.
func coreDHCPBuildLog(bin string) string { return filepath.Join(filepath.Dir(bin), "build-failed.txt") }

// Install builds the pinned coredhcp into the cache when it is not there.
func (a coreDHCPAdapter) Install() error {
	if a.Installed() == nil {
		return nil
	}
	bin := CoreDHCPBinary()
	coreDHCPBuild.once.Do(func() {
		reason := buildCoreDHCP(bin)
		if reason == "" {
			_ = os.Remove(coreDHCPBuildLog(bin))
			return
		}
		_ = os.WriteFile(coreDHCPBuildLog(bin), []byte(reason+"\n"), 0o644)
		coreDHCPBuild.err = fmt.Errorf("%w: coredhcp: %s", ErrNotInstalled, reason)
	})
	if coreDHCPBuild.err != nil {
		return coreDHCPBuild.err
	}
	if err := installed(bin, ""); err != nil {
		return fmt.Errorf("%w: coredhcp: go build succeeded but %s is missing", ErrNotInstalled, bin)
	}
	return nil
}

// buildCoreDHCP builds the pinned coredhcp into bin, and says why not when
// it cannot ("" when it did). It does not use
// `go install module@version`: that form also asks the module proxy for
// the module's version list (for deprecation notices), and a proxy may
// serve the pinned version yet refuse the list. Instead it writes a
// small module beside the binary that requires the pin, and builds the
// command from it; go.sum is checked against the checksum database as for
// any module.
func buildCoreDHCP(bin string) (reason string) {
	dir := filepath.Join(filepath.Dir(bin), "build")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err.Error()
	}
	gomod := fmt.Sprintf("// written by d6lab to build %s at a pinned version\nmodule d6lab.local/coredhcp-build\n\ngo 1.23\n\nrequire %s %s\n",
		CoreDHCPModule, CoreDHCPModule, CoreDHCPVersion)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pkg := CoreDHCPModule + "/cmds/coredhcp"
	cmd := exec.CommandContext(ctx, GoBinary, "build", "-mod=mod", "-trimpath", "-o", bin+".tmp", pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// The whole output stays beside the build for whoever wants it.
	_ = os.WriteFile(filepath.Join(dir, "build.log"), out.Bytes(), 0o644)
	if err != nil {
		msg := lastLine(out.String())
		if strings.Contains(out.String(), "403") {
			msg = "the Go module proxy refuses the module (403 Forbidden): " + msg
		}
		return fmt.Sprintf("go build %s@%s: %v: %s (whole output in %s)", pkg, CoreDHCPVersion, err, msg, filepath.Join(dir, "build.log"))
	}
	// Renamed into place only once whole: an interrupted build leaves no
	// binary that Installed would take for a good one.
	if err := os.Rename(bin+".tmp", bin); err != nil {
		return err.Error()
	}
	return ""
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
	if err := checkMAC(deploy.CoreDHCP, spec); err != nil {
		return nil, err
	}
	c := spec.Config
	static := filepath.Join(spec.Dir, "coredhcp-static.txt")
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# rendered by d6lab for server %s", spec.Name)
	w("server6:")
	// One socket joined to All_DHCP_Relay_Agents_and_Servers on the lab
	// interface (clients), and one per global address (relay agents
	// unicast to the server). Not [::]: a wildcard socket beside the
	// multicast one would receive every multicast message a second time.
	w("  listen:")
	w("    - \"[ff02::1:2%%%s]:547\"", spec.IfName)
	for _, a := range spec.Addrs {
		w("    - \"[%s]:547\"", a.Addr())
	}
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
		"lifetimes, T1 and T2 not configurable: the prefix plugin grants 1 h preferred and valid lifetimes with T1 = T2 = 0 (the client picks its own), so a run shorter than an hour never sees a CPE renew or rebind",
		"no Rapid Commit, no Information Refresh Time",
		"no lease file: the prefix plugin keeps its delegations in memory",
		fmt.Sprintf("allocator %q and rebind policy %q not honoured: coredhcp's own behaviour applies", c.Allocator, c.Rebind),
	}
	if c.PDPool.IsZero() {
		notes = append(notes, "no PD pool in the spec: this instance serves nothing dynamic")
	}
	if c.DNS != nil {
		notes = append(notes, "does not update DNS (the lab runs it without DDNS): coredhcp has no plugin that sends RFC 2136 updates")
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
