package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/server/daemon"
)

var _ = Describe("d6lab servers", func() {
	servers := func(env []string, args ...string) (string, int) {
		cmd := exec.Command(d6labBin, append([]string{"servers"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		Expect(err).NotTo(HaveOccurred())
		return string(out), 0
	}

	It("lists every kind, the builtin one ready", func() {
		out, code := servers(nil)
		Expect(code).To(Equal(0), out)
		for _, k := range daemon.Kinds() {
			Expect(out).To(MatchRegexp(`(?m)^%s\s+(ready|missing)\s+\S`, regexp.QuoteMeta(string(k))))
		}
		Expect(out).To(MatchRegexp(`(?m)^builtin\s+ready\s+d6lab$`))
	})

	It("says how to build coredhcp when its cache holds no build, and builds nothing", func() {
		cache := GinkgoT().TempDir()
		out, code := servers([]string{"XDG_CACHE_HOME=" + cache})
		Expect(code).To(Equal(0), out)
		Expect(out).To(MatchRegexp(`(?m)^coredhcp\s+missing\s+.*not built \(.d6lab servers --install. builds github.com/coredhcp/coredhcp@`))
		entries, err := os.ReadDir(cache)
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(BeEmpty(), "listing must not start a build")
	})

	It("keeps the reason a build failed and shows it", func() {
		cache := GinkgoT().TempDir()
		bin := filepath.Join(cache, "d6lab", "coredhcp", daemon.CoreDHCPVersion)
		Expect(os.MkdirAll(bin, 0o755)).To(Succeed())
		// What Install leaves when the module proxy refuses the module.
		Expect(os.WriteFile(filepath.Join(bin, "build-failed.txt"), []byte("403 Forbidden\n"), 0o644)).To(Succeed())
		out, code := servers([]string{"XDG_CACHE_HOME=" + cache})
		Expect(code).To(Equal(0), out)
		Expect(out).To(MatchRegexp(`(?m)^coredhcp\s+missing\s+.*the last build failed: 403 Forbidden`))
	})

	It("exits 1 from --install when the build fails, and keeps the reason", func() {
		cache, mods := GinkgoT().TempDir(), GinkgoT().TempDir()
		// No module proxy and an empty module cache: the build cannot start.
		out, code := servers([]string{"XDG_CACHE_HOME=" + cache, "GOMODCACHE=" + mods, "GOPROXY=off"}, "--install")
		Expect(code).To(Equal(1), out)
		Expect(out).To(ContainSubstring("servers: building coredhcp"))
		Expect(out).To(MatchRegexp(`(?m)^coredhcp\s+missing\s+.*the last build failed: .*GOPROXY=off`))
		Expect(filepath.Join(cache, "d6lab", "coredhcp", daemon.CoreDHCPVersion, "coredhcp")).NotTo(BeAnExistingFile())
	})

	It("refuses arguments with exit 2", func() {
		out, code := servers(nil, "kea")
		Expect(code).To(Equal(2), out)
	})
})
