package nameserver_test

import (
	"encoding/base64"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/netaddr6"
	"d6lab/reports/history"
	"d6lab/sim"
	"d6lab/sim/nameserver"
)

var update = flag.Bool("update", false, "rewrite testdata/update.log from the lab spec's BIND")

// goldenLog is BIND 9.18's update log as the lab spec (netns_test.go)
// captured it: the updates that spec sends, in its order.
const goldenLog = "testdata/update.log"

// goldenUpdates is what the lab spec sends and goldenLog records: src1 is
// srv1's address, src2 srv2's, rev the reverse zone of linkPrefix.
func goldenUpdates(src1, src2 netip.Addr, rev string) []nameserver.Update {
	const zone = "lab.example."
	ptr := netaddr6.ReverseName(netip.MustParseAddr("2001:db8:53::3"))
	return []nameserver.Update{
		{Source: src1, Zone: zone, Name: "h1." + zone, Outcome: history.DNSUpdateOK},
		{Source: src1, Zone: rev, Name: ptr, Outcome: history.DNSUpdateOK},
		{Source: src2, Zone: zone, Name: "h1." + zone, Outcome: "yxdomain"},
		{Source: src2, Zone: zone, Name: "h1." + zone, Outcome: history.DNSUpdateConflict},
		{Source: src2, Zone: zone, Outcome: "refused"},
		{Source: src2, Outcome: "badkey"},
		{Source: src2, Outcome: "badsig"},
		{Source: src1, Zone: "other.example.", Outcome: "notauth"},
		{Source: src1, Zone: zone, Name: "h5." + zone, Outcome: history.DNSUpdateOK},
		{Source: src1, Zone: zone, Name: "h5." + zone, Outcome: history.DNSUpdateOK},
		{Source: src1, Zone: zone, Name: "h6." + zone, Outcome: history.DNSUpdateOK},
		{Source: src1, Zone: zone, Name: "h5." + zone, Outcome: history.DNSUpdateConflict},
		{Source: src1, Zone: zone, Outcome: "notzone"},
	}
}

func withoutTimes(ups []nameserver.Update) []nameserver.Update {
	out := make([]nameserver.Update, len(ups))
	for i, u := range ups {
		u.At = time.Time{}
		out[i] = u
	}
	return out
}

func requireBIND() {
	if err := nameserver.Installed(); err != nil {
		Skip(err.Error())
	}
}

func config(dir string) nameserver.Config {
	key, err := nameserver.NewKey("ddns.lab.example")
	Expect(err).NotTo(HaveOccurred())
	rev, err := netaddr6.ReverseZone(netip.MustParsePrefix("2001:db8:53::/64"))
	Expect(err).NotTo(HaveOccurred())
	return nameserver.Config{
		Dir:    dir,
		Listen: sim.DNSServerAddr(),
		Zones:  []string{"lab.example.", rev},
		TTL:    30 * time.Second,
		Key:    key,
	}
}

var _ = Describe("Installed and Version", func() {
	It("names the Debian package of a missing program", func() {
		saved := nameserver.CheckConfBinary
		DeferCleanup(func() { nameserver.CheckConfBinary = saved })
		nameserver.CheckConfBinary = "/nonexistent/named-checkconf"
		err := nameserver.Installed()
		Expect(err).To(MatchError(nameserver.ErrNotInstalled))
		Expect(err).To(MatchError(ContainSubstring("/nonexistent/named-checkconf missing (install the Debian package bind9-utils)")))
	})
	It("reads named's version", func() {
		requireBIND()
		Expect(nameserver.Version()).To(MatchRegexp(`^BIND 9\.\d+\.\d+\S*$`))
	})
})

var _ = Describe("NewKey", func() {
	It("makes an hmac-sha256 key of 32 random bytes, its name fully qualified", func() {
		k, err := nameserver.NewKey("ddns.lab.example")
		Expect(err).NotTo(HaveOccurred())
		Expect(k.Name).To(Equal("ddns.lab.example."))
		Expect(k.Algorithm).To(Equal("hmac-sha256."))
		b, err := base64.StdEncoding.DecodeString(k.Secret)
		Expect(err).NotTo(HaveOccurred())
		Expect(b).To(HaveLen(32))
		k2, err := nameserver.NewKey("ddns.lab.example.")
		Expect(err).NotTo(HaveOccurred())
		Expect(k2.Secret).NotTo(Equal(k.Secret))
	})
	It("refuses a name that is no domain name", func() {
		_, err := nameserver.NewKey("bad..name")
		Expect(err).To(MatchError(ContainSubstring(`"bad..name."`)))
	})
})

