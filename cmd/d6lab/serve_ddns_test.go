package main_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("d6lab serve's --ddns-* flags", func() {
	// lo and a given --duid: serve checks the flags before it binds
	// anything, so each bad value exits 2 at once.
	base := []string{"serve", "--iface", "lo", "--pool", "2001:db8:6::a:0/112", "--duid", "00030001020000000001"}
	var key string
	BeforeEach(func() {
		key = filepath.Join(GinkgoT().TempDir(), "ddns.key")
		Expect(os.WriteFile(key, []byte("d6lab-ddns. hmac-sha256. c2VjcmV0IGtleSBvZiB0aGUgbGFi\n"), 0o600)).To(Succeed())
	})
	DescribeTable("exits 2 naming the flag",
		func(want string, args ...string) {
			for i, a := range args {
				if a == "KEY" {
					args[i] = key
				}
			}
			code, _, stderr := d6(append(append([]string{}, base...), args...)...)
			Expect(code).To(Equal(2), "stderr: %s", stderr)
			Expect(stderr).To(ContainSubstring(want))
		},
		Entry("no server", "--ddns-server is required", "--ddns-zone", "lab.example.", "--ddns-key-file", "KEY"),
		Entry("no zone", "--ddns-zone is required", "--ddns-server", "[::1]:53", "--ddns-key-file", "KEY"),
		Entry("no key", "--ddns-key-file is required", "--ddns-server", "[::1]:53", "--ddns-zone", "lab.example."),
		Entry("a server without a port", `--ddns-server "::1": want [address]:port`, "--ddns-server", "::1", "--ddns-zone", "lab.example.", "--ddns-key-file", "KEY"),
		Entry("a reverse zone outside ip6.arpa", `--ddns-reverse "1.0.0.2.in-addr.arpa."`, "--ddns-server", "[::1]:53", "--ddns-zone", "lab.example.", "--ddns-key-file", "KEY", "--ddns-reverse", "1.0.0.2.in-addr.arpa"),
		Entry("a TTL in fractions of a second", "--ddns-ttl 1.5s", "--ddns-server", "[::1]:53", "--ddns-zone", "lab.example.", "--ddns-key-file", "KEY", "--ddns-ttl", "1.5s"),
		Entry("a missing key file", "--ddns-key-file: open", "--ddns-server", "[::1]:53", "--ddns-zone", "lab.example.", "--ddns-key-file", "/nonexistent/ddns.key"),
	)
	It("exits 2 on a key file in another format, naming it", func() {
		Expect(os.WriteFile(key, []byte(`key "d6lab-ddns." { algorithm hmac-sha256; secret "c2VjcmV0"; };`), 0o600)).To(Succeed())
		code, _, stderr := d6(append(append([]string{}, base...), "--ddns-server", "[::1]:53", "--ddns-zone", "lab.example.", "--ddns-key-file", key)...)
		Expect(code).To(Equal(2))
		Expect(stderr).To(ContainSubstring("--ddns-key-file: " + key + `: line 1: want "name algorithm secret"`))
	})
})
