package daemon

import (
	"errors"
	"flag"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/alloc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedSpec is the spec every golden configuration is rendered from.
func fixedSpec(t testing.TB, dir string, pd bool) Spec {
	t.Helper()
	pool, err := alloc.NewPool(netip.MustParseAddr("2001:db8:1::1000"), netip.MustParseAddr("2001:db8:1::1fff"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Name = "s1"
	cfg.Prefix = netip.MustParsePrefix("2001:db8:1::/64")
	cfg.Pool = pool
	if pd {
		if cfg.PDPool, err = alloc.NewPrefixPool(netip.MustParsePrefix("2001:db8:100::/48"), 56); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Preference = 255
	cfg.T1, cfg.T2, cfg.Preferred, cfg.Valid = 10*time.Second, 16*time.Second, 20*time.Second, 30*time.Second
	cfg.InfoRefresh = 600 * time.Second
	cfg.RapidCommit = true
	return Spec{
		Name:   "s1",
		Dir:    dir,
		IfName: "d6lt-n1",
		MAC:    net.HardwareAddr{0x02, 0xd6, 0x1a, 0xb0, 0x00, 0x01},
		Addrs:  []netip.Prefix{netip.MustParsePrefix("2001:db8:1::fdff:ffff:ffff:ff81/64")},
		Config: cfg,
	}
}

// validators check a rendered configuration with the program itself.
var validators = map[deploy.Kind]func(conf string) []string{
	deploy.Kea:     func(c string) []string { return []string{KeaBinary, "-t", c} },
	deploy.Dhcpd:   func(c string) []string { return []string{DhcpdBinary, "-6", "-t", "-cf", c} },
	deploy.Dnsmasq: func(c string) []string { return []string{DnsmasqBinary, "--test", "--conf-file=" + c} },
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		kind deploy.Kind
		pd   bool
	}{
		{deploy.Kea, true}, {deploy.Dhcpd, true}, {deploy.Dnsmasq, false}, {deploy.Wide, false}, {deploy.CoreDHCP, true},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			a, err := Lookup(tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			inst, err := a.Prepare(fixedSpec(t, dir, tc.pd))
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if inst.Config == "" || !strings.HasPrefix(inst.Config, dir) {
				t.Fatalf("config %q not in the instance directory %s", inst.Config, dir)
			}
			b, err := os.ReadFile(inst.Config)
			if err != nil {
				t.Fatal(err)
			}
			got := "# argv: " + strings.Join(inst.Command(), " ") + "\n" + string(b)
			got = strings.ReplaceAll(got, dir, "@DIR@")
			got = strings.ReplaceAll(got, CoreDHCPBinary(), "@COREDHCP@")
			golden := filepath.Join("testdata", string(tc.kind)+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("rendered %s differs from %s:\n%s", tc.kind, golden, got)
			}
			if len(inst.DUID) == 0 {
				t.Errorf("DUID not set")
			}
			for _, n := range inst.Notes {
				if n == "" {
					t.Errorf("empty note")
				}
			}
			v, ok := validators[tc.kind]
			if !ok {
				return
			}
			if err := a.Installed(); err != nil {
				t.Skipf("syntax not checked: %v", err)
			}
			// Kea checks that the interface exists: validate a copy
			// rendered for the loopback interface.
			spec := fixedSpec(t, t.TempDir(), tc.pd)
			spec.IfName, spec.Addrs = "lo", nil
			lo, err := a.Prepare(spec)
			if err != nil {
				t.Fatal(err)
			}
			argv := v(lo.Config)
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
			}
		})
	}
}

func TestPrepareRefusesPD(t *testing.T) {
	for _, k := range []deploy.Kind{deploy.Dnsmasq, deploy.Wide} {
		a, _ := Lookup(k)
		_, err := a.Prepare(fixedSpec(t, t.TempDir(), true))
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s with a PD pool: got %v, want ErrUnsupported", k, err)
		}
	}
}

func TestPrepareNeedsMAC(t *testing.T) {
	for _, k := range []deploy.Kind{deploy.Kea, deploy.Dhcpd, deploy.Dnsmasq, deploy.Wide, deploy.CoreDHCP} {
		a, _ := Lookup(k)
		spec := fixedSpec(t, t.TempDir(), false)
		spec.MAC = nil
		if _, err := a.Prepare(spec); err == nil {
			t.Errorf("%s without a MAC: no error", k)
		}
	}
}

func TestWideDUIDFile(t *testing.T) {
	dir := t.TempDir()
	a, _ := Lookup(deploy.Wide)
	inst, err := a.Prepare(fixedSpec(t, dir, false))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "duid", "dhcp6s_duid"))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{10, 0}, inst.DUID...)
	if string(b) != string(want) {
		t.Errorf("DUID file % x, want % x", b, want)
	}
	if err := a.Wipe(inst, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "duid", "dhcp6s_duid")); err != nil {
		t.Errorf("Wipe(keepDUID) removed the DUID file: %v", err)
	}
	if err := a.Wipe(inst, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "duid", "dhcp6s_duid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Wipe(false) kept the DUID file: %v", err)
	}
}

func TestKindsAndLookup(t *testing.T) {
	ks := Kinds()
	want := []deploy.Kind{deploy.Builtin, deploy.CoreDHCP, deploy.Dhcpd, deploy.Dnsmasq, deploy.Kea, deploy.Wide}
	if len(ks) != len(want) {
		t.Fatalf("Kinds() = %v, want %v", ks, want)
	}
	for i := range want {
		if ks[i] != want[i] {
			t.Fatalf("Kinds() = %v, want %v", ks, want)
		}
	}
	if _, err := Lookup("nosuch"); err == nil || !strings.Contains(err.Error(), "kea") {
		t.Errorf("Lookup(nosuch) = %v, want an error listing the kinds", err)
	}
}

func TestCommandAddsEnv(t *testing.T) {
	i := &Instance{Argv: []string{"/x", "-c", "y"}, Env: []string{"A=1"}}
	got := strings.Join(i.Command(), " ")
	if got != EnvBinary+" A=1 /x -c y" {
		t.Errorf("Command() = %q", got)
	}
	i.Env = nil
	if got := strings.Join(i.Command(), " "); got != "/x -c y" {
		t.Errorf("Command() without Env = %q", got)
	}
}

func TestVersions(t *testing.T) {
	for k, prefix := range map[deploy.Kind]string{
		deploy.Kea: "kea-dhcp6 2.", deploy.Dhcpd: "isc-dhcpd-4.", deploy.Dnsmasq: "dnsmasq 2.", deploy.Wide: "wide-dhcpv6-server ",
	} {
		a, _ := Lookup(k)
		if err := a.Installed(); err != nil {
			t.Logf("%s: %v", k, err)
			continue
		}
		if v := a.Version(); !strings.HasPrefix(v, prefix) {
			t.Errorf("%s: Version() = %q, want %q...", k, v, prefix)
		}
	}
	a, _ := Lookup(deploy.Builtin)
	if a.Version() == "" {
		t.Error("builtin: empty version")
	}
}