var _ = Describe("Prepare", func() {
	It("renders a configuration named-checkconf accepts, every path in the run directory", func() {
		requireBIND()
		dir := GinkgoT().TempDir()
		cfg := config(dir)
		// A base64 secret starts with '/' one time in 64 (CI met one): the
		// scan for paths below must not take it for one.
		cfg.Key.Secret = "/" + cfg.Key.Secret[1:]
		in, err := nameserver.Prepare(cfg)
		Expect(err).NotTo(HaveOccurred())
		conf := filepath.Join(dir, nameserver.ConfFile)
		Expect(in.Argv).To(Equal([]string{nameserver.NamedBinary, "-f", "-n", "1", "-c", conf}))
		Expect(in.Log).To(Equal(filepath.Join(dir, "named.log")))
		Expect(in.UpdateLog).To(Equal(filepath.Join(dir, "update.log")))
		b, err := os.ReadFile(conf)
		Expect(err).NotTo(HaveOccurred())
		text := string(b)
		for _, want := range []string{
			`directory "` + dir + `";`,
			`pid-file "` + dir + `/named.pid";`,
			`session-keyfile "` + dir + `/session.key";`,
			`managed-keys-directory "` + dir + `";`,
			`lock-file "` + dir + `/named.lock";`,
			"listen-on-v6 { fd00:d6:53::53; };",
			"listen-on { none; };",
			"recursion no;",
			"notify no;",
			"dnssec-validation no;",
			"controls { };",
			"key \"ddns.lab.example.\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + cfg.Key.Secret + "\";",
			"print-time iso8601-utc;",
			"category update { updates; general; };",
			"category update-security { updates; general; };",
			"zone \"lab.example.\" {\n\ttype primary;\n\tfile \"db.lab.example\";\n\tallow-update { key \"ddns.lab.example.\"; };\n\tallow-transfer { key \"ddns.lab.example.\"; };",
			"zone \"" + cfg.Zones[1] + "\" {",
		} {
			Expect(text).To(ContainSubstring(want))
		}
		// Nothing of the host's: every quoted path is in dir.
		noSecret := strings.ReplaceAll(text, `"`+cfg.Key.Secret+`"`, `""`)
		paths := regexp.MustCompile(`"(/[^"]*)"`).FindAllStringSubmatch(noSecret, -1)
		Expect(paths).To(HaveLen(12)) // directory, managed keys, 8 files of options, 2 logs
		for _, p := range paths {
			Expect(p[1]).To(HavePrefix(dir))
		}
		zf, err := os.ReadFile(filepath.Join(dir, "db.lab.example"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(zf)).To(ContainSubstring("lab.example. 30 IN SOA ns.lab.example. hostmaster.lab.example. 1 3600 600 86400 30\n"))
		Expect(string(zf)).To(ContainSubstring("lab.example. 30 IN NS ns.lab.example.\n"))
		Expect(string(zf)).To(ContainSubstring("ns.lab.example. 30 IN AAAA fd00:d6:53::53\n"))
		rf, err := os.ReadFile(filepath.Join(dir, nameserver.ZoneFile(cfg.Zones[1])))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(rf)).To(ContainSubstring(cfg.Zones[1] + " 30 IN NS ns.lab.example.\n"))
		Expect(string(rf)).NotTo(ContainSubstring("AAAA"))
	})

	It("clears the journal and logs an earlier run left, so the zone and its update log start fresh", func() {
		requireBIND()
		dir := GinkgoT().TempDir()
		old := []string{"db.lab.example.jnl", "named.log", "update.log"}
		for _, f := range old {
			Expect(os.WriteFile(filepath.Join(dir, f), []byte("old"), 0o644)).To(Succeed())
		}
		_, err := nameserver.Prepare(config(dir))
		Expect(err).NotTo(HaveOccurred())
		for _, f := range old {
			Expect(filepath.Join(dir, f)).NotTo(BeAnExistingFile())
		}
	})

	DescribeTable("refuses a bad configuration, naming the value",
		func(change func(*nameserver.Config), want string) {
			requireBIND()
			cfg := config(GinkgoT().TempDir())
			change(&cfg)
			_, err := nameserver.Prepare(cfg)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a zone not fully qualified", func(c *nameserver.Config) { c.Zones[0] = "lab.example" }, `zone "lab.example": not fully qualified`),
		Entry("a zone with an empty label", func(c *nameserver.Config) { c.Zones[0] = "lab..example." }, `zone "lab..example.": not a domain name`),
		Entry("a zone in upper case", func(c *nameserver.Config) { c.Zones[0] = "Lab.example." }, `zone "Lab.example.": not lower case`),
		Entry("a zone twice", func(c *nameserver.Config) { c.Zones[1] = c.Zones[0] }, `zone "lab.example." given twice`),
		Entry("no zones", func(c *nameserver.Config) { c.Zones = nil }, "no zones"),
		// BIND's own judgement, quoted: its name server's name breaks the
		// host name rules (check-names, RFC 952).
		Entry("a zone BIND refuses", func(c *nameserver.Config) { c.Zones[0] = "lab_x.example." }, "ns.lab_x.example: bad owner name (check-names)"),
		Entry("an empty key", func(c *nameserver.Config) { c.Key = deploy.TSIG{} }, `TSIG key "": empty name or secret`),
		Entry("a secret not in base64", func(c *nameserver.Config) { c.Key.Secret = "not*base64" }, "secret is not base64"),
		Entry("an algorithm BIND does not know", func(c *nameserver.Config) { c.Key.Algorithm = "hmac-sha3." }, `algorithm "hmac-sha3."`),
		Entry("no listen address", func(c *nameserver.Config) { c.Listen = netip.Addr{} }, "listen address invalid IP"),
		Entry("an IPv4 listen address", func(c *nameserver.Config) { c.Listen = netip.MustParseAddr("192.0.2.1") }, "listen address 192.0.2.1"),
		Entry("a TTL of part of a second", func(c *nameserver.Config) { c.TTL = 1500 * time.Millisecond }, "TTL 1.5s"),
		Entry("no TTL", func(c *nameserver.Config) { c.TTL = 0 }, "TTL 0s"),
		Entry("no run directory", func(c *nameserver.Config) { c.Dir = "" }, "no run directory"),
	)
})

var _ = Describe("ReadUpdates", func() {
	src1, src2 := sim.ServiceAddr(0), sim.ServiceAddr(1)
	rev, _ := netaddr6.ReverseZone(netip.MustParsePrefix("2001:db8:53::/64"))

	It("reads BIND 9.18's update log: successes, the name in use, DHCID conflicts, refusals by key, zone and ACL", func() {
		ups, skipped, err := nameserver.ReadUpdates(goldenLog)
		Expect(err).NotTo(HaveOccurred())
		Expect(skipped).To(BeZero())
		Expect(withoutTimes(ups)).To(Equal(goldenUpdates(src1, src2, rev)))
		first, err := time.Parse(time.RFC3339Nano, strings.Fields(readLines(goldenLog)[0])[0])
		Expect(err).NotTo(HaveOccurred())
		Expect(ups[0].At).To(Equal(first))
		for i := 1; i < len(ups); i++ {
			Expect(ups[i].At).NotTo(BeTemporally("<", ups[i-1].At))
		}
	})

	It("skips and counts the lines it cannot parse", func() {
		lines := readLines(goldenLog)
		junk := []string{
			"garbage",
			lines[1][:40], // a line cut short (named killed mid-write)
			"2026-12-03T05:21:21.178Z update: info: client @0x7f2448 fd00:d6:53::1:0:1#46784/key ddns.lab.example: updating zone 'lab.example/IN': something BIND 9.20 may say",
			"2026-12-03T05:21:21.178Z update: info: client @0x7f2448 not-an-address#46784: update failed: (REFUSED)",
		}
		mixed := append([]string{junk[0]}, lines[:len(lines)-1]...)
		mixed = append(mixed, junk[1:]...)
		mixed = append(mixed, lines[len(lines)-1], "")
		path := filepath.Join(GinkgoT().TempDir(), "update.log")
		Expect(os.WriteFile(path, []byte(strings.Join(mixed, "\n")), 0o644)).To(Succeed())
		ups, skipped, err := nameserver.ReadUpdates(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(skipped).To(Equal(len(junk)))
		Expect(withoutTimes(ups)).To(Equal(goldenUpdates(src1, src2, rev)))
	})

	It("keeps requests that BIND handles at once apart (by client object, source address and port)", func() {
		lines := readLines(goldenLog)
		// lines 1-3: h1 added from srv1; 7-8: srv2's claim of h1, YXDOMAIN;
		// 11: srv2's unsigned update, denied.
		path := filepath.Join(GinkgoT().TempDir(), "update.log")
		Expect(os.WriteFile(path, []byte(strings.Join([]string{lines[0], lines[6], lines[1], lines[10], lines[7], lines[2]}, "\n")), 0o644)).To(Succeed())
		ups, skipped, err := nameserver.ReadUpdates(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(skipped).To(BeZero())
		golden := goldenUpdates(src1, src2, rev)
		Expect(withoutTimes(ups)).To(Equal([]nameserver.Update{golden[0], golden[2], golden[4]}))
	})

	It("reads the updates BIND's update-quota dropped (a returning server's burst of removals, captured from a run)", func() {
		ups, skipped, err := nameserver.ReadUpdates("testdata/update-quota.log")
		Expect(err).NotTo(HaveOccurred())
		Expect(skipped).To(BeZero())
		Expect(ups).To(HaveLen(3))
		for _, u := range ups {
			Expect(u.Outcome).To(Equal("quota"))
			Expect(u.Zone).To(Equal("lab.example."))
			Expect(u.Source).To(Equal(netip.MustParseAddr("fd00:d6:53::1:0:1")))
		}
	})

	It("says which file it could not open", func() {
		_, _, err := nameserver.ReadUpdates("/nonexistent/update.log")
		Expect(err).To(MatchError(ContainSubstring("/nonexistent/update.log")))
	})
})

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}
