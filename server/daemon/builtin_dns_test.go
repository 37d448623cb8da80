package daemon

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/ddns"
)

var _ = Describe("builtin adapter with DNS", func() {
	dnsCfg := &deploy.DNS{
		Server: netip.MustParseAddrPort("[fd00:d6:53::53]:53"), Zone: "lab.example.",
		ReverseZones: []string{"0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "1.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
		TTL:          30 * time.Second,
		Key:          deploy.TSIG{Name: "d6lab-ddns.", Algorithm: "hmac-sha256.", Secret: "c2VjcmV0IGtleSBvZiB0aGUgbGFi"},
	}
	cfgWith := func(d *deploy.DNS) server.Config {
		c := server.DefaultConfig()
		c.Name, c.DUID = "s1", []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}
		c.Prefix = netip.MustParsePrefix("2001:db8:1::/64")
		Expect(c.Pool.Set("2001:db8:1::100-2001:db8:1::1ff")).To(Succeed())
		c.DNS = d
		return c
	}
	flagValue := func(argv []string, flag string) string {
		i := slices.Index(argv, flag)
		if i < 0 || i+1 >= len(argv) {
			return ""
		}
		return argv[i+1]
	}

	It("renders the --ddns-* flags and writes the TSIG key to a file of its own, never on the command line", func() {
		a, _ := Lookup(deploy.Builtin)
		dir := GinkgoT().TempDir()
		inst, err := a.Prepare(Spec{Name: "s1", Dir: dir, IfName: "eth0", Binary: "/usr/bin/d6lab", Config: cfgWith(dnsCfg)})
		Expect(err).NotTo(HaveOccurred())
		argv := inst.Argv
		Expect(flagValue(argv, "--ddns-server")).To(Equal("[fd00:d6:53::53]:53"))
		Expect(flagValue(argv, "--ddns-zone")).To(Equal("lab.example."))
		Expect(flagValue(argv, "--ddns-reverse")).To(Equal(strings.Join(dnsCfg.ReverseZones, ",")))
		Expect(flagValue(argv, "--ddns-ttl")).To(Equal("30s"))
		keyFile := flagValue(argv, "--ddns-key-file")
		Expect(keyFile).To(Equal(filepath.Join(dir, "ddns.key")))
		Expect(strings.Join(argv, " ")).NotTo(ContainSubstring(dnsCfg.Key.Secret))
		st, err := os.Stat(keyFile)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Mode().Perm()).To(Equal(os.FileMode(0o600)))
		k, err := ddns.ReadKeyFile(keyFile)
		Expect(err).NotTo(HaveOccurred())
		Expect(k).To(Equal(dnsCfg.Key))
	})

	It("renders no --ddns-* flag and writes no key without DNS", func() {
		a, _ := Lookup(deploy.Builtin)
		dir := GinkgoT().TempDir()
		inst, err := a.Prepare(Spec{Name: "s1", Dir: dir, IfName: "eth0", Binary: "/usr/bin/d6lab", Config: cfgWith(nil)})
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Join(inst.Argv, " ")).NotTo(ContainSubstring("--ddns"))
		Expect(filepath.Join(dir, "ddns.key")).NotTo(BeAnExistingFile())
	})
})
