package daemon

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"d6lab/deploy"
)

// LabDNS is the DNS block every Kea DNS spec renders: the lab's service
// Address of the DNS server, a forward zone and the pool's reverse zone.
func labDNS() *deploy.DNS {
	return &deploy.DNS{
		Server:       netip.MustParseAddrPort("[fd00:d6:53::53]:53"),
		Zone:         "lab.example.",
		ReverseZones: []string{"0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
		TTL:          30 * time.Second,
		Key:          deploy.TSIG{Name: "d6lab-ddns.", Algorithm: "hmac-sha256.", Secret: "c2VjcmV0IGtleSBvZiB0aGUgbGFiIGZvciB0ZXN0aW5n"},
	}
}

// KeaSpec is fixedSpec with DNS, rendered into dir.
func keaSpec(t *testing.T, dir string, dns *deploy.DNS) Spec {
	spec := fixedSpec(t, dir, true)
	spec.Config.DNS = dns
	return spec
}

// ReadJSON decodes a rendered Kea configuration.
func readJSON(g *WithT, path string) map[string]any {
	b, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	var m map[string]any
	g.Expect(json.Unmarshal(b, &m)).To(Succeed(), "%s", path)
	return m
}

// KeaCheck runs argv (a Kea program's -t), skipping with a message when
// The program is not installed.
func keaCheck(t *testing.T, argv ...string) {
	if _, err := os.Stat(argv[0]); err != nil {
		t.Skipf("syntax not checked: %s missing (install the Debian package kea-dhcp6-server / kea-dhcp-ddns-server)", argv[0])
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// KeaInstalled skips t unless kea-dhcp6 and its lease_cmds hook are there.
func keaInstalled(t *testing.T) *WithT {
	if err := (keaAdapter{}).Installed(); err != nil {
		t.Skip(err.Error())
	}
	return NewWithT(t)
}

// Always loads lease_cmds on a control socket in the instance directory, which kea-dhcp6 -t accepts.
func TestKeaControlSocket(t *testing.T) {
	g := keaInstalled(t)
	dir := t.TempDir()
	inst, err := Prepare(deploy.Kea, keaSpec(t, dir, nil))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(inst.ControlSocket).To(Equal(filepath.Join(dir, KeaControlSocketName)))
	g.Expect(inst.Companions).To(BeEmpty(), "no DNS, no kea-dhcp-ddns")
	d6 := readJSON(g, inst.Config)["Dhcp6"].(map[string]any)
	g.Expect(d6["control-socket"]).To(Equal(map[string]any{"socket-type": "unix", "socket-name": inst.ControlSocket}))
	g.Expect(d6["hooks-libraries"]).To(Equal([]any{map[string]any{"library": KeaLeaseCmdsHook}}))
	g.Expect(d6).NotTo(HaveKey("dhcp-ddns"))
	for _, n := range inst.Notes {
		g.Expect(n).NotTo(ContainSubstring("DNS"))
	}

	spec := keaSpec(t, t.TempDir(), nil)
	spec.IfName, spec.Addrs = "lo", nil
	lo, err := Prepare(deploy.Kea, spec)
	g.Expect(err).NotTo(HaveOccurred())
	keaCheck(t, KeaBinary, "-t", lo.Config)
}

// Puts the control socket under KeaSocketDir when the instance directory is too long for a UNIX socket.
func TestKeaControlSocketPath(t *testing.T) {
	g := keaInstalled(t)
	long := filepath.Join("/tmp", strings.Repeat("d", 100), "servers", "s1")
	short := keaControlSocket(long)
	g.Expect(short).To(HavePrefix(KeaSocketDir + "/kea6-"))
	g.Expect(len(short) + len(".lock")).To(BeNumerically("<=", maxSocketPath))
	g.Expect(keaControlSocket(long+"x")).NotTo(Equal(short), "one per instance directory")
	g.Expect(keaControlSocket("/tmp/run/servers/s1")).To(Equal("/tmp/run/servers/s1/" + KeaControlSocketName))

	// RemoveControlSocket removes a socket outside the directory only.
	sd := t.TempDir()
	old := KeaSocketDir
	KeaSocketDir = sd
	t.Cleanup(func() { KeaSocketDir = old })
	i := &Instance{Spec: Spec{Dir: long}, ControlSocket: keaControlSocket(long)}
	g.Expect(i.ControlSocket).To(HavePrefix(sd))
	g.Expect(os.WriteFile(i.ControlSocket, nil, 0o600)).To(Succeed())
	g.Expect(os.WriteFile(i.ControlSocket+".lock", nil, 0o600)).To(Succeed())
	g.Expect(RemoveControlSocket(i)).To(Succeed())
	g.Expect(i.ControlSocket).NotTo(BeAnExistingFile())
	g.Expect(i.ControlSocket + ".lock").NotTo(BeAnExistingFile())

	in := t.TempDir()
	j := &Instance{Spec: Spec{Dir: in}, ControlSocket: keaControlSocket(in)}
	g.Expect(os.WriteFile(j.ControlSocket, nil, 0o600)).To(Succeed())
	g.Expect(RemoveControlSocket(j)).To(Succeed())
	g.Expect(j.ControlSocket).To(BeAnExistingFile(), "in the directory: it goes with the directory")
}

// With DNS: kea-dhcp6 sends NameChangeRequests to kea-dhcp-ddns, a companion that updates the zone and the reverse zones with the TSIG key.
func TestKeaDNS(t *testing.T) {
	g := keaInstalled(t)
	dir := t.TempDir()
	dns := labDNS()
	inst, err := Prepare(deploy.Kea, keaSpec(t, dir, dns))
	g.Expect(err).NotTo(HaveOccurred())

	d6 := readJSON(g, inst.Config)["Dhcp6"].(map[string]any)
	g.Expect(d6["dhcp-ddns"]).To(HaveKeyWithValue("enable-updates", true))
	g.Expect(d6["dhcp-ddns"]).To(HaveKeyWithValue("server-ip", "::1"))
	g.Expect(d6["dhcp-ddns"]).To(HaveKeyWithValue("server-port", float64(KeaDDNSPort)))
	g.Expect(d6).To(HaveKeyWithValue("ddns-qualifying-suffix", "lab.example."))
	g.Expect(d6).To(HaveKeyWithValue("ddns-use-conflict-resolution", true))
	g.Expect(d6).To(HaveKeyWithValue("ddns-override-client-update", true))
	g.Expect(d6).To(HaveKeyWithValue("ddns-update-on-renew", false))

	g.Expect(inst.Companions).To(HaveLen(1))
	c := inst.Companions[0]
	g.Expect(c.Name).To(Equal("kea-dhcp-ddns"))
	g.Expect(c.Argv).To(ContainElements("KEA_PIDFILE_DIR="+dir, "KEA_LOCKFILE_DIR="+dir, KeaDDNSBinary))
	conf := c.Argv[len(c.Argv)-1]
	g.Expect(c.Argv[len(c.Argv)-2]).To(Equal("-c"))
	g.Expect(conf).To(HavePrefix(dir))

	d2 := readJSON(g, conf)["DhcpDdns"].(map[string]any)
	g.Expect(d2).To(HaveKeyWithValue("ip-address", "::1"))
	g.Expect(d2).To(HaveKeyWithValue("port", float64(KeaDDNSPort)))
	g.Expect(d2["tsig-keys"]).To(Equal([]any{map[string]any{
		"name": "d6lab-ddns.", "algorithm": "HMAC-SHA256", "secret": dns.Key.Secret,
	}}))
	server := []any{map[string]any{"ip-address": "fd00:d6:53::53", "port": float64(53)}}
	g.Expect(d2["forward-ddns"]).To(Equal(map[string]any{"ddns-domains": []any{
		map[string]any{"name": "lab.example.", "key-name": "d6lab-ddns.", "dns-servers": server},
	}}))
	g.Expect(d2["reverse-ddns"]).To(Equal(map[string]any{"ddns-domains": []any{
		map[string]any{"name": dns.ReverseZones[0], "key-name": "d6lab-ddns.", "dns-servers": server},
	}}))

	// Both files as rendered, against testdata/kea-dns.golden (-update).
	var got strings.Builder
	for _, f := range []string{inst.Config, conf} {
		b, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		got.WriteString("# " + filepath.Base(f) + "\n" + string(b))
	}
	got.WriteString("# companion: " + strings.Join(c.Argv, " ") + "\n")
	golden := filepath.Join("testdata", "kea-dns.golden")
	out := strings.ReplaceAll(got.String(), dir, "@DIR@")
	if *update {
		g.Expect(os.WriteFile(golden, []byte(out), 0o644)).To(Succeed())
	}
	want, err := os.ReadFile(golden)
	g.Expect(err).NotTo(HaveOccurred(), "run go test -update to create it")
	g.Expect(out).To(Equal(string(want)), "rendered Kea DNS configuration differs from %s", golden)

	// The notes say what Kea does not do as the spec says: its own TTL.
	g.Expect(inst.Notes).To(ContainElement(ContainSubstring("600 s here")))

	// Both programs accept what was rendered.
	spec := keaSpec(t, t.TempDir(), dns)
	spec.IfName, spec.Addrs = "lo", nil
	lo, err := Prepare(deploy.Kea, spec)
	g.Expect(err).NotTo(HaveOccurred())
	keaCheck(t, KeaBinary, "-t", lo.Config)
	keaCheck(t, KeaDDNSBinary, "-t", lo.Companions[0].Argv[len(lo.Companions[0].Argv)-1])
}

// With DNS: refuses a configuration D2 could not use, naming the value.
func TestKeaDNSRefuses(t *testing.T) {
	g := keaInstalled(t)
	for _, tc := range []struct {
		change func(*deploy.DNS)
		want   string
	}{
		{func(d *deploy.DNS) { d.Zone = "lab.example" }, `zone "lab.example"`},
		{func(d *deploy.DNS) { d.Server = netip.AddrPort{} }, "DNS server"},
		{func(d *deploy.DNS) { d.Key.Algorithm = "hmac-sha3." }, `"hmac-sha3."`},
		{func(d *deploy.DNS) { d.Key.Secret = "not base64!" }, "not base64"},
		{func(d *deploy.DNS) { d.Key.Name = "" }, "want a name and a secret"},
	} {
		d := labDNS()
		tc.change(d)
		_, err := Prepare(deploy.Kea, keaSpec(t, t.TempDir(), d))
		g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
	}
}

// With DNS and kea-dhcp-ddns missing: ErrNotInstalled naming the package.
func TestKeaDNSNotInstalled(t *testing.T) {
	g := keaInstalled(t)
	old := KeaDDNSBinary
	KeaDDNSBinary = "/nonexistent/kea-dhcp-ddns"
	t.Cleanup(func() { KeaDDNSBinary = old })
	_, err := Prepare(deploy.Kea, keaSpec(t, t.TempDir(), labDNS()))
	g.Expect(errors.Is(err, ErrNotInstalled)).To(BeTrue(), "%v", err)
	g.Expect(err).To(MatchError(ContainSubstring("kea-dhcp-ddns-server")))
}

// Computes the records' TTL as Kea 2.2 does (a third of the valid lifetime, at least 600 s).
func TestKeaDDNSTTL(t *testing.T) {
	g := keaInstalled(t)
	g.Expect(keaDDNSTTL(30)).To(Equal(int64(600)))
	g.Expect(keaDDNSTTL(1799)).To(Equal(int64(600)))
	g.Expect(keaDDNSTTL(1800)).To(Equal(int64(600)))
	g.Expect(keaDDNSTTL(7200)).To(Equal(int64(2400)))
}
